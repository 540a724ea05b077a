//! Configuration, read once from the environment. Secrets are `SecretString`s, so neither
//! `Debug` nor logs show them.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use secrecy::SecretString;

/// Files a household may keep unless `HOUSEHOLD_STORAGE_QUOTA_BYTES` says otherwise: 10 GiB.
pub const DEFAULT_STORAGE_QUOTA: u64 = 10 * 1024 * 1024 * 1024;

#[derive(Clone, Debug)]
pub struct Config {
    /// `sqlite:PATH`, `postgres://…` or `dsql://[USER@]ENDPOINT`.
    pub database_url: SecretString,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// The site's origin, without a trailing slash.
    pub public_url: String,
    /// The built web app to serve (`STATIC_DIR`). Unset: the copy built into the binary
    /// (release builds with the `web-app` feature), else `web/dist` of a source tree.
    pub static_dir: Option<PathBuf>,
    pub photos_bucket: Option<String>,
    pub s3_force_path_style: bool,
    pub max_upload_bytes: u64,
    pub local_auth: bool,
    pub google_client_id: Option<String>,
    pub google_client_secret: Option<SecretString>,
    pub google_issuer: String,
    pub anthropic_api_key: Option<SecretString>,
    pub anthropic_model: String,
    pub anthropic_base_url: String,
    /// Photos a household may have recognised per UTC day.
    pub ai_daily_limit: i64,
    /// Photos one account may have recognised per UTC day, over all its households.
    pub ai_account_daily_limit: i64,
    /// Photos the whole server may have recognised per UTC day.
    pub ai_global_daily_limit: i64,
    /// Households one account may own (create).
    pub max_households_per_account: i64,
    /// Bytes of files a household may keep, counting uploads under way; `None`: no limit.
    pub household_storage_quota: Option<u64>,
    /// Images decoded at once (checking uploads, preparing photos for recognition).
    pub max_image_decodes: usize,
    /// Days a session lives without use.
    pub session_days: i64,
    /// Days a session lives at most after its sign-in, however much it is used.
    pub session_max_days: i64,
    /// Who tells the client's address (for per-address limits).
    pub trusted_proxy: TrustedProxy,
    /// When set, every request but `/api/health` must carry it in `X-Origin-Verify`.
    pub origin_verify_secret: Option<SecretString>,
    /// Requests per second one API token may make, sustained (per server process).
    pub api_token_rate: f64,
    /// Requests one API token may make at once before `api_token_rate` applies.
    pub api_token_burst: u32,
    /// Where reminder mail goes out (`SMTP_URL`): `smtp://host:port`,
    /// `smtps://user:pass@host:465`; `None`: no mail by SMTP (the calendar feed and the
    /// pages still work).
    pub smtp_url: Option<SecretString>,
    /// The sender of reminder mail (`MAIL_FROM`), like `Home Inventory <inventory@example.com>`.
    pub mail_from: Option<String>,
}

/// What sits in front of the server and so which address is the client's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrustedProxy {
    /// Nothing: the socket's peer, or under Lambda the address API Gateway saw.
    #[default]
    None,
    /// This many proxies, each appending the address it saw to `X-Forwarded-For`: the
    /// client is that many entries from the right.
    Hops(usize),
    /// CloudFront: the viewer's address in `X-Viewer-Address` (set by the deployment's CloudFront
    /// function) or `CloudFront-Viewer-Address`.
    CloudFront,
}

/// More proxies than this in front of one server is a mistake, not a setup.
const MAX_PROXY_HOPS: usize = 5;
/// A shorter shared secret could be guessed.
const MIN_ORIGIN_SECRET_CHARS: usize = 16;

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `get`, so tests can pass their own values.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| {
            get(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let flag = |name: &str, default: bool| -> anyhow::Result<bool> {
            match var(name).as_deref() {
                None => Ok(default),
                Some("1" | "true" | "yes" | "on") => Ok(true),
                Some("0" | "false" | "no" | "off") => Ok(false),
                Some(other) => bail!("{name} must be true or false, not {other:?}"),
            }
        };
        let data_dir = PathBuf::from(var("DATA_DIR").unwrap_or_else(|| "./data".into()));
        let database_url = var("DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("home-inventory.db").display()));
        let bind = var("BIND")
            .unwrap_or_else(|| "127.0.0.1:8080".into())
            .parse()
            .context("BIND must be an address like 127.0.0.1:8080")?;
        let public_url = var("PUBLIC_URL")
            .unwrap_or_else(|| "http://127.0.0.1:8080".into())
            .trim_end_matches('/')
            .to_string();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("PUBLIC_URL must start with http:// or https://");
        }
        // A whole number of at least `min`, or `default`.
        let number = |name: &str, default: i64, min: i64, what: &str| -> anyhow::Result<i64> {
            match var(name) {
                Some(v) => v.parse().ok().filter(|n: &i64| *n >= min).with_context(|| {
                    format!("{name} must be a whole number of {what} (at least {min}), not {v:?}")
                }),
                None => Ok(default),
            }
        };
        let ai_daily_limit = match var("AI_DAILY_LIMIT") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n: &i64| *n >= 0)
                .context("AI_DAILY_LIMIT must be a whole number of photos")?,
            None => 200,
        };
        // 0 (or `unlimited`) turns the quota off: a quota of no bytes at all would only be
        // a puzzling way to forbid attachments.
        let household_storage_quota = match var("HOUSEHOLD_STORAGE_QUOTA_BYTES").as_deref() {
            None => Some(DEFAULT_STORAGE_QUOTA),
            Some("unlimited") => None,
            Some(v) => match v.parse::<u64>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => bail!(
                    "HOUSEHOLD_STORAGE_QUOTA_BYTES must be a whole number of bytes, or 0 or \
                     `unlimited` for no quota, not {v:?}"
                ),
            },
        };
        let max_upload_bytes = match var("MAX_UPLOAD_BYTES") {
            Some(v) => v
                .parse()
                .context("MAX_UPLOAD_BYTES must be a whole number of bytes")?,
            None => 26_214_400,
        };
        let session_max_days = match var("SESSION_MAX_DAYS") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n: &i64| (1..=3650).contains(n))
                .context("SESSION_MAX_DAYS must be a whole number of days from 1 to 3650")?,
            None => 90,
        };
        let trusted_proxy = match var("TRUSTED_PROXY").map(|v| v.to_ascii_lowercase()) {
            None => TrustedProxy::None,
            Some(v) if v == "cloudfront" => TrustedProxy::CloudFront,
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| (1..=MAX_PROXY_HOPS).contains(n))
                .map(TrustedProxy::Hops)
                .with_context(|| {
                    format!(
                        "TRUSTED_PROXY must be the number of proxies in front (1 to {MAX_PROXY_HOPS}) \
                         or cloudfront, not {v:?}"
                    )
                })?,
        };
        let origin_verify_secret = var("ORIGIN_VERIFY_SECRET");
        if origin_verify_secret
            .as_ref()
            .is_some_and(|s| s.chars().count() < MIN_ORIGIN_SECRET_CHARS)
        {
            bail!(
                "ORIGIN_VERIFY_SECRET must be at least {MIN_ORIGIN_SECRET_CHARS} characters; use a long random value"
            );
        }
        let api_token_rate = match var("API_TOKEN_RATE") {
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.001 && *n <= 1_000_000.0)
                .with_context(|| {
                    format!(
                        "API_TOKEN_RATE must be a number of requests per second (like 10 or 0.5), not {v:?}"
                    )
                })?,
            None => 10.0,
        };
        let api_token_burst = number("API_TOKEN_BURST", 60, 1, "requests")?;
        Ok(Self {
            database_url: database_url.into(),
            bind,
            data_dir,
            public_url,
            static_dir: var("STATIC_DIR").map(PathBuf::from),
            photos_bucket: var("PHOTOS_BUCKET"),
            s3_force_path_style: flag("S3_FORCE_PATH_STYLE", false)?,
            max_upload_bytes,
            local_auth: flag("LOCAL_AUTH", true)?,
            google_client_id: var("GOOGLE_CLIENT_ID"),
            google_client_secret: var("GOOGLE_CLIENT_SECRET").map(Into::into),
            google_issuer: var("GOOGLE_ISSUER")
                .unwrap_or_else(|| "https://accounts.google.com".into()),
            anthropic_api_key: var("ANTHROPIC_API_KEY").map(Into::into),
            anthropic_model: var("ANTHROPIC_MODEL").unwrap_or_else(|| "claude-sonnet-4-5".into()),
            anthropic_base_url: var("ANTHROPIC_BASE_URL")
                .unwrap_or_else(|| "https://api.anthropic.com".into()),
            ai_daily_limit,
            ai_account_daily_limit: number("AI_ACCOUNT_DAILY_LIMIT", 200, 0, "photos")?,
            ai_global_daily_limit: number("AI_GLOBAL_DAILY_LIMIT", 2_000, 0, "photos")?,
            max_households_per_account: number("MAX_HOUSEHOLDS_PER_ACCOUNT", 20, 1, "households")?,
            household_storage_quota,
            max_image_decodes: number("MAX_IMAGE_DECODES", 2, 1, "images")? as usize,
            session_days: 30,
            session_max_days,
            trusted_proxy,
            origin_verify_secret: origin_verify_secret.map(Into::into),
            api_token_rate,
            api_token_burst: u32::try_from(api_token_burst).unwrap_or(u32::MAX),
            smtp_url: var("SMTP_URL").map(Into::into),
            mail_from: var("MAIL_FROM"),
        })
    }

    /// Whether cookies get the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// The session cookie's name: behind HTTPS with the `__Host-` prefix, which browsers
    /// accept only from a secure origin, for the whole site (`Path=/`) and no other
    /// (no `Domain`), so neither a sibling subdomain nor a plain-http page can plant or
    /// overwrite it.
    pub fn session_cookie_name(&self) -> &'static str {
        if self.secure_cookies() {
            "__Host-hi_session"
        } else {
            "hi_session"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn defaults_serve_sqlite_on_loopback() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            config.database_url.expose_secret(),
            "sqlite:./data/home-inventory.db"
        );
        assert!(config.local_auth);
        assert!(!config.secure_cookies());
    }

    #[test]
    fn secrets_stay_out_of_debug_output() {
        let config = Config::from_lookup(|name| match name {
            "ANTHROPIC_API_KEY" => Some("sk-very-secret".into()),
            "DATABASE_URL" => Some("postgres://u:hunter2@db/x".into()),
            _ => None,
        })
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("sk-very-secret"));
        assert!(!shown.contains("hunter2"));
    }

    #[test]
    fn api_tokens_get_10_requests_a_second_with_bursts_of_60_unless_told_otherwise() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!((config.api_token_rate, config.api_token_burst), (10.0, 60));
        let config = Config::from_lookup(|name| match name {
            "API_TOKEN_RATE" => Some("0.5".into()),
            "API_TOKEN_BURST" => Some("5".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!((config.api_token_rate, config.api_token_burst), (0.5, 5));
        for bad in ["0", "-1", "fast", "NaN"] {
            let err = Config::from_lookup(|name| (name == "API_TOKEN_RATE").then(|| bad.into()))
                .unwrap_err();
            assert!(err.to_string().contains("API_TOKEN_RATE"), "{bad}: {err}");
        }
    }

    #[test]
    fn sessions_end_90_days_after_sign_in_unless_told_otherwise() {
        assert_eq!(Config::from_lookup(|_| None).unwrap().session_max_days, 90);
        let config =
            Config::from_lookup(|name| (name == "SESSION_MAX_DAYS").then(|| "7".into())).unwrap();
        assert_eq!(config.session_max_days, 7);
        for bad in ["0", "-3", "forever", "4000"] {
            let err = Config::from_lookup(|name| (name == "SESSION_MAX_DAYS").then(|| bad.into()))
                .unwrap_err();
            assert!(err.to_string().contains("SESSION_MAX_DAYS"), "{bad}: {err}");
        }
    }

    #[test]
    fn trusted_proxies_are_a_count_or_cloudfront() {
        let with = |value: &'static str| {
            Config::from_lookup(move |name| (name == "TRUSTED_PROXY").then(|| value.into()))
        };
        assert_eq!(
            Config::from_lookup(|_| None).unwrap().trusted_proxy,
            TrustedProxy::None
        );
        assert_eq!(with("2").unwrap().trusted_proxy, TrustedProxy::Hops(2));
        assert_eq!(
            with("CloudFront").unwrap().trusted_proxy,
            TrustedProxy::CloudFront
        );
        for bad in ["0", "6", "nginx", "-1"] {
            let err = with(bad).unwrap_err();
            assert!(err.to_string().contains("TRUSTED_PROXY"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_origin_secret_is_long_and_hidden() {
        let err =
            Config::from_lookup(|name| (name == "ORIGIN_VERIFY_SECRET").then(|| "short".into()))
                .unwrap_err();
        assert!(err.to_string().contains("ORIGIN_VERIFY_SECRET"));
        let config = Config::from_lookup(|name| {
            (name == "ORIGIN_VERIFY_SECRET").then(|| "a-long-random-origin-secret".into())
        })
        .unwrap();
        assert_eq!(
            config
                .origin_verify_secret
                .as_ref()
                .map(|s| s.expose_secret().to_string()),
            Some("a-long-random-origin-secret".into())
        );
        assert!(!format!("{config:?}").contains("a-long-random-origin-secret"));
    }

    #[test]
    fn the_session_cookie_takes_the_host_prefix_behind_https() {
        let plain = Config::from_lookup(|_| None).unwrap();
        assert_eq!(plain.session_cookie_name(), "hi_session");
        let secure = Config::from_lookup(|name| {
            (name == "PUBLIC_URL").then(|| "https://inventory.example.com".into())
        })
        .unwrap();
        assert_eq!(secure.session_cookie_name(), "__Host-hi_session");
    }

    #[test]
    fn limits_have_defaults_and_can_be_changed() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.ai_account_daily_limit, 200);
        assert_eq!(config.ai_global_daily_limit, 2_000);
        assert_eq!(config.max_households_per_account, 20);
        assert_eq!(
            config.household_storage_quota,
            Some(10 * 1024 * 1024 * 1024)
        );
        assert_eq!(config.max_image_decodes, 2);

        let config = Config::from_lookup(|name| {
            Some(
                match name {
                    "AI_ACCOUNT_DAILY_LIMIT" => "5",
                    "AI_GLOBAL_DAILY_LIMIT" => "0",
                    "MAX_HOUSEHOLDS_PER_ACCOUNT" => "3",
                    "HOUSEHOLD_STORAGE_QUOTA_BYTES" => "1000000",
                    "MAX_IMAGE_DECODES" => "1",
                    _ => return None,
                }
                .into(),
            )
        })
        .unwrap();
        assert_eq!(config.ai_account_daily_limit, 5);
        assert_eq!(config.ai_global_daily_limit, 0);
        assert_eq!(config.max_households_per_account, 3);
        assert_eq!(config.household_storage_quota, Some(1_000_000));
        assert_eq!(config.max_image_decodes, 1);
    }

    #[test]
    fn a_storage_quota_of_zero_or_unlimited_means_none() {
        for off in ["0", "unlimited"] {
            let config = Config::from_lookup(|name| {
                (name == "HOUSEHOLD_STORAGE_QUOTA_BYTES").then(|| off.into())
            })
            .unwrap();
            assert_eq!(config.household_storage_quota, None, "{off}");
        }
    }

    #[test]
    fn bad_limits_are_named() {
        for (name, value) in [
            ("AI_ACCOUNT_DAILY_LIMIT", "-1"),
            ("AI_GLOBAL_DAILY_LIMIT", "lots"),
            ("MAX_HOUSEHOLDS_PER_ACCOUNT", "0"),
            ("HOUSEHOLD_STORAGE_QUOTA_BYTES", "10GB"),
            ("MAX_IMAGE_DECODES", "0"),
        ] {
            let err = Config::from_lookup(|n| (n == name).then(|| value.into())).unwrap_err();
            assert!(err.to_string().contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err =
            Config::from_lookup(|name| (name == "LOCAL_AUTH").then(|| "maybe".into())).unwrap_err();
        assert!(err.to_string().contains("LOCAL_AUTH"));
    }
}

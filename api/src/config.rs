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
    pub static_dir: PathBuf,
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
}

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
        Ok(Self {
            database_url: database_url.into(),
            bind,
            data_dir,
            public_url,
            static_dir: PathBuf::from(var("STATIC_DIR").unwrap_or_else(|| "web/dist".into())),
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
        })
    }

    /// Whether cookies get the `Secure` attribute.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
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

//! Configuration, read once from the environment. Secrets are `SecretString`s, so neither
//! `Debug` nor logs show them.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, bail};
use secrecy::SecretString;

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
        let ai_daily_limit = match var("AI_DAILY_LIMIT") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n: &i64| *n >= 0)
                .context("AI_DAILY_LIMIT must be a whole number of photos")?,
            None => 200,
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
    fn bad_values_are_named() {
        let err =
            Config::from_lookup(|name| (name == "LOCAL_AUTH").then(|| "maybe".into())).unwrap_err();
        assert!(err.to_string().contains("LOCAL_AUTH"));
    }
}

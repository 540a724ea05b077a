//! Aurora DSQL: the PostgreSQL backend over TLS (verified against the public roots, which
//! include Amazon's), with an IAM auth token made for every new connection as its password,
//! and connections retired long before DSQL's one-hour limit.
//!
//! `DATABASE_URL=dsql://[USER@]CLUSTER-ENDPOINT`. The user defaults to `admin`, which signs
//! tokens for `dsql:DbConnectAdmin`; any other user (the application's `app` role) signs for
//! `dsql:DbConnect`. The region comes from the endpoint
//! (`<id>.dsql.<region>.on.aws`), else from `AWS_REGION`. Credentials come from the
//! environment, as Lambda and GitHub Actions provide them.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_dsql::auth_token::{AuthTokenGenerator, Config as TokenConfig};
use aws_smithy_async::time::{SharedTimeSource, SystemTimeSource};
use aws_types::SdkConfig;
use aws_types::region::Region;
use deadpool_postgres::{Hook, HookError, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres_rustls::MakeRustlsConnect;

/// Tokens live 15 minutes; a connection only needs one to log in.
const TOKEN_SECONDS: u64 = 900;
/// DSQL closes connections after 60 minutes; ours retire well before.
pub const MAX_CONNECTION_AGE: Duration = Duration::from_secs(45 * 60);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub endpoint: String,
    pub region: String,
    pub user: String,
}

impl Target {
    pub fn is_admin(&self) -> bool {
        self.user == "admin"
    }
}

/// Parses `dsql://[USER@]ENDPOINT[/postgres]`.
pub fn parse_url(url: &str, default_region: Option<&str>) -> anyhow::Result<Target> {
    let rest = url
        .strip_prefix("dsql://")
        .context("a DSQL URL starts with dsql://")?;
    let rest = rest.split(['/', '?']).next().unwrap_or_default();
    let (user, endpoint) = match rest.rsplit_once('@') {
        Some((user, endpoint)) => (user.to_string(), endpoint.to_string()),
        None => ("admin".to_string(), rest.to_string()),
    };
    let endpoint = endpoint.split(':').next().unwrap_or_default().to_string();
    if endpoint.is_empty() || user.is_empty() {
        bail!("DATABASE_URL must look like dsql://app@<cluster>.dsql.<region>.on.aws");
    }
    let labels: Vec<&str> = endpoint.split('.').collect();
    let region = labels
        .iter()
        .position(|l| *l == "dsql")
        .and_then(|i| labels.get(i + 1))
        .filter(|r| !r.is_empty() && **r != "on")
        .map(|r| r.to_string())
        .or_else(|| default_region.map(str::to_string))
        .context("the DSQL region is neither in the endpoint nor in AWS_REGION")?;
    Ok(Target {
        endpoint,
        region,
        user,
    })
}

/// Credentials from the environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
/// `AWS_SESSION_TOKEN`).
pub fn env_credentials() -> anyhow::Result<Credentials> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let key = var("AWS_ACCESS_KEY_ID").context("AWS_ACCESS_KEY_ID is not set")?;
    let secret = var("AWS_SECRET_ACCESS_KEY").context("AWS_SECRET_ACCESS_KEY is not set")?;
    Ok(Credentials::new(
        key,
        secret,
        var("AWS_SESSION_TOKEN"),
        None,
        "environment",
    ))
}

/// A signed IAM auth token for `target`, valid for 15 minutes from `now`.
pub async fn auth_token(
    target: &Target,
    credentials: Credentials,
    now: SharedTimeSource,
) -> anyhow::Result<String> {
    let sdk = SdkConfig::builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .region(Region::new(target.region.clone()))
        .time_source(now)
        .build();
    let generator = AuthTokenGenerator::new(
        TokenConfig::builder()
            .hostname(&target.endpoint)
            .expires_in(TOKEN_SECONDS)
            .build()
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let token = if target.is_admin() {
        generator.db_connect_admin_auth_token(&sdk).await
    } else {
        generator.db_connect_auth_token(&sdk).await
    };
    Ok(token
        .map_err(|e| anyhow::anyhow!("signing a DSQL auth token: {e}"))?
        .as_str()
        .to_string())
}

/// TLS that verifies the server certificate against the public roots.
pub fn tls() -> MakeRustlsConnect {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_root_certificates(roots).with_no_client_auth())
    .unwrap_or_else(|_| {
        rustls::ClientConfig::builder()
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_no_client_auth()
    });
    MakeRustlsConnect::new(config)
}

/// Opens connections with a fresh token each time.
struct TokenConnect {
    target: Target,
    tls: MakeRustlsConnect,
}

impl deadpool_postgres::Connect for TokenConnect {
    fn connect(
        &self,
        pg_config: &tokio_postgres::Config,
    ) -> std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        (tokio_postgres::Client, tokio::task::JoinHandle<()>),
                        tokio_postgres::Error,
                    >,
                > + Send
                + '_,
        >,
    > {
        let mut config = pg_config.clone();
        Box::pin(async move {
            let token = match env_credentials() {
                Ok(credentials) => {
                    auth_token(
                        &self.target,
                        credentials,
                        SharedTimeSource::new(SystemTimeSource::new()),
                    )
                    .await
                }
                Err(e) => Err(e),
            };
            match token {
                Ok(token) => {
                    config.password(token);
                }
                // Connecting without a token fails with the server's own error, after this.
                Err(e) => tracing::error!(error = %e, "could not make a DSQL auth token"),
            }
            let (client, connection) = config.connect(self.tls.clone()).await?;
            let handle = tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!(error = %e, "DSQL connection closed");
                }
            });
            Ok((client, handle))
        })
    }
}

/// A connection pool for the cluster `url` names.
pub fn pool(url: &str) -> anyhow::Result<Pool> {
    let region = std::env::var("AWS_REGION").ok();
    let target = parse_url(url, region.as_deref())?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(&target.endpoint)
        .port(5432)
        .user(&target.user)
        .dbname("postgres")
        .ssl_mode(tokio_postgres::config::SslMode::Require)
        .connect_timeout(Duration::from_secs(10));
    let manager = Manager::from_connect(
        config,
        TokenConnect { target, tls: tls() },
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(8)
        .post_recycle(Hook::sync_fn(|_, metrics| {
            if metrics.age() > MAX_CONNECTION_AGE {
                Err(HookError::Message(
                    "retired before DSQL's one-hour limit".into(),
                ))
            } else {
                Ok(())
            }
        }))
        .build()
        .context("building the DSQL connection pool")
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    /// Seconds since the epoch, for tests that sign with a fixed clock.
    fn at(seconds: u64) -> SharedTimeSource {
        SharedTimeSource::new(aws_smithy_async::time::StaticTimeSource::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(seconds),
        ))
    }

    #[test]
    fn urls_name_the_user_endpoint_and_region() {
        let t = parse_url("dsql://app@abc123.dsql.us-east-2.on.aws", None).unwrap();
        assert_eq!(t.user, "app");
        assert_eq!(t.endpoint, "abc123.dsql.us-east-2.on.aws");
        assert_eq!(t.region, "us-east-2");
        assert!(!t.is_admin());
        let admin = parse_url("dsql://abc123.dsql.us-east-1.on.aws/postgres", None).unwrap();
        assert!(admin.is_admin());
        assert_eq!(admin.region, "us-east-1");
        let custom = parse_url("dsql://db.example.com", Some("eu-west-1")).unwrap();
        assert_eq!(custom.region, "eu-west-1");
        assert!(parse_url("dsql://db.example.com", None).is_err());
        assert!(parse_url("postgres://x", None).is_err());
    }

    fn query_of(token: &str) -> std::collections::HashMap<String, String> {
        let (_, query) = token.split_once('?').unwrap();
        query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), v.replace("%2F", "/")))
            .collect()
    }

    #[tokio::test]
    async fn tokens_are_presigned_urls_for_the_cluster_action_and_fifteen_minutes() {
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let app = parse_url("dsql://app@abc.dsql.us-east-1.on.aws", None).unwrap();
        let token = auth_token(&app, credentials.clone(), at(1_700_000_000))
            .await
            .unwrap();
        assert!(
            token.starts_with("abc.dsql.us-east-1.on.aws/?Action=DbConnect&"),
            "{token}"
        );
        let q = query_of(&token);
        assert_eq!(q["X-Amz-Expires"], "900");
        assert_eq!(q["X-Amz-Date"], "20231114T221320Z");
        assert_eq!(
            q["X-Amz-Credential"],
            "AKIDEXAMPLE/20231114/us-east-1/dsql/aws4_request"
        );
        assert_eq!(q["X-Amz-Algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(q["X-Amz-Signature"].len(), 64);
        // The same inputs sign the same; the admin action signs differently.
        let again = auth_token(&app, credentials.clone(), at(1_700_000_000))
            .await
            .unwrap();
        assert_eq!(token, again);
        let admin = parse_url("dsql://admin@abc.dsql.us-east-1.on.aws", None).unwrap();
        let admin_token = auth_token(&admin, credentials, at(1_700_000_000))
            .await
            .unwrap();
        assert!(
            admin_token.contains("?Action=DbConnectAdmin&"),
            "{admin_token}"
        );
        assert_ne!(
            query_of(&admin_token)["X-Amz-Signature"],
            q["X-Amz-Signature"]
        );
    }
}

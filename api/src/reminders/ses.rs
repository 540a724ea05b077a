//! Mail through Amazon SES (v2 `SendEmail` with the raw message), with the function's own
//! credentials: on AWS, `SES_REGION` names the region whose verified identity sends. The
//! SDK's `AWS_ENDPOINT_URL_SESV2` (or `AWS_ENDPOINT_URL`) points it elsewhere, for tests.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_credential_types::Credentials;
use aws_sdk_sesv2::config::{BehaviorVersion, Region};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

use crate::config::Config;

use super::{DynMailer, Mailer};

/// Where and as whom SES mail goes out.
#[derive(Clone, Debug)]
pub struct SesSettings {
    pub region: String,
    /// Another endpoint than AWS's (tests).
    pub endpoint: Option<String>,
    pub credentials: Credentials,
}

/// Sends each message as it is (`Content::Raw`): the headers the digest sets, the
/// unsubscribe ones included, reach the recipient unchanged.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
}

impl SesMailer {
    pub fn new(settings: SesSettings) -> Self {
        Self {
            client: client(settings),
        }
    }
}

/// An SES v2 client of `settings`, over rustls.
pub fn client(settings: SesSettings) -> aws_sdk_sesv2::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let mut config = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(settings.region))
        .credentials_provider(settings.credentials)
        .http_client(http);
    if let Some(endpoint) = settings.endpoint {
        config = config.endpoint_url(endpoint);
    }
    aws_sdk_sesv2::Client::from_conf(config.build())
}

#[async_trait]
impl Mailer for SesMailer {
    #[tracing::instrument(skip_all)]
    async fn send(&self, message: lettre::Message) -> anyhow::Result<()> {
        let envelope = message.envelope().clone();
        let raw = RawMessage::builder()
            .data(Blob::new(message.formatted()))
            .build()
            .context("making the raw message")?;
        let mut destination = Destination::builder();
        for to in envelope.to() {
            destination = destination.to_addresses(to.to_string());
        }
        let mut request = self
            .client
            .send_email()
            .destination(destination.build())
            .content(EmailContent::builder().raw(raw).build());
        if let Some(from) = envelope.from() {
            request = request.from_email_address(from.to_string());
        }
        request
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", aws_sdk_sesv2::error::DisplayErrorContext(e)))
            .context("sending mail through SES")?;
        Ok(())
    }
}

/// The SES mailer when `SES_REGION` is set (it needs `MAIL_FROM`, the address of an
/// identity verified in SES); `None` otherwise.
pub fn from_env(config: &Config) -> anyhow::Result<Option<DynMailer>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let Some(region) = var("SES_REGION") else {
        return Ok(None);
    };
    if config.mail_from.is_none() {
        anyhow::bail!(
            "SES_REGION is set but MAIL_FROM is not: set it to an address of a domain verified in SES"
        );
    }
    let settings = SesSettings {
        region,
        endpoint: var("AWS_ENDPOINT_URL_SESV2").or_else(|| var("AWS_ENDPOINT_URL")),
        credentials: crate::store::dsql::env_credentials()?,
    };
    Ok(Some(Arc::new(SesMailer::new(settings))))
}

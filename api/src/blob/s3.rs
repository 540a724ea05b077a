//! Attachments in an S3 bucket, or any S3-compatible server: presigned `PUT`s for uploads
//! (the signed `Content-Type` and `Content-Length` make S3 refuse anything else) and
//! presigned `GET`s for downloads.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use async_trait::async_trait;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use time::OffsetDateTime;

use super::*;

/// Everything needed to reach the bucket.
#[derive(Clone, Debug)]
pub struct S3Settings {
    pub bucket: String,
    pub region: String,
    /// A custom endpoint (an S3-compatible server); `None` for AWS.
    pub endpoint: Option<String>,
    pub force_path_style: bool,
    pub credentials: Credentials,
}

impl S3Settings {
    /// From the environment: `AWS_REGION`, the SDK's `AWS_ENDPOINT_URL_S3` or
    /// `AWS_ENDPOINT_URL`, and credentials as Lambda provides them.
    pub fn from_env(bucket: &str, force_path_style: bool) -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Ok(Self {
            bucket: bucket.to_string(),
            region: var("AWS_REGION")
                .or_else(|| var("AWS_DEFAULT_REGION"))
                .unwrap_or_else(|| "us-east-1".into()),
            endpoint: var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")),
            force_path_style,
            credentials: crate::store::dsql::env_credentials()
                .context("PHOTOS_BUCKET is set, so S3 credentials are needed")?,
        })
    }
}

/// The origin a browser reaches the bucket at through the addresses this server signs (for
/// the pages' Content-Security-Policy): the custom endpoint's (with the bucket as a
/// subdomain unless path-style), else AWS's regional virtual-hosted one.
pub fn browser_origin(bucket: &str, force_path_style: bool) -> String {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| "us-east-1".into());
    match var("AWS_ENDPOINT_URL_S3").or_else(|| var("AWS_ENDPOINT_URL")) {
        Some(endpoint) => {
            let endpoint = endpoint.trim_end_matches('/');
            let (scheme, rest) = endpoint.split_once("://").unwrap_or(("https", endpoint));
            let host = rest.split('/').next().unwrap_or(rest);
            if force_path_style {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{bucket}.{host}")
            }
        }
        None => format!("https://{bucket}.s3.{region}.amazonaws.com"),
    }
}

pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
}

impl S3Blobs {
    pub fn new(settings: S3Settings) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https();
        let mut config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(settings.region))
            .credentials_provider(settings.credentials)
            .http_client(http)
            .force_path_style(settings.force_path_style)
            // Checksums would add headers a browser's PUT can't reproduce.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = settings.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket,
        }
    }
}

fn system_time(t: OffsetDateTime) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(t.unix_timestamp().max(0) as u64)
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<Upload> {
        let now = OffsetDateTime::now_utc();
        let presigning = PresigningConfig::builder()
            .start_time(system_time(now))
            .expires_in(Duration::from_secs(
                (expires_at - now).whole_seconds().max(1) as u64,
            ))
            .build()?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(i64::try_from(size)?)
            .presigned(presigning)
            .await
            .context("presigning an upload")?;
        // Browsers set Content-Length (and Host) themselves; both are still signed.
        let headers = request
            .headers()
            .filter(|(name, _)| {
                !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host")
            })
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        Ok(Upload {
            url: request.uri().to_string(),
            headers,
        })
    }

    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        window: UrlWindow,
    ) -> anyhow::Result<String> {
        let presigning = PresigningConfig::builder()
            .start_time(system_time(window.starts_at))
            .expires_in(Duration::from_secs(
                (window.expires_at - window.starts_at)
                    .whole_seconds()
                    .max(1) as u64,
            ))
            .build()?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_type(content_type)
            .response_content_disposition(disposition)
            .response_cache_control("private, max-age=3600")
            .presigned(presigning)
            .await
            .context("presigning a download")?;
        Ok(request.uri().to_string())
    }

    async fn get(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let object = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => object,
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => return Ok(None),
            Err(e) => {
                return Err(anyhow::Error::from(e)
                    .context(format!("reading {key} from S3"))
                    .into());
            }
        };
        if object
            .content_length()
            .is_some_and(|len| u64::try_from(len).unwrap_or(u64::MAX) > max)
        {
            return Err(BlobError::TooLarge(max));
        }
        let mut body = object.body;
        let mut bytes = Vec::new();
        while let Some(chunk) = body.try_next().await.context("reading an object's bytes")? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max {
                return Err(BlobError::TooLarge(max));
            }
        }
        Ok(Some(bytes))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(bytes.into())
            .send()
            .await
            .with_context(|| format!("writing {key} to S3"))?;
        Ok(())
    }

    async fn reader(&self, key: &str) -> anyhow::Result<Option<BlobReader>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(object) => Ok(Some(Box::pin(object.body.into_async_read()))),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => Ok(None),
            Err(e) => Err(anyhow::Error::from(e).context(format!("reading {key} from S3"))),
        }
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()> {
        // Read from the disk a piece at a time as the request is sent.
        let body = ByteStream::from_path(path)
            .await
            .with_context(|| format!("opening {}", path.display()))?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("writing {key} to S3"))?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        // DeleteObjects takes at most 1,000 keys.
        for chunk in keys.chunks(1_000) {
            let objects = chunk
                .iter()
                .map(|key| ObjectIdentifier::builder().key(key).build())
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .delete_objects()
                .bucket(&self.bucket)
                .delete(
                    Delete::builder()
                        .set_objects(Some(objects))
                        .quiet(true)
                        .build()?,
                )
                .send()
                .await
                .context("deleting objects from S3")?;
            if let Some(error) = output.errors().first() {
                anyhow::bail!(
                    "S3 kept {:?}: {}",
                    error.key().unwrap_or_default(),
                    error.message().unwrap_or_default()
                );
            }
        }
        Ok(())
    }
}

//! Where attachment bytes live: a folder on this machine (the default) or an S3 bucket.
//! Browsers never send files through the API process: they PUT them to a URL the store
//! signs (a presigned S3 URL, or locally an HMAC-signed URL of the API's own), and fetch
//! them from signed, short-lived URLs.

use std::collections::BTreeMap;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use shared::{AttachmentId, HouseholdId};
use time::{Duration, OffsetDateTime};

pub mod local;
pub mod s3;

/// Where and how the browser sends a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Upload {
    pub url: String,
    pub headers: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("the file is larger than {0} bytes")]
    TooLarge(u64),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// A URL that accepts one `PUT` of exactly `size` bytes of `content_type` at `key`
    /// until `expires_at`.
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<Upload>;
    /// A URL that serves `key` as `content_type` until the end of `window`.
    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        window: UrlWindow,
    ) -> anyhow::Result<String>;
    /// The bytes at `key`; `None` when nothing is there, `TooLarge` beyond `max` bytes.
    async fn get(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>, BlobError>;
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()>;
    /// Deletes these keys; a missing key is no error.
    async fn delete(&self, keys: &[String]) -> anyhow::Result<()>;
    /// The bytes at `key` as a stream, read a piece at a time however large the file;
    /// `None` when nothing is there.
    async fn reader(&self, key: &str) -> anyhow::Result<Option<BlobReader>>;
    /// Stores the file at `path` as `key`, streamed from the disk rather than held in
    /// memory.
    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()>;
}

pub type DynBlobs = Arc<dyn BlobStore>;

/// A stored file being read (`BlobStore::reader`).
pub type BlobReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// Percent-encodes everything but RFC 3986's unreserved characters (for query strings and
/// RFC 5987 file names).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The keys of an attachment's bytes.
pub mod keys {
    use super::*;

    /// Where the browser uploads, before the checks.
    pub fn upload(household: HouseholdId, id: AttachmentId) -> String {
        format!("uploads/{household}/{id}")
    }

    /// The file as served: checked, rotated upright, metadata removed.
    pub fn file(household: HouseholdId, id: AttachmentId) -> String {
        format!("files/{household}/{id}/file")
    }

    /// A small JPEG preview of an image.
    pub fn thumbnail(household: HouseholdId, id: AttachmentId) -> String {
        format!("files/{household}/{id}/thumb.jpg")
    }

    /// Every key an attachment may use.
    pub fn all(household: HouseholdId, id: AttachmentId) -> Vec<String> {
        vec![
            upload(household, id),
            file(household, id),
            thumbnail(household, id),
        ]
    }

    /// Whether `key` is one of the shapes above (nothing else is ever read or written).
    pub fn is_valid(key: &str) -> bool {
        let parts: Vec<&str> = key.split('/').collect();
        let uuid = |s: &str| uuid::Uuid::parse_str(s).is_ok() && s.len() == 36;
        match parts.as_slice() {
            ["uploads", h, a] => uuid(h) && uuid(a),
            ["files", h, a, "file" | "thumb.jpg"] => uuid(h) && uuid(a),
            // An import's uploaded file, and the files jobs make (`crate::jobs`).
            ["imports", h, a] => uuid(h) && uuid(a),
            [
                "jobs",
                h,
                j,
                "home-inventory.csv" | "backup.zip" | "insurance-report.pdf" | "claim-pack.zip",
            ] => uuid(h) && uuid(j),
            _ => false,
        }
    }
}

/// Download URLs are signed for a fixed window of time rather than from "now", so the same
/// file keeps the same URL for a while and browsers can cache it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UrlWindow {
    pub starts_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

impl UrlWindow {
    /// Windows begin on the hour and last two hours: a URL handed out is good for at least
    /// an hour.
    pub fn around(now: OffsetDateTime) -> Self {
        let hour = 3600;
        let start = now.unix_timestamp() - now.unix_timestamp().rem_euclid(hour);
        let starts_at = OffsetDateTime::from_unix_timestamp(start).unwrap_or(now);
        Self {
            starts_at,
            expires_at: starts_at + Duration::hours(2),
        }
    }

    /// Seconds a browser may keep what it fetched.
    pub fn max_age(&self, now: OffsetDateTime) -> i64 {
        (self.expires_at - now).whole_seconds().max(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        let (h, a) = (HouseholdId::new(), AttachmentId::new());
        for key in keys::all(h, a) {
            assert!(keys::is_valid(&key), "{key}");
        }
        for bad in [
            "",
            "files",
            "../etc/passwd",
            &format!("uploads/{h}/../{a}"),
            &format!("files/{h}/{a}/other"),
            &format!("uploads/{h}/{a}/file"),
        ] {
            assert!(!keys::is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn windows_start_on_the_hour() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000 + 1234).unwrap();
        let w = UrlWindow::around(now);
        assert_eq!(w.starts_at.unix_timestamp() % 3600, 0);
        assert!(w.starts_at <= now && w.expires_at - now >= Duration::hours(1));
        assert_eq!(UrlWindow::around(now + Duration::minutes(1)), w);
    }
}

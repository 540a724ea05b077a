//! Attachments in a folder on this machine. Upload and download URLs point at the API
//! itself (`/api/v1/blobs/{key}`) and carry an HMAC-SHA256 signature over what they allow,
//! with a key kept in the folder, so they survive restarts and can't be altered.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::OffsetDateTime;

use super::*;

type HmacSha256 = Hmac<Sha256>;

tokio::task_local! {
    /// The origin the current request was sent to, for the addresses of local files.
    static REQUEST_ORIGIN: String;
}

/// Runs a request knowing the origin it was sent to, so the local file addresses it hands
/// out work from wherever the site was opened (`PUBLIC_URL`, or the address a phone on the
/// home network used).
pub async fn with_request_origin(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let public = state.config.public_url.clone();
    let origin = request
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|host| {
            !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .map(|host| {
            let public_host = public.split_once("://").map(|(_, h)| h).unwrap_or_default();
            if host.eq_ignore_ascii_case(public_host) {
                public.clone()
            } else {
                format!("http://{host}")
            }
        })
        .unwrap_or(public);
    REQUEST_ORIGIN.scope(origin, next.run(request)).await
}

pub struct LocalBlobs {
    root: PathBuf,
    public_url: String,
    key: Vec<u8>,
}

/// What a signed URL allows, as read back from its query string.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Grant {
    #[serde(default)]
    pub op: String,
    #[serde(rename = "type", default)]
    pub content_type: String,
    #[serde(default)]
    pub size: Option<u64>,
    #[serde(default)]
    pub disposition: Option<String>,
    #[serde(default)]
    pub expires: i64,
    #[serde(default)]
    pub sig: String,
}

impl LocalBlobs {
    /// Opens (and makes) the folder; the signing key is made on first use.
    pub fn open(root: PathBuf, public_url: &str) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&root)
            .with_context(|| format!("making the attachment folder {}", root.display()))?;
        let key_path = root.join(".signing-key");
        let key = match std::fs::read(&key_path) {
            Ok(key) if key.len() >= 32 => key,
            _ => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|e| anyhow::anyhow!("{e}"))?;
                write_private(&key_path, &key)?;
                key
            }
        };
        Ok(Self {
            root,
            public_url: public_url.trim_end_matches('/').to_string(),
            key,
        })
    }

    fn path(&self, key: &str) -> anyhow::Result<PathBuf> {
        anyhow::ensure!(keys::is_valid(key), "not an attachment key: {key:?}");
        Ok(self.root.join(key))
    }

    /// The MAC over everything a grant allows, ready to finish or to check.
    fn mac(&self, key: &str, grant: &Grant) -> HmacSha256 {
        // HMAC takes keys of any length.
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        let size = grant.size.map(|s| s.to_string()).unwrap_or_default();
        let disposition = grant.disposition.as_deref().unwrap_or_default();
        for part in [
            grant.op.as_str(),
            key,
            &grant.content_type,
            &size,
            disposition,
            &grant.expires.to_string(),
        ] {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac
    }

    fn signature(&self, key: &str, grant: &Grant) -> Vec<u8> {
        self.mac(key, grant).finalize().into_bytes().to_vec()
    }

    fn url(&self, key: &str, mut grant: Grant) -> String {
        grant.sig = hex(&self.signature(key, &grant));
        let mut query = form_urlencoded_pairs(&[
            ("op", grant.op.as_str()),
            ("type", grant.content_type.as_str()),
        ]);
        if let Some(size) = grant.size {
            query.push_str(&format!("&size={size}"));
        }
        if let Some(d) = &grant.disposition {
            query.push('&');
            query.push_str(&form_urlencoded_pairs(&[("disposition", d)]));
        }
        query.push_str(&format!("&expires={}&sig={}", grant.expires, grant.sig));
        let origin = REQUEST_ORIGIN
            .try_with(Clone::clone)
            .unwrap_or_else(|_| self.public_url.clone());
        format!("{origin}/api/v1/blobs/{key}?{query}")
    }

    /// Whether `grant` is a valid, unexpired signature for `op` on `key`.
    pub fn verify(&self, key: &str, op: &str, grant: &Grant, now: OffsetDateTime) -> bool {
        if grant.op != op || grant.expires < now.unix_timestamp() || !keys::is_valid(key) {
            return false;
        }
        let Some(sig) = unhex(&grant.sig) else {
            return false;
        };
        // Compared in constant time.
        self.mac(key, grant).verify_slice(&sig).is_ok()
    }

    /// Where an upload being received is written before it is complete.
    pub fn partial_path(&self, key: &str) -> anyhow::Result<PathBuf> {
        let path = self.path(key)?;
        Ok(path.with_extension("part"))
    }

    /// Moves a fully received upload into place.
    pub async fn finish_upload(&self, key: &str) -> anyhow::Result<()> {
        let (partial, path) = (self.partial_path(key)?, self.path(key)?);
        tokio::fs::rename(&partial, &path).await?;
        Ok(())
    }

    pub fn file_path(&self, key: &str) -> anyhow::Result<PathBuf> {
        self.path(key)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn form_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<Upload> {
        self.path(key)?;
        let url = self.url(
            key,
            Grant {
                op: "put".into(),
                content_type: content_type.into(),
                size: Some(size),
                disposition: None,
                expires: expires_at.unix_timestamp(),
                sig: String::new(),
            },
        );
        Ok(Upload {
            url,
            headers: BTreeMap::from([("Content-Type".to_string(), content_type.to_string())]),
        })
    }

    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        window: UrlWindow,
    ) -> anyhow::Result<String> {
        self.path(key)?;
        Ok(self.url(
            key,
            Grant {
                op: "get".into(),
                content_type: content_type.into(),
                size: None,
                disposition: Some(disposition.into()),
                expires: window.expires_at.unix_timestamp(),
                sig: String::new(),
            },
        ))
    }

    async fn get(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.len() > max => return Err(BlobError::TooLarge(max)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(anyhow::Error::from(e).into()),
        }
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::Error::from(e).into()),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, _content_type: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let partial = path.with_extension("part");
        tokio::fs::write(&partial, bytes).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(())
    }

    async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        for key in keys {
            let path = self.path(key)?;
            for p in [path.with_extension("part"), path.clone()] {
                match tokio::fs::remove_file(&p).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.into()),
                }
            }
            // Drop an attachment's own folder (`files/<household>/<id>/`) once it is empty;
            // errors mean it isn't. Never the folder uploads share (`uploads/<household>/`):
            // another upload may have just made it and be about to write into it.
            if key.starts_with("files/")
                && let Some(dir) = path.parent()
            {
                let _ = tokio::fs::remove_dir(dir).await;
            }
        }
        Ok(())
    }

    async fn reader(&self, key: &str) -> anyhow::Result<Option<BlobReader>> {
        let path = self.path(key)?;
        match tokio::fs::File::open(&path).await {
            Ok(file) => Ok(Some(Box::pin(file))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::Error::from(e).context(format!("opening {}", path.display()))),
        }
    }

    async fn put_file(&self, key: &str, from: &Path, _content_type: &str) -> anyhow::Result<()> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let partial = path.with_extension("part");
        tokio::fs::copy(from, &partial)
            .await
            .with_context(|| format!("copying {} into the attachment folder", from.display()))?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deleting one upload keeps the folder the household's uploads share, so an upload
    /// starting at the same moment can still write there; deleting an attachment's files
    /// drops its own folder.
    #[tokio::test]
    async fn deleting_keeps_shared_folders_and_drops_an_attachments_own() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path().to_path_buf(), "http://x").unwrap();
        let household = HouseholdId::new();
        let (first, second) = (AttachmentId::new(), AttachmentId::new());
        let upload = keys::upload(household, first);
        blobs
            .put(&upload, vec![1, 2, 3], "image/png")
            .await
            .unwrap();
        blobs.delete(std::slice::from_ref(&upload)).await.unwrap();
        let shared = blobs.path(&upload).unwrap().parent().unwrap().to_path_buf();
        assert!(shared.is_dir(), "the household's uploads folder stays");
        // Another upload writes into it as `receive_blob` does, without making it first.
        let partial = blobs
            .partial_path(&keys::upload(household, second))
            .unwrap();
        tokio::fs::write(&partial, [4, 5]).await.unwrap();
        blobs
            .finish_upload(&keys::upload(household, second))
            .await
            .unwrap();

        let file = keys::file(household, first);
        blobs.put(&file, vec![1], "image/png").await.unwrap();
        let own = blobs.path(&file).unwrap().parent().unwrap().to_path_buf();
        blobs.delete(&[file]).await.unwrap();
        assert!(
            !own.exists(),
            "the attachment's own folder goes with its files"
        );
    }

    #[test]
    fn signatures_cover_every_part_and_expire() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(dir.path().to_path_buf(), "http://x").unwrap();
        let key = keys::upload(HouseholdId::new(), AttachmentId::new());
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        let mut grant = Grant {
            op: "put".into(),
            content_type: "image/png".into(),
            size: Some(10),
            disposition: None,
            expires: now.unix_timestamp() + 60,
            sig: String::new(),
        };
        grant.sig = hex(&blobs.signature(&key, &grant));
        assert!(blobs.verify(&key, "put", &grant, now));
        assert!(!blobs.verify(&key, "get", &grant, now));
        assert!(!blobs.verify(&key, "put", &grant, now + time::Duration::minutes(2)));
        let other = keys::upload(HouseholdId::new(), AttachmentId::new());
        assert!(!blobs.verify(&other, "put", &grant, now));
        for tampered in [
            Grant {
                size: Some(11),
                ..grant.clone()
            },
            Grant {
                content_type: "image/jpeg".into(),
                ..grant.clone()
            },
            Grant {
                expires: grant.expires + 1,
                ..grant.clone()
            },
        ] {
            assert!(!blobs.verify(&key, "put", &tampered, now));
        }
        // The key is kept: a second opening signs the same way.
        let again = LocalBlobs::open(dir.path().to_path_buf(), "http://x").unwrap();
        assert!(again.verify(&key, "put", &grant, now));
    }
}

//! The headers every answer carries, page or API, that tell a browser what the site may do:
//! run only its own scripts (and its WebAssembly), load only its own styles and images,
//! never be framed, never send where a visitor came from, never guess a file's type.
//!
//! CloudFront sends the same policy for the pages it serves from S3 (the response headers
//! policy in `infrastructure/src/cloudfront.ts`); this layer covers the self-hosted server
//! and everything under `/api` on both.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::Config;

/// What the web app may load. Scripts: its own files (the boot script is a file too, see
/// `xtask/src/boot_script.rs`), and the WebAssembly they start. Styles: its own sheet only
/// (no `style` attributes). Images: its own, `data:` (QR codes) and `blob:` (photos being
/// taken), and the photo bucket when files are kept in S3; the same bucket for uploads.
const APP_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; img-src 'self' data: blob:{bucket}; media-src 'self' blob:; \
    connect-src 'self'{bucket}; worker-src 'self'; manifest-src 'self'; font-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// API answers are data, never a document to run: nothing loads, and a file opened from
/// the API runs no script even if a browser were to take it for a page.
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Two years, every subdomain: sent only when the site is served over https.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// The camera for capture and scanning; nothing else a page could ask for.
const PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=(), payment=(), usb=(), \
    serial=(), bluetooth=(), browsing-topics=()";

/// The headers, made once from the configuration.
#[derive(Clone, Debug)]
pub struct SecurityHeaders {
    app_policy: HeaderValue,
    https: bool,
}

impl SecurityHeaders {
    /// `bucket_origin`: where the browser fetches and sends attachments when they are kept
    /// in S3 (`blob::s3::browser_origin`); `None` when the server serves them itself.
    pub fn new(config: &Config, bucket_origin: Option<&str>) -> Self {
        let bucket = bucket_origin.map(|o| format!(" {o}")).unwrap_or_default();
        let policy = APP_POLICY.replace("{bucket}", &bucket);
        Self {
            app_policy: HeaderValue::from_str(&policy)
                .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'")),
            https: config.public_url.starts_with("https://"),
        }
    }

    /// The policy the web app's pages are served with.
    pub fn app_policy(&self) -> &str {
        self.app_policy.to_str().unwrap_or_default()
    }

    fn apply(&self, api: bool, headers: &mut HeaderMap) {
        // A handler that knows better keeps its own (the API docs page, images served
        // sandboxed).
        if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
            let policy = if api {
                HeaderValue::from_static(API_POLICY)
            } else {
                self.app_policy.clone()
            };
            headers.insert(header::CONTENT_SECURITY_POLICY, policy);
        }
        let fixed: [(HeaderName, &'static str); 5] = [
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // Share links carry their secret in the path: no address is ever sent on.
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                HeaderName::from_static("cross-origin-opener-policy"),
                "same-origin",
            ),
            (HeaderName::from_static("permissions-policy"), PERMISSIONS),
        ];
        for (name, value) in fixed {
            headers.insert(name, HeaderValue::from_static(value));
        }
        if self.https {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
    }
}

/// The middleware: every answer, whatever made it (a handler, an error, a file, a panic
/// caught further in), leaves with the headers.
pub async fn add(headers: Arc<SecurityHeaders>, request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    headers.apply(api, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(public_url: &str) -> Config {
        let public_url = public_url.to_string();
        Config::from_lookup(|name| (name == "PUBLIC_URL").then(|| public_url.clone())).unwrap()
    }

    #[test]
    fn the_app_policy_names_the_bucket_only_when_there_is_one() {
        let local = SecurityHeaders::new(&config("http://127.0.0.1:8080"), None);
        assert!(!local.app_policy().contains("amazonaws"));
        assert!(local.app_policy().contains("img-src 'self' data: blob:;"));
        let s3 = SecurityHeaders::new(
            &config("https://inventory.example"),
            Some("https://photos.s3.eu-west-1.amazonaws.com"),
        );
        assert!(
            s3.app_policy()
                .contains("img-src 'self' data: blob: https://photos.s3.eu-west-1.amazonaws.com;")
        );
        assert!(
            s3.app_policy()
                .contains("connect-src 'self' https://photos.s3.eu-west-1.amazonaws.com;")
        );
    }

    #[test]
    fn hsts_is_sent_only_over_https() {
        let mut headers = HeaderMap::new();
        SecurityHeaders::new(&config("http://127.0.0.1:8080"), None).apply(false, &mut headers);
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));
        SecurityHeaders::new(&config("https://inventory.example"), None).apply(false, &mut headers);
        assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], HSTS);
    }

    #[test]
    fn a_handlers_own_policy_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; sandbox"),
        );
        SecurityHeaders::new(&config("http://127.0.0.1:8080"), None).apply(true, &mut headers);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            "default-src 'none'; sandbox"
        );
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    }
}

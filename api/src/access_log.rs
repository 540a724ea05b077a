//! The request span every log line of a request carries, with secrets kept out of it: the
//! path without its query (which holds OAuth codes and the signatures of signed URLs) and
//! with invitation codes, which are bearer secrets, blanked.

use axum::extract::Request;
use axum::http::Uri;
use tower_http::trace::MakeSpan;
use tracing::Span;

/// What stands in for a secret part of a path.
pub const REDACTED: &str = "…";

/// `TraceLayer`'s span: method, redacted path and HTTP version, at `DEBUG` as before.
#[derive(Clone, Copy, Debug, Default)]
pub struct RedactedSpan;

impl<B> MakeSpan<B> for RedactedSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::debug_span!(
            "request",
            method = %request.method(),
            uri = %redacted_path(request.uri()),
            version = ?request.version(),
        )
    }
}

/// The path, query dropped, with the code of `/api/v1/invites/{code}[/…]` and of the web
/// app's `/invite/{code}`, and the secret of a share link (`/api/v1/shared/{secret}[/…]`,
/// the web app's `/s/{secret}`), replaced by `…`.
pub fn redacted_path(uri: &Uri) -> String {
    let path = uri.path();
    for prefix in ["/api/v1/invites/", "/invite/", "/api/v1/shared/", "/s/"] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            let after = rest.find('/').map_or("", |i| &rest[i..]);
            return format!("{prefix}{REDACTED}{after}");
        }
    }
    path.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redacted(uri: &str) -> String {
        redacted_path(&uri.parse().unwrap())
    }

    #[test]
    fn invitation_codes_and_queries_are_kept_out() {
        assert_eq!(redacted("/api/v1/invites/s3cretC0de"), "/api/v1/invites/…");
        assert_eq!(
            redacted("/api/v1/invites/s3cretC0de/accept"),
            "/api/v1/invites/…/accept"
        );
        assert_eq!(redacted("/invite/s3cretC0de"), "/invite/…");
        assert_eq!(
            redacted("/api/v1/shared/s3cretL1nk/items/0190e2c4"),
            "/api/v1/shared/…/items/0190e2c4"
        );
        assert_eq!(redacted("/s/s3cretL1nk"), "/s/…");
        assert_eq!(
            redacted("/api/v1/auth/google/callback?code=abc&state=def"),
            "/api/v1/auth/google/callback"
        );
        assert_eq!(
            redacted("/api/v1/households/0190e2c4/invites"),
            "/api/v1/households/0190e2c4/invites"
        );
    }
}

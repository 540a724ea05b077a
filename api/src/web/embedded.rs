//! The web app built into the binary: `web/dist` as it was when the release binary was
//! compiled (feature `web-app`), so the binary alone, copied anywhere, serves everything.
//!
//! Answers like the folder does: a file by its path, its gzip copy (`<file>.gz`, written by
//! the web build) to a browser that accepts gzip, `index.html` for the app's own routes, 404
//! for a missing file. Each answer carries an `ETag` from the file's SHA-256 (computed when
//! the binary was built), so a revalidated page costs a 304.

use std::borrow::Cow;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use rust_embed::{Embed, EmbeddedFile};

use super::{accepts_gzip, names_a_file, not_found};
use crate::AppState;

#[derive(Embed)]
#[folder = "../web/dist/"]
#[allow_missing = true]
struct Dist;

/// Whether the binary was built with a web app in it.
pub fn has_app() -> bool {
    Dist::get("index.html").is_some()
}

pub fn router() -> Router<AppState> {
    Router::new().fallback(serve)
}

async fn serve(request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD")],
        )
            .into_response();
    }
    let path = request.uri().path();
    let Ok(decoded) = percent_decode_str(path).decode_utf8() else {
        return not_found();
    };
    let name = match decoded.trim_start_matches('/') {
        "" => "index.html",
        name => name,
    };
    let (name, file) = match Dist::get(name) {
        Some(file) => (name, file),
        None if names_a_file(path) => return not_found(),
        None => match Dist::get("index.html") {
            Some(file) => ("index.html", file),
            None => return not_found(),
        },
    };
    respond(name, file, request.headers())
}

fn respond(name: &str, file: EmbeddedFile, request: &HeaderMap) -> Response {
    let kind = file.metadata.mimetype().to_string();
    let gzipped = accepts_gzip(request)
        .then(|| Dist::get(&format!("{name}.gz")))
        .flatten();
    let (file, encoding) = match gzipped {
        Some(gz) => (gz, Some("gzip")),
        None => (file, None),
    };
    let etag = etag(&file, encoding);
    let mut response = if matches_etag(request, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let body = match file.data {
            Cow::Borrowed(bytes) => Body::from(bytes),
            Cow::Owned(bytes) => Body::from(bytes),
        };
        let mut response = Response::new(body);
        if let Ok(kind) = HeaderValue::from_str(&kind) {
            response.headers_mut().insert(header::CONTENT_TYPE, kind);
        }
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// The file's SHA-256 (first 16 bytes, hex), marked when it is the gzip copy.
fn etag(file: &EmbeddedFile, encoding: Option<&str>) -> String {
    let hex: String = file.metadata.sha256_hash()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    match encoding {
        Some(encoding) => format!("\"{hex}-{encoding}\""),
        None => format!("\"{hex}\""),
    }
}

fn matches_etag(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::matches_etag;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_static(value));
        map
    }

    #[test]
    fn a_known_copy_is_not_sent_again() {
        let tag = "\"00ff\"";
        assert!(matches_etag(
            &headers(header::IF_NONE_MATCH, "\"00ff\""),
            tag
        ));
        assert!(matches_etag(
            &headers(header::IF_NONE_MATCH, "\"aa\", W/\"00ff\""),
            tag
        ));
        assert!(!matches_etag(
            &headers(header::IF_NONE_MATCH, "\"aa\""),
            tag
        ));
        assert!(!matches_etag(&HeaderMap::new(), tag));
    }
}

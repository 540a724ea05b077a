//! `GET /api/docs`: the API's documentation, drawn from its OpenAPI document by Redoc. The
//! viewer is vendored from npm (`api/assets/redoc`, with its licence and version) and served
//! from the binary, so the page works offline and fetches nothing from anywhere else; its
//! Content-Security-Policy allows only this site.

use std::io::Write as _;
use std::sync::OnceLock;

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::web::accepts_gzip;

/// The version of Redoc in `api/assets/redoc` (npm `redoc`, `bundles/redoc.standalone.js`).
pub const REDOC_VERSION: &str = "2.5.4";
const REDOC: &[u8] = include_bytes!("../../assets/redoc/redoc.standalone.js");
/// The one thing Redoc would fetch from elsewhere: Redocly's logo in its menu. An image that
/// doesn't load is left out, so it becomes an empty `data:` address (allowed by the policy).
const REDOC_LOGO: &[u8] = b"https://cdn.redoc.ly/redoc/logo-mini.svg";

/// The page may run scripts and open connections only to this site. Redoc's styled
/// components need inline styles, and its search runs in a worker made from a blob.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' \
    'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src \
    'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Files whose name carries their version never change: a year, and never revalidated.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub fn router() -> OpenApiRouter<AppState> {
    // Not in the OpenAPI document: these are a page for people, not part of the REST API.
    OpenApiRouter::default()
        .route("/docs", get(page))
        .route("/docs/start.js", get(start))
        .route(&format!("/docs/redoc-{REDOC_VERSION}.js"), get(redoc))
}

async fn page() -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Home Inventory API</title>
<style>body {{ margin: 0; }} noscript p {{ font-family: sans-serif; margin: 2rem; }}</style>
</head>
<body>
<noscript><p>This page needs JavaScript. The OpenAPI document it shows is
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>.</p></noscript>
<div id="redoc"></div>
<script src="/api/docs/redoc-{REDOC_VERSION}.js"></script>
<script src="/api/docs/start.js"></script>
</body>
</html>
"#
    );
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, PAGE_POLICY),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

/// Starts Redoc on this site's document (an inline script would need `'unsafe-inline'`).
async fn start() -> Response {
    const START: &str = "Redoc.init('/api/v1/openapi.json', {\n\
        \x20 expandResponses: '200,201',\n\
        \x20 requiredPropsFirst: true,\n\
        \x20 hideHostname: true,\n\
        \x20 jsonSampleExpandLevel: 3\n\
        }, document.getElementById('redoc'));\n";
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        START,
    )
        .into_response()
}

/// Redoc, gzipped for the browsers that take it (all of them; made once per process).
async fn redoc(headers: HeaderMap) -> Response {
    let mut response = if accepts_gzip(&headers) {
        let mut response = gzipped().into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    } else {
        redoc_source().into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Redoc as served: the vendored file, without the address of Redocly's logo.
fn redoc_source() -> &'static [u8] {
    static SOURCE: OnceLock<Vec<u8>> = OnceLock::new();
    SOURCE.get_or_init(|| replace(REDOC, REDOC_LOGO, b"data:,"))
}

fn gzipped() -> &'static [u8] {
    static GZIPPED: OnceLock<Vec<u8>> = OnceLock::new();
    GZIPPED.get_or_init(|| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to memory can't fail.
        let _ = encoder.write_all(redoc_source());
        encoder.finish().unwrap_or_default()
    })
}

/// `bytes` with every `from` replaced by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(at) = memchr::memmem::find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn the_viewer_served_names_no_logo_elsewhere() {
        assert!(memchr::memmem::find(REDOC, REDOC_LOGO).is_some());
        assert!(memchr::memmem::find(redoc_source(), REDOC_LOGO).is_none());
        assert_eq!(replace(b"a-xy-b-xy", b"xy", b"z"), b"a-z-b-z");
    }

    #[test]
    fn gzip_is_sent_only_to_those_who_take_it() {
        assert!(accepts_gzip(&accept("gzip, deflate, br")));
        assert!(accepts_gzip(&accept("br;q=1.0, GZIP;q=0.5")));
        assert!(!accepts_gzip(&accept("gzip;q=0, br")));
        assert!(!accepts_gzip(&accept("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}

//! Serves the built web app when self-hosted: static files, with every unknown path that
//! names no file answered by `index.html` so the app's own router takes over. A missing
//! file (a path whose last segment has an extension, like an old build's
//! `web-<hash>.js`) answers 404, never the page: a script or a service worker given HTML
//! with 200 would break an open or cached app after a deploy.
//!
//! The files come from `STATIC_DIR` when it is set, else from the copy built into a release
//! binary (feature `web-app`, [`embedded`]), else from `web/dist` of a source tree. Both
//! sources answer the same way: the same cache headers, gzip copies (`<file>.gz`) sent to
//! browsers that accept them, and `index.html` for the app's routes.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::handler::HandlerWithoutStateExt;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

use crate::{AppState, Config};

#[cfg(feature = "web-app")]
mod embedded;

pub fn router(config: &Config) -> Router<AppState> {
    let files = match &config.static_dir {
        Some(dir) => from_folder(dir),
        #[cfg(feature = "web-app")]
        None if embedded::has_app() => {
            tracing::info!("serving the web app built into this binary");
            embedded::router()
        }
        None => from_folder(Path::new("web/dist")),
    };
    files
        .layer(middleware::from_fn(cache_headers))
        // What has no gzip copy (the page, the manifest) is compressed as it goes out.
        .layer(CompressionLayer::new())
}

fn from_folder(dir: &Path) -> Router<AppState> {
    let index = dir.join("index.html");
    if !index.is_file() {
        tracing::warn!(dir = %dir.display(), "no web app built there; serving a placeholder page");
        return Router::new().fallback(|| async { Html(PLACEHOLDER) });
    }
    tracing::info!(dir = %dir.display(), "serving the web app from a folder");
    let page = ServeFile::new(index);
    let app_route = move |request: Request| {
        let page = page.clone();
        async move {
            if names_a_file(request.uri().path()) {
                return not_found();
            }
            page.oneshot(request).await.into_response()
        }
    };
    let files = ServeDir::new(dir)
        .precompressed_gzip()
        .fallback(app_route.into_service());
    Router::new().fallback_service(files)
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "Not found\n").into_response()
}

/// Files whose names carry a content hash never change: cache them for a year. Everything
/// else (index.html, the service worker, the manifest) is revalidated on every load.
async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    let mut response = next.run(request).await;
    let value = if hashed && response.status().is_success() {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    response
}

/// Whether a path asks for a file rather than a page of the app: its last segment has an
/// extension. The app's own routes (`/items/<uuid>`, `/locations`) never do.
pub fn names_a_file(path: &str) -> bool {
    path.rsplit('/').next().unwrap_or_default().contains('.')
}

/// Trunk names bundled files `name-<hash>.ext`, the hash a 64-bit number in hex without
/// its leading zeros (so sometimes 15 digits or fewer; never as few as `icon-192`'s). The
/// app's routes (`/items/<uuid>`) have no extension.
pub fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or_default();
    let Some((stem, _)) = file.split_once('.') else {
        return false;
    };
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (12..=16).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// Whether `Accept-Encoding` takes gzip (and does not refuse it with `q=0`): the web app
/// and the API docs page send their gzip copies to who does.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

const PLACEHOLDER: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Home Inventory</title></head><body><main><h1>Home Inventory</h1>\
<p>The API is running. The web app has not been built: run <code>cargo xtask run</code>, \
or set <code>STATIC_DIR</code> to a built copy.</p></main></body></html>";

#[cfg(test)]
mod tests {
    use super::{is_hashed_asset, names_a_file};

    #[test]
    fn files_are_told_apart_from_the_apps_routes() {
        assert!(names_a_file("/web-3f2a9c1b0d4e5f67.js"));
        assert!(names_a_file("/icons/old-icon.png"));
        assert!(names_a_file("/sw.js"));
        assert!(!names_a_file("/"));
        assert!(!names_a_file("/items/0190e2c4-aaaa-7bbb-8ccc-0123456789ab"));
        assert!(!names_a_file("/locations"));
    }

    #[test]
    fn hashed_bundle_files_are_told_apart_from_the_rest() {
        assert!(is_hashed_asset("/web-3f2a9c1b0d4e5f67.js"));
        assert!(is_hashed_asset("/web-3f2a9c1b0d4e5f67_bg.wasm"));
        assert!(is_hashed_asset("/styles-0123456789abcdef.css"));
        assert!(is_hashed_asset("/style-7130f9e40bd191f.css"));
        assert!(!is_hashed_asset("/icon-192.png"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset(
            "/items/0190e2c4-aaaa-7bbb-8ccc-0123456789ab"
        ));
    }
}

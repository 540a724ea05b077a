//! The OpenAPI document and the docs page: the copy committed as `api/openapi.json` is the
//! one the code generates, the server serves it to anyone, every operation it describes is
//! one the server routes, and the docs page comes from this server alone.

use std::io::Read as _;

use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{Backend, spawn_app, spawn_app_with};
use crate::tokens::{make_token, with_token};

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");

/// Fails when the code's document and the committed copy differ; `UPDATE_OPENAPI=1` writes
/// the code's document over the copy instead.
#[test]
fn the_committed_openapi_document_is_the_one_the_code_generates() {
    let generated = api::openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    if committed != generated {
        let line = committed
            .lines()
            .zip(generated.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(generated.lines().count()));
        panic!(
            "api/openapi.json is not the document the code generates (first difference at \
             line {}). If the change to the API is meant, update the copy and commit it:\n\n    \
             UPDATE_OPENAPI=1 cargo test -p api --test api openapi\n",
            line + 1
        );
    }
}

#[tokio::test]
async fn the_document_is_served_to_anyone() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app
        .request(Method::GET, "/api/v1/openapi.json", None, None, &[])
        .await;
    response.assert_status(200);
    assert_eq!(
        response.headers[header::CONTENT_TYPE],
        "application/json",
        "{:?}",
        response.headers
    );
    assert_eq!(response.body["openapi"], "3.1.0");
    let committed: Value =
        serde_json::from_str(&std::fs::read_to_string(COMMITTED).unwrap()).unwrap();
    assert_eq!(response.body, committed);
}

/// A documented path with its parameters filled in.
fn concrete_path(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment == "{code}" {
                "not-a-code"
            } else if segment.starts_with('{') {
                "01900000-0000-7000-8000-000000000000"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Each path of the document with its parameters filled in.
fn operations(document: &Value) -> Vec<(Method, String, bool, bool)> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = concrete_path(path);
        for (method, operation) in item.as_object().unwrap() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let public = operation["security"] == json!([]);
            let body = operation.get("requestBody").is_some();
            operations.push((method, concrete.clone(), public, body));
        }
    }
    operations
}

/// The document describes no route the server doesn't have, and what it says needs no
/// sign-in doesn't, while everything else does.
#[tokio::test]
async fn every_documented_operation_is_one_the_server_answers() {
    let app = spawn_app(Backend::Sqlite).await;
    let document: Value = serde_json::from_str(api::openapi::document_json()).unwrap();
    let operations = operations(&document);
    assert!(operations.len() > 40, "{operations:?}");
    for (method, path, public, body) in operations {
        let response = app
            .request(method.clone(), &path, None, body.then(|| json!({})), &[])
            .await;
        let status = response.status.as_u16();
        assert_ne!(
            status, 405,
            "{method} {path} is not routed: {}",
            response.body
        );
        assert_ne!(
            response.body["error"]["message"], "no such API endpoint",
            "{method} {path} is not routed"
        );
        if public {
            assert_ne!(
                status, 401,
                "{method} {path} is documented as needing no sign-in"
            );
        } else {
            assert_eq!(status, 401, "{method} {path} answered without a sign-in");
        }
    }
}

/// What the document says needs a signed-in person (`security: [{"session": []}]`) refuses
/// an API token, and every other operation that needs a sign-in takes one.
#[tokio::test]
async fn the_operations_documented_as_needing_a_person_are_the_ones_that_refuse_tokens() {
    let app = spawn_app_with(Backend::Sqlite, |config| config.api_token_burst = 1_000).await;
    let ann = app.register("Ann").await;
    let (token, _) = make_token(&app, &ann, json!({"name": "Script", "scope": "write"})).await;
    let document: Value = serde_json::from_str(api::openapi::document_json()).unwrap();
    let mut person_only = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let security = &operation["security"];
            if security == &json!([]) {
                continue;
            }
            let concrete = concrete_path(path);
            let method: Method = method.to_uppercase().parse().unwrap();
            let body = operation.get("requestBody").map(|_| json!({}));
            let response = with_token(&app, method.clone(), &concrete, &token, body).await;
            let refused = response.status.as_u16() == 403
                && response.body["error"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("signed-in person"));
            let documented = security == &json!([{"session": []}]);
            assert_eq!(
                refused, documented,
                "{method} {path}: documented as needing a person: {documented}; answered \
                 {} {}",
                response.status, response.body
            );
            if documented {
                person_only.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        person_only.contains(&"POST /api/v1/tokens".to_string())
            && person_only.contains(&"POST /api/v1/households/{hid}/invites".to_string()),
        "{person_only:?}"
    );
}

/// The docs page and its viewer come from this server, the page under a policy that lets it
/// load nothing from anywhere else, the viewer gzipped and cached for good.
#[tokio::test]
async fn the_docs_page_and_its_viewer_come_from_this_server() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.request(Method::GET, "/api/docs", None, None, &[]).await;
    page.assert_status(200);
    assert!(
        page.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    for directive in [
        "default-src 'none'",
        "script-src 'self';",
        "connect-src 'self';",
        "img-src 'self' data:;",
        "font-src 'self';",
    ] {
        assert!(policy.contains(directive), "{directive} is not in {policy}");
    }
    let html = page.body.as_str().unwrap();
    let script = html
        .split("src=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|src| src.contains("redoc"))
        .unwrap()
        .to_string();
    assert!(script.starts_with("/api/docs/redoc-"), "{script}");

    let request = Request::get(&script)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    let gzipped = response.into_body().collect().await.unwrap().to_bytes();
    let mut source = String::new();
    flate2::read::GzDecoder::new(&gzipped[..])
        .read_to_string(&mut source)
        .unwrap();
    assert!(
        source.starts_with(
            "/*! For license information please see redoc.standalone.js.LICENSE.txt */"
        )
    );
    assert!(!source.contains("https://cdn.redoc.ly"));

    // Without gzip, the same file as it is.
    let plain = app.request(Method::GET, &script, None, None, &[]).await;
    plain.assert_status(200);
    assert!(plain.headers.get(header::CONTENT_ENCODING).is_none());
    assert_eq!(plain.body.as_str().unwrap(), source);
}

//! The OpenAPI document: the copy committed as `api/openapi.json` is the one the code
//! generates, and the server serves it.

use axum::http::StatusCode;

use crate::helpers::{Backend, spawn_app};

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

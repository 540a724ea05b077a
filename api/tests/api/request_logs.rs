//! What the request log keeps: invitation codes are secrets that let anyone join a
//! household, so they never reach it.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::http::Method;
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing_subscriber::fmt::MakeWriter;

use crate::helpers::{Backend, spawn_app};

/// Log output collected in memory.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitation_codes_stay_out_of_the_request_log() {
    let app = spawn_app(Backend::Sqlite).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "editor"}))
        .await;
    invite.assert_status(201);
    let code = invite.body["code"].as_str().unwrap().to_string();

    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    async {
        app.request(
            Method::GET,
            &format!("/api/v1/invites/{code}"),
            None,
            None,
            &[],
        )
        .await
        .assert_status(200);
        app.post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
            .await
            .assert_status(200);
        // The web app's page for the link, when the server serves it.
        app.request(Method::GET, &format!("/invite/{code}"), None, None, &[])
            .await
            .assert_status(200);
    }
    .with_subscriber(subscriber)
    .await;

    let text = log.text();
    assert!(
        text.contains("/api/v1/invites/…/accept") && text.contains("/invite/…"),
        "the requests were logged:\n{text}"
    );
    assert!(
        !text.contains(&code),
        "the invitation code reached the log:\n{text}"
    );
}

//! Decompression work against the real server process, its memory measured by the kernel:
//! a 49-megapixel PNG of one colour is small on disk (under a megabyte) but 147 MB
//! once decoded. Completing one upload of it 30 times at once, or completing many such
//! uploads at once, must not decode more than a few of them together.

#![cfg(target_os = "linux")]

use std::process::Stdio;
use std::time::Duration;

use futures_util::future::join_all;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{ExtendedColorType, ImageEncoder as _};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

/// 7000 × 7000: 49 megapixels, inside the 50 accepted.
const EDGE: u32 = 7_000;
/// One decode of it: 7000 × 7000 pixels × 3 bytes.
const DECODED_BYTES: u64 = EDGE as u64 * EDGE as u64 * 3;
/// The most the server may ever have held. Two decodes at a time (`MAX_IMAGE_DECODES`'s
/// default) are 294 MB, and the server itself takes a few tens of megabytes; 768 MiB
/// leaves room for the allocator. Before the fix, 30 completions decoded 30 copies at once
/// (4.4 GB), and 8 uploads completed together 8 copies (1.2 GB).
const PEAK_LIMIT: u64 = 768 * 1024 * 1024;

/// The server binary, running on a SQLite database and a folder of its own; killed when
/// dropped.
struct Server {
    child: Child,
    base: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_home-inventory-backend"))
            .arg("serve")
            .env_clear()
            .env("DATA_DIR", dir.path())
            .env(
                "DATABASE_URL",
                format!("sqlite:{}", dir.path().join("inventory.db").display()),
            )
            .env("BIND", "127.0.0.1:0")
            .env("STATIC_DIR", dir.path().join("no-web-build"))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        // Its log says where it listens; the rest of the log is read and dropped, so the
        // server never blocks on a full pipe.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("the server logs where it listens before its log ends");
            if let Some(at) = line.find("listening on http://") {
                let url = &line[at + "listening on ".len()..];
                break url
                    .split(|c: char| c.is_whitespace() || c == '\x1b')
                    .next()
                    .unwrap()
                    .to_string();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            child,
            base,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap(),
            _dir: dir,
        }
    }

    /// The most memory the process has held so far (`VmHWM`), in bytes.
    fn peak_memory(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM in /proc/<pid>/status");
        kb * 1024
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("cookie", format!("hi_session={session}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Registers someone; their session and household.
    async fn register(&self) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/api/v1/auth/register", self.base))
            .json(&json!({"email": "ann@example.com", "password": "correct horse", "name": "Ann"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let session = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("hi_session="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_string();
        let (_, me) = self
            .call(reqwest::Method::GET, "/api/v1/me", &session, None)
            .await;
        let household = me["households"][0]["id"].as_str().unwrap().to_string();
        (session, household)
    }

    /// Announces `bytes` as a PNG photo of `item` and uploads them; the attachment's id.
    async fn upload(&self, session: &str, items: &str, bytes: &[u8]) -> String {
        let (status, announced) = self
            .call(
                reqwest::Method::POST,
                &format!("{items}/attachments"),
                session,
                Some(json!({"kind": "photo", "filename": "canvas.png",
                            "content_type": "image/png", "size": bytes.len()})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{announced}");
        let target = &announced["upload"];
        let mut put = self
            .http
            .put(target["url"].as_str().unwrap())
            .body(bytes.to_vec());
        for (name, value) in target["headers"].as_object().unwrap() {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
        let sent = put.send().await.unwrap();
        assert!(sent.status().is_success(), "upload: {}", sent.status());
        announced["id"].as_str().unwrap().to_string()
    }
}

/// A one-colour PNG of `EDGE` × `EDGE` pixels.
fn large_png() -> Vec<u8> {
    let pixels = image::RgbImage::from_pixel(EDGE, EDGE, image::Rgb([30, 160, 60]));
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(pixels.as_raw(), EDGE, EDGE, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_file_of_many_pixels_completed_at_once_stays_within_memory() {
    let png = large_png();
    assert!(
        (png.len() as u64) < DECODED_BYTES / 100,
        "{} bytes on disk",
        png.len()
    );
    let mut server = Server::start().await;
    let (session, household) = server.register().await;
    let (status, item) = server
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/households/{household}/items"),
            &session,
            Some(json!({"name": "Canvas"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let items = format!(
        "/api/v1/households/{household}/items/{}",
        item["id"].as_str().unwrap()
    );

    // One upload, completed 30 times at once.
    let id = server.upload(&session, &items, &png).await;
    let complete = format!("{items}/attachments/{id}/complete");
    let answers =
        join_all((0..30).map(|_| server.call(reqwest::Method::POST, &complete, &session, None)))
            .await;
    let mut ready = 0;
    let mut turned_away = 0;
    for (status, body) in &answers {
        match *status {
            StatusCode::OK => {
                ready += 1;
                assert_eq!(
                    (body["id"].as_str(), &body["status"]),
                    (Some(id.as_str()), &json!("ready"))
                );
                assert_eq!(body["width"], EDGE);
            }
            StatusCode::CONFLICT => {
                turned_away += 1;
                assert_eq!(
                    body["error"]["message"],
                    "This file is being checked; ask again in a moment."
                );
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(
        ready >= 1 && turned_away >= 1,
        "{ready} ready, {turned_away} turned away"
    );
    assert!(server.alive(), "the server survived");
    let peak = server.peak_memory();
    eprintln!(
        "{} bytes on disk; the server's peak: {} MiB",
        png.len(),
        peak >> 20
    );
    assert!(
        peak < PEAK_LIMIT,
        "the server held {} MiB at its peak",
        peak / 1024 / 1024
    );

    // Eight uploads of it, each completed once, all at once: they take turns.
    let mut ids = Vec::new();
    for _ in 0..8 {
        ids.push(server.upload(&session, &items, &png).await);
    }
    let paths: Vec<String> = ids
        .iter()
        .map(|id| format!("{items}/attachments/{id}/complete"))
        .collect();
    let answers = join_all(
        paths
            .iter()
            .map(|path| server.call(reqwest::Method::POST, path, &session, None)),
    )
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "ready");
    }
    assert!(server.alive(), "the server survived");
    let peak = server.peak_memory();
    eprintln!(
        "{} bytes on disk; the server's peak: {} MiB",
        png.len(),
        peak >> 20
    );
    assert!(
        peak < PEAK_LIMIT,
        "the server held {} MiB at its peak",
        peak / 1024 / 1024
    );
    let health = server
        .http
        .get(format!("{}/api/health", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

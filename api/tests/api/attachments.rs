//! Photos and documents: announced, uploaded to the signed URL the API hands out, checked
//! at completion. Every test runs on SQLite and PostgreSQL, with the local folder and with
//! S3 (a real S3-compatible server, moto, on loopback).

use std::io::Cursor;
use std::sync::Arc;

use api::blob::s3::S3Blobs;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{Backend, Person, TestApp, TestDb, postgres_available};

/// Generates one test per database and attachment store for each body.
macro_rules! on_every_store {
    ($($name:ident),* $(,)?) => {
        mod sqlite_folder {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = super::Files::start(
                        $crate::helpers::Backend::Sqlite, super::Place::Folder, super::LIMIT).await;
                    super::$name(app.unwrap()).await
                }
            )*
        }
        mod postgres_folder {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::Files::start(
                        $crate::helpers::Backend::Postgres, super::Place::Folder, super::LIMIT).await {
                        super::$name(app).await
                    }
                }
            )*
        }
        mod sqlite_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::Files::start(
                        $crate::helpers::Backend::Sqlite, super::Place::S3, super::LIMIT).await {
                        super::$name(app).await
                    }
                }
            )*
        }
        mod postgres_s3 {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = super::Files::start(
                        $crate::helpers::Backend::Postgres, super::Place::S3, super::LIMIT).await {
                        super::$name(app).await
                    }
                }
            )*
        }
    };
}
pub(crate) use on_every_store;

on_every_store!(
    a_photo_goes_up_comes_back_upright_and_without_gps,
    a_file_that_is_not_what_it_claims_is_refused_and_forgotten,
    sizes_over_the_limit_or_unlike_the_announcement_are_refused,
    a_decompression_bomb_is_refused_before_decoding,
    receipts_and_manuals_are_documents_listed_after_photos,
    one_photo_is_primary_and_another_takes_over_when_it_goes,
    trashing_keeps_files_and_purging_deletes_them,
    announcements_are_checked_field_by_field,
    viewers_look_and_strangers_see_nothing,
    announcing_twice_with_an_id_makes_one_attachment,
    unfiled_photos_are_filed_into_items_and_moved_between_them,
);

/// The largest upload these tests allow (kept small so "too big" is quick to make).
pub const LIMIT: u64 = 200_000;
const PUBLIC_URL: &str = "http://127.0.0.1:8080";

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place {
    Folder,
    S3,
}

pub struct Files {
    pub app: TestApp,
    /// The attachment store the app keeps files in (for work outside requests).
    pub blobs: api::blob::DynBlobs,
    http: reqwest::Client,
    place: Place,
}

impl Files {
    /// An app on `backend` keeping attachments in `place`; `None` when that can't run here
    /// (and under CI that fails instead).
    pub async fn start(backend: Backend, place: Place, limit: u64) -> Option<Files> {
        Self::start_with(backend, place, limit, |_| {}).await
    }

    /// The same, with more configuration.
    pub async fn start_with(
        backend: Backend,
        place: Place,
        limit: u64,
        configure: impl FnOnce(&mut api::Config),
    ) -> Option<Files> {
        if backend == Backend::Postgres && !postgres_available().await {
            return None;
        }
        let s3 = match place {
            Place::Folder => None,
            Place::S3 => Some(moto::bucket().await?),
        };
        let db = TestDb::new(backend).await;
        let store = db.store().await;
        let app = TestApp::on(db, store, |config| {
            config.max_upload_bytes = limit;
            config.public_url = PUBLIC_URL.into();
            configure(config);
        });
        let (app, blobs): (TestApp, api::blob::DynBlobs) = match s3 {
            None => {
                let folder = api::blob::local::LocalBlobs::open(
                    app.config.data_dir.join("attachments"),
                    PUBLIC_URL,
                )
                .unwrap();
                (app, Arc::new(folder))
            }
            Some(settings) => {
                let blobs: api::blob::DynBlobs = Arc::new(S3Blobs::new(settings));
                (app.with_blobs(blobs.clone()), blobs)
            }
        };
        Some(Files {
            app,
            blobs,
            http: reqwest::Client::new(),
            place,
        })
    }

    /// Sends a request to a URL the API handed out: its own (local files) or S3's.
    pub async fn fetch(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (StatusCode, Vec<u8>, Option<String>) {
        let (status, answered, bytes) = self.fetch_with_headers(method, url, headers, body).await;
        let cache = answered
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_string());
        (status, bytes, cache)
    }

    /// The same, with every header of the answer.
    async fn fetch_with_headers(
        &self,
        method: Method,
        url: &str,
        headers: &[(String, String)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Vec<u8>) {
        if let Some(path) = url.strip_prefix(PUBLIC_URL) {
            let mut request = Request::builder().method(method).uri(path);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request = request.header("content-length", body.len().to_string());
            let response = self
                .app
                .router
                .clone()
                .oneshot(request.body(Body::from(body)).unwrap())
                .await
                .unwrap();
            let (status, answered) = (response.status(), response.headers().clone());
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            (status, answered, bytes.to_vec())
        } else {
            assert_eq!(self.place, Place::S3, "a URL outside the API: {url}");
            let method = reqwest::Method::from_bytes(method.as_str().as_bytes()).unwrap();
            let mut request = self.http.request(method, url).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
            let mut answered = HeaderMap::new();
            for (name, value) in response.headers() {
                answered.append(
                    HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
                    HeaderValue::from_bytes(value.as_bytes()).unwrap(),
                );
            }
            (status, answered, response.bytes().await.unwrap().to_vec())
        }
    }

    /// The file behind `url` no longer exists: 404, or from S3 403 (S3 says 403 for a
    /// missing key to whoever may not list the bucket).
    async fn assert_gone(&self, url: &str) {
        let (status, _) = self.download(url).await;
        match self.place {
            Place::Folder => assert_eq!(status, StatusCode::NOT_FOUND, "{url}"),
            Place::S3 => assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::FORBIDDEN,
                "{status} {url}"
            ),
        }
    }

    pub async fn download(&self, url: &str) -> (StatusCode, Vec<u8>) {
        let (status, bytes, _) = self.fetch(Method::GET, url, &[], Vec::new()).await;
        (status, bytes)
    }

    /// Downloads `url` as a browser would: the status, the answer's headers and the bytes.
    pub async fn download_with_headers(&self, url: &str) -> (StatusCode, HeaderMap, Vec<u8>) {
        self.fetch_with_headers(Method::GET, url, &[], Vec::new())
            .await
    }

    /// Whether the attachments are kept in S3 (else in the local folder).
    pub fn on_s3(&self) -> bool {
        self.place == Place::S3
    }

    /// Announces a file: the answer to `POST …/attachments`.
    async fn announce(
        &self,
        who: &Person,
        item: &str,
        body: Value,
    ) -> crate::helpers::TestResponse {
        self.app
            .post(
                self.app.at(who, &format!("/items/{item}/attachments")),
                who,
                body,
            )
            .await
    }

    /// Announces, uploads and completes a file; the answer to the completion.
    pub async fn attach(
        &self,
        who: &Person,
        item: &str,
        kind: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> crate::helpers::TestResponse {
        let base = self.app.at(who, &format!("/items/{item}/attachments"));
        self.send_file(who, &base, kind, name, content_type, bytes)
            .await
    }

    /// Announces, uploads and completes a photo that belongs to no item yet.
    pub async fn attach_unfiled(
        &self,
        who: &Person,
        bytes: Vec<u8>,
    ) -> crate::helpers::TestResponse {
        let base = self.app.at(who, "/attachments");
        self.send_file(who, &base, "photo", "capture.jpg", "image/jpeg", bytes)
            .await
    }

    async fn send_file(
        &self,
        who: &Person,
        base: &str,
        kind: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> crate::helpers::TestResponse {
        let announced = self
            .app
            .post(
                base,
                who,
                json!({"kind": kind, "filename": name, "content_type": content_type,
                       "size": bytes.len()}),
            )
            .await;
        assert_eq!(announced.status, StatusCode::CREATED, "{}", announced.body);
        let upload = &announced.body["upload"];
        assert_eq!(upload["method"], "PUT");
        let headers: Vec<(String, String)> = upload["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let (status, body, _) = self
            .fetch(
                Method::PUT,
                upload["url"].as_str().unwrap(),
                &headers,
                bytes,
            )
            .await;
        assert!(
            status.is_success(),
            "upload: {status} {}",
            String::from_utf8_lossy(&body)
        );
        let id = announced.body["id"].as_str().unwrap();
        self.app
            .post(format!("{base}/{id}/complete"), who, Value::Null)
            .await
    }

    /// Announces a file without uploading it; its id.
    pub async fn announce_for_tests(&self, who: &Person, item: &str, body: Value) -> String {
        let response = self.announce(who, item, body).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
        response.body["id"].as_str().unwrap().to_string()
    }

    async fn list(&self, who: &Person, item: &str) -> Vec<Value> {
        let response = self
            .app
            .get(self.app.at(who, &format!("/items/{item}/attachments")), who)
            .await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        response.body["items"].as_array().unwrap().clone()
    }

    pub async fn item(&self, who: &Person, name: &str) -> String {
        let created = self.app.create_item(who, json!({"name": name})).await;
        created.body["id"].as_str().unwrap().to_string()
    }
}

/// The S3-compatible server: moto's server mode, started once for the whole test binary.
pub(crate) mod moto {
    use std::net::TcpListener;
    use std::process::{Command, Stdio};
    use std::sync::OnceLock;
    use std::time::Duration;

    use api::blob::s3::S3Settings;
    use aws_credential_types::Credentials;

    static ENDPOINT: OnceLock<Option<String>> = OnceLock::new();

    fn server_path() -> Option<std::path::PathBuf> {
        if let Some(path) = std::env::var_os("MOTO_SERVER") {
            return Some(path.into());
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/tools/moto/bin/moto_server");
        path.exists().then_some(path)
    }

    fn start() -> Option<String> {
        let Some(path) = server_path() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI expects moto_server (cargo xtask test installs it)"
            );
            eprintln!("moto_server is not installed; skipping the S3 runs");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // The shell stops the server when this process ends and its stdin closes.
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & pid=$!; read _; kill $pid"
            ))
            .arg(&path)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map(std::mem::forget)
            .expect("starting moto_server");
        let endpoint = format!("http://127.0.0.1:{port}");
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Some(endpoint);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not start on port {port}");
    }

    /// The server's address; `None` when moto is not installed (outside CI).
    pub async fn endpoint() -> Option<String> {
        tokio::task::spawn_blocking(|| ENDPOINT.get_or_init(start).clone())
            .await
            .unwrap()
    }

    /// A new, empty bucket on the server.
    pub async fn bucket() -> Option<S3Settings> {
        let endpoint = endpoint().await?;
        let bucket = format!("photos-{}", uuid::Uuid::new_v4().simple());
        let response = reqwest::Client::new()
            .put(format!("{endpoint}/{bucket}"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "making a bucket");
        Some(S3Settings {
            bucket,
            region: "us-east-1".into(),
            endpoint: Some(endpoint),
            force_path_style: true,
            credentials: Credentials::new("testing", "testing", None, None, "tests"),
        })
    }
}

// ------------------------------------------------------------------ files made for the tests

/// A JPEG of `w` × `h` whose left half is red and right half blue, with an EXIF block
/// carrying `orientation`, a description and a GPS position.
pub fn jpeg_with_exif(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let image = image::RgbImage::from_fn(w, h, |x, _| {
        if x < w / 2 {
            image::Rgb([220, 20, 20])
        } else {
            image::Rgb([20, 20, 220])
        }
    });
    let mut plain = Vec::new();
    image
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut plain, 95,
        ))
        .unwrap();
    let description = b"Spare key under the shed, 51.5007N 0.1246W\0";
    // TIFF, little-endian: IFD0 with orientation, description and the GPS pointer; then
    // the GPS IFD with a latitude reference; then the description's text.
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let ifd0_len = 2 + 3 * 12 + 4;
    let gps_at = 8 + ifd0_len;
    let gps_len = 2 + 12 + 4;
    let text_at = gps_at + gps_len;
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    tiff.extend_from_slice(&3u16.to_le_bytes());
    let o = orientation.to_le_bytes();
    entry(
        &mut tiff,
        0x010E,
        2,
        description.len() as u32,
        (text_at as u32).to_le_bytes(),
    );
    entry(&mut tiff, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut tiff, 0x8825, 4, 1, (gps_at as u32).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(description);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::from_pixel(w, h, image::Rgb([30, 160, 60]));
    let mut out = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// A real, tiny PNG whose header claims `w` × `h` pixels.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = png(1, 1);
    // IHDR's data starts at byte 16; its CRC covers the type and data (bytes 12..29).
    bytes[16..20].copy_from_slice(&w.to_be_bytes());
    bytes[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    bytes
}

pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ------------------------------------------------------------------ the tests

async fn a_photo_goes_up_comes_back_upright_and_without_gps(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Bicycle").await;
    // Taken with the phone turned: 60 × 30 stored, to be shown 30 × 60.
    let photo = jpeg_with_exif(60, 30, 6);
    assert!(contains(&photo, b"Spare key under the shed"));
    let done = files
        .attach(&ann, &item, "photo", "IMG_0001.JPG", "image/jpeg", photo)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let a = &done.body;
    assert_eq!(a["status"], "ready");
    assert_eq!(
        (a["width"].as_i64(), a["height"].as_i64()),
        (Some(30), Some(60))
    );
    assert_eq!(a["primary"], true, "the first photo is the primary one");
    assert_eq!(a["filename"], "IMG_0001.JPG");

    let (status, served) = files.download(a["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["size"].as_u64(), Some(served.len() as u64));
    assert!(
        !contains(&served, b"Spare key under the shed"),
        "EXIF text is removed"
    );
    assert!(!contains(&served, b"Exif\0\0"), "no EXIF block is served");
    let upright = image::load_from_memory(&served).unwrap().to_rgb8();
    assert_eq!((upright.width(), upright.height()), (30, 60));
    // Turned clockwise: the red left half is now on top.
    assert!(upright.get_pixel(15, 5)[0] > 150 && upright.get_pixel(15, 55)[2] > 150);

    let (status, thumb) = files.download(a["thumbnail_url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let thumb = image::load_from_memory(&thumb).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (30, 60));

    // The item, in lists and on its own, shows the thumbnail.
    let one = app.get(app.at(&ann, &format!("/items/{item}")), &ann).await;
    assert_eq!(one.body["thumbnail_url"], a["thumbnail_url"]);
    let list = app.get(app.at(&ann, "/items"), &ann).await;
    assert_eq!(list.body["items"][0]["thumbnail_url"], a["thumbnail_url"]);
    let found = app.get(app.at(&ann, "/items?q=bicy"), &ann).await;
    assert_eq!(found.body["items"][0]["thumbnail_url"], a["thumbnail_url"]);

    // The same photo keeps the same address for a while, so browsers can cache it.
    let again = files.list(&ann, &item).await;
    assert_eq!(again[0]["url"], a["url"]);

    let stats = app.get(app.at(&ann, "/stats"), &ann).await;
    assert_eq!(stats.body["attachment_count"], 1);
    assert!(stats.body["storage_bytes"].as_i64().unwrap() > served.len() as i64);
}

async fn a_file_that_is_not_what_it_claims_is_refused_and_forgotten(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Camera").await;
    let kept = files
        .attach(&ann, &item, "photo", "front.png", "image/png", png(8, 8))
        .await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);

    let text = b"just some text, certainly not a picture".to_vec();
    let refused = files
        .attach(&ann, &item, "photo", "notes.jpg", "image/jpeg", text)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        refused.body
    );
    assert_eq!(refused.body["error"]["code"], "unsupported_media_type");
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a JPEG"),
        "{}",
        refused.body
    );
    // A PNG announced as a JPEG is named for what it is.
    let mislabelled = files
        .attach(&ann, &item, "photo", "a.jpg", "image/jpeg", png(4, 4))
        .await;
    assert_eq!(mislabelled.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        mislabelled.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("PNG")
    );

    // Only the good photo is left, still primary; the item is untouched.
    let left = files.list(&ann, &item).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], kept.body["id"]);
    assert_eq!(left[0]["primary"], true);
    let one = app.get(app.at(&ann, &format!("/items/{item}")), &ann).await;
    assert_eq!(
        (one.body["name"].as_str(), one.body["version"].as_i64()),
        (Some("Camera"), Some(1))
    );
    // A type nobody accepts is refused when announced.
    let exe = files
        .announce(&ann, &item, json!({"filename": "setup.exe", "content_type": "application/x-msdownload", "size": 10}))
        .await;
    assert_eq!(exe.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

async fn sizes_over_the_limit_or_unlike_the_announcement_are_refused(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Sofa").await;
    let big = files
        .announce(
            &ann,
            &item,
            json!({"filename": "big.jpg", "content_type": "image/jpeg", "size": LIMIT + 1}),
        )
        .await;
    assert_eq!(big.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", big.body);
    assert!(
        big.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("largest accepted")
    );

    // Announced small, sent bigger: the signed URL refuses it (S3 signs the length;
    // the local URL checks it), and completion finds nothing, or the wrong size.
    let photo = png(20, 20);
    let announced = files
        .announce(
            &ann,
            &item,
            json!({"filename": "p.png", "content_type": "image/png", "size": photo.len() - 10}),
        )
        .await;
    assert_eq!(announced.status, StatusCode::CREATED);
    let upload = &announced.body["upload"];
    let headers: Vec<(String, String)> = upload["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();
    let (status, _, _) = files
        .fetch(
            Method::PUT,
            upload["url"].as_str().unwrap(),
            &headers,
            photo.clone(),
        )
        .await;
    let id = announced.body["id"].as_str().unwrap();
    let complete = app
        .post(
            app.at(&ann, &format!("/items/{item}/attachments/{id}/complete")),
            &ann,
            Value::Null,
        )
        .await;
    if status.is_success() {
        // A server that doesn't enforce the signed length: completion catches it.
        assert_eq!(
            complete.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            complete.body
        );
        assert!(
            complete.body["error"]["details"]["size"]
                .as_str()
                .unwrap()
                .contains("announced")
        );
    } else {
        assert_eq!(complete.status, StatusCode::CONFLICT, "{}", complete.body);
        assert!(
            complete.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("hasn't arrived")
        );
    }
    assert!(files.list(&ann, &item).await.is_empty());
}

async fn a_decompression_bomb_is_refused_before_decoding(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Poster").await;
    let bomb = png_claiming(60_000, 60_000);
    assert!(bomb.len() < 100);
    let refused = files
        .attach(&ann, &item, "photo", "poster.png", "image/png", bomb)
        .await;
    assert_eq!(
        refused.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        refused.body
    );
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("megapixels"),
        "{}",
        refused.body
    );
    assert!(files.list(&ann, &item).await.is_empty());
}

async fn receipts_and_manuals_are_documents_listed_after_photos(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Dishwasher").await;
    let as_photo = files
        .announce(&ann, &item, json!({"kind": "photo", "filename": "r.pdf", "content_type": "application/pdf", "size": PDF.len()}))
        .await;
    assert_eq!(as_photo.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let receipt = files
        .attach(
            &ann,
            &item,
            "receipt",
            "receipt.pdf",
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(receipt.status, StatusCode::OK, "{}", receipt.body);
    assert_eq!(receipt.body["kind"], "receipt");
    assert_eq!(receipt.body["primary"], false);
    assert!(receipt.body["thumbnail_url"].is_null());
    let photo = files
        .attach(&ann, &item, "photo", "front.png", "image/png", png(10, 10))
        .await;
    assert_eq!(photo.status, StatusCode::OK);
    let manual = files
        .attach(
            &ann,
            &item,
            "manual",
            "Manual — EN.pdf",
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    assert_eq!(manual.status, StatusCode::OK);

    let list = files.list(&ann, &item).await;
    let kinds: Vec<&str> = list.iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["photo", "receipt", "manual"]);
    let (status, served) = files.download(receipt.body["url"].as_str().unwrap()).await;
    assert_eq!((status, served.as_slice()), (StatusCode::OK, PDF));

    // A document can be renamed or filed as another kind, but never made a photo.
    let path = app.at(
        &ann,
        &format!(
            "/items/{item}/attachments/{}",
            manual.body["id"].as_str().unwrap()
        ),
    );
    let changed = app
        .patch(
            path.clone(),
            &ann,
            json!({"kind": "warranty", "filename": "Warranty.pdf"}),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        (
            changed.body["kind"].as_str(),
            changed.body["filename"].as_str()
        ),
        (Some("warranty"), Some("Warranty.pdf"))
    );
    let wrong = app
        .patch(path, &ann, json!({"kind": "photo", "primary": true}))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body["error"]["details"]["kind"].is_string());
}

async fn one_photo_is_primary_and_another_takes_over_when_it_goes(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Guitar").await;
    let first = files
        .attach(&ann, &item, "photo", "1.png", "image/png", png(10, 10))
        .await;
    let second = files
        .attach(&ann, &item, "photo", "2.png", "image/png", png(12, 10))
        .await;
    assert_eq!(
        (
            first.body["primary"].as_bool(),
            second.body["primary"].as_bool()
        ),
        (Some(true), Some(false))
    );
    let second_id = second.body["id"].as_str().unwrap();
    let made = app
        .patch(
            app.at(&ann, &format!("/items/{item}/attachments/{second_id}")),
            &ann,
            json!({"primary": true}),
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let list = files.list(&ann, &item).await;
    assert_eq!(list[0]["id"], second_id, "the primary photo comes first");
    assert_eq!(list.iter().filter(|a| a["primary"] == true).count(), 1);
    let one = app.get(app.at(&ann, &format!("/items/{item}")), &ann).await;
    assert_eq!(one.body["thumbnail_url"], made.body["thumbnail_url"]);

    let deleted = app
        .delete(
            app.at(&ann, &format!("/items/{item}/attachments/{second_id}")),
            &ann,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    files.assert_gone(made.body["url"].as_str().unwrap()).await;
    let list = files.list(&ann, &item).await;
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0]["id"].clone(), list[0]["primary"].as_bool()),
        (first.body["id"].clone(), Some(true))
    );
    let again = app
        .delete(
            app.at(&ann, &format!("/items/{item}/attachments/{second_id}")),
            &ann,
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

async fn trashing_keeps_files_and_purging_deletes_them(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Lamp").await;
    let photo = files
        .attach(&ann, &item, "photo", "lamp.png", "image/png", png(16, 16))
        .await;
    let url = photo.body["url"].as_str().unwrap().to_string();
    let deleted = app
        .delete(app.at(&ann, &format!("/items/{item}")), &ann)
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let trash = app.get(app.at(&ann, "/trash"), &ann).await;
    assert_eq!(
        trash.body["items"][0]["thumbnail_url"],
        photo.body["thumbnail_url"]
    );
    assert_eq!(
        files.download(&url).await.0,
        StatusCode::OK,
        "trash keeps the files"
    );
    // Restored, it has its photo again.
    let restored = app
        .post(
            app.at(&ann, &format!("/items/{item}/restore")),
            &ann,
            Value::Null,
        )
        .await;
    assert_eq!(restored.body["thumbnail_url"], photo.body["thumbnail_url"]);
    assert_eq!(files.list(&ann, &item).await.len(), 1);

    app.delete(app.at(&ann, &format!("/items/{item}")), &ann)
        .await;
    let emptied = app.delete(app.at(&ann, "/trash"), &ann).await;
    assert_eq!(emptied.status, StatusCode::NO_CONTENT);
    files.assert_gone(&url).await;
    files
        .assert_gone(photo.body["thumbnail_url"].as_str().unwrap())
        .await;
    let stats = app.get(app.at(&ann, "/stats"), &ann).await;
    assert_eq!(
        (
            stats.body["attachment_count"].as_i64(),
            stats.body["storage_bytes"].as_i64()
        ),
        (Some(0), Some(0))
    );
}

async fn announcements_are_checked_field_by_field(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Desk").await;
    let bad = files
        .announce(
            &ann,
            &item,
            json!({"kind": "selfie", "filename": "  ", "size": -5}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let details = &bad.body["error"]["details"];
    for field in ["kind", "filename", "content_type", "size"] {
        assert!(details[field].is_string(), "{field}: {}", bad.body);
    }
    let malformed = app
        .request(
            Method::POST,
            &app.at(&ann, &format!("/items/{item}/attachments")),
            Some(&ann.token),
            None,
            &[("content-type", "application/json")],
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    // Folders in a name are dropped; the rest is kept as given.
    let named = files
        .announce(&ann, &item, json!({"filename": "C:\\Users\\ann\\Pictures\\desk (1).jpg", "content_type": "image/jpeg", "size": 10}))
        .await;
    assert_eq!(named.body["filename"], "desk (1).jpg");
    // Completing before uploading says what to do, and keeps the announcement.
    let id = named.body["id"].as_str().unwrap();
    let early = app
        .post(
            app.at(&ann, &format!("/items/{item}/attachments/{id}/complete")),
            &ann,
            Value::Null,
        )
        .await;
    assert_eq!(early.status, StatusCode::CONFLICT);
    let still = app
        .get(
            app.at(&ann, &format!("/items/{item}/attachments/{id}")),
            &ann,
        )
        .await;
    assert_eq!(still.body["status"], "pending");
    // A tampered or expired local link is refused.
    if files.place == Place::Folder {
        // Opened from a phone on the home network, the links lead back the same way.
        let from_phone = app
            .request(
                Method::POST,
                &app.at(&ann, &format!("/items/{item}/attachments")),
                Some(&ann.token),
                Some(json!({"filename": "a.png", "content_type": "image/png", "size": 10})),
                &[("host", "192.168.1.20:8080")],
            )
            .await;
        let url = from_phone.body["upload"]["url"].as_str().unwrap();
        assert!(
            url.starts_with("http://192.168.1.20:8080/api/v1/blobs/uploads/"),
            "{url}"
        );
        assert!(
            named.body["upload"]["url"]
                .as_str()
                .unwrap()
                .starts_with(PUBLIC_URL)
        );
        let url = named.body["upload"]["url"]
            .as_str()
            .unwrap()
            .replace("size=10", "size=11");
        let (status, body, _) = files
            .fetch(
                Method::PUT,
                &url,
                &[("content-type".into(), "image/jpeg".into())],
                vec![0; 11],
            )
            .await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "{}",
            String::from_utf8_lossy(&body)
        );
    }
}

async fn viewers_look_and_strangers_see_nothing(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Piano").await;
    let photo = files
        .attach(&ann, &item, "photo", "piano.png", "image/png", png(10, 10))
        .await;
    let id = photo.body["id"].as_str().unwrap();
    // A viewer joins through an invitation.
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let code = invite.body["code"].as_str().unwrap();
    let vic = app.register("Vic").await;
    let joined = app
        .post(format!("/api/v1/invites/{code}/accept"), &vic, Value::Null)
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.body);
    let as_viewer = |rest: &str| format!("/api/v1/households/{}{rest}", ann.household);
    let seen = app
        .get(as_viewer(&format!("/items/{item}/attachments")), &vic)
        .await;
    assert_eq!(seen.body["items"][0]["id"], id);
    let add = app
        .post(
            as_viewer(&format!("/items/{item}/attachments")),
            &vic,
            json!({"filename": "x.png", "content_type": "image/png", "size": 10}),
        )
        .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN);
    let remove = app
        .delete(as_viewer(&format!("/items/{item}/attachments/{id}")), &vic)
        .await;
    assert_eq!(remove.status, StatusCode::FORBIDDEN);

    let eve = app.register("Eve").await;
    for (method, path) in [
        (Method::GET, format!("/items/{item}/attachments")),
        (Method::GET, format!("/items/{item}/attachments/{id}")),
        (Method::DELETE, format!("/items/{item}/attachments/{id}")),
        (
            Method::POST,
            format!("/items/{item}/attachments/{id}/complete"),
        ),
    ] {
        let response = app
            .request(
                method.clone(),
                &as_viewer(&path),
                Some(&eve.token),
                None,
                &[],
            )
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // Someone else's item id in Eve's own household: not found either.
    let theirs = app
        .post(
            app.at(&eve, &format!("/items/{item}/attachments")),
            &eve,
            json!({"filename": "x.png", "content_type": "image/png", "size": 10}),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(files.list(&ann, &item).await.len(), 1);
}

async fn announcing_twice_with_an_id_makes_one_attachment(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Kettle").await;
    let id = uuid::Uuid::now_v7().to_string();
    let body = json!({"id": id, "filename": "k.png", "content_type": "image/png", "size": 10});
    let first = files.announce(&ann, &item, body.clone()).await;
    let second = files.announce(&ann, &item, body).await;
    assert_eq!(
        (first.status, second.status),
        (StatusCode::CREATED, StatusCode::OK)
    );
    assert_eq!(first.body["id"], second.body["id"]);
    assert!(second.body["upload"]["url"].is_string());
    let other = app.register("Bob").await;
    let bob_item = files.item(&other, "Toaster").await;
    let clash = files
        .announce(
            &other,
            &bob_item,
            json!({"id": id, "filename": "k.png", "content_type": "image/png", "size": 10}),
        )
        .await;
    assert_eq!(clash.status, StatusCode::CONFLICT);
}

async fn unfiled_photos_are_filed_into_items_and_moved_between_them(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let shot = files.attach_unfiled(&ann, jpeg_with_exif(40, 30, 1)).await;
    assert_eq!(shot.status, StatusCode::OK, "{}", shot.body);
    assert!(shot.body["item_id"].is_null());
    let id = shot.body["id"].as_str().unwrap().to_string();
    let unfiled = app.get(app.at(&ann, "/attachments"), &ann).await;
    assert_eq!(unfiled.body["items"][0]["id"], id.as_str());

    // Filed into a new item, it becomes that item's photo.
    let drill = files.item(&ann, "Drill").await;
    let filed = app
        .patch(
            app.at(&ann, &format!("/attachments/{id}")),
            &ann,
            json!({"item_id": drill}),
        )
        .await;
    assert_eq!(filed.status, StatusCode::OK, "{}", filed.body);
    assert_eq!(
        (
            filed.body["item_id"].as_str(),
            filed.body["primary"].as_bool()
        ),
        (Some(drill.as_str()), Some(true))
    );
    assert!(
        app.get(app.at(&ann, "/attachments"), &ann).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let item = app
        .get(app.at(&ann, &format!("/items/{drill}")), &ann)
        .await;
    assert_eq!(item.body["thumbnail_url"], filed.body["thumbnail_url"]);

    // Moved to another item that has a photo: it joins, the other keeps its primary, and
    // the drill is left without a picture.
    let saw = files.item(&ann, "Saw").await;
    let saw_photo = files
        .attach(&ann, &saw, "photo", "saw.png", "image/png", png(8, 8))
        .await;
    let moved = app
        .patch(
            app.at(&ann, &format!("/items/{drill}/attachments/{id}")),
            &ann,
            json!({"item_id": saw}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(moved.body["primary"], false);
    let saw_list = files.list(&ann, &saw).await;
    assert_eq!(saw_list.len(), 2);
    assert_eq!(saw_list[0]["id"], saw_photo.body["id"]);
    let item = app
        .get(app.at(&ann, &format!("/items/{drill}")), &ann)
        .await;
    assert!(item.body["thumbnail_url"].is_null());

    // Only live items of the household can receive it.
    let eve = app.register("Eve").await;
    let eves = files.item(&eve, "Eve's").await;
    app.delete(app.at(&ann, &format!("/items/{drill}")), &ann)
        .await;
    for target in [eves, drill] {
        let refused = app
            .patch(
                app.at(&ann, &format!("/attachments/{id}")),
                &ann,
                json!({"item_id": target}),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert!(refused.body["error"]["details"]["item_id"].is_string());
    }
    assert_eq!(files.list(&ann, &saw).await.len(), 2);
    // An unfiled shot can be thrown away.
    let spare = files.attach_unfiled(&ann, jpeg_with_exif(6, 6, 1)).await;
    let gone = app
        .delete(
            app.at(
                &ann,
                &format!("/attachments/{}", spare.body["id"].as_str().unwrap()),
            ),
            &ann,
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    files.assert_gone(spare.body["url"].as_str().unwrap()).await;
}

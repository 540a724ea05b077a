//! The full backup of a household and its restore into a new one, on SQLite and PostgreSQL
//! with the local folder and with S3: a household made through the API comes back whole,
//! and what is not a sound backup is refused before anything is written.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};

use api::blob::{BlobReader, BlobStore, DynBlobs, Upload, UrlWindow};
use api::portability::backup::{BackupSummary, restore_backup, write_backup};
use api::portability::{PortError, Progress};
use async_trait::async_trait;
use serde_json::{Value, json};
use shared::{HouseholdId, UserId};
use time::OffsetDateTime;
use zip::CompressionMethod;
use zip::write::SimpleFileOptions;

use crate::attachments::{Files, LIMIT, Place, jpeg_with_exif, on_every_store};
use crate::helpers::Person;

on_every_store!(
    a_household_comes_back_whole_from_its_backup,
    what_is_not_a_sound_backup_is_refused_and_nothing_is_written,
    a_restore_that_fails_part_way_leaves_nothing_behind,
);

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

/// A household with a bit of everything: nested locations, items live and trashed with
/// tags, custom fields, money and history, a photo and a PDF of an item, and a photo not
/// filed yet.
pub(crate) async fn furnish(files: &Files, who: &Person) {
    let app = &files.app;
    let house = app.create_location(who, "House", None).await;
    let garage = app.create_location(who, "Garage", Some(&house)).await;
    let shelf = app.create_location(who, "Shelf 2", Some(&garage)).await;
    app.create_location(who, "Attic", Some(&house)).await;
    let price = json!({"amount_minor": 12_999, "currency": "USD"});
    let drill = app
        .create_item(
            who,
            json!({"name": "Drill", "location_id": shelf, "tags": ["tools", "Garage"],
                   "brand": "Makita", "serial_number": "SN-1", "purchase_date": "2023-04-01",
                   "purchase_price": price, "estimated_value": price, "quantity": 2,
                   "custom_fields": {"Voltage": "18 V"}, "notes": "Battery in the kitchen"}),
        )
        .await
        .id();
    app.patch(
        app.at(who, &format!("/items/{drill}")),
        who,
        json!({"description": "Cordless"}),
    )
    .await
    .assert_status(200);
    app.create_item(who, json!({"name": "Passport", "tags": ["documents"]}))
        .await;
    let radio = app
        .create_item(who, json!({"name": "Old radio", "location_id": garage}))
        .await
        .id();
    app.delete(app.at(who, &format!("/items/{radio}")), who)
        .await
        .assert_status(204);
    let photo = files
        .attach(
            who,
            &drill,
            "photo",
            "drill.jpg",
            "image/jpeg",
            jpeg_with_exif(64, 48, 1),
        )
        .await;
    photo.assert_status(200);
    files
        .attach(
            who,
            &drill,
            "receipt",
            "Receipt: Makita.pdf",
            "application/pdf",
            PDF.to_vec(),
        )
        .await
        .assert_status(200);
    files
        .attach_unfiled(who, jpeg_with_exif(40, 30, 1))
        .await
        .assert_status(200);
}

fn hid(raw: &str) -> HouseholdId {
    raw.parse().unwrap()
}

fn uid(who: &Person) -> UserId {
    who.user_id.parse().unwrap()
}

pub(crate) async fn new_household(files: &Files, who: &Person, currency: &str) -> Person {
    let made = files
        .app
        .post(
            "/api/v1/households",
            who,
            json!({"name": "Restored", "currency": currency}),
        )
        .await;
    made.assert_status(201);
    Person {
        household: made.id(),
        ..who.clone()
    }
}

async fn backup(files: &Files, household: &str, out: &Path) -> BackupSummary {
    let progress = Progress::default();
    let summary = write_backup(
        &files.app.store,
        &files.blobs,
        hid(household),
        out,
        &progress,
    )
    .await
    .unwrap();
    let (done, total) = progress.get();
    assert_eq!(done, total, "progress ends complete");
    summary
}

async fn restore_with(
    files: &Files,
    blobs: &DynBlobs,
    who: &Person,
    zip: &Path,
) -> Result<BackupSummary, PortError> {
    let progress = Progress::default();
    restore_backup(
        &files.app.store,
        blobs,
        hid(&who.household),
        uid(who),
        zip,
        &progress,
    )
    .await
}

/// Every record of a backup with what must change in a restore (ids, `updated_at`) left out
/// and references given as names, plus each file's SHA-256 by item and file name.
#[derive(Debug, PartialEq)]
struct Contents {
    currency: Value,
    locations: Vec<Value>,
    items: Vec<Value>,
    attachments: Vec<Value>,
    activity: Vec<Value>,
}

fn read_backup(path: &Path) -> Contents {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = |name: &str| {
        let mut out = String::new();
        zip.by_name(name).unwrap().read_to_string(&mut out).unwrap();
        out
    };
    let manifest: Value = serde_json::from_str(&text("manifest.json")).unwrap();
    let lines = |raw: String| -> Vec<Value> {
        raw.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let locations = lines(text("locations.jsonl"));
    let items = lines(text("items.jsonl"));
    let attachments = lines(text("attachments.jsonl"));
    let activity = lines(text("activity.jsonl"));
    assert_eq!(manifest["format"], "home-inventory-backup");
    assert_eq!(manifest["version"], 1);
    let sha: HashMap<String, Value> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap().to_string(), e["sha256"].clone()))
        .collect();

    let parents: HashMap<String, (String, Value)> = locations
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                (
                    l["name"].as_str().unwrap().to_string(),
                    l["parent_id"].clone(),
                ),
            )
        })
        .collect();
    let path_of = |id: &Value| -> Value {
        let mut names = Vec::new();
        let mut at = id.clone();
        while let Some(key) = at.as_str() {
            let (name, parent) = &parents[key];
            names.insert(0, name.clone());
            at = parent.clone();
        }
        json!(names)
    };
    let names: HashMap<String, String> = items
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_string(),
                i["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let name_of = |id: &Value| -> Value { id.as_str().map_or(Value::Null, |id| json!(names[id])) };
    let without = |v: &Value, keys: &[&str]| -> Value {
        let mut v = v.clone();
        for key in keys {
            v.as_object_mut().unwrap().remove(*key);
        }
        v
    };
    let sorted = |mut values: Vec<Value>| {
        values.sort_by_key(|v| v.to_string());
        values
    };
    Contents {
        currency: manifest["household"]["currency"].clone(),
        locations: sorted(
            locations
                .iter()
                .map(|l| {
                    let mut v = without(l, &["id", "parent_id", "updated_at"]);
                    v["path"] = path_of(&l["id"]);
                    v
                })
                .collect(),
        ),
        items: sorted(
            items
                .iter()
                .map(|i| {
                    let mut v = without(i, &["id", "location_id", "updated_at"]);
                    v["location"] = path_of(&i["location_id"]);
                    v
                })
                .collect(),
        ),
        attachments: sorted(
            attachments
                .iter()
                .map(|a| {
                    let mut v = without(a, &["id", "item_id", "file"]);
                    v["item"] = name_of(&a["item_id"]);
                    v["sha256"] = sha[a["file"].as_str().unwrap()].clone();
                    v
                })
                .collect(),
        ),
        activity: sorted(
            activity
                .iter()
                .map(|a| {
                    let mut v = without(a, &["id", "item_id"]);
                    v["item"] = name_of(&a["item_id"]);
                    v
                })
                .collect(),
        ),
    }
}

async fn a_household_comes_back_whole_from_its_backup(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    furnish(&files, &ann).await;
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = (dir.path().join("first.zip"), dir.path().join("second.zip"));

    let made = backup(&files, &ann.household, &first).await;
    assert_eq!(
        (made.locations, made.items, made.attachments),
        (4, 3, 3),
        "{made:?}"
    );
    assert!(made.activity >= 5, "{made:?}");
    let original = read_backup(&first);
    let drill = original
        .items
        .iter()
        .find(|i| i["name"] == "Drill")
        .unwrap();
    assert_eq!(drill["location"], json!(["House", "Garage", "Shelf 2"]));
    assert_eq!(drill["tags"], json!(["Garage", "tools"]));
    assert_eq!(drill["custom_fields"], json!({"Voltage": "18 V"}));
    let radio = original
        .items
        .iter()
        .find(|i| i["name"] == "Old radio")
        .unwrap();
    assert!(
        radio["deleted_at"].is_string(),
        "the trashed item is kept: {radio}"
    );

    let restored = new_household(&files, &ann, "USD").await;
    let progress = Progress::default();
    let summary = restore_backup(
        &app.store,
        &files.blobs,
        hid(&restored.household),
        uid(&ann),
        &first,
        &progress,
    )
    .await
    .unwrap();
    assert_eq!(summary, made);
    let (done, total) = progress.get();
    assert_eq!(
        (done, total),
        (
            made.locations + made.items + made.attachments + made.activity,
            done
        )
    );

    // Backing the restored household up gives the same records and the same files.
    assert_eq!(backup(&files, &restored.household, &second).await, made);
    assert_eq!(read_backup(&second), original);

    // What people see: the items, the trash, the tree, search, history, the files.
    let items = app.get(app.at(&restored, "/items"), &ann).await;
    let mut names = crate::helpers::names(&items.body);
    names.sort();
    assert_eq!(names, ["Drill", "Passport"]);
    let trash = app.get(app.at(&restored, "/trash"), &ann).await;
    assert_eq!(crate::helpers::names(&trash.body), ["Old radio"]);
    let found = app.get(app.at(&restored, "/items?q=makita"), &ann).await;
    assert_eq!(crate::helpers::names(&found.body), ["Drill"]);
    let drill = &items.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "Drill")
        .unwrap()
        .clone();
    assert_eq!(
        drill["location_path"],
        json!(["House", "Garage", "Shelf 2"])
    );
    let id = drill["id"].as_str().unwrap();
    let history = app
        .get(app.at(&restored, &format!("/items/{id}/history")), &ann)
        .await;
    assert_eq!(
        history.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        history.body
    );
    let attached = app
        .get(app.at(&restored, &format!("/items/{id}/attachments")), &ann)
        .await;
    let attached = attached.body["items"].as_array().unwrap().clone();
    assert_eq!(attached.len(), 2);
    let photo = &attached[0];
    assert_eq!(
        (photo["kind"].as_str(), photo["primary"].as_bool()),
        (Some("photo"), Some(true))
    );
    let (status, bytes) = files.download(photo["url"].as_str().unwrap()).await;
    assert!(status.is_success());
    assert_eq!(
        bytes,
        first_photo(&files, &ann).await,
        "the photo as it was served"
    );
    let (status, thumbnail) = files
        .download(photo["thumbnail_url"].as_str().unwrap())
        .await;
    assert!(
        status.is_success() && thumbnail.starts_with(&[0xFF, 0xD8]),
        "a thumbnail was made"
    );
    let receipt = &attached[1];
    assert_eq!(receipt["filename"], "Receipt: Makita.pdf");
    let (_, pdf) = files.download(receipt["url"].as_str().unwrap()).await;
    assert_eq!(pdf, PDF);
}

/// The bytes of the drill's photo in `who`'s household.
async fn first_photo(files: &Files, who: &Person) -> Vec<u8> {
    let app = &files.app;
    let items = app.get(app.at(who, "/items?q=drill"), who).await;
    let id = items.body["items"][0]["id"].as_str().unwrap();
    let attached = app
        .get(app.at(who, &format!("/items/{id}/attachments")), who)
        .await;
    files
        .download(attached.body["items"][0]["url"].as_str().unwrap())
        .await
        .1
}

/// Copies the zip at `from` to `to` entry by entry, letting `change` rewrite (or drop) each
/// entry, then adds `extra`.
fn rewrite(
    from: &Path,
    to: &Path,
    change: impl Fn(&str, Vec<u8>) -> Option<Vec<u8>>,
    extra: &[(&str, Vec<u8>)],
) {
    let mut source = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    let deflated = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().to_string();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if let Some(bytes) = change(&name, bytes) {
            out.start_file(name, deflated).unwrap();
            out.write_all(&bytes).unwrap();
        }
    }
    for (name, bytes) in extra {
        out.start_file(*name, deflated).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap();
}

async fn assert_untouched(files: &Files, who: &Person, blobs: &Recording) {
    let app = &files.app;
    assert!(
        app.store
            .household_is_empty(hid(&who.household))
            .await
            .unwrap(),
        "nothing was written"
    );
    for list in ["/items", "/trash", "/locations", "/attachments"] {
        let answer = app.get(app.at(who, list), who).await;
        assert_eq!(answer.body["items"], json!([]), "{list}: {}", answer.body);
    }
    for key in blobs.puts() {
        assert!(
            files.blobs.reader(&key).await.unwrap().is_none(),
            "{key} is gone"
        );
    }
}

async fn what_is_not_a_sound_backup_is_refused_and_nothing_is_written(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    furnish(&files, &ann).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.zip");
    backup(&files, &ann.household, &good).await;
    let target = new_household(&files, &ann, "USD").await;
    let recording = Recording::new(files.blobs.clone(), usize::MAX);
    let blobs: DynBlobs = recording.clone();
    let zip = |name: &str| dir.path().join(name);

    // Not a zip at all.
    std::fs::write(zip("items.csv"), "HB.name,HB.quantity\nDrill,1\n").unwrap();
    // A zip of something else.
    let foreign = zip("foreign.zip");
    rewrite(
        &good,
        &foreign,
        |name, bytes| match name {
            "manifest.json" => Some(br#"{"format": "homebox-export", "version": 3}"#.to_vec()),
            _ => Some(bytes),
        },
        &[],
    );
    let no_manifest = zip("no-manifest.zip");
    rewrite(
        &good,
        &no_manifest,
        |name, bytes| (name != "manifest.json").then_some(bytes),
        &[],
    );
    // An entry that climbs out of any folder it is unpacked into.
    let slip = zip("slip.zip");
    rewrite(
        &good,
        &slip,
        |_, bytes| Some(bytes),
        &[("../evil", b"#!/bin/sh\n".to_vec())],
    );
    // A file changed after the backup was made (same size, other bytes).
    let damaged = zip("damaged.zip");
    let receipt = Mutex::new(String::new());
    rewrite(
        &good,
        &damaged,
        |name, mut bytes| {
            if name.ends_with(".pdf") {
                *receipt.lock().unwrap() = name.to_string();
                bytes[10] ^= 0xFF;
            }
            Some(bytes)
        },
        &[],
    );
    let receipt = receipt.into_inner().unwrap();
    assert!(receipt.starts_with("files/"), "{receipt}");
    // 200 MB of zeros, deflated to a few hundred kilobytes.
    let bomb = zip("bomb.zip");
    rewrite(
        &good,
        &bomb,
        |_, bytes| Some(bytes),
        &[("files/zeros.bin", vec![0u8; 200 << 20])],
    );

    for (path, message) in [
        (zip("items.csv"), "not a zip file".to_string()),
        (foreign, "not a Home Inventory backup".into()),
        (no_manifest, "no manifest.json".into()),
        (slip, "points outside the backup".into()),
        (damaged, format!("{receipt} doesn't match its checksum")),
        (bomb, "zip bombs".into()),
    ] {
        match restore_with(&files, &blobs, &target, &path).await {
            Err(PortError::Refused(refused)) => {
                assert!(refused.contains(&message), "{}: {refused}", path.display());
            }
            other => panic!("{}: {other:?}", path.display()),
        }
        assert_untouched(&files, &target, &recording).await;
    }

    // Another currency: the amounts would mean something else.
    let euros = new_household(&files, &ann, "EUR").await;
    match restore_with(&files, &blobs, &euros, &good).await {
        Err(PortError::Refused(refused)) => assert!(refused.contains("EUR"), "{refused}"),
        other => panic!("{other:?}"),
    }
    assert_untouched(&files, &euros, &recording).await;

    // A household that holds something already.
    app.create_item(&target, json!({"name": "Kettle"})).await;
    match restore_with(&files, &blobs, &target, &good).await {
        Err(PortError::Conflict(m)) => assert!(m.contains("already has items"), "{m}"),
        other => panic!("{other:?}"),
    }
    let items = app.get(app.at(&target, "/items"), &ann).await;
    assert_eq!(crate::helpers::names(&items.body), ["Kettle"]);
    assert!(recording.puts().is_empty(), "no file was ever written");

    // And the sound backup still restores.
    let fresh = new_household(&files, &ann, "USD").await;
    restore_with(&files, &blobs, &fresh, &good).await.unwrap();
}

async fn a_restore_that_fails_part_way_leaves_nothing_behind(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    furnish(&files, &ann).await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.zip");
    backup(&files, &ann.household, &good).await;
    let target = new_household(&files, &ann, "USD").await;
    // The attachment store fails on the second file: the locations, items and first file
    // are written by then.
    let recording = Recording::new(files.blobs.clone(), 1);
    let blobs: DynBlobs = recording.clone();
    let err = restore_with(&files, &blobs, &target, &good)
        .await
        .unwrap_err();
    let PortError::Internal(e) = err else {
        panic!("{err:?}")
    };
    assert!(format!("{e:#}").contains("removed"), "{e:#}");
    assert!(!recording.puts().is_empty(), "a file had been written");
    assert_untouched(&files, &target, &recording).await;

    // Nothing is left in the way of trying again.
    restore_with(&files, &files.blobs, &target, &good)
        .await
        .unwrap();
    let items = app.get(app.at(&target, "/items"), &ann).await;
    assert_eq!(items.body["items"].as_array().map(Vec::len), Some(2));
}

/// The real attachment store, recording every key written, and failing every file put
/// after the first `files_allowed`.
struct Recording {
    inner: DynBlobs,
    puts: Mutex<Vec<String>>,
    files_allowed: Mutex<usize>,
}

impl Recording {
    fn new(inner: DynBlobs, files_allowed: usize) -> Arc<Self> {
        Arc::new(Self {
            inner,
            puts: Mutex::default(),
            files_allowed: Mutex::new(files_allowed),
        })
    }

    fn puts(&self) -> Vec<String> {
        self.puts.lock().unwrap().clone()
    }
}

#[async_trait]
impl BlobStore for Recording {
    async fn upload(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        expires_at: OffsetDateTime,
    ) -> anyhow::Result<Upload> {
        self.inner.upload(key, content_type, size, expires_at).await
    }

    async fn download_url(
        &self,
        key: &str,
        content_type: &str,
        disposition: &str,
        window: UrlWindow,
    ) -> anyhow::Result<String> {
        self.inner
            .download_url(key, content_type, disposition, window)
            .await
    }

    async fn get(&self, key: &str, max: u64) -> Result<Option<Vec<u8>>, api::blob::BlobError> {
        self.inner.get(key, max).await
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> anyhow::Result<()> {
        self.puts.lock().unwrap().push(key.to_string());
        self.inner.put(key, bytes, content_type).await
    }

    async fn delete(&self, keys: &[String]) -> anyhow::Result<()> {
        self.inner.delete(keys).await
    }

    async fn reader(&self, key: &str) -> anyhow::Result<Option<BlobReader>> {
        self.inner.reader(key).await
    }

    async fn put_file(&self, key: &str, path: &Path, content_type: &str) -> anyhow::Result<()> {
        {
            let mut allowed = self.files_allowed.lock().unwrap();
            if *allowed == 0 {
                anyhow::bail!("the attachment store is unreachable");
            }
            *allowed -= 1;
        }
        self.puts.lock().unwrap().push(key.to_string());
        self.inner.put_file(key, path, content_type).await
    }
}

/// Backing up and restoring large files holds one buffer of a file at a time: the
/// process's peak memory stays below the size of one file, let alone of all of them. Run in a process of its own
/// (this test binary again, for this test alone), so only this work counts; the kernel
/// measures the peak. `BACKUP_MEMORY_MB` sets the size of the files (default 128).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backing_up_and_restoring_large_files_keeps_memory_small() {
    const NAME: &str = "backup::backing_up_and_restoring_large_files_keeps_memory_small";
    /// Each file; the process itself takes about 50 MB.
    const FILE_MB: u64 = 64;
    /// What the process may reach, whatever the size of the files: less than it would
    /// with one file in memory.
    const PEAK_LIMIT_MB: u64 = 100;
    if std::env::var_os("BACKUP_MEMORY_CHILD").is_none() {
        let out = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("BACKUP_MEMORY_CHILD", "1")
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let peak: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("peak MB: "))
            .expect("the measurement")
            .trim()
            .parse()
            .unwrap();
        assert!(peak < PEAK_LIMIT_MB, "the peak was {peak} MB");
        return;
    }
    let megabytes: u64 = std::env::var("BACKUP_MEMORY_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(128);
    let files = Files::start(crate::helpers::Backend::Sqlite, Place::Folder, LIMIT)
        .await
        .unwrap();
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = app
        .create_item(&ann, json!({"name": "Filing box"}))
        .await
        .id();
    let dir = tempfile::tempdir().unwrap();
    // Files of bytes that don't repeat, put in the store as receipts.
    let source = dir.path().join("receipt.pdf");
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut bytes = b"%PDF-1.4\n".to_vec();
    while (bytes.len() as u64) < FILE_MB << 20 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    std::fs::write(&source, &bytes).unwrap();
    let (count, size) = (megabytes.div_ceil(FILE_MB), bytes.len() as u64);
    let household = hid(&ann.household);
    for _ in 0..count {
        let id = shared::AttachmentId::new();
        files
            .blobs
            .put_file(
                &api::blob::keys::file(household, id),
                &source,
                "application/pdf",
            )
            .await
            .unwrap();
        app.store
            .insert_attachment(&api::store::AttachmentRow {
                id,
                household_id: household,
                item_id: item.parse().unwrap(),
                kind: shared::AttachmentKind::Receipt,
                filename: "receipt.pdf".into(),
                content_type: "application/pdf".into(),
                size: bytes.len() as i64,
                stored_bytes: bytes.len() as i64,
                status: shared::AttachmentStatus::Ready,
                width: None,
                height: None,
                primary: false,
                created_by: uid(&ann),
                created_at: OffsetDateTime::now_utc(),
            })
            .await
            .unwrap();
    }
    drop(bytes);
    // From here on the peak is what the backup and the restore take.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let zip = dir.path().join("backup.zip");
    let made = backup(&files, &ann.household, &zip).await;
    assert_eq!((made.attachments, made.bytes), (count, count * size));
    let restored = new_household(&files, &ann, "USD").await;
    restore_with(&files, &files.blobs, &restored, &zip)
        .await
        .unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    println!("peak MB: {}", peak_kb / 1024);
}

//! CSV export and import through the API, as background jobs: on SQLite and PostgreSQL,
//! with files in the local folder and in S3 (moto).

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::attachments::{Files, on_every_store};
use crate::attachments::{LIMIT, Place};
use crate::helpers::{Person, TestApp, TestResponse};

on_every_store!(
    export_import_export_gives_the_same_csv_and_a_second_import_changes_nothing,
    bad_rows_are_refused_with_their_line_and_the_good_rows_land,
    a_homebox_export_with_every_column_imports_without_losing_anything,
    bad_files_and_wrong_people_are_refused,
    a_backup_downloaded_and_uploaded_again_restores_the_household_with_the_same_files,
);

/// Sends `bytes` as an import's body.
pub async fn post_file(
    app: &TestApp,
    who: &Person,
    household: &str,
    query: &str,
    content_type: &str,
    bytes: Vec<u8>,
) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/households/{household}/imports{query}"))
        .header(header::COOKIE, format!("hi_session={}", who.token))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(bytes))
        .unwrap();
    app.send(request).await
}

/// Follows a job until it ends; returns it.
pub async fn finished(
    app: &TestApp,
    who: &Person,
    household: &str,
    started: &TestResponse,
) -> Value {
    started.assert_status(202);
    let id = started.body["job"]["id"]
        .as_str()
        .expect("a job id")
        .to_string();
    let path = format!("/api/v1/households/{household}/jobs/{id}");
    for _ in 0..600 {
        let job = app.get(&path, who).await;
        job.assert_status(200);
        if matches!(job.body["status"].as_str(), Some("done" | "failed")) {
            return job.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the job did not finish in 30 s");
}

/// Exports the household's items as CSV; the file's text.
pub(crate) async fn export_csv(
    files: &Files,
    who: &Person,
    household: &str,
    filters: Value,
) -> String {
    let app = &files.app;
    let mut body = json!({"format": "csv"});
    body.as_object_mut()
        .unwrap()
        .extend(filters.as_object().unwrap().clone());
    let started = app
        .post(format!("/api/v1/households/{household}/exports"), who, body)
        .await;
    let job = finished(app, who, household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    let url = job["download_url"].as_str().expect("a download address");
    let (status, bytes) = files.download(url).await;
    assert_eq!(status, 200, "{url}");
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a byte order mark"
    );
    String::from_utf8(bytes).expect("UTF-8")
}

/// Imports `csv` into `household`: a dry run, then its confirmation. Returns both results.
pub(crate) async fn import_csv(
    app: &TestApp,
    who: &Person,
    household: &str,
    csv: &str,
) -> (Value, Value) {
    let dry = post_file(
        app,
        who,
        household,
        "?dry_run=true",
        "text/csv",
        csv.as_bytes().to_vec(),
    )
    .await;
    let dry_job = finished(app, who, household, &dry).await;
    assert_eq!(dry_job["status"], "done", "{dry_job}");
    let confirm = app
        .post(
            format!("/api/v1/households/{household}/imports?dry_run=false"),
            who,
            json!({"from_job": dry_job["id"]}),
        )
        .await;
    let job = finished(app, who, household, &confirm).await;
    assert_eq!(job["status"], "done", "{job}");
    (dry_job["result"].clone(), job["result"].clone())
}

pub(crate) async fn items(app: &TestApp, who: &Person, household: &str) -> Vec<Value> {
    let list = app
        .get(
            format!("/api/v1/households/{household}/items?limit=200&sort=oldest"),
            who,
        )
        .await;
    list.assert_status(200);
    list.body["items"].as_array().unwrap().clone()
}

/// The CSV without the columns that belong to the household the items are in: their ids
/// (`HB.import_ref`) and when they were added and changed there.
fn without_refs(csv: &str) -> String {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes());
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    let own = ["HB.import_ref", "HB.x.created_at", "HB.x.updated_at"];
    let keep: Vec<bool> = rows[0]
        .iter()
        .map(|h| !own.iter().any(|o| h.trim_start_matches('\u{feff}') == *o))
        .collect();
    assert_eq!(
        keep.iter().filter(|k| !**k).count(),
        own.len(),
        "{:?}",
        rows[0]
    );
    rows.into_iter()
        .map(|r| {
            r.into_iter()
                .zip(&keep)
                .filter(|(_, k)| **k)
                .map(|(c, _)| c)
                .collect::<Vec<_>>()
                .join("\u{1f}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

async fn new_household(app: &TestApp, who: &Person, name: &str) -> String {
    let made = app
        .post(
            "/api/v1/households",
            who,
            json!({"name": name, "currency": "USD"}),
        )
        .await;
    made.assert_status(201);
    made.id()
}

async fn export_import_export_gives_the_same_csv_and_a_second_import_changes_nothing(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let garage = app.create_location(&ann, "Garage", Some(&house)).await;
    let shelf = app.create_location(&ann, "Shelf, top", Some(&garage)).await;
    app.create_item(
        &ann,
        json!({"name": "Drill", "location_id": shelf, "tags": ["tools", "Power tools"],
               "brand": "Makita", "model": "DHP484", "serial_number": "SN-1",
               "purchase_date": "2024-05-31", "purchase_price": {"amount_minor": 12999, "currency": "USD"},
               "estimated_value": {"amount_minor": 9000, "currency": "USD"},
               "warranty_expires": "2027-05-31", "quantity": 2,
               "notes": "Line one\nline two, with \"quotes\"",
               "custom_fields": {"Voltage": "18 V", "Colour": "teal"}}),
    )
    .await;
    app.create_item(
        &ann,
        json!({"name": "=HYPERLINK(\"http://evil\")", "location_id": garage}),
    )
    .await;
    app.create_item(
        &ann,
        json!({"name": "Bücherregal — ünïcödé", "description": "-5 dB"}),
    )
    .await;
    let trashed = app
        .create_item(&ann, json!({"name": "Broken kettle"}))
        .await;
    app.delete(app.at(&ann, &format!("/items/{}", trashed.id())), &ann)
        .await
        .assert_status(204);

    let first = export_csv(&files, &ann, &ann.household, json!({})).await;
    assert!(
        first.contains("House / Garage / \"Shelf, top\"")
            || first.contains("\"House / Garage / Shelf, top\""),
        "{first}"
    );
    assert!(
        first.contains("tools; Power tools") || first.contains("Power tools; tools"),
        "{first}"
    );
    assert!(
        first.contains("'=HYPERLINK"),
        "a formula is neutralised: {first}"
    );
    assert!(
        !first.contains("Broken kettle"),
        "the trash is not exported"
    );

    // The same file into the same household: nothing changes.
    let (dry, done) = import_csv(app, &ann, &ann.household, &first).await;
    assert_eq!(dry["unchanged"], 3, "{dry}");
    assert_eq!(dry["created"], 0, "{dry}");
    assert_eq!(done["unchanged"], 3, "{done}");
    assert_eq!(
        export_csv(&files, &ann, &ann.household, json!({})).await,
        first
    );

    // Into a new household: everything comes, locations made as needed.
    let other = new_household(app, &ann, "Cabin").await;
    let (dry, done) = import_csv(app, &ann, &other, &first).await;
    assert_eq!(dry["created"], 3, "{dry}");
    assert_eq!(
        dry["new_locations"],
        json!(["House", "House / Garage", "House / Garage / Shelf, top"]),
        "{dry}"
    );
    assert_eq!(done["created"], 3, "{done}");
    let copied = items(app, &ann, &other).await;
    let drill = copied
        .iter()
        .find(|i| i["name"] == "Drill")
        .expect("the drill");
    assert_eq!(
        drill["location_path"],
        json!(["House", "Garage", "Shelf, top"])
    );
    assert_eq!(
        drill["purchase_price"],
        json!({"amount_minor": 12999, "currency": "USD"})
    );
    assert_eq!(drill["custom_fields"]["Voltage"], "18 V");
    assert_eq!(drill["notes"], "Line one\nline two, with \"quotes\"");
    assert_eq!(drill["quantity"], 2);
    assert!(
        copied
            .iter()
            .any(|i| i["name"] == "=HYPERLINK(\"http://evil\")"),
        "the name comes back as typed"
    );
    let second = export_csv(&files, &ann, &other, json!({})).await;
    assert_eq!(without_refs(&second), without_refs(&first));
    // Importing the copy's own export again changes nothing there either.
    let (dry, _) = import_csv(app, &ann, &other, &second).await;
    assert_eq!(
        (dry["unchanged"].as_u64(), dry["created"].as_u64()),
        (Some(3), Some(0)),
        "{dry}"
    );
    assert_eq!(items(app, &ann, &other).await.len(), 3);

    // Filters pick what the item list would.
    let tools = export_csv(&files, &ann, &ann.household, json!({"tag": "tools"})).await;
    assert!(
        tools.contains("Drill") && !tools.contains("Bücherregal"),
        "{tools}"
    );
    let garage_only =
        export_csv(&files, &ann, &ann.household, json!({"location_id": garage})).await;
    assert!(
        garage_only.contains("Drill")
            && garage_only.contains("HYPERLINK")
            && !garage_only.contains("Bücherregal")
    );
}

async fn bad_rows_are_refused_with_their_line_and_the_good_rows_land(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let csv = "HB.name\tHB.location\tHB.purchase_price\tHB.quantity\n\
               Lamp\tHouse / Hall\t19.99\t1\n\
               \tHouse\t5\t1\n\
               Rug\tHouse / Hall\tnot money\t1\n\
               \"Two\nline name\"\tHouse\t1\t-3\n\
               Chair\t House /  Kitchen \t\t4\n";
    let dry = post_file(
        app,
        &ann,
        &ann.household,
        "?dry_run=true",
        "text/tab-separated-values",
        csv.into(),
    )
    .await;
    let job = finished(app, &ann, &ann.household, &dry).await;
    assert_eq!(job["status"], "done", "{job}");
    let result = &job["result"];
    assert_eq!(
        (result["created"].as_u64(), result["refused"].as_u64()),
        (Some(2), Some(3)),
        "{result}"
    );
    let lines: Vec<u64> = result["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4, 5], "{result}");
    let messages = result["errors"].to_string();
    assert!(messages.contains("name"), "{messages}");
    assert!(messages.contains("HB.purchase_price"), "{messages}");
    assert!(messages.contains("quantity"), "{messages}");
    // A dry run writes nothing.
    assert!(items(app, &ann, &ann.household).await.is_empty());
    assert!(
        app.get(app.at(&ann, "/locations"), &ann).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let confirm = app
        .post(
            app.at(&ann, "/imports"),
            &ann,
            json!({"from_job": job["id"]}),
        )
        .await;
    let done = finished(app, &ann, &ann.household, &confirm).await;
    assert_eq!(done["result"]["created"], 2, "{done}");
    assert_eq!(done["progress"], json!({"done": 5, "total": 5}));
    let landed = items(app, &ann, &ann.household).await;
    let names: Vec<&str> = landed.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["Lamp", "Chair"]);
    assert_eq!(landed[1]["location_path"], json!(["House", "Kitchen"]));
    assert_eq!(landed[0]["purchase_price"]["amount_minor"], 1999);
}

async fn a_homebox_export_with_every_column_imports_without_losing_anything(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/homebox/homebox-export-all-columns.csv"
    );
    let csv = std::fs::read(path).expect("the Homebox export fixture");
    let started = post_file(app, &ann, &ann.household, "", "text/csv", csv.clone()).await;
    let job = finished(app, &ann, &ann.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["refused"], 0, "{job}");
    let created = job["result"]["created"].as_u64().unwrap();
    assert!(created >= 2, "{job}");
    let landed = items(app, &ann, &ann.household).await;
    assert_eq!(landed.len() as u64, created);
    // Homebox's own fields have a place here.
    assert!(landed.iter().any(|i| i["insured"] == true), "{landed:?}");
    assert!(
        landed.iter().any(|i| i["sold_to"].is_string()),
        "{landed:?}"
    );
    assert!(
        landed
            .iter()
            .any(|i| i["brand"].is_string() && i["model"].is_string()),
        "{landed:?}"
    );
    assert!(
        landed
            .iter()
            .any(|i| !i["location_path"].as_array().unwrap().is_empty())
    );
    // The same file again changes nothing.
    let again = post_file(app, &ann, &ann.household, "", "text/csv", csv).await;
    let job = finished(app, &ann, &ann.household, &again).await;
    assert_eq!(job["result"]["created"], 0, "{job}");
    assert_eq!(job["result"]["unchanged"].as_u64(), Some(created), "{job}");
}

async fn bad_files_and_wrong_people_are_refused(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let hid = ann.household.clone();
    let post = |query: &'static str, content_type: &'static str, bytes: Vec<u8>| {
        let (app, ann, hid) = (app, &ann, hid.clone());
        async move { post_file(app, ann, &hid, query, content_type, bytes).await }
    };
    post("", "image/png", b"x".to_vec())
        .await
        .assert_status(415);
    post("", "text/csv", Vec::new()).await.assert_status(422);
    post("?dry_run=maybe", "text/csv", b"HB.name\nx\n".to_vec())
        .await
        .assert_status(400);
    let big = vec![b'a'; 5 * 1024 * 1024 + 1];
    let refused = post("", "text/csv", big).await;
    refused.assert_status(413);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("uploads")
    );

    // Not a CSV at all: the job fails and says why; nothing is written.
    for (bytes, says) in [
        (vec![0u8, 159, 146, 150, 0, 1, 2], ""),
        (b"color,size\nred,9\n".to_vec(), "HB.name"),
    ] {
        let started = post("", "text/csv", bytes).await;
        let job = finished(app, &ann, &hid, &started).await;
        assert_eq!(job["status"], "failed", "{job}");
        assert_eq!(job["error"]["code"], "validation_failed", "{job}");
        assert!(
            job["error"]["message"].as_str().unwrap().contains(says),
            "{job}"
        );
    }
    assert!(items(app, &ann, &hid).await.is_empty());

    // A backup restores only into an empty household.
    app.create_item(&ann, json!({"name": "Lamp"})).await;
    let zip = post("", "application/zip", b"PK\x03\x04 not really".to_vec()).await;
    zip.assert_status(409);

    // Viewers export but don't import; strangers see no jobs.
    let vic = crate::sharing::join(app, &ann, "Vic", "viewer").await;
    let as_viewer = post_file(app, &vic, &hid, "", "text/csv", b"HB.name\nx\n".to_vec()).await;
    as_viewer.assert_status(403);
    let export = app
        .post(
            format!("/api/v1/households/{hid}/exports"),
            &vic,
            json!({"format": "csv"}),
        )
        .await;
    let job = finished(app, &vic, &hid, &export).await;
    assert_eq!(job["status"], "done");
    let mine = app
        .get(
            format!(
                "/api/v1/households/{hid}/jobs/{}",
                job["id"].as_str().unwrap()
            ),
            &ann,
        )
        .await;
    mine.assert_status(404);
    let stranger = app.register("Sam").await;
    let theirs = app
        .get(
            format!(
                "/api/v1/households/{hid}/jobs/{}",
                job["id"].as_str().unwrap()
            ),
            &stranger,
        )
        .await;
    theirs.assert_status(404);
    let listed = app
        .get(format!("/api/v1/households/{hid}/jobs"), &vic)
        .await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 1);
    // A read-only token exports but does not import.
    let (token, _) =
        crate::tokens::make_token(app, &ann, json!({"name": "backup script", "scope": "read"}))
            .await;
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/households/{hid}/imports"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from("HB.name\nx\n"))
        .unwrap();
    app.send(request).await.assert_status(403);
}

/// The `files/` entries of a backup's manifest: (path without the attachment id, sha256).
fn file_hashes(zip: &[u8]) -> Vec<(String, String)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).expect("a zip");
    let manifest: Value = {
        let entry = archive.by_name("manifest.json").expect("a manifest");
        serde_json::from_reader(entry).expect("JSON")
    };
    let mut files: Vec<(String, String)> = manifest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let path = e["path"].as_str()?;
            let name = path.strip_prefix("files/")?.split_once('/')?.1;
            Some((name.to_string(), e["sha256"].as_str()?.to_string()))
        })
        .collect();
    files.sort();
    files
}

pub(crate) async fn download_backup(files: &Files, who: &Person) -> Vec<u8> {
    let app = &files.app;
    let started = app
        .post(app.at(who, "/exports"), who, json!({"format": "backup"}))
        .await;
    let job = finished(app, who, &who.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["kind"], "backup");
    let (status, bytes) = files.download(job["download_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    bytes
}

async fn a_backup_downloaded_and_uploaded_again_restores_the_household_with_the_same_files(
    files: Files,
) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    crate::backup::furnish(&files, &ann).await;
    let zip = download_backup(&files, &ann).await;
    let before = file_hashes(&zip);
    assert_eq!(before.len(), 3, "two photos and a receipt: {before:?}");

    // Sent as the body: a dry run checks it and writes nothing.
    let copy = crate::backup::new_household(&files, &ann, "USD").await;
    let dry = post_file(
        app,
        &copy,
        &copy.household,
        "?dry_run=true",
        "application/zip",
        zip.clone(),
    )
    .await;
    let checked = finished(app, &copy, &copy.household, &dry).await;
    assert_eq!(checked["status"], "done", "{checked}");
    assert_eq!(checked["kind"], "restore");
    assert_eq!(checked["result"]["dry_run"], true);
    assert_eq!(checked["result"]["items"], 3, "{checked}");
    assert_eq!(checked["result"]["locations"], 4, "{checked}");
    assert!(
        items(app, &copy, &copy.household).await.is_empty(),
        "a dry run writes nothing"
    );

    // Announced and uploaded like an attachment, then restored.
    let announced = app
        .post(
            app.at(&copy, "/imports/uploads"),
            &copy,
            json!({"content_type": "application/zip", "size": zip.len()}),
        )
        .await;
    announced.assert_status(201);
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
            zip.clone(),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let restore = app
        .post(
            app.at(&copy, "/imports?dry_run=false"),
            &copy,
            json!({"upload_id": announced.body["upload_id"], "content_type": "application/zip"}),
        )
        .await;
    let done = finished(app, &copy, &copy.household, &restore).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["items"], 3, "{done}");
    let restored = items(app, &copy, &copy.household).await;
    let drill = restored
        .iter()
        .find(|i| i["name"] == "Drill")
        .expect("the drill");
    assert_eq!(
        drill["location_path"],
        json!(["House", "Garage", "Shelf 2"])
    );
    assert_eq!(drill["custom_fields"]["Voltage"], "18 V");

    // Its own backup has the same files, byte for byte.
    assert_eq!(file_hashes(&download_backup(&files, &copy).await), before);
    // And now the household is not empty: another restore is refused at once.
    post_file(app, &copy, &copy.household, "", "application/zip", zip)
        .await
        .assert_status(409);
}

mod restart {
    use api::store::JobRow;
    use shared::{HouseholdId, JobId, JobKind, JobStatus, UserId};
    use time::{Duration, OffsetDateTime};

    use crate::helpers::{Backend, spawn_app};
    use crate::on_every_backend;

    on_every_backend!(a_job_whose_server_stopped_is_picked_up_and_a_held_one_is_left_alone);

    fn job(hid: &str, user: &str, lease: OffsetDateTime) -> JobRow {
        JobRow {
            id: JobId::new(),
            household_id: hid.parse::<HouseholdId>().unwrap(),
            user_id: user.parse::<UserId>().unwrap(),
            kind: JobKind::ExportCsv,
            status: JobStatus::Running,
            params: r#"{"q":null,"location_id":null,"tag":null}"#.into(),
            input_key: None,
            output_key: None,
            output_name: None,
            output_type: None,
            done: 0,
            total: 0,
            result: None,
            error_code: None,
            error_message: None,
            attempts: 1,
            lease_until: Some(lease),
            created_at: OffsetDateTime::now_utc(),
            finished_at: None,
        }
    }

    async fn a_job_whose_server_stopped_is_picked_up_and_a_held_one_is_left_alone(
        backend: Backend,
    ) {
        let app = spawn_app(backend).await;
        let ann = app.register("Ann").await;
        app.create_item(&ann, serde_json::json!({"name": "Lamp"}))
            .await;
        let now = OffsetDateTime::now_utc();
        // One runner stopped a minute ago (its lease ran out); another still holds its job.
        let orphan = job(&ann.household, &ann.user_id, now - Duration::minutes(1));
        let held = job(&ann.household, &ann.user_id, now + Duration::minutes(2));
        app.store.insert_job(&orphan).await.unwrap();
        app.store.insert_job(&held).await.unwrap();

        // The server starts again: its sweep takes what was left.
        let state = api::AppState::new(app.config.clone(), app.store.clone()).unwrap();
        api::jobs::sweep(&state).await.unwrap();
        let path = |id: JobId| format!("/api/v1/households/{}/jobs/{id}", ann.household);
        let mut last = serde_json::Value::Null;
        for _ in 0..200 {
            last = app.get(path(orphan.id), &ann).await.body;
            if last["status"] == "done" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(last["status"], "done", "{last}");
        assert_eq!(last["result"]["items"], 1, "{last}");
        let other = app.get(path(held.id), &ann).await.body;
        assert_eq!(
            other["status"], "running",
            "a held job is not run twice: {other}"
        );
        assert!(other["download_url"].is_null());
    }
}

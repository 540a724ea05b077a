//! Attacks on the upload path, on every database: one upload completed many times at once
//! (only one request may claim and decode it), announcements past the household's storage
//! quota, and announcements that never finish piling up.

use axum::body::Body;
use axum::http::{Method, Request};
use futures_util::StreamExt as _;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use crate::attachments::{Files, LIMIT, Place, png};
use crate::helpers::{Backend, Person, TestResponse};

crate::on_every_backend!(
    of_many_claims_at_once_on_one_upload_exactly_one_wins,
    a_claim_left_by_a_stopped_check_is_taken_over_after_a_while,
    completing_one_upload_many_times_at_once_checks_it_once,
    announcing_past_the_storage_quota_is_413_and_changes_nothing,
    a_household_can_have_only_so_many_uploads_under_way,
);

async fn start(backend: Backend, quota: Option<u64>) -> Files {
    Files::start_with(backend, Place::Folder, LIMIT, |config| {
        config.household_storage_quota = quota;
    })
    .await
    .unwrap()
}

fn announcement(name: &str, size: usize) -> Value {
    json!({"kind": "photo", "filename": name, "content_type": "image/png", "size": size})
}

/// Announces a file and sends its bytes, without completing it: the announcement.
async fn upload(files: &Files, who: &Person, item: &str, bytes: Vec<u8>) -> TestResponse {
    let app = &files.app;
    let announced = app
        .post(
            app.at(who, &format!("/items/{item}/attachments")),
            who,
            announcement("shelf.png", bytes.len()),
        )
        .await;
    announced.assert_status(201);
    let target = &announced.body["upload"];
    let url = target["url"].as_str().unwrap();
    let path = url.strip_prefix("http://127.0.0.1:8080").unwrap();
    let mut request = Request::builder()
        .method(Method::PUT)
        .uri(path)
        .header("content-length", bytes.len().to_string());
    for (name, value) in target["headers"].as_object().unwrap() {
        request = request.header(name.as_str(), value.as_str().unwrap());
    }
    app.send(request.body(Body::from(bytes)).unwrap())
        .await
        .assert_status(200);
    announced
}

async fn of_many_claims_at_once_on_one_upload_exactly_one_wins(backend: Backend) {
    let files = start(backend, None).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Lamp").await;
    let announced = upload(&files, &ann, &item, png(8, 8)).await;
    let hid = ann.household.parse::<uuid::Uuid>().unwrap().into();
    let id = announced.id().parse::<uuid::Uuid>().unwrap().into();

    let at = OffsetDateTime::now_utc();
    let stale = at - Duration::minutes(2);
    let claims = join_all((0..16).map(|_| app.store.claim_attachment(hid, id, at, stale))).await;
    let won = claims
        .into_iter()
        .map(Result::unwrap)
        .filter(|w| *w)
        .count();
    assert_eq!(won, 1, "exactly one claim wins");

    // Still pending to everyone else, and nobody else may claim it now.
    let row = app.store.attachment(hid, id).await.unwrap().unwrap();
    assert_eq!(row.status, shared::AttachmentStatus::Pending);
    assert!(
        !app.store
            .claim_attachment(hid, id, at, stale)
            .await
            .unwrap()
    );

    // Given back, it can be claimed again.
    app.store.release_attachment(hid, id, at).await.unwrap();
    assert!(
        app.store
            .claim_attachment(hid, id, at, stale)
            .await
            .unwrap()
    );
}

async fn a_claim_left_by_a_stopped_check_is_taken_over_after_a_while(backend: Backend) {
    let files = start(backend, None).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Lamp").await;
    let announced = upload(&files, &ann, &item, png(8, 8)).await;
    let hid = ann.household.parse::<uuid::Uuid>().unwrap().into();
    let id = announced.id().parse::<uuid::Uuid>().unwrap().into();

    // A check claimed it three minutes ago and its process stopped.
    let then = OffsetDateTime::now_utc() - Duration::minutes(3);
    assert!(
        app.store
            .claim_attachment(hid, id, then, then - Duration::minutes(2))
            .await
            .unwrap()
    );
    let now = OffsetDateTime::now_utc();
    assert!(
        !app.store
            .claim_attachment(hid, id, now, now - Duration::minutes(5))
            .await
            .unwrap(),
        "a recent claim is respected"
    );
    assert!(
        app.store
            .claim_attachment(hid, id, now, now - Duration::minutes(2))
            .await
            .unwrap(),
        "a claim older than two minutes is taken over"
    );
    // The stopped check giving its claim back doesn't free the new one.
    app.store.release_attachment(hid, id, then).await.unwrap();
    assert!(
        !app.store
            .claim_attachment(hid, id, now, now - Duration::minutes(2))
            .await
            .unwrap()
    );

    // Completing it through the API waits for nobody: the claim is fresh, so it is 409…
    let path = app.at(&ann, &format!("/items/{item}/attachments/{id}/complete"));
    let busy = app.post(&path, &ann, Value::Null).await;
    busy.assert_status(409);
    assert!(
        busy.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("being checked"),
        "{}",
        busy.body
    );
    // …and once that claim is given back, the upload is checked and ready.
    app.store.release_attachment(hid, id, now).await.unwrap();
    let done = app.post(&path, &ann, Value::Null).await;
    done.assert_status(200);
    assert_eq!(done.body["status"], "ready");
}

async fn completing_one_upload_many_times_at_once_checks_it_once(backend: Backend) {
    let mut files = Files::start_with(backend, Place::Folder, LIMIT, |config| {
        config.max_image_decodes = 1;
    })
    .await
    .unwrap();
    // The same app, with a hold on its one decode permit: whoever claims the upload waits
    // for it, so every other completion arrives while the check is under way.
    let state = api::AppState::new(files.app.config.clone(), files.app.store.clone()).unwrap();
    let decodes = state.decodes.clone();
    files.app.router = api::app(state);
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Mirror").await;
    let announced = upload(&files, &ann, &item, png(1200, 900)).await;
    let id = announced.id();
    let path = app.at(&ann, &format!("/items/{item}/attachments/{id}/complete"));

    let held = decodes.permit().await.unwrap();
    let mut answers: FuturesUnordered<_> = (0..12)
        .map(|_| app.post(&path, &ann, Value::Null))
        .collect();
    for _ in 0..11 {
        // Turned away at once; waiting for the permit would be decoding it again.
        let answer = tokio::time::timeout(std::time::Duration::from_secs(60), answers.next())
            .await
            .expect("a completion waited to decode the upload instead of being turned away")
            .unwrap();
        answer.assert_status(409);
        assert_eq!(answer.error_code(), "conflict");
        assert_eq!(
            answer.body["error"]["message"],
            "This file is being checked; ask again in a moment."
        );
    }
    drop(held);
    let checked = answers.next().await.unwrap();
    checked.assert_status(200);
    assert_eq!(checked.body["id"], id);
    assert_eq!(checked.body["status"], "ready");
    assert_eq!(checked.body["width"], 1200);
    assert_eq!(decodes.available(), 1, "the permit was given back");

    // Asked again, it is ready; one file was kept.
    let again = app.post(&path, &ann, Value::Null).await;
    again.assert_status(200);
    assert_eq!(again.body["thumbnail_url"], checked.body["thumbnail_url"]);
    let list = app
        .get(app.at(&ann, &format!("/items/{item}/attachments")), &ann)
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
}

async fn announcing_past_the_storage_quota_is_413_and_changes_nothing(backend: Backend) {
    let files = start(backend, Some(150_000)).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Desk").await;
    let attachments = app.at(&ann, &format!("/items/{item}/attachments"));

    let too_big = app
        .post(&attachments, &ann, announcement("scan.png", 150_001))
        .await;
    too_big.assert_status(413);
    assert_eq!(too_big.error_code(), "payload_too_large");
    let message = too_big.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("keeps 0.0 MB") && message.contains("may keep 0.1 MB"),
        "{message}"
    );
    let listed = app.get(&attachments, &ann).await;
    assert_eq!(listed.body["items"], json!([]));
    let stats = app.get(app.at(&ann, "/stats"), &ann).await;
    assert_eq!(stats.body["storage_bytes"], 0);

    // What fits is accepted, and counts as soon as it is announced…
    let first = app
        .post(&attachments, &ann, announcement("a.png", 100_000))
        .await;
    first.assert_status(201);
    let second = app
        .post(&attachments, &ann, announcement("b.png", 60_000))
        .await;
    second.assert_status(413);
    assert!(
        second.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("keeps 0.1 MB"),
        "{}",
        second.body
    );
    // …until it is taken back.
    let taken_back = app
        .delete(format!("{attachments}/{}", first.id()), &ann)
        .await;
    taken_back.assert_status(204);
    app.post(&attachments, &ann, announcement("b.png", 60_000))
        .await
        .assert_status(201);

    // Another household has its own room.
    let bob = app.register("Bob").await;
    let bobs = files.item(&bob, "Shelf").await;
    app.post(
        app.at(&bob, &format!("/items/{bobs}/attachments")),
        &bob,
        announcement("c.png", 140_000),
    )
    .await
    .assert_status(201);
}

async fn a_household_can_have_only_so_many_uploads_under_way(backend: Backend) {
    let files = start(backend, None).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Album").await;
    let attachments = app.at(&ann, &format!("/items/{item}/attachments"));
    let max = api::routes::attachments::MAX_PENDING_UPLOADS;
    let mut ids = Vec::new();
    for n in 0..max {
        let announced = app
            .post(&attachments, &ann, announcement(&format!("{n}.png"), 10))
            .await;
        announced.assert_status(201);
        ids.push(announced.id());
    }
    let one_more = app
        .post(&attachments, &ann, announcement("more.png", 10))
        .await;
    one_more.assert_status(429);
    assert_eq!(one_more.error_code(), "rate_limited");
    assert!(
        one_more.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{max} uploads under way")),
        "{}",
        one_more.body
    );
    // The unfiled photos of the capture page count too.
    app.post(
        app.at(&ann, "/attachments"),
        &ann,
        announcement("c.png", 10),
    )
    .await
    .assert_status(429);

    // One finished (or taken back) makes room for one more.
    app.delete(format!("{attachments}/{}", ids[0]), &ann)
        .await
        .assert_status(204);
    app.post(&attachments, &ann, announcement("more.png", 10))
        .await
        .assert_status(201);
    // Other households are not held up.
    let bob = app.register("Bob").await;
    let bobs = files.item(&bob, "Box").await;
    app.post(
        app.at(&bob, &format!("/items/{bobs}/attachments")),
        &bob,
        announcement("d.png", 10),
    )
    .await
    .assert_status(201);
}

//! `POST …/recognize` end to end: photos attached through the API, sent to a fake Messages
//! API on loopback, suggestions back; the daily limit, failures and who may ask.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::attachments::{Files, LIMIT, Place, jpeg_with_exif, png};
use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::helpers::{Backend, Person};

crate::on_every_backend!(
    suggestions_name_their_photo_and_reuse_the_households_words,
    without_a_key_recognition_is_503_and_photos_still_work,
    only_ready_photos_of_the_household_can_be_sent,
    a_failing_service_is_502_and_costs_nothing,
    the_daily_limit_is_per_household,
);

async fn start(backend: Backend, fake: Option<&FakeAnthropic>, daily: i64) -> Files {
    Files::start_with(backend, Place::Folder, LIMIT, |config| {
        if let Some(fake) = fake {
            fake.configure(config);
        }
        config.ai_daily_limit = daily;
    })
    .await
    .unwrap()
}

async fn photo(files: &Files, who: &Person, item: &str) -> String {
    let done = files
        .attach(
            who,
            item,
            "photo",
            "shelf.jpg",
            "image/jpeg",
            jpeg_with_exif(64, 48, 1),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    done.body["id"].as_str().unwrap().to_string()
}

async fn suggestions_name_their_photo_and_reuse_the_households_words(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    let files = start(backend, Some(&fake), 50).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    app.create_item(&ann, json!({"name": "Hammer", "tags": ["Workshop"]}))
        .await;
    let item = files.item(&ann, "Shelf photos").await;
    let first = photo(&files, &ann, &item).await;
    let second = photo(&files, &ann, &item).await;
    fake.push(Reply::items(json!([
        {"photo": 1, "name": "Cordless drill", "brand": "Bosch", "model": "GSR 18V",
         "tags": ["workshop", "Power tools"], "estimated_value": 89.5, "confidence": 0.92,
         "location": "Garage"},
        {"photo": 1, "name": "Spirit level", "confidence": 0.7},
        {"photo": 2, "name": "Toolbox", "confidence": 1.7},
    ])));
    let items_before = app.get(app.at(&ann, "/items"), &ann).await.body["items"]
        .as_array()
        .unwrap()
        .len();

    let answer = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [first, second]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let s = answer.body["suggestions"].as_array().unwrap();
    assert_eq!(s.len(), 3);
    assert_eq!(s[0]["attachment_id"], first);
    assert_eq!(s[2]["attachment_id"], second);
    assert_eq!(s[0]["name"], "Cordless drill");
    assert_eq!(
        s[0]["estimated_value"],
        json!({"amount_minor": 8950, "currency": "USD"})
    );
    assert_eq!(s[0]["location_id"], garage);
    assert!(
        s[0]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "workshop" || t == "Workshop")
    );
    assert!(s[2]["confidence"].as_f64().unwrap() <= 1.0);
    assert_eq!(answer.body["remaining_today"], 48);

    // The model saw both photos and the household's own locations and tags.
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].problems.is_empty(), "{:?}", seen[0].problems);
    assert_eq!(seen[0].photo_sizes, vec![(64, 48), (64, 48)]);
    let prompt = seen[0].prompt_text();
    assert!(
        prompt.contains("Garage") && prompt.contains("Workshop"),
        "{prompt}"
    );
    assert!(prompt.contains("USD"), "{prompt}");

    // Nothing was saved: suggestions wait for a person.
    let items_after = app.get(app.at(&ann, "/items"), &ann).await.body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(items_before, items_after);
}

async fn without_a_key_recognition_is_503_and_photos_still_work(backend: Backend) {
    let files = start(backend, None, 50).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Chair").await;
    let id = photo(&files, &ann, &item).await;
    let answer = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [id]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body["error"]["code"], "unavailable");
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("by hand")
    );
}

async fn only_ready_photos_of_the_household_can_be_sent(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    let files = start(backend, Some(&fake), 50).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Box").await;
    let ok = photo(&files, &ann, &item).await;
    let receipt = files
        .attach(
            &ann,
            &item,
            "receipt",
            "r.pdf",
            "application/pdf",
            b"%PDF-1.4\n%%EOF\n".to_vec(),
        )
        .await;
    let pending = files
        .announce_for_tests(
            &ann,
            &item,
            json!({"filename": "p.png", "content_type": "image/png", "size": 99}),
        )
        .await;
    let eve = app.register("Eve").await;
    let eve_item = files.item(&eve, "Eve's").await;
    let eves = files
        .attach(&eve, &eve_item, "photo", "e.png", "image/png", png(5, 5))
        .await;
    for ids in [
        json!([]),
        json!([receipt.body["id"]]),
        json!([pending]),
        json!([eves.body["id"]]),
        json!([uuid::Uuid::now_v7().to_string()]),
        json!(
            (0..11)
                .map(|_| uuid::Uuid::now_v7().to_string())
                .collect::<Vec<_>>()
        ),
    ] {
        let answer = app
            .post(
                app.at(&ann, "/recognize"),
                &ann,
                json!({"attachment_ids": ids}),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{ids}: {}",
            answer.body
        );
        assert!(answer.body["error"]["details"]["attachment_ids"].is_string());
    }
    assert!(fake.requests().is_empty(), "nothing reached the service");
    let malformed = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": "all"}),
        )
        .await;
    assert!(
        matches!(
            malformed.status,
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
        ),
        "{}",
        malformed.body
    );
    assert!(malformed.body["error"]["message"].is_string());
    // A viewer can't ask (suggestions are for adding items).
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let vic = app.register("Vic").await;
    app.post(
        format!(
            "/api/v1/invites/{}/accept",
            invite.body["code"].as_str().unwrap()
        ),
        &vic,
        Value::Null,
    )
    .await;
    let as_viewer = app
        .post(
            format!("/api/v1/households/{}/recognize", ann.household),
            &vic,
            json!({"attachment_ids": [ok]}),
        )
        .await;
    assert_eq!(as_viewer.status, StatusCode::FORBIDDEN);
}

async fn a_failing_service_is_502_and_costs_nothing(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    let files = start(backend, Some(&fake), 5).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Radio").await;
    let id = photo(&files, &ann, &item).await;
    fake.set_fallback(Reply::status(500));
    let answer = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [id]}),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "upstream_failed");
    assert!(!answer.body["error"]["message"].as_str().unwrap().is_empty());
    assert_eq!(fake.requests().len(), 3, "tried three times");

    fake.set_fallback(Reply::Text("I see a radio.".into()));
    let unreadable = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [id]}),
        )
        .await;
    assert_eq!(unreadable.status, StatusCode::BAD_GATEWAY);
    assert!(
        unreadable.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("couldn't be read")
    );

    fake.set_fallback(Reply::items(
        json!([{"photo": 1, "name": "Radio", "confidence": 0.8}]),
    ));
    let ok = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [id]}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.body["remaining_today"], 4,
        "failed tries were not counted"
    );
}

async fn the_daily_limit_is_per_household(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    let files = start(backend, Some(&fake), 2).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Vase").await;
    let a = photo(&files, &ann, &item).await;
    let b = photo(&files, &ann, &item).await;
    let both = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [a, b]}),
        )
        .await;
    assert_eq!(
        (both.status, both.body["remaining_today"].as_i64()),
        (StatusCode::OK, Some(0))
    );
    let more = app
        .post(
            app.at(&ann, "/recognize"),
            &ann,
            json!({"attachment_ids": [a]}),
        )
        .await;
    assert_eq!(more.status, StatusCode::TOO_MANY_REQUESTS, "{}", more.body);
    assert_eq!(more.body["error"]["code"], "rate_limited");
    assert!(
        more.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tomorrow")
    );
    // Another household has its own allowance.
    let bob = app.register("Bob").await;
    let bob_item = files.item(&bob, "Clock").await;
    let c = photo(&files, &bob, &bob_item).await;
    let his = app
        .post(
            app.at(&bob, "/recognize"),
            &bob,
            json!({"attachment_ids": [c]}),
        )
        .await;
    assert_eq!(his.status, StatusCode::OK);
}

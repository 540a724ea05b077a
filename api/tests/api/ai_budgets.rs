//! The recognition budgets beyond the household's: households are free to make, so an
//! account has a daily allowance over all of them, the server one over everyone, and an
//! account may own only so many households.

use axum::http::StatusCode;
use futures_util::future::join_all;
use serde_json::json;

use crate::attachments::{Files, LIMIT, Place, jpeg_with_exif};
use crate::fake_anthropic::{FakeAnthropic, Reply};
use crate::helpers::{Backend, Person, TestResponse};

crate::on_every_backend!(
    many_households_dont_lift_an_accounts_daily_allowance,
    accounts_together_cant_pass_the_servers_daily_allowance,
    an_account_owns_at_most_so_many_households,
);

async fn start(
    backend: Backend,
    fake: &FakeAnthropic,
    configure: impl FnOnce(&mut api::Config),
) -> Files {
    Files::start_with(backend, Place::Folder, LIMIT, |config| {
        fake.configure(config);
        configure(config);
    })
    .await
    .unwrap()
}

/// A new household of `who`'s, as `who` signed into it.
async fn new_household(files: &Files, who: &Person, name: &str) -> Person {
    let app = &files.app;
    let created = app
        .post("/api/v1/households", who, json!({"name": name}))
        .await;
    created.assert_status(201);
    Person {
        household: created.id(),
        ..who.clone()
    }
}

/// Attaches a photo to a new item of `who`'s household and asks what it shows.
async fn recognize_one(files: &Files, who: &Person) -> TestResponse {
    let app = &files.app;
    let item = files.item(who, "Shelf").await;
    let done = files
        .attach(
            who,
            &item,
            "photo",
            "shelf.jpg",
            "image/jpeg",
            jpeg_with_exif(32, 24, 1),
        )
        .await;
    done.assert_status(200);
    app.post(
        app.at(who, "/recognize"),
        who,
        json!({"attachment_ids": [done.body["id"]]}),
    )
    .await
}

fn message(answer: &TestResponse) -> &str {
    answer.body["error"]["message"].as_str().unwrap_or_default()
}

async fn many_households_dont_lift_an_accounts_daily_allowance(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    fake.set_fallback(Reply::items(
        json!([{"photo": 1, "name": "Vase", "confidence": 0.9}]),
    ));
    let files = start(backend, &fake, |config| {
        config.ai_daily_limit = 100;
        config.ai_account_daily_limit = 3;
        config.ai_global_daily_limit = 1_000;
    })
    .await;
    let ann = files.app.register("Ann").await;
    let mut remaining = Vec::new();
    for n in 0..3 {
        let here = new_household(&files, &ann, &format!("Flat {n}")).await;
        let answer = recognize_one(&files, &here).await;
        answer.assert_status(200);
        remaining.push(answer.body["remaining_today"].as_i64().unwrap());
    }
    assert_eq!(
        remaining,
        vec![2, 1, 0],
        "the account's allowance is the smaller one"
    );

    // A fresh household of the same account: its own allowance is untouched, the
    // account's is spent.
    let fourth = new_household(&files, &ann, "Flat 4").await;
    let refused = recognize_one(&files, &fourth).await;
    refused.assert_status(429);
    assert_eq!(refused.error_code(), "rate_limited");
    assert!(
        message(&refused).contains("Your account has used its 3"),
        "{}",
        message(&refused)
    );
    assert_eq!(fake.requests().len(), 3, "the refused photo was never sent");

    // Someone else is not held up.
    let bob = files.app.register("Bob").await;
    recognize_one(&files, &bob).await.assert_status(200);
    assert_eq!(fake.requests().len(), 4);
}

async fn accounts_together_cant_pass_the_servers_daily_allowance(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    fake.set_fallback(Reply::items(
        json!([{"photo": 1, "name": "Clock", "confidence": 0.9}]),
    ));
    let files = start(backend, &fake, |config| {
        config.ai_daily_limit = 100;
        config.ai_account_daily_limit = 100;
        config.ai_global_daily_limit = 3;
    })
    .await;
    let ann = files.app.register("Ann").await;
    let bob = files.app.register("Bob").await;
    recognize_one(&files, &ann).await.assert_status(200);
    let second = recognize_one(&files, &bob).await;
    second.assert_status(200);
    assert_eq!(second.body["remaining_today"], 1);

    // Three asked at once for the last one: one gets it.
    let carol = files.app.register("Carol").await;
    let at_once = join_all((0..3).map(|_| recognize_one(&files, &carol))).await;
    let statuses: Vec<StatusCode> = at_once.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    for refused in at_once.iter().filter(|a| a.status != StatusCode::OK) {
        refused.assert_status(429);
        assert!(
            message(refused).contains("This server has made all the 3 photo recognitions"),
            "{}",
            message(refused)
        );
    }
    // Everyone else waits for tomorrow too.
    recognize_one(&files, &ann).await.assert_status(429);
    assert_eq!(fake.requests().len(), 3);
}

async fn an_account_owns_at_most_so_many_households(backend: Backend) {
    let fake = FakeAnthropic::start().await;
    let files = start(backend, &fake, |_| {}).await;
    let app = &files.app;
    assert_eq!(app.config.max_households_per_account, 20);
    let ann = app.register("Ann").await;
    // Registering made the first; 17 more one by one, then three at once for the last two.
    for n in 2..=18 {
        new_household(&files, &ann, &format!("Home {n}")).await;
    }
    let at_once = join_all((0..3).map(|n| {
        app.post(
            "/api/v1/households",
            &ann,
            json!({"name": format!("Race {n}")}),
        )
    }))
    .await;
    let made = at_once
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(
        made,
        2,
        "{:?}",
        at_once.iter().map(|a| a.status).collect::<Vec<_>>()
    );

    let twenty_first = app
        .post("/api/v1/households", &ann, json!({"name": "One too many"}))
        .await;
    twenty_first.assert_status(409);
    assert_eq!(twenty_first.error_code(), "conflict");
    assert!(
        message(&twenty_first).contains("you already own 20 households"),
        "{}",
        message(&twenty_first)
    );
    let listed = app.get("/api/v1/households", &ann).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 20);

    // Households shared with the account are not its own: joining one still works.
    let bob = app.register("Bob").await;
    let invite = app
        .post(app.at(&bob, "/invites"), &bob, json!({"role": "editor"}))
        .await;
    let code = invite.body["code"].as_str().unwrap();
    app.post(
        format!("/api/v1/invites/{code}/accept"),
        &ann,
        serde_json::Value::Null,
    )
    .await
    .assert_status(200);
    let listed = app.get("/api/v1/households", &ann).await;
    assert_eq!(listed.body["items"].as_array().unwrap().len(), 21);
}

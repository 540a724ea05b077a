//! Confirming an address before reminder digests go to it, against a real SMTP server on
//! loopback: an account made with somebody else's address sends them no digest; the owner's
//! link confirms it once, for a day, and only the latest link works; bad links, too many
//! mails (one a minute, five a day), a mail server that is down and a server without mail
//! each say what is wrong.

use axum::http::{Method, header};
use serde_json::json;
use time::macros::{date, time};
use time::{Date, Duration};

use crate::helpers::{Backend, Person, TestApp, TestResponse, spawn_app};
use crate::reminders::{Sink, app_mailing_to, confirmation_token, confirmed, execute};
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    an_unconfirmed_address_gets_no_digest_until_its_owner_confirms_it,
    bad_used_and_expired_links_confirm_nothing,
    one_mail_a_minute_and_only_the_latest_link_works,
    five_mails_a_day_at_most,
    what_cannot_be_sent_says_why,
);

const SEND: &str = "/api/v1/me/email/confirmation";
const CONFIRM: &str = "/api/v1/email/confirm";
const SETTINGS: &str = "/api/v1/me/reminders";
/// A Monday.
const TODAY: Date = date!(2030 - 01 - 07);

/// Uses a confirmation link, with no cookie: the mail may be read on another device.
async fn confirm(app: &TestApp, token: &str) -> TestResponse {
    app.request(
        Method::POST,
        CONFIRM,
        None,
        Some(json!({ "token": token })),
        &[],
    )
    .await
}

async fn send(app: &TestApp, who: &Person) -> TestResponse {
    app.request(Method::POST, SEND, Some(&who.token), None, &[])
        .await
}

async fn is_confirmed(app: &TestApp, who: &Person) -> bool {
    let settings = app.get(SETTINGS, who).await;
    settings.assert_status(200);
    settings.body["email_confirmed"].as_bool().unwrap()
}

async fn warranty_in_ten_days(app: &TestApp, who: &Person, name: &str) {
    let ends = shared::Day(TODAY + Duration::days(10)).to_string();
    app.create_item(who, json!({"name": name, "warranty_expires": ends}))
        .await
        .assert_status(201);
}

/// Moves `column` of `who`'s confirmation mail `seconds` into the past, as if that much
/// time had gone by.
async fn move_back(app: &TestApp, who: &Person, column: &str, seconds: i64) {
    let u = &who.user_id;
    let micros = seconds * 1_000_000;
    execute(
        app,
        format!(
            "UPDATE email_confirmations SET {column} = {column} - {micros} WHERE user_id = '{u}'"
        ),
        format!(
            "UPDATE email_confirmations SET {column} = {column} - interval '{seconds} seconds' \
             WHERE user_id = '{u}'"
        ),
    )
    .await;
}

async fn pass_on(app: &TestApp, day: Date) -> api::reminders::PassReport {
    let state = api::AppState::new(app.config.clone(), std::sync::Arc::clone(&app.store)).unwrap();
    let at = day.with_time(time!(09:00)).assume_utc();
    api::reminders::pass(&state, at, false).await.unwrap()
}

async fn an_unconfirmed_address_gets_no_digest_until_its_owner_confirms_it(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    // Someone signs up with an address that is not theirs and adds items with warranties
    // ending: the address's owner must not start getting mail from it.
    let stranger = app.register("Stranger").await;
    warranty_in_ten_days(&app, &stranger, "Fridge").await;
    let ana = confirmed(&app, "Ana").await;
    warranty_in_ten_days(&app, &ana, "Kettle").await;
    // Google sign-in confirms an address too.
    let gus = app.register("Gus").await;
    let g = &gus.user_id;
    execute(
        &app,
        format!("UPDATE users SET email_verified_at = 1 WHERE id = '{g}'"),
        format!("UPDATE users SET email_verified_at = now() WHERE id = '{g}'"),
    )
    .await;
    warranty_in_ten_days(&app, &gus, "Drill").await;
    assert!(!is_confirmed(&app, &stranger).await);
    assert!(is_confirmed(&app, &ana).await);
    assert!(is_confirmed(&app, &gus).await);
    send(&app, &gus).await.assert_status(409);

    let report = pass_on(&app, TODAY).await;
    assert_eq!(report.sent, 2, "{report:?}");
    assert!(sink.to(&stranger).is_empty(), "{:?}", sink.messages());
    assert_eq!(sink.to(&ana).len(), 1);
    assert_eq!(sink.to(&gus).len(), 1);

    // The address's real owner asks for the confirmation mail and opens its link.
    let sent = send(&app, &stranger).await;
    sent.assert_status(202);
    assert_eq!(sent.body["email"], stranger.email.as_str());
    let mail = sink.to(&stranger);
    assert_eq!(mail.len(), 1, "{mail:?}");
    assert_eq!(
        mail[0]["subject"],
        "Confirm your address for Home Inventory reminders"
    );
    let token = confirmation_token(&mail[0]);
    let base = app.config.public_url.trim_end_matches('/');
    let link = format!("{base}/confirm-email/{token}");
    assert!(
        mail[0]["text"].as_str().unwrap().contains(&link),
        "{mail:?}"
    );
    assert!(
        mail[0]["html"].as_str().unwrap().contains(&link),
        "{mail:?}"
    );
    assert!(
        !is_confirmed(&app, &stranger).await,
        "asking is not confirming"
    );

    let done = confirm(&app, &token).await;
    done.assert_status(200);
    assert_eq!(done.body["email"], stranger.email.as_str());
    assert!(is_confirmed(&app, &stranger).await);
    // Confirmed for mail only: the account's email is not marked verified, so a Google
    // sign-in by the address's owner still takes the account over rather than joining it.
    let row = app
        .store
        .user_by_email(&stranger.email)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email_verified_at, None);
    let again = send(&app, &stranger).await;
    again.assert_status(409);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("confirmed already")
    );

    // From the next day's pass on, the digest goes there.
    let report = pass_on(&app, TODAY + Duration::days(1)).await;
    assert_eq!(report.sent, 1, "{report:?}");
    assert_eq!(sink.to(&ana).len(), 1, "nothing new for Ana");
    let mail = sink.to(&stranger);
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert!(mail[1]["text"].as_str().unwrap().contains("Fridge"));
}

async fn bad_used_and_expired_links_confirm_nothing(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ann = app.register("Ann").await;
    for bad in ["", "short", &"x".repeat(43), &"A".repeat(4000), "../../me"] {
        let refused = confirm(&app, bad).await;
        refused.assert_status(404);
        assert_eq!(refused.error_code(), "not_found");
        assert!(
            refused.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("send a new one from Settings"),
            "{}",
            refused.body
        );
    }
    let wrong_shape = app
        .request(Method::POST, CONFIRM, None, Some(json!({"secret": 1})), &[])
        .await;
    wrong_shape.assert_status(400);
    assert!(
        wrong_shape.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("token")
    );

    send(&app, &ann).await.assert_status(202);
    let token = confirmation_token(&sink.to(&ann)[0]);
    // A day and a bit later the link has expired.
    move_back(&app, &ann, "expires_at", 25 * 3600).await;
    confirm(&app, &token).await.assert_status(404);
    assert!(!is_confirmed(&app, &ann).await);

    // A fresh link works once.
    move_back(&app, &ann, "sent_at", 3600).await;
    send(&app, &ann).await.assert_status(202);
    let token = confirmation_token(&sink.to(&ann)[1]);
    confirm(&app, &token).await.assert_status(200);
    confirm(&app, &token).await.assert_status(404);
    assert!(is_confirmed(&app, &ann).await);
}

async fn one_mail_a_minute_and_only_the_latest_link_works(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ann = app.register("Ann").await;
    send(&app, &ann).await.assert_status(202);
    let too_soon = send(&app, &ann).await;
    too_soon.assert_status(429);
    let wait: u64 = too_soon.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After: {wait}");
    assert!(
        too_soon.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("check your inbox")
    );
    assert_eq!(sink.to(&ann).len(), 1, "no second mail");

    // A minute later a new mail replaces the first link.
    move_back(&app, &ann, "sent_at", 61).await;
    send(&app, &ann).await.assert_status(202);
    let mail = sink.to(&ann);
    assert_eq!(mail.len(), 2);
    let (first, latest) = (confirmation_token(&mail[0]), confirmation_token(&mail[1]));
    assert_ne!(first, latest);
    confirm(&app, &first).await.assert_status(404);
    assert!(!is_confirmed(&app, &ann).await);
    confirm(&app, &latest).await.assert_status(200);
    assert!(is_confirmed(&app, &ann).await);
}

async fn five_mails_a_day_at_most(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ann = app.register("Ann").await;
    for _ in 0..5 {
        send(&app, &ann).await.assert_status(202);
        move_back(&app, &ann, "sent_at", 61).await;
    }
    let sixth = send(&app, &ann).await;
    sixth.assert_status(429);
    let message = sixth.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("the most a day"), "{message}");
    let wait: u64 = sixth.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (23 * 3600..=24 * 3600).contains(&wait),
        "Retry-After: {wait}"
    );
    assert_eq!(sink.to(&ann).len(), 5, "no sixth mail");
    let fifth = confirmation_token(&sink.to(&ann)[4]);

    // A day later, mails may go again; the new one's link replaces the fifth's.
    move_back(&app, &ann, "window_started_at", 24 * 3600).await;
    send(&app, &ann).await.assert_status(202);
    assert_eq!(sink.to(&ann).len(), 6);
    confirm(&app, &fifth).await.assert_status(404);
    let newest = confirmation_token(&sink.to(&ann)[5]);
    confirm(&app, &newest).await.assert_status(200);
}

async fn what_cannot_be_sent_says_why(backend: Backend) {
    // No mail configured: the settings say so, and asking answers 503.
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let settings = app.get(SETTINGS, &ann).await;
    assert_eq!(settings.body["mail_configured"], false);
    assert_eq!(settings.body["email_confirmed"], false);
    let refused = send(&app, &ann).await;
    refused.assert_status(503);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not set up to send email")
    );

    // An API token can't send mail on its owner's behalf.
    let (token, _) = make_token(&app, &ann, json!({"name": "script", "scope": "write"})).await;
    with_token(&app, Method::POST, SEND, &token, None)
        .await
        .assert_status(403);
    // Nor can nobody.
    app.request(Method::POST, SEND, None, None, &[])
        .await
        .assert_status(401);

    // A mail server that is down: 502, nothing kept, and asking again is not held back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let app = app_mailing_to(backend, &format!("smtp://127.0.0.1:{port}")).await;
    let bob = app.register("Bob").await;
    for _ in 0..2 {
        let down = send(&app, &bob).await;
        down.assert_status(502);
        assert!(
            down.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("try again")
        );
    }
    assert!(!is_confirmed(&app, &bob).await);
}

//! What an API token may do: its owner's role in a household intersected with its scope, in
//! the households it reaches, until it expires, at a limited rate, and never what needs a
//! signed-in person. Bad tokens are refused before the database is asked.

use axum::http::Method;
use serde_json::{Value, json};
use shared::{TokenId, TokenScope, UserId};
use time::{Duration, OffsetDateTime};
use tracing::instrument::WithSubscriber;

use crate::helpers::{Backend, Person, spawn_app, spawn_app_with};
use crate::request_logs::Captured;
use crate::tokens::{assert_invalid_token, make_token, with_token};

crate::on_every_backend!(
    a_read_token_reads_but_every_write_is_forbidden,
    a_write_token_writes_no_more_than_its_owners_role_allows,
    a_token_limited_to_one_household_sees_no_other,
    an_expired_token_is_refused_as_invalid,
    malformed_tokens_are_refused_without_a_trip_to_the_database,
    what_needs_a_signed_in_person_refuses_tokens,
    a_token_over_its_rate_is_told_when_to_retry,
    a_session_cookie_still_works_beside_another_authorization_scheme,
);

async fn a_read_token_reads_but_every_write_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let kettle = app.create_item(&ann, json!({"name": "Kettle"})).await.id();
    let (token, _) = make_token(&app, &ann, json!({"name": "Dashboard", "scope": "read"})).await;

    let item = app.at(&ann, &format!("/items/{kettle}"));
    for path in [
        app.at(&ann, "/items"),
        item.clone(),
        format!("{item}/history"),
        app.at(&ann, "/locations"),
        app.at(&ann, "/tags"),
        app.at(&ann, "/stats"),
        app.at(&ann, "/members"),
        app.at(&ann, ""),
    ] {
        with_token(&app, Method::GET, &path, &token, None)
            .await
            .assert_status(200);
    }
    let writes = [
        (
            Method::POST,
            app.at(&ann, "/items"),
            json!({"name": "Toaster"}),
        ),
        (Method::PATCH, item.clone(), json!({"name": "Teapot"})),
        (Method::DELETE, item.clone(), Value::Null),
        (
            Method::POST,
            app.at(&ann, "/locations"),
            json!({"name": "Hall"}),
        ),
        (Method::PATCH, app.at(&ann, ""), json!({"name": "Renamed"})),
        (Method::DELETE, app.at(&ann, "/trash"), Value::Null),
    ];
    for (method, path, body) in writes {
        let body = (!body.is_null()).then_some(body);
        let response = with_token(&app, method.clone(), &path, &token, body).await;
        response.assert_status(403);
        assert_eq!(response.error_code(), "forbidden", "{method} {path}");
        assert!(
            response.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("only read"),
            "{}",
            response.body
        );
    }
    // Nothing changed.
    let seen = app.get(&item, &ann).await;
    seen.assert_status(200);
    assert_eq!(seen.body["name"], "Kettle");
    assert_eq!(
        crate::helpers::names(&app.get(app.at(&ann, "/items"), &ann).await.body),
        ["Kettle"]
    );
}

/// Bob, a viewer of Ann's household, with a write token: still a viewer there.
async fn a_write_token_writes_no_more_than_its_owners_role_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let code = invite.body["code"].as_str().unwrap().to_string();
    let bob = app.register("Bob").await;
    app.post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
        .await
        .assert_status(200);
    let (token, _) = make_token(&app, &bob, json!({"name": "Bob's", "scope": "write"})).await;

    let items = app.at(&ann, "/items");
    with_token(&app, Method::GET, &items, &token, None)
        .await
        .assert_status(200);
    let refused = with_token(
        &app,
        Method::POST,
        &items,
        &token,
        Some(json!({"name": "Toaster"})),
    )
    .await;
    refused.assert_status(403);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("viewers"),
        "{}",
        refused.body
    );
    // In his own household he writes.
    with_token(
        &app,
        Method::POST,
        &app.at(&bob, "/items"),
        &token,
        Some(json!({"name": "Toaster"})),
    )
    .await
    .assert_status(201);
}

async fn a_token_limited_to_one_household_sees_no_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let cabin = app
        .post("/api/v1/households", &ann, json!({"name": "Cabin"}))
        .await;
    cabin.assert_status(201);
    let cabin = Person {
        household: cabin.id(),
        ..ann.clone()
    };
    app.create_item(&cabin, json!({"name": "Canoe"})).await;
    let (token, _) = make_token(
        &app,
        &ann,
        json!({"name": "Home only", "scope": "write", "household_id": ann.household}),
    )
    .await;

    with_token(&app, Method::GET, &app.at(&ann, "/items"), &token, None)
        .await
        .assert_status(200);
    for (method, path, body) in [
        (Method::GET, app.at(&cabin, ""), None),
        (Method::GET, app.at(&cabin, "/items"), None),
        (
            Method::POST,
            app.at(&cabin, "/items"),
            Some(json!({"name": "Paddle"})),
        ),
        (Method::GET, app.at(&cabin, "/locations"), None),
    ] {
        let response = with_token(&app, method, &path, &token, body).await;
        response.assert_status(404);
        assert_eq!(response.error_code(), "not_found");
    }
    let listed = |body: &Value, key: &str| -> Vec<String> {
        body[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect()
    };
    let households = with_token(&app, Method::GET, "/api/v1/households", &token, None).await;
    assert_eq!(listed(&households.body, "items"), [ann.household.as_str()]);
    let me = with_token(&app, Method::GET, "/api/v1/me", &token, None).await;
    assert_eq!(listed(&me.body, "households"), [ann.household.as_str()]);
    // Signed in, Ann still sees both.
    let mine = app.get("/api/v1/households", &ann).await;
    assert_eq!(listed(&mine.body, "items").len(), 2);
}

async fn an_expired_token_is_refused_as_invalid(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let secret = api::auth::tokens::generate().unwrap();
    let created = OffsetDateTime::now_utc() - Duration::days(91);
    app.store
        .create_api_token(&api::store::ApiTokenRow {
            id: TokenId::new(),
            user_id: ann.user_id.parse::<UserId>().unwrap(),
            secret_hash: api::auth::token_hash(&secret),
            name: "Forgotten".into(),
            scope: TokenScope::Write,
            household_id: None,
            hint: api::auth::tokens::hint(&secret),
            created_at: created,
            expires_at: created + Duration::days(90),
            last_used_at: None,
        })
        .await
        .unwrap();
    let response = with_token(&app, Method::GET, &app.at(&ann, "/items"), &secret, None).await;
    assert_invalid_token(&response);
    assert!(
        response.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired"),
        "{}",
        response.body
    );
    // It is still listed, for its owner to see and revoke.
    let list = app.get("/api/v1/tokens", &ann).await;
    assert_eq!(list.body["items"][0]["name"], "Forgotten");
}

async fn malformed_tokens_are_refused_without_a_trip_to_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (token, _) = make_token(&app, &ann, json!({"name": "Real", "scope": "read"})).await;
    let typo = {
        let mut chars: Vec<char> = token.chars().collect();
        chars[10] = if chars[10] == 'x' { 'y' } else { 'x' };
        chars.into_iter().collect::<String>()
    };
    let swapped = {
        let mut chars: Vec<char> = token.chars().collect();
        chars.swap(7, 8);
        chars.into_iter().collect::<String>()
    };
    let items = app.at(&ann, "/items");
    let mut bad = vec![
        typo,
        token[..token.len() - 1].to_string(),
        format!("{token}0"),
        token.replacen("hinv_", "HINV_", 1),
        "hinv_".into(),
        "not-a-token".into(),
        String::new(),
    ];
    if swapped != token {
        bad.push(swapped);
    }
    for candidate in &bad {
        let trips = app.store.round_trips();
        let response = with_token(&app, Method::GET, &items, candidate, None).await;
        assert_invalid_token(&response);
        assert_eq!(
            app.store.round_trips(),
            trips,
            "{candidate:?} reached the database"
        );
    }
    // The counter does count: a well-formed token nobody made costs its one look-up.
    let unknown = api::auth::tokens::generate().unwrap();
    let trips = app.store.round_trips();
    assert_invalid_token(&with_token(&app, Method::GET, &items, &unknown, None).await);
    assert_eq!(app.store.round_trips(), trips + 1);
    // A bearer token is never taken for a session, nor a session for a bearer token.
    assert_invalid_token(&with_token(&app, Method::GET, &items, &ann.token, None).await);
    let as_cookie = app
        .request(Method::GET, &items, Some(&token), None, &[])
        .await;
    as_cookie.assert_status(401);
}

async fn what_needs_a_signed_in_person_refuses_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let (token, info) = make_token(&app, &ann, json!({"name": "Script", "scope": "write"})).await;
    let invite = app
        .post(app.at(&bob, "/invites"), &bob, json!({"role": "editor"}))
        .await;
    let code = invite.body["code"].as_str().unwrap().to_string();
    let token_path = format!("/api/v1/tokens/{}", info["id"].as_str().unwrap());
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::POST,
            "/api/v1/tokens".into(),
            Some(json!({"name": "Another", "scope": "write"})),
        ),
        (Method::GET, "/api/v1/tokens".into(), None),
        (Method::DELETE, token_path, None),
        (
            Method::POST,
            "/api/v1/me/password".into(),
            Some(json!({"current_password": "correct horse", "new_password": "battery staple"})),
        ),
        (Method::POST, "/api/v1/auth/logout".into(), None),
        (
            Method::POST,
            "/api/v1/households".into(),
            Some(json!({"name": "Cabin"})),
        ),
        (
            Method::POST,
            app.at(&ann, "/invites"),
            Some(json!({"role": "editor"})),
        ),
        (Method::GET, app.at(&ann, "/invites"), None),
        (
            Method::PATCH,
            app.at(&ann, &format!("/members/{}", ann.user_id)),
            Some(json!({"role": "owner"})),
        ),
        (
            Method::DELETE,
            app.at(&ann, &format!("/members/{}", ann.user_id)),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/invites/{code}/accept"),
            Some(json!({})),
        ),
    ];
    for (method, path, body) in cases {
        let response = with_token(&app, method.clone(), &path, &token, body).await;
        response.assert_status(403);
        assert!(
            response.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("signed-in person"),
            "{method} {path}: {}",
            response.body
        );
    }
    // None of it happened.
    let list = app.get("/api/v1/tokens", &ann).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    let mine = app.get("/api/v1/households", &ann).await;
    assert_eq!(mine.body["items"].as_array().unwrap().len(), 1);
    app.get("/api/v1/me", &ann).await.assert_status(200);
    // Reading who belongs is not managing it.
    with_token(&app, Method::GET, &app.at(&ann, "/members"), &token, None)
        .await
        .assert_status(200);
}

async fn a_token_over_its_rate_is_told_when_to_retry(backend: Backend) {
    // Three at once, then one every 100 seconds: the test never waits for a refill.
    let app = spawn_app_with(backend, |config| {
        config.api_token_rate = 0.01;
        config.api_token_burst = 3;
    })
    .await;
    let ann = app.register("Ann").await;
    let (busy, _) = make_token(&app, &ann, json!({"name": "Runaway", "scope": "read"})).await;
    let (calm, _) = make_token(&app, &ann, json!({"name": "Calm", "scope": "read"})).await;
    let items = app.at(&ann, "/items");
    for _ in 0..3 {
        with_token(&app, Method::GET, &items, &busy, None)
            .await
            .assert_status(200);
    }
    let limited = with_token(&app, Method::GET, &items, &busy, None).await;
    limited.assert_status(429);
    assert_eq!(limited.error_code(), "rate_limited");
    let retry: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=100).contains(&retry), "Retry-After: {retry}");
    // Another token, and the person signed in, are not held back by it.
    with_token(&app, Method::GET, &items, &calm, None)
        .await
        .assert_status(200);
    for _ in 0..5 {
        app.get(&items, &ann).await.assert_status(200);
    }
}

/// A proxy's own sign-in (`Authorization: Basic …`) in front of the server does not hide
/// the session cookie.
async fn a_session_cookie_still_works_beside_another_authorization_scheme(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let response = app
        .request(
            Method::GET,
            "/api/v1/me",
            Some(&ann.token),
            None,
            &[("authorization", "Basic YW5uOnNlY3JldA==")],
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.body["user"]["id"], ann.user_id.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tokens_stay_out_of_the_request_log() {
    let app = spawn_app(Backend::Sqlite).await;
    let ann = app.register("Ann").await;
    let log = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let token = async {
        let (token, _) = make_token(&app, &ann, json!({"name": "Logged?", "scope": "read"})).await;
        let items = app.at(&ann, "/items");
        with_token(&app, Method::GET, &items, &token, None)
            .await
            .assert_status(200);
        with_token(
            &app,
            Method::POST,
            &items,
            &token,
            Some(json!({"name": "x"})),
        )
        .await
        .assert_status(403);
        // The last character typed wrong (never the one it already is).
        let wrong = if token.ends_with('x') { 'y' } else { 'x' };
        let mistyped = format!("{}{wrong}", &token[..token.len() - 1]);
        assert_invalid_token(&with_token(&app, Method::GET, &items, &mistyped, None).await);
        token
    }
    .with_subscriber(subscriber)
    .await;

    let text = log.text();
    assert!(text.contains("/items"), "the requests were logged:\n{text}");
    assert!(
        !text.contains(&token[5..]) && !text.contains(&token[5..token.len() - 1]),
        "a token reached the log:\n{text}"
    );
    assert!(
        !text.to_ascii_lowercase().contains("bearer"),
        "the Authorization header reached the log:\n{text}"
    );
}

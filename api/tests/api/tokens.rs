//! Personal API tokens: made once, listed by their hint, used like their owner (within their
//! scope and household), revoked at once, and named in the history of what they changed.

use axum::http::Method;
use serde_json::{Value, json};
use shared::TokenId;
use time::{Duration, OffsetDateTime};

use crate::helpers::{Backend, Person, TestApp, TestResponse, spawn_app};

crate::on_every_backend!(
    a_new_token_is_shown_once_and_listed_by_its_hint,
    bad_token_requests_are_refused_field_by_field,
    a_write_token_reads_and_writes_like_its_owner,
    revoking_a_token_refuses_its_next_request,
    changes_made_through_a_token_name_it_in_the_history,
    last_use_is_written_at_most_once_an_hour,
);

/// Makes a token as `who` (signed in); returns its secret and its description.
pub async fn make_token(app: &TestApp, who: &Person, body: Value) -> (String, Value) {
    let made = app.post("/api/v1/tokens", who, body).await;
    made.assert_status(201);
    let secret = made.body["token"].as_str().unwrap().to_string();
    (secret, made.body["token_info"].clone())
}

/// A request with `Authorization: Bearer <token>` and no cookie.
pub async fn with_token(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> TestResponse {
    let authorization = format!("Bearer {token}");
    app.request(
        method,
        path,
        None,
        body,
        &[("authorization", &authorization)],
    )
    .await
}

/// The 401 of a refused token: the one error body and the bearer challenge.
#[track_caller]
pub fn assert_invalid_token(response: &TestResponse) {
    response.assert_status(401);
    assert_eq!(response.error_code(), "unauthorized");
    assert_eq!(
        response.headers["www-authenticate"],
        r#"Bearer error="invalid_token""#
    );
}

fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        value
            .as_str()
            .unwrap_or_else(|| panic!("not a time: {value}")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

async fn a_new_token_is_shown_once_and_listed_by_its_hint(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let made = app
        .post(
            "/api/v1/tokens",
            &ann,
            json!({"name": "  Home Assistant ", "scope": "read"}),
        )
        .await;
    made.assert_status(201);
    let secret = made.body["token"].as_str().unwrap();
    assert!(secret.starts_with("hinv_"), "{secret}");
    assert_eq!(secret.len(), 41);
    assert!(secret[5..].bytes().all(|b| b.is_ascii_alphanumeric()));
    let info = &made.body["token_info"];
    assert_eq!(info["name"], "Home Assistant");
    assert_eq!(info["scope"], "read");
    assert_eq!(info["household_id"], Value::Null);
    assert_eq!(info["last_used_at"], Value::Null);
    assert_eq!(info["hint"], secret[secret.len() - 4..]);
    let lifetime = time_of(&info["expires_at"]) - time_of(&info["created_at"]);
    assert_eq!(lifetime, Duration::days(90), "the default lifetime");

    let (_, limited) = make_token(
        &app,
        &ann,
        // A whole number may be written as JSON allows, `366.0` too.
        json!({"name": "Spreadsheet", "scope": "write", "household_id": ann.household,
               "expires_in_days": 366.0}),
    )
    .await;
    assert_eq!(limited["household_id"], ann.household.as_str());
    let lifetime = time_of(&limited["expires_at"]) - time_of(&limited["created_at"]);
    assert_eq!(lifetime, Duration::days(366));

    let list = app.get("/api/v1/tokens", &ann).await;
    list.assert_status(200);
    let items = list.body["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Spreadsheet", "Home Assistant"], "newest first");
    assert_eq!(&items[1], info);
    assert!(
        !list.body.to_string().contains(&secret[5..]),
        "the list shows no secret: {}",
        list.body
    );
    // Someone else's list holds none of Ann's tokens.
    let bob = app.register("Bob").await;
    let theirs = app.get("/api/v1/tokens", &bob).await;
    assert_eq!(theirs.body["items"], json!([]));
}

async fn bad_token_requests_are_refused_field_by_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let refused = |body: Value, field: &'static str| {
        let (app, ann) = (&app, &ann);
        async move {
            let response = app.post("/api/v1/tokens", ann, body.clone()).await;
            response.assert_status(422);
            assert!(
                response.body["error"]["details"][field].is_string(),
                "{body} → {}",
                response.body
            );
        }
    };
    refused(json!({"name": " ", "scope": "read"}), "name").await;
    refused(json!({"name": "x".repeat(101), "scope": "read"}), "name").await;
    refused(json!({"name": "n", "scope": "admin"}), "scope").await;
    refused(
        json!({"name": "n", "scope": "read", "expires_in_days": 0}),
        "expires_in_days",
    )
    .await;
    refused(
        json!({"name": "n", "scope": "read", "expires_in_days": 367}),
        "expires_in_days",
    )
    .await;
    refused(
        json!({"name": "n", "scope": "read", "expires_in_days": 1.5}),
        "expires_in_days",
    )
    .await;
    refused(
        json!({"name": "n", "scope": "read", "household_id": bob.household}),
        "household_id",
    )
    .await;
    refused(
        json!({"name": "n", "scope": "read", "household_id": "not-an-id"}),
        "household_id",
    )
    .await;
    // The scope must be said.
    let response = app.post("/api/v1/tokens", &ann, json!({"name": "n"})).await;
    response.assert_status(400);
    assert_eq!(response.error_code(), "bad_request");
    assert_eq!(
        app.get("/api/v1/tokens", &ann).await.body["items"],
        json!([])
    );
}

async fn a_write_token_reads_and_writes_like_its_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(&ann, json!({"name": "Kettle"})).await;
    let (token, _) = make_token(&app, &ann, json!({"name": "Sync", "scope": "write"})).await;

    let me = with_token(&app, Method::GET, "/api/v1/me", &token, None).await;
    me.assert_status(200);
    assert_eq!(me.body["user"]["id"], ann.user_id.as_str());

    let items = app.at(&ann, "/items");
    let list = with_token(&app, Method::GET, &items, &token, None).await;
    list.assert_status(200);
    assert_eq!(crate::helpers::names(&list.body), ["Kettle"]);

    let made = with_token(
        &app,
        Method::POST,
        &items,
        &token,
        Some(json!({"name": "Toaster"})),
    )
    .await;
    made.assert_status(201);
    let toaster = app.at(&ann, &format!("/items/{}", made.id()));
    with_token(
        &app,
        Method::PATCH,
        &toaster,
        &token,
        Some(json!({"quantity": 2})),
    )
    .await
    .assert_status(200);
    let location = with_token(
        &app,
        Method::POST,
        &app.at(&ann, "/locations"),
        &token,
        Some(json!({"name": "Kitchen"})),
    )
    .await;
    location.assert_status(201);
    // An owner's write token may change the household's settings: they are its data too.
    let renamed = with_token(
        &app,
        Method::PATCH,
        &app.at(&ann, ""),
        &token,
        Some(json!({"name": "The flat"})),
    )
    .await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "The flat");
    // What the token wrote is Ann's to see, signed in.
    let seen = app.get(&toaster, &ann).await;
    assert_eq!(seen.body["quantity"], 2);
    with_token(&app, Method::DELETE, &toaster, &token, None)
        .await
        .assert_status(204);
    app.get(&toaster, &ann).await.assert_status(404);
}

async fn revoking_a_token_refuses_its_next_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let (token, info) = make_token(&app, &ann, json!({"name": "Old", "scope": "read"})).await;
    let (_, kept) = make_token(&app, &ann, json!({"name": "Kept", "scope": "read"})).await;
    let items = app.at(&ann, "/items");
    with_token(&app, Method::GET, &items, &token, None)
        .await
        .assert_status(200);

    let path = format!("/api/v1/tokens/{}", info["id"].as_str().unwrap());
    // Only its owner can revoke it: to anyone else it does not exist.
    let stranger = app.delete(&path, &bob).await;
    stranger.assert_status(404);
    assert_eq!(stranger.error_code(), "not_found");
    with_token(&app, Method::GET, &items, &token, None)
        .await
        .assert_status(200);

    app.delete(&path, &ann).await.assert_status(204);
    assert_invalid_token(&with_token(&app, Method::GET, &items, &token, None).await);
    let list = app.get("/api/v1/tokens", &ann).await;
    assert_eq!(list.body["items"], json!([kept]));
    app.delete(&path, &ann).await.assert_status(404);
    app.delete(format!("/api/v1/tokens/{}", TokenId::new()), &ann)
        .await
        .assert_status(404);
}

async fn changes_made_through_a_token_name_it_in_the_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (token, _) = make_token(
        &app,
        &ann,
        json!({"name": "Barcode scanner", "scope": "write"}),
    )
    .await;
    let made = with_token(
        &app,
        Method::POST,
        &app.at(&ann, "/items"),
        &token,
        Some(json!({"name": "Drill"})),
    )
    .await;
    made.assert_status(201);
    let item = app.at(&ann, &format!("/items/{}", made.id()));
    with_token(
        &app,
        Method::PATCH,
        &item,
        &token,
        Some(json!({"brand": "Bosch"})),
    )
    .await
    .assert_status(200);
    app.patch(&item, &ann, json!({"notes": "in the shed"}))
        .await
        .assert_status(200);
    // The token is revoked; what it did still says so.
    let id = app.get("/api/v1/tokens", &ann).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(format!("/api/v1/tokens/{id}"), &ann)
        .await
        .assert_status(204);

    let history = app.get(format!("{item}/history"), &ann).await;
    history.assert_status(200);
    let entries: Vec<(&str, &Value, &str)> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                &e["via_token"],
                e["actor"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("updated", &Value::Null, "Ann"),
            ("updated", &json!("Barcode scanner"), "Ann"),
            ("created", &json!("Barcode scanner"), "Ann"),
        ]
    );
}

async fn last_use_is_written_at_most_once_an_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (token, info) = make_token(&app, &ann, json!({"name": "Poller", "scope": "read"})).await;
    let id: TokenId = info["id"].as_str().unwrap().parse().unwrap();
    let last_used = || async {
        let list = app.get("/api/v1/tokens", &ann).await;
        list.body["items"][0]["last_used_at"].clone()
    };
    assert_eq!(last_used().await, Value::Null);

    let items = app.at(&ann, "/items");
    let before = OffsetDateTime::now_utc() - Duration::seconds(1);
    with_token(&app, Method::GET, &items, &token, None)
        .await
        .assert_status(200);
    let first = last_used().await;
    assert!(time_of(&first) >= before, "{first}");

    // Used again within the hour: nothing is written. (The token and the membership are
    // kept by the process for a few seconds, so the answer needs only the items.)
    let trips = app.store.round_trips();
    with_token(&app, Method::GET, &items, &token, None)
        .await
        .assert_status(200);
    assert_eq!(
        app.store.round_trips() - trips,
        1,
        "only the items are read"
    );
    assert_eq!(last_used().await, first);

    // Two hours later (as far as the token knows), the next use is written: by a process
    // reading the token afresh, as every process does within seconds.
    let earlier = OffsetDateTime::now_utc() - Duration::hours(2);
    app.store
        .touch_api_token(id, earlier, OffsetDateTime::now_utc() + Duration::hours(1))
        .await
        .unwrap();
    let shared = crate::helpers::TestDb::shared(&app);
    let store = shared.store().await;
    let other = TestApp::on(shared, store, |_| {});
    let trips = other.store.round_trips();
    with_token(&other, Method::GET, &items, &token, None)
        .await
        .assert_status(200);
    assert_eq!(
        other.store.round_trips() - trips,
        5,
        "the token, the membership, the location tree, the items and the write"
    );
    let written = last_used().await;
    assert!(time_of(&written) >= time_of(&first), "{written}");
}

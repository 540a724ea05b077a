use axum::http::Method;
use serde_json::json;

use crate::helpers::{Backend, session_cookie, spawn_app, spawn_app_with};

crate::on_every_backend!(
    registering_creates_an_account_a_first_household_and_a_session,
    registering_reports_every_bad_field,
    an_email_can_register_only_once,
    signing_in_with_a_wrong_password_or_unknown_email_says_the_same,
    repeated_failed_sign_ins_are_rate_limited,
    signing_out_ends_the_session,
    requests_without_a_session_are_unauthorized,
    unsafe_requests_from_another_site_are_refused,
    malformed_bodies_get_the_one_error_body,
    local_accounts_can_be_turned_off,
    health_reports_ok_and_the_version,
    unknown_api_paths_answer_404_in_the_error_body,
);

async fn registering_creates_an_account_a_first_household_and_a_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": " Ann@Example.com ", "password": "correct horse", "name": "Ann"})),
            &[],
        )
        .await;
    response.assert_status(201);
    assert_eq!(response.body["user"]["email"], "ann@example.com");
    assert_eq!(response.body["user"]["name"], "Ann");
    let cookie = response.headers["set-cookie"].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get Secure cookies: {cookie}"
    );
    let token = session_cookie(&response.headers).unwrap();
    assert!(token.len() >= 43, "256-bit tokens: {token}");
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&token), None, &[])
        .await;
    me.assert_status(200);
    assert_eq!(me.body["households"][0]["name"], "My Home");
    assert_eq!(me.body["households"][0]["role"], "owner");
    // The token is stored only as a hash.
    assert!(
        app.store
            .session(token.as_bytes(), time::OffsetDateTime::now_utc())
            .await
            .unwrap()
            .is_none()
    );
}

async fn registering_reports_every_bad_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "not-an-email", "password": "short", "name": " "})),
            &[],
        )
        .await;
    response.assert_status(422);
    assert_eq!(response.error_code(), "validation_failed");
    let details = &response.body["error"]["details"];
    assert!(details["email"].is_string());
    assert!(details["password"].as_str().unwrap().contains("8"));
    assert!(details["name"].is_string());
}

async fn an_email_can_register_only_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let again = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": ann.email.to_uppercase(), "password": "another one", "name": "Impostor"})),
            &[],
        )
        .await;
    again.assert_status(409);
    assert_eq!(again.error_code(), "conflict");
    // The first account still signs in with its own password.
    let login = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": ann.email, "password": "correct horse"})),
            &[],
        )
        .await;
    login.assert_status(200);
    assert_eq!(login.body["user"]["name"], "Ann");
}

async fn signing_in_with_a_wrong_password_or_unknown_email_says_the_same(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let wrong = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": ann.email, "password": "wrong password"})),
            &[],
        )
        .await;
    let unknown = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "nobody@example.com", "password": "wrong password"})),
            &[],
        )
        .await;
    wrong.assert_status(401);
    unknown.assert_status(401);
    assert_eq!(wrong.body, unknown.body);
    assert!(session_cookie(&wrong.headers).is_none());
}

async fn repeated_failed_sign_ins_are_rate_limited(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let attempt = |password: &'static str| {
        app.request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": ann.email, "password": password})),
            &[("x-forwarded-for", "203.0.113.9")],
        )
    };
    for _ in 0..5 {
        attempt("wrong password").await.assert_status(401);
    }
    let limited = attempt("wrong password").await;
    limited.assert_status(429);
    assert_eq!(limited.error_code(), "rate_limited");
    // Even the right password waits out the window.
    attempt("correct horse").await.assert_status(429);
}

async fn signing_out_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.get("/api/v1/me", &ann).await.assert_status(200);
    let out = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&ann.token),
            None,
            &[],
        )
        .await;
    out.assert_status(204);
    assert!(
        out.headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let after = app.get("/api/v1/me", &ann).await;
    after.assert_status(401);
    assert_eq!(after.error_code(), "unauthorized");
}

async fn requests_without_a_session_are_unauthorized(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for path in ["/api/v1/me", "/api/v1/households", &app.at(&ann, "/items")] {
        let response = app.request(Method::GET, path, None, None, &[]).await;
        response.assert_status(401);
        assert_eq!(response.error_code(), "unauthorized");
        let forged = app
            .request(Method::GET, path, Some("forged-token"), None, &[])
            .await;
        forged.assert_status(401);
    }
}

async fn unsafe_requests_from_another_site_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let path = app.at(&ann, "/items");
    let refused = app
        .request(
            Method::POST,
            &path,
            Some(&ann.token),
            Some(json!({"name": "Lamp"})),
            &[
                ("origin", "https://evil.example"),
                ("host", "127.0.0.1:8080"),
            ],
        )
        .await;
    refused.assert_status(403);
    assert_eq!(refused.error_code(), "forbidden");
    assert_eq!(
        app.get(&path, &ann).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    app.request(
        Method::POST,
        &path,
        Some(&ann.token),
        Some(json!({"name": "Lamp"})),
        &[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ],
    )
    .await
    .assert_status(201);
}

async fn malformed_bodies_get_the_one_error_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let path = app.at(&ann, "/items");
    let send = |body: &'static str, content_type: &'static str| {
        let request = axum::http::Request::builder()
            .method(Method::POST)
            .uri(path.clone())
            .header("cookie", format!("hi_session={}", ann.token))
            .header("content-type", content_type)
            .body(axum::body::Body::from(body))
            .unwrap();
        app.send(request)
    };
    let broken = send("{\"name\": ", "application/json").await;
    broken.assert_status(400);
    assert_eq!(broken.error_code(), "bad_request");
    let text = send("name=Lamp", "application/x-www-form-urlencoded").await;
    text.assert_status(415);
    assert_eq!(text.error_code(), "unsupported_media_type");
    let wrong_type = send(
        "{\"name\": \"Lamp\", \"quantity\": \"many\"}",
        "application/json",
    )
    .await;
    wrong_type.assert_status(422);
    assert!(wrong_type.body["error"]["details"]["quantity"].is_string());
    let huge = "x".repeat(2 * 1024 * 1024);
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(path.clone())
        .header("cookie", format!("hi_session={}", ann.token))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(format!("{{\"name\": \"{huge}\"}}")))
        .unwrap();
    let too_big = app.send(request).await;
    too_big.assert_status(413);
    assert_eq!(too_big.error_code(), "payload_too_large");
    assert_eq!(
        app.get(&path, &ann).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}

async fn local_accounts_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.local_auth = false).await;
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ann@example.com", "password": "correct horse", "name": "Ann"})),
            &[],
        )
        .await;
    response.assert_status(503);
    assert_eq!(response.error_code(), "unavailable");
}

async fn health_reports_ok_and_the_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let health = app
        .request(Method::GET, "/api/health", None, None, &[])
        .await;
    health.assert_status(200);
    assert_eq!(health.body["status"], "ok");
    assert_eq!(health.body["version"], env!("CARGO_PKG_VERSION"));
}

async fn unknown_api_paths_answer_404_in_the_error_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let response = app
        .request(Method::GET, "/api/v1/nothing-here", None, None, &[])
        .await;
    response.assert_status(404);
    assert_eq!(response.error_code(), "not_found");
}

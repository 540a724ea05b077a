//! Sessions and passwords: the `__Host-` cookie behind HTTPS, an absolute session lifetime,
//! and changing a password.

use axum::http::Method;
use serde_json::json;
use shared::{Currency, HouseholdId, User, UserId};
use time::{Duration, OffsetDateTime};

use api::auth::{new_token, token_hash};
use api::store::{HouseholdRow, SessionRow, UserRow};

use crate::helpers::{Backend, Person, TestApp, session_cookie, spawn_app, spawn_app_with};

crate::on_every_backend!(
    behind_https_the_session_cookie_is_host_prefixed,
    a_session_ends_90_days_after_sign_in_however_active,
    an_active_session_keeps_its_cookie_as_long_as_it_lives,
    changing_the_password_ends_every_other_session,
    a_wrong_current_password_is_refused_and_counted_like_a_failed_sign_in,
    a_new_password_is_checked_like_at_registration,
    an_account_without_a_password_has_none_to_change,
);

async fn behind_https_the_session_cookie_is_host_prefixed(backend: Backend) {
    let app = spawn_app_with(backend, |c| {
        c.public_url = "https://inventory.example.com".into();
    })
    .await;
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ann@example.com", "password": "correct horse", "name": "Ann"})),
            &[],
        )
        .await;
    registered.assert_status(201);
    let cookie = registered.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("__Host-hi_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("; Path=/;"),
        "{cookie}"
    );
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    let token = cookie
        .strip_prefix("__Host-hi_session=")
        .and_then(|v| v.split(';').next())
        .unwrap();
    let with = |cookie: String| {
        let app = &app;
        async move {
            app.request(
                Method::GET,
                "/api/v1/me",
                None,
                None,
                &[("cookie", &cookie)],
            )
            .await
            .status
            .as_u16()
        }
    };
    assert_eq!(with(format!("__Host-hi_session={token}")).await, 200);
    // A cookie without the prefix may have been planted by a sibling site or plain http.
    assert_eq!(with(format!("hi_session={token}")).await, 401);
}

/// A session made directly in the store, signed in `age` ago and still within its sliding
/// expiry. Returns its token.
async fn aged_session(app: &TestApp, who: &Person, age: Duration, left: Duration) -> String {
    let (token, hash) = new_token().unwrap();
    let now = OffsetDateTime::now_utc();
    app.store
        .create_session(&SessionRow {
            token_hash: hash,
            id: uuid::Uuid::now_v7(),
            user_agent: None,
            last_used_at: None,
            user_id: who.user_id.parse::<uuid::Uuid>().unwrap().into(),
            created_at: now - age,
            expires_at: now + left,
        })
        .await
        .unwrap();
    token
}

async fn a_session_ends_90_days_after_sign_in_however_active(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let old = aged_session(&app, &ann, Duration::days(91), Duration::days(20)).await;
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&old), None, &[])
        .await;
    me.assert_status(401);
    // One signed in 80 days ago lives on, but its sliding expiry stops at day 90.
    let recent = aged_session(&app, &ann, Duration::days(80), Duration::hours(1)).await;
    app.request(Method::GET, "/api/v1/me", Some(&recent), None, &[])
        .await
        .assert_status(200);
    let now = OffsetDateTime::now_utc();
    let (session, _) = app
        .store
        .session(&token_hash(&recent), now)
        .await
        .unwrap()
        .unwrap();
    assert!(
        session.expires_at <= session.created_at + Duration::days(90),
        "extended past the absolute limit to {}",
        session.expires_at
    );
    assert!(session.expires_at > now + Duration::hours(12));
}

/// The sliding expiry moves the session's end on the server; the browser is told too, or it
/// would drop the cookie of a session still alive and sign the person out.
async fn an_active_session_keeps_its_cookie_as_long_as_it_lives(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let max_age = |response: &crate::helpers::TestResponse, token: &str| {
        response
            .headers
            .get_all(axum::http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("hi_session={token};")))
            .map(|v| {
                let at = v.find("Max-Age=").expect("a Max-Age") + "Max-Age=".len();
                v[at..].split(';').next().unwrap().parse::<i64>().unwrap()
            })
    };

    // Used a day before its cookie runs out: sent again for a full 30 days.
    let ending = aged_session(&app, &ann, Duration::days(29), Duration::days(1)).await;
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&ending), None, &[])
        .await;
    me.assert_status(200);
    let seconds = max_age(&me, &ending).expect("the cookie is sent again");
    let month = Duration::days(30).whole_seconds();
    assert!((month - 60..=month).contains(&seconds), "Max-Age={seconds}");

    // Near the absolute limit: only until day 90.
    let old = aged_session(&app, &ann, Duration::days(85), Duration::hours(2)).await;
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&old), None, &[])
        .await;
    let seconds = max_age(&me, &old).expect("the cookie is sent again");
    let left = Duration::days(5).whole_seconds();
    assert!((left - 60..=left).contains(&seconds), "Max-Age={seconds}");

    // A session whose end did not move: nothing to tell (once a day at most).
    let fresh = aged_session(&app, &ann, Duration::hours(1), Duration::days(30)).await;
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&fresh), None, &[])
        .await;
    me.assert_status(200);
    assert_eq!(max_age(&me, &fresh), None, "{:?}", me.headers);
}

async fn change_password(
    app: &TestApp,
    who: &str,
    current: &str,
    new: &str,
) -> crate::helpers::TestResponse {
    app.request(
        Method::POST,
        "/api/v1/me/password",
        Some(who),
        Some(json!({"current_password": current, "new_password": new})),
        &[],
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> crate::helpers::TestResponse {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
        &[],
    )
    .await
}

async fn changing_the_password_ends_every_other_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let elsewhere = login(&app, &ann.email, "correct horse").await;
    elsewhere.assert_status(200);
    let elsewhere = session_cookie(&elsewhere.headers).unwrap();
    change_password(&app, &ann.token, "correct horse", "battery staple")
        .await
        .assert_status(204);
    app.get("/api/v1/me", &ann).await.assert_status(200);
    app.request(Method::GET, "/api/v1/me", Some(&elsewhere), None, &[])
        .await
        .assert_status(401);
    login(&app, &ann.email, "correct horse")
        .await
        .assert_status(401);
    login(&app, &ann.email, "battery staple")
        .await
        .assert_status(200);
}

async fn a_wrong_current_password_is_refused_and_counted_like_a_failed_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for _ in 0..5 {
        let wrong = change_password(&app, &ann.token, "a guess", "battery staple").await;
        wrong.assert_status(422);
        assert_eq!(
            wrong.body["error"]["details"]["current_password"],
            "is not right"
        );
    }
    let limited = change_password(&app, &ann.token, "correct horse", "battery staple").await;
    limited.assert_status(429);
    assert_eq!(limited.error_code(), "rate_limited");
    // Still signed in, and still with the old password.
    app.get("/api/v1/me", &ann).await.assert_status(200);
    assert_eq!(
        app.store
            .user_by_email(&ann.email)
            .await
            .unwrap()
            .unwrap()
            .password_hash
            .map(|h| h.starts_with("$argon2id$")),
        Some(true)
    );
    login(&app, &ann.email, "battery staple")
        .await
        .assert_status(429);
}

async fn a_new_password_is_checked_like_at_registration(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let short = change_password(&app, &ann.token, "correct horse", "short").await;
    short.assert_status(422);
    assert!(
        short.body["error"]["details"]["new_password"]
            .as_str()
            .unwrap()
            .contains('8')
    );
    let missing = change_password(&app, &ann.token, "", "battery staple").await;
    missing.assert_status(422);
    assert_eq!(
        missing.body["error"]["details"]["current_password"],
        "is required"
    );
    app.request(
        Method::POST,
        "/api/v1/me/password",
        None,
        Some(json!({"current_password": "correct horse", "new_password": "battery staple"})),
        &[],
    )
    .await
    .assert_status(401);
    login(&app, &ann.email, "correct horse")
        .await
        .assert_status(200);
}

/// Accounts made by Google sign-in have no password; a session alone does not add one.
async fn an_account_without_a_password_has_none_to_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = OffsetDateTime::now_utc();
    let user = UserId::new();
    app.store
        .create_user(
            &UserRow {
                user: User {
                    id: user,
                    email: "ann@example.com".into(),
                    name: "Ann".into(),
                    created_at: now,
                },
                password_hash: None,
                email_verified_at: Some(now),
            },
            &HouseholdRow {
                id: HouseholdId::new(),
                name: "My Home".into(),
                currency: Currency::default(),
                version: 1,
                created_at: now,
            },
        )
        .await
        .unwrap();
    let (token, hash) = new_token().unwrap();
    app.store
        .create_session(&SessionRow {
            token_hash: hash,
            id: uuid::Uuid::now_v7(),
            user_agent: None,
            last_used_at: None,
            user_id: user,
            created_at: now,
            expires_at: now + Duration::days(30),
        })
        .await
        .unwrap();
    let refused = change_password(&app, &token, "", "battery staple").await;
    refused.assert_status(409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Google")
    );
    login(&app, "ann@example.com", "battery staple")
        .await
        .assert_status(401);
}

//! Signed-in devices: each session listed with its browser, signed out one at a time or
//! all but the caller's, and a signed-out session refused at once.

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Person, TestApp, session_cookie, spawn_app};

crate::on_every_backend!(
    each_signed_in_device_is_listed_with_its_browser_newest_first,
    signing_out_another_device_refuses_its_cookie_at_once,
    signing_out_everywhere_else_keeps_only_this_device,
    another_persons_session_is_not_found,
    signing_out_this_device_clears_its_cookie,
    changing_the_password_signs_out_the_other_devices,
    an_api_token_can_not_see_or_end_sessions,
);

const FIREFOX_WINDOWS: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const CHROME_ANDROID: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
     (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";

/// Signs `who` in again from a browser that says `user_agent`; the new session's token.
async fn sign_in_from(app: &TestApp, who: &Person, user_agent: &str) -> String {
    let response = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": who.email, "password": "correct horse"})),
            &[("user-agent", user_agent)],
        )
        .await;
    response.assert_status(200);
    session_cookie(&response.headers).expect("a session cookie")
}

async fn sessions(app: &TestApp, token: &str) -> Vec<Value> {
    let list = app
        .request(Method::GET, "/api/v1/me/sessions", Some(token), None, &[])
        .await;
    list.assert_status(200);
    list.body["items"].as_array().cloned().unwrap_or_default()
}

async fn me_status(app: &TestApp, token: &str) -> u16 {
    app.request(Method::GET, "/api/v1/me", Some(token), None, &[])
        .await
        .status
        .as_u16()
}

async fn each_signed_in_device_is_listed_with_its_browser_newest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let laptop = sign_in_from(&app, &ann, FIREFOX_WINDOWS).await;
    let phone = sign_in_from(&app, &ann, CHROME_ANDROID).await;

    let list = sessions(&app, &laptop).await;
    assert_eq!(list.len(), 3, "{list:#?}");
    let browsers: Vec<&str> = list
        .iter()
        .map(|s| s["browser"].as_str().unwrap())
        .collect();
    assert_eq!(
        browsers,
        ["Chrome on Android", "Firefox on Windows", "Unknown browser"],
        "newest first"
    );
    let current: Vec<bool> = list
        .iter()
        .map(|s| s["current"].as_bool().unwrap())
        .collect();
    assert_eq!(current, [false, true, false]);
    assert_eq!(list[0]["user_agent"], CHROME_ANDROID);
    for session in &list {
        for field in ["id", "created_at", "last_used_at", "expires_at"] {
            assert!(session[field].is_string(), "{field} in {session}");
        }
    }
    // No secret in the list: neither token appears.
    let text = serde_json::to_string(&list).unwrap();
    assert!(!text.contains(&laptop) && !text.contains(&phone));
}

async fn signing_out_another_device_refuses_its_cookie_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let phone = sign_in_from(&app, &ann, CHROME_ANDROID).await;
    // The phone's session is in use (and so kept in the server's memory).
    assert_eq!(me_status(&app, &phone).await, 200);

    let list = sessions(&app, &ann.token).await;
    let phone_id = list
        .iter()
        .find(|s| s["browser"] == "Chrome on Android")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.delete(format!("/api/v1/me/sessions/{phone_id}"), &ann)
        .await
        .assert_status(204);

    assert_eq!(
        me_status(&app, &phone).await,
        401,
        "the phone is signed out"
    );
    assert_eq!(me_status(&app, &ann.token).await, 200, "this device is not");
    assert_eq!(sessions(&app, &ann.token).await.len(), 1);
    // Gone: a second sign-out finds nothing.
    app.delete(format!("/api/v1/me/sessions/{phone_id}"), &ann)
        .await
        .assert_status(404);
}

async fn signing_out_everywhere_else_keeps_only_this_device(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let laptop = sign_in_from(&app, &ann, FIREFOX_WINDOWS).await;
    let phone = sign_in_from(&app, &ann, CHROME_ANDROID).await;
    assert_eq!(me_status(&app, &laptop).await, 200);

    let revoked = app
        .post("/api/v1/me/sessions/revoke-others", &ann, json!({}))
        .await;
    revoked.assert_status(200);
    assert_eq!(revoked.body["revoked"], 2);

    assert_eq!(me_status(&app, &laptop).await, 401);
    assert_eq!(me_status(&app, &phone).await, 401);
    assert_eq!(me_status(&app, &ann.token).await, 200);
    let list = sessions(&app, &ann.token).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
}

async fn another_persons_session_is_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let bobs = sessions(&app, &bob.token).await;
    let bob_id = bobs[0]["id"].as_str().unwrap();

    let refused = app
        .delete(format!("/api/v1/me/sessions/{bob_id}"), &ann)
        .await;
    refused.assert_status(404);
    assert_eq!(refused.error_code(), "not_found");
    assert_eq!(
        me_status(&app, &bob.token).await,
        200,
        "Bob is still signed in"
    );
    // Not a session id at all: a clear 400, not a 500.
    let bad = app.delete("/api/v1/me/sessions/not-a-uuid", &ann).await;
    assert!(bad.status.is_client_error(), "{}", bad.status);
}

async fn signing_out_this_device_clears_its_cookie(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let list = sessions(&app, &ann.token).await;
    let id = list[0]["id"].as_str().unwrap();
    let ended = app.delete(format!("/api/v1/me/sessions/{id}"), &ann).await;
    ended.assert_status(204);
    let cleared = ended.headers["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("hi_session=;") && cleared.contains("Max-Age=0"));
    assert_eq!(me_status(&app, &ann.token).await, 401);
}

async fn changing_the_password_signs_out_the_other_devices(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let phone = sign_in_from(&app, &ann, CHROME_ANDROID).await;
    assert_eq!(me_status(&app, &phone).await, 200);
    app.post(
        "/api/v1/me/password",
        &ann,
        json!({"current_password": "correct horse", "new_password": "battery staple"}),
    )
    .await
    .assert_status(204);
    assert_eq!(me_status(&app, &phone).await, 401);
    let list = sessions(&app, &ann.token).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["current"], true);
}

async fn an_api_token_can_not_see_or_end_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let made = app
        .post(
            "/api/v1/tokens",
            &ann,
            json!({"name": "script", "scope": "write"}),
        )
        .await;
    made.assert_status(201);
    let token = made.body["token"].as_str().unwrap().to_string();
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let id = sessions(&app, &ann.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (method, path) in [
        (Method::GET, "/api/v1/me/sessions".to_string()),
        (Method::DELETE, format!("/api/v1/me/sessions/{id}")),
        (
            Method::POST,
            "/api/v1/me/sessions/revoke-others".to_string(),
        ),
    ] {
        let refused = app.request(method, &path, None, None, &auth).await;
        refused.assert_status(403);
    }
    assert_eq!(me_status(&app, &ann.token).await, 200);
}

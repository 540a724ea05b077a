//! Google sign-in, end to end against a real OpenID provider on loopback
//! (`api/tests/oidc`, oauth2-mock-server): discovery, PKCE, state, nonce, the ID token's
//! signature, issuer, audience, expiry and verified email, and key rotation.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, session_cookie, spawn_app, spawn_app_with};

crate::on_every_backend!(
    a_new_google_user_gets_an_account_and_a_household,
    google_sign_in_links_the_account_with_the_same_email,
    a_tampered_state_is_refused,
    a_token_with_another_nonce_is_refused,
    a_token_for_another_audience_is_refused,
    an_expired_token_is_refused,
    an_unverified_email_is_refused,
    a_rotated_signing_key_is_fetched_and_trusted,
    without_google_configured_start_is_unavailable,
);

pub(crate) struct Provider {
    child: Child,
    issuer: String,
    control: String,
}

impl Provider {
    pub(crate) fn start() -> Self {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        assert!(
            std::path::Path::new(dir).join("node_modules").is_dir(),
            "run `npm ci` in {dir} first (cargo xtask test does)"
        );
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts the OpenID provider");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line).expect("the provider's address");
        Self {
            child,
            issuer: ready["issuer"].as_str().unwrap().to_string(),
            control: ready["control"].as_str().unwrap().to_string(),
        }
    }

    pub(crate) async fn set(&self, path: &str, body: Value) {
        reqwest::Client::new()
            .post(format!("{}{path}", self.control))
            .body(body.to_string())
            .send()
            .await
            .unwrap();
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn with_google(backend: Backend, provider: &Provider) -> TestApp {
    let issuer = provider.issuer.clone();
    spawn_app_with(backend, |c| {
        c.google_client_id = Some("home-inventory".into());
        c.google_client_secret = Some("client secret".to_string().into());
        c.google_issuer = issuer;
    })
    .await
}

/// Where a sign-in ends: the callback's redirect and the session it started, if any.
pub(crate) struct Outcome {
    pub location: String,
    pub session: Option<String>,
}

/// Runs the browser's part: start, the provider's redirect, the callback.
pub(crate) async fn sign_in(app: &TestApp, tamper_state: bool) -> Outcome {
    let start = app
        .request(
            Method::GET,
            "/api/v1/auth/google/start?return_to=/items",
            None,
            None,
            &[],
        )
        .await;
    start.assert_status(302);
    let to_provider = start.headers["location"].to_str().unwrap().to_string();
    assert!(
        to_provider.contains("code_challenge_method=S256"),
        "{to_provider}"
    );
    assert!(to_provider.contains("nonce="), "{to_provider}");
    let flow = start.headers["set-cookie"].to_str().unwrap();
    assert!(
        flow.contains("HttpOnly") && flow.contains("SameSite=Lax"),
        "{flow}"
    );
    let flow = flow.split(';').next().unwrap().to_string();
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&to_provider)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 302);
    let back = answer.headers()["location"].to_str().unwrap().to_string();
    let mut callback = back
        .split_once("/api/v1/auth/google/callback")
        .map(|(_, rest)| format!("/api/v1/auth/google/callback{rest}"))
        .expect("back to our callback");
    if tamper_state {
        callback = callback.replace("state=", "state=x");
    }
    let done = app
        .request(Method::GET, &callback, None, None, &[("cookie", &flow)])
        .await;
    done.assert_status(302);
    Outcome {
        location: done.headers["location"].to_str().unwrap().to_string(),
        session: session_cookie(&done.headers),
    }
}

async fn me(app: &TestApp, session: &str) -> Value {
    app.request(Method::GET, "/api/v1/me", Some(session), None, &[])
        .await
        .body
}

async fn a_new_google_user_gets_an_account_and_a_household(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    let providers = app
        .request(Method::GET, "/api/v1/auth/providers", None, None, &[])
        .await;
    assert_eq!(providers.body, json!({"local": true, "google": true}));
    let outcome = sign_in(&app, false).await;
    assert_eq!(outcome.location, "/items");
    let me = me(&app, &outcome.session.expect("signed in")).await;
    assert_eq!(me["user"]["email"], "ann@example.com");
    assert_eq!(me["user"]["name"], "Ann Example");
    assert_eq!(me["households"][0]["name"], "My Home");
    // Signing in again finds the same account.
    let again = sign_in(&app, false).await;
    let again = self::me(&app, &again.session.unwrap()).await;
    assert_eq!(again["user"]["id"], me["user"]["id"]);
    assert_eq!(again["households"].as_array().unwrap().len(), 1);
}

async fn google_sign_in_links_the_account_with_the_same_email(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "Ann@Example.com", "password": "correct horse", "name": "Ann"})),
            &[],
        )
        .await;
    registered.assert_status(201);
    let outcome = sign_in(&app, false).await;
    let me = me(&app, &outcome.session.unwrap()).await;
    assert_eq!(me["user"]["id"], registered.body["user"]["id"]);
    assert_eq!(me["user"]["name"], "Ann");
}

async fn refused(app: &TestApp, tamper: bool, reason: &str) {
    let outcome = sign_in(app, tamper).await;
    assert_eq!(outcome.location, format!("/signin?error={reason}"));
    assert!(
        outcome.session.is_none(),
        "no session after a refused sign-in"
    );
}

async fn a_tampered_state_is_refused(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    refused(&app, true, "state").await;
}

async fn a_token_with_another_nonce_is_refused(backend: Backend) {
    let provider = Provider::start();
    provider
        .set("/claims", json!({"nonce": "replayed-nonce"}))
        .await;
    let app = with_google(backend, &provider).await;
    refused(&app, false, "token").await;
}

async fn a_token_for_another_audience_is_refused(backend: Backend) {
    let provider = Provider::start();
    provider
        .set("/claims", json!({"aud": "someone-else"}))
        .await;
    let app = with_google(backend, &provider).await;
    refused(&app, false, "token").await;
}

async fn an_expired_token_is_refused(backend: Backend) {
    let provider = Provider::start();
    let past = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    provider
        .set("/claims", json!({"exp": past, "iat": past - 600}))
        .await;
    let app = with_google(backend, &provider).await;
    refused(&app, false, "token").await;
}

async fn an_unverified_email_is_refused(backend: Backend) {
    let provider = Provider::start();
    provider
        .set("/claims", json!({"email_verified": false}))
        .await;
    let app = with_google(backend, &provider).await;
    refused(&app, false, "email_unverified").await;
    let providers_user = app.store.user_by_email("ann@example.com").await.unwrap();
    assert!(providers_user.is_none(), "no account was made");
}

async fn a_rotated_signing_key_is_fetched_and_trusted(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    // The first sign-in caches the provider's keys.
    assert!(sign_in(&app, false).await.session.is_some());
    provider.set("/rotate", json!({})).await;
    let outcome = sign_in(&app, false).await;
    assert_eq!(outcome.location, "/items");
    assert!(
        outcome.session.is_some(),
        "a token signed with the new key is trusted"
    );
}

async fn without_google_configured_start_is_unavailable(backend: Backend) {
    let app = spawn_app(backend).await;
    let start = app
        .request(Method::GET, "/api/v1/auth/google/start", None, None, &[])
        .await;
    start.assert_status(503);
    assert_eq!(start.error_code(), "unavailable");
    let providers = app
        .request(Method::GET, "/api/v1/auth/providers", None, None, &[])
        .await;
    assert_eq!(providers.body, json!({"local": true, "google": false}));
}

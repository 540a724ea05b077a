//! API tokens of an account taken over by its email's owner (Google sign-in on an account
//! someone else registered with a password) end with the account's sessions: whoever
//! registered the address keeps no way in.

use axum::http::Method;
use serde_json::json;

use crate::google::{Provider, sign_in, with_google};
use crate::helpers::{Backend, Person, session_cookie};
use crate::tokens::{assert_invalid_token, make_token, with_token};

crate::on_every_backend!(a_google_takeover_ends_the_api_tokens_of_whoever_registered_the_email);

async fn a_google_takeover_ends_the_api_tokens_of_whoever_registered_the_email(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ann@example.com", "password": "attacker's password", "name": "Ann"})),
            &[],
        )
        .await;
    registered.assert_status(201);
    let attacker = Person {
        token: session_cookie(&registered.headers).unwrap(),
        email: "ann@example.com".into(),
        household: String::new(),
        user_id: registered.body["user"]["id"].as_str().unwrap().to_string(),
    };
    let (token, _) = make_token(
        &app,
        &attacker,
        json!({"name": "Backdoor", "scope": "write"}),
    )
    .await;
    with_token(&app, Method::GET, "/api/v1/me", &token, None)
        .await
        .assert_status(200);

    let victim = sign_in(&app, false).await;
    let session = victim.session.expect("the email's owner is signed in");

    assert_invalid_token(&with_token(&app, Method::GET, "/api/v1/me", &token, None).await);
    let list = app
        .request(Method::GET, "/api/v1/tokens", Some(&session), None, &[])
        .await;
    list.assert_status(200);
    assert_eq!(list.body["items"], json!([]));
}

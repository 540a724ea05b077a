//! Passkeys: registered from a signed-in session, signing in without a password, named and
//! removed; every forged, replayed or misdirected answer refused, with nothing stored and no
//! session given.

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

use crate::google::{Provider, sign_in as google_sign_in, with_google};
use crate::helpers::{
    Backend, Person, TestApp, TestDb, TestResponse, session_cookie, spawn_app_with,
};
use crate::passkey_authenticator::Authenticator;

crate::on_every_backend!(
    a_registered_passkey_is_listed_and_signs_in_without_a_password,
    a_passkey_made_for_another_site_is_refused_and_not_stored,
    a_registration_answering_another_challenge_is_refused,
    a_registration_challenge_is_good_once,
    a_passkey_name_must_be_1_to_60_characters,
    sign_ins_that_are_forged_replayed_or_misdirected_get_no_session,
    a_passkey_can_be_renamed_and_a_removed_one_no_longer_signs_in,
    another_persons_passkey_is_not_found,
    api_tokens_cannot_see_or_add_passkeys,
    a_passkey_confirms_it_is_its_owner_once,
    the_last_way_into_an_account_cannot_be_removed,
    too_many_failed_passkey_sign_ins_from_one_network_are_refused,
    a_passkey_added_by_whoever_registered_someone_elses_email_goes_with_the_takeover,
    a_ceremony_past_its_five_minutes_is_not_answered,
);

const ORIGIN: &str = "http://localhost:8080";

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |config| config.public_url = ORIGIN.into()).await
}

async fn post_anonymous(app: &TestApp, path: &str, body: Value) -> TestResponse {
    app.request(Method::POST, path, None, Some(body), &[]).await
}

/// Registers `authenticator`'s passkey for `who` under `name`; returns the finish answer.
async fn try_register(
    app: &TestApp,
    who: &Person,
    authenticator: &mut Authenticator,
    name: &str,
) -> TestResponse {
    let start = app
        .post("/api/v1/me/passkeys/register/start", who, json!({}))
        .await;
    start.assert_status(200);
    let credential = authenticator.register(&start.body["options"]);
    app.post(
        "/api/v1/me/passkeys/register/finish",
        who,
        json!({"challenge_id": start.body["challenge_id"], "name": name, "credential": credential}),
    )
    .await
}

async fn register(app: &TestApp, who: &Person, name: &str) -> (Authenticator, String) {
    let mut authenticator = Authenticator::new(ORIGIN);
    let done = try_register(app, who, &mut authenticator, name).await;
    done.assert_status(201);
    (authenticator, done.id())
}

async fn start_sign_in(app: &TestApp) -> Value {
    let start = post_anonymous(app, "/api/v1/auth/passkey/start", json!({})).await;
    start.assert_status(200);
    start.body
}

async fn finish_sign_in(app: &TestApp, challenge_id: &Value, credential: Value) -> TestResponse {
    post_anonymous(
        app,
        "/api/v1/auth/passkey/finish",
        json!({"challenge_id": challenge_id, "credential": credential}),
    )
    .await
}

async fn sign_in(app: &TestApp, authenticator: &mut Authenticator) -> TestResponse {
    let start = start_sign_in(app).await;
    let credential = authenticator.assert(&start["options"]);
    finish_sign_in(app, &start["challenge_id"], credential).await
}

#[track_caller]
fn assert_refused_sign_in(response: &TestResponse) {
    response.assert_status(401);
    assert_eq!(
        response.body["error"]["message"],
        "that passkey could not sign you in; try again or use another way to sign in"
    );
    assert!(session_cookie(&response.headers).is_none(), "no session");
}

async fn passkeys_of(app: &TestApp, who: &Person) -> Vec<Value> {
    let list = app.get("/api/v1/me/passkeys", who).await;
    list.assert_status(200);
    list.body["items"].as_array().unwrap().clone()
}

async fn a_registered_passkey_is_listed_and_signs_in_without_a_password(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let start = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let options = &start.body["options"];
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["user"]["name"], ada.email.as_str());
    // Browsers refuse every authenticator without credProtect when it is enforced.
    assert_eq!(
        options["extensions"]["enforceCredentialProtectionPolicy"],
        false
    );

    let (mut authenticator, id) = register(&app, &ada, "Passkey on Chrome").await;
    let listed = passkeys_of(&app, &ada).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], id.as_str());
    assert_eq!(listed[0]["name"], "Passkey on Chrome");
    assert!(listed[0]["last_used_at"].is_null());

    // Registering again excludes the passkey already there.
    let again = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let excluded = again.body["options"]["excludeCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(excluded.len(), 1);

    let signed_in = sign_in(&app, &mut authenticator).await;
    signed_in.assert_status(200);
    assert_eq!(signed_in.body["user"]["email"], ada.email.as_str());
    let token = session_cookie(&signed_in.headers).expect("a session cookie");
    let me = app
        .request(Method::GET, "/api/v1/me", Some(&token), None, &[])
        .await;
    me.assert_status(200);
    assert_eq!(me.body["user"]["email"], ada.email.as_str());
    assert!(!passkeys_of(&app, &ada).await[0]["last_used_at"].is_null());

    // The counter moves forward with every sign-in.
    sign_in(&app, &mut authenticator).await.assert_status(200);
}

async fn a_passkey_made_for_another_site_is_refused_and_not_stored(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let mut phished = Authenticator::new("https://inventory.example.evil");
    let refused = try_register(&app, &ada, &mut phished, "Phished").await;
    refused.assert_status(422);
    assert_eq!(
        refused.body["error"]["details"]["credential"],
        "this passkey was made for another site"
    );
    let mut wrong_rp = Authenticator::new(ORIGIN);
    wrong_rp.rp_id = Some("evil.example".into());
    try_register(&app, &ada, &mut wrong_rp, "Wrong RP")
        .await
        .assert_status(422);
    assert!(passkeys_of(&app, &ada).await.is_empty());
}

async fn a_registration_answering_another_challenge_is_refused(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let first = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let second = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let mut authenticator = Authenticator::new(ORIGIN);
    let other_challenge = second.body["options"]["challenge"].as_str().unwrap();
    let credential = authenticator.register_for(&first.body["options"], other_challenge);
    let refused = app
        .post(
            "/api/v1/me/passkeys/register/finish",
            &ada,
            json!({"challenge_id": first.body["challenge_id"], "name": "Mine", "credential": credential}),
        )
        .await;
    refused.assert_status(422);
    assert_eq!(
        refused.body["error"]["details"]["credential"],
        "this passkey answers another passkey request"
    );
    // A challenge id nobody handed out.
    let credential = authenticator.register(&second.body["options"]);
    let unknown = app
        .post(
            "/api/v1/me/passkeys/register/finish",
            &ada,
            json!({"challenge_id": uuid::Uuid::now_v7(), "name": "Mine", "credential": credential}),
        )
        .await;
    unknown.assert_status(422);
    assert!(unknown.body["error"]["details"]["challenge_id"].is_string());
    assert!(passkeys_of(&app, &ada).await.is_empty());
}

async fn a_registration_challenge_is_good_once(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let bob = app.register("Bob").await;
    let start = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let mut first = Authenticator::new(ORIGIN);
    let credential = first.register(&start.body["options"]);
    // Someone else can't finish Ada's ceremony.
    let stolen = app
        .post(
            "/api/v1/me/passkeys/register/finish",
            &bob,
            json!({"challenge_id": start.body["challenge_id"], "name": "Mine", "credential": credential}),
        )
        .await;
    stolen.assert_status(422);
    assert!(passkeys_of(&app, &bob).await.is_empty());

    let start = app
        .post("/api/v1/me/passkeys/register/start", &ada, json!({}))
        .await;
    let credential = first.register(&start.body["options"]);
    let body = json!({"challenge_id": start.body["challenge_id"], "name": "Mine", "credential": credential});
    app.post("/api/v1/me/passkeys/register/finish", &ada, body.clone())
        .await
        .assert_status(201);
    let mut second = Authenticator::new(ORIGIN);
    let replayed = json!({
        "challenge_id": start.body["challenge_id"],
        "name": "Again",
        "credential": second.register(&start.body["options"]),
    });
    let refused = app
        .post("/api/v1/me/passkeys/register/finish", &ada, replayed)
        .await;
    refused.assert_status(422);
    assert_eq!(
        refused.body["error"]["details"]["challenge_id"],
        "this passkey request has expired or was used already; start again"
    );
    assert_eq!(passkeys_of(&app, &ada).await.len(), 1);
}

async fn a_passkey_name_must_be_1_to_60_characters(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    for name in ["   ", &"x".repeat(61)] {
        let mut authenticator = Authenticator::new(ORIGIN);
        let refused = try_register(&app, &ada, &mut authenticator, name).await;
        refused.assert_status(422);
        assert!(refused.body["error"]["details"]["name"].is_string());
    }
    assert!(passkeys_of(&app, &ada).await.is_empty());
    let (_, id) = register(&app, &ada, &"x".repeat(60)).await;
    let renamed = app
        .patch(
            format!("/api/v1/me/passkeys/{id}"),
            &ada,
            json!({"name": ""}),
        )
        .await;
    renamed.assert_status(422);
    assert!(renamed.body["error"]["details"]["name"].is_string());
}

async fn sign_ins_that_are_forged_replayed_or_misdirected_get_no_session(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let (mut authenticator, _) = register(&app, &ada, "Laptop").await;

    // An answer to another challenge than the ceremony's.
    let first = start_sign_in(&app).await;
    let second = start_sign_in(&app).await;
    let other = second["options"]["challenge"].as_str().unwrap();
    let credential = authenticator.assert_for(&first["options"], other);
    assert_refused_sign_in(&finish_sign_in(&app, &first["challenge_id"], credential).await);

    // A right answer, then the same ceremony again.
    let start = start_sign_in(&app).await;
    let credential = authenticator.assert(&start["options"]);
    finish_sign_in(&app, &start["challenge_id"], credential.clone())
        .await
        .assert_status(200);
    assert_refused_sign_in(&finish_sign_in(&app, &start["challenge_id"], credential).await);

    // Signed by another key than the registered one.
    let mut forger = authenticator.with_other_key();
    assert_refused_sign_in(&sign_in(&app, &mut forger).await);

    // A passkey this site never registered.
    let mut stranger = Authenticator::new(ORIGIN);
    stranger
        .register(&json!({"challenge": "x", "rp": {"id": "localhost"}, "user": {"id": "AAAA"}}));
    assert_refused_sign_in(&sign_in(&app, &mut stranger).await);

    // Made on another site (a phishing page relaying our challenge).
    authenticator.origin = "https://inventory.example.evil".into();
    assert_refused_sign_in(&sign_in(&app, &mut authenticator).await);
    authenticator.origin = ORIGIN.into();

    // A cloned authenticator: its counter is behind the one last seen.
    authenticator.sign_count += 5;
    sign_in(&app, &mut authenticator).await.assert_status(200);
    let start = start_sign_in(&app).await;
    let mut behind = authenticator;
    behind.sign_count = 1;
    let credential = behind.assert(&start["options"]);
    assert_refused_sign_in(&finish_sign_in(&app, &start["challenge_id"], credential).await);

    // Not JSON of a credential at all.
    let start = start_sign_in(&app).await;
    assert_refused_sign_in(&finish_sign_in(&app, &start["challenge_id"], json!({"id": 1})).await);
}

async fn a_passkey_can_be_renamed_and_a_removed_one_no_longer_signs_in(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let (mut laptop, laptop_id) = register(&app, &ada, "Laptop").await;
    let (_phone, phone_id) = register(&app, &ada, "Phone").await;

    let renamed = app
        .patch(
            format!("/api/v1/me/passkeys/{laptop_id}"),
            &ada,
            json!({"name": "  Work laptop "}),
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Work laptop");
    let names: Vec<Value> = passkeys_of(&app, &ada)
        .await
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Work laptop"), json!("Phone")]);

    app.delete(format!("/api/v1/me/passkeys/{laptop_id}"), &ada)
        .await
        .assert_status(204);
    let left = passkeys_of(&app, &ada).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["id"], phone_id.as_str());
    assert_refused_sign_in(&sign_in(&app, &mut laptop).await);
    app.delete(format!("/api/v1/me/passkeys/{laptop_id}"), &ada)
        .await
        .assert_status(404);
}

async fn another_persons_passkey_is_not_found(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let eve = app.register("Eve").await;
    let (_, id) = register(&app, &ada, "Laptop").await;
    let renamed = app
        .patch(
            format!("/api/v1/me/passkeys/{id}"),
            &eve,
            json!({"name": "Mine now"}),
        )
        .await;
    renamed.assert_status(404);
    assert_eq!(renamed.error_code(), "not_found");
    app.delete(format!("/api/v1/me/passkeys/{id}"), &eve)
        .await
        .assert_status(404);
    assert!(passkeys_of(&app, &eve).await.is_empty());
    assert_eq!(passkeys_of(&app, &ada).await[0]["name"], "Laptop");
}

async fn api_tokens_cannot_see_or_add_passkeys(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    register(&app, &ada, "Laptop").await;
    let made = app
        .post(
            "/api/v1/tokens",
            &ada,
            json!({"name": "script", "scope": "write"}),
        )
        .await;
    made.assert_status(201);
    let bearer = format!("Bearer {}", made.body["token"].as_str().unwrap());
    for (method, path) in [
        (Method::GET, "/api/v1/me/passkeys"),
        (Method::POST, "/api/v1/me/passkeys/register/start"),
        (Method::POST, "/api/v1/me/passkeys/confirm/start"),
    ] {
        let refused = app
            .request(method, path, None, None, &[("authorization", &bearer)])
            .await;
        refused.assert_status(403);
    }
    let anonymous = app
        .request(Method::GET, "/api/v1/me/passkeys", None, None, &[])
        .await;
    anonymous.assert_status(401);
}

async fn a_passkey_confirms_it_is_its_owner_once(backend: Backend) {
    let app = app(backend).await;
    let state = api::AppState::new(app.config.clone(), Arc::clone(&app.store)).unwrap();
    let ada = app.register("Ada").await;
    let eve = app.register("Eve").await;
    let ada_id: shared::UserId = ada.user_id.parse().unwrap();
    let eve_id: shared::UserId = eve.user_id.parse().unwrap();

    // Without a passkey there is nothing to confirm with.
    app.post("/api/v1/me/passkeys/confirm/start", &ada, json!({}))
        .await
        .assert_status(409);
    let (mut laptop, _) = register(&app, &ada, "Laptop").await;
    let (mut eves, _) = register(&app, &eve, "Eve's").await;

    let start = app
        .post("/api/v1/me/passkeys/confirm/start", &ada, json!({}))
        .await;
    start.assert_status(200);
    let allowed = start.body["options"]["allowCredentials"]
        .as_array()
        .unwrap();
    assert_eq!(allowed.len(), 1);
    let proof = json!({
        "challenge_id": start.body["challenge_id"],
        "credential": laptop.assert(&start.body["options"]),
    });
    // Eve can't use Ada's proof for herself.
    assert!(
        api::auth::passkeys::confirm(&state, eve_id, &proof)
            .await
            .is_err()
    );

    let start = app
        .post("/api/v1/me/passkeys/confirm/start", &ada, json!({}))
        .await;
    let proof = json!({
        "challenge_id": start.body["challenge_id"],
        "credential": laptop.assert(&start.body["options"]),
    });
    api::auth::passkeys::confirm(&state, ada_id, &proof)
        .await
        .expect("Ada's own passkey confirms it is her");
    // The same proof again: the challenge was used.
    assert!(
        api::auth::passkeys::confirm(&state, ada_id, &proof)
            .await
            .is_err()
    );

    // Eve's passkey can't confirm for Ada.
    let start = app
        .post("/api/v1/me/passkeys/confirm/start", &ada, json!({}))
        .await;
    let proof = json!({
        "challenge_id": start.body["challenge_id"],
        "credential": eves.assert(&start.body["options"]),
    });
    assert!(
        api::auth::passkeys::confirm(&state, ada_id, &proof)
            .await
            .is_err()
    );
    assert!(
        api::auth::passkeys::confirm(&state, ada_id, &json!({"nonsense": true}))
            .await
            .is_err()
    );
}

/// Clears the account's password, as an account that signs in by passkey only would be.
async fn clear_password(app: &TestApp, user_id: &str) {
    let url = TestDb::shared(app).url.clone();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let db = rusqlite::Connection::open(path).unwrap();
        db.execute(
            "UPDATE users SET password_hash = NULL WHERE id = ?1",
            [user_id],
        )
        .unwrap();
    } else {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let id: uuid::Uuid = user_id.parse().unwrap();
        client
            .execute(
                "UPDATE users SET password_hash = NULL WHERE id = $1",
                &[&id],
            )
            .await
            .unwrap();
    }
}

async fn the_last_way_into_an_account_cannot_be_removed(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let (_, laptop) = register(&app, &ada, "Laptop").await;
    let (_, phone) = register(&app, &ada, "Phone").await;
    clear_password(&app, &ada.user_id).await;

    app.delete(format!("/api/v1/me/passkeys/{phone}"), &ada)
        .await
        .assert_status(204);
    let refused = app
        .delete(format!("/api/v1/me/passkeys/{laptop}"), &ada)
        .await;
    refused.assert_status(409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("only way to sign in")
    );
    assert_eq!(passkeys_of(&app, &ada).await.len(), 1);

    // With a password, the last passkey may go: the password still signs in.
    let bob = app.register("Bob").await;
    let (_, only) = register(&app, &bob, "Only").await;
    app.delete(format!("/api/v1/me/passkeys/{only}"), &bob)
        .await
        .assert_status(204);
}

async fn finish_from(app: &TestApp, address: [u8; 4], body: Value) -> TestResponse {
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/auth/passkey/finish")
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::from((address, 40_000))))
        .body(Body::from(body.to_string()))
        .unwrap();
    app.send(request).await
}

async fn too_many_failed_passkey_sign_ins_from_one_network_are_refused(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let (mut authenticator, _) = register(&app, &ada, "Laptop").await;
    let mut forger = authenticator.with_other_key();
    let attacker = [203, 0, 113, 7];
    for _ in 0..30 {
        let start = start_sign_in(&app).await;
        let credential = forger.assert(&start["options"]);
        let refused = finish_from(
            &app,
            attacker,
            json!({"challenge_id": start["challenge_id"], "credential": credential}),
        )
        .await;
        assert_refused_sign_in(&refused);
    }
    // Now even the right passkey is turned away from that network for a while…
    let start = start_sign_in(&app).await;
    let credential = authenticator.assert(&start["options"]);
    let limited = finish_from(
        &app,
        attacker,
        json!({"challenge_id": start["challenge_id"], "credential": credential}),
    )
    .await;
    limited.assert_status(429);
    assert!(session_cookie(&limited.headers).is_none());
    // …but not from another network, and successes there do not count.
    for _ in 0..3 {
        let start = start_sign_in(&app).await;
        let credential = authenticator.assert(&start["options"]);
        let ok = finish_from(
            &app,
            [198, 51, 100, 1],
            json!({"challenge_id": start["challenge_id"], "credential": credential}),
        )
        .await;
        ok.assert_status(200);
    }
}

async fn a_passkey_added_by_whoever_registered_someone_elses_email_goes_with_the_takeover(
    backend: Backend,
) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    // Mallory registers Ann's email with a password and adds a passkey of her own…
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ann@example.com", "password": "mallory's password", "name": "Ann"})),
            &[],
        )
        .await;
    registered.assert_status(201);
    let mallory = Person {
        token: session_cookie(&registered.headers).unwrap(),
        email: "ann@example.com".into(),
        household: String::new(),
        user_id: registered.body["user"]["id"].as_str().unwrap().into(),
    };
    let mut mallorys = Authenticator::new(&app.config.public_url);
    try_register(&app, &mallory, &mut mallorys, "Mallory's")
        .await
        .assert_status(201);
    sign_in(&app, &mut mallorys).await.assert_status(200);

    // …then Ann signs in with Google and the account becomes hers alone.
    let ann = google_sign_in(&app, false)
        .await
        .session
        .expect("Ann is signed in");
    assert_refused_sign_in(&sign_in(&app, &mut mallorys).await);
    let list = app
        .request(Method::GET, "/api/v1/me/passkeys", Some(&ann), None, &[])
        .await;
    list.assert_status(200);
    assert_eq!(list.body["items"], json!([]));
}

async fn a_ceremony_past_its_five_minutes_is_not_answered(backend: Backend) {
    let app = app(backend).await;
    let ada = app.register("Ada").await;
    let (mut laptop, _) = register(&app, &ada, "Laptop").await;
    let start = start_sign_in(&app).await;
    let id: uuid::Uuid = start["challenge_id"].as_str().unwrap().parse().unwrap();
    let now = time::OffsetDateTime::now_utc();
    // Five minutes and a second later, the ceremony is gone, answered or not.
    let later = now + time::Duration::minutes(5) + time::Duration::seconds(1);
    assert!(
        app.store
            .take_ceremony(id, "sign_in", later)
            .await
            .unwrap()
            .is_none()
    );
    let credential = laptop.assert(&start["options"]);
    assert_refused_sign_in(&finish_sign_in(&app, &start["challenge_id"], credential).await);

    // Within them it is answered once, and only as the kind of ceremony it is.
    let start = start_sign_in(&app).await;
    let id: uuid::Uuid = start["challenge_id"].as_str().unwrap().parse().unwrap();
    assert!(
        app.store
            .take_ceremony(id, "register", now)
            .await
            .unwrap()
            .is_none()
    );
    let soon = now + time::Duration::minutes(4);
    assert!(
        app.store
            .take_ceremony(id, "sign_in", soon)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        app.store
            .take_ceremony(id, "sign_in", soon)
            .await
            .unwrap()
            .is_none()
    );
}

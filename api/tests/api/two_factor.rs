//! Two-factor sign-in with an authenticator app: setting it up, signing in with a code or
//! a recovery code, codes accepted once, guesses throttled, and turning it off.

use api::auth::two_factor::{base32, code_at};
use axum::http::Method;
use serde_json::{Value, json};
use shared::UserId;
use time::OffsetDateTime;

use crate::helpers::{Backend, Person, TestApp, TestDb, session_cookie, spawn_app};

crate::on_every_backend!(
    setting_up_shows_a_secret_that_does_nothing_until_a_code_confirms_it,
    turning_on_needs_the_apps_current_code,
    signing_in_then_needs_a_code_from_the_app,
    a_code_signs_in_once,
    a_recovery_code_signs_in_once_and_is_stored_only_as_a_hash,
    wrong_codes_are_throttled_like_wrong_passwords,
    a_wrong_password_still_says_nothing_about_the_code,
    turning_off_needs_the_password,
    new_recovery_codes_replace_the_old_ones,
    a_taken_over_account_has_no_two_factor_left_nor_any_to_set_up,
    an_api_token_can_not_change_two_factor,
);

const PASSWORD: &str = "correct horse";

fn user_id(who: &Person) -> UserId {
    who.user_id.parse::<uuid::Uuid>().unwrap().into()
}

/// Starts the setup; the secret's bytes, read from the store.
async fn set_up(app: &TestApp, who: &Person) -> (Value, Vec<u8>) {
    let setup = app
        .post(
            "/api/v1/me/two-factor/setup",
            who,
            json!({"password": PASSWORD}),
        )
        .await;
    setup.assert_status(200);
    let row = app.store.two_factor(user_id(who)).await.unwrap().unwrap();
    (setup.body, row.pending_secret.expect("a pending secret"))
}

/// Sets two-factor up and turns it on with the code of the step before the current one
/// (a phone's clock a little behind), so that the current code is still unused after; the
/// secret and the recovery codes.
async fn turn_on(app: &TestApp, who: &Person) -> (Vec<u8>, Vec<String>) {
    let (_, secret) = set_up(app, who).await;
    let mut on = None;
    // Twice, in case a step ended between making the code and checking it.
    for _ in 0..2 {
        let code = code_at(
            &secret,
            OffsetDateTime::now_utc() - time::Duration::seconds(30),
        )
        .unwrap();
        let answer = app
            .post("/api/v1/me/two-factor/enable", who, json!({"code": code}))
            .await;
        if answer.status == 200 {
            on = Some(answer);
            break;
        }
    }
    let on = on.expect("turned on");
    let codes = on.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (secret, codes)
}

async fn login(
    app: &TestApp,
    who: &Person,
    password: &str,
    code: Option<&str>,
) -> crate::helpers::TestResponse {
    let mut body = json!({"email": who.email, "password": password});
    if let Some(code) = code {
        body["code"] = json!(code);
    }
    app.request(Method::POST, "/api/v1/auth/login", None, Some(body), &[])
        .await
}

async fn status(app: &TestApp, who: &Person) -> Value {
    let status = app.get("/api/v1/me/two-factor", who).await;
    status.assert_status(200);
    status.body
}

async fn setting_up_shows_a_secret_that_does_nothing_until_a_code_confirms_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    assert_eq!(
        status(&app, &ann).await,
        json!({"enabled": false, "recovery_codes_left": 0})
    );
    let (setup, secret) = set_up(&app, &ann).await;
    assert_eq!(setup["secret"], base32(&secret));
    let url = setup["otpauth_url"].as_str().unwrap();
    assert!(url.starts_with("otpauth://totp/Home%20Inventory:"), "{url}");
    assert!(
        url.contains(&format!("secret={}", base32(&secret))),
        "{url}"
    );
    let svg = setup["qr_svg"].as_str().unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("<path"), "{svg}");

    // Not on yet: the password alone still signs in.
    assert_eq!(status(&app, &ann).await["enabled"], false);
    login(&app, &ann, PASSWORD, None).await.assert_status(200);

    // The setup needs the password, and a wrong one is said at the field.
    let wrong = app
        .post(
            "/api/v1/me/two-factor/setup",
            &ann,
            json!({"password": "nope nope"}),
        )
        .await;
    wrong.assert_status(422);
    assert_eq!(wrong.body["error"]["details"]["password"], "is not right");
    let missing = app
        .post("/api/v1/me/two-factor/setup", &ann, json!({}))
        .await;
    missing.assert_status(422);
    assert_eq!(missing.body["error"]["details"]["password"], "is required");
}

async fn turning_on_needs_the_apps_current_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    // Nothing set up: nothing to turn on.
    let early = app
        .post(
            "/api/v1/me/two-factor/enable",
            &ann,
            json!({"code": "123456"}),
        )
        .await;
    early.assert_status(409);

    let (_, secret) = set_up(&app, &ann).await;
    let now = OffsetDateTime::now_utc();
    // A code from two minutes ago, or another secret's code: refused at the field.
    let stale = code_at(&secret, now - time::Duration::minutes(2)).unwrap();
    let current = code_at(&secret, now).unwrap();
    for wrong in [stale.as_str(), "abcdef", ""] {
        if wrong == current {
            continue;
        }
        let refused = app
            .post("/api/v1/me/two-factor/enable", &ann, json!({"code": wrong}))
            .await;
        refused.assert_status(422);
        assert!(
            refused.body["error"]["details"]["code"].is_string(),
            "{}",
            refused.body
        );
    }
    assert_eq!(status(&app, &ann).await["enabled"], false);

    let on = app
        .post(
            "/api/v1/me/two-factor/enable",
            &ann,
            json!({"code": current}),
        )
        .await;
    on.assert_status(200);
    let codes = on.body["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    assert_eq!(
        status(&app, &ann).await,
        json!({"enabled": true, "recovery_codes_left": 10})
    );
    // On: a second setup is refused rather than replacing the secret in use.
    let again = app
        .post(
            "/api/v1/me/two-factor/setup",
            &ann,
            json!({"password": PASSWORD}),
        )
        .await;
    again.assert_status(409);
}

async fn signing_in_then_needs_a_code_from_the_app(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (secret, _) = turn_on(&app, &ann).await;

    let without = login(&app, &ann, PASSWORD, None).await;
    without.assert_status(401);
    assert_eq!(without.error_code(), "unauthorized");
    assert_eq!(
        without.body["error"]["details"],
        json!({"code": "is required"})
    );
    assert!(
        without.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("authenticator app"),
        "{}",
        without.body
    );
    assert!(
        session_cookie(&without.headers).is_none(),
        "no session without the code"
    );

    let wrong = login(&app, &ann, PASSWORD, Some("000000")).await;
    // (One chance in a million that 000000 is the current code.)
    if wrong.status != 200 {
        wrong.assert_status(401);
        assert_eq!(
            wrong.body["error"]["details"],
            json!({"code": "is not right"})
        );
        assert!(session_cookie(&wrong.headers).is_none());
    }

    // The code the app shows: signed in.
    let code = code_at(&secret, OffsetDateTime::now_utc()).unwrap();
    let signed_in = login(&app, &ann, PASSWORD, Some(&code)).await;
    signed_in.assert_status(200);
    assert!(session_cookie(&signed_in.headers).is_some());
    assert_eq!(signed_in.body["user"]["email"], ann.email.as_str());
}

async fn a_code_signs_in_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (secret, _) = turn_on(&app, &ann).await;
    let at = OffsetDateTime::now_utc();
    let code = code_at(&secret, at).unwrap();
    login(&app, &ann, PASSWORD, Some(&code))
        .await
        .assert_status(200);
    // Seen over a shoulder or replayed from a log: refused, though still within its time.
    let replayed = login(&app, &ann, PASSWORD, Some(&code)).await;
    replayed.assert_status(401);
    assert_eq!(
        replayed.body["error"]["details"],
        json!({"code": "is not right"})
    );
    // The code of the step before is older than the one used: refused too.
    let earlier = code_at(&secret, at - time::Duration::seconds(30)).unwrap();
    if earlier != code {
        login(&app, &ann, PASSWORD, Some(&earlier))
            .await
            .assert_status(401);
    }
}

/// The stored hashes of the recovery codes, read from the database itself.
async fn stored_code_hashes(app: &TestApp) -> Vec<Vec<u8>> {
    let url = TestDb::shared(app).url.clone();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut stmt = conn
            .prepare("SELECT code_hash FROM recovery_codes")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    } else {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client
            .query("SELECT code_hash FROM recovery_codes", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, Vec<u8>>(0))
            .collect()
    }
}

async fn a_recovery_code_signs_in_once_and_is_stored_only_as_a_hash(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (_, codes) = turn_on(&app, &ann).await;

    let stored = stored_code_hashes(&app).await;
    assert_eq!(stored.len(), 10);
    for code in &codes {
        let plain = code.replace('-', "");
        for hash in &stored {
            assert_eq!(hash.len(), 32, "a SHA-256 hash");
            assert!(!hash.windows(plain.len()).any(|w| w == plain.as_bytes()));
        }
    }

    // Typed in capitals with spaces for dashes: the same code.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let used = login(&app, &ann, PASSWORD, Some(&typed)).await;
    used.assert_status(200);
    assert!(session_cookie(&used.headers).is_some());
    assert_eq!(status(&app, &ann).await["recovery_codes_left"], 9);

    let again = login(&app, &ann, PASSWORD, Some(&codes[0])).await;
    again.assert_status(401);
    assert_eq!(
        again.body["error"]["details"],
        json!({"code": "is not right"})
    );
    // The others still work.
    login(&app, &ann, PASSWORD, Some(&codes[1]))
        .await
        .assert_status(200);
    // A made-up code of the right shape does not.
    login(&app, &ann, PASSWORD, Some("abcd-efgh-jkmn"))
        .await
        .assert_status(401);
}

async fn wrong_codes_are_throttled_like_wrong_passwords(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (secret, codes) = turn_on(&app, &ann).await;
    let current = code_at(&secret, OffsetDateTime::now_utc()).unwrap();
    let guesses = ["111111", "222222", "333333", "444444", "555555"]
        .into_iter()
        .filter(|g| *g != current)
        .take(4);
    // The password without a code counts too.
    login(&app, &ann, PASSWORD, None).await.assert_status(401);
    for guess in guesses {
        login(&app, &ann, PASSWORD, Some(guess))
            .await
            .assert_status(401);
    }
    // Five failures: now even a right recovery code waits.
    let blocked = login(&app, &ann, PASSWORD, Some(&codes[0])).await;
    blocked.assert_status(429);
    assert_eq!(blocked.error_code(), "rate_limited");
    assert_eq!(
        status(&app, &ann).await["recovery_codes_left"],
        10,
        "not used up"
    );
}

async fn a_wrong_password_still_says_nothing_about_the_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let (_, codes) = turn_on(&app, &ann).await;
    // Whoever lacks the password learns nothing of the second factor, not even that
    // there is one, and a right recovery code does not help.
    for code in [None, Some(codes[0].as_str())] {
        let refused = login(&app, &ann, "not the password", code).await;
        refused.assert_status(401);
        assert!(
            refused.body["error"].get("details").is_none(),
            "{}",
            refused.body
        );
    }
    assert_eq!(status(&app, &ann).await["recovery_codes_left"], 10);
}

async fn turning_off_needs_the_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    turn_on(&app, &ann).await;

    let wrong = app
        .post(
            "/api/v1/me/two-factor/disable",
            &ann,
            json!({"password": "not it at all"}),
        )
        .await;
    wrong.assert_status(422);
    assert_eq!(wrong.body["error"]["details"]["password"], "is not right");
    let nothing = app
        .post("/api/v1/me/two-factor/disable", &ann, json!({}))
        .await;
    nothing.assert_status(422);
    assert_eq!(nothing.body["error"]["details"]["password"], "is required");
    // A passkey assertion that proves nothing: refused at its field.
    let passkey = app
        .post(
            "/api/v1/me/two-factor/disable",
            &ann,
            json!({"passkey": {"challenge_id": "x", "credential": {}}}),
        )
        .await;
    passkey.assert_status(422);
    assert!(passkey.body["error"]["details"]["passkey"].is_string());
    assert_eq!(status(&app, &ann).await["enabled"], true);

    app.post(
        "/api/v1/me/two-factor/disable",
        &ann,
        json!({"password": PASSWORD}),
    )
    .await
    .assert_status(204);
    assert_eq!(
        status(&app, &ann).await,
        json!({"enabled": false, "recovery_codes_left": 0})
    );
    login(&app, &ann, PASSWORD, None).await.assert_status(200);
    assert!(stored_code_hashes(&app).await.is_empty());
}

async fn new_recovery_codes_replace_the_old_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    // Off: there are none to replace.
    app.post(
        "/api/v1/me/two-factor/recovery-codes",
        &ann,
        json!({"password": PASSWORD}),
    )
    .await
    .assert_status(409);
    let (_, old) = turn_on(&app, &ann).await;
    let wrong = app
        .post(
            "/api/v1/me/two-factor/recovery-codes",
            &ann,
            json!({"password": "not it at all"}),
        )
        .await;
    wrong.assert_status(422);
    let made = app
        .post(
            "/api/v1/me/two-factor/recovery-codes",
            &ann,
            json!({"password": PASSWORD}),
        )
        .await;
    made.assert_status(200);
    let new: Vec<String> = made.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));
    login(&app, &ann, PASSWORD, Some(&old[0]))
        .await
        .assert_status(401);
    login(&app, &ann, PASSWORD, Some(&new[0]))
        .await
        .assert_status(200);
}

async fn a_taken_over_account_has_no_two_factor_left_nor_any_to_set_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    // Whoever registered the email turned two-factor on; then the email's owner signed in
    // with Google and took the account over: no password, and no second factor left.
    turn_on(&app, &ann).await;
    app.store
        .claim_account(
            user_id(&ann),
            "google",
            "ann-at-google",
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    app.store
        .create_session(&api::store::SessionRow {
            token_hash: api::auth::token_hash("google session"),
            id: uuid::Uuid::now_v7(),
            user_id: user_id(&ann),
            user_agent: None,
            created_at: OffsetDateTime::now_utc(),
            last_used_at: None,
            expires_at: OffsetDateTime::now_utc() + time::Duration::days(1),
        })
        .await
        .unwrap();
    let google = Person {
        token: "google session".into(),
        ..ann.clone()
    };
    assert_eq!(
        status(&app, &google).await,
        json!({"enabled": false, "recovery_codes_left": 0})
    );
    assert!(stored_code_hashes(&app).await.is_empty());
    let refused = app
        .post(
            "/api/v1/me/two-factor/setup",
            &google,
            json!({"password": PASSWORD}),
        )
        .await;
    refused.assert_status(409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Google"),
        "{}",
        refused.body
    );
}

async fn an_api_token_can_not_change_two_factor(backend: Backend) {
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
    let bearer = format!("Bearer {}", made.body["token"].as_str().unwrap());
    let auth = [("authorization", bearer.as_str())];
    let refused = app
        .request(Method::GET, "/api/v1/me/two-factor", None, None, &auth)
        .await;
    refused.assert_status(403);
    let refused = app
        .request(
            Method::POST,
            "/api/v1/me/two-factor/setup",
            None,
            Some(json!({"password": PASSWORD})),
            &auth,
        )
        .await;
    refused.assert_status(403);
}

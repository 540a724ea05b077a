//! Account pre-hijacking: someone registers another person's email with a password before
//! that person ever signs in. When the email's owner signs in with Google (through the real
//! OpenID provider on loopback), the account becomes theirs alone.

use axum::http::Method;
use serde_json::{Value, json};
use shared::{Currency, HouseholdId, User, UserId};

use api::store::{HouseholdRow, SessionRow, StoreError, UserRow};

use crate::google::{Provider, sign_in, with_google};
use crate::helpers::{Backend, TestApp, TestDb, session_cookie};

crate::on_every_backend!(
    google_sign_in_takes_over_an_account_registered_with_the_email_by_someone_else,
    a_google_account_signs_in_to_itself_and_its_email_cannot_be_registered,
    a_verified_account_is_linked_without_ending_its_sessions,
    a_password_checked_before_a_takeover_starts_no_session_after_it,
);

const VICTIM: &str = "ann@example.com";
const ATTACKERS_PASSWORD: &str = "attacker's password";

async fn me(app: &TestApp, session: &str) -> (u16, Value) {
    let response = app
        .request(Method::GET, "/api/v1/me", Some(session), None, &[])
        .await;
    (response.status.as_u16(), response.body)
}

async fn login(app: &TestApp, email: &str, password: &str) -> u16 {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
        &[],
    )
    .await
    .status
    .as_u16()
}

async fn google_sign_in_takes_over_an_account_registered_with_the_email_by_someone_else(
    backend: Backend,
) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;

    // The attacker registers the victim's email, keeps the session and makes an invitation.
    let registered = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": VICTIM, "password": ATTACKERS_PASSWORD, "name": "Ann"})),
            &[],
        )
        .await;
    registered.assert_status(201);
    let attackers_session = session_cookie(&registered.headers).unwrap();
    let account = registered.body["user"]["id"].as_str().unwrap().to_string();
    let (_, before) = me(&app, &attackers_session).await;
    let household = before["households"][0]["id"].as_str().unwrap().to_string();
    let invite = app
        .request(
            Method::POST,
            &format!("/api/v1/households/{household}/invites"),
            Some(&attackers_session),
            Some(json!({"role": "owner"})),
            &[],
        )
        .await;
    invite.assert_status(201);
    let code = invite.body["code"].as_str().unwrap().to_string();
    let invite_link = format!("/api/v1/invites/{code}");
    app.request(Method::GET, &invite_link, None, None, &[])
        .await
        .assert_status(200);

    // The victim signs in with Google and lands in the account.
    let victim = sign_in(&app, false).await;
    assert_eq!(victim.location, "/items");
    let victims_session = victim.session.expect("the victim is signed in");
    let (status, mine) = me(&app, &victims_session).await;
    assert_eq!(status, 200);
    assert_eq!(mine["user"]["id"], json!(account));
    assert_eq!(mine["households"][0]["id"], json!(household));

    // The attacker's session, password and invitation no longer work.
    let (status, body) = me(&app, &attackers_session).await;
    assert_eq!(
        status, 401,
        "the attacker's old session still works: {body}"
    );
    assert_eq!(login(&app, VICTIM, ATTACKERS_PASSWORD).await, 401);
    let gone = app
        .request(Method::GET, &invite_link, None, None, &[])
        .await;
    gone.assert_status(404);
    let stranger = app.register("Mallory").await;
    app.post(format!("{invite_link}/accept"), &stranger, json!({}))
        .await
        .assert_status(404);
    let row = app.store.user_by_email(VICTIM).await.unwrap().unwrap();
    assert!(row.password_hash.is_none());
    assert!(row.email_verified_at.is_some());

    // The victim keeps signing in to it, and their session lives on.
    let again = sign_in(&app, false).await;
    let (_, again) = me(&app, &again.session.unwrap()).await;
    assert_eq!(again["user"]["id"], json!(account));
    assert_eq!(me(&app, &victims_session).await.0, 200);
}

async fn a_google_account_signs_in_to_itself_and_its_email_cannot_be_registered(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    let first = sign_in(&app, false).await.session.unwrap();
    let (_, account) = me(&app, &first).await;
    let row = app.store.user_by_email(VICTIM).await.unwrap().unwrap();
    assert!(
        row.email_verified_at.is_some(),
        "Google vouched for the email"
    );
    let squat = app
        .request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": VICTIM, "password": ATTACKERS_PASSWORD, "name": "Ann"})),
            &[],
        )
        .await;
    squat.assert_status(409);
    let second = sign_in(&app, false).await.session.unwrap();
    assert_eq!(
        me(&app, &second).await.1["user"]["id"],
        account["user"]["id"]
    );
    assert_eq!(
        me(&app, &first).await.0,
        200,
        "signing in again ends no session"
    );
}

async fn a_verified_account_is_linked_without_ending_its_sessions(backend: Backend) {
    let provider = Provider::start();
    let app = with_google(backend, &provider).await;
    let first = sign_in(&app, false).await.session.unwrap();
    let (_, account) = me(&app, &first).await;
    // Another Google account with the same (verified) email: linked to the same account.
    provider
        .set("/claims", json!({"sub": "another-google-account"}))
        .await;
    let other = sign_in(&app, false).await.session.unwrap();
    assert_eq!(
        me(&app, &other).await.1["user"]["id"],
        account["user"]["id"]
    );
    assert_eq!(me(&app, &first).await.0, 200);
    let linked = app
        .store
        .user_by_identity("google", "another-google-account")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(json!(linked.user.id), account["user"]["id"]);
}

/// A sign-in whose password was checked just before the account was claimed must not get a
/// session after it: starting the session re-checks the password in the same transaction.
async fn a_password_checked_before_a_takeover_starts_no_session_after_it(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let at = now();
    let user = UserId::new();
    store
        .create_user(
            &UserRow {
                user: User {
                    id: user,
                    email: VICTIM.into(),
                    name: "Ann".into(),
                    created_at: at,
                },
                password_hash: Some("the attacker's hash".into()),
                email_verified_at: None,
            },
            &HouseholdRow {
                id: HouseholdId::new(),
                name: "My Home".into(),
                currency: Currency::default(),
                version: 1,
                created_at: at,
            },
        )
        .await
        .unwrap();
    let session = |byte: u8| SessionRow {
        token_hash: vec![byte; 32],
        id: uuid::Uuid::now_v7(),
        user_agent: None,
        last_used_at: None,
        user_id: user,
        created_at: at,
        expires_at: at + time::Duration::days(30),
    };
    // Before the takeover the password starts sessions.
    store
        .create_password_session(&session(1), "the attacker's hash")
        .await
        .unwrap();
    store
        .claim_account(user, "google", "victim", at)
        .await
        .unwrap();
    assert!(store.session(&[1; 32], at).await.unwrap().is_none());
    let late = store
        .create_password_session(&session(2), "the attacker's hash")
        .await;
    assert!(matches!(late, Err(StoreError::Conflict(_))), "{late:?}");
    assert!(store.session(&[2; 32], at).await.unwrap().is_none());
    // Claiming again (a second sign-in racing the first) changes nothing.
    store
        .claim_account(user, "google", "victim", at)
        .await
        .unwrap();
    let row = store.user_by_email(VICTIM).await.unwrap().unwrap();
    assert_eq!(row.email_verified_at, Some(at));
    assert!(row.password_hash.is_none());
}

/// Now, to the microsecond both databases keep.
fn now() -> time::OffsetDateTime {
    let now = time::OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap()
}

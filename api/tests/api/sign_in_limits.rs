//! Password guessing in parallel: every attempt is counted before its password is checked,
//! so a burst of simultaneous guesses gets no more checks than one guess after another.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, header};
use futures_util::future::join_all;
use serde_json::json;

use api::{AppState, Config};
use tower::ServiceExt as _;

use crate::helpers::{Backend, TestApp, TestDb, TestResponse, spawn_app};

crate::on_every_backend!(
    sixty_parallel_guesses_at_one_account_get_at_most_five_checks,
    sixty_parallel_guesses_from_one_address_get_at_most_thirty_checks,
    addresses_in_one_ipv6_64_share_a_count,
    successful_sign_ins_do_not_use_up_the_address,
    one_address_makes_at_most_ten_accounts_an_hour,
    with_every_hashing_turn_taken_sign_ins_hear_the_server_is_busy,
);

/// A JSON POST from `ip`, as a socket peer would be.
pub(crate) async fn post_from(
    app: &TestApp,
    ip: &str,
    path: &str,
    body: serde_json::Value,
    headers: &[(&str, &str)],
) -> TestResponse {
    let ip: IpAddr = ip.parse().unwrap();
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(ConnectInfo(SocketAddr::new(ip, 40_000)));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body.to_string())).unwrap())
        .await
}

pub(crate) async fn login_from(app: &TestApp, ip: &str, email: &str, password: &str) -> u16 {
    post_from(
        app,
        ip,
        "/api/v1/auth/login",
        json!({"email": email, "password": password}),
        &[],
    )
    .await
    .status
    .as_u16()
}

/// How many answers had each status.
fn tally(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

async fn sixty_parallel_guesses_at_one_account_get_at_most_five_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let statuses = join_all((0..60).map(|i| {
        login_from(
            &app,
            "203.0.113.9",
            &ann.email,
            if i % 2 == 0 { "guess one" } else { "guess two" },
        )
    }))
    .await;
    let checked = tally(&statuses, 401);
    let refused = tally(&statuses, 429);
    assert!(
        checked <= 5,
        "{checked} passwords were checked: {statuses:?}"
    );
    assert_eq!(checked + refused, 60, "{statuses:?}");
    // The right password waits out the window too.
    assert_eq!(
        login_from(&app, "198.51.100.1", &ann.email, "correct horse").await,
        429
    );
}

async fn sixty_parallel_guesses_from_one_address_get_at_most_thirty_checks(backend: Backend) {
    let app = spawn_app(backend).await;
    let app = &app;
    let statuses = join_all((0..60).map(|i| {
        let email = format!("person{i}@example.com");
        async move { login_from(app, "203.0.113.9", &email, "a guess").await }
    }))
    .await;
    let checked = tally(&statuses, 401);
    let refused = tally(&statuses, 429);
    assert!(
        checked <= 30,
        "{checked} passwords were checked: {statuses:?}"
    );
    assert_eq!(checked + refused, 60, "{statuses:?}");
    assert_eq!(
        login_from(app, "203.0.113.9", "someone@example.com", "a guess").await,
        429
    );
    // Another address is counted on its own.
    assert_eq!(
        login_from(app, "203.0.113.10", "someone@example.com", "a guess").await,
        401
    );
}

async fn addresses_in_one_ipv6_64_share_a_count(backend: Backend) {
    let app = spawn_app(backend).await;
    let app = &app;
    let statuses = join_all((0..30).map(|i| {
        let email = format!("person{i}@example.com");
        let ip = format!("2001:db8:1:2::{:x}", i + 1);
        async move { login_from(app, &ip, &email, "a guess").await }
    }))
    .await;
    assert_eq!(tally(&statuses, 401) + tally(&statuses, 429), 30);
    // A new address in the same /64 is the same subscriber.
    assert_eq!(
        login_from(app, "2001:db8:1:2:ffff::1", "next@example.com", "a guess").await,
        429
    );
    // The next /64 is someone else.
    assert_eq!(
        login_from(app, "2001:db8:1:3::1", "next@example.com", "a guess").await,
        401
    );
}

/// A household behind one address signs in all day: only guesses count.
async fn successful_sign_ins_do_not_use_up_the_address(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for _ in 0..31 {
        assert_eq!(
            login_from(&app, "203.0.113.9", &ann.email, "correct horse").await,
            200
        );
    }
}

async fn one_address_makes_at_most_ten_accounts_an_hour(backend: Backend) {
    let app = spawn_app(backend).await;
    let register = |ip: &'static str, i: usize| {
        let app = &app;
        async move {
            post_from(
                app,
                ip,
                "/api/v1/auth/register",
                json!({"email": format!("person{i}@example.com"), "password": "correct horse", "name": "Person"}),
                &[],
            )
            .await
        }
    };
    for i in 0..10 {
        register("198.51.100.20", i).await.assert_status(201);
    }
    let eleventh = register("198.51.100.20", 10).await;
    eleventh.assert_status(429);
    assert_eq!(eleventh.error_code(), "rate_limited");
    assert!(
        app.store
            .user_by_email("person10@example.com")
            .await
            .unwrap()
            .is_none()
    );
    register("198.51.100.21", 10).await.assert_status(201);
}

/// Password hashes run a few at a time; a request that gets no turn within a few seconds
/// is told so (503), and its attempt does not count against the limits.
async fn with_every_hashing_turn_taken_sign_ins_hear_the_server_is_busy(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Config::from_lookup(|name| match name {
        "DATA_DIR" => Some(dir.path().display().to_string()),
        "STATIC_DIR" => Some(dir.path().join("no-web-build").display().to_string()),
        _ => None,
    })
    .unwrap();
    let state = AppState::new(config, store).unwrap();
    let hashing = state.hashing.clone();
    let router = api::app(state);
    let post = |path: &'static str, body: serde_json::Value| {
        let router = router.clone();
        async move {
            let request = Request::builder()
                .method(Method::POST)
                .uri(path)
                .header(header::CONTENT_TYPE, "application/json")
                .extension(ConnectInfo(SocketAddr::from(([203, 0, 113, 9], 40_000))))
                .body(Body::from(body.to_string()))
                .unwrap();
            router.oneshot(request).await.unwrap().status().as_u16()
        }
    };
    let ann = json!({"email": "ann@example.com", "password": "correct horse", "name": "Ann"});
    assert_eq!(post("/api/v1/auth/register", ann).await, 201);

    let all = hashing.available_permits() as u32;
    let taken = hashing.clone().acquire_many_owned(all).await.unwrap();
    let guess = json!({"email": "ann@example.com", "password": "a guess"});
    let statuses = join_all((0..5).map(|_| post("/api/v1/auth/login", guess.clone()))).await;
    assert_eq!(statuses, vec![503; 5]);
    drop(taken);
    // Five attempts that checked nothing left the account's five checks untouched.
    let right = json!({"email": "ann@example.com", "password": "correct horse"});
    assert_eq!(post("/api/v1/auth/login", right).await, 200);
}

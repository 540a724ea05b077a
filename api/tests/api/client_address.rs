//! Which address a request is counted against behind proxies (`TRUSTED_PROXY`), and the
//! secret header that keeps requests from going around CloudFront (`ORIGIN_VERIFY_SECRET`).

use axum::http::Method;
use serde_json::json;

use api::config::TrustedProxy;

use crate::helpers::{Backend, TestApp, spawn_app_with};
use crate::sign_in_limits::post_from;

crate::on_every_backend!(
    a_forged_forwarded_for_entry_does_not_escape_the_address_limit,
    viewers_behind_cloudfront_are_counted_apart,
    without_the_origin_secret_requests_are_refused,
);

/// A failed sign-in (an unknown email, so only the address limit applies) with these
/// headers and no socket address, as under a proxy that hides it.
async fn guess(app: &TestApp, i: usize, headers: &[(&str, &str)]) -> u16 {
    app.request(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": format!("person{i}@example.com"), "password": "a guess"})),
        headers,
    )
    .await
    .status
    .as_u16()
}

async fn a_forged_forwarded_for_entry_does_not_escape_the_address_limit(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.trusted_proxy = TrustedProxy::Hops(1)).await;
    // The proxy appends the address it saw; whatever the client sent stays to its left.
    for i in 0..30 {
        let forged = format!("10.0.{}.{}, 203.0.113.9", i / 250, i % 250 + 1);
        assert_eq!(guess(&app, i, &[("x-forwarded-for", &forged)]).await, 401);
    }
    assert_eq!(
        guess(&app, 30, &[("x-forwarded-for", "10.99.99.99, 203.0.113.9")]).await,
        429
    );
    assert_eq!(
        guess(&app, 31, &[("x-forwarded-for", "203.0.113.10")]).await,
        401,
        "another client behind the same proxy is counted on its own"
    );
}

/// A failed sign-in arriving from CloudFront's edge address, for the viewer at `viewer`
/// (the header the deployment's CloudFront function sets).
async fn through_cloudfront(app: &TestApp, i: usize, viewer: &str) -> u16 {
    post_from(
        app,
        CLOUDFRONT_EDGE,
        "/api/v1/auth/login",
        json!({"email": format!("person{i}@example.com"), "password": "a guess"}),
        &[("x-viewer-address", viewer)],
    )
    .await
    .status
    .as_u16()
}

const CLOUDFRONT_EDGE: &str = "130.176.0.1";

async fn viewers_behind_cloudfront_are_counted_apart(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.trusted_proxy = TrustedProxy::CloudFront).await;
    for i in 0..30 {
        assert_eq!(through_cloudfront(&app, i, "2001:db8::1").await, 401);
    }
    assert_eq!(through_cloudfront(&app, 30, "2001:db8::1").await, 429);
    assert_eq!(
        through_cloudfront(&app, 31, "198.51.100.7").await,
        401,
        "another viewer at the same edge is counted on its own"
    );
}

async fn without_the_origin_secret_requests_are_refused(backend: Backend) {
    const SECRET: &str = "a-long-random-origin-secret";
    let app = spawn_app_with(backend, |c| {
        c.origin_verify_secret = Some(SECRET.to_string().into());
    })
    .await;
    let register = |headers: &'static [(&'static str, &'static str)]| {
        app.request(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"email": "ann@example.com", "password": "correct horse", "name": "Ann"})),
            headers,
        )
    };
    let bare = register(&[]).await;
    bare.assert_status(403);
    assert_eq!(bare.error_code(), "forbidden");
    register(&[("x-origin-verify", "a-long-random-origin-secreT")])
        .await
        .assert_status(403);
    for path in ["/api/v1/auth/providers", "/", "/items"] {
        let response = app.request(Method::GET, path, None, None, &[]).await;
        assert_eq!(response.status.as_u16(), 403, "{path}");
    }
    // The load balancer's and the deployment's health checks need no secret.
    app.request(Method::GET, "/api/health", None, None, &[])
        .await
        .assert_status(200);
    register(&[("x-origin-verify", SECRET)])
        .await
        .assert_status(201);
}

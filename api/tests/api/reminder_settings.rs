//! Reminder settings, the private calendar feed and the unsubscribe link: defaults until
//! saved, bad values refused field by field with nothing saved, the feed readable without a
//! cookie and parsed as iCalendar by a real parser, a reset address that makes the old one
//! 404, and a one-click unsubscribe from another site that turns off the digest only.

use axum::http::{Method, header};
use serde_json::{Value, json};
use shared::UserId;

use crate::helpers::{Backend, Person, TestApp, TestResponse, spawn_app};
use crate::sharing::join_as;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    settings_are_the_defaults_until_saved_and_then_what_was_saved,
    bad_values_are_refused_field_by_field_and_nothing_is_saved,
    api_tokens_read_and_save_settings_within_their_scope,
    the_feed_address_is_stable_and_a_reset_makes_the_old_one_404,
    the_feed_is_icalendar_of_the_persons_warranties_across_their_households,
    one_click_unsubscribe_from_another_site_turns_off_the_digest_only,
    the_scheduled_pass_route_is_not_reachable_from_outside,
);

const SETTINGS: &str = "/api/v1/me/reminders";

async fn put_settings(app: &TestApp, who: &Person, body: Value) -> TestResponse {
    app.request(Method::PUT, SETTINGS, Some(&who.token), Some(body), &[])
        .await
}

/// A request with no cookie and no token.
async fn anonymous(
    app: &TestApp,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> TestResponse {
    app.request(method, path, None, None, headers).await
}

/// The path of a feed address (`https://…/api/v1/calendar/<secret>.ics`).
fn path_of(url: &str) -> String {
    let at = url.find("/api/v1/calendar/").expect("a feed address");
    url[at..].to_string()
}

async fn feed_path(app: &TestApp, who: &Person) -> String {
    let feed = app.get("/api/v1/me/calendar", who).await;
    feed.assert_status(200);
    let url = feed.body["url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{}/api/v1/calendar/", app.config.public_url)),
        "{url}"
    );
    assert!(url.ends_with(".ics"), "{url}");
    path_of(url)
}

fn user_id(who: &Person) -> UserId {
    who.user_id.parse().unwrap()
}

async fn settings_defaults_until_saved(app: &TestApp, who: &Person) -> Value {
    let got = app.get(SETTINGS, who).await;
    got.assert_status(200);
    got.body
}

async fn settings_are_the_defaults_until_saved_and_then_what_was_saved(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let defaults = settings_defaults_until_saved(&app, &ann).await;
    assert_eq!(
        defaults,
        json!({
            "digest_enabled": true, "frequency": "daily", "weekday": "monday", "hour": 8,
            "time_zone": "UTC", "email": ann.email, "email_confirmed": false,
            "mail_configured": false, "saved": false
        })
    );

    let saved = put_settings(
        &app,
        &ann,
        json!({"digest_enabled": true, "frequency": "weekly", "weekday": "friday", "hour": 18,
               "time_zone": "America/New_York"}),
    )
    .await;
    saved.assert_status(200);
    let expected = json!({
        "digest_enabled": true, "frequency": "weekly", "weekday": "friday", "hour": 18,
        "time_zone": "America/New_York", "email": ann.email, "email_confirmed": false,
        "mail_configured": false, "saved": true
    });
    assert_eq!(saved.body, expected);
    assert_eq!(app.get(SETTINGS, &ann).await.body, expected);

    // Asking for the feed first keeps the defaults (not "saved"); saving later keeps the feed.
    let bob = app.register("Bob").await;
    let feed = feed_path(&app, &bob).await;
    assert_eq!(app.get(SETTINGS, &bob).await.body["saved"], false);
    put_settings(
        &app,
        &bob,
        json!({"digest_enabled": false, "frequency": "daily", "hour": 0, "time_zone": "Asia/Kolkata"}),
    )
    .await
    .assert_status(200);
    assert_eq!(feed_path(&app, &bob).await, feed);
    let bobs = app.get(SETTINGS, &bob).await.body;
    assert_eq!(bobs["digest_enabled"], false);
    assert_eq!(bobs["time_zone"], "Asia/Kolkata");
    // Ann's are hers alone.
    assert_eq!(app.get(SETTINGS, &ann).await.body, expected);
}

async fn bad_values_are_refused_field_by_field_and_nothing_is_saved(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let before = settings_defaults_until_saved(&app, &ann).await;

    let refused = put_settings(
        &app,
        &ann,
        json!({"digest_enabled": false, "frequency": "weekly", "weekday": "sunday", "hour": 24,
               "time_zone": "Mars/Olympus_Mons"}),
    )
    .await;
    refused.assert_status(422);
    assert_eq!(refused.error_code(), "validation_failed");
    let details = &refused.body["error"]["details"];
    assert!(
        details["hour"].as_str().unwrap().contains("0 to 23"),
        "{details}"
    );
    assert!(details["time_zone"].is_string(), "{details}");

    for (body, field) in [
        (
            json!({"digest_enabled": true, "frequency": "daily", "hour": 300, "time_zone": "UTC"}),
            "hour",
        ),
        (
            json!({"digest_enabled": true, "frequency": "daily", "hour": -1, "time_zone": "UTC"}),
            "hour",
        ),
        (
            json!({"digest_enabled": true, "frequency": "hourly", "hour": 8, "time_zone": "UTC"}),
            "frequency",
        ),
        (
            json!({"digest_enabled": true, "frequency": "weekly", "weekday": "someday", "hour": 8, "time_zone": "UTC"}),
            "weekday",
        ),
        (
            json!({"digest_enabled": true, "frequency": "daily", "hour": 8, "time_zone": ""}),
            "time_zone",
        ),
        (
            json!({"digest_enabled": "yes", "frequency": "daily", "hour": 8, "time_zone": "UTC"}),
            "digest_enabled",
        ),
    ] {
        let refused = put_settings(&app, &ann, body.clone()).await;
        refused.assert_status(422);
        assert!(
            refused.body["error"]["details"][field].is_string(),
            "{body} should be refused for {field}: {}",
            refused.body
        );
    }
    let missing = put_settings(&app, &ann, json!({"digest_enabled": true})).await;
    assert!(
        [400, 422].contains(&missing.status.as_u16()),
        "{}",
        missing.body
    );
    assert_eq!(
        app.get(SETTINGS, &ann).await.body,
        before,
        "nothing was saved"
    );
    assert!(
        app.store
            .reminder_settings(user_id(&ann))
            .await
            .unwrap()
            .is_none(),
        "no row was made"
    );

    let signed_out = anonymous(&app, Method::GET, SETTINGS, &[]).await;
    signed_out.assert_status(401);
}

async fn api_tokens_read_and_save_settings_within_their_scope(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let body = json!({"digest_enabled": true, "frequency": "weekly", "weekday": "tuesday",
                      "hour": 7, "time_zone": "Europe/Paris"});

    let (read, _) = make_token(&app, &ann, json!({"name": "reader", "scope": "read"})).await;
    with_token(&app, Method::GET, SETTINGS, &read, None)
        .await
        .assert_status(200);
    let refused = with_token(&app, Method::PUT, SETTINGS, &read, Some(body.clone())).await;
    refused.assert_status(403);
    assert_eq!(refused.error_code(), "forbidden");
    assert_eq!(app.get(SETTINGS, &ann).await.body["saved"], false);

    let (write, _) = make_token(&app, &ann, json!({"name": "writer", "scope": "write"})).await;
    let saved = with_token(&app, Method::PUT, SETTINGS, &write, Some(body)).await;
    saved.assert_status(200);
    assert_eq!(saved.body["time_zone"], "Europe/Paris");

    // The feed covers every household of its owner: a token of one household can't have it.
    let feed = with_token(&app, Method::GET, "/api/v1/me/calendar", &write, None).await;
    feed.assert_status(200);
    let (limited, _) = make_token(
        &app,
        &ann,
        json!({"name": "one home", "scope": "write", "household_id": ann.household}),
    )
    .await;
    for (method, path) in [
        (Method::GET, "/api/v1/me/calendar"),
        (Method::POST, "/api/v1/me/calendar/reset"),
    ] {
        let refused = with_token(&app, method, path, &limited, None).await;
        refused.assert_status(403);
    }
    let reset_by_reader =
        with_token(&app, Method::POST, "/api/v1/me/calendar/reset", &read, None).await;
    reset_by_reader.assert_status(403);
    assert_eq!(
        with_token(&app, Method::GET, "/api/v1/me/calendar", &write, None)
            .await
            .body,
        feed.body,
        "the refused resets changed nothing"
    );
}

async fn the_feed_address_is_stable_and_a_reset_makes_the_old_one_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let first = feed_path(&app, &ann).await;
    assert_eq!(
        feed_path(&app, &ann).await,
        first,
        "the same address each time"
    );

    let fetched = anonymous(&app, Method::GET, &first, &[]).await;
    fetched.assert_status(200);
    assert_eq!(
        fetched.headers[header::CONTENT_TYPE],
        "text/calendar; charset=utf-8"
    );
    assert!(
        fetched
            .body
            .as_str()
            .unwrap()
            .starts_with("BEGIN:VCALENDAR\r\n")
    );

    let reset = app
        .request(
            Method::POST,
            "/api/v1/me/calendar/reset",
            Some(&ann.token),
            None,
            &[],
        )
        .await;
    reset.assert_status(200);
    let second = path_of(reset.body["url"].as_str().unwrap());
    assert_ne!(second, first);
    assert_eq!(feed_path(&app, &ann).await, second);

    let old = anonymous(&app, Method::GET, &first, &[]).await;
    old.assert_status(404);
    assert_eq!(old.error_code(), "not_found");
    anonymous(&app, Method::GET, &second, &[])
        .await
        .assert_status(200);

    // Made-up and malformed addresses are unknown, with the one error body.
    for path in [
        "/api/v1/calendar/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/api/v1/calendar/short.ics",
        "/api/v1/calendar/..%2F..%2Fetc.ics",
    ] {
        let unknown = anonymous(&app, Method::GET, path, &[]).await;
        unknown.assert_status(404);
        assert_eq!(unknown.error_code(), "not_found", "{path}");
    }
    // The secret of one person's feed is not the other's.
    let bob = app.register("Bob").await;
    assert_ne!(feed_path(&app, &bob).await, second);
}

async fn the_feed_is_icalendar_of_the_persons_warranties_across_their_households(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let today = time::OffsetDateTime::now_utc().date();
    let soon = today + time::Duration::days(20);
    let later = today + time::Duration::days(400);
    let long_gone = today - time::Duration::days(800);
    let dishwasher = app
        .create_item(
            &ann,
            json!({"name": "Dishwasher, Bosch; 500 series", "warranty_expires": soon.to_string()}),
        )
        .await
        .id();
    app.create_item(
        &ann,
        json!({"name": "Old radio", "warranty_expires": long_gone.to_string()}),
    )
    .await;
    // Bob's household, which Ann joins: its items are in her feed too.
    let bob = app.register("Bob").await;
    let tv = app
        .create_item(
            &bob,
            json!({"name": "Television", "warranty_expires": later.to_string()}),
        )
        .await
        .id();
    // Carol's, which Ann is not in: nothing of it.
    let carol = app.register("Carol").await;
    app.create_item(
        &carol,
        json!({"name": "Carol's fridge", "warranty_expires": soon.to_string()}),
    )
    .await;
    join_as(&app, &bob, &ann, "viewer").await;

    let feed = anonymous(&app, Method::GET, &feed_path(&app, &ann).await, &[]).await;
    feed.assert_status(200);
    let events = ical::parse(feed.body.as_str().unwrap());
    let Some(events) = events else { return };
    let host = "127.0.0.1";
    let expected = json!([
        {
            "uid": format!("warranty-{dishwasher}@{host}"),
            "summary": "Warranty ends: Dishwasher, Bosch; 500 series",
            "start": soon.to_string(),
            "all_day": true,
            "household": "My Home",
            "link": format!("{}/items/{dishwasher}", app.config.public_url),
        },
        {
            "uid": format!("warranty-{tv}@{host}"),
            "summary": "Warranty ends: Television",
            "start": later.to_string(),
            "all_day": true,
            "household": "My Home",
            "link": format!("{}/items/{tv}", app.config.public_url),
        },
    ]);
    assert_eq!(events, expected);
}

async fn one_click_unsubscribe_from_another_site_turns_off_the_digest_only(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let mine = json!({"digest_enabled": true, "frequency": "weekly", "weekday": "sunday",
                      "hour": 6, "time_zone": "Europe/Berlin"});
    put_settings(&app, &ann, mine.clone())
        .await
        .assert_status(200);
    put_settings(&app, &bob, mine.clone())
        .await
        .assert_status(200);
    let feed = feed_path(&app, &ann).await;
    let secret = app
        .store
        .reminder_settings(user_id(&ann))
        .await
        .unwrap()
        .unwrap()
        .unsubscribe_secret;
    let path = format!("/api/v1/reminders/unsubscribe/{secret}");

    // Opening the link (a scanner following it) changes nothing.
    let opened = anonymous(&app, Method::GET, &path, &[]).await;
    assert_ne!(opened.status.as_u16(), 204);
    assert_eq!(app.get(SETTINGS, &ann).await.body["digest_enabled"], true);

    // A mail client's one-click POST, from its own site, form-encoded, no cookie.
    let request = axum::http::Request::builder()
        .method(Method::POST)
        .uri(&path)
        .header(header::ORIGIN, "https://mail.example.net")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    app.send(request).await.assert_status(204);
    let after = app.get(SETTINGS, &ann).await.body;
    assert_eq!(after["digest_enabled"], false);
    for field in ["frequency", "weekday", "hour", "time_zone"] {
        assert_eq!(after[field], mine[field], "{field} is kept");
    }
    assert_eq!(feed_path(&app, &ann).await, feed, "the feed is kept");
    assert_eq!(app.get(SETTINGS, &bob).await.body["digest_enabled"], true);

    // Again (a second click), and from the web page with an empty body: still off, 204.
    anonymous(&app, Method::POST, &path, &[])
        .await
        .assert_status(204);
    assert_eq!(app.get(SETTINGS, &ann).await.body["digest_enabled"], false);

    let unknown = anonymous(
        &app,
        Method::POST,
        "/api/v1/reminders/unsubscribe/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &[],
    )
    .await;
    unknown.assert_status(404);
    assert_eq!(unknown.error_code(), "not_found");

    // Only this route is let through from other sites: saving settings from one is not.
    let forged = app
        .request(
            Method::PUT,
            SETTINGS,
            Some(&bob.token),
            Some(mine.clone()),
            &[("origin", "https://mail.example.net")],
        )
        .await;
    forged.assert_status(403);
}

async fn the_scheduled_pass_route_is_not_reachable_from_outside(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for who in [None, Some(ann.token.as_str())] {
        let answer = app
            .request(Method::POST, "/api/internal/reminders/run", who, None, &[])
            .await;
        answer.assert_status(404);
        assert_eq!(answer.error_code(), "not_found");
    }
}

/// The feed read by Python's `icalendar`, the parser calendar tools build on.
mod ical {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    use serde_json::Value;

    const READ: &str = r#"
import json, sys
from icalendar import Calendar
cal = Calendar.from_ical(sys.stdin.buffer.read())
assert cal.get("VERSION") == "2.0", cal.get("VERSION")
assert str(cal.get("X-WR-CALNAME")) == "Home Inventory"
events = []
for e in cal.walk("VEVENT"):
    start = e.decoded("DTSTART")
    end = e.decoded("DTEND")
    desc = str(e.get("DESCRIPTION")).split("\n")
    events.append({
        "uid": str(e.get("UID")),
        "summary": str(e.get("SUMMARY")),
        "start": start.isoformat(),
        "all_day": not hasattr(start, "hour") and (end - start).days == 1,
        "household": desc[0].removeprefix("Household: "),
        "link": desc[1],
    })
events.sort(key=lambda e: e["start"])
print(json.dumps(events))
"#;

    /// The Python with `icalendar` (`cargo xtask test` installs it).
    fn python() -> Option<std::path::PathBuf> {
        if let Some(path) = std::env::var_os("ICALENDAR_PYTHON") {
            return Some(path.into());
        }
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/tools/icalendar/bin/python");
        path.exists().then_some(path)
    }

    /// The events of `feed`, parsed; `None` when the parser is not installed (outside CI).
    pub fn parse(feed: &str) -> Option<Value> {
        let Some(python) = python() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI expects Python's icalendar (cargo xtask test installs it)"
            );
            eprintln!("Python's icalendar is not installed; skipping the parse");
            return None;
        };
        let mut child = Command::new(python)
            .args(["-c", READ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(feed.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "icalendar refused the feed: {}\n{feed}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(serde_json::from_slice(&out.stdout).expect("the events as JSON"))
    }
}

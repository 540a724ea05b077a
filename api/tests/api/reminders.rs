//! Reminder digests against a real SMTP server on loopback (aiosmtpd, `smtp_sink.py`):
//! who gets what, exactly once, at their hour in their time zone, caught up after a missed
//! run, given back when the server is down; and `home-inventory-backend remind` as a
//! process.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use api::AppState;
use api::reminders::{PassReport, pass};
use serde_json::{Value, json};
use time::macros::{date, time};
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::{Backend, Person, TestApp, TestDb, spawn_app_with};
use crate::on_every_backend;

/// The SMTP server of one test: its own port and folder, stopped when dropped.
pub(crate) struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("AIOSMTPD_PYTHON") {
        return Some(path.into());
    }
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/tools/aiosmtpd/bin/python");
    if path.exists() {
        return Some(path);
    }
    // A python3 that has aiosmtpd installed will do.
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| "python3".into())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Sink {
    /// A server on a port of its own; `None` (the test is skipped) when aiosmtpd is not
    /// installed, which under CI fails the test instead.
    pub(crate) fn start() -> Option<Sink> {
        Sink::start_on(free_port())
    }

    fn start_on(port: u16) -> Option<Sink> {
        let Some(python) = python() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "CI expects aiosmtpd (cargo xtask test installs it and sets AIOSMTPD_PYTHON)"
            );
            eprintln!("aiosmtpd is not installed; skipping the SMTP test");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_sink.py");
        let mut child = Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the SMTP server");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Some(Sink { port, dir, child })
    }

    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, in order, as the server decoded it.
    pub(crate) fn messages(&self) -> Vec<Value> {
        let mut numbered: Vec<(u32, Value)> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let n = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".json")?
                    .parse()
                    .ok()?;
                Some((n, serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?))
            })
            .collect();
        numbered.sort_by_key(|(n, _)| *n);
        numbered.into_iter().map(|(_, m)| m).collect()
    }

    pub(crate) fn to(&self, who: &Person) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["envelope_to"][0] == who.email.as_str())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const FROM: &str = "Home Inventory <reminders@example.com>";

pub(crate) async fn app_mailing_to(backend: Backend, smtp_url: &str) -> TestApp {
    let url = smtp_url.to_string();
    spawn_app_with(backend, move |c| {
        c.smtp_url = Some(url.into());
        c.mail_from = Some(FROM.into());
    })
    .await
}

fn state(app: &TestApp) -> AppState {
    AppState::new(app.config.clone(), Arc::clone(&app.store)).unwrap()
}

/// A Monday, ISO week 2 of 2030.
const TODAY: Date = date!(2030 - 01 - 07);

fn at(day: Date, hour: u8) -> OffsetDateTime {
    day.with_time(time!(00:00)).assume_utc() + Duration::hours(i64::from(hour))
}

fn day(offset: i64) -> String {
    shared::Day(TODAY + Duration::days(offset)).to_string()
}

async fn run(app: &TestApp, now: OffsetDateTime, ignore_hour: bool) -> PassReport {
    pass(&state(app), now, ignore_hour).await.unwrap()
}

async fn item(app: &TestApp, who: &Person, name: &str, warranty: Option<String>) -> String {
    app.create_item(who, json!({"name": name, "warranty_expires": warranty}))
        .await
        .id()
}

/// Runs one statement on the app's database: `sqlite` on SQLite, `postgres` on PostgreSQL.
pub(crate) async fn execute(app: &TestApp, sqlite: String, postgres: String) {
    let url = TestDb::shared(app).url.clone();
    if let Some(path) = url.strip_prefix("sqlite:") {
        let path = path.to_string();
        tokio::task::spawn_blocking(move || {
            rusqlite::Connection::open(path)
                .unwrap()
                .execute_batch(&sqlite)
                .unwrap()
        })
        .await
        .unwrap();
    } else {
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(&postgres).await.unwrap();
    }
}

/// A new person whose address is confirmed for reminder mail, as a confirmation mail's link
/// leaves it: digests go only to confirmed addresses.
pub(crate) async fn confirmed(app: &TestApp, name: &str) -> Person {
    let who = app.register(name).await;
    let (u, email) = (&who.user_id, &who.email);
    let columns = "user_id, email, token_hash, sent_at, expires_at, confirmed_at, \
                   window_started_at, mails_in_window";
    execute(
        app,
        format!(
            "INSERT INTO email_confirmations ({columns}) \
             VALUES ('{u}', '{email}', NULL, 0, 1, 1, 0, 1)"
        ),
        format!(
            "INSERT INTO email_confirmations ({columns}) \
             VALUES ('{u}', '{email}', NULL, now(), now(), now(), now(), 1)"
        ),
    )
    .await;
    who
}

/// The secret of the confirmation link in `mail`.
pub(crate) fn confirmation_token(mail: &Value) -> String {
    let text = mail["text"].as_str().unwrap_or_default();
    let (_, rest) = text
        .split_once(shared::CONFIRM_EMAIL_PATH)
        .unwrap_or_else(|| panic!("no confirmation link in {mail}"));
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// A maintenance schedule of `item`, next due on `due`; its id.
async fn schedule(app: &TestApp, who: &Person, item: &str, title: &str, due: &str) -> String {
    let id = uuid::Uuid::now_v7().to_string();
    let (h, u) = (&who.household, &who.user_id);
    let columns = "id, household_id, item_id, title, every, unit, anchor, start_date, \
                   last_done, next_due, notes, version, created_by, created_at, updated_at";
    execute(
        app,
        format!(
            "INSERT INTO maintenance_schedules ({columns}) VALUES ('{id}', '{h}', '{item}', \
             '{title}', 3, 'months', 'start', '{due}', NULL, '{due}', NULL, 1, '{u}', 0, 0)"
        ),
        format!(
            "INSERT INTO maintenance_schedules ({columns}) VALUES ('{id}', '{h}', '{item}', \
             '{title}', 3, 'months', 'start', '{due}', NULL, '{due}', NULL, 1, '{u}', now(), \
             now())"
        ),
    )
    .await;
    id
}

/// `who`'s reminder settings, as the settings page would save them.
async fn settings(
    app: &TestApp,
    who: &Person,
    enabled: bool,
    frequency: &str,
    weekday: u8,
    hour: u8,
    zone: &str,
) {
    let u = &who.user_id;
    let secret = uuid::Uuid::new_v4().simple();
    let columns = "user_id, digest_enabled, frequency, weekday, hour, time_zone, \
                   calendar_secret, unsubscribe_secret, updated_at";
    execute(
        app,
        format!(
            "INSERT INTO reminder_settings ({columns}) VALUES ('{u}', {}, '{frequency}', \
             {weekday}, {hour}, '{zone}', NULL, '{secret}', 0)",
            i32::from(enabled)
        ),
        format!(
            "INSERT INTO reminder_settings ({columns}) VALUES ('{u}', {enabled}, \
             '{frequency}', {weekday}, {hour}, '{zone}', NULL, '{secret}', now())"
        ),
    )
    .await;
}

fn sent(n: usize) -> PassReport {
    PassReport {
        sent: n,
        ..PassReport::default()
    }
}

on_every_backend!(
    one_digest_says_what_is_due_and_a_second_pass_sends_nothing,
    two_passes_at_once_send_one_digest,
    nothing_before_the_hour_and_everything_with_now,
    a_pass_after_missed_days_catches_up,
    a_weekly_digest_goes_out_once_a_week,
    each_person_at_their_hour_in_their_time_zone,
    a_failed_send_is_tried_again_by_the_next_pass,
    nobody_whose_digest_is_off_gets_mail,
    remind_runs_one_pass_as_a_command,
    upcoming_lists_a_persons_dates_in_order,
    the_server_sends_digests_on_its_own,
);

async fn one_digest_says_what_is_due_and_a_second_pass_sends_nothing(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    let bob = confirmed(&app, "Bob").await;
    let fridge = item(&app, &ana, "Fridge", Some(day(20))).await;
    item(&app, &ana, "Sofa", Some(day(60))).await;
    item(&app, &ana, "Kettle", Some(day(-3))).await;
    let tv = item(&app, &ana, "Old TV", Some(day(10))).await;
    app.delete(app.at(&ana, &format!("/items/{tv}")), &ana)
        .await
        .assert_status(204);
    let boiler = item(&app, &ana, "Boiler", None).await;
    schedule(&app, &ana, &boiler, "Yearly service", &day(-2)).await;
    schedule(&app, &ana, &boiler, "Bleed the radiators", &day(20)).await;
    let trashed = item(&app, &ana, "Broken heater", None).await;
    schedule(&app, &ana, &trashed, "Dust the heater", &day(-1)).await;
    app.delete(app.at(&ana, &format!("/items/{trashed}")), &ana)
        .await
        .assert_status(204);
    // Sold: neither its warranty nor its maintenance concerns anyone any more.
    let mower = app
        .create_item(
            &ana,
            json!({"name": "Lawn mower", "warranty_expires": day(15), "sold_date": "2025-06-01"}),
        )
        .await
        .id();
    schedule(&app, &ana, &mower, "Sharpen the blade", &day(-1)).await;
    item(&app, &bob, "Drill", Some(day(5))).await;

    assert_eq!(run(&app, at(TODAY, 9), false).await, sent(2));
    let base = app.config.public_url.trim_end_matches('/');
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 1, "{mail:?}");
    let m = &mail[0];
    assert_eq!(m["subject"], "1 warranty ending, 1 maintenance task due");
    assert_eq!(m["from"], FROM);
    assert!(m["to"].as_str().unwrap().contains(&ana.email), "{m}");
    let text = m["text"].as_str().unwrap();
    let html = m["html"].as_str().unwrap();
    for body in [text, html] {
        assert!(body.contains("Fridge"), "{body}");
        assert!(body.contains(&format!("{base}/items/{fridge}")));
        assert!(body.contains("Boiler: Yearly service"), "{body}");
        assert!(body.contains(&format!("{base}/items/{boiler}")));
        for absent in [
            "Sofa", "Kettle", "Old TV", "Bleed", "heater", "mower", "Sharpen", "Drill",
        ] {
            assert!(!body.contains(absent), "{absent} in {body}");
        }
    }
    let me = app.get("/api/v1/me", &ana).await;
    let household = me.body["households"][0]["name"].as_str().unwrap();
    assert!(text.contains(&format!("Fridge ({household})")), "{text}");
    assert!(
        text.contains("ends Sunday 27 January 2030, in 20 days"),
        "{text}"
    );
    assert!(
        text.contains("overdue since Saturday 5 January 2030 (2 days)"),
        "{text}"
    );
    // One-click unsubscribe (RFC 8058), and the same secret's page in the body.
    let header = m["list_unsubscribe"].as_str().unwrap();
    let secret = header
        .strip_prefix(&format!("<{base}/api/v1/reminders/unsubscribe/"))
        .and_then(|s| s.strip_suffix('>'))
        .unwrap_or_else(|| panic!("List-Unsubscribe: {header}"));
    assert!(secret.len() >= 32, "{secret}");
    assert_eq!(m["list_unsubscribe_post"], "List-Unsubscribe=One-Click");
    assert!(text.contains(&format!("{base}/unsubscribe/{secret}")));
    // Bob's own digest has his drill only.
    let bobs = sink.to(&bob);
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0]["subject"], "1 warranty ending");
    assert!(bobs[0]["text"].as_str().unwrap().contains("Drill"));

    // Nothing new: no mail, later the same day or the next.
    assert_eq!(run(&app, at(TODAY, 15), false).await, PassReport::default());
    assert_eq!(
        run(&app, at(TODAY + Duration::days(1), 9), false).await,
        PassReport {
            skipped: 2,
            ..PassReport::default()
        }
    );
    assert_eq!(sink.messages().len(), 2);
    // The next digest keeps the same unsubscribe secret.
    let later = item(&app, &ana, "Toaster", Some(day(25))).await;
    let report = run(&app, at(TODAY + Duration::days(2), 9), false).await;
    assert_eq!((report.sent, report.failed), (1, 0), "{report:?}");
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 2);
    assert_eq!(mail[1]["list_unsubscribe"], header);
    assert!(mail[1]["text"].as_str().unwrap().contains(&later));
    assert!(!mail[1]["text"].as_str().unwrap().contains("Fridge"));
}

async fn two_passes_at_once_send_one_digest(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    for n in 0..5 {
        item(&app, &ana, &format!("Lamp {n}"), Some(day(3 + n))).await;
    }
    let (a, b, c) = tokio::join!(
        run(&app, at(TODAY, 9), false),
        run(&app, at(TODAY, 9), false),
        run(&app, at(TODAY, 10), false),
    );
    assert_eq!(a.sent + b.sent + c.sent, 1, "{a:?} {b:?} {c:?}");
    assert_eq!(a.failed + b.failed + c.failed, 0);
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 1);
    assert_eq!(mail[0]["subject"], "5 warranties ending");
}

async fn nothing_before_the_hour_and_everything_with_now(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    item(&app, &ana, "Fridge", Some(day(20))).await;
    // A new account's digest: daily at 8 in UTC.
    assert_eq!(run(&app, at(TODAY, 7), false).await, PassReport::default());
    assert!(sink.messages().is_empty());
    assert_eq!(run(&app, at(TODAY, 7), true).await, sent(1));
    assert_eq!(sink.to(&ana).len(), 1);
    // Today's digest went out early: not again at the hour.
    assert_eq!(run(&app, at(TODAY, 8), false).await, PassReport::default());
    assert_eq!(sink.messages().len(), 1);
}

async fn a_pass_after_missed_days_catches_up(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    item(&app, &ana, "Fridge", Some(day(20))).await;
    // 31 days away on the first day, 30 on the second: it crosses while nothing runs.
    item(&app, &ana, "Washer", Some(day(31))).await;
    let pump = item(&app, &ana, "Pump", None).await;
    schedule(&app, &ana, &pump, "Check the seal", &day(2)).await;

    assert_eq!(run(&app, at(TODAY, 9), false).await, sent(1));
    let first = sink.to(&ana)[0]["text"].as_str().unwrap().to_string();
    assert!(
        first.contains("Fridge") && !first.contains("Washer"),
        "{first}"
    );
    assert!(first.contains("Check the seal"), "{first}");
    assert!(
        first.contains("due Wednesday 9 January 2030, in 2 days"),
        "{first}"
    );

    // The server is down for a day and a half; the first pass back, late at night, sends
    // that day's digest with what crossed meanwhile and nothing reminded before.
    assert_eq!(
        run(&app, at(TODAY + Duration::days(2), 23), false).await,
        sent(1)
    );
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 2);
    let second = mail[1]["text"].as_str().unwrap();
    assert!(second.contains("Washer"), "{second}");
    assert!(second.contains("Check the seal"), "{second}");
    assert!(second.contains("due today"), "{second}");
    assert!(!second.contains("Fridge"), "{second}");
    assert_eq!(
        mail[1]["subject"],
        "1 warranty ending, 1 maintenance task due"
    );

    // A week before its end the fridge is reminded again, once.
    assert_eq!(
        run(&app, at(TODAY + Duration::days(13), 9), false).await,
        sent(1)
    );
    let third = sink.to(&ana)[2]["text"].as_str().unwrap().to_string();
    assert!(
        third.contains("Fridge") && third.contains("in 7 days"),
        "{third}"
    );
    assert!(!third.contains("Washer"), "{third}");
}

async fn a_weekly_digest_goes_out_once_a_week(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    settings(&app, &ana, true, "weekly", 3, 8, "UTC").await;
    item(&app, &ana, "Fridge", Some(day(20))).await;
    // Monday and Tuesday: not yet; Wednesday 08:00: the week's digest.
    assert_eq!(run(&app, at(TODAY, 9), false).await, PassReport::default());
    assert_eq!(
        run(&app, at(TODAY + Duration::days(1), 23), false).await,
        PassReport::default()
    );
    assert!(sink.messages().is_empty());
    assert_eq!(
        run(&app, at(TODAY + Duration::days(2), 8), false).await,
        sent(1)
    );
    // Something new on Thursday waits for next week's digest.
    item(&app, &ana, "Oven", Some(day(12))).await;
    assert_eq!(
        run(&app, at(TODAY + Duration::days(3), 9), false).await,
        PassReport::default()
    );
    assert_eq!(sink.messages().len(), 1);
    assert_eq!(
        run(&app, at(TODAY + Duration::days(9), 8), false).await,
        sent(1)
    );
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 2);
    let text = mail[1]["text"].as_str().unwrap();
    assert!(text.contains("Oven") && !text.contains("Fridge"), "{text}");
    assert!(text.contains("weekly"), "{text}");
}

async fn each_person_at_their_hour_in_their_time_zone(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    let bob = confirmed(&app, "Bob").await;
    settings(&app, &ana, true, "daily", 1, 8, "Asia/Tokyo").await;
    // Bob keeps the defaults: 8 in UTC.
    item(&app, &ana, "Rice cooker", Some(day(20))).await;
    let nothing_new = PassReport {
        skipped: 1,
        ..PassReport::default()
    };
    // 22:30 UTC the day before is 07:30 in Tokyo: not yet. (Bob's hour has come, for
    // the 6th, but he has nothing to hear about.)
    let evening = at(TODAY - Duration::days(1), 22) + Duration::minutes(30);
    assert_eq!(run(&app, evening, false).await, nothing_new);
    // An hour later it is 08:30 on the 7th in Tokyo.
    assert_eq!(run(&app, evening + Duration::hours(1), false).await.sent, 1);
    assert_eq!(sink.to(&ana).len(), 1);
    // The warranty is 20 days from Ana's date, the 7th.
    let text = sink.to(&ana)[0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("in 20 days"), "{text}");

    item(&app, &bob, "Bicycle", Some(day(20))).await;
    assert_eq!(run(&app, at(TODAY, 7), false).await, PassReport::default());
    assert!(sink.to(&bob).is_empty());
    assert_eq!(run(&app, at(TODAY, 8), false).await, sent(1));
    assert_eq!(sink.to(&bob).len(), 1);
    assert_eq!(sink.messages().len(), 2);
}

async fn a_failed_send_is_tried_again_by_the_next_pass(backend: Backend) {
    if python().is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI expects aiosmtpd");
        return;
    }
    let port = free_port();
    let app = app_mailing_to(backend, &format!("smtp://127.0.0.1:{port}")).await;
    let ana = confirmed(&app, "Ana").await;
    item(&app, &ana, "Fridge", Some(day(20))).await;
    // Nobody listens yet.
    assert_eq!(
        run(&app, at(TODAY, 9), false).await,
        PassReport {
            failed: 1,
            ..PassReport::default()
        }
    );
    let Some(sink) = Sink::start_on(port) else {
        return;
    };
    assert_eq!(run(&app, at(TODAY, 10), false).await, sent(1));
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["text"].as_str().unwrap().contains("Fridge"));
}

async fn nobody_whose_digest_is_off_gets_mail(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    settings(&app, &ana, false, "daily", 1, 8, "UTC").await;
    item(&app, &ana, "Fridge", Some(day(2))).await;
    assert_eq!(run(&app, at(TODAY, 9), true).await, PassReport::default());
    assert!(sink.messages().is_empty());
    // Without mail configured a pass does nothing, and says so.
    let quiet = crate::helpers::spawn_app(backend).await;
    let report = pass(&state(&quiet), at(TODAY, 9), true).await.unwrap();
    assert_eq!(report, PassReport::default());
}

async fn remind_runs_one_pass_as_a_command(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = app_mailing_to(backend, &sink.url()).await;
    let ana = confirmed(&app, "Ana").await;
    let today = OffsetDateTime::now_utc().date();
    let fridge = app
        .create_item(
            &ana,
            json!({"name": "Fridge", "warranty_expires":
                shared::Day(today + Duration::days(20)).to_string()}),
        )
        .await
        .id();
    let db = TestDb::shared(&app);
    let data = tempfile::tempdir().unwrap();
    let command = |smtp: Option<&str>| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_home-inventory-backend"));
        c.args(["remind", "--now"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", &db.url)
            .env("DATA_DIR", data.path())
            .env("PUBLIC_URL", "https://inventory.example.com")
            .env("RUST_LOG", "warn");
        if let Some(smtp) = smtp {
            c.env("SMTP_URL", smtp).env("MAIL_FROM", FROM);
        }
        c.output().unwrap()
    };
    let out = command(Some(&sink.url()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 sent"), "{stdout}");
    let mail = sink.to(&ana);
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["text"].as_str().unwrap().contains(&fridge));
    // Once: a second run sends nothing.
    let out = command(Some(&sink.url()));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 sent"));
    assert_eq!(sink.messages().len(), 1);
    // Without mail there is nothing it can do: a clear failure.
    let out = command(None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no mail is configured"), "{stderr}");
    // SMTP_URL without MAIL_FROM does not start.
    let mut c = Command::new(env!("CARGO_BIN_EXE_home-inventory-backend"));
    let out = c
        .args(["remind"])
        .env_clear()
        .env("DATABASE_URL", &db.url)
        .env("DATA_DIR", data.path())
        .env("SMTP_URL", sink.url())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("MAIL_FROM must be set"), "{stderr}");
}

async fn upcoming_lists_a_persons_dates_in_order(backend: Backend) {
    use api::store::UpcomingKind::{MaintenanceDue, WarrantyEnds};

    let app = crate::helpers::spawn_app(backend).await;
    let ana = app.register("Ana").await;
    let bob = app.register("Bob").await;
    item(&app, &ana, "Before", Some(day(-1))).await;
    let first = item(&app, &ana, "First day", Some(day(0))).await;
    let last = item(&app, &ana, "Last day", Some(day(30))).await;
    item(&app, &ana, "After", Some(day(31))).await;
    item(&app, &bob, "Bob's", Some(day(3))).await;
    let boiler = item(&app, &ana, "Boiler", None).await;
    let overdue = schedule(&app, &ana, &boiler, "Service", &day(-400)).await;
    schedule(&app, &ana, &boiler, "Later", &day(31)).await;
    let user: shared::UserId = ana.user_id.parse::<uuid::Uuid>().unwrap().into();
    let rows = app
        .store
        .upcoming(user, TODAY, TODAY + Duration::days(30))
        .await
        .unwrap();
    let seen: Vec<(api::store::UpcomingKind, String, String)> = rows
        .iter()
        .map(|r| {
            (
                r.kind,
                r.item_id.to_string(),
                shared::Day(r.date).to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (MaintenanceDue, boiler.clone(), day(-400)),
            (WarrantyEnds, first, day(0)),
            (WarrantyEnds, last, day(30)),
        ]
    );
    assert_eq!(rows[0].schedule_id.unwrap().to_string(), overdue);
    assert_eq!(rows[0].title, "Service");
    assert_eq!(rows[0].item_name, "Boiler");
    let me = app.get("/api/v1/me", &ana).await;
    assert_eq!(
        rows[1].household_name,
        me.body["households"][0]["name"].as_str().unwrap()
    );
    assert_eq!(rows[1].household_id.to_string(), ana.household);
}

async fn the_server_sends_digests_on_its_own(backend: Backend) {
    let Some(sink) = Sink::start() else { return };
    let app = crate::helpers::spawn_app(backend).await;
    let ana = confirmed(&app, "Ana").await;
    // At midnight in UTC: whenever this runs, the hour has come.
    settings(&app, &ana, true, "daily", 1, 0, "UTC").await;
    let today = OffsetDateTime::now_utc().date();
    let warranty = shared::Day(today + Duration::days(10)).to_string();
    item(&app, &ana, "Fridge", Some(warranty)).await;
    let db = TestDb::shared(&app);
    let data = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_home-inventory-backend"))
        .arg("serve")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", &db.url)
        .env("DATA_DIR", data.path())
        .env("STATIC_DIR", data.path())
        .env("BIND", format!("127.0.0.1:{}", free_port()))
        .env("SMTP_URL", sink.url())
        .env("MAIL_FROM", FROM)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // The timer's first pass runs at start-up.
    let mut mail = Vec::new();
    for _ in 0..300 {
        mail = sink.to(&ana);
        if !mail.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(mail.len(), 1, "the server sent no digest within 30 s");
    assert!(mail[0]["text"].as_str().unwrap().contains("Fridge"));
}

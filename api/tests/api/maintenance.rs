//! Items' maintenance: schedules and the log, "Mark done" moving a schedule on, the
//! household's Maintenance overview (overdue, due soon, done recently) and warranties
//! ending soon; editors only, each household its own, bad input refused field by field.

use serde_json::{Value, json};
use shared::{AttachmentId, MaintenanceScheduleId};
use time::{Date, Duration, OffsetDateTime};

use crate::attachments::{Files, LIMIT, PDF, Place};
use crate::backup::new_household;
use crate::helpers::{Backend, Person, TestApp, spawn_app};
use crate::sharing::join;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    a_schedule_is_made_listed_edited_and_deleted,
    mark_done_logs_an_entry_and_moves_the_schedule_on,
    the_log_keeps_its_entries_and_its_schedule_follows_them,
    the_overview_puts_schedules_in_buckets_by_the_persons_date,
    warranties_are_listed_by_window_and_trashed_and_sold_items_left_out,
    bad_input_is_refused_field_by_field_and_keeps_what_was_there,
    viewers_read_only_and_other_households_see_nothing,
    an_entry_names_only_files_of_its_own_item,
    history_shows_maintenance_and_a_purge_takes_it_away,
    api_tokens_reach_maintenance,
    a_backup_restores_schedules_and_logs_with_their_files,
    two_people_marking_a_task_done_at_once_both_log_and_the_schedule_follows_the_latest,
);

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn day(d: Date) -> String {
    shared::Day(d).to_string()
}

fn schedules(app: &TestApp, who: &Person, item: &str) -> String {
    app.at(who, &format!("/items/{item}/maintenance/schedules"))
}

fn entries(app: &TestApp, who: &Person, item: &str) -> String {
    app.at(who, &format!("/items/{item}/maintenance/entries"))
}

/// A PDF receipt uploaded to `item`; its id.
async fn upload_receipt(files: &Files, who: &Person, item: &str, name: &str) -> String {
    let sent = files
        .attach(who, item, "receipt", name, "application/pdf", PDF.to_vec())
        .await;
    sent.body["id"].as_str().unwrap().to_string()
}

async fn item(app: &TestApp, who: &Person, name: &str) -> String {
    let made = app.create_item(who, json!({"name": name})).await;
    made.assert_status(201);
    made.id()
}

async fn schedule(app: &TestApp, who: &Person, item: &str, body: Value) -> Value {
    let made = app.post(schedules(app, who, item), who, body).await;
    made.assert_status(201);
    made.body
}

fn titles(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.get("schedule").or_else(|| v.get("entry")).unwrap_or(v)["title"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn a_schedule_is_made_listed_edited_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let made = app
        .post(
            schedules(&app, &ann, &furnace),
            &ann,
            json!({"title": " Replace the filter ", "every": 3, "unit": "month",
                   "start_date": "2025-01-31", "notes": "16x25x1"}),
        )
        .await;
    made.assert_status(201);
    assert_eq!(made.etag(), "\"1\"");
    let s = &made.body;
    assert_eq!(s["title"], "Replace the filter");
    assert_eq!(s["anchor"], "start", "from the start date unless asked");
    assert_eq!(s["next_due"], "2025-01-31", "first due on its start date");
    assert_eq!(s["last_done"], Value::Null);
    assert_eq!(s["notes"], "16x25x1");
    let sid = s["id"].as_str().unwrap();
    // Without a start date it starts today.
    let today_made = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Check the flame", "every": 1, "unit": "year"}),
    )
    .await;
    assert_eq!(today_made["start_date"], day(today()));

    let listed = app.get(schedules(&app, &ann, &furnace), &ann).await;
    listed.assert_status(200);
    assert_eq!(
        titles(&listed.body["items"]),
        ["Replace the filter", "Check the flame"],
        "soonest due first"
    );

    let path = format!("{}/{sid}", schedules(&app, &ann, &furnace));
    let edited = app
        .patch(
            &path,
            &ann,
            json!({"every": 1, "start_date": "2028-01-31", "notes": null}),
        )
        .await;
    edited.assert_status(200);
    assert_eq!(edited.etag(), "\"2\"");
    assert_eq!(edited.body["every"], 1);
    assert_eq!(edited.body["next_due"], "2028-01-31");
    assert_eq!(edited.body["notes"], Value::Null);
    assert_eq!(
        edited.body["title"], "Replace the filter",
        "unnamed fields stay"
    );

    // A stale If-Match is refused and changes nothing.
    let stale = app
        .request(
            axum::http::Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"title": "Other"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.assert_status(412);
    let deleted = app
        .request(
            axum::http::Method::DELETE,
            &path,
            Some(&ann.token),
            None,
            &[("if-match", "\"2\"")],
        )
        .await;
    deleted.assert_status(204);
    let listed = app.get(schedules(&app, &ann, &furnace), &ann).await;
    assert_eq!(titles(&listed.body["items"]), ["Check the flame"]);
    app.delete(&path, &ann).await.assert_status(404);
}

async fn mark_done_logs_an_entry_and_moves_the_schedule_on(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    // From its start date: Jan 31 monthly falls on the last day of shorter months.
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 1, "unit": "month", "start_date": "2025-01-31"}),
    )
    .await;
    let done_path = format!(
        "{}/{}/done",
        schedules(&app, &ann, &furnace),
        s["id"].as_str().unwrap()
    );
    let done = app
        .post(
            &done_path,
            &ann,
            json!({"date": "2025-02-03", "cost": {"amount_minor": 1999, "currency": "USD"},
                   "notes": "the good ones"}),
        )
        .await;
    done.assert_status(201);
    let entry = &done.body["entry"];
    assert_eq!(entry["title"], "Filter");
    assert_eq!(entry["date"], "2025-02-03");
    assert_eq!(entry["cost"]["amount_minor"], 1999);
    assert_eq!(entry["schedule_id"], s["id"]);
    assert_eq!(done.body["schedule"]["last_done"], "2025-02-03");
    assert_eq!(done.body["schedule"]["next_due"], "2025-02-28");
    assert_eq!(done.body["schedule"]["version"], 2);
    let done = app
        .post(&done_path, &ann, json!({"date": "2025-03-01"}))
        .await;
    done.assert_status(201);
    assert_eq!(done.body["schedule"]["next_due"], "2025-03-31");

    // From the last time it was done: one interval after it.
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Descale", "every": 6, "unit": "month", "anchor": "last_done",
               "start_date": "2025-01-01"}),
    )
    .await;
    let done = app
        .post(
            format!(
                "{}/{}/done",
                schedules(&app, &ann, &furnace),
                s["id"].as_str().unwrap()
            ),
            &ann,
            json!({"date": "2025-08-31"}),
        )
        .await;
    done.assert_status(201);
    assert_eq!(done.body["schedule"]["next_due"], "2026-02-28");
    // Without a date it was done today.
    let done = app
        .post(
            format!(
                "{}/{}/done",
                schedules(&app, &ann, &furnace),
                s["id"].as_str().unwrap()
            ),
            &ann,
            json!({}),
        )
        .await;
    done.assert_status(201);
    assert_eq!(done.body["entry"]["date"], day(today()));
    assert_eq!(
        done.body["schedule"]["next_due"],
        day(shared::add_months(today(), 6).unwrap())
    );

    let log = app.get(entries(&app, &ann, &furnace), &ann).await;
    log.assert_status(200);
    let dates: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), 4);
    assert!(
        dates.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {dates:?}"
    );

    let missing = app
        .post(
            format!(
                "{}/{}/done",
                schedules(&app, &ann, &furnace),
                MaintenanceScheduleId::new()
            ),
            &ann,
            json!({}),
        )
        .await;
    missing.assert_status(404);
}

async fn the_log_keeps_its_entries_and_its_schedule_follows_them(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let car = item(&app, &ann, "Car").await;
    let repair = app
        .post(
            entries(&app, &ann, &car),
            &ann,
            json!({"title": "New brakes", "date": "2025-05-02",
                   "cost": {"amount_minor": 45000, "currency": "USD"}}),
        )
        .await;
    repair.assert_status(201);
    assert_eq!(repair.body["schedule_id"], Value::Null);
    let s = schedule(
        &app,
        &ann,
        &car,
        json!({"title": "Oil", "every": 1, "unit": "year", "anchor": "last_done",
               "start_date": "2025-01-01"}),
    )
    .await;
    let sid = s["id"].as_str().unwrap();
    let spath = format!("{}/{sid}", schedules(&app, &ann, &car));
    let first = app
        .post(format!("{spath}/done"), &ann, json!({"date": "2025-03-01"}))
        .await;
    let second = app
        .post(format!("{spath}/done"), &ann, json!({"date": "2026-02-20"}))
        .await;
    assert_eq!(second.body["schedule"]["next_due"], "2027-02-20");

    // Moving the latest entry's date moves the schedule.
    let epath = format!(
        "{}/{}",
        entries(&app, &ann, &car),
        second.body["entry"]["id"].as_str().unwrap()
    );
    let moved = app
        .patch(&epath, &ann, json!({"date": "2026-03-01", "notes": "late"}))
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["version"], 2);
    assert_eq!(moved.body["notes"], "late");
    let listed = app.get(schedules(&app, &ann, &car), &ann).await;
    assert_eq!(listed.body["items"][0]["last_done"], "2026-03-01");
    assert_eq!(listed.body["items"][0]["next_due"], "2027-03-01");

    // Deleting it puts the schedule back on the one before.
    app.delete(&epath, &ann).await.assert_status(204);
    let listed = app.get(schedules(&app, &ann, &car), &ann).await;
    assert_eq!(listed.body["items"][0]["last_done"], "2025-03-01");
    assert_eq!(listed.body["items"][0]["next_due"], "2026-03-01");

    // Deleting the schedule keeps its log.
    app.delete(&spath, &ann).await.assert_status(204);
    let log = app.get(entries(&app, &ann, &car), &ann).await;
    assert_eq!(titles(&log.body["items"]), ["New brakes", "Oil"]);
    assert_eq!(log.body["items"][1]["id"], first.body["entry"]["id"]);
    assert_eq!(log.body["items"][1]["schedule_id"], Value::Null);
}

async fn the_overview_puts_schedules_in_buckets_by_the_persons_date(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let old = item(&app, &ann, "Old fridge").await;
    let t = today();
    let sold = app
        .create_item(&ann, json!({"name": "Sold car", "sold_date": day(t)}))
        .await
        .id();
    for (title, start, on) in [
        ("Overdue", t - Duration::days(3), &furnace),
        ("Due today", t, &furnace),
        ("Due in ten days", t + Duration::days(10), &furnace),
        ("Due in forty days", t + Duration::days(40), &furnace),
        ("Trashed", t - Duration::days(1), &old),
        ("Sold", t - Duration::days(2), &sold),
    ] {
        schedule(
            &app,
            &ann,
            on,
            json!({"title": title, "every": 1, "unit": "year", "start_date": day(start)}),
        )
        .await;
    }
    app.delete(app.at(&ann, &format!("/items/{old}")), &ann)
        .await
        .assert_status(204);
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Done last week", "every": 1, "unit": "month",
               "start_date": day(t - Duration::days(7))}),
    )
    .await;
    app.post(
        format!(
            "{}/{}/done",
            schedules(&app, &ann, &furnace),
            s["id"].as_str().unwrap()
        ),
        &ann,
        json!({"date": day(t - Duration::days(7))}),
    )
    .await
    .assert_status(201);

    let overview = app.get(app.at(&ann, "/maintenance"), &ann).await;
    overview.assert_status(200);
    let o = &overview.body;
    assert_eq!(o["today"], day(t));
    assert_eq!(titles(&o["overdue"]), ["Overdue"]);
    assert_eq!(o["overdue"][0]["days_left"], -3);
    assert_eq!(o["overdue"][0]["item_name"], "Furnace");
    assert_eq!(titles(&o["due_soon"]), ["Due today", "Due in ten days"]);
    assert_eq!(titles(&o["done_recently"]), ["Done last week"]);
    assert_eq!(o["done_recently"][0]["item_name"], "Furnace");

    // A wider window, and the next day as someone already in tomorrow sees it.
    let wide = app
        .get(
            app.at(
                &ann,
                &format!(
                    "/maintenance?due_within_days=60&done_within_days=3&today={}",
                    day(t + Duration::days(1))
                ),
            ),
            &ann,
        )
        .await;
    wide.assert_status(200);
    assert_eq!(titles(&wide.body["overdue"]), ["Overdue", "Due today"]);
    // "Done last week" is next due a month after it was done.
    assert_eq!(
        titles(&wide.body["due_soon"]),
        ["Due in ten days", "Done last week", "Due in forty days"]
    );
    assert_eq!(wide.body["done_recently"], json!([]));

    let bad = app
        .get(app.at(&ann, "/maintenance?due_within_days=400"), &ann)
        .await;
    bad.assert_status(422);
    assert!(bad.body["error"]["details"]["due_within_days"].is_string());
}

async fn warranties_are_listed_by_window_and_trashed_and_sold_items_left_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let t = today();
    let mut ids = Vec::new();
    for (name, days) in [
        ("Washer", 20),
        ("Laptop", 75),
        ("Phone", -10),
        ("TV", 200),
        ("Trashed drill", 5),
        ("Sold mixer", 12),
    ] {
        let mut body = json!({"name": name, "warranty_expires": day(t + Duration::days(days))});
        if name.starts_with("Sold") {
            body["sold_date"] = json!(day(t - Duration::days(2)));
        }
        let made = app.create_item(&ann, body).await;
        made.assert_status(201);
        ids.push(made.id());
    }
    app.create_item(&ann, json!({"name": "No warranty"}))
        .await
        .assert_status(201);
    app.delete(app.at(&ann, &format!("/items/{}", ids[4])), &ann)
        .await
        .assert_status(204);

    let names = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|w| w["name"].as_str().unwrap().to_string())
            .collect()
    };
    let thirty = app.get(app.at(&ann, "/warranties"), &ann).await;
    thirty.assert_status(200);
    assert_eq!(thirty.body["within_days"], 30);
    assert_eq!(names(&thirty.body["ending"]), ["Washer"]);
    assert_eq!(thirty.body["ending"][0]["days_left"], 20);
    assert_eq!(thirty.body["ending"][0]["item_id"], ids[0].as_str());
    assert_eq!(names(&thirty.body["ended_recently"]), ["Phone"]);
    assert_eq!(thirty.body["ended_recently"][0]["days_left"], -10);
    let ninety = app
        .get(app.at(&ann, "/warranties?within_days=90"), &ann)
        .await;
    assert_eq!(names(&ninety.body["ending"]), ["Washer", "Laptop"]);
    let sixty = app
        .get(app.at(&ann, "/warranties?within_days=60"), &ann)
        .await;
    assert_eq!(names(&sixty.body["ending"]), ["Washer"]);
    app.get(app.at(&ann, "/warranties?within_days=-1"), &ann)
        .await
        .assert_status(422);
    app.get(app.at(&ann, "/warranties?within_days=soon"), &ann)
        .await
        .assert_status(400);
}

async fn bad_input_is_refused_field_by_field_and_keeps_what_was_there(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let bad = app
        .post(
            schedules(&app, &ann, &furnace),
            &ann,
            json!({"title": " ", "every": 0, "unit": "month"}),
        )
        .await;
    bad.assert_status(422);
    assert_eq!(bad.error_code(), "validation_failed");
    for field in ["title", "every"] {
        assert!(
            bad.body["error"]["details"][field].is_string(),
            "{field}: {}",
            bad.body
        );
    }
    for (body, field) in [
        (
            json!({"title": "F", "every": 1, "unit": "fortnight"}),
            "unit",
        ),
        (
            json!({"title": "F", "every": 1, "unit": "day", "anchor": "whenever"}),
            "anchor",
        ),
        (
            json!({"title": "F", "every": 1, "unit": "day", "start_date": "2025-02-30"}),
            "start_date",
        ),
        (json!({"title": "F", "every": 1000, "unit": "day"}), "every"),
        (json!({"title": "F", "every": 1.5, "unit": "day"}), "every"),
    ] {
        let refused = app.post(schedules(&app, &ann, &furnace), &ann, body).await;
        refused.assert_status(422);
        assert!(
            refused.body["error"]["details"][field].is_string(),
            "{field}: {}",
            refused.body
        );
    }
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 3, "unit": "month", "start_date": "2025-01-01"}),
    )
    .await;
    let path = format!(
        "{}/{}",
        schedules(&app, &ann, &furnace),
        s["id"].as_str().unwrap()
    );
    let refused = app
        .patch(&path, &ann, json!({"title": "", "every": -2}))
        .await;
    refused.assert_status(422);
    let listed = app.get(schedules(&app, &ann, &furnace), &ann).await;
    assert_eq!(listed.body["items"][0], s, "the schedule is as it was");

    let refused = app
        .post(
            format!("{path}/done"),
            &ann,
            json!({"cost": {"amount_minor": 500, "currency": "EUR"}}),
        )
        .await;
    refused.assert_status(422);
    assert!(refused.body["error"]["details"]["cost"].is_string());
    let refused = app
        .post(
            entries(&app, &ann, &furnace),
            &ann,
            json!({"title": "Fix", "cost": {"amount_minor": -1, "currency": "USD"},
                   "date": "yesterday"}),
        )
        .await;
    refused.assert_status(422);
    let log = app.get(entries(&app, &ann, &furnace), &ann).await;
    assert_eq!(log.body["items"], json!([]), "nothing was logged");
    let listed = app.get(schedules(&app, &ann, &furnace), &ann).await;
    assert_eq!(listed.body["items"][0], s, "nor did the schedule move");
}

async fn viewers_read_only_and_other_households_see_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 3, "unit": "month"}),
    )
    .await;
    let sid = s["id"].as_str().unwrap();
    let viewer = join(&app, &ann, "Vic", "viewer").await;
    app.get(schedules(&app, &viewer, &furnace), &viewer)
        .await
        .assert_status(200);
    app.get(app.at(&viewer, "/maintenance"), &viewer)
        .await
        .assert_status(200);
    let spath = format!("{}/{sid}", schedules(&app, &viewer, &furnace));
    for refused in [
        app.post(
            schedules(&app, &viewer, &furnace),
            &viewer,
            json!({"title": "Mine", "every": 1, "unit": "day"}),
        )
        .await,
        app.post(format!("{spath}/done"), &viewer, json!({})).await,
        app.patch(&spath, &viewer, json!({"title": "Mine"})).await,
        app.delete(&spath, &viewer).await,
        app.post(
            entries(&app, &viewer, &furnace),
            &viewer,
            json!({"title": "Mine"}),
        )
        .await,
    ] {
        refused.assert_status(403);
    }

    let bob = app.register("Bob").await;
    // Bob's household with Ann's ids, and Ann's household: 404 either way.
    let in_bobs = format!("{}/{sid}", schedules(&app, &bob, &furnace));
    app.get(schedules(&app, &bob, &furnace), &bob)
        .await
        .assert_status(404);
    app.patch(&in_bobs, &bob, json!({"title": "Mine"}))
        .await
        .assert_status(404);
    app.post(format!("{in_bobs}/done"), &bob, json!({}))
        .await
        .assert_status(404);
    let anns = Person {
        household: ann.household.clone(),
        ..bob.clone()
    };
    app.get(app.at(&anns, "/maintenance"), &anns)
        .await
        .assert_status(404);
    app.get(app.at(&anns, "/warranties"), &anns)
        .await
        .assert_status(404);
    app.get(schedules(&app, &anns, &furnace), &anns)
        .await
        .assert_status(404);
    // Bob's own schedule is not reachable through Ann's item either.
    let bobs_item = item(&app, &bob, "Bob's furnace").await;
    let bobs = schedule(
        &app,
        &bob,
        &bobs_item,
        json!({"title": "Bob's", "every": 1, "unit": "day"}),
    )
    .await;
    app.patch(
        format!(
            "{}/{}",
            schedules(&app, &ann, &furnace),
            bobs["id"].as_str().unwrap()
        ),
        &ann,
        json!({"title": "Taken"}),
    )
    .await
    .assert_status(404);
    let overview = app
        .get(app.at(&ann, "/maintenance?due_within_days=366"), &ann)
        .await;
    assert_eq!(titles(&overview.body["due_soon"]), ["Filter"]);
}

async fn an_entry_names_only_files_of_its_own_item(backend: Backend) {
    let Some(files) = Files::start(backend, Place::Folder, LIMIT).await else {
        return;
    };
    let app = &files.app;
    let ann = app.register("Ann").await;
    let furnace = files.item(&ann, "Furnace").await;
    let car = files.item(&ann, "Car").await;
    let receipt = upload_receipt(&files, &ann, &furnace, "repair.pdf").await;
    let others = upload_receipt(&files, &ann, &car, "car.pdf").await;

    let logged = app
        .post(
            entries(app, &ann, &furnace),
            &ann,
            json!({"title": "Repair", "attachment_ids": [receipt, receipt]}),
        )
        .await;
    logged.assert_status(201);
    assert_eq!(logged.body["attachment_ids"], json!([receipt]));
    for wrong in [others, AttachmentId::new().to_string()] {
        let refused = app
            .post(
                entries(app, &ann, &furnace),
                &ann,
                json!({"title": "Repair", "attachment_ids": [wrong]}),
            )
            .await;
        refused.assert_status(422);
        assert!(refused.body["error"]["details"]["attachment_ids"].is_string());
        let path = format!(
            "{}/{}",
            entries(app, &ann, &furnace),
            logged.body["id"].as_str().unwrap()
        );
        app.patch(&path, &ann, json!({"attachment_ids": [wrong]}))
            .await
            .assert_status(422);
    }
    let log = app.get(entries(app, &ann, &furnace), &ann).await;
    assert_eq!(log.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(log.body["items"][0]["attachment_ids"], json!([receipt]));
}

async fn history_shows_maintenance_and_a_purge_takes_it_away(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 3, "unit": "month"}),
    )
    .await;
    app.post(
        format!(
            "{}/{}/done",
            schedules(&app, &ann, &furnace),
            s["id"].as_str().unwrap()
        ),
        &ann,
        json!({}),
    )
    .await
    .assert_status(201);
    let history = app
        .get(app.at(&ann, &format!("/items/{furnace}/history")), &ann)
        .await;
    history.assert_status(200);
    let maintained: Vec<&Value> = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "maintained")
        .collect();
    assert_eq!(maintained.len(), 2, "{}", history.body);
    assert_eq!(maintained[0]["fields"], json!(["maintenance: Filter"]));
    assert_eq!(
        maintained[1]["fields"],
        json!(["maintenance schedule: Filter"])
    );
    assert_eq!(maintained[0]["actor"]["name"], "Ann");

    // Once the item is purged from the trash, its maintenance is gone with it.
    app.delete(app.at(&ann, &format!("/items/{furnace}")), &ann)
        .await
        .assert_status(204);
    let overview = app
        .get(app.at(&ann, "/maintenance?due_within_days=366"), &ann)
        .await;
    assert_eq!(overview.body["due_soon"], json!([]), "trashed: not due");
    assert_eq!(overview.body["done_recently"], json!([]));
    app.delete(app.at(&ann, &format!("/trash/{furnace}")), &ann)
        .await
        .assert_status(204);
    let store = &app.store;
    let hid: shared::HouseholdId = ann.household.parse::<uuid::Uuid>().unwrap().into();
    assert!(
        store
            .backup_schedules(hid, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .backup_entries(hid, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn api_tokens_reach_maintenance(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let (write, _) = make_token(&app, &ann, json!({"name": "script", "scope": "write"})).await;
    let (read, _) = make_token(&app, &ann, json!({"name": "reader", "scope": "read"})).await;
    let made = with_token(
        &app,
        axum::http::Method::POST,
        &schedules(&app, &ann, &furnace),
        &write,
        Some(json!({"title": "Filter", "every": 1, "unit": "week"})),
    )
    .await;
    made.assert_status(201);
    with_token(
        &app,
        axum::http::Method::GET,
        &app.at(&ann, "/maintenance"),
        &read,
        None,
    )
    .await
    .assert_status(200);
    with_token(
        &app,
        axum::http::Method::POST,
        &entries(&app, &ann, &furnace),
        &read,
        Some(json!({"title": "Fix"})),
    )
    .await
    .assert_status(403);
    let history = app
        .get(app.at(&ann, &format!("/items/{furnace}/history")), &ann)
        .await;
    let last = history.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "maintained")
        .unwrap();
    assert_eq!(last["via_token"], "script");
}

async fn a_backup_restores_schedules_and_logs_with_their_files(backend: Backend) {
    use api::portability::Progress;
    use api::portability::backup::{restore_backup, write_backup};

    let Some(files) = Files::start(backend, Place::Folder, LIMIT).await else {
        return;
    };
    let app = &files.app;
    let ann = app.register("Ann").await;
    let furnace = files.item(&ann, "Furnace").await;
    let receipt = upload_receipt(&files, &ann, &furnace, "repair.pdf").await;
    let s = schedule(
        app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 1, "unit": "month", "start_date": "2025-01-31"}),
    )
    .await;
    app.post(
        format!(
            "{}/{}/done",
            schedules(app, &ann, &furnace),
            s["id"].as_str().unwrap()
        ),
        &ann,
        json!({"date": "2025-02-03", "cost": {"amount_minor": 1999, "currency": "USD"},
               "attachment_ids": [receipt], "notes": "the good ones"}),
    )
    .await
    .assert_status(201);
    app.post(
        entries(app, &ann, &furnace),
        &ann,
        json!({"title": "Cleaned the burner", "date": "2025-01-10"}),
    )
    .await
    .assert_status(201);

    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("backup.zip");
    let summary = write_backup(
        &app.store,
        &files.blobs,
        ann.household.parse().unwrap(),
        &zip,
        &Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.maintenance_schedules, 1);
    assert_eq!(summary.maintenance_entries, 2);

    let restored = new_household(&files, &ann, "USD").await;
    let summary = restore_backup(
        &app.store,
        &files.blobs,
        restored.household.parse().unwrap(),
        ann.user_id.parse().unwrap(),
        &zip,
        &Progress::default(),
    )
    .await
    .unwrap();
    assert_eq!(summary.maintenance_schedules, 1);
    assert_eq!(summary.maintenance_entries, 2);

    let items = app.get(app.at(&restored, "/items"), &restored).await;
    let item = items.body["items"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(item, furnace, "a new id");
    let listed = app.get(schedules(app, &restored, &item), &restored).await;
    listed.assert_status(200);
    let copy = &listed.body["items"][0];
    assert_ne!(copy["id"], s["id"]);
    assert_eq!(copy["title"], "Filter");
    assert_eq!(copy["last_done"], "2025-02-03");
    assert_eq!(copy["next_due"], "2025-02-28");
    let log = app.get(entries(app, &restored, &item), &restored).await;
    assert_eq!(titles(&log.body["items"]), ["Filter", "Cleaned the burner"]);
    let done = &log.body["items"][0];
    assert_eq!(
        done["schedule_id"], copy["id"],
        "the entry follows its schedule"
    );
    assert_eq!(done["cost"]["amount_minor"], 1999);
    assert_eq!(done["notes"], "the good ones");
    let attached = app
        .get(
            app.at(&restored, &format!("/items/{item}/attachments")),
            &restored,
        )
        .await;
    let attached = attached.body["items"].as_array().unwrap().clone();
    assert_eq!(attached.len(), 1);
    assert_eq!(done["attachment_ids"], json!([attached[0]["id"]]));
    assert_ne!(done["attachment_ids"][0], receipt.as_str());
}

async fn two_people_marking_a_task_done_at_once_both_log_and_the_schedule_follows_the_latest(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = join(&app, &ann, "Bob", "editor").await;
    let furnace = item(&app, &ann, "Furnace").await;
    let s = schedule(
        &app,
        &ann,
        &furnace,
        json!({"title": "Filter", "every": 1, "unit": "month", "anchor": "last_done",
               "start_date": "2025-01-01"}),
    )
    .await;
    let done = format!(
        "{}/{}/done",
        schedules(&app, &ann, &furnace),
        s["id"].as_str().unwrap()
    );
    let (a, b) = tokio::join!(
        app.post(&done, &ann, json!({"date": "2025-03-10"})),
        app.post(&done, &bob, json!({"date": "2025-03-12"})),
    );
    a.assert_status(201);
    b.assert_status(201);
    let log = app.get(entries(&app, &ann, &furnace), &ann).await;
    assert_eq!(log.body["items"].as_array().unwrap().len(), 2);
    let listed = app.get(schedules(&app, &ann, &furnace), &ann).await;
    assert_eq!(listed.body["items"][0]["last_done"], "2025-03-12");
    assert_eq!(listed.body["items"][0]["next_due"], "2025-04-12");
}

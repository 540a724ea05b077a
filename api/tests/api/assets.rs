//! Asset ids: the household-unique number on every item and location (`000-123`), given in
//! order at create, kept through moves, the trash, CSV and backups, found by search and by
//! `GET /api/v1/assets/{code}`; and the numbering of rows made before asset ids existed.

use api::store::{ItemRow, LocationRow};
use axum::http::Method;
use serde_json::{Value, json};
use shared::{Action, CreateItem, Currency, HouseholdId, ItemId, LocationId};
use time::{Duration, OffsetDateTime};

use crate::attachments::{Files, LIMIT, Place};
use crate::helpers::{Backend, Person, TestApp, TestDb, spawn_app};
use crate::portability::{download_backup, export_csv, finished, import_csv, items, post_file};
use crate::sharing::join_as;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    numbers_are_given_in_order_and_shown_as_000_001,
    rows_made_before_asset_ids_are_numbered_oldest_first,
    twenty_creates_at_once_get_twenty_different_numbers,
    a_number_another_item_or_location_has_is_a_conflict_and_changes_nothing,
    malformed_asset_ids_are_refused_naming_the_field,
    a_search_for_an_asset_id_finds_exactly_that_item,
    a_code_finds_what_carries_it_in_each_household_of_the_caller,
    a_number_stays_through_moves_the_trash_and_a_restore,
    csv_export_writes_asset_ids_and_import_keeps_the_free_ones,
    a_restored_backup_keeps_every_number_and_the_counter_moves_past_them,
);

fn asset_id(v: &Value) -> &str {
    v["asset_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no asset_id in {v}"))
}

async fn new_location(app: &TestApp, who: &Person, body: Value) -> Value {
    let made = app.post(app.at(who, "/locations"), who, body).await;
    made.assert_status(201);
    made.body
}

async fn numbers_are_given_in_order_and_shown_as_000_001(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = new_location(&app, &ann, json!({"name": "Garage"})).await;
    assert_eq!(asset_id(&garage), "000-001");
    let drill = app
        .create_item(&ann, json!({"name": "Drill", "location_id": garage["id"]}))
        .await;
    assert_eq!(asset_id(&drill.body), "000-002");
    let saw = app
        .create_item(&ann, json!({"name": "Saw", "asset_id": "#1000003"}))
        .await;
    assert_eq!(
        asset_id(&saw.body),
        "1000-003",
        "a number asked for is kept"
    );
    let tape = app.create_item(&ann, json!({"name": "Tape"})).await;
    assert_eq!(
        asset_id(&tape.body),
        "1000-004",
        "the next number comes after the highest given"
    );

    // Every answer shows it: the item, the list, the location and the location list.
    let got = app
        .get(app.at(&ann, &format!("/items/{}", drill.id())), &ann)
        .await;
    assert_eq!(asset_id(&got.body), "000-002");
    let list = app.get(app.at(&ann, "/items?sort=oldest"), &ann).await;
    let numbers: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(asset_id)
        .collect();
    assert_eq!(numbers, ["000-002", "1000-003", "1000-004"]);
    let locations = app.get(app.at(&ann, "/locations"), &ann).await;
    assert_eq!(asset_id(&locations.body["items"][0]), "000-001");

    // Another household counts on its own.
    let bob = app.register("Bob").await;
    let lamp = app.create_item(&bob, json!({"name": "Lamp"})).await;
    assert_eq!(asset_id(&lamp.body), "000-001");
}

/// Runs SQL on a test database directly, as a migration would find it.
async fn run_sql(url: &str, sql: &str) {
    if let Some(path) = url.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.execute_batch(sql).unwrap();
    } else {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    }
}

async fn rows_made_before_asset_ids_are_numbered_oldest_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let hid: HouseholdId = ann.household.parse().unwrap();
    let user = ann.user_id.parse().unwrap();
    let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    // 1,200 items a second apart, and three locations made between them: more than one
    // transaction of the backfill numbers.
    let items: Vec<ItemRow> = (0..1_200)
        .map(|n| ItemRow {
            id: ItemId::new(),
            household_id: hid,
            fields: CreateItem {
                name: Some(format!("Thing {n:04}")),
                ..Default::default()
            }
            .validate(&Currency::default())
            .unwrap(),
            version: 1,
            created_at: t0 + Duration::seconds(n),
            updated_at: t0 + Duration::seconds(n),
            deleted_at: None,
        })
        .collect();
    for batch in items.chunks(1_000) {
        let activities: Vec<_> = batch
            .iter()
            .map(|i| {
                api::store::ActivityRow::new(hid, i.id, user, Action::Created, vec![], i.created_at)
            })
            .collect();
        app.store.import_items(batch, &activities).await.unwrap();
    }
    let mut locations = Vec::new();
    for (n, at) in [(0, -5), (1, 600), (2, 1_500)] {
        let row = LocationRow {
            id: LocationId::new(),
            household_id: hid,
            parent_id: None,
            name: format!("Room {n}"),
            description: None,
            asset_id: None,
            version: 1,
            created_at: t0 + Duration::seconds(at) + Duration::milliseconds(500),
            updated_at: t0,
        };
        app.store.insert_location(&row).await.unwrap();
        locations.push(row.id);
    }
    // As the database was before asset ids: no numbers, no counter, no backfill done.
    let url = TestDb::shared(&app).url.clone();
    run_sql(
        &url,
        "UPDATE items SET asset_id = NULL; UPDATE locations SET asset_id = NULL; \
         UPDATE households SET next_asset_id = NULL; \
         DELETE FROM schema_migrations WHERE version = '0012_asset_ids_backfill'",
    )
    .await;

    // Opening the database numbers them, oldest first.
    let store = TestDb::shared(&app).store().await;
    let mut expected: Vec<(OffsetDateTime, String)> = items
        .iter()
        .map(|i| (i.created_at, i.fields.name.clone()))
        .collect();
    let stored_locations = store.locations(hid).await.unwrap();
    expected.extend(
        stored_locations
            .iter()
            .map(|l| (l.created_at, l.name.clone())),
    );
    expected.sort();
    let mut numbered: Vec<(u64, String)> = stored_locations
        .iter()
        .map(|l| (l.asset_id.unwrap().get(), l.name.clone()))
        .collect();
    let mut after = None;
    loop {
        let page = store.backup_items(hid, after, 500).await.unwrap();
        let Some(last) = page.last() else { break };
        after = Some((last.created_at, last.id));
        numbered.extend(
            page.iter()
                .map(|i| (i.fields.asset_id.unwrap().get(), i.fields.name.clone())),
        );
    }
    numbered.sort();
    let names: Vec<&String> = numbered.iter().map(|(_, name)| name).collect();
    let oldest_first: Vec<&String> = expected.iter().map(|(_, name)| name).collect();
    assert_eq!(names, oldest_first);
    let numbers: Vec<u64> = numbered.iter().map(|(n, _)| *n).collect();
    assert_eq!(numbers, (1..=1_203).collect::<Vec<u64>>());
    assert_eq!(names[0], "Room 0");
    assert_eq!(
        (names[601].as_str(), names[602].as_str()),
        ("Thing 0600", "Room 1"),
        "after the item made at second 600"
    );

    // Done once: opening again numbers nothing, and the next item comes after them.
    assert_eq!(api::store::backfill_asset_ids(&*store).await.unwrap(), 0);
    let app = TestApp::on(TestDb::shared(&app), store, |_| {});
    let next = app.create_item(&ann, json!({"name": "Newest"})).await;
    assert_eq!(asset_id(&next.body), "001-204");
}

async fn twenty_creates_at_once_get_twenty_different_numbers(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let made = futures_util::future::join_all((0..20).map(|n| {
        let (app, ann) = (&app, &ann);
        async move {
            let (path, body) = if n % 2 == 0 {
                ("/items", json!({"name": format!("Item {n}")}))
            } else {
                ("/locations", json!({"name": format!("Room {n}")}))
            };
            let made = app.post(app.at(ann, path), ann, body).await;
            made.assert_status(201);
            asset_id(&made.body).to_string()
        }
    }))
    .await;
    let mut numbers = made.clone();
    numbers.sort();
    numbers.dedup();
    let expected: Vec<String> = (1..=20).map(|n| format!("000-{n:03}")).collect();
    assert_eq!(numbers, expected, "{made:?}");
}

async fn a_number_another_item_or_location_has_is_a_conflict_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(&ann, json!({"name": "Drill"})).await; // 000-001
    let garage = new_location(&app, &ann, json!({"name": "Garage"})).await; // 000-002
    let saw = app.create_item(&ann, json!({"name": "Saw"})).await; // 000-003
    let saw_path = app.at(&ann, &format!("/items/{}", saw.id()));
    let garage_path = app.at(
        &ann,
        &format!("/locations/{}", garage["id"].as_str().unwrap()),
    );

    for (path, number, holder) in [
        (&saw_path, "000-001", "item \"Drill\""),
        (&saw_path, "#2", "location \"Garage\""),
        (&garage_path, "1", "item \"Drill\""),
        (&garage_path, "000003", "item \"Saw\""),
    ] {
        let refused = app
            .patch(
                path.as_str(),
                &ann,
                json!({"asset_id": number, "name": "Renamed"}),
            )
            .await;
        refused.assert_status(409);
        assert_eq!(refused.error_code(), "conflict");
        let message = refused.body["error"]["message"].as_str().unwrap();
        assert!(message.contains(holder), "{message}");
    }
    let refused = app
        .post(
            app.at(&ann, "/items"),
            &ann,
            json!({"name": "Tape", "asset_id": "000-002"}),
        )
        .await;
    refused.assert_status(409);
    let refused = app
        .post(
            app.at(&ann, "/locations"),
            &ann,
            json!({"name": "Hall", "asset_id": "3"}),
        )
        .await;
    refused.assert_status(409);

    // Nothing changed: not the numbers, not the names, not the versions.
    let now = app.get(saw_path.as_str(), &ann).await;
    assert_eq!(
        (asset_id(&now.body), &now.body["name"]),
        ("000-003", &json!("Saw"))
    );
    assert_eq!(now.body["version"], 1);
    let now = app.get(garage_path.as_str(), &ann).await;
    assert_eq!(
        (asset_id(&now.body), &now.body["name"]),
        ("000-002", &json!("Garage"))
    );
    let list = app.get(app.at(&ann, "/items"), &ann).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);

    // A free number is taken, the history says so, and the counter moves past it.
    let moved = app
        .patch(saw_path.as_str(), &ann, json!({"asset_id": "000-100"}))
        .await;
    moved.assert_status(200);
    assert_eq!(asset_id(&moved.body), "000-100");
    let history = app.get(format!("{saw_path}/history"), &ann).await;
    assert_eq!(history.body["items"][0]["fields"], json!(["asset_id"]));
    let next = app.create_item(&ann, json!({"name": "Level"})).await;
    assert_eq!(asset_id(&next.body), "000-101");
    // A free number below the counter leaves the counter where it is.
    let relabelled = app
        .patch(garage_path.as_str(), &ann, json!({"asset_id": "000-050"}))
        .await;
    relabelled.assert_status(200);
    assert_eq!(asset_id(&relabelled.body), "000-050");
    let next = new_location(&app, &ann, json!({"name": "Attic"})).await;
    assert_eq!(asset_id(&next), "000-102");
    // Its old number is free again for someone to ask for.
    let tape = app
        .create_item(&ann, json!({"name": "Tape", "asset_id": "000-002"}))
        .await;
    assert_eq!(asset_id(&tape.body), "000-002");
}

async fn malformed_asset_ids_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let drill = app.create_item(&ann, json!({"name": "Drill"})).await.id();
    let garage = new_location(&app, &ann, json!({"name": "Garage"})).await;
    let drill_path = app.at(&ann, &format!("/items/{drill}"));
    let garage_path = app.at(
        &ann,
        &format!("/locations/{}", garage["id"].as_str().unwrap()),
    );
    for bad in [
        json!("0"),
        json!("-1"),
        json!("12a"),
        json!("1234567890"),
        json!("12-34"),
    ] {
        for (method, path) in [
            (Method::POST, app.at(&ann, "/items")),
            (Method::POST, app.at(&ann, "/locations")),
            (Method::PATCH, drill_path.clone()),
            (Method::PATCH, garage_path.clone()),
        ] {
            let refused = app
                .request(
                    method.clone(),
                    &path,
                    Some(&ann.token),
                    Some(json!({"name": "Thing", "asset_id": bad})),
                    &[],
                )
                .await;
            refused.assert_status(422);
            assert!(
                refused.body["error"]["details"]["asset_id"]
                    .as_str()
                    .is_some_and(|m| m.contains("000-123")),
                "{method} {path} {bad}: {}",
                refused.body
            );
        }
    }
    // It can't be cleared.
    for path in [&drill_path, &garage_path] {
        let refused = app
            .patch(path.as_str(), &ann, json!({"asset_id": null}))
            .await;
        refused.assert_status(422);
        assert!(refused.body["error"]["details"]["asset_id"].is_string());
    }
    let refused = app.get("/api/v1/assets/abc", &ann).await;
    refused.assert_status(422);
    assert!(refused.body["error"]["details"]["code"].is_string());
    // Nothing was made or changed.
    let list = app.get(app.at(&ann, "/items"), &ann).await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(asset_id(&list.body["items"][0]), "000-001");
}

async fn a_search_for_an_asset_id_finds_exactly_that_item(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(&ann, json!({"name": "Drill", "notes": "box #000002"}))
        .await;
    let saw = app.create_item(&ann, json!({"name": "Saw"})).await.id();
    app.create_item(&ann, json!({"name": "Tape 000-002"})).await;
    let names = async |q: &str| -> Vec<String> {
        let found = app
            .get(
                app.at(
                    &ann,
                    &format!("/items?q={}", q.replace('#', "%23").replace(' ', "%20")),
                ),
                &ann,
            )
            .await;
        found.assert_status(200);
        found.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_string())
            .collect()
    };
    for q in ["#000002", "000-002", "#2", " 000-002 "] {
        assert_eq!(names(q).await, ["Saw"], "{q}");
    }
    assert!(names("#000009").await.is_empty());
    // One round trip, as any search once the household is warm.
    let before = app.store.round_trips();
    names("#000002").await;
    assert_eq!(app.store.round_trips() - before, 1, "a search by asset id");
    assert_eq!(names("drill").await, ["Drill"], "text is still text");
    // Only live items: a trashed one is not found.
    app.delete(app.at(&ann, &format!("/items/{saw}")), &ann)
        .await
        .assert_status(204);
    assert!(names("#000002").await.is_empty());
}

async fn a_code_finds_what_carries_it_in_each_household_of_the_caller(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = new_location(&app, &ann, json!({"name": "Garage"})).await; // 000-001
    let shelf = new_location(
        &app,
        &ann,
        json!({"name": "Shelf", "parent_id": garage["id"]}),
    )
    .await; // 000-002
    let drill = app
        .create_item(&ann, json!({"name": "Drill", "location_id": shelf["id"]}))
        .await; // 000-003
    let bob = app.register("Bob").await;
    app.create_item(&bob, json!({"name": "Kayak"})).await; // 000-001
    app.create_item(&bob, json!({"name": "Paddle"})).await; // 000-002
    let bob_home = bob.household.clone();
    let bob_in_ann = join_as(&app, &ann, &bob, "viewer").await;

    // Ann: her drill, with where it is.
    let found = app.get("/api/v1/assets/000003", &ann).await;
    found.assert_status(200);
    assert_eq!(
        found.body,
        json!({"items": [{
            "kind": "item",
            "id": drill.id(),
            "household_id": ann.household,
            "household_name": found.body["items"][0]["household_name"],
            "name": "Drill",
            "asset_id": "000-003",
            "location_path": ["Garage", "Shelf"],
        }]})
    );
    // A location's path ends with its own name.
    let found = app.get("/api/v1/assets/000-002", &ann).await;
    assert_eq!(found.body["items"][0]["kind"], "location");
    assert_eq!(
        found.body["items"][0]["location_path"],
        json!(["Garage", "Shelf"])
    );

    // Bob belongs to both households: a match in each.
    let found = app.get("/api/v1/assets/000002", &bob_in_ann).await;
    let mut seen: Vec<(String, String)> = found.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["household_id"].as_str().unwrap().to_string(),
                m["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    seen.sort();
    let mut expected = vec![
        (ann.household.clone(), "Shelf".to_string()),
        (bob_home.clone(), "Paddle".to_string()),
    ];
    expected.sort();
    assert_eq!(seen, expected);

    // A token limited to Bob's own household sees only that one.
    let (token, _) = make_token(
        &app,
        &bob,
        json!({"name": "Scanner", "scope": "read", "household_id": bob_home}),
    )
    .await;
    let found = with_token(&app, Method::GET, "/api/v1/assets/2", &token, None).await;
    found.assert_status(200);
    assert_eq!(found.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(found.body["items"][0]["name"], "Paddle");

    // Someone in neither household: nothing, and no error.
    let cy = app.register("Cy").await;
    let found = app.get("/api/v1/assets/000003", &cy).await;
    found.assert_status(200);
    assert_eq!(found.body, json!({"items": []}));
    // A trashed item is not found.
    app.delete(app.at(&ann, &format!("/items/{}", drill.id())), &ann)
        .await
        .assert_status(204);
    let found = app.get("/api/v1/assets/000003", &ann).await;
    assert_eq!(found.body, json!({"items": []}));
    // Signed out.
    let refused = app
        .request(Method::GET, "/api/v1/assets/000003", None, None, &[])
        .await;
    refused.assert_status(401);
}

async fn a_number_stays_through_moves_the_trash_and_a_restore(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await; // 000-001
    let attic = app.create_location(&ann, "Attic", None).await; // 000-002
    let drill = app.create_item(&ann, json!({"name": "Drill"})).await.id(); // 000-003
    let path = app.at(&ann, &format!("/items/{drill}"));
    let moved = app
        .patch(path.as_str(), &ann, json!({"location_id": garage}))
        .await;
    moved.assert_status(200);
    assert_eq!(asset_id(&moved.body), "000-003");
    let moved = app
        .patch(
            app.at(&ann, &format!("/locations/{attic}")),
            &ann,
            json!({"parent_id": garage}),
        )
        .await;
    moved.assert_status(200);
    assert_eq!(asset_id(&moved.body), "000-002");

    app.delete(path.as_str(), &ann).await.assert_status(204);
    let trash = app.get(app.at(&ann, "/trash"), &ann).await;
    assert_eq!(asset_id(&trash.body["items"][0]), "000-003");
    let restored = app.post(format!("{path}/restore"), &ann, json!({})).await;
    restored.assert_status(200);
    assert_eq!(asset_id(&restored.body), "000-003");
    // The number was never given to anything else meanwhile.
    let next = app.create_item(&ann, json!({"name": "Saw"})).await;
    assert_eq!(asset_id(&next.body), "000-004");
}

async fn folder_files(backend: Backend) -> Files {
    Files::start(backend, Place::Folder, LIMIT)
        .await
        .expect("a server with a local folder for files")
}

async fn csv_export_writes_asset_ids_and_import_keeps_the_free_ones(backend: Backend) {
    let files = folder_files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    for name in ["Drill", "Saw", "Tape"] {
        app.create_item(&ann, json!({"name": name})).await;
    }
    let csv = export_csv(&files, &ann, &ann.household, json!({})).await;
    let mut reader = ::csv::Reader::from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "HB.asset_id").unwrap();
    let name = headers.iter().position(|h| h == "HB.name").unwrap();
    let written: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[name].to_string(), r[column].to_string())
        })
        .collect();
    assert_eq!(
        written,
        [
            ("Drill", "000-001"),
            ("Saw", "000-002"),
            ("Tape", "000-003")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );

    // Into a household whose 000-001 is a location already: the drill gets a new number.
    let cabin = crate::backup::new_household(&files, &ann, "USD").await;
    let shed = new_location(app, &cabin, json!({"name": "Shed"})).await;
    assert_eq!(asset_id(&shed), "000-001");
    import_csv(app, &cabin, &cabin.household, &csv).await;
    let mut imported: Vec<(String, String)> = items(app, &cabin, &cabin.household)
        .await
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                asset_id(i).to_string(),
            )
        })
        .collect();
    imported.sort();
    assert_eq!(
        imported,
        [
            ("Drill", "000-004"),
            ("Saw", "000-002"),
            ("Tape", "000-003")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let next = app.create_item(&cabin, json!({"name": "Axe"})).await;
    assert_eq!(asset_id(&next.body), "000-005");
}

async fn a_restored_backup_keeps_every_number_and_the_counter_moves_past_them(backend: Backend) {
    let files = folder_files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await; // 000-001
    app.create_item(&ann, json!({"name": "Drill", "location_id": garage}))
        .await; // 000-002
    app.create_item(&ann, json!({"name": "Saw", "asset_id": "000-040"}))
        .await;
    let zip = download_backup(&files, &ann).await;

    let copy = crate::backup::new_household(&files, &ann, "USD").await;
    let restore = post_file(
        app,
        &copy,
        &copy.household,
        "?dry_run=false",
        "application/zip",
        zip,
    )
    .await;
    let done = finished(app, &copy, &copy.household, &restore).await;
    assert_eq!(done["status"], "done", "{done}");
    let mut restored: Vec<(String, String)> = items(app, &copy, &copy.household)
        .await
        .iter()
        .map(|i| {
            (
                i["name"].as_str().unwrap().to_string(),
                asset_id(i).to_string(),
            )
        })
        .collect();
    restored.sort();
    assert_eq!(
        restored,
        [("Drill", "000-002"), ("Saw", "000-040")].map(|(a, b)| (a.to_string(), b.to_string()))
    );
    let locations = app.get(app.at(&copy, "/locations"), &copy).await;
    assert_eq!(asset_id(&locations.body["items"][0]), "000-001");
    let next = app.create_item(&copy, json!({"name": "Level"})).await;
    assert_eq!(asset_id(&next.body), "000-041");
}

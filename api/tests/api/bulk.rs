//! Bulk edits (`POST …/items/bulk`): by ids and by the item list's filters, small ones
//! answered at once and large ones as a job, on SQLite and PostgreSQL.

use api::store::{ActivityRow, ItemRow, ItemUpdate};
use axum::http::Method;
use serde_json::{Value, json};
use shared::{Action, CreateItem, Currency, HouseholdId, ItemId, LocationId, UserId};

use crate::helpers::{Backend, Person, TestApp, names, spawn_app};
use crate::portability::finished;
use crate::sharing::join;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    thousands_of_items_move_by_filter_and_by_ids_in_a_job_and_a_retry_changes_nothing,
    a_filter_that_matches_another_number_of_items_changes_nothing,
    fields_are_set_and_cleared_and_tags_added_and_removed_with_history,
    items_go_to_the_trash_and_come_back_in_bulk,
    viewers_and_read_tokens_are_refused,
    another_households_items_are_reported_and_left_alone,
    bad_values_are_refused_and_nothing_changes,
    a_batch_writes_no_item_that_changed_since_it_was_read,
    two_bulk_edits_of_the_same_items_at_once_both_land,
);

/// `n` items named "Box <i>" tagged "storage", in `location`, written straight to the store
/// (the API would take minutes to make thousands of them one by one).
async fn seed(app: &TestApp, who: &Person, n: usize, location: &str) -> Vec<String> {
    let household: HouseholdId = who.household.parse().unwrap();
    let user: UserId = who.user_id.parse().unwrap();
    let location: LocationId = location.parse().unwrap();
    let at = time::OffsetDateTime::now_utc();
    let rows: Vec<ItemRow> = (0..n)
        .map(|i| ItemRow {
            id: ItemId::new(),
            household_id: household,
            fields: CreateItem {
                name: Some(format!("Box {i}")),
                location_id: Some(location),
                tags: Some(vec!["storage".into()]),
                ..Default::default()
            }
            .validate(&Currency::default())
            .unwrap(),
            version: 1,
            created_at: at,
            updated_at: at,
            deleted_at: None,
        })
        .collect();
    for chunk in rows.chunks(500) {
        let activities: Vec<ActivityRow> = chunk
            .iter()
            .map(|r| ActivityRow::new(household, r.id, user, Action::Created, vec![], at))
            .collect();
        app.store.import_items(chunk, &activities).await.unwrap();
    }
    rows.iter().map(|r| r.id.to_string()).collect()
}

async fn bulk(app: &TestApp, who: &Person, body: Value) -> crate::helpers::TestResponse {
    app.post(app.at(who, "/items/bulk"), who, body).await
}

/// Live items directly in each location, as the location list counts them.
async fn item_count(app: &TestApp, who: &Person, location: &str) -> i64 {
    let locations = app.get(app.at(who, "/locations"), who).await;
    locations.assert_status(200);
    locations.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == location)
        .map(|l| l["item_count"].as_i64().unwrap())
        .unwrap()
}

async fn item(app: &TestApp, who: &Person, id: &str) -> Value {
    let got = app.get(app.at(who, &format!("/items/{id}")), who).await;
    got.assert_status(200);
    got.body
}

async fn history(app: &TestApp, who: &Person, id: &str) -> Vec<Value> {
    let got = app
        .get(app.at(who, &format!("/items/{id}/history")), who)
        .await;
    got.assert_status(200);
    got.body["items"].as_array().unwrap().clone()
}

async fn thousands_of_items_move_by_filter_and_by_ids_in_a_job_and_a_retry_changes_nothing(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let attic = app.create_location(&ann, "Attic", None).await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let ids = seed(&app, &ann, 2_100, &attic).await;
    let elsewhere = app
        .create_item(&ann, json!({"name": "Bike", "location_id": garage}))
        .await
        .id();

    // The filter of the list "items in the attic", with the count the person saw.
    let by_filter = |expected: usize| {
        json!({
            "selection": {"filter": {"location_id": attic}, "expected_count": expected},
            "ops": {"set": {"location_id": garage}},
        })
    };
    let started = bulk(&app, &ann, by_filter(2_100)).await;
    started.assert_status(202);
    assert_eq!(started.body["job"]["kind"], "bulk_edit");
    let job = finished(&app, &ann, &ann.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(
        job["result"],
        json!({"matched": 2_100, "updated": 2_100, "unchanged": 0, "failed": []})
    );
    assert_eq!(job["progress"], json!({"done": 2_100, "total": 2_100}));
    assert_eq!(item_count(&app, &ann, &attic).await, 0);
    assert_eq!(item_count(&app, &ann, &garage).await, 2_101);
    // The list sees the move at once.
    let in_attic = app
        .get(app.at(&ann, &format!("/items?location_id={attic}")), &ann)
        .await;
    in_attic.assert_status(200);
    assert!(names(&in_attic.body).is_empty());
    let moved = item(&app, &ann, &ids[7]).await;
    assert_eq!(moved["location_path"], json!(["Garage"]));
    assert_eq!(moved["version"], 2);

    // Back again by ids (a repeated id counts once).
    let mut body_ids = ids.clone();
    body_ids.push(ids[0].clone());
    let back = json!({"selection": {"ids": body_ids}, "ops": {"set": {"location_id": attic}}});
    let started = bulk(&app, &ann, back.clone()).await;
    let job = finished(&app, &ann, &ann.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["matched"], 2_100);
    assert_eq!(job["result"]["updated"], 2_100);
    assert_eq!(item_count(&app, &ann, &attic).await, 2_100);
    assert_eq!(item_count(&app, &ann, &garage).await, 1);
    assert_eq!(item(&app, &ann, &elsewhere).await["version"], 1);

    // The same request again changes nothing more.
    let started = bulk(&app, &ann, back).await;
    let job = finished(&app, &ann, &ann.household, &started).await;
    assert_eq!(
        job["result"],
        json!({"matched": 2_100, "updated": 0, "unchanged": 2_100, "failed": []})
    );
    let entries = history(&app, &ann, &ids[2_099]).await;
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["updated", "updated", "created"]);
    assert_eq!(entries[0]["fields"], json!(["location_id"]));
    assert_eq!(entries[0]["actor"]["name"], "Ann");
    assert_eq!(item(&app, &ann, &ids[2_099]).await["version"], 3);
}

async fn a_filter_that_matches_another_number_of_items_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let desk = app
        .create_item(&ann, json!({"name": "Desk lamp", "brand": "Ikea"}))
        .await
        .id();
    app.create_item(&ann, json!({"name": "Floor lamp", "brand": "Ikea"}))
        .await;
    // Someone else adds a lamp after the list was looked at: it showed 2.
    app.create_item(&ann, json!({"name": "Lava lamp", "brand": "Ikea"}))
        .await;
    let refused = bulk(
        &app,
        &ann,
        json!({"selection": {"filter": {"q": "LAMP"}, "expected_count": 2},
               "ops": {"set": {"brand": "Philips"}}}),
    )
    .await;
    refused.assert_status(409);
    assert_eq!(refused.error_code(), "conflict");
    let philips = app.get(app.at(&ann, "/items?q=philips"), &ann).await;
    assert!(names(&philips.body).is_empty());
    assert_eq!(item(&app, &ann, &desk).await["version"], 1);

    // With the count the list shows now, all three change, and the search finds them.
    let done = bulk(
        &app,
        &ann,
        json!({"selection": {"filter": {"q": "LAMP"}, "expected_count": 3},
               "ops": {"set": {"brand": "Philips"}}}),
    )
    .await;
    done.assert_status(200);
    assert_eq!(
        done.body,
        json!({"matched": 3, "updated": 3, "unchanged": 0, "failed": []})
    );
    let philips = app.get(app.at(&ann, "/items?q=philips"), &ann).await;
    let mut found = names(&philips.body);
    found.sort();
    assert_eq!(found, vec!["Desk lamp", "Floor lamp", "Lava lamp"]);
    // The same filter still matches three: repeating it changes nothing.
    let again = bulk(
        &app,
        &ann,
        json!({"selection": {"filter": {"q": "LAMP"}, "expected_count": 3},
               "ops": {"set": {"brand": "Philips"}}}),
    )
    .await;
    again.assert_status(200);
    assert_eq!(again.body["unchanged"], 3);
    assert_eq!(item(&app, &ann, &desk).await["version"], 2);
}

async fn fields_are_set_and_cleared_and_tags_added_and_removed_with_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let a = app
        .create_item(
            &ann,
            json!({"name": "Drill", "tags": ["Old", "tools"], "notes": "blue case"}),
        )
        .await
        .id();
    let b = app
        .create_item(&ann, json!({"name": "Saw", "tags": ["tools"]}))
        .await
        .id();
    // Already as the change makes it: left alone.
    let c = app
        .create_item(
            &ann,
            json!({"name": "Hammer", "tags": ["tools", "Workshop"], "brand": "Bosch",
                   "quantity": 2, "insured": true,
                   "estimated_value": {"amount_minor": 5000, "currency": "USD"},
                   "warranty_expires": "2030-01-31"}),
        )
        .await
        .id();
    let body = json!({
        "selection": {"ids": [a, b, c]},
        "ops": {
            "set": {"brand": " Bosch ", "quantity": 2, "insured": true,
                    "estimated_value": {"amount_minor": 5000, "currency": "USD"},
                    "warranty_expires": "2030-01-31"},
            "clear": ["notes"],
            "add_tags": ["workshop"],
            "remove_tags": ["OLD"],
        },
    });
    let done = bulk(&app, &ann, body.clone()).await;
    done.assert_status(200);
    assert_eq!(
        done.body,
        json!({"matched": 3, "updated": 2, "unchanged": 1, "failed": []})
    );
    let drill = item(&app, &ann, &a).await;
    assert_eq!(drill["brand"], "Bosch");
    assert_eq!(drill["quantity"], 2);
    assert_eq!(drill["insured"], true);
    assert_eq!(drill["estimated_value"]["amount_minor"], 5000);
    assert_eq!(drill["warranty_expires"], "2030-01-31");
    assert_eq!(drill["notes"], Value::Null);
    assert_eq!(drill["tags"], json!(["tools", "workshop"]));
    assert_eq!(drill["version"], 2);
    assert_eq!(item(&app, &ann, &c).await["version"], 1);
    let entries = history(&app, &ann, &a).await;
    assert_eq!(entries[0]["action"], "updated");
    assert_eq!(
        entries[0]["fields"],
        json!([
            "quantity",
            "tags",
            "brand",
            "estimated_value",
            "warranty_expires",
            "notes",
            "insured"
        ])
    );
    assert_eq!(history(&app, &ann, &c).await.len(), 1);
    // The tag list and its filter see the change at once.
    let tagged = app.get(app.at(&ann, "/items?tag=Workshop"), &ann).await;
    assert_eq!(names(&tagged.body).len(), 3);
    let old = app.get(app.at(&ann, "/items?tag=old"), &ann).await;
    assert!(names(&old.body).is_empty());
    // The changes feed carries the new versions.
    let changes = app.get(app.at(&ann, "/changes"), &ann).await;
    changes.assert_status(200);
    let fed = changes.body.to_string();
    assert!(fed.contains("\"Bosch\""), "{fed}");

    let again = bulk(&app, &ann, body).await;
    again.assert_status(200);
    assert_eq!(
        again.body,
        json!({"matched": 3, "updated": 0, "unchanged": 3, "failed": []})
    );
    assert_eq!(item(&app, &ann, &a).await["version"], 2);
}

async fn items_go_to_the_trash_and_come_back_in_bulk(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let shed = app.create_location(&ann, "Shed", None).await;
    let ids: Vec<String> = make_items(&app, &ann, &["Rake", "Hoe", "Spade"], &shed).await;
    let trash = json!({"selection": {"ids": ids}, "ops": {"trash": true}});
    let done = bulk(&app, &ann, trash.clone()).await;
    done.assert_status(200);
    assert_eq!(done.body["updated"], 3);
    let live = app.get(app.at(&ann, "/items"), &ann).await;
    assert!(names(&live.body).is_empty());
    let trashed = app.get(app.at(&ann, "/trash"), &ann).await;
    assert_eq!(names(&trashed.body).len(), 3);
    // Trashing again changes nothing; other changes don't reach trashed items.
    let again = bulk(&app, &ann, trash).await;
    assert_eq!(again.body["unchanged"], 3);
    let edit = bulk(
        &app,
        &ann,
        json!({"selection": {"ids": ids}, "ops": {"add_tags": ["garden"]}}),
    )
    .await;
    edit.assert_status(200);
    assert_eq!(edit.body["updated"], 0);
    let failed = edit.body["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 3);
    assert!(failed.iter().all(|f| f["code"] == "not_found"));
    // Restoring takes ids; a filter can't reach the trash.
    let by_filter = bulk(
        &app,
        &ann,
        json!({"selection": {"filter": {"q": "rake"}, "expected_count": 1},
               "ops": {"restore": true}}),
    )
    .await;
    by_filter.assert_status(422);
    assert!(by_filter.body["error"]["details"]["filter"].is_string());

    let restore = json!({"selection": {"ids": ids}, "ops": {"restore": true}});
    let back = bulk(&app, &ann, restore.clone()).await;
    back.assert_status(200);
    assert_eq!(back.body["updated"], 3);
    let live = app
        .get(app.at(&ann, &format!("/items?location_id={shed}")), &ann)
        .await;
    assert_eq!(names(&live.body).len(), 3);
    assert_eq!(bulk(&app, &ann, restore).await.body["unchanged"], 3);
    let actions: Vec<String> = history(&app, &ann, &ids[0])
        .await
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(actions, vec!["restored", "deleted", "created"]);
    // Trash and restore go alone.
    let mixed = bulk(
        &app,
        &ann,
        json!({"selection": {"ids": ids}, "ops": {"trash": true, "set": {"brand": "X"}}}),
    )
    .await;
    mixed.assert_status(422);
    assert_eq!(item(&app, &ann, &ids[0]).await["version"], 3);
}

async fn make_items(app: &TestApp, who: &Person, names: &[&str], location: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for name in names {
        ids.push(
            app.create_item(who, json!({"name": name, "location_id": location}))
                .await
                .id(),
        );
    }
    ids
}

async fn viewers_and_read_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let id = app.create_item(&ann, json!({"name": "Lamp"})).await.id();
    let body = json!({"selection": {"ids": [id]}, "ops": {"add_tags": ["living room"]}});
    let viewer = join(&app, &ann, "Vic", "viewer").await;
    let refused = bulk(&app, &viewer, body.clone()).await;
    refused.assert_status(403);
    assert_eq!(refused.error_code(), "forbidden");

    let path = app.at(&ann, "/items/bulk");
    let (read, _) = make_token(&app, &ann, json!({"name": "Reader", "scope": "read"})).await;
    let refused = with_token(&app, Method::POST, &path, &read, Some(body.clone())).await;
    refused.assert_status(403);
    assert_eq!(item(&app, &ann, &id).await["version"], 1);

    // A write token may, and the history names it.
    let (write, _) = make_token(&app, &ann, json!({"name": "Script", "scope": "write"})).await;
    let done = with_token(&app, Method::POST, &path, &write, Some(body)).await;
    done.assert_status(200);
    assert_eq!(done.body["updated"], 1);
    assert_eq!(history(&app, &ann, &id).await[0]["via_token"], "Script");
}

async fn another_households_items_are_reported_and_left_alone(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let mine = app.create_item(&ann, json!({"name": "Kettle"})).await.id();
    let his = app.create_item(&bob, json!({"name": "Toaster"})).await.id();
    let unknown = ItemId::new().to_string();
    let done = bulk(
        &app,
        &ann,
        json!({"selection": {"ids": [mine, his, unknown]}, "ops": {"set": {"model": "K1"}}}),
    )
    .await;
    done.assert_status(200);
    assert_eq!(done.body["matched"], 3);
    assert_eq!(done.body["updated"], 1);
    let mut failed: Vec<(String, String)> = done.body["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    failed.sort();
    let mut expected = vec![
        (his.clone(), "not_found".into()),
        (unknown, "not_found".into()),
    ];
    expected.sort();
    assert_eq!(failed, expected);
    let toaster = item(&app, &bob, &his).await;
    assert_eq!(toaster["model"], Value::Null);
    assert_eq!(toaster["version"], 1);
    assert_eq!(history(&app, &bob, &his).await.len(), 1);
    assert_eq!(item(&app, &ann, &mine).await["model"], "K1");
    // Nor can Ann reach Bob's household at all.
    let outside = app
        .post(
            format!("/api/v1/households/{}/items/bulk", bob.household),
            &ann,
            json!({"selection": {"ids": [his]}, "ops": {"set": {"model": "K1"}}}),
        )
        .await;
    outside.assert_status(404);
}

async fn bad_values_are_refused_and_nothing_changes(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let bobs_room = app.create_location(&bob, "Bob's room", None).await;
    let id = app
        .create_item(&ann, json!({"name": "Chair", "notes": "oak"}))
        .await
        .id();
    let ids = json!({"ids": [id]});
    let cases = [
        (json!({"set": {"quantity": -1}}), "quantity"),
        (json!({"set": {"quantity": "many"}}), "quantity"),
        (
            json!({"set": {"purchase_price": {"amount_minor": 5, "currency": "EUR"}}}),
            "purchase_price",
        ),
        (json!({"set": {"brand": "x".repeat(201)}}), "brand"),
        (
            json!({"set": {"purchase_date": "2024-02-30"}}),
            "purchase_date",
        ),
        (json!({"set": {"name": "Stool"}}), "name"),
        (json!({"set": {"location_id": bobs_room}}), "location_id"),
        (json!({"clear": ["name"]}), "clear"),
        (
            json!({"set": {"notes": "pine"}, "clear": ["notes"]}),
            "notes",
        ),
        (json!({"add_tags": ["x".repeat(51)]}), "add_tags"),
        (json!({}), "ops"),
    ];
    for (ops, field) in cases {
        let refused = bulk(&app, &ann, json!({"selection": ids, "ops": ops})).await;
        refused.assert_status(422);
        assert_eq!(refused.error_code(), "validation_failed");
        assert!(
            refused.body["error"]["details"][field].is_string(),
            "{ops}: {}",
            refused.body
        );
    }
    let too_many: Vec<String> = (0..10_001).map(|_| ItemId::new().to_string()).collect();
    let selections = [
        (json!({"ids": too_many}), "ids"),
        (json!({}), "selection"),
        (
            json!({"ids": [id], "filter": {"q": "chair"}, "expected_count": 1}),
            "selection",
        ),
        (json!({"filter": {"q": "chair"}}), "expected_count"),
        (
            json!({"filter": {"location_id": bobs_room}, "expected_count": 0}),
            "location_id",
        ),
    ];
    for (selection, field) in selections {
        let refused = bulk(
            &app,
            &ann,
            json!({"selection": selection, "ops": {"set": {"brand": "Oak & Co"}}}),
        )
        .await;
        refused.assert_status(422);
        assert!(
            refused.body["error"]["details"][field].is_string(),
            "{field}: {}",
            refused.body
        );
    }
    let chair = item(&app, &ann, &id).await;
    assert_eq!(chair["version"], 1);
    assert_eq!(chair["notes"], "oak");
    assert_eq!(chair["brand"], Value::Null);
    assert_eq!(history(&app, &ann, &id).await.len(), 1);
}

async fn a_batch_writes_no_item_that_changed_since_it_was_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let a = app.create_item(&ann, json!({"name": "Desk"})).await.id();
    let b = app.create_item(&ann, json!({"name": "Chair"})).await.id();
    let household: HouseholdId = ann.household.parse().unwrap();
    let user: UserId = ann.user_id.parse().unwrap();
    let ids: Vec<ItemId> = [&a, &b].iter().map(|id| id.parse().unwrap()).collect();
    let read = app.store.items_by_ids(household, &ids).await.unwrap();
    // Someone edits the chair after the batch read it.
    app.patch(
        app.at(&ann, &format!("/items/{b}")),
        &ann,
        json!({"brand": "Hay"}),
    )
    .await
    .assert_status(200);
    let at = time::OffsetDateTime::now_utc();
    let updates: Vec<ItemUpdate> = read
        .into_iter()
        .map(|row| {
            let mut item = row.clone();
            item.fields.brand = Some("Ikea".into());
            item.version += 1;
            item.updated_at = at;
            let activity = ActivityRow::new(
                household,
                row.id,
                user,
                Action::Updated,
                vec!["brand".into()],
                at,
            );
            ItemUpdate {
                item,
                activity,
                old_tags: 0,
            }
        })
        .collect();
    let stale = app.store.update_items(&updates).await.unwrap();
    assert_eq!(stale, vec![ids[1]]);
    let desk = item(&app, &ann, &a).await;
    assert_eq!(
        (desk["brand"].as_str(), desk["version"].as_i64()),
        (Some("Ikea"), Some(2))
    );
    let chair = item(&app, &ann, &b).await;
    assert_eq!(
        (chair["brand"].as_str(), chair["version"].as_i64()),
        (Some("Hay"), Some(2))
    );
    assert_eq!(history(&app, &ann, &b).await.len(), 2);
    assert_eq!(history(&app, &ann, &a).await.len(), 2);
    // A batch larger than a transaction may write is refused whole.
    let too_many = vec![updates[0].clone(); api::store::BULK_BATCH_ITEMS + 1];
    assert!(app.store.update_items(&too_many).await.is_err());
}

async fn two_bulk_edits_of_the_same_items_at_once_both_land(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let shelf = app.create_location(&ann, "Shelf", None).await;
    let ids = seed(&app, &ann, 600, &shelf).await;
    let brand = json!({"selection": {"ids": ids}, "ops": {"set": {"brand": "Acme"}}});
    let tag = json!({"selection": {"ids": ids}, "ops": {"add_tags": ["checked"]}});
    let (a, b) = tokio::join!(bulk(&app, &ann, brand), bulk(&app, &ann, tag));
    for done in [&a, &b] {
        done.assert_status(200);
        assert_eq!(done.body["updated"], 600, "{}", done.body);
        assert_eq!(done.body["failed"], json!([]));
    }
    // Neither change overwrote the other.
    let both = app
        .get(app.at(&ann, "/items?tag=checked&q=acme&limit=200"), &ann)
        .await;
    assert_eq!(names(&both.body).len(), 200);
    let last = item(&app, &ann, &ids[599]).await;
    assert_eq!(last["brand"], "Acme");
    assert_eq!(last["tags"], json!(["checked", "storage"]));
    assert_eq!(last["version"], 3);
    assert_eq!(history(&app, &ann, &ids[599]).await.len(), 3);
}

//! The changes feed (`GET …/changes`): what the offline app sees when it keeps a local copy
//! of a household current.

use std::collections::{BTreeMap, BTreeSet};

use api::store::{ActivityRow, ItemRow};
use axum::http::Method;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use shared::{Action, HouseholdId, ItemFields, ItemId, UserId};
use time::{Duration, OffsetDateTime};

use crate::attachments::{Files, LIMIT, Place, png};
use crate::helpers::{Backend, Person, TestApp, spawn_app};
use crate::sharing::join;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    a_first_sync_pages_through_everything_exactly_once,
    items_come_as_the_item_endpoint_answers_them_with_thumbnails,
    a_caught_up_cursor_brings_exactly_what_changed_since,
    a_late_commit_within_the_overlap_is_still_returned,
    a_malformed_cursor_is_400,
    a_cursor_older_than_removals_are_kept_is_410,
    removals_older_than_the_retention_are_pruned,
    another_household_is_404,
    viewers_and_read_tokens_can_sync,
    limits_outside_1_to_1000_are_400,
);

fn changes(app: &TestApp, who: &Person, query: &str) -> String {
    app.at(who, &format!("/changes{query}"))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|v| match v {
            Value::String(id) => id.clone(),
            other => other["id"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// What a client keeps: each item's and location's last version seen.
#[derive(Default)]
struct Copy {
    items: BTreeMap<String, i64>,
    locations: BTreeMap<String, i64>,
}

/// What one answer told a client that it did not know: items and locations at a version it
/// did not have (with the answer's JSON), and the ids it dropped.
#[derive(Default, Debug)]
struct News {
    items: BTreeMap<String, Value>,
    locations: BTreeMap<String, Value>,
    removed_items: BTreeSet<String>,
    removed_locations: BTreeSet<String>,
}

impl Copy {
    /// Applies one page as the offline app does: what came replaces what is kept when its
    /// version is higher, then removals drop.
    fn apply(&mut self, page: &Value, news: &mut News) {
        for (list, kept, new) in [
            (&page["items"], &mut self.items, &mut news.items),
            (&page["locations"], &mut self.locations, &mut news.locations),
        ] {
            for row in list.as_array().unwrap() {
                let id = row["id"].as_str().unwrap().to_string();
                let version = row["version"].as_i64().unwrap();
                if kept.get(&id).is_none_or(|v| *v < version) {
                    kept.insert(id.clone(), version);
                    new.insert(id, row.clone());
                }
            }
        }
        for id in ids(&page["removed"]["items"]) {
            self.items.remove(&id);
            news.removed_items.insert(id);
        }
        for id in ids(&page["removed"]["locations"]) {
            self.locations.remove(&id);
            news.removed_locations.insert(id);
        }
    }

    /// Syncs from `since` until caught up; what was new, the pages, and the caught-up cursor.
    async fn sync(
        &mut self,
        app: &TestApp,
        who: &Person,
        since: Option<&str>,
        limit: usize,
    ) -> (News, Vec<Value>, String) {
        let mut news = News::default();
        let mut pages = Vec::new();
        let mut cursor = since.map(str::to_string);
        loop {
            let query = match &cursor {
                Some(c) => format!("?limit={limit}&since={c}"),
                None => format!("?limit={limit}"),
            };
            let page = app.get(changes(app, who, &query), who).await;
            page.assert_status(200);
            self.apply(&page.body, &mut news);
            cursor = Some(page.body["next_cursor"].as_str().unwrap().to_string());
            let more = page.body["more"].as_bool().unwrap();
            pages.push(page.body);
            assert!(pages.len() < 100, "the feed never caught up");
            if !more {
                return (news, pages, cursor.unwrap());
            }
        }
    }
}

async fn a_first_sync_pages_through_everything_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let shelf = app.create_location(&ann, "Shelf", Some(&garage)).await;
    let mut made = Vec::new();
    for n in 0..25 {
        let body = json!({"name": format!("Thing {n}"), "location_id": shelf});
        made.push(app.create_item(&ann, body).await.id());
    }
    // The trash comes along, marked as such.
    app.delete(app.at(&ann, &format!("/items/{}", made[3])), &ann)
        .await
        .assert_status(204);

    // 25 items and 2 locations, 10 changes a page: 10, 10, 7.
    let mut copy = Copy::default();
    let (news, pages, _) = copy.sync(&app, &ann, None, 10).await;
    let sizes: Vec<usize> = pages
        .iter()
        .map(|p| p["items"].as_array().unwrap().len() + p["locations"].as_array().unwrap().len())
        .collect();
    assert_eq!(sizes, [10, 10, 7]);
    let more: Vec<bool> = pages.iter().map(|p| p["more"].as_bool().unwrap()).collect();
    assert_eq!(more, [true, true, false]);
    let mut seen: Vec<String> = pages.iter().flat_map(|p| ids(&p["items"])).collect();
    assert_eq!(seen.len(), 25, "an item came twice or not at all");
    seen.sort();
    made.sort();
    assert_eq!(seen, made);
    let locations: Vec<String> = pages.iter().flat_map(|p| ids(&p["locations"])).collect();
    assert_eq!(locations.len(), 2);
    assert_eq!(
        news.locations.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([garage.clone(), shelf.clone()])
    );
    assert!(news.items[&made_id(&news, "Thing 3")]["deleted_at"].is_string());
    assert!(news.items[&made_id(&news, "Thing 4")]["deleted_at"].is_null());
    assert_eq!(
        news.locations[&shelf]["path"],
        json!(["Garage", "Shelf"]),
        "locations come as the list has them"
    );
    assert_eq!(news.locations[&shelf]["item_count"], 24);
    assert!(pages.iter().all(|p| ids(&p["removed"]["items"]).is_empty()));

    // One page when it all fits.
    let whole = app.get(changes(&app, &ann, ""), &ann).await;
    whole.assert_status(200);
    assert_eq!(whole.body["items"].as_array().unwrap().len(), 25);
    assert_eq!(whole.body["more"], false);
}

fn made_id(news: &News, name: &str) -> String {
    news.items
        .iter()
        .find(|(_, item)| item["name"] == name)
        .map(|(id, _)| id.clone())
        .unwrap_or_else(|| panic!("{name} was not synced"))
}

async fn items_come_as_the_item_endpoint_answers_them_with_thumbnails(backend: Backend) {
    let Some(files) = Files::start(backend, Place::Folder, LIMIT).await else {
        return;
    };
    let app = &files.app;
    let ann = app.register("Ann").await;
    let hall = app.create_location(&ann, "Hall", None).await;
    let lamp = app
        .create_item(
            &ann,
            json!({"name": "Lamp", "location_id": hall, "tags": ["light"],
                   "estimated_value": {"amount_minor": 4500, "currency": "USD"}}),
        )
        .await
        .id();
    files
        .attach(&ann, &lamp, "photo", "lamp.png", "image/png", png(64, 48))
        .await
        .assert_status(200);

    let page = app.get(changes(app, &ann, ""), &ann).await;
    page.assert_status(200);
    let synced = page.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == lamp.as_str())
        .unwrap()
        .clone();
    let one = app.get(app.at(&ann, &format!("/items/{lamp}")), &ann).await;
    assert!(synced["thumbnail_url"].is_string(), "{synced}");
    assert_eq!(
        synced, one.body,
        "the feed's item differs from GET …/items/{{id}}"
    );
    let (status, _) = files
        .download(synced["thumbnail_url"].as_str().unwrap())
        .await;
    assert_eq!(status, 200);
    let listed = app.get(app.at(&ann, "/locations"), &ann).await;
    assert_eq!(page.body["locations"], listed.body["items"]);
}

async fn a_caught_up_cursor_brings_exactly_what_changed_since(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let attic = app.create_location(&ann, "Attic", None).await;
    let mut item = Vec::new();
    for name in ["Edited", "Trashed", "Restored", "Purged", "Untouched"] {
        item.push(app.create_item(&ann, json!({"name": name})).await.id());
    }
    let [edited, trashed, restored, purged, untouched] = <[String; 5]>::try_from(item).unwrap();
    let at = |id: &str| app.at(&ann, &format!("/items/{id}"));
    // In the trash before the first sync: the copy has it, trashed.
    app.delete(at(&purged), &ann).await.assert_status(204);
    app.delete(at(&restored), &ann).await.assert_status(204);

    let mut copy = Copy::default();
    let (_, _, cursor) = copy.sync(&app, &ann, None, 500).await;
    assert_eq!(copy.items.len(), 5);

    let created = app.create_item(&ann, json!({"name": "Created"})).await.id();
    app.patch(at(&edited), &ann, json!({"notes": "new batteries"}))
        .await
        .assert_status(200);
    app.delete(at(&trashed), &ann).await.assert_status(204);
    app.post(format!("{}/restore", at(&restored)), &ann, json!({}))
        .await
        .assert_status(200);
    app.delete(app.at(&ann, &format!("/trash/{purged}")), &ann)
        .await
        .assert_status(204);
    app.delete(app.at(&ann, &format!("/locations/{attic}")), &ann)
        .await
        .assert_status(204);
    // Another household's changes are not this one's.
    app.create_item(&bob, json!({"name": "Bob's"})).await;

    let (news, pages, _) = copy.sync(&app, &ann, Some(&cursor), 500).await;
    assert_eq!(pages.len(), 1);
    assert_eq!(
        news.items.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([
            created.clone(),
            edited.clone(),
            trashed.clone(),
            restored.clone()
        ]),
        "{news:?}"
    );
    assert_eq!(news.items[&edited]["notes"], "new batteries");
    assert_eq!(news.items[&edited]["version"], 2);
    assert!(news.items[&trashed]["deleted_at"].is_string());
    assert!(news.items[&restored]["deleted_at"].is_null());
    assert_eq!(news.items[&created]["version"], 1);
    assert_eq!(news.removed_items, BTreeSet::from([purged.clone()]));
    assert_eq!(news.removed_locations, BTreeSet::from([attic.clone()]));
    assert!(news.locations.is_empty());
    assert_eq!(copy.items.len(), 5);
    assert!(!copy.items.contains_key(&purged));
    assert!(copy.locations.is_empty());

    // Nothing new since: nothing new again (the overlap only repeats what the copy has).
    let (_, _, again) = copy.sync(&app, &ann, Some(&cursor), 500).await;
    let (quiet, _, again) = copy.sync(&app, &ann, Some(&again), 500).await;
    assert!(
        quiet.items.is_empty() && quiet.locations.is_empty(),
        "{quiet:?}"
    );

    // Emptying the trash removes what it held.
    app.delete(at(&untouched), &ann).await.assert_status(204);
    app.delete(app.at(&ann, "/trash"), &ann)
        .await
        .assert_status(204);
    let (emptied, _, _) = copy.sync(&app, &ann, Some(&again), 500).await;
    assert!(emptied.removed_items.contains(&untouched), "{emptied:?}");
    assert!(emptied.removed_items.contains(&trashed), "{emptied:?}");
    assert_eq!(copy.items.len(), 3);
}

/// An item written as a PostgreSQL or DSQL transaction can commit: stamped before the
/// newest change a sync has seen, committed after it.
async fn write_late(app: &TestApp, who: &Person, name: &str, stamped: OffsetDateTime) -> String {
    let household: HouseholdId = who.household.parse().unwrap();
    let row = ItemRow {
        id: ItemId::new(),
        household_id: household,
        fields: ItemFields {
            name: name.into(),
            quantity: 1,
            ..Default::default()
        },
        version: 1,
        created_at: stamped,
        updated_at: stamped,
        deleted_at: None,
    };
    let user: UserId = who.user_id.parse().unwrap();
    let activity = ActivityRow::new(household, row.id, user, Action::Created, vec![], stamped);
    app.store.insert_item(&row, &activity).await.unwrap();
    row.id.to_string()
}

fn time_of(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        value.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

async fn a_late_commit_within_the_overlap_is_still_returned(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for name in ["Kettle", "Toaster"] {
        app.create_item(&ann, json!({"name": name})).await;
    }
    let mut copy = Copy::default();
    let (first, _, cursor) = copy.sync(&app, &ann, None, 500).await;
    let newest = first
        .items
        .values()
        .map(|i| time_of(&i["updated_at"]))
        .max()
        .unwrap();

    let late = write_late(&app, &ann, "Late", newest - Duration::seconds(30)).await;
    // Stamped before the overlap: no write takes that long to commit, and the feed does
    // not read that far back.
    let ancient = write_late(&app, &ann, "Ancient", newest - Duration::minutes(5)).await;

    let (news, _, _) = copy.sync(&app, &ann, Some(&cursor), 500).await;
    assert!(news.items.contains_key(&late), "{news:?}");
    assert!(!news.items.contains_key(&ancient), "{news:?}");
    assert_eq!(news.items.len(), 1, "{news:?}");
}

async fn a_malformed_cursor_is_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    for name in ["Kettle", "Toaster"] {
        app.create_item(&ann, json!({"name": name})).await;
    }
    // The item list's cursor is another list's.
    let list = app.get(app.at(&ann, "/items?limit=1"), &ann).await;
    let list_cursor = list.body["next_cursor"].as_str().unwrap().to_string();
    let bobs = app.get(changes(&app, &bob, ""), &bob).await;
    let bobs_cursor = bobs.body["next_cursor"].as_str().unwrap().to_string();
    let unknown_field = URL_SAFE_NO_PAD.encode(br#"{"v":1,"x":2}"#);
    for since in [
        "garbage!".to_string(),
        "e30".to_string(), // {}
        unknown_field,
        list_cursor,
        bobs_cursor,
    ] {
        let response = app
            .get(changes(&app, &ann, &format!("?since={since}")), &ann)
            .await;
        response.assert_status(400);
        assert_eq!(response.error_code(), "bad_request", "{since}");
        assert!(
            response.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("from scratch"),
            "{}",
            response.body
        );
    }
}

/// The cursor with its removals position moved `age` into the past: a client that last
/// synced that long ago.
fn aged(cursor: &str, age: Duration) -> String {
    let mut wire: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor).unwrap()).unwrap();
    let then = OffsetDateTime::now_utc() - age;
    wire["r"][0] = json!((then.unix_timestamp_nanos() / 1_000) as i64);
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap())
}

async fn a_cursor_older_than_removals_are_kept_is_410(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(&ann, json!({"name": "Kettle"})).await;
    let first = app.get(changes(&app, &ann, ""), &ann).await;
    let cursor = first.body["next_cursor"].as_str().unwrap();

    let recent = aged(cursor, Duration::days(89));
    app.get(changes(&app, &ann, &format!("?since={recent}")), &ann)
        .await
        .assert_status(200);
    let old = aged(cursor, Duration::days(91));
    let gone = app
        .get(changes(&app, &ann, &format!("?since={old}")), &ann)
        .await;
    gone.assert_status(410);
    assert_eq!(gone.error_code(), "resync_required");
    assert!(
        gone.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("from scratch"),
        "{}",
        gone.body
    );
    // Starting again works.
    app.get(changes(&app, &ann, ""), &ann)
        .await
        .assert_status(200);
}

async fn removals_older_than_the_retention_are_pruned(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let household: HouseholdId = ann.household.parse().unwrap();
    for name in ["Hall", "Porch", "Shed"] {
        let id = app.create_location(&ann, name, None).await;
        app.delete(app.at(&ann, &format!("/locations/{id}")), &ann)
            .await
            .assert_status(204);
    }
    let start = api::store::RemovalKey {
        at: OffsetDateTime::now_utc() - Duration::hours(1),
        kind: String::new(),
        id: uuid::Uuid::nil(),
    };
    assert_eq!(
        app.store
            .removals(household, &start, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    // 91 days later, the next deletion prunes what the feed no longer promises, a chunk
    // at a time.
    let later = OffsetDateTime::now_utc() + Duration::seconds(1);
    assert_eq!(
        app.store.prune_removals(household, later, 2).await.unwrap(),
        2
    );
    assert_eq!(
        app.store.prune_removals(household, later, 2).await.unwrap(),
        1
    );
    assert_eq!(
        app.store.prune_removals(household, later, 2).await.unwrap(),
        0
    );
    assert!(
        app.store
            .removals(household, &start, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn another_household_is_404(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    app.create_item(&ann, json!({"name": "Kettle"})).await;
    let response = app.get(changes(&app, &ann, ""), &bob).await;
    response.assert_status(404);
    assert_eq!(response.error_code(), "not_found");
    // A token limited to Bob's household sees Ann's as nothing either.
    let (token, _) = make_token(
        &app,
        &bob,
        json!({"name": "Bob's", "scope": "read", "household_id": bob.household}),
    )
    .await;
    with_token(&app, Method::GET, &changes(&app, &ann, ""), &token, None)
        .await
        .assert_status(404);
    // Without credentials: 401.
    app.request(Method::GET, &changes(&app, &ann, ""), None, None, &[])
        .await
        .assert_status(401);
}

async fn viewers_and_read_tokens_can_sync(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let kettle = app.create_item(&ann, json!({"name": "Kettle"})).await.id();
    let viewer = join(&app, &ann, "Vi", "viewer").await;
    let seen = app.get(changes(&app, &viewer, ""), &viewer).await;
    seen.assert_status(200);
    assert_eq!(ids(&seen.body["items"]), std::slice::from_ref(&kettle));

    let (token, _) = make_token(&app, &ann, json!({"name": "Sync", "scope": "read"})).await;
    let read = with_token(&app, Method::GET, &changes(&app, &ann, ""), &token, None).await;
    read.assert_status(200);
    assert_eq!(ids(&read.body["items"]), [kettle]);
    let next = read.body["next_cursor"].as_str().unwrap();
    with_token(
        &app,
        Method::GET,
        &changes(&app, &ann, &format!("?since={next}")),
        &token,
        None,
    )
    .await
    .assert_status(200);
}

async fn limits_outside_1_to_1000_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for limit in ["0", "1001", "-1", "ten", "2.5"] {
        let response = app
            .get(changes(&app, &ann, &format!("?limit={limit}")), &ann)
            .await;
        response.assert_status(400);
        assert_eq!(response.error_code(), "bad_request", "limit={limit}");
    }
    for limit in ["1", "1000"] {
        app.get(changes(&app, &ann, &format!("?limit={limit}")), &ann)
            .await
            .assert_status(200);
    }
}

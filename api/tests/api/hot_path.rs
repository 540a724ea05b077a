//! The hot path: a simple request asks the database once (an edit twice), whatever the
//! database, and what this process keeps to manage that (sessions, tokens, memberships,
//! location trees; `api::access`) never outlives a change: at once in the process that
//! made it, within `FRESH_FOR` in any other process over the same database.

use std::time::{Duration, Instant};

use api::access::FRESH_FOR;
use serde_json::json;

use crate::helpers::{Backend, Person, TestApp, TestDb, spawn_app};
use crate::sharing::join;

crate::on_every_backend!(
    simple_requests_ask_the_database_once,
    a_process_that_kept_nothing_asks_twice,
    a_sign_out_elsewhere_is_honoured_within_the_bound,
    a_removed_member_is_refused_elsewhere_within_the_bound,
    a_location_made_elsewhere_can_be_used_at_once,
    a_renamed_location_shows_elsewhere_within_the_bound,
);

/// Round trips to the database that `request` cost.
async fn trips<F: Future<Output = u16>>(app: &TestApp, request: F) -> u64 {
    let before = app.store.round_trips();
    let status = request.await;
    assert!(status < 300, "the request failed: {status}");
    app.store.round_trips() - before
}

/// A second server process over `app`'s database, with its own memory.
async fn second_process(app: &TestApp) -> TestApp {
    let shared = TestDb::shared(app);
    let store = shared.store().await;
    TestApp::on(shared, store, |_| {})
}

async fn simple_requests_ask_the_database_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let shelf = app.create_location(&ann, "Shelf", None).await;
    let lamp = app
        .create_item(&ann, json!({"name": "Brass lamp", "location_id": shelf}))
        .await
        .id();
    let item = app.at(&ann, &format!("/items/{lamp}"));
    let list = app.at(&ann, "/items?limit=50");
    let search = app.at(&ann, "/items?q=brass");
    // The first of each kind reads what later ones find kept (and loads the search index).
    for path in [&item, &list, &search] {
        app.get(path.as_str(), &ann).await.assert_status(200);
    }

    let get = trips(&app, async {
        app.get(item.as_str(), &ann).await.status.as_u16()
    })
    .await;
    assert_eq!(get, 1, "getting an item");
    let page = trips(&app, async {
        app.get(list.as_str(), &ann).await.status.as_u16()
    })
    .await;
    assert_eq!(page, 1, "listing a page");
    let found = trips(&app, async {
        let answer = app.get(search.as_str(), &ann).await;
        assert_eq!(answer.body["items"][0]["location_path"], json!(["Shelf"]));
        answer.status.as_u16()
    })
    .await;
    assert_eq!(found, 1, "searching");
    let edit = trips(&app, async {
        let answer = app
            .patch(item.as_str(), &ann, json!({"notes": "on the left"}))
            .await;
        assert_eq!(answer.body["location_path"], json!(["Shelf"]));
        answer.status.as_u16()
    })
    .await;
    assert_eq!(edit, 2, "editing: the item read, then written");
    let create = trips(&app, async {
        app.create_item(&ann, json!({"name": "Kettle", "location_id": shelf}))
            .await
            .status
            .as_u16()
    })
    .await;
    assert_eq!(create, 1, "creating an item");
    // A search after this process's own writes: they are in its index already, and the
    // refresh sees only their ids and times.
    let after = trips(&app, async {
        let answer = app.get(app.at(&ann, "/items?q=kettle"), &ann).await;
        assert_eq!(answer.body["items"][0]["name"], "Kettle");
        answer.status.as_u16()
    })
    .await;
    assert_eq!(after, 1, "a search after this process's writes");
    // After another process's write, one trip more reads what it changed.
    let other = second_process(&app).await;
    other
        .patch(item.as_str(), &ann, json!({"name": "Copper lamp"}))
        .await
        .assert_status(200);
    let foreign = trips(&app, async {
        let answer = app.get(app.at(&ann, "/items?q=copper"), &ann).await;
        assert_eq!(answer.body["items"][0]["name"], "Copper lamp");
        answer.status.as_u16()
    })
    .await;
    assert_eq!(foreign, 2, "a search after another process's write");
    let again = trips(&app, async {
        let answer = app.get(app.at(&ann, "/items?q=brass"), &ann).await;
        assert_eq!(answer.body["items"], json!([]));
        answer.status.as_u16()
    })
    .await;
    assert_eq!(again, 1, "the next search");
}

async fn a_process_that_kept_nothing_asks_twice(backend: Backend) {
    let first = spawn_app(backend).await;
    let ann = first.register("Ann").await;
    let lamp = first.create_item(&ann, json!({"name": "Lamp"})).await.id();
    // Ann also belongs to Bob's household.
    let bob = first.register("Bob").await;
    let ann_at_bob = crate::sharing::join_as(&first, &bob, &ann, "viewer").await;
    first
        .get(first.at(&bob, "/items"), &bob)
        .await
        .assert_status(200);

    let cold = second_process(&first).await;
    let item = cold.at(&ann, &format!("/items/{lamp}"));
    // The session and every household Ann belongs to in one trip, the item in another.
    let get = trips(&cold, async {
        let answer = cold.get(item.as_str(), &ann).await;
        assert_eq!(answer.body["name"], "Lamp");
        answer.status.as_u16()
    })
    .await;
    assert_eq!(get, 3, "who asks, the location tree, the item");
    // Bob's household was learnt with the session: listing it asks only for its items
    // and its tree.
    let other = trips(&cold, async {
        cold.get(cold.at(&ann_at_bob, "/items"), &ann_at_bob)
            .await
            .status
            .as_u16()
    })
    .await;
    assert_eq!(other, 2, "the tree and the page");
}

/// Polls `still` until it is false; how long that took. Fails after twice the bound.
async fn until_not(mut still: impl AsyncFnMut() -> bool) -> Duration {
    let started = Instant::now();
    while still().await {
        assert!(
            started.elapsed() < FRESH_FOR * 2,
            "still not seen after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    started.elapsed()
}

fn assert_within_bound(took: Duration) {
    assert!(
        took <= FRESH_FOR + Duration::from_secs(1),
        "took {took:?}, more than the {FRESH_FOR:?} promised"
    );
}

async fn a_sign_out_elsewhere_is_honoured_within_the_bound(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = second_process(&first).await;
    let ann = first.register("Ann").await;
    let items = first.at(&ann, "/items");
    second.get(items.as_str(), &ann).await.assert_status(200);
    first.get(items.as_str(), &ann).await.assert_status(200);

    first
        .post("/api/v1/auth/logout", &ann, json!({}))
        .await
        .assert_status(204);
    // The process that signed out refuses the session at once…
    first.get(items.as_str(), &ann).await.assert_status(401);
    // …and the other one within the bound.
    let took = until_not(async || second.get(items.as_str(), &ann).await.status == 200).await;
    assert_within_bound(took);
    second.get(items.as_str(), &ann).await.assert_status(401);
}

async fn a_removed_member_is_refused_elsewhere_within_the_bound(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = second_process(&first).await;
    let ann = first.register("Ann").await;
    let bob: Person = join(&first, &ann, "Bob", "editor").await;
    let items = first.at(&bob, "/items");
    second.get(items.as_str(), &bob).await.assert_status(200);
    first.get(items.as_str(), &bob).await.assert_status(200);

    first
        .delete(
            format!(
                "/api/v1/households/{}/members/{}",
                ann.household, bob.user_id
            ),
            &ann,
        )
        .await
        .assert_status(204);
    first.get(items.as_str(), &bob).await.assert_status(404);
    let took = until_not(async || second.get(items.as_str(), &bob).await.status == 200).await;
    assert_within_bound(took);
    // Nor write there.
    second
        .post(items.as_str(), &bob, json!({"name": "Bob's"}))
        .await
        .assert_status(404);
}

async fn a_location_made_elsewhere_can_be_used_at_once(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = second_process(&first).await;
    let ann = first.register("Ann").await;
    // The second process reads (and keeps) the tree, then the first adds a location.
    second
        .get(first.at(&ann, "/items"), &ann)
        .await
        .assert_status(200);
    let attic = first.create_location(&ann, "Attic", None).await;

    let made = second
        .create_item(&ann, json!({"name": "Trunk", "location_id": attic}))
        .await;
    made.assert_status(201);
    assert_eq!(made.body["location_path"], json!(["Attic"]));
    let listed = second
        .get(first.at(&ann, &format!("/items?location_id={attic}")), &ann)
        .await;
    listed.assert_status(200);
    assert_eq!(listed.body["items"][0]["name"], "Trunk");
    // A location that exists nowhere is still refused.
    let stray = uuid::Uuid::now_v7();
    second
        .post(
            first.at(&ann, "/items"),
            &ann,
            json!({"name": "Ghost", "location_id": stray}),
        )
        .await
        .assert_status(422);
}

async fn a_renamed_location_shows_elsewhere_within_the_bound(backend: Backend) {
    let first = spawn_app(backend).await;
    let second = second_process(&first).await;
    let ann = first.register("Ann").await;
    let attic = first.create_location(&ann, "Attic", None).await;
    let trunk = first
        .create_item(&ann, json!({"name": "Trunk", "location_id": attic}))
        .await
        .id();
    let item = first.at(&ann, &format!("/items/{trunk}"));
    let path_in =
        async |app: &TestApp| app.get(item.as_str(), &ann).await.body["location_path"].clone();
    assert_eq!(path_in(&second).await, json!(["Attic"]));

    first
        .patch(
            first.at(&ann, &format!("/locations/{attic}")),
            &ann,
            json!({"name": "Loft"}),
        )
        .await
        .assert_status(200);
    // At once where it was renamed, within the bound elsewhere.
    assert_eq!(path_in(&first).await, json!(["Loft"]));
    let took = until_not(async || path_in(&second).await == json!(["Attic"])).await;
    assert_within_bound(took);
}

//! Concurrent changes to the location tree: the checks that keep it a tree run inside the
//! write, on the data as it stands, so requests racing each other can't both pass on what
//! they read before.

use std::collections::HashMap;
use std::sync::Arc;

use api::store::{LocationRow, StoreError};
use serde_json::{Value, json};
use shared::{HouseholdId, LocationId};

use crate::helpers::{Backend, Person, TestApp, TestDb, TestResponse, spawn_app};

crate::on_every_backend!(
    opposite_moves_at_once_never_make_a_cycle,
    creating_inside_a_location_while_it_is_deleted_leaves_no_orphan,
    the_store_itself_refuses_a_cycle_and_a_missing_parent,
);

const ROUNDS: usize = 20;

/// Sends both requests at once, on two tasks.
async fn both(
    first: impl Future<Output = TestResponse> + Send + 'static,
    second: impl Future<Output = TestResponse> + Send + 'static,
) -> (TestResponse, TestResponse) {
    let (first, second) = tokio::join!(tokio::spawn(first), tokio::spawn(second));
    (first.unwrap(), second.unwrap())
}

/// Every location's parent, from the list.
async fn parents(app: &TestApp, who: &Person) -> HashMap<String, Option<String>> {
    let list = app.get(app.at(who, "/locations"), who).await;
    list.assert_status(200);
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["id"].as_str().unwrap().to_string(),
                l["parent_id"].as_str().map(String::from),
            )
        })
        .collect()
}

/// Panics unless following parents from every location reaches a root, through locations
/// that exist.
fn assert_a_tree(parents: &HashMap<String, Option<String>>) {
    for start in parents.keys() {
        let mut at = start;
        let mut steps = 0;
        while let Some(parent) = &parents[at] {
            assert!(
                parents.contains_key(parent),
                "{at} hangs under {parent}, which is gone"
            );
            steps += 1;
            assert!(steps <= parents.len(), "{start} is in a cycle");
            at = parent;
        }
    }
}

async fn opposite_moves_at_once_never_make_a_cycle(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let ann = app.register("Ann").await;
    let mut pairs = Vec::new();
    for round in 0..ROUNDS {
        let a = app.create_location(&ann, &format!("A{round}"), None).await;
        let b = app.create_location(&ann, &format!("B{round}"), None).await;
        let move_to = |id: &str, parent: &str| {
            let (app, ann) = (app.clone(), ann.clone());
            let path = app.at(&ann, &format!("/locations/{id}"));
            let body = json!({ "parent_id": parent });
            async move { app.patch(path, &ann, body).await }
        };
        let (a_under_b, b_under_a) = both(move_to(&a, &b), move_to(&b, &a)).await;
        let mut statuses = [a_under_b.status.as_u16(), b_under_a.status.as_u16()];
        statuses.sort();
        assert_eq!(
            statuses,
            [200, 422],
            "round {round}: {} / {}",
            a_under_b.body,
            b_under_a.body
        );
        let refused = if a_under_b.status == 422 {
            &a_under_b
        } else {
            &b_under_a
        };
        assert_eq!(refused.error_code(), "validation_failed");
        assert_eq!(
            refused.body["error"]["details"]["parent_id"],
            "would put the location inside itself"
        );
        pairs.push((a, b));
    }
    let stored = parents(&app, &ann).await;
    assert_eq!(stored.len(), 2 * ROUNDS);
    assert_a_tree(&stored);

    // The server still answers, and moves still work. Before the check ran inside the
    // write, some rounds stored a cycle (A under B under A), and moving a location of such
    // a cycle under another made `depth_below` recurse until the stack overflowed: the
    // whole process aborted, with every household it served.
    let shelf = app.create_location(&ann, "Shelf", None).await;
    for (a, _) in &pairs {
        app.patch(
            app.at(&ann, &format!("/locations/{a}")),
            &ann,
            json!({ "parent_id": shelf }),
        )
        .await
        .assert_status(200);
    }
    assert_a_tree(&parents(&app, &ann).await);
}

async fn creating_inside_a_location_while_it_is_deleted_leaves_no_orphan(backend: Backend) {
    let app = Arc::new(spawn_app(backend).await);
    let ann = app.register("Ann").await;
    let (mut created, mut deleted) = (0, 0);
    for round in 0..ROUNDS {
        let shelf = app
            .create_location(&ann, &format!("Shelf {round}"), None)
            .await;
        let create = {
            let (app, ann) = (app.clone(), ann.clone());
            let body = json!({ "name": format!("Box {round}"), "parent_id": shelf });
            async move { app.post(app.at(&ann, "/locations"), &ann, body).await }
        };
        let delete = {
            let (app, ann) = (app.clone(), ann.clone());
            let path = app.at(&ann, &format!("/locations/{shelf}"));
            async move { app.delete(path, &ann).await }
        };
        let (create, delete) = both(create, delete).await;
        match (create.status.as_u16(), delete.status.as_u16()) {
            // The box came first: the shelf is not empty.
            (201, 409) => created += 1,
            // The shelf went first: the box has nowhere to go.
            (422, 204) => {
                assert_eq!(
                    create.body["error"]["details"]["parent_id"],
                    Value::from("is not a location of this household")
                );
                deleted += 1;
            }
            other => panic!(
                "round {round}: {other:?}: {} / {}",
                create.body, delete.body
            ),
        }
    }
    assert_eq!(created + deleted, ROUNDS);
    assert_a_tree(&parents(&app, &ann).await);
}

/// What a caller that checked against an old snapshot would send: the store refuses it
/// on the data it holds.
async fn the_store_itself_refuses_a_cycle_and_a_missing_parent(backend: Backend) {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    let household = HouseholdId::new();
    let row = |name: &str, parent: Option<LocationId>| {
        let at = time::OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap();
        LocationRow {
            id: LocationId::new(),
            household_id: household,
            parent_id: parent,
            name: name.into(),
            description: None,
            asset_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    };
    let a = row("A", None);
    store.insert_location(&a).await.unwrap();
    let b = row("B", Some(a.id));
    store.insert_location(&b).await.unwrap();
    let a_under_b = LocationRow {
        parent_id: Some(b.id),
        version: 2,
        ..a.clone()
    };
    match store.update_location(&a_under_b, 1).await {
        Err(StoreError::Invalid { field, message }) => {
            assert_eq!(field, "parent_id");
            assert_eq!(message, "would put the location inside itself");
        }
        other => panic!("{other:?}"),
    }
    let nowhere = row("C", Some(LocationId::new()));
    assert!(matches!(
        store.insert_location(&nowhere).await,
        Err(StoreError::Invalid {
            field: "parent_id",
            ..
        })
    ));
    // A rename keeps its parent and passes; nothing else changed.
    let renamed = LocationRow {
        name: "B2".into(),
        version: 2,
        ..b.clone()
    };
    store.update_location(&renamed, 1).await.unwrap();
    let stored = store.locations(household).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert!(stored.iter().any(|l| l.id == a.id && l.parent_id.is_none()));
}

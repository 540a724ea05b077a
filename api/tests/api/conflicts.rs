//! Write transactions that collide are retried, as Aurora DSQL's optimistic concurrency
//! requires: proven against PostgreSQL at the same isolation level, with real
//! serialization failures, and nothing lost or doubled.

use std::sync::Arc;

use api::store::DynStore;
use api::store::postgres::PgStore;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, TestDb, postgres_available};

const FIELDS: [&str; 8] = [
    "brand",
    "model",
    "serial_number",
    "barcode",
    "purchased_from",
    "notes",
    "description",
    "name",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_edits_of_one_item_all_land_after_conflict_retries() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let pg = Arc::new(PgStore::connect(&db.url).await.unwrap());
    pg.migrate().await.unwrap();
    let store: DynStore = pg.clone();
    let app = Arc::new(TestApp::on(db, store, |_| {}));
    let ann = app.register("Ann").await;

    for round in 0..5 {
        let id = app
            .create_item(&ann, json!({"name": format!("Round {round}")}))
            .await
            .id();
        let path = app.at(&ann, &format!("/items/{id}"));
        // Every edit changes a different field, without If-Match: all of them must land.
        let edits = FIELDS.iter().map(|field| {
            let (app, ann, path) = (app.clone(), ann.clone(), path.clone());
            tokio::spawn(async move {
                app.patch(path, &ann, json!({ *field: format!("{field} {round}") }))
                    .await
            })
        });
        for edit in futures_join(edits.collect()).await {
            edit.assert_status(200);
        }
        let item = app.get(path.clone(), &ann).await.body;
        for field in FIELDS {
            assert_eq!(
                item[field],
                Value::from(format!("{field} {round}")),
                "{field} was lost"
            );
        }
        assert_eq!(item["version"], 1 + FIELDS.len() as i64);
        let history = app.get(format!("{path}/history"), &ann).await.body;
        assert_eq!(history["items"].as_array().unwrap().len(), 1 + FIELDS.len());
        if pg.conflict_retries() > 0 {
            return;
        }
    }
    panic!("no write ever collided, so no retry was exercised");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_of_the_same_creates_make_each_item_once() {
    if !postgres_available().await {
        return;
    }
    let db = TestDb::new(Backend::Postgres).await;
    let store = db.store().await;
    let app = Arc::new(TestApp::on(db, store, |_| {}));
    let ann = app.register("Ann").await;
    let ids: Vec<String> = (0..10).map(|_| uuid::Uuid::now_v7().to_string()).collect();
    let sends = ids.iter().flat_map(|id| {
        (0..3).map({
            let (app, ann) = (app.clone(), ann.clone());
            move |_| {
                let (app, ann, id) = (app.clone(), ann.clone(), id.clone());
                tokio::spawn(async move {
                    app.post(
                        app.at(&ann, "/items"),
                        &ann,
                        json!({"id": id, "name": format!("Box {id}")}),
                    )
                    .await
                })
            }
        })
    });
    let responses = futures_join(sends.collect()).await;
    let created = responses
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .count();
    let repeated = responses
        .iter()
        .filter(|r| r.status.as_u16() == 200)
        .count();
    assert_eq!((created, repeated), (10, 20));
    let list = app.get(app.at(&ann, "/items?limit=200"), &ann).await.body;
    let mut listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    listed.sort();
    let mut expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    expected.sort();
    assert_eq!(listed, expected);
}

async fn futures_join<T: Send + 'static>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.expect("the task finished"));
    }
    out
}

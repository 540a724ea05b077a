//! Search answers from an in-memory index; these tests prove it never shows stale data,
//! even when another server process (another Lambda) changed the items.

use serde_json::json;

use crate::helpers::{Backend, TestApp, names, spawn_app};

crate::on_every_backend!(
    a_second_server_sees_every_change_the_first_made,
    search_pages_by_cursor_in_every_order,
    search_combines_with_location_and_tag_filters,
);

async fn a_second_server_sees_every_change_the_first_made(backend: Backend) {
    let first = spawn_app(backend).await;
    let ann = first.register("Ann").await;
    // Another process over the same database, with its own index.
    let shared = crate::helpers::TestDb::shared(&first);
    let store = shared.store().await;
    let second = TestApp::on(shared, store, |_| {});
    let id = first
        .create_item(&ann, json!({"name": "Brass lantern"}))
        .await
        .id();
    assert_eq!(
        search(&second, &ann, "lantern").await,
        vec!["Brass lantern"]
    );
    // A rename is seen by the other server's next search.
    first
        .patch(
            first.at(&ann, &format!("/items/{id}")),
            &ann,
            json!({"name": "Copper lantern"}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        search(&second, &ann, "copper").await,
        vec!["Copper lantern"]
    );
    assert!(search(&second, &ann, "brass").await.is_empty());
    // Trashed, restored, purged.
    first
        .delete(first.at(&ann, &format!("/items/{id}")), &ann)
        .await
        .assert_status(204);
    assert!(search(&second, &ann, "lantern").await.is_empty());
    first
        .post(
            first.at(&ann, &format!("/items/{id}/restore")),
            &ann,
            json!({}),
        )
        .await
        .assert_status(200);
    assert_eq!(
        search(&second, &ann, "lantern").await,
        vec!["Copper lantern"]
    );
    first
        .delete(first.at(&ann, &format!("/items/{id}")), &ann)
        .await
        .assert_status(204);
    first
        .delete(first.at(&ann, "/trash"), &ann)
        .await
        .assert_status(204);
    assert!(search(&second, &ann, "lantern").await.is_empty());
    assert!(search(&first, &ann, "lantern").await.is_empty());
}

async fn search_pages_by_cursor_in_every_order(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for i in 0..11 {
        app.create_item(
            &ann,
            json!({"name": format!("Jar {i:02}"), "notes": "pantry"}),
        )
        .await;
    }
    app.create_item(&ann, json!({"name": "Broom"})).await;
    for sort in ["newest", "oldest", "name", "updated"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = format!("/items?q=PANTRY&limit=4&sort={sort}");
            if let Some(c) = &cursor {
                query.push_str(&format!("&cursor={c}"));
            }
            let page = app.get(app.at(&ann, &query), &ann).await;
            page.assert_status(200);
            seen.extend(names(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
        }
        let mut expected: Vec<String> = (0..11).map(|i| format!("Jar {i:02}")).collect();
        if sort == "newest" || sort == "updated" {
            expected.reverse();
        }
        assert_eq!(seen, expected, "{sort}");
    }
}

async fn search_combines_with_location_and_tag_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let attic = app.create_location(&ann, "Attic", Some(&house)).await;
    app.create_item(
        &ann,
        json!({"name": "Red lamp", "location_id": attic, "tags": ["Light"]}),
    )
    .await;
    app.create_item(&ann, json!({"name": "Blue lamp", "location_id": house}))
        .await;
    app.create_item(&ann, json!({"name": "Green lamp", "tags": ["light"]}))
        .await;
    let list = |query: String| app.get(app.at(&ann, &format!("/items?q=lamp&{query}")), &ann);
    let mut in_house = names(&list(format!("location_id={house}")).await.body);
    in_house.sort();
    assert_eq!(in_house, vec!["Blue lamp", "Red lamp"]);
    let mut lit = names(&list("tag=LIGHT".into()).await.body);
    lit.sort();
    assert_eq!(lit, vec!["Green lamp", "Red lamp"]);
    assert_eq!(
        names(&list("location_id=none".into()).await.body),
        vec!["Green lamp"]
    );
    assert_eq!(
        names(&list(format!("tag=light&location_id={attic}")).await.body),
        vec!["Red lamp"]
    );
}

async fn search(app: &TestApp, who: &crate::helpers::Person, q: &str) -> Vec<String> {
    names(
        &app.get(app.at(who, &format!("/items?q={q}")), who)
            .await
            .body,
    )
}

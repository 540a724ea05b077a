use serde_json::json;

use crate::helpers::{Backend, spawn_app};

crate::on_every_backend!(
    locations_form_a_tree_with_paths_and_item_counts,
    a_location_cannot_move_inside_itself,
    a_location_that_holds_things_cannot_be_deleted,
    creating_a_location_with_the_same_id_twice_makes_one,
    location_edits_use_the_version,
);

async fn locations_form_a_tree_with_paths_and_item_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let garage = app.create_location(&ann, "Garage", Some(&house)).await;
    let shelf = app.create_location(&ann, "Shelf 2", Some(&garage)).await;
    app.create_item(&ann, json!({"name": "Drill", "location_id": shelf}))
        .await;
    app.create_item(&ann, json!({"name": "Saw", "location_id": shelf}))
        .await;
    let one = app
        .get(&app.at(&ann, &format!("/locations/{shelf}")), &ann)
        .await;
    one.assert_status(200);
    assert_eq!(one.body["path"], json!(["House", "Garage", "Shelf 2"]));
    assert_eq!(one.body["item_count"], 2);
    assert_eq!(one.body["parent_id"], json!(garage));
    assert_eq!(one.etag(), "\"1\"");
    let all = app.get(&app.at(&ann, "/locations"), &ann).await;
    let paths: Vec<String> = all.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            l["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(" › ")
        })
        .collect();
    assert_eq!(
        paths,
        vec!["House", "House › Garage", "House › Garage › Shelf 2"]
    );
    // Renaming a parent renames every path below it.
    app.patch(
        &app.at(&ann, &format!("/locations/{garage}")),
        &ann,
        json!({"name": "Workshop"}),
    )
    .await
    .assert_status(200);
    let item = app.get(&app.at(&ann, "/items?q=drill"), &ann).await;
    assert_eq!(
        item.body["items"][0]["location_path"],
        json!(["House", "Workshop", "Shelf 2"])
    );
    let unknown_parent = app
        .post(
            &app.at(&ann, "/locations"),
            &ann,
            json!({"name": "Loft", "parent_id": uuid::Uuid::now_v7()}),
        )
        .await;
    unknown_parent.assert_status(422);
    assert!(unknown_parent.body["error"]["details"]["parent_id"].is_string());
    let nameless = app
        .post(&app.at(&ann, "/locations"), &ann, json!({"name": "  "}))
        .await;
    nameless.assert_status(422);
    assert!(nameless.body["error"]["details"]["name"].is_string());
}

async fn a_location_cannot_move_inside_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let attic = app.create_location(&ann, "Attic", Some(&house)).await;
    let corner = app.create_location(&ann, "Corner", Some(&attic)).await;
    for parent in [&corner, &house] {
        let response = app
            .patch(
                &app.at(&ann, &format!("/locations/{house}")),
                &ann,
                json!({"parent_id": parent}),
            )
            .await;
        response.assert_status(422);
        assert!(
            response.body["error"]["details"]["parent_id"]
                .as_str()
                .unwrap()
                .contains("inside itself")
        );
    }
    // Moving to the top level and back under another branch works.
    let moved = app
        .patch(
            &app.at(&ann, &format!("/locations/{corner}")),
            &ann,
            json!({"parent_id": null}),
        )
        .await;
    moved.assert_status(200);
    assert_eq!(moved.body["path"], json!(["Corner"]));
    let back = app
        .patch(
            &app.at(&ann, &format!("/locations/{house}")),
            &ann,
            json!({"parent_id": corner}),
        )
        .await;
    back.assert_status(200);
    assert_eq!(back.body["path"], json!(["Corner", "House"]));
}

async fn a_location_that_holds_things_cannot_be_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let attic = app.create_location(&ann, "Attic", Some(&house)).await;
    let item = app
        .create_item(&ann, json!({"name": "Box", "location_id": attic}))
        .await
        .id();
    let refused = app
        .delete(&app.at(&ann, &format!("/locations/{attic}")), &ann)
        .await;
    refused.assert_status(409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 item")
    );
    let refused = app
        .delete(&app.at(&ann, &format!("/locations/{house}")), &ann)
        .await;
    refused.assert_status(409);
    assert!(
        refused.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1 location")
    );
    app.delete(&app.at(&ann, &format!("/items/{item}")), &ann)
        .await
        .assert_status(204);
    app.delete(&app.at(&ann, &format!("/locations/{attic}")), &ann)
        .await
        .assert_status(204);
    app.get(&app.at(&ann, &format!("/locations/{attic}")), &ann)
        .await
        .assert_status(404);
    // Restoring the item whose location is gone puts it nowhere rather than nowhere valid.
    let restored = app
        .post(
            &app.at(&ann, &format!("/items/{item}/restore")),
            &ann,
            json!({}),
        )
        .await;
    restored.assert_status(200);
    assert_eq!(restored.body["location_id"], json!(null));
}

async fn creating_a_location_with_the_same_id_twice_makes_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let id = uuid::Uuid::now_v7();
    let body = json!({"id": id, "name": "Basement"});
    app.post(&app.at(&ann, "/locations"), &ann, body.clone())
        .await
        .assert_status(201);
    let again = app
        .post(&app.at(&ann, "/locations"), &ann, body.clone())
        .await;
    again.assert_status(200);
    assert_eq!(again.body["id"], json!(id));
    assert_eq!(
        app.get(&app.at(&ann, "/locations"), &ann).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let elsewhere = app.post(&app.at(&bob, "/locations"), &bob, body).await;
    elsewhere.assert_status(409);
}

async fn location_edits_use_the_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let hall = app.create_location(&ann, "Hall", None).await;
    let path = app.at(&ann, &format!("/locations/{hall}"));
    let first = app
        .request(
            axum::http::Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "Entry"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    first.assert_status(200);
    assert_eq!(first.etag(), "\"2\"");
    let stale = app
        .request(
            axum::http::Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "Lobby"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    stale.assert_status(412);
    assert_eq!(app.get(&path, &ann).await.body["name"], "Entry");
}

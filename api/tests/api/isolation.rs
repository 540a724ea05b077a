//! A person outside a household gets 404 for everything in it, whatever the method, and
//! learns nothing; and nothing changes.

use axum::http::Method;
use serde_json::json;

use crate::helpers::{Backend, names, spawn_app};

crate::on_every_backend!(another_household_answers_404_for_every_resource_and_method);

async fn another_household_answers_404_for_every_resource_and_method(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let eve = app.register("Eve").await;
    let location = app.create_location(&ann, "Safe", None).await;
    let item = app
        .create_item(
            &ann,
            json!({"name": "Diamond ring", "location_id": location, "tags": ["jewelry"]}),
        )
        .await
        .id();
    let trashed = app
        .create_item(&ann, json!({"name": "Old ring"}))
        .await
        .id();
    app.delete(&app.at(&ann, &format!("/items/{trashed}")), &ann)
        .await
        .assert_status(204);

    let hid = &ann.household;
    let base = format!("/api/v1/households/{hid}");
    let body = json!({"name": "Mine now", "parent_id": null});
    let attempts: Vec<(Method, String)> = vec![
        (Method::GET, base.clone()),
        (Method::PATCH, base.clone()),
        (Method::GET, format!("{base}/locations")),
        (Method::POST, format!("{base}/locations")),
        (Method::GET, format!("{base}/locations/{location}")),
        (Method::PATCH, format!("{base}/locations/{location}")),
        (Method::DELETE, format!("{base}/locations/{location}")),
        (Method::GET, format!("{base}/items")),
        (Method::POST, format!("{base}/items")),
        (Method::GET, format!("{base}/items/{item}")),
        (Method::PATCH, format!("{base}/items/{item}")),
        (Method::DELETE, format!("{base}/items/{item}")),
        (Method::POST, format!("{base}/items/{trashed}/restore")),
        (Method::GET, format!("{base}/items/{item}/history")),
        (Method::GET, format!("{base}/trash")),
        (Method::DELETE, format!("{base}/trash")),
        (Method::DELETE, format!("{base}/trash/{trashed}")),
        (Method::GET, format!("{base}/tags")),
        (Method::GET, format!("{base}/stats")),
        // Eve's own household path with Ann's ids.
        (Method::GET, app.at(&eve, &format!("/items/{item}"))),
        (Method::PATCH, app.at(&eve, &format!("/items/{item}"))),
        (Method::DELETE, app.at(&eve, &format!("/items/{item}"))),
        (Method::GET, app.at(&eve, &format!("/items/{item}/history"))),
        (
            Method::POST,
            app.at(&eve, &format!("/items/{trashed}/restore")),
        ),
        (Method::DELETE, app.at(&eve, &format!("/trash/{trashed}"))),
        (Method::GET, app.at(&eve, &format!("/locations/{location}"))),
        (
            Method::PATCH,
            app.at(&eve, &format!("/locations/{location}")),
        ),
        (
            Method::DELETE,
            app.at(&eve, &format!("/locations/{location}")),
        ),
        (
            Method::GET,
            app.at(&eve, &format!("/items?location_id={location}")),
        ),
    ];
    for (method, path) in attempts {
        let with_body = matches!(method, Method::POST | Method::PATCH).then(|| body.clone());
        let response = app
            .request(method.clone(), &path, Some(&eve.token), with_body, &[])
            .await;
        assert_eq!(
            response.status.as_u16(),
            404,
            "{method} {path}: {}",
            response.body
        );
        assert_eq!(response.error_code(), "not_found", "{method} {path}");
        let text = response.body.to_string();
        assert!(
            !text.contains("Diamond") && !text.contains("Safe"),
            "{method} {path} leaked {text}"
        );
    }
    // Moving Eve's own things under Ann's location is refused the same way.
    let moved = app
        .post(
            &app.at(&eve, "/locations"),
            &eve,
            json!({"name": "Mine", "parent_id": location}),
        )
        .await;
    moved.assert_status(422);

    // Ann's things are untouched.
    let items = app.get(&app.at(&ann, "/items"), &ann).await;
    assert_eq!(names(&items.body), vec!["Diamond ring"]);
    assert_eq!(items.body["items"][0]["version"], 1);
    assert_eq!(
        names(&app.get(&app.at(&ann, "/trash"), &ann).await.body),
        vec!["Old ring"]
    );
    assert_eq!(
        app.get(&app.at(&ann, &format!("/locations/{location}")), &ann)
            .await
            .body["name"],
        "Safe"
    );
    assert_eq!(
        app.get(&app.at(&ann, "/tags"), &ann).await.body["items"][0]["name"],
        "jewelry"
    );
}

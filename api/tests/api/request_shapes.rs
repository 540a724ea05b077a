//! Shapes of request bodies the OpenAPI document allows or forbids, as the server reads
//! them (found by checking the API against its document).

use axum::http::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};
use crate::on_every_backend;

/// serde reads a struct from an array of its fields, too; the API takes objects only.
async fn a_body_that_is_not_a_json_object_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let path = app.at(&ann, "/items");
    for body in [json!(["Drill"]), json!("Drill"), json!(null)] {
        let response = app
            .request(Method::POST, &path, Some(&ann.token), Some(body), &[])
            .await;
        response.assert_status(400);
        assert_eq!(response.error_code(), "bad_request");
    }
    let items = app.get(&path, &ann).await;
    assert_eq!(items.body["items"], json!([]));
}

/// JSON Schema counts `3.0` as the integer 3, and so does the API; `2.5` is no integer.
async fn whole_numbers_may_be_written_with_a_zero_fraction(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let item = app
        .create_item(
            &ann,
            json!({"name": "Drill", "quantity": 3.0,
                   "estimated_value": {"amount_minor": 12999.0, "currency": "USD"}}),
        )
        .await;
    assert_eq!(item.body["quantity"], 3);
    assert_eq!(item.body["estimated_value"]["amount_minor"], 12999);
    let path = app.at(&ann, &format!("/items/{}", item.id()));
    let edited = app.patch(&path, &ann, json!({"quantity": 4.0})).await;
    edited.assert_status(200);
    assert_eq!(edited.body["quantity"], 4);
    for quantity in [json!(2.5), json!(1e300)] {
        let refused = app.patch(&path, &ann, json!({"quantity": quantity})).await;
        refused.assert_status(422);
        assert!(refused.body["error"]["details"]["quantity"].is_string());
    }
    let invite = app
        .post(
            app.at(&ann, "/invites"),
            &ann,
            json!({"role": "viewer", "expires_in": 3600.0, "max_uses": 2.0}),
        )
        .await;
    invite.assert_status(201);
    assert_eq!(invite.body["max_uses"], 2);
}

/// Repeating a create with an existing client-made id answers what exists, but only when
/// the request is valid in itself.
async fn an_invalid_create_is_refused_even_when_its_id_exists(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let id = uuid::Uuid::now_v7().to_string();
    app.create_item(&ann, json!({"id": id, "name": "Drill"}))
        .await;
    let invalid = app
        .post(
            app.at(&ann, "/items"),
            &ann,
            json!({"id": id, "name": "  "}),
        )
        .await;
    invalid.assert_status(422);
    assert!(invalid.body["error"]["details"]["name"].is_string());
    let again = app
        .post(
            app.at(&ann, "/items"),
            &ann,
            json!({"id": id, "name": "Drill"}),
        )
        .await;
    again.assert_status(200);
    assert_eq!(again.id(), id);

    let location = uuid::Uuid::now_v7().to_string();
    app.post(
        app.at(&ann, "/locations"),
        &ann,
        json!({"id": location, "name": "Garage"}),
    )
    .await
    .assert_status(201);
    app.post(
        app.at(&ann, "/locations"),
        &ann,
        json!({"id": location, "name": ""}),
    )
    .await
    .assert_status(422);

    let attachment = uuid::Uuid::now_v7().to_string();
    let announce = |size: i64| {
        json!({"id": attachment, "filename": "receipt.pdf",
               "content_type": "application/pdf", "kind": "receipt", "size": size})
    };
    let files = app.at(&ann, &format!("/items/{id}/attachments"));
    app.post(&files, &ann, announce(1000))
        .await
        .assert_status(201);
    let invalid = app.post(&files, &ann, announce(0)).await;
    invalid.assert_status(422);
    assert!(invalid.body["error"]["details"]["size"].is_string());
    app.post(&files, &ann, announce(1000))
        .await
        .assert_status(200);
}

on_every_backend!(
    a_body_that_is_not_a_json_object_is_refused,
    whole_numbers_may_be_written_with_a_zero_fraction,
    an_invalid_create_is_refused_even_when_its_id_exists,
);

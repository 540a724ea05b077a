use serde_json::json;

use crate::helpers::{Backend, spawn_app};

crate::on_every_backend!(
    a_person_can_create_and_rename_households,
    household_edits_use_the_version,
    a_household_with_values_keeps_its_currency,
    viewers_can_read_but_not_write,
);

async fn a_person_can_create_and_rename_households(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let created = app
        .post(
            "/api/v1/households",
            &ann,
            json!({"name": "Cabin", "currency": "eur"}),
        )
        .await;
    created.assert_status(201);
    assert_eq!(created.body["currency"], "EUR");
    assert_eq!(created.body["role"], "owner");
    assert_eq!(created.etag(), "\"1\"");
    let bad = app
        .post(
            "/api/v1/households",
            &ann,
            json!({"name": "", "currency": "euros"}),
        )
        .await;
    bad.assert_status(422);
    assert!(bad.body["error"]["details"]["currency"].is_string());
    assert!(bad.body["error"]["details"]["name"].is_string());
    let list = app.get("/api/v1/households", &ann).await;
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["My Home", "Cabin"]);
    let renamed = app
        .patch(
            &format!("/api/v1/households/{}", created.id()),
            &ann,
            json!({"name": "Lake cabin"}),
        )
        .await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["name"], "Lake cabin");
    assert_eq!(renamed.etag(), "\"2\"");
}

async fn household_edits_use_the_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let path = format!("/api/v1/households/{}", ann.household);
    let stale = app
        .request(
            axum::http::Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "X"})),
            &[("if-match", "\"7\"")],
        )
        .await;
    stale.assert_status(412);
    assert_eq!(stale.error_code(), "precondition_failed");
    assert_eq!(app.get(&path, &ann).await.body["name"], "My Home");
}

async fn a_household_with_values_keeps_its_currency(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(
        &ann,
        json!({"name": "Piano", "estimated_value": {"amount_minor": 500000, "currency": "USD"}}),
    )
    .await;
    let path = format!("/api/v1/households/{}", ann.household);
    let refused = app.patch(&path, &ann, json!({"currency": "EUR"})).await;
    refused.assert_status(409);
    assert_eq!(app.get(&path, &ann).await.body["currency"], "USD");
}

async fn viewers_can_read_but_not_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let code = invite.body["code"].as_str().unwrap();
    app.post(format!("/api/v1/invites/{code}/accept"), &bob, json!({}))
        .await
        .assert_status(200);
    let item = app.create_item(&ann, json!({"name": "Clock"})).await.id();
    let location = app.create_location(&ann, "Hall", None).await;
    let as_bob = crate::helpers::Person {
        household: ann.household.clone(),
        ..bob.clone()
    };
    app.get(&app.at(&as_bob, "/items"), &as_bob)
        .await
        .assert_status(200);
    app.get(&app.at(&as_bob, &format!("/items/{item}")), &as_bob)
        .await
        .assert_status(200);
    let writes = [
        app.post(&app.at(&as_bob, "/items"), &as_bob, json!({"name": "Mine"}))
            .await,
        app.patch(
            &app.at(&as_bob, &format!("/items/{item}")),
            &as_bob,
            json!({"name": "Mine"}),
        )
        .await,
        app.delete(&app.at(&as_bob, &format!("/items/{item}")), &as_bob)
            .await,
        app.post(
            &app.at(&as_bob, "/locations"),
            &as_bob,
            json!({"name": "Mine"}),
        )
        .await,
        app.patch(
            &app.at(&as_bob, &format!("/locations/{location}")),
            &as_bob,
            json!({"name": "Mine"}),
        )
        .await,
        app.delete(&app.at(&as_bob, &format!("/locations/{location}")), &as_bob)
            .await,
        app.patch(
            &format!("/api/v1/households/{}", ann.household),
            &as_bob,
            json!({"name": "Mine"}),
        )
        .await,
    ];
    for response in writes {
        response.assert_status(403);
        assert_eq!(response.error_code(), "forbidden");
    }
    assert_eq!(
        app.get(&app.at(&ann, &format!("/items/{item}")), &ann)
            .await
            .body["name"],
        "Clock"
    );
}

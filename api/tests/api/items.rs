use axum::http::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, names, spawn_app};

crate::on_every_backend!(
    an_item_keeps_every_field_of_the_contract,
    item_fields_are_checked_and_every_problem_reported,
    a_patch_changes_what_it_names_and_null_clears,
    a_stale_edit_is_refused_with_412_and_changes_nothing,
    deleted_items_go_to_the_trash_and_come_back,
    the_trash_can_be_emptied,
    search_finds_items_by_any_field_regardless_of_case,
    a_location_filter_includes_everything_below_it,
    lists_page_by_cursor_without_repeats_or_gaps,
    bad_list_parameters_are_400,
    retrying_a_create_with_its_id_makes_one_item,
    history_records_who_changed_which_fields,
    tags_are_normalized_and_counted,
    stats_total_the_household,
    an_item_keeps_its_insurance_flags_and_sale_record_until_null_clears_them,
    a_sale_price_in_another_currency_is_refused_with_the_field_named,
    search_finds_an_item_by_who_bought_it,
);

fn full_item(location: &str) -> Value {
    json!({
        "name": "  Cordless drill ",
        "description": "18 V with two batteries",
        "location_id": location,
        "quantity": 2,
        "tags": ["tools", " Power ", "TOOLS"],
        "brand": "Bosch",
        "model": "GSR 18V-55",
        "serial_number": "SN-0042",
        "barcode": "4059952511737",
        "purchase_date": "2024-05-31",
        "purchase_price": {"amount_minor": 12999, "currency": "USD"},
        "purchased_from": "Hardware store",
        "estimated_value": {"amount_minor": 9000, "currency": "USD"},
        "warranty_expires": "2027-05-31",
        "notes": "Blue case",
        "custom_fields": {"Voltage": "18"}
    })
}

async fn an_item_keeps_every_field_of_the_contract(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let created = app.create_item(&ann, full_item(&garage)).await;
    assert_eq!(created.etag(), "\"1\"");
    let id = created.id();
    let got = app.get(&app.at(&ann, &format!("/items/{id}")), &ann).await;
    got.assert_status(200);
    assert_eq!(got.etag(), "\"1\"");
    let item = &got.body;
    assert_eq!(item["name"], "Cordless drill");
    assert_eq!(item["household_id"], json!(ann.household));
    assert_eq!(item["location_path"], json!(["Garage"]));
    assert_eq!(item["quantity"], 2);
    assert_eq!(item["tags"], json!(["Power", "tools"]));
    assert_eq!(item["purchase_date"], "2024-05-31");
    assert_eq!(
        item["purchase_price"],
        json!({"amount_minor": 12999, "currency": "USD"})
    );
    assert_eq!(item["estimated_value"]["amount_minor"], 9000);
    assert_eq!(item["warranty_expires"], "2027-05-31");
    assert_eq!(item["custom_fields"], json!({"Voltage": "18"}));
    assert_eq!(item["version"], 1);
    for field in [
        "description",
        "brand",
        "model",
        "serial_number",
        "barcode",
        "purchased_from",
        "notes",
    ] {
        assert!(item[field].is_string(), "{field} missing from {item}");
    }
    assert!(item["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(created.body, got.body);
    let minimal = app.create_item(&ann, json!({"name": "Lamp"})).await;
    assert_eq!(minimal.body["quantity"], 1);
    assert_eq!(minimal.body["tags"], json!([]));
    assert_eq!(minimal.body["location_path"], json!([]));
}

async fn item_fields_are_checked_and_every_problem_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let bobs_place = app.create_location(&bob, "Bob's", None).await;
    let path = app.at(&ann, "/items");
    let bad = app
        .post(
            &path,
            &ann,
            json!({
                "name": "x".repeat(201),
                "quantity": -1,
                "estimated_value": {"amount_minor": -5, "currency": "USD"},
                "purchase_price": {"amount_minor": 5, "currency": "EUR"},
            }),
        )
        .await;
    bad.assert_status(422);
    let details = &bad.body["error"]["details"];
    for field in ["name", "quantity", "estimated_value", "purchase_price"] {
        assert!(
            details[field].is_string(),
            "{field} not reported: {details}"
        );
    }
    let date = app
        .post(
            &path,
            &ann,
            json!({"name": "Lamp", "purchase_date": "31/05/2024"}),
        )
        .await;
    date.assert_status(422);
    assert!(
        date.body["error"]["details"]["purchase_date"]
            .as_str()
            .unwrap()
            .contains("2024-05-31")
    );
    let missing = app.post(&path, &ann, json!({"brand": "Ikea"})).await;
    missing.assert_status(422);
    assert_eq!(missing.body["error"]["details"]["name"], "is required");
    let elsewhere = app
        .post(
            &path,
            &ann,
            json!({"name": "Lamp", "location_id": bobs_place}),
        )
        .await;
    elsewhere.assert_status(422);
    assert!(elsewhere.body["error"]["details"]["location_id"].is_string());
    let currency = app
        .post(
            &path,
            &ann,
            json!({"name": "Lamp", "estimated_value": {"amount_minor": 5, "currency": "dollars"}}),
        )
        .await;
    currency.assert_status(422);
    assert!(currency.body["error"]["details"]["estimated_value"].is_string());
    assert!(
        names(&app.get(&path, &ann).await.body).is_empty(),
        "nothing was saved"
    );
}

async fn a_patch_changes_what_it_names_and_null_clears(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let id = app.create_item(&ann, full_item(&garage)).await.id();
    let path = app.at(&ann, &format!("/items/{id}"));
    let patched = app
        .patch(&path, &ann, json!({"brand": null, "location_id": null, "quantity": 3, "custom_fields": null, "unknown": 1}))
        .await;
    patched.assert_status(200);
    assert_eq!(patched.etag(), "\"2\"");
    let item = &patched.body;
    assert_eq!(item["brand"], json!(null));
    assert_eq!(item["location_id"], json!(null));
    assert_eq!(item["location_path"], json!([]));
    assert_eq!(item["quantity"], 3);
    assert_eq!(item["custom_fields"], json!({}));
    assert_eq!(item["model"], "GSR 18V-55");
    assert_eq!(item["version"], 2);
    let refused = app
        .patch(&path, &ann, json!({"name": null, "quantity": -4}))
        .await;
    refused.assert_status(422);
    assert_eq!(app.get(&path, &ann).await.body["quantity"], 3);
    // A patch that changes nothing keeps the version.
    let same = app.patch(&path, &ann, json!({"quantity": 3})).await;
    assert_eq!(same.body["version"], 2);
}

async fn a_stale_edit_is_refused_with_412_and_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let id = app.create_item(&ann, json!({"name": "Lamp"})).await.id();
    let path = app.at(&ann, &format!("/items/{id}"));
    let first = app
        .request(
            Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "Desk lamp"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    first.assert_status(200);
    let second = app
        .request(
            Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "Floor lamp"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    second.assert_status(412);
    assert_eq!(second.error_code(), "precondition_failed");
    let now = app.get(&path, &ann).await;
    assert_eq!(now.body["name"], "Desk lamp");
    assert_eq!(now.etag(), "\"2\"");
    let malformed = app
        .request(
            Method::PATCH,
            &path,
            Some(&ann.token),
            Some(json!({"name": "X"})),
            &[("if-match", "yesterday")],
        )
        .await;
    malformed.assert_status(400);
}

async fn deleted_items_go_to_the_trash_and_come_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let id = app
        .create_item(&ann, json!({"name": "Vase", "tags": ["glass"]}))
        .await
        .id();
    let path = app.at(&ann, &format!("/items/{id}"));
    app.delete(&path, &ann).await.assert_status(204);
    app.get(&path, &ann).await.assert_status(404);
    app.delete(&path, &ann).await.assert_status(404);
    app.patch(&path, &ann, json!({"name": "X"}))
        .await
        .assert_status(404);
    assert!(names(&app.get(&app.at(&ann, "/items"), &ann).await.body).is_empty());
    assert!(
        app.get(&app.at(&ann, "/tags"), &ann).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let trash = app.get(&app.at(&ann, "/trash"), &ann).await;
    assert_eq!(names(&trash.body), vec!["Vase"]);
    assert!(trash.body["items"][0]["deleted_at"].is_string());
    let restored = app
        .post(
            &app.at(&ann, &format!("/items/{id}/restore")),
            &ann,
            json!({}),
        )
        .await;
    restored.assert_status(200);
    assert_eq!(restored.body["name"], "Vase");
    app.get(&path, &ann).await.assert_status(200);
    assert!(names(&app.get(&app.at(&ann, "/trash"), &ann).await.body).is_empty());
}

async fn the_trash_can_be_emptied(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let mut ids = Vec::new();
    for name in ["A", "B", "C"] {
        let id = app.create_item(&ann, json!({"name": name})).await.id();
        app.delete(&app.at(&ann, &format!("/items/{id}")), &ann)
            .await
            .assert_status(204);
        ids.push(id);
    }
    app.delete(&app.at(&ann, &format!("/trash/{}", ids[0])), &ann)
        .await
        .assert_status(204);
    app.post(
        &app.at(&ann, &format!("/items/{}/restore", ids[0])),
        &ann,
        json!({}),
    )
    .await
    .assert_status(404);
    app.delete(&app.at(&ann, "/trash"), &ann)
        .await
        .assert_status(204);
    assert!(names(&app.get(&app.at(&ann, "/trash"), &ann).await.body).is_empty());
}

async fn search_finds_items_by_any_field_regardless_of_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(
        &ann,
        json!({"name": "Espresso machine", "brand": "DeLonghi"}),
    )
    .await;
    app.create_item(&ann, json!({"name": "Kettle", "notes": "Descale monthly"}))
        .await;
    app.create_item(&ann, json!({"name": "Grinder", "tags": ["Coffee"]}))
        .await;
    app.create_item(&ann, json!({"name": "Router", "serial_number": "RT-7781"}))
        .await;
    let search = |q: &'static str| app.get(app.at(&ann, &format!("/items?q={q}")), &ann);
    assert_eq!(
        names(&search("delonghi").await.body),
        vec!["Espresso machine"]
    );
    assert_eq!(names(&search("DESCALE").await.body), vec!["Kettle"]);
    assert_eq!(names(&search("coff").await.body), vec!["Grinder"]);
    assert_eq!(names(&search("rt-77").await.body), vec!["Router"]);
    assert_eq!(names(&search("e").await.body).len(), 4);
    assert!(names(&search("nothing%20like%20it").await.body).is_empty());
}

async fn a_location_filter_includes_everything_below_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let kitchen = app.create_location(&ann, "Kitchen", Some(&house)).await;
    let drawer = app.create_location(&ann, "Drawer", Some(&kitchen)).await;
    let shed = app.create_location(&ann, "Shed", None).await;
    app.create_item(
        &ann,
        json!({"name": "Knife", "location_id": drawer, "tags": ["sharp"]}),
    )
    .await;
    app.create_item(&ann, json!({"name": "Pan", "location_id": kitchen}))
        .await;
    app.create_item(
        &ann,
        json!({"name": "Axe", "location_id": shed, "tags": ["Sharp"]}),
    )
    .await;
    app.create_item(&ann, json!({"name": "Loose"})).await;
    let list = |query: String| app.get(app.at(&ann, &format!("/items?{query}")), &ann);
    let mut in_house = names(&list(format!("location_id={house}")).await.body);
    in_house.sort();
    assert_eq!(in_house, vec!["Knife", "Pan"]);
    assert_eq!(
        names(&list(format!("location_id={drawer}")).await.body),
        vec!["Knife"]
    );
    assert_eq!(
        names(&list("location_id=none".into()).await.body),
        vec!["Loose"]
    );
    let mut sharp = names(&list("tag=SHARP".into()).await.body);
    sharp.sort();
    assert_eq!(sharp, vec!["Axe", "Knife"]);
    assert_eq!(
        names(&list(format!("tag=sharp&location_id={house}")).await.body),
        vec!["Knife"]
    );
    list(format!("location_id={}", uuid::Uuid::now_v7()))
        .await
        .assert_status(404);
}

async fn lists_page_by_cursor_without_repeats_or_gaps(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for i in 0..12 {
        app.create_item(&ann, json!({"name": format!("Item {i:02}")}))
            .await;
    }
    for sort in ["newest", "oldest", "name", "updated"] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let query = match &cursor {
                Some(c) => format!("/items?limit=5&sort={sort}&cursor={c}"),
                None => format!("/items?limit=5&sort={sort}"),
            };
            let page = app.get(&app.at(&ann, &query), &ann).await;
            page.assert_status(200);
            seen.extend(names(&page.body));
            match page.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => break,
            }
            if seen.len() == 5 {
                app.create_item(&ann, json!({"name": format!("Late {sort}")}))
                    .await;
            }
        }
        let originals: Vec<&String> = seen.iter().filter(|n| n.starts_with("Item")).collect();
        assert_eq!(originals.len(), 12, "{sort}: {seen:?}");
        if sort == "newest" {
            assert_eq!(seen.first().map(String::as_str), Some("Item 11"));
        }
        if sort == "name" || sort == "oldest" {
            let mut sorted = originals.clone();
            sorted.sort();
            assert_eq!(originals, sorted, "{sort}");
        }
    }
}

async fn bad_list_parameters_are_400(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "cursor=not-a-cursor",
        "sort=price",
        "sort=",
        "location_id=garage",
    ] {
        let response = app
            .get(&app.at(&ann, &format!("/items?{query}")), &ann)
            .await;
        response.assert_status(400);
        assert_eq!(response.error_code(), "bad_request", "{query}");
    }
    app.get(&app.at(&ann, "/items?limit=200"), &ann)
        .await
        .assert_status(200);
}

async fn retrying_a_create_with_its_id_makes_one_item(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let id = uuid::Uuid::now_v7();
    let body = json!({"id": id, "name": "Camera"});
    let first = app.post(&app.at(&ann, "/items"), &ann, body.clone()).await;
    first.assert_status(201);
    assert_eq!(first.body["id"], json!(id));
    let (a, b) = tokio::join!(
        app.post(app.at(&ann, "/items"), &ann, body.clone()),
        app.post(app.at(&ann, "/items"), &ann, body.clone())
    );
    a.assert_status(200);
    b.assert_status(200);
    assert_eq!(a.body["id"], json!(id));
    assert_eq!(
        names(&app.get(&app.at(&ann, "/items"), &ann).await.body),
        vec!["Camera"]
    );
    let stolen = app.post(&app.at(&bob, "/items"), &bob, body).await;
    stolen.assert_status(409);
    assert_eq!(stolen.error_code(), "conflict");
    assert!(
        stolen.body.to_string().find("Camera").is_none(),
        "no data of another household"
    );
}

async fn history_records_who_changed_which_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let id = app.create_item(&ann, json!({"name": "Bike"})).await.id();
    let path = app.at(&ann, &format!("/items/{id}"));
    app.patch(&path, &ann, json!({"brand": "Trek", "quantity": 2}))
        .await
        .assert_status(200);
    app.delete(&path, &ann).await.assert_status(204);
    app.post(&format!("{path}/restore"), &ann, json!({}))
        .await
        .assert_status(200);
    let history = app.get(&format!("{path}/history"), &ann).await;
    history.assert_status(200);
    let entries = history.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, vec!["restored", "deleted", "updated", "created"]);
    assert_eq!(entries[2]["fields"], json!(["quantity", "brand"]));
    assert_eq!(entries[0]["actor"]["name"], "Ann");
    assert!(entries[0]["at"].is_string());
}

async fn tags_are_normalized_and_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(
        &ann,
        json!({"name": "A", "tags": [" Garden  tools ", "garden tools", "Outdoor"]}),
    )
    .await;
    app.create_item(&ann, json!({"name": "B", "tags": ["outdoor"]}))
        .await;
    let tags = app.get(&app.at(&ann, "/tags"), &ann).await;
    tags.assert_status(200);
    assert_eq!(
        tags.body["items"],
        json!([{"name": "Garden tools", "item_count": 1}, {"name": "Outdoor", "item_count": 2}])
    );
    let long = app
        .post(
            &app.at(&ann, "/items"),
            &ann,
            json!({"name": "C", "tags": ["x".repeat(51)]}),
        )
        .await;
    long.assert_status(422);
    assert!(long.body["error"]["details"]["tags"].is_string());
}

async fn stats_total_the_household(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let money = |amount: i64| json!({"amount_minor": amount, "currency": "USD"});
    app.create_item(&ann, json!({"name": "Car jack", "location_id": garage, "estimated_value": money(5000), "tags": ["car"]})).await;
    app.create_item(&ann, json!({"name": "Tyres", "location_id": garage, "estimated_value": money(40000), "tags": ["car"], "quantity": 4})).await;
    app.create_item(
        &ann,
        json!({"name": "Painting", "estimated_value": money(100000)}),
    )
    .await;
    let stats = app.get(&app.at(&ann, "/stats"), &ann).await;
    stats.assert_status(200);
    let s = &stats.body;
    assert_eq!(s["item_count"], 3);
    assert_eq!(s["total_quantity"], 6);
    assert_eq!(s["location_count"], 1);
    assert_eq!(s["total_value"], money(145000));
    assert_eq!(s["value_by_location"][0]["name"], "No location");
    assert_eq!(s["value_by_location"][0]["total_value"], money(100000));
    assert_eq!(s["value_by_location"][1]["name"], "Garage");
    assert_eq!(s["value_by_location"][1]["total_value"], money(45000));
    assert_eq!(s["value_by_tag"][0]["name"], "car");
    assert_eq!(s["value_by_tag"][0]["item_count"], 2);
}

fn sold_item() -> Value {
    json!({
        "name": "Road bike",
        "insured": true,
        "lifetime_warranty": true,
        "sold_to": "  Neighbour Bob ",
        "sold_date": "2025-03-01",
        "sold_price": {"amount_minor": 45000, "currency": "USD"},
        "sold_notes": "Paid in cash, with the pump"
    })
}

async fn an_item_keeps_its_insurance_flags_and_sale_record_until_null_clears_them(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let created = app.create_item(&ann, sold_item()).await;
    let path = app.at(&ann, &format!("/items/{}", created.id()));
    let got = app.get(&path, &ann).await;
    got.assert_status(200);
    let item = &got.body;
    assert_eq!(item["insured"], true);
    assert_eq!(item["lifetime_warranty"], true);
    assert_eq!(item["sold_to"], "Neighbour Bob");
    assert_eq!(item["sold_date"], "2025-03-01");
    assert_eq!(
        item["sold_price"],
        json!({"amount_minor": 45000, "currency": "USD"})
    );
    assert_eq!(item["sold_notes"], "Paid in cash, with the pump");
    assert_eq!(created.body, got.body);

    // An item made without them is neither insured nor sold.
    let lamp = app.create_item(&ann, json!({"name": "Lamp"})).await;
    assert_eq!(lamp.body["insured"], false);
    assert_eq!(lamp.body["lifetime_warranty"], false);
    assert_eq!(lamp.body["sold_to"], json!(null));

    // Absent stays.
    let renamed = app.patch(&path, &ann, json!({"name": "Old bike"})).await;
    renamed.assert_status(200);
    assert_eq!(renamed.body["insured"], true);
    assert_eq!(renamed.body["sold_to"], "Neighbour Bob");

    let cleared = app
        .patch(
            &path,
            &ann,
            json!({"insured": null, "lifetime_warranty": false, "sold_to": null,
                   "sold_date": null, "sold_price": null, "sold_notes": null}),
        )
        .await;
    cleared.assert_status(200);
    let item = &app.get(&path, &ann).await.body;
    assert_eq!(item["insured"], false);
    assert_eq!(item["lifetime_warranty"], false);
    for field in ["sold_to", "sold_date", "sold_price", "sold_notes"] {
        assert_eq!(item[field], json!(null), "{field} not cleared: {item}");
    }
    let history = app.get(format!("{path}/history"), &ann).await;
    let fields = &history.body["items"][0]["fields"];
    assert_eq!(
        fields,
        &json!([
            "insured",
            "lifetime_warranty",
            "sold_to",
            "sold_date",
            "sold_price",
            "sold_notes"
        ])
    );
}

async fn a_sale_price_in_another_currency_is_refused_with_the_field_named(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let path = app.at(&ann, "/items");
    let mut body = sold_item();
    body["sold_price"] = json!({"amount_minor": 45000, "currency": "EUR"});
    body["sold_to"] = json!("x".repeat(201));
    let refused = app.post(&path, &ann, body).await;
    refused.assert_status(422);
    let details = &refused.body["error"]["details"];
    assert!(details["sold_price"].is_string(), "{details}");
    assert!(details["sold_to"].is_string(), "{details}");

    let id = app.create_item(&ann, sold_item()).await.id();
    let item = app.at(&ann, &format!("/items/{id}"));
    let refused = app
        .patch(
            &item,
            &ann,
            json!({"sold_price": {"amount_minor": 1, "currency": "GBP"}}),
        )
        .await;
    refused.assert_status(422);
    assert!(refused.body["error"]["details"]["sold_price"].is_string());
    assert_eq!(
        app.get(&item, &ann).await.body["sold_price"]["amount_minor"],
        45000
    );
}

async fn search_finds_an_item_by_who_bought_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    app.create_item(&ann, sold_item()).await;
    app.create_item(
        &ann,
        json!({"name": "Tent", "sold_notes": "went to the scouts"}),
    )
    .await;
    app.create_item(&ann, json!({"name": "Lamp"})).await;
    let search = |q: &'static str| app.get(app.at(&ann, &format!("/items?q={q}")), &ann);
    assert_eq!(
        names(&search("neighbour%20bob").await.body),
        vec!["Road bike"]
    );
    assert_eq!(names(&search("SCOUTS").await.body), vec!["Tent"]);
}

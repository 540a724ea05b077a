//! Read-only share links: made, listed and revoked by owners only; whoever holds one sees
//! the items, photos and documents of its scope and nothing else (everything outside is
//! 404), without prices when asked; expired and revoked links are refused; every use is
//! logged; the secret is kept only as its hash.

use api::auth::token_hash;
use api::store::ShareLinkRow;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use shared::{HouseholdId, ShareLinkId, UserId};
use time::{Duration, OffsetDateTime};

use crate::attachments::{Files, LIMIT, PDF, Place, png};
use crate::helpers::{Backend, Person, TestApp, TestDb, TestResponse, names};
use crate::sharing::join;
use crate::tokens::{make_token, with_token};

crate::on_every_backend!(
    an_owner_makes_lists_and_revokes_a_link,
    bad_values_are_refused_field_by_field,
    only_owners_manage_links_and_only_their_own,
    a_location_link_shows_its_subtree_and_answers_404_for_everything_else,
    a_household_link_shows_everything_but_the_trash,
    hidden_prices_are_nowhere_in_what_a_link_shows,
    expired_unknown_and_revoked_links_are_refused,
    every_use_is_logged_with_what_it_opened,
    the_secret_is_kept_only_as_its_hash,
    a_link_to_a_location_deleted_since_shows_nothing,
);

const BROWSER: &str = "VisitorBrowser/1.0";

async fn files(backend: Backend) -> Files {
    Files::start(backend, Place::Folder, LIMIT)
        .await
        .expect("an app that keeps files")
}

/// A link made by `who`: its secret and its description.
async fn make_link(app: &TestApp, who: &Person, body: Value) -> (String, Value) {
    let made = app.post(app.at(who, "/share-links"), who, body).await;
    made.assert_status(201);
    let url = made.body["url"].as_str().unwrap();
    let secret = url.rsplit_once("/s/").unwrap().1.to_string();
    (secret, made.body["link"].clone())
}

/// A request through the link, from a browser with no cookie.
async fn visit(app: &TestApp, secret: &str, rest: &str) -> TestResponse {
    app.request(
        Method::GET,
        &format!("/api/v1/shared/{secret}{rest}"),
        None,
        None,
        &[("user-agent", BROWSER)],
    )
    .await
}

fn links(app: &TestApp, who: &Person) -> String {
    app.at(who, "/share-links")
}

async fn item(app: &TestApp, who: &Person, name: &str, location: Option<&str>) -> String {
    app.create_item(who, json!({"name": name, "location_id": location}))
        .await
        .id()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

fn time_of(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        v.as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

#[track_caller]
fn assert_closed(response: &TestResponse) {
    response.assert_status(404);
    assert_eq!(
        response.body["error"]["message"],
        "This share link has expired or was revoked."
    );
}

async fn an_owner_makes_lists_and_revokes_a_link(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    let (secret, link) = make_link(
        app,
        &ann,
        json!({"name": "Insurer", "location_id": garage, "expires_in_days": 7, "hide_prices": true}),
    )
    .await;
    assert_eq!(secret.len(), 43);
    assert_eq!(link["name"], "Insurer");
    assert_eq!(link["status"], "active");
    assert_eq!(link["location_path"], json!(["Garage"]));
    assert_eq!(link["hide_prices"], true);
    assert_eq!(link["uses"], 0);
    let days = (time_of(&link["expires_at"]) - time_of(&link["created_at"])).whole_days();
    assert_eq!(days, 7);
    let made = app
        .post(links(app, &ann), &ann, json!({"name": "House-sitter"}))
        .await;
    made.assert_status(201);
    assert!(
        made.body["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}/s/", app.config.public_url)),
        "{}",
        made.body
    );
    let sitter = &made.body["link"];
    assert_eq!(sitter["location_id"], Value::Null);
    assert_eq!(sitter["hide_prices"], false);
    let days = (time_of(&sitter["expires_at"]) - time_of(&sitter["created_at"])).whole_days();
    assert_eq!(days, 30);

    let listed = app.get(links(app, &ann), &ann).await;
    listed.assert_status(200);
    assert_eq!(names(&listed.body), ["House-sitter", "Insurer"]);
    assert!(
        !listed.body.to_string().contains(&secret),
        "the list shows no secret"
    );

    let opened = visit(app, &secret, "").await;
    opened.assert_status(200);
    assert_eq!(opened.body["household_name"], "My Home");
    assert_eq!(opened.body["name"], "Insurer");
    assert_eq!(opened.body["scope"]["location_path"], json!(["Garage"]));

    let id = link["id"].as_str().unwrap();
    app.delete(format!("{}/{id}", links(app, &ann)), &ann)
        .await
        .assert_status(204);
    assert_closed(&visit(app, &secret, "").await);
    assert_closed(&visit(app, &secret, "/items").await);
    let listed = app.get(links(app, &ann), &ann).await;
    let insurer = &listed.body["items"][1];
    assert_eq!(insurer["status"], "revoked", "the link stays for its log");
    assert!(insurer["revoked_at"].is_string());
    app.delete(format!("{}/{}", links(app, &ann), ShareLinkId::new()), &ann)
        .await
        .assert_status(404);
}

async fn bad_values_are_refused_field_by_field(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let bob = app.register("Bob").await;
    let bobs = app.create_location(&bob, "Bob's shed", None).await;
    let bad = app
        .post(
            links(app, &ann),
            &ann,
            json!({"name": "  ", "expires_in_days": 0, "location_id": bobs}),
        )
        .await;
    bad.assert_status(422);
    assert_eq!(bad.error_code(), "validation_failed");
    let details = &bad.body["error"]["details"];
    for field in ["name", "expires_in_days", "location_id"] {
        assert!(details[field].is_string(), "{field}: {details}");
    }
    let long = app
        .post(
            links(app, &ann),
            &ann,
            json!({"name": "Insurer", "expires_in_days": 366}),
        )
        .await;
    long.assert_status(422);
    assert!(long.body["error"]["details"]["expires_in_days"].is_string());
    let listed = app.get(links(app, &ann), &ann).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was made");
}

async fn only_owners_manage_links_and_only_their_own(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let (_, link) = make_link(app, &ann, json!({"name": "Insurer"})).await;
    let id = link["id"].as_str().unwrap();
    for role in ["editor", "viewer"] {
        let member = join(app, &ann, role, role).await;
        let made = app
            .post(links(app, &member), &member, json!({"name": "Mine"}))
            .await;
        made.assert_status(403);
        app.get(links(app, &member), &member)
            .await
            .assert_status(403);
        app.get(format!("{}/{id}/uses", links(app, &member)), &member)
            .await
            .assert_status(403);
        app.delete(format!("{}/{id}", links(app, &member)), &member)
            .await
            .assert_status(403);
    }
    // Another household's owner: Ann's household is not there for him, nor is her link in his.
    let bob = app.register("Bob").await;
    let anns = Person {
        household: ann.household.clone(),
        ..bob.clone()
    };
    app.get(links(app, &anns), &anns).await.assert_status(404);
    app.delete(format!("{}/{id}", links(app, &bob)), &bob)
        .await
        .assert_status(404);
    app.get(format!("{}/{id}/uses", links(app, &bob)), &bob)
        .await
        .assert_status(404);
    // An owner's write token may make links; a read token may not.
    let (write, _) = make_token(app, &ann, json!({"name": "w", "scope": "write"})).await;
    let (read, _) = make_token(app, &ann, json!({"name": "r", "scope": "read"})).await;
    let body = json!({"name": "From a script"});
    with_token(
        app,
        Method::POST,
        &links(app, &ann),
        &write,
        Some(body.clone()),
    )
    .await
    .assert_status(201);
    with_token(app, Method::POST, &links(app, &ann), &read, Some(body))
        .await
        .assert_status(403);
    let listed = app.get(links(app, &ann), &ann).await;
    assert_eq!(names(&listed.body), ["From a script", "Insurer"]);
    assert_eq!(listed.body["items"][1]["status"], "active");
}

async fn a_location_link_shows_its_subtree_and_answers_404_for_everything_else(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let garage = app.create_location(&ann, "Garage", Some(&house)).await;
    let shelf = app.create_location(&ann, "Shelf", Some(&garage)).await;
    let kitchen = app.create_location(&ann, "Kitchen", Some(&house)).await;
    let drill = item(app, &ann, "Drill", Some(&garage)).await;
    let wrench = item(app, &ann, "Wrench", Some(&shelf)).await;
    let toaster = item(app, &ann, "Toaster", Some(&kitchen)).await;
    let loose = item(app, &ann, "Loose drill bit", None).await;
    let saw = item(app, &ann, "Saw", Some(&garage)).await;
    let drill_photo = files
        .attach(&ann, &drill, "photo", "drill.png", "image/png", png(8, 8))
        .await;
    drill_photo.assert_status(200);
    let toaster_photo = files
        .attach(
            &ann,
            &toaster,
            "photo",
            "toaster.png",
            "image/png",
            png(8, 8),
        )
        .await;
    let saw_photo = files
        .attach(&ann, &saw, "photo", "saw.png", "image/png", png(8, 8))
        .await;
    app.delete(app.at(&ann, &format!("/items/{saw}")), &ann)
        .await
        .assert_status(204);
    let bob = app.register("Bob").await;
    let bobs_place = app.create_location(&bob, "Garage", None).await;
    let bike = item(app, &bob, "Drill of Bob", Some(&bobs_place)).await;
    let bike_photo = files
        .attach(&bob, &bike, "photo", "bike.png", "image/png", png(8, 8))
        .await;
    let (secret, _) = make_link(app, &ann, json!({"name": "Garage", "location_id": garage})).await;

    let list = visit(app, &secret, "/items").await;
    list.assert_status(200);
    assert_eq!(sorted(names(&list.body)), ["Drill", "Wrench"]);
    for (q, found) in [
        ("drill", vec!["Drill"]),
        ("toaster", vec![]),
        ("saw", vec![]),
    ] {
        let searched = visit(app, &secret, &format!("/items?q={q}")).await;
        searched.assert_status(200);
        assert_eq!(names(&searched.body), found, "q={q}");
    }
    let toaster_asset = app
        .get(app.at(&ann, &format!("/items/{toaster}")), &ann)
        .await;
    let asset = toaster_asset.body["asset_id"].as_str().unwrap();
    let by_asset = visit(app, &secret, &format!("/items?q={asset}")).await;
    assert_eq!(
        names(&by_asset.body),
        Vec::<String>::new(),
        "an asset id outside"
    );
    let on_shelf = visit(app, &secret, &format!("/items?location_id={shelf}")).await;
    assert_eq!(names(&on_shelf.body), ["Wrench"]);
    for outside in [&kitchen, &house, &bobs_place, &"none".to_string()] {
        let filtered = visit(app, &secret, &format!("/items?location_id={outside}")).await;
        filtered.assert_status(404);
    }

    let locations = visit(app, &secret, "/locations").await;
    locations.assert_status(200);
    let paths: Vec<Value> = locations.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["path"].clone())
        .collect();
    assert_eq!(
        paths,
        [
            json!(["House", "Garage"]),
            json!(["House", "Garage", "Shelf"])
        ]
    );

    let shown = visit(app, &secret, &format!("/items/{drill}")).await;
    shown.assert_status(200);
    assert_eq!(shown.body["name"], "Drill");
    assert_eq!(shown.body["attachments"][0]["filename"], "drill.png");
    visit(app, &secret, &format!("/items/{wrench}"))
        .await
        .assert_status(200);
    for other in [&toaster, &loose, &saw, &bike] {
        let refused = visit(app, &secret, &format!("/items/{other}")).await;
        refused.assert_status(404);
        assert_eq!(refused.error_code(), "not_found");
    }

    let file_of = |body: &TestResponse| body.body["id"].as_str().unwrap().to_string();
    let photo = file_of(&drill_photo);
    let through = visit(app, &secret, &format!("/attachments/{photo}/file")).await;
    assert_eq!(through.status, StatusCode::SEE_OTHER);
    let location = through.headers["location"].to_str().unwrap();
    let (status, bytes) = files.download(location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!bytes.is_empty());
    let thumb = visit(app, &secret, &format!("/attachments/{photo}/thumbnail")).await;
    assert_eq!(thumb.status, StatusCode::SEE_OTHER);
    visit(app, &secret, &format!("/attachments/{photo}/original"))
        .await
        .assert_status(404);
    for other in [&toaster_photo, &saw_photo, &bike_photo] {
        for variant in ["file", "thumbnail"] {
            let refused = visit(
                app,
                &secret,
                &format!("/attachments/{}/{variant}", file_of(other)),
            )
            .await;
            refused.assert_status(404);
        }
    }

    // Trashed since: gone from the link with its photo.
    app.delete(app.at(&ann, &format!("/items/{drill}")), &ann)
        .await
        .assert_status(204);
    visit(app, &secret, &format!("/items/{drill}"))
        .await
        .assert_status(404);
    visit(app, &secret, &format!("/attachments/{photo}/file"))
        .await
        .assert_status(404);
    let list = visit(app, &secret, "/items").await;
    assert_eq!(names(&list.body), ["Wrench"]);
}

async fn a_household_link_shows_everything_but_the_trash(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let garage = app.create_location(&ann, "Garage", None).await;
    item(app, &ann, "Drill", Some(&garage)).await;
    let loose = item(app, &ann, "Loose drill bit", None).await;
    let saw = item(app, &ann, "Saw", Some(&garage)).await;
    app.delete(app.at(&ann, &format!("/items/{saw}")), &ann)
        .await
        .assert_status(204);
    let bob = app.register("Bob").await;
    let bike = item(app, &bob, "Bike", None).await;
    let (secret, _) = make_link(app, &ann, json!({"name": "Everything"})).await;

    let opened = visit(app, &secret, "").await;
    assert_eq!(opened.body["scope"], Value::Null);
    let list = visit(app, &secret, "/items").await;
    assert_eq!(sorted(names(&list.body)), ["Drill", "Loose drill bit"]);
    let unplaced = visit(app, &secret, "/items?location_id=none").await;
    assert_eq!(names(&unplaced.body), ["Loose drill bit"]);
    let searched = visit(app, &secret, "/items?q=saw").await;
    assert_eq!(names(&searched.body), Vec::<String>::new());
    visit(app, &secret, &format!("/items/{loose}"))
        .await
        .assert_status(200);
    visit(app, &secret, &format!("/items/{saw}"))
        .await
        .assert_status(404);
    visit(app, &secret, &format!("/items/{bike}"))
        .await
        .assert_status(404);
    let locations = visit(app, &secret, "/locations").await;
    assert_eq!(names(&locations.body), ["Garage"]);
}

async fn hidden_prices_are_nowhere_in_what_a_link_shows(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let household = app.get(app.at(&ann, ""), &ann).await;
    let currency = household.body["currency"].as_str().unwrap().to_string();
    let money = |minor: i64| json!({"amount_minor": minor, "currency": currency});
    let tv = app
        .create_item(
            &ann,
            json!({"name": "Television", "purchase_price": money(129_999),
                   "estimated_value": money(90_000)}),
        )
        .await
        .id();
    files
        .attach(&ann, &tv, "photo", "tv.png", "image/png", png(8, 8))
        .await
        .assert_status(200);
    let receipt = files
        .attach(
            &ann,
            &tv,
            "receipt",
            "receipt.pdf",
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    receipt.assert_status(200);
    let receipt = receipt.body["id"].as_str().unwrap().to_string();
    let manual = files
        .attach(
            &ann,
            &tv,
            "manual",
            "manual.pdf",
            "application/pdf",
            PDF.to_vec(),
        )
        .await;
    manual.assert_status(200);

    let (hidden, _) = make_link(app, &ann, json!({"name": "Sitter", "hide_prices": true})).await;
    let opened = visit(app, &hidden, "").await;
    assert_eq!(opened.body["hide_prices"], true);
    assert_eq!(opened.body["hidden"], json!(["prices", "receipts"]));
    for rest in [
        "".to_string(),
        "/items".to_string(),
        "/items?q=tele".to_string(),
        format!("/items/{tv}"),
        "/locations".to_string(),
    ] {
        let answer = visit(app, &hidden, &rest).await;
        answer.assert_status(200);
        let text = answer.body.to_string();
        assert!(!text.contains("amount_minor"), "{rest}: {text}");
        assert!(!text.contains("receipt.pdf"), "{rest}: {text}");
    }
    let shown = visit(app, &hidden, &format!("/items/{tv}")).await;
    let kinds: Vec<&str> = shown.body["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["photo", "manual"]);
    visit(app, &hidden, &format!("/attachments/{receipt}/file"))
        .await
        .assert_status(404);

    let (open, _) = make_link(app, &ann, json!({"name": "Insurer"})).await;
    let shown = visit(app, &open, &format!("/items/{tv}")).await;
    assert_eq!(shown.body["purchase_price"]["amount_minor"], 129_999);
    assert_eq!(shown.body["estimated_value"]["amount_minor"], 90_000);
    assert_eq!(shown.body["attachments"].as_array().unwrap().len(), 3);
    let through = visit(app, &open, &format!("/attachments/{receipt}/file")).await;
    assert_eq!(through.status, StatusCode::SEE_OTHER);
    let (status, bytes) = files
        .download(through.headers["location"].to_str().unwrap())
        .await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, PDF));
}

async fn expired_unknown_and_revoked_links_are_refused(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let secret = "E".repeat(43);
    let now = OffsetDateTime::now_utc();
    app.store
        .insert_share_link(&ShareLinkRow {
            id: ShareLinkId::new(),
            household_id: ann.household.parse::<HouseholdId>().unwrap(),
            token_hash: token_hash(&secret),
            name: "Last year's insurer".into(),
            location_id: None,
            hide_prices: false,
            created_by: ann.user_id.parse::<UserId>().unwrap(),
            created_at: now - Duration::days(40),
            expires_at: now - Duration::days(10),
            revoked_at: None,
        })
        .await
        .unwrap();
    for rest in ["", "/items", "/locations"] {
        assert_closed(&visit(app, &secret, rest).await);
    }
    let listed = app.get(links(app, &ann), &ann).await;
    assert_eq!(listed.body["items"][0]["status"], "expired");

    for unknown in ["U".repeat(43), "short".to_string(), "x".repeat(200)] {
        let refused = visit(app, &unknown, "").await;
        refused.assert_status(404);
        assert_ne!(
            refused.body["error"]["message"],
            "This share link has expired or was revoked."
        );
    }
    // Nothing is written under /shared.
    let (secret, _) = make_link(app, &ann, json!({"name": "Sitter"})).await;
    let write = app
        .request(
            Method::POST,
            &format!("/api/v1/shared/{secret}/items"),
            None,
            Some(json!({"name": "Planted"})),
            &[],
        )
        .await;
    assert_eq!(write.status, StatusCode::METHOD_NOT_ALLOWED);
    let list = visit(app, &secret, "/items").await;
    assert_eq!(names(&list.body), Vec::<String>::new());
}

async fn every_use_is_logged_with_what_it_opened(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let drill = item(app, &ann, "Drill", None).await;
    let photo = files
        .attach(&ann, &drill, "photo", "drill.png", "image/png", png(8, 8))
        .await;
    let photo = photo.body["id"].as_str().unwrap().to_string();
    let (secret, link) = make_link(app, &ann, json!({"name": "Sitter"})).await;
    let id = link["id"].as_str().unwrap();

    visit(app, &secret, "").await.assert_status(200);
    visit(app, &secret, "/items").await.assert_status(200);
    visit(app, &secret, "/items?q=drill")
        .await
        .assert_status(200);
    visit(app, &secret, &format!("/items/{drill}"))
        .await
        .assert_status(200);
    let elsewhere = app.register("Eve").await;
    let hers = item(app, &elsewhere, "Eve's safe", None).await;
    visit(app, &secret, &format!("/items/{hers}"))
        .await
        .assert_status(404);
    // Someone signed in opens it too: the link works, and their session is left alone.
    let bob = app.register("Bob").await;
    let signed_in = app
        .request(
            Method::GET,
            &format!("/api/v1/shared/{secret}/attachments/{photo}/file"),
            Some(&bob.token),
            None,
            &[("user-agent", BROWSER)],
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    assert!(signed_in.headers.get("set-cookie").is_none());

    let uses = app
        .get(format!("{}/{id}/uses", links(app, &ann)), &ann)
        .await;
    uses.assert_status(200);
    let what: Vec<&str> = uses.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["what"].as_str().unwrap())
        .collect();
    assert_eq!(
        what,
        [
            "file “drill.png”",
            "refused: an item outside the link",
            "item “Drill”",
            "search “drill”",
            "list",
            "opened the link"
        ]
    );
    for used in uses.body["items"].as_array().unwrap() {
        assert_eq!(used["user_agent"], BROWSER);
        assert!(used["address"].is_string());
    }
    let listed = app.get(links(app, &ann), &ann).await;
    assert_eq!(listed.body["items"][0]["uses"], 6);
    assert!(listed.body["items"][0]["last_used_at"].is_string());

    // A page at a time, newest first.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                format!("{}/{id}/uses?limit=2&cursor={cursor}", links(app, &ann)),
                &ann,
            )
            .await;
        page.assert_status(200);
        for used in page.body["items"].as_array().unwrap() {
            seen.push(used["what"].as_str().unwrap().to_string());
        }
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, what);
}

async fn the_secret_is_kept_only_as_its_hash(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let (secret, _) = make_link(app, &ann, json!({"name": "Sitter"})).await;
    visit(app, &secret, "/items").await.assert_status(200);
    let url = TestDb::shared(app).url.clone();
    let (hashes, texts) = stored(&url).await;
    assert_eq!(hashes, [token_hash(&secret)]);
    assert!(
        !hashes[0]
            .windows(secret.len())
            .any(|w| w == secret.as_bytes())
    );
    assert!(!texts.is_empty());
    for text in texts {
        assert!(!text.contains(&secret), "stored in clear: {text}");
    }
}

async fn a_link_to_a_location_deleted_since_shows_nothing(backend: Backend) {
    let files = files(backend).await;
    let app = &files.app;
    let ann = app.register("Ann").await;
    let shed = app.create_location(&ann, "Shed", None).await;
    item(app, &ann, "Lamp", None).await;
    let (secret, _) = make_link(app, &ann, json!({"name": "Shed", "location_id": shed})).await;
    visit(app, &secret, "/items").await.assert_status(200);
    app.delete(app.at(&ann, &format!("/locations/{shed}")), &ann)
        .await
        .assert_status(204);
    for rest in ["", "/items", "/locations"] {
        let refused = visit(app, &secret, rest).await;
        refused.assert_status(404);
        assert_eq!(
            refused.body["error"]["message"],
            "the location this share link showed no longer exists"
        );
    }
    // Not the whole household instead: the unplaced lamp stays out of sight.
    let listed = app.get(links(app, &ann), &ann).await;
    assert_eq!(listed.body["items"][0]["location_path"], json!([]));
    assert_eq!(listed.body["items"][0]["location_id"], shed.as_str());
}

/// The stored hashes of every link, and every text column of links and their uses.
async fn stored(url: &str) -> (Vec<Vec<u8>>, Vec<String>) {
    let links = "SELECT token_hash, name FROM share_links";
    let uses = "SELECT what, address, coalesce(user_agent, '') FROM share_link_uses";
    if let Some(path) = url.strip_prefix("sqlite:") {
        let conn = rusqlite::Connection::open(path).unwrap();
        let mut hashes = Vec::new();
        let mut texts = Vec::new();
        let mut stmt = conn.prepare(links).unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            hashes.push(r.get::<_, Vec<u8>>(0).unwrap());
            texts.push(r.get::<_, String>(1).unwrap());
        }
        let mut stmt = conn.prepare(uses).unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(r) = rows.next().unwrap() {
            for i in 0..3 {
                texts.push(r.get::<_, String>(i).unwrap());
            }
        }
        (hashes, texts)
    } else {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        let rows = client.query(links, &[]).await.unwrap();
        let hashes = rows.iter().map(|r| r.get::<_, Vec<u8>>(0)).collect();
        let mut texts: Vec<String> = rows.iter().map(|r| r.get::<_, String>(1)).collect();
        for r in client.query(uses, &[]).await.unwrap() {
            for i in 0..3 {
                texts.push(r.get::<_, String>(i));
            }
        }
        (hashes, texts)
    }
}

//! Label sheets, read back as a printer and a phone would (`labels_pdf`): every template's
//! pages have the stock's size and count, each label's text lies inside its label, the
//! skipped positions stay blank, and every QR code decodes to its label's address, where
//! that label is.

use api::labels::{Label, Line, TEMPLATES, Template, address, render};
use axum::body::Body;
use axum::http::{Method, Request, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use crate::helpers::{Backend, Person, TestApp, spawn_app};
use crate::labels_pdf::{Pdf, cell, words_by_label};
use crate::on_every_backend;

const PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// Labels named `Item-01`, `Item-02`, … with asset ids 000-001, 000-002, …
fn numbered(count: usize) -> Vec<Label> {
    (1..=count)
        .map(|i| Label {
            code: format!("{i:06}"),
            lines: vec![
                Line::Title(format!("Item-{i:02}")),
                Line::Text(format!("000-{i:03}")),
                Line::Text("House › Garage".into()),
            ],
        })
        .collect()
}

/// Checks a rendered sheet: pages, page size, each label's name and QR code in the
/// position it should be in, nothing in the skipped positions.
fn check_sheet(template: &Template, labels: &[Label], skip: u32) {
    let pdf = Pdf::new(&render(template, labels, skip, PUBLIC_URL).unwrap());
    let per_page = template.labels_per_page() as usize;
    let pages = (labels.len() + skip as usize).div_ceil(per_page);
    let (count, (w, h)) = pdf.info();
    assert_eq!(count, pages, "{}: pages", template.id);
    let mm = |pt: f32| pt / api::labels::PT_PER_MM;
    assert!(
        (mm(w) - template.page_width as f32).abs() < 0.5
            && (mm(h) - template.page_height as f32).abs() < 0.5,
        "{}: page {} × {} mm",
        template.id,
        mm(w),
        mm(h)
    );
    // Where each label should be: (page, position) of the i-th label.
    let place = |i: usize| {
        let slot = i + skip as usize;
        (slot / per_page + 1, (slot % per_page) as u32)
    };

    let by_label = words_by_label(template, &pdf.words());
    for (i, label) in labels.iter().enumerate() {
        // The first word of the name, which is never cut.
        let Some(Line::Title(name)) = label.lines.first() else {
            unreachable!()
        };
        let name = name.split_whitespace().next().unwrap();
        let words = by_label
            .get(&place(i))
            .unwrap_or_else(|| panic!("{}: nothing at {:?} for {name}", template.id, place(i)));
        assert!(
            words.iter().any(|w| w.text == name),
            "{}: {name} is not at {:?}: {words:?}",
            template.id,
            place(i)
        );
    }
    assert_eq!(
        by_label.len(),
        labels.len(),
        "{}: text only on the printed labels",
        template.id
    );
    for position in 0..skip {
        assert!(
            !by_label.contains_key(&(1, position)),
            "{}: skipped {position} is blank",
            template.id
        );
    }

    // zbar reading a whole page of codes at once finds most of them (a grid of thirty can
    // hide one from it); each it finds is a label's, once. Then each label's position read
    // alone holds exactly that label's code, and a skipped one none.
    let expected: Vec<String> = labels
        .iter()
        .map(|l| address(PUBLIC_URL, &l.code))
        .collect();
    let pages_read = pdf.codes();
    assert_eq!(
        pages_read.len(),
        pages,
        "{}: a page image per page",
        template.id
    );
    let mut read: Vec<String> = pages_read.concat();
    assert!(
        read.len() * 10 >= expected.len() * 9,
        "{}: {read:?}",
        template.id
    );
    read.sort();
    let before = read.len();
    read.dedup();
    assert_eq!(read.len(), before, "{}: no code twice", template.id);
    assert!(
        read.iter().all(|r| expected.contains(r)),
        "{}: {read:?}",
        template.id
    );
    for (i, label) in labels.iter().enumerate() {
        let (page, position) = place(i);
        assert_eq!(
            pdf.codes_in(page, cell(template, position)),
            [address(PUBLIC_URL, &label.code)],
            "{}: the QR code on label {i}",
            template.id
        );
    }
    for position in 0..skip {
        assert_eq!(
            pdf.codes_in(1, cell(template, position)),
            Vec::<String>::new(),
            "{}: skipped position {position}",
            template.id
        );
    }
}

#[test]
fn every_template_prints_each_label_in_its_place_with_a_code_that_reads() {
    for template in TEMPLATES {
        // A full first page and two labels onto the next.
        let count = template.labels_per_page() as usize + 2;
        check_sheet(template, &numbered(count), 0);
    }
}

#[test]
fn skipped_positions_of_the_first_sheet_stay_blank() {
    let sheet = Template::find("avery-5160").unwrap();
    check_sheet(sheet, &numbered(5), 7);
    check_sheet(sheet, &numbered(30), 29);
    let a4 = Template::find("avery-l7160").unwrap();
    check_sheet(a4, &numbered(21), 4);
}

#[test]
fn long_names_and_places_stay_inside_their_labels() {
    for template in TEMPLATES {
        let labels: Vec<Label> = (1..=3)
            .map(|i| Label {
                code: format!("{:06}", 1000 + i),
                lines: vec![
                    Line::Title(format!(
                        "Item-{i:02} {}",
                        "Überlange Bezeichnung eines Gegenstands ".repeat(6)
                    )),
                    Line::Text(format!("001-{i:03}")),
                    Line::Text(
                        "House › Basement › Workshop › Shelf 3 › Blue box, left side".into(),
                    ),
                    Line::Text("W".repeat(120)),
                    Line::Contents {
                        names: (0..40).map(|n| format!("Thing number {n}")).collect(),
                        more: 60,
                    },
                ],
            })
            .collect();
        // words_by_label fails for any word that leaves its label.
        check_sheet(template, &labels, 0);
    }
}

// ------------------------------------------------------------------ through the API

on_every_backend!(
    each_template_prints_the_chosen_items_and_locations_with_their_asset_ids,
    a_location_s_items_its_contents_and_a_range_of_asset_ids_are_printed_in_order,
    viewers_and_read_only_tokens_print_and_the_templates_are_listed,
    bad_label_requests_are_refused_naming_the_field,
);

/// `POST …/labels` as `who` (a session) or with `Authorization: Bearer` (a token): the
/// status, the headers and the body's bytes.
async fn print(app: &TestApp, who: Credential<'_>, household: &str, body: Value) -> Printed {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/households/{household}/labels"))
        .header(header::CONTENT_TYPE, "application/json");
    request = match who {
        Credential::Session(person) => {
            request.header(header::COOKIE, format!("hi_session={}", person.token))
        }
        Credential::Token(token) => {
            request.header(header::AUTHORIZATION, format!("Bearer {token}"))
        }
    };
    let response = app
        .router
        .clone()
        .oneshot(request.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Printed {
        status,
        headers,
        bytes,
    }
}

enum Credential<'a> {
    Session(&'a Person),
    Token(&'a str),
}

struct Printed {
    status: u16,
    headers: axum::http::HeaderMap,
    bytes: Vec<u8>,
}

impl Printed {
    #[track_caller]
    fn pdf(&self) -> Pdf {
        assert_eq!(
            self.status,
            200,
            "{}",
            String::from_utf8_lossy(&self.bytes[..self.bytes.len().min(400)])
        );
        Pdf::new(&self.bytes)
    }

    /// The `details` of a 422.
    #[track_caller]
    fn refused(&self) -> Value {
        let body: Value = serde_json::from_slice(&self.bytes).unwrap();
        assert_eq!(self.status, 422, "{body}");
        assert_eq!(body["error"]["code"], "validation_failed");
        body["error"]["details"].clone()
    }
}

/// The address a thing's label leads to: its asset id's digits.
fn address_of(thing: &Value) -> String {
    let asset_id = thing["asset_id"].as_str().unwrap();
    address(PUBLIC_URL, &asset_id.replace('-', ""))
}

/// Each label's QR code read alone, in printing order (after `skip` positions).
fn codes_in_order(pdf: &Pdf, template: &Template, count: usize, skip: usize) -> Vec<Vec<String>> {
    let per_page = template.labels_per_page() as usize;
    (skip..skip + count)
        .map(|slot| {
            pdf.codes_in(
                slot / per_page + 1,
                cell(template, (slot % per_page) as u32),
            )
        })
        .collect()
}

async fn each_template_prints_the_chosen_items_and_locations_with_their_asset_ids(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let house = app.create_location(&ann, "House", None).await;
    let garage = app.create_location(&ann, "Garage", Some(&house)).await;
    let drill = app
        .create_item(&ann, json!({"name": "Drill", "location_id": garage}))
        .await
        .body;
    let saw = app
        .create_item(&ann, json!({"name": "Saw", "location_id": house}))
        .await
        .body;
    let garage_json = app
        .get(app.at(&ann, &format!("/locations/{garage}")), &ann)
        .await
        .body;
    let expected = [
        address_of(&drill),
        address_of(&saw),
        address_of(&garage_json),
    ];
    assert_ne!(expected[0], expected[1], "asset ids differ");
    assert_eq!(
        PUBLIC_URL, app.config.public_url,
        "the test server's address"
    );

    for template in TEMPLATES {
        let printed = print(
            &app,
            Credential::Session(&ann),
            &ann.household,
            json!({"template": template.id, "item_ids": [drill["id"], saw["id"]],
                   "location_ids": [garage]}),
        )
        .await;
        let pdf = printed.pdf();
        assert_eq!(printed.headers[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(
            printed.headers[header::CONTENT_DISPOSITION],
            format!("attachment; filename=\"labels-{}.pdf\"", template.id).as_str()
        );
        let pages = 3usize.div_ceil(template.labels_per_page() as usize);
        assert_eq!(pdf.info().0, pages, "{}", template.id);
        let codes = codes_in_order(&pdf, template, 3, 0);
        let expected_codes: Vec<Vec<String>> = expected.iter().map(|a| vec![a.clone()]).collect();
        assert_eq!(codes, expected_codes, "{}", template.id);
        // Each label's name, asset id and place, in its own cell.
        let words = words_by_label(template, &pdf.words());
        let per_page = template.labels_per_page() as usize;
        let text_of = |i: usize| -> String {
            words
                .get(&(i / per_page + 1, (i % per_page) as u32))
                .map(|w| {
                    w.iter()
                        .map(|w| w.text.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default()
        };
        let drill_id = drill["asset_id"].as_str().unwrap();
        assert!(
            text_of(0).starts_with(&format!("Drill {drill_id} House › Garage")),
            "{}: {}",
            template.id,
            text_of(0)
        );
        assert!(text_of(1).starts_with("Saw"), "{}", text_of(1));
        assert!(text_of(1).ends_with("House"), "{}", text_of(1));
        // A location's place is the locations above it.
        let garage_id = garage_json["asset_id"].as_str().unwrap();
        assert_eq!(
            text_of(2),
            format!("Garage {garage_id} House"),
            "{}",
            template.id
        );
    }

    // Skipping used positions through the API: the first two are blank.
    let sheet = Template::find("avery-5160").unwrap();
    let pdf = print(
        &app,
        Credential::Session(&ann),
        &ann.household,
        json!({"template": "avery-5160", "item_ids": [drill["id"]], "skip": 2}),
    )
    .await
    .pdf();
    assert!(pdf.codes_in(1, cell(sheet, 0)).is_empty());
    assert!(pdf.codes_in(1, cell(sheet, 1)).is_empty());
    assert_eq!(pdf.codes_in(1, cell(sheet, 2)), [expected[0].clone()]);
}

async fn a_location_s_items_its_contents_and_a_range_of_asset_ids_are_printed_in_order(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let shed = app.create_location(&ann, "Shed", None).await;
    let shelf = app.create_location(&ann, "Shelf", Some(&shed)).await;
    let mut made = Vec::new();
    for (name, place) in [
        ("Wheelbarrow", &shed),
        ("Axe", &shed),
        ("Paint", &shelf),
        ("Brushes", &shelf),
    ] {
        made.push(
            app.create_item(&ann, json!({"name": name, "location_id": place}))
                .await
                .body,
        );
    }
    let elsewhere = app.create_item(&ann, json!({"name": "Kettle"})).await.body;
    let trashed = app
        .create_item(&ann, json!({"name": "Broken rake", "location_id": shed}))
        .await
        .body;
    app.delete(
        app.at(&ann, &format!("/items/{}", trashed["id"].as_str().unwrap())),
        &ann,
    )
    .await
    .assert_status(204);
    let sheet = Template::find("avery-l7160").unwrap();

    // Every live item in the shed and below it, by name.
    let pdf = print(
        &app,
        Credential::Session(&ann),
        &ann.household,
        json!({"template": "avery-l7160", "items_in_location": shed}),
    )
    .await
    .pdf();
    let by_name = |name: &str| made.iter().find(|i| i["name"] == name).unwrap();
    let in_order: Vec<Vec<String>> = ["Axe", "Brushes", "Paint", "Wheelbarrow"]
        .iter()
        .map(|n| vec![address_of(by_name(n))])
        .collect();
    assert_eq!(codes_in_order(&pdf, sheet, 5, 0)[..4], in_order[..]);
    assert!(
        codes_in_order(&pdf, sheet, 5, 0)[4].is_empty(),
        "the kettle and the trashed rake are not in it"
    );

    // A location's label lists what is directly in it.
    let pdf = print(
        &app,
        Credential::Session(&ann),
        &ann.household,
        json!({"template": "avery-l7160", "location_ids": [shed, shelf],
               "fields": ["name", "contents", "custom"], "custom_line": "Property of Ann"}),
    )
    .await
    .pdf();
    let words = words_by_label(sheet, &pdf.words());
    let text = |position: u32| {
        words[&(1, position)]
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(text(0), "Shed Axe, Wheelbarrow Property of Ann");
    assert_eq!(text(1), "Shelf Brushes, Paint Property of Ann");

    // A range of asset ids: items and locations in number order, the trashed one left out.
    let mut numbered: Vec<(String, String)> = made
        .iter()
        .chain([&elsewhere])
        .map(|i| (i["asset_id"].as_str().unwrap().to_string(), address_of(i)))
        .collect();
    for id in [&shed, &shelf] {
        let location = app
            .get(app.at(&ann, &format!("/locations/{id}")), &ann)
            .await
            .body;
        numbered.push((
            location["asset_id"].as_str().unwrap().to_string(),
            address_of(&location),
        ));
    }
    numbered.sort();
    let (first, last) = (
        numbered[0].0.clone(),
        numbered[numbered.len() - 1].0.clone(),
    );
    let pdf = print(
        &app,
        Credential::Session(&ann),
        &ann.household,
        json!({"template": "avery-l7160", "asset_range": {"from": first, "to": last}}),
    )
    .await
    .pdf();
    let expected: Vec<Vec<String>> = numbered.iter().map(|(_, a)| vec![a.clone()]).collect();
    assert_eq!(codes_in_order(&pdf, sheet, expected.len(), 0), expected);
    // The same range written as plain numbers.
    let plain = |id: &str| id.replace('-', "").trim_start_matches('0').to_string();
    let printed = print(
        &app,
        Credential::Session(&ann),
        &ann.household,
        json!({"template": "avery-l7160", "asset_range": {"from": plain(&first), "to": format!("#{}", plain(&last))}}),
    )
    .await;
    assert_eq!(
        printed.bytes,
        print(
            &app,
            Credential::Session(&ann),
            &ann.household,
            json!({"template": "avery-l7160", "asset_range": {"from": first, "to": last}}),
        )
        .await
        .bytes,
        "the same labels, byte for byte"
    );
}

async fn viewers_and_read_only_tokens_print_and_the_templates_are_listed(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let lamp = app.create_item(&ann, json!({"name": "Lamp"})).await.body;
    let (token, _) =
        crate::tokens::make_token(&app, &ann, json!({"name": "printer", "scope": "read"})).await;
    let pdf = print(
        &app,
        Credential::Token(&token),
        &ann.household,
        json!({"template": "dymo-30252", "item_ids": [lamp["id"]]}),
    )
    .await
    .pdf();
    assert_eq!(
        pdf.codes_in(1, cell(Template::find("dymo-30252").unwrap(), 0)),
        [address_of(&lamp)]
    );

    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let code = invite.body["code"].as_str().unwrap();
    let vic = app.register("Vic").await;
    app.post(format!("/api/v1/invites/{code}/accept"), &vic, Value::Null)
        .await
        .assert_status(200);
    print(
        &app,
        Credential::Session(&vic),
        &ann.household,
        json!({"template": "avery-5160", "item_ids": [lamp["id"]]}),
    )
    .await
    .pdf();

    // The stocks, with their sizes in millimetres.
    let listed = app.get(app.at(&vic, "/labels/templates"), &vic).await;
    listed.assert_status(200);
    let listed = &listed.body["items"];
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    for id in [
        "avery-5160",
        "avery-l7160",
        "brother-62mm",
        "brother-29x90",
        "dymo-30252",
    ] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let avery = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "avery-5160")
        .unwrap();
    assert_eq!(avery["kind"], "sheet");
    assert_eq!(avery["label_width_mm"], 66.675);
    assert_eq!(avery["label_height_mm"], 25.4);
    assert_eq!(avery["page_width_mm"], 215.9);
    assert_eq!(avery["labels_per_page"], 30);
    let dymo = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "dymo-30252")
        .unwrap();
    assert_eq!(dymo["kind"], "roll");
    assert_eq!(dymo["labels_per_page"], 1);

    // Another household's labels are not anyone else's to print or list.
    let eve = app.register("Eve").await;
    app.get(app.at(&ann, "/labels/templates"), &eve)
        .await
        .assert_status(404);
    let printed = print(
        &app,
        Credential::Session(&eve),
        &ann.household,
        json!({"template": "avery-5160", "item_ids": [lamp["id"]]}),
    )
    .await;
    assert_eq!(printed.status, 404);
}

async fn bad_label_requests_are_refused_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let ann = app.register("Ann").await;
    let lamp = app.create_item(&ann, json!({"name": "Lamp"})).await.body;
    let place = app.create_location(&ann, "Attic", None).await;
    let gone = app
        .create_item(&ann, json!({"name": "Old lamp"}))
        .await
        .body;
    app.delete(
        app.at(&ann, &format!("/items/{}", gone["id"].as_str().unwrap())),
        &ann,
    )
    .await
    .assert_status(204);
    let carl = app.register("Carl").await;
    let carls_item = app
        .create_item(&carl, json!({"name": "Carl's saw"}))
        .await
        .id();
    let carls_place = app.create_location(&carl, "Carl's shed", None).await;
    let unknown = uuid::Uuid::now_v7().to_string();
    let many: Vec<String> = (0..1001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    let long_line = "x".repeat(81);

    let cases: Vec<(Value, &str, &str)> = vec![
        (json!({"item_ids": [lamp["id"]]}), "template", "choose"),
        (
            json!({"template": "avery-9999", "item_ids": [lamp["id"]]}),
            "template",
            "avery-5160",
        ),
        (
            json!({"template": "avery-5160"}),
            "item_ids",
            "choose what to label",
        ),
        (
            json!({"template": "avery-5160", "item_ids": []}),
            "item_ids",
            "choose what to label",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "skip": -1}),
            "skip",
            "0 to 29",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "skip": 30}),
            "skip",
            "0 to 29",
        ),
        (
            json!({"template": "brother-62mm", "item_ids": [lamp["id"]], "skip": 1}),
            "skip",
            "must be 0",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "skip": "two"}),
            "skip",
            "",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [carls_item]}),
            "item_ids",
            "not in this household",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [unknown]}),
            "item_ids",
            "not in this household",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [gone["id"]]}),
            "item_ids",
            "trash",
        ),
        (
            json!({"template": "avery-5160", "item_ids": many}),
            "item_ids",
            "1000",
        ),
        (
            json!({"template": "avery-5160", "location_ids": [carls_place]}),
            "location_ids",
            "not in this household",
        ),
        (
            json!({"template": "avery-5160", "items_in_location": carls_place}),
            "items_in_location",
            "not a location",
        ),
        (
            json!({"template": "avery-5160", "items_in_location": place}),
            "items_in_location",
            "holds no items",
        ),
        (
            json!({"template": "avery-5160", "asset_range": {"from": "abc", "to": "000-010"}}),
            "asset_range",
            "from",
        ),
        (
            json!({"template": "avery-5160", "asset_range": {"from": "1", "to": "0"}}),
            "asset_range",
            "to",
        ),
        (
            json!({"template": "avery-5160", "asset_range": {"from": "000-020", "to": "000-010"}}),
            "asset_range",
            "comes after",
        ),
        (
            json!({"template": "avery-5160", "asset_range": {"from": "900-000", "to": "900-010"}}),
            "asset_range",
            "no item or location",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "custom_line": long_line}),
            "custom_line",
            "80",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "fields": ["name", "custom"]}),
            "custom_line",
            "custom",
        ),
        (
            json!({"template": "avery-5160", "item_ids": [lamp["id"]], "fields": ["name", "price"]}),
            "fields",
            "",
        ),
    ];
    for (body, field, says) in cases {
        let details = print(
            &app,
            Credential::Session(&ann),
            &ann.household,
            body.clone(),
        )
        .await
        .refused();
        let message = details[field]
            .as_str()
            .unwrap_or_else(|| panic!("{field} in {details} for {body}"));
        assert!(message.contains(says), "{field}: {message:?} for {body}");
    }
}

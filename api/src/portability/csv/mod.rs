//! Homebox-compatible CSV: [`CsvExport`] writes a household's items, [`CsvImport`] reads
//! items back from our own exports, from Homebox's exports and from files people make by
//! hand in Homebox's format. Both stream: one row in memory at a time.
//!
//! # Columns
//!
//! Written in this order: Homebox's 25 columns as current Homebox exports them, then ours
//! (`HB.x.*`), then one `HB.field.<name>` per custom field, sorted. On import, column names
//! are matched without regard to case, in any order, and any may be missing except a name.
//!
//! | column | our item | on import |
//! |---|---|---|
//! | `HB.import_ref` | the item's id | → `ImportRow::import_ref` |
//! | `HB.parent_import_ref` | written empty | custom field "Parent import ref" |
//! | `HB.location` | location path, joined with ` / ` | split on `/`, trimmed, empty parts dropped |
//! | `HB.tags` (also `HB.labels`, `HB.label`, `HB.tag`) | tags, joined with `; ` | split on `;`, trimmed; all such columns together |
//! | `HB.asset_id` | asset id, `000-123` | → `ImportRow::asset_id`: a new item keeps it when no other item or location of the household has it, else gets a new number; an item updated keeps its own |
//! | `HB.archived` | `false` | `true` → custom field "Archived" = `true`; false or empty → nothing |
//! | `HB.url` | written empty | custom field "URL" |
//! | `HB.name` | name | required |
//! | `HB.quantity` | quantity | a whole number (`2.0` is 2) |
//! | `HB.description` | description | |
//! | `HB.insured` | insured | yes/no |
//! | `HB.notes` | notes | |
//! | `HB.purchase_price` | purchase price | amount |
//! | `HB.purchase_from` | purchased from | |
//! | `HB.purchase_date` (also `HB.purchase_time`) | purchase date | date |
//! | `HB.manufacturer` | brand | |
//! | `HB.model_number` | model | |
//! | `HB.serial_number` | serial number | |
//! | `HB.lifetime_warranty` | lifetime warranty | yes/no |
//! | `HB.warranty_expires` | warranty expires | date |
//! | `HB.warranty_details` | custom field "Warranty details" | custom field "Warranty details" |
//! | `HB.sold_to` | sold to | |
//! | `HB.sold_price` | sold price | amount |
//! | `HB.sold_date` (also `HB.sold_time`) | sold date | date |
//! | `HB.sold_notes` | sold notes | |
//! | `HB.x.estimated_value` | estimated value | amount |
//! | `HB.x.currency` | currency of the row's amounts (empty without amounts) | must be the household's, else the row is refused |
//! | `HB.x.barcode` | barcode | |
//! | `HB.x.created_at`, `HB.x.updated_at` | RFC 3339, UTC | not read: the household's copy keeps its own |
//! | `HB.field.<name>` | custom field `<name>` | custom field `<name>` |
//! | any other `HB.<name>` / `HB.x.<name>` | — | custom field named for people (`HB.warranty_info` → "Warranty info") |
//! | any other column | — | custom field named as the column |
//!
//! A file without any `HB.` column is read in Homebox's first import format (its own test
//! files `import.csv` and `import.tsv`): `Import Ref`, `Location`, `Labels`, `Quantity`,
//! `Name`, `Description`, `Insured`, `Serial Number`, `Model Number` (also its misspelt
//! `Mode Number`), `Manufacturer`, `Notes`, `Purchase From`, `Purchased Price`,
//! `Purchased Time`, `Lifetime Warranty`, `Warranty Expires`, `Warranty Details`,
//! `Sold To`, `Sold Price`, `Sold Time` and `Sold Notes` mean the columns above (any
//! `HB.` name works without its prefix there too).
//!
//! # Cells
//!
//! - Amounts: major units without a currency and without trailing zeros, as Homebox writes
//!   them (`1299.99`, `12.5`, `349`). Read with or without thousands separators, a
//!   currency symbol or the household's code, `.` or `,` for decimals, in the household
//!   currency's decimals. Homebox writes `0` for "no price", so 0 reads as no amount and
//!   no amount is written as an empty cell.
//! - Dates `YYYY-MM-DD`; also read: `MM/DD/YYYY`, `YYYY/MM/DD`, RFC 3339 timestamps.
//! - Yes/no written `true`/`false`; read: true/false, yes/no, 1/0 in any case; empty is
//!   "not given".
//! - Text a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
//!   CR) is written with a `'` in front, and that `'` is removed on import (the same rule as
//!   Homebox, so a value that already starts with `'` before such a character gets one
//!   more).
//! - A `/` inside a location name or a `;` inside a tag can't be told apart from the
//!   separators: Homebox's format has no escape for them.
//!
//! # Rows
//!
//! Files are UTF-8 (a byte order mark is skipped), comma, tab or semicolon separated
//! (sniffed from the first line), quoted cells may hold separators and line breaks. Rows
//! with no text in any cell are skipped, and so are the location rows of Homebox exports
//! (`HB.url` ending in `/location/<id>`): the locations come from the items' paths. A row
//! with fewer cells than columns is read as far as it goes; cells beyond the last column
//! are ignored. A row that can't be read becomes an error that names the column, and the
//! rows after it are read as usual.

mod columns;
mod export;
mod import;
mod values;

#[cfg(test)]
mod tests;

pub use export::{CsvExport, ExportItem};
pub use import::{CsvImport, ImportRow};

/// Homebox's columns, in the order current Homebox exports them.
const HOMEBOX_COLUMNS: [&str; 25] = [
    "HB.import_ref",
    "HB.parent_import_ref",
    "HB.location",
    "HB.tags",
    "HB.asset_id",
    "HB.archived",
    "HB.url",
    "HB.name",
    "HB.quantity",
    "HB.description",
    "HB.insured",
    "HB.notes",
    "HB.purchase_price",
    "HB.purchase_from",
    "HB.purchase_date",
    "HB.manufacturer",
    "HB.model_number",
    "HB.serial_number",
    "HB.lifetime_warranty",
    "HB.warranty_expires",
    "HB.warranty_details",
    "HB.sold_to",
    "HB.sold_price",
    "HB.sold_date",
    "HB.sold_notes",
];

/// What we keep that Homebox has no column for, after Homebox's columns.
const EXTRA_COLUMNS: [&str; 5] = [
    "HB.x.estimated_value",
    "HB.x.currency",
    "HB.x.barcode",
    "HB.x.created_at",
    "HB.x.updated_at",
];

/// Custom fields with these names fill Homebox's column instead of an `HB.field.*` one.
const WARRANTY_DETAILS: &str = "Warranty details";
/// Custom fields made from Homebox columns we have no field for.
const ARCHIVED: &str = "Archived";
const URL: &str = "URL";
const PARENT_IMPORT_REF: &str = "Parent import ref";

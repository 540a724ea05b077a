//! Writing items as Homebox-compatible CSV.

use std::io::{self, Write};

use shared::{Day, ItemFields, ItemId, Money};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::values::{format_amount, neutralise};
use super::{EXTRA_COLUMNS, HOMEBOX_COLUMNS, WARRANTY_DETAILS};

/// One item as the export writes it: its fields and what the household's copy knows
/// besides (where it is, its asset id, when it was made and changed).
#[derive(Clone, Copy, Debug)]
pub struct ExportItem<'a> {
    pub id: ItemId,
    pub fields: &'a ItemFields,
    /// Location names from the root down; empty when the item has no location.
    pub location_path: &'a [String],
    pub asset_id: Option<&'a str>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A CSV file being written, one item at a time.
pub struct CsvExport<W: Write> {
    writer: ::csv::Writer<W>,
    /// The `HB.field.*` columns, sorted, without the fields that have a column of their own.
    custom_fields: Vec<String>,
}

impl<W: Write> CsvExport<W> {
    /// Writes the UTF-8 byte order mark (so spreadsheets read the file as UTF-8) and the
    /// header; `custom_fields` = every custom field name that occurs (one
    /// `HB.field.<name>` column each, sorted).
    pub fn new(mut out: W, custom_fields: &[String]) -> io::Result<Self> {
        out.write_all("\u{feff}".as_bytes())?;
        let mut custom_fields: Vec<String> = custom_fields
            .iter()
            .filter(|name| *name != WARRANTY_DETAILS)
            .cloned()
            .collect();
        custom_fields.sort();
        custom_fields.dedup();
        let mut writer = ::csv::Writer::from_writer(out);
        let header: Vec<String> = HOMEBOX_COLUMNS
            .iter()
            .chain(EXTRA_COLUMNS.iter())
            .map(|column| column.to_string())
            .chain(custom_fields.iter().map(|name| format!("HB.field.{name}")))
            .collect();
        writer.write_record(&header)?;
        Ok(Self {
            writer,
            custom_fields,
        })
    }

    /// Writes one item. A custom field whose name was not given to [`CsvExport::new`] is
    /// an error (`InvalidInput`), not a value silently left out.
    pub fn write(&mut self, item: &ExportItem<'_>) -> io::Result<()> {
        let f = item.fields;
        let text = |value: Option<&str>| neutralise(value.unwrap_or_default()).into_owned();
        let day = |value: Option<Day>| value.map(|d| d.to_string()).unwrap_or_default();
        let amount = |value: Option<&Money>| value.map(format_amount).unwrap_or_default();
        let currency = [&f.purchase_price, &f.estimated_value, &f.sold_price]
            .into_iter()
            .flatten()
            .find(|money| money.amount_minor != 0)
            .map(|money| money.currency.to_string())
            .unwrap_or_default();

        if let Some(unknown) = f.custom_fields.keys().find(|name| {
            *name != WARRANTY_DETAILS && self.custom_fields.binary_search(name).is_err()
        }) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("custom field {unknown:?} has no column: the header did not name it"),
            ));
        }

        let mut row: Vec<String> = vec![
            // Homebox's columns.
            item.id.to_string(),
            String::new(),
            text(Some(&item.location_path.join(" / "))),
            text(Some(&f.tags.join("; "))),
            text(item.asset_id),
            "false".into(),
            String::new(),
            text(Some(&f.name)),
            f.quantity.to_string(),
            text(f.description.as_deref()),
            f.insured.to_string(),
            text(f.notes.as_deref()),
            amount(f.purchase_price.as_ref()),
            text(f.purchased_from.as_deref()),
            day(f.purchase_date),
            text(f.brand.as_deref()),
            text(f.model.as_deref()),
            text(f.serial_number.as_deref()),
            f.lifetime_warranty.to_string(),
            day(f.warranty_expires),
            text(f.custom_fields.get(WARRANTY_DETAILS).map(String::as_str)),
            text(f.sold_to.as_deref()),
            amount(f.sold_price.as_ref()),
            day(f.sold_date),
            text(f.sold_notes.as_deref()),
            // Ours.
            amount(f.estimated_value.as_ref()),
            currency,
            text(f.barcode.as_deref()),
            timestamp(item.created_at)?,
            timestamp(item.updated_at)?,
        ];
        row.extend(
            self.custom_fields
                .iter()
                .map(|name| text(f.custom_fields.get(name).map(String::as_str))),
        );
        self.writer.write_record(&row)?;
        Ok(())
    }

    /// Flushes what is still buffered and hands back the output.
    pub fn finish(self) -> io::Result<W> {
        self.writer.into_inner().map_err(|e| e.into_error())
    }
}

/// RFC 3339 in UTC: `2024-05-31T12:00:00Z`.
fn timestamp(at: OffsetDateTime) -> io::Result<String> {
    at.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(io::Error::other)
}

//! Reading items from Homebox-compatible CSV, one row at a time.

use std::collections::BTreeMap;
use std::io::{self, Chain, Cursor, Read};

use ::csv::{ByteRecord, Position, ReaderBuilder, Terminator};
use shared::{CreateItem, Currency, Money};

use super::columns::{Column, Target, columns};
use super::values::{parse_amount, parse_bool, parse_date, parse_quantity, readable, restore};
use super::{ARCHIVED, URL};

/// How much of the start of a file is looked at for its encoding and separator.
const SNIFF_BYTES: u64 = 64 * 1024;

const SAVE_AS_UTF8: &str = "save it as UTF-8 (in Excel: \"CSV UTF-8\") and import it again";

/// One row of the file.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRow {
    /// The line the row starts on (the header is line 1; line breaks inside quoted cells
    /// count).
    pub line: u64,
    pub import_ref: Option<String>,
    pub asset_id: Option<String>,
    /// Location names from the root down: `House / Garage/ Shelf` → House, Garage, Shelf.
    pub location_path: Vec<String>,
    /// The item, or why the row can't be read, naming the column
    /// (`HB.purchase_price: "abc" is not an amount`).
    pub item: Result<CreateItem, String>,
}

/// A CSV file being read, one row at a time; never more than a row (and the first 64 KiB
/// looked at when opening) in memory.
pub struct CsvImport<R: Read> {
    reader: ::csv::Reader<LineEnds<Chain<Cursor<Vec<u8>>, R>>>,
    columns: Vec<Column>,
    name_column: String,
    currency: Currency,
    record: ByteRecord,
    finished: bool,
}

impl<R: Read> CsvImport<R> {
    /// Reads the header: skips a byte order mark, sniffs comma vs tab vs semicolon, maps the
    /// columns (without regard to case, aliases included). A file that is empty, binary,
    /// not UTF-8 or has no name column is refused with a message for the person who chose
    /// it.
    pub fn open(mut input: R, currency: &Currency) -> Result<Self, String> {
        let unreadable = |e: &dyn std::fmt::Display| format!("The file could not be read: {e}");
        let mut head = Vec::new();
        input
            .by_ref()
            .take(SNIFF_BYTES)
            .read_to_end(&mut head)
            .map_err(|e| unreadable(&e))?;
        let whole_file = (head.len() as u64) < SNIFF_BYTES;
        if head.starts_with(b"\xEF\xBB\xBF") {
            head.drain(..3);
        }
        check_head(&head, whole_file)?;

        let mut reader = ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(sniff_separator(&head))
            .terminator(Terminator::Any(b'\n'))
            .from_reader(LineEnds::new(Cursor::new(head).chain(input)));
        let mut record = ByteRecord::new();
        if !reader
            .read_byte_record(&mut record)
            .map_err(|e| unreadable(&e))?
        {
            return Err("The file is empty: it has no lines.".into());
        }
        let headers = record
            .iter()
            .map(|cell| std::str::from_utf8(cell).map(|h| h.trim().to_string()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("The file is not UTF-8 text (line 1); {SAVE_AS_UTF8}."))?;
        let columns = columns(&headers);
        let name_column = columns
            .iter()
            .find(|c| c.target == Target::Name)
            .map(|c| c.header.clone())
            .ok_or(
                "The file has no HB.name column, so its items would have no names. Its first \
                 line must name the columns, like: HB.name,HB.location,HB.quantity",
            )?;
        Ok(Self {
            reader,
            columns,
            name_column,
            currency: currency.clone(),
            record,
            finished: false,
        })
    }

    /// The current record as a row; `None` for a row to skip.
    fn row(&self) -> Option<ImportRow> {
        let mut row = RowBuilder::new(&self.currency);
        let mut empty = true;
        for (column, cell) in self.columns.iter().zip(self.record.iter()) {
            let Ok(cell) = std::str::from_utf8(cell) else {
                row.errors.push(format!(
                    "{}: is not UTF-8 text; {SAVE_AS_UTF8}",
                    column.header
                ));
                row.name_unreadable |= column.target == Target::Name;
                empty = false;
                continue;
            };
            let value = restore(cell.trim());
            if !value.is_empty() {
                empty = false;
                row.put(column, value);
            }
        }
        if empty || row.location_row {
            return None;
        }
        Some(row.finish(self.first_line(), &self.name_column))
    }

    /// The line the current record starts on. The position the csv reader gives a record
    /// is taken before the blank lines it skips, so count back from where the record ends
    /// instead: every record ends with a `\n` (see [`LineEnds`]), and the only other line
    /// breaks in it are those inside quoted cells.
    fn first_line(&self) -> u64 {
        let inside = self
            .record
            .as_slice()
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        self.reader
            .position()
            .line()
            .saturating_sub(inside as u64 + 1)
            .max(1)
    }
}

impl<R: Read> Iterator for CsvImport<R> {
    type Item = ImportRow;

    fn next(&mut self) -> Option<ImportRow> {
        while !self.finished {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(true) => {
                    if let Some(row) = self.row() {
                        return Some(row);
                    }
                }
                Ok(false) => self.finished = true,
                Err(e) => {
                    self.finished = true;
                    return Some(ImportRow {
                        line: e.position().map_or(0, Position::line),
                        import_ref: None,
                        asset_id: None,
                        location_path: Vec::new(),
                        item: Err(format!("The rest of the file could not be read: {e}")),
                    });
                }
            }
        }
        None
    }
}

/// Refuses what is plainly not a UTF-8 CSV file, by its first bytes.
fn check_head(head: &[u8], whole_file: bool) -> Result<(), String> {
    if whole_file && head.iter().all(u8::is_ascii_whitespace) {
        return Err("The file is empty: it has no lines.".into());
    }
    if head.starts_with(b"PK\x03\x04") {
        return Err("This is a zip file, not a CSV file.".into());
    }
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(format!("The file is UTF-16 text; {SAVE_AS_UTF8}."));
    }
    if head.contains(&0) {
        return Err("This is not a CSV file: it holds binary data.".into());
    }
    match std::str::from_utf8(head) {
        // A character cut in two at the end of what was looked at is fine.
        Err(e) if e.error_len().is_some() || whole_file => {
            let before = &head[..e.valid_up_to()];
            let line = before.iter().filter(|b| **b == b'\n').count()
                + before
                    .windows(2)
                    .filter(|w| w[0] == b'\r' && w[1] != b'\n')
                    .count()
                + 1;
            Err(format!(
                "The file is not UTF-8 text (line {line}); {SAVE_AS_UTF8}."
            ))
        }
        _ => Ok(()),
    }
}

/// The separator that occurs most often on the first line, outside quotes: comma, tab or
/// semicolon (a tie goes to the comma, then the tab).
fn sniff_separator(head: &[u8]) -> u8 {
    let (mut commas, mut tabs, mut semicolons) = (0, 0, 0);
    let mut quoted = false;
    for byte in head {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            b',' if !quoted => commas += 1,
            b'\t' if !quoted => tabs += 1,
            b';' if !quoted => semicolons += 1,
            _ => {}
        }
    }
    if tabs > commas && tabs >= semicolons {
        b'\t'
    } else if semicolons > commas && semicolons > tabs {
        b';'
    } else {
        b','
    }
}

/// Line breaks outside quotes as `\n`, from `\r\n` and from a lone `\r` (old Mac files),
/// and a `\n` after the last row if the file has none: every row ends with `\n`, which
/// [`CsvImport::first_line`] counts on. Quoted cells keep their line breaks as written.
struct LineEnds<R> {
    inner: R,
    quoted: bool,
    after_cr: bool,
    /// The last byte handed out; `None` before the first and after the end.
    last: Option<u8>,
}

impl<R> LineEnds<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            quoted: false,
            after_cr: false,
            last: None,
        }
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let read = self.inner.read(buf)?;
            if read == 0 {
                let unended = self.last.is_some_and(|b| b != b'\n');
                self.last = None;
                if unended {
                    buf[0] = b'\n';
                    return Ok(1);
                }
                return Ok(0);
            }
            let mut kept = 0;
            for i in 0..read {
                let after_cr = std::mem::take(&mut self.after_cr);
                let byte = match buf[i] {
                    b'"' => {
                        self.quoted = !self.quoted;
                        b'"'
                    }
                    b'\n' if after_cr => continue,
                    b'\r' if !self.quoted => {
                        self.after_cr = true;
                        b'\n'
                    }
                    byte => byte,
                };
                buf[kept] = byte;
                kept += 1;
            }
            // Only the `\n` of a `\r\n` split across two reads came: read on.
            if kept > 0 {
                self.last = Some(buf[kept - 1]);
                return Ok(kept);
            }
        }
    }
}

/// Whether a Homebox `HB.url` points at a location (`…/location/<id>`), not an item.
fn is_location_url(url: &str) -> bool {
    let mut parts = url.trim_end_matches('/').rsplit('/');
    let id = parts.next().unwrap_or_default();
    !id.is_empty() && parts.next() == Some("location")
}

fn split(value: &str, separator: char) -> Vec<String> {
    value
        .split(separator)
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(String::from)
        .collect()
}

/// One row's values as they are read.
struct RowBuilder<'a> {
    currency: &'a Currency,
    item: CreateItem,
    import_ref: Option<String>,
    asset_id: Option<String>,
    location_path: Vec<String>,
    tags: Vec<String>,
    custom_fields: BTreeMap<String, String>,
    /// The column each field of `item` came from, to name it in messages.
    sources: BTreeMap<&'static str, &'a str>,
    errors: Vec<String>,
    /// The name's cell is there but can't be read (so it is not missing).
    name_unreadable: bool,
    location_row: bool,
}

impl<'a> RowBuilder<'a> {
    fn new(currency: &'a Currency) -> Self {
        Self {
            currency,
            item: CreateItem::default(),
            import_ref: None,
            asset_id: None,
            location_path: Vec::new(),
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            sources: BTreeMap::new(),
            errors: Vec::new(),
            name_unreadable: false,
            location_row: false,
        }
    }

    /// Takes one non-empty cell. Where two columns fill the same field, the first one with
    /// a value wins; tags from several columns add up.
    fn put(&mut self, column: &'a Column, value: &str) {
        let header = column.header.as_str();
        let currency = self.currency;
        let text = |v: &str| Ok(Some(v.to_string()));
        let amount = |v: &str| {
            parse_amount(v, currency).map(|minor| {
                minor.map(|amount_minor| Money {
                    amount_minor,
                    currency: currency.clone(),
                })
            })
        };
        match &column.target {
            Target::ImportRef => {
                self.import_ref.get_or_insert_with(|| value.to_string());
            }
            Target::AssetId => {
                self.asset_id.get_or_insert_with(|| value.to_string());
            }
            Target::Location => {
                if self.location_path.is_empty() {
                    self.location_path = split(value, '/');
                }
            }
            Target::Tags => {
                self.sources.entry("tags").or_insert(header);
                self.tags.extend(split(value, ';'));
            }
            Target::Archived => match parse_bool(value) {
                Ok(Some(true)) => self.custom(ARCHIVED, "true"),
                Ok(_) => {}
                Err(_) => self.custom(ARCHIVED, value),
            },
            Target::Url => {
                self.location_row = is_location_url(value);
                self.custom(URL, value);
            }
            Target::Currency => {
                if !value.eq_ignore_ascii_case(self.currency.as_str()) {
                    self.errors.push(format!(
                        "{header}: the amounts are in {value}, the household's currency is {}",
                        self.currency
                    ));
                }
            }
            Target::Custom(name) => self.custom(name, value),
            Target::Ignored => {}
            Target::Name => self.set("name", header, value, text, |i| &mut i.name),
            Target::Quantity => self.set("quantity", header, value, parse_quantity, |i| {
                &mut i.quantity
            }),
            Target::Description => {
                self.set("description", header, value, text, |i| &mut i.description)
            }
            Target::Insured => self.set("insured", header, value, parse_bool, |i| &mut i.insured),
            Target::Notes => self.set("notes", header, value, text, |i| &mut i.notes),
            Target::PurchasePrice => self.set("purchase_price", header, value, amount, |i| {
                &mut i.purchase_price
            }),
            Target::PurchaseFrom => self.set("purchased_from", header, value, text, |i| {
                &mut i.purchased_from
            }),
            Target::PurchaseDate => self.set("purchase_date", header, value, parse_date, |i| {
                &mut i.purchase_date
            }),
            Target::Brand => self.set("brand", header, value, text, |i| &mut i.brand),
            Target::Model => self.set("model", header, value, text, |i| &mut i.model),
            Target::SerialNumber => self.set("serial_number", header, value, text, |i| {
                &mut i.serial_number
            }),
            Target::LifetimeWarranty => {
                self.set("lifetime_warranty", header, value, parse_bool, |i| {
                    &mut i.lifetime_warranty
                })
            }
            Target::WarrantyExpires => {
                self.set("warranty_expires", header, value, parse_date, |i| {
                    &mut i.warranty_expires
                })
            }
            Target::SoldTo => self.set("sold_to", header, value, text, |i| &mut i.sold_to),
            Target::SoldPrice => {
                self.set("sold_price", header, value, amount, |i| &mut i.sold_price)
            }
            Target::SoldDate => {
                self.set("sold_date", header, value, parse_date, |i| &mut i.sold_date)
            }
            Target::SoldNotes => self.set("sold_notes", header, value, text, |i| &mut i.sold_notes),
            Target::EstimatedValue => self.set("estimated_value", header, value, amount, |i| {
                &mut i.estimated_value
            }),
            Target::Barcode => self.set("barcode", header, value, text, |i| &mut i.barcode),
        }
    }

    /// Reads `value` into a field of the item unless an earlier column filled it.
    fn set<T>(
        &mut self,
        field: &'static str,
        header: &'a str,
        value: &str,
        parse: impl FnOnce(&str) -> Result<Option<T>, String>,
        slot: impl FnOnce(&mut CreateItem) -> &mut Option<T>,
    ) {
        let slot = slot(&mut self.item);
        if slot.is_some() {
            return;
        }
        match parse(value) {
            Ok(parsed) => {
                if parsed.is_some() {
                    *slot = parsed;
                    self.sources.insert(field, header);
                }
            }
            Err(reason) => self.errors.push(format!("{header}: \"{value}\" {reason}")),
        }
    }

    fn custom(&mut self, name: &str, value: &str) {
        self.custom_fields
            .entry(name.to_string())
            .or_insert_with(|| value.to_string());
    }

    fn finish(mut self, line: u64, name_column: &str) -> ImportRow {
        if !self.tags.is_empty() {
            self.item.tags = Some(self.tags);
        }
        if !self.custom_fields.is_empty() {
            self.item.custom_fields = Some(self.custom_fields);
        }
        if self.item.name.is_none() && !self.name_unreadable {
            self.errors.push(format!("{name_column} is required"));
        }
        if self.errors.is_empty()
            && let Err(problems) = self.item.validate(self.currency)
        {
            for (field, problem) in problems {
                let column = match self.sources.get(field.as_str()) {
                    Some(column) => column.to_string(),
                    None => readable(&field),
                };
                self.errors.push(format!("{column}: {problem}"));
            }
        }
        ImportRow {
            line,
            import_ref: self.import_ref,
            asset_id: self.asset_id,
            location_path: self.location_path,
            item: if self.errors.is_empty() {
                Ok(self.item)
            } else {
                Err(self.errors.join("; "))
            },
        }
    }
}

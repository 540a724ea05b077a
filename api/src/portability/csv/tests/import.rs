//! Files made by hand, broken files, and reading as the file goes.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::Read;
use std::rc::Rc;

use super::super::CsvImport;
use super::{day, fixture, import, item, refused, strings, usd, usd_amount};

// ------------------------------------------------------------------ files made by hand

#[test]
fn hand_made_files_use_aliases_any_case_and_keep_unknown_columns() {
    let rows = import(
        "hb.NAME;HB.Labels;HB.purchase_time;HB.sold_time;HB.warranty_details;HB.x.colour;\
         HB.archived;Room;HB.field.Size;HB.x.created_at\n\
         Lamp;\"Living; Light\";2024-01-31;01/02/2025;Two years;Red;yes;Attic;Big;2020-01-01T00:00:00Z\n"
            .as_bytes(),
    );
    let lamp = item(&rows[0]);
    assert_eq!(lamp.name.as_deref(), Some("Lamp"));
    assert_eq!(lamp.tags, Some(strings(&["Living", "Light"])));
    assert_eq!(lamp.purchase_date, day("2024-01-31"));
    assert_eq!(lamp.sold_date, day("2025-01-02"));
    let expected: BTreeMap<String, String> = [
        ("Archived", "true"),
        ("Colour", "Red"),
        ("Room", "Attic"),
        ("Size", "Big"),
        ("Warranty details", "Two years"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(lamp.custom_fields, Some(expected));
}

#[test]
fn tab_and_semicolon_files_are_sniffed_from_the_first_line() {
    let tab = import(b"HB.name\tHB.notes\tHB.tags\nSaw\tSharp, careful\tA;B\n");
    assert_eq!(item(&tab[0]).notes.as_deref(), Some("Sharp, careful"));
    assert_eq!(item(&tab[0]).tags, Some(strings(&["A", "B"])));
    let semi = import("\u{feff}HB.name;HB.purchase_price\nSaw;\"1.299,50 €\"\n".as_bytes());
    assert_eq!(item(&semi[0]).purchase_price, usd_amount(129_950));
    let single = import(b"HB.name\nSaw\n");
    assert_eq!(item(&single[0]).name.as_deref(), Some("Saw"));
}

#[test]
fn rows_starting_on_later_lines_count_the_lines_inside_quotes() {
    let rows = import(
        b"HB.name,HB.description\n\
          Drill,\"one\ntwo\n\nthree\"\n\
          \n\
          ,\n\
          Saw,\"a, b\"\r\n\
          \"Multi\nline name\",x\n\
          Hammer,\"\"\"quoted\"\"\"\n",
    );
    let read: Vec<_> = rows
        .iter()
        .map(|r| (r.line, item(r).name.clone().unwrap()))
        .collect();
    assert_eq!(
        read,
        [
            (2, "Drill".to_string()),
            (8, "Saw".to_string()),
            (9, "Multi\nline name".to_string()),
            (11, "Hammer".to_string()),
        ]
    );
    assert_eq!(
        item(&rows[0]).description.as_deref(),
        Some("one\ntwo\n\nthree")
    );
    assert_eq!(item(&rows[3]).description.as_deref(), Some("\"quoted\""));
}

#[test]
fn line_breaks_of_any_kind_end_rows_and_quoted_ones_are_kept() {
    for file in [
        &b"HB.name,HB.notes\r\nDrill,\"a\r\nb\"\r\n\r\nSaw,x\r\n"[..],
        b"HB.name,HB.notes\rDrill,\"a\r\nb\"\r\rSaw,x\r",
        b"HB.name,HB.notes\nDrill,\"a\r\nb\"\n\nSaw,x",
    ] {
        let rows = import(file);
        let read: Vec<_> = rows.iter().map(|r| (r.line, item(r).clone())).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].0, 2);
        assert_eq!(read[0].1.notes.as_deref(), Some("a\r\nb"));
        assert_eq!((read[1].0, read[1].1.name.as_deref()), (5, Some("Saw")));
    }
    // One byte at a time: a `\r\n` split between two reads is still one line break.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let Some((first, rest)) = self.0.split_first() else {
                return Ok(0);
            };
            buf[0] = *first;
            self.0 = rest;
            Ok(1)
        }
    }
    let rows: Vec<_> = CsvImport::open(Trickle(fixture!("hay-kot/import.tsv")), &usd())
        .unwrap()
        .collect();
    assert_eq!(rows, import(fixture!("hay-kot/import.csv")));
}

#[test]
fn a_bad_row_is_one_error_and_the_rows_around_it_still_come() {
    let rows = import(
        b"HB.name,HB.purchase_price,HB.quantity,HB.purchase_date,HB.insured\n\
          Drill,12.50,1,2024-01-01,yes\n\
          Saw,abc,1\n\
          ,5\n\
          Hammer,3,x,31/12/2024,maybe\n\
          Level,1,1,,,too,many,cells\n",
    );
    let read: Vec<_> = rows
        .iter()
        .map(|r| (r.line, r.item.clone().err()))
        .collect();
    assert_eq!(
        read,
        [
            (2, None),
            (
                3,
                Some("HB.purchase_price: \"abc\" is not an amount".into())
            ),
            (4, Some("HB.name is required".into())),
            (
                5,
                Some(
                    "HB.quantity: \"x\" is not a whole number; HB.purchase_date: \
                     \"31/12/2024\" is not a date like 2024-05-31; HB.insured: \"maybe\" is \
                     not true or false (nor yes or no, 1 or 0)"
                        .into()
                )
            ),
            (6, None),
        ]
    );
    assert_eq!(item(&rows[4]).name.as_deref(), Some("Level"));
}

#[test]
fn checks_of_the_item_name_the_column() {
    let long = "x".repeat(250);
    let negative = format!("HB.name,HB.quantity,HB.field.Colour\n{long},-2,Red\n");
    let rows = import(negative.as_bytes());
    assert_eq!(
        rows[0].item,
        Err("HB.name: must be at most 200 characters (this is 250); \
             HB.quantity: must be 0 or more"
            .into())
    );
}

#[test]
fn amounts_in_another_currency_are_refused() {
    let rows = import(
        b"HB.name,HB.purchase_price,HB.x.currency\n\
          Drill,12.50,EUR\n\
          Saw,12.50 EUR,\n\
          Level,12.50,usd\n",
    );
    assert_eq!(
        rows[0].item,
        Err("HB.x.currency: the amounts are in EUR, the household's currency is USD".into())
    );
    assert_eq!(
        rows[1].item,
        Err(
            "HB.purchase_price: \"12.50 EUR\" is in EUR, not in the household's currency USD"
                .into()
        )
    );
    assert_eq!(item(&rows[2]).purchase_price, usd_amount(1_250));
}

// ------------------------------------------------------------------ files that are refused

#[test]
fn files_that_are_not_csv_are_refused_with_a_reason() {
    assert_eq!(refused(b""), "The file is empty: it has no lines.");
    assert_eq!(
        refused(b"\xEF\xBB\xBF \r\n\n"),
        "The file is empty: it has no lines."
    );
    assert_eq!(
        refused(b"PK\x03\x04\x14\x00"),
        "This is a zip file, not a CSV file."
    );
    assert_eq!(
        refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
        "This is not a CSV file: it holds binary data."
    );
    assert!(
        refused(b"\xFF\xFEH\x00B\x00").starts_with("The file is UTF-16 text; save it as UTF-8")
    );
    assert_eq!(
        refused(b"HB.name,HB.notes\nCaf\xE9,x\n"),
        "The file is not UTF-8 text (line 2); save it as UTF-8 (in Excel: \"CSV UTF-8\") \
         and import it again."
    );
    assert_eq!(
        refused(b"HB.location,HB.quantity\nGarage,1\n"),
        "The file has no HB.name column, so its items would have no names. Its first line \
         must name the columns, like: HB.name,HB.location,HB.quantity"
    );
}

#[test]
fn a_row_past_the_first_64_kib_that_is_not_utf8_is_an_error_of_that_row() {
    let mut file = b"HB.name,HB.notes\n".to_vec();
    for n in 0..3_000 {
        file.extend_from_slice(format!("Item {n},plain text to fill the start\n").as_bytes());
    }
    file.extend_from_slice(b"Caf\xE9,x\nLast,y\n");
    let rows = import(&file);
    assert_eq!(rows.len(), 3_002);
    assert_eq!(
        rows[3_000].item,
        Err(
            "HB.name: is not UTF-8 text; save it as UTF-8 (in Excel: \"CSV UTF-8\") and \
             import it again"
                .into()
        )
    );
    assert_eq!(rows[3_000].line, 3_002);
    assert_eq!(item(&rows[3_001]).name.as_deref(), Some("Last"));
}

// ------------------------------------------------------------------ streaming

/// A file of `rows` rows made as it is read, counting the bytes handed out.
struct Generated {
    next_row: u64,
    rows: u64,
    pending: Vec<u8>,
    handed_out: Rc<Cell<u64>>,
}

impl Generated {
    fn new(rows: u64) -> (Self, Rc<Cell<u64>>) {
        let handed_out = Rc::new(Cell::new(0));
        let file = Self {
            next_row: 0,
            rows,
            pending: b"HB.name,HB.location,HB.purchase_price,HB.notes\n".to_vec(),
            handed_out: handed_out.clone(),
        };
        (file, handed_out)
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() && self.next_row < self.rows {
            let n = self.next_row;
            self.pending =
                format!("Item {n},Home / Shelf {},{n}.99,\"a note, {n}\"\n", n % 7).into_bytes();
            self.next_row += 1;
        }
        let len = buf.len().min(self.pending.len());
        buf[..len].copy_from_slice(&self.pending[..len]);
        self.pending.drain(..len);
        self.handed_out.set(self.handed_out.get() + len as u64);
        Ok(len)
    }
}

#[test]
fn importing_reads_the_file_as_it_goes() {
    // About 60 MB if it were all read up front.
    let (file, handed_out) = Generated::new(1_000_000);
    let mut rows = CsvImport::open(file, &usd()).unwrap();
    assert!(handed_out.get() <= 64 * 1024, "{}", handed_out.get());
    let first: Vec<_> = rows.by_ref().take(10).collect();
    assert_eq!(item(&first[9]).name.as_deref(), Some("Item 9"));
    assert!(handed_out.get() <= 80 * 1024, "{}", handed_out.get());
    // Read on for a while: what has been read grows with the rows taken, no faster.
    let row = rows.nth(20_000).unwrap();
    assert_eq!(row.line, 20_012);
    assert!(handed_out.get() < 1_400_000, "{}", handed_out.get());
}

#[test]
#[ignore = "reads a million generated rows; run with --ignored"]
fn importing_a_million_rows_holds_one_row_at_a_time() {
    let (file, handed_out) = Generated::new(1_000_000);
    let count = CsvImport::open(file, &usd())
        .unwrap()
        .filter(|r| r.item.is_ok())
        .count();
    assert_eq!(count, 1_000_000);
    assert!(handed_out.get() > 50_000_000);
}

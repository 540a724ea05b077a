//! The insurance report's content: the cover with the totals, the summary by location
//! (each row a link to its section), the items of each location with their thumbnails,
//! and, in a claim pack, the printed list of the pack's files.

use std::path::Path;

use shared::{AttachmentId, AttachmentKind, HouseholdId};

use super::layout::{
    BlockLine, CONTENT_W, Fonts, Layout, MARGIN, Op, PhotoBox, Style, TOP, Weight, block, printable,
};
use super::render::{Cover, Drawn, render};
use super::{Report, ReportItem, Totals, Worker, amount, sums, thumbnail};
use crate::blob::DynBlobs;
use crate::portability::PortError;
use crate::portability::backup::records::Entry;

const TITLE: Style = Style::new(20.0, Weight::Bold);
const HEADING: Style = Style::new(14.0, Weight::Bold);
const SECTION: Style = Style::new(12.5, Weight::Bold);
const BODY: Style = Style::new(10.0, Weight::Regular);
const LABEL: Style = Style::new(10.0, Weight::Bold);
const NAME: Style = Style::new(11.0, Weight::Bold);
const DETAIL: Style = Style::new(8.5, Weight::Regular);
const SMALL: Style = Style::new(8.0, Weight::Regular);
const TABLE: Style = Style::new(8.5, Weight::Regular);
const TABLE_HEAD: Style = Style::new(8.5, Weight::Bold);
/// Thumbnails one report shows at most: they are most of a PDF's size and of the memory
/// making it takes (about 40 KB each, held until the PDF is written), so this bounds both
/// whatever the size of the household (about 80 MB of thumbnails). Items past it say their
/// photo is on file.
pub const MAX_THUMBNAILS: usize = 2_000;
/// The edge of an item's thumbnail box.
const THUMB: f32 = 66.0;
const THUMB_GAP: f32 = 12.0;

/// Lays out and draws the report into a PDF at `out`; with `manifest`, a last section
/// lists those files (a claim pack's).
pub fn write_pdf(
    worker: &Worker,
    blobs: &DynBlobs,
    hid: HouseholdId,
    report: &Report,
    manifest: Option<&[Entry]>,
    out: &Path,
) -> Result<Drawn, PortError> {
    let fonts = Fonts::load().map_err(PortError::Internal)?;
    let mut layout = Layout::new(&fonts);
    let bookmarks = lay_out(&mut layout, report, manifest);
    let Layout { pages, anchors, .. } = layout;
    // Progress goes on from where it is by one unit an item, spread over the pages.
    let items = report.items().count() as u64;
    let base = worker.progress.get().0;
    let total_pages = pages.len().max(1) as u64;
    let made = report
        .generated_at
        .format(&time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let footer = format!("{} — insurance report generated {made}", report.household);
    let title = format!("Insurance report — {}", report.household);
    render(
        pages,
        &anchors,
        &fonts,
        &Cover {
            title: &title,
            footer: &footer,
            made_at: report.generated_at,
            bookmarks,
        },
        out,
        |id| thumbnail(worker, blobs, hid, id),
        |page| {
            worker.check_stop()?;
            worker
                .progress
                .set_done(base + items * page as u64 / total_pages);
            Ok(())
        },
    )
}

/// The whole report, laid out; the bookmarks of its parts (a title and its anchor).
pub fn lay_out(
    layout: &mut Layout<'_>,
    report: &Report,
    manifest: Option<&[Entry]>,
) -> Vec<(String, usize)> {
    let totals = report.totals();
    cover(layout, report, &totals);
    let anchors: Vec<usize> = report.sections.iter().map(|_| layout.anchor()).collect();
    summary(layout, report, &anchors);
    let mut thumbnails = 0;
    for (section, anchor) in report.sections.iter().zip(anchors.iter().copied()) {
        layout.ensure(SECTION.leading() * 2.0 + THUMB);
        if layout.y > TOP {
            layout.gap(10.0);
        }
        layout.place_anchor(anchor);
        layout.paragraph(MARGIN, CONTENT_W, section.title(), SECTION);
        let mut totals = Totals::default();
        for item in &section.items {
            totals.add(item);
        }
        layout.paragraph(
            MARGIN,
            CONTENT_W,
            &format!(
                "{} · purchase price {} · estimated value {}",
                count(totals.items, "item"),
                sums(&totals.purchase),
                sums(&totals.value)
            ),
            SMALL.gray(70),
        );
        layout.gap(3.0);
        layout.rule(150);
        layout.gap(6.0);
        for item in &section.items {
            let shown = item.photo.filter(|_| thumbnails < MAX_THUMBNAILS);
            thumbnails += usize::from(shown.is_some());
            item_block(layout, item, shown);
        }
    }
    let mut bookmarks: Vec<(String, usize)> = report
        .sections
        .iter()
        .map(|s| s.title().to_string())
        .zip(anchors)
        .collect();
    if let Some(entries) = manifest {
        layout.new_page();
        let anchor = layout.anchor();
        layout.place_anchor(anchor);
        files(layout, entries);
        bookmarks.push(("Files in this claim pack".into(), anchor));
    }
    bookmarks
}

fn count(n: u64, what: &str) -> String {
    let n_text = shared_thousands(n);
    if n == 1 {
        format!("{n_text} {what}")
    } else {
        format!("{n_text} {what}s")
    }
}

fn shared_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn cover(layout: &mut Layout<'_>, report: &Report, totals: &Totals) {
    layout.paragraph(MARGIN, CONTENT_W, "Insurance inventory report", TITLE);
    layout.gap(4.0);
    layout.paragraph(MARGIN, CONTENT_W, &report.household, HEADING);
    layout.gap(8.0);
    let made = report
        .generated_at
        .format(&time::macros::format_description!(
            "[year]-[month]-[day] at [hour]:[minute] UTC"
        ))
        .unwrap_or_default();
    let rows = [
        ("Generated", made),
        ("Covers", report.filter.clone()),
        (
            "Items",
            format!(
                "{} ({} pieces counting quantities)",
                shared_thousands(totals.items),
                shared_thousands(totals.pieces.max(0) as u64)
            ),
        ),
        ("Total purchase price", sums(&totals.purchase)),
        ("Total estimated value", sums(&totals.value)),
        (
            "Without an estimated value",
            count(totals.without_value, "item"),
        ),
        ("Without a photo", count(totals.without_photo, "item")),
    ];
    let label_w = 175.0;
    for (label, value) in rows {
        let lines = layout
            .fonts
            .wrap(&printable(&value), BODY, CONTENT_W - label_w);
        let top = layout.y;
        layout.line(MARGIN, label.to_string(), LABEL);
        layout.y = top;
        for line in lines {
            layout.line(MARGIN + label_w, line, BODY);
        }
        layout.gap(3.0);
    }
    layout.gap(6.0);
    layout.paragraph(
        MARGIN,
        CONTENT_W,
        "Prices and values are for one piece; totals multiply each by the item's quantity. \
         Amounts in different currencies are totalled separately. Each item's thumbnail is \
         its primary photo (a report shows the first 2,000); the original photos, receipts \
         and documents are on file.",
        SMALL.gray(70),
    );
    layout.gap(16.0);
}

/// Column edges of the summary table: path, items, purchase price, estimated value.
const COLUMNS: [(f32, f32); 4] = [(0.0, 230.0), (236.0, 40.0), (282.0, 107.0), (392.0, 107.0)];

fn summary(layout: &mut Layout<'_>, report: &Report, anchors: &[usize]) {
    layout.ensure(HEADING.leading() + TABLE.leading() * 4.0);
    layout.paragraph(MARGIN, CONTENT_W, "Summary by location", HEADING);
    layout.gap(4.0);
    table_row(
        layout,
        ["Location", "Items", "Purchase price", "Estimated value"].map(String::from),
        TABLE_HEAD,
        None,
    );
    layout.rule(120);
    layout.gap(3.0);
    for (section, anchor) in report.sections.iter().zip(anchors) {
        let mut totals = Totals::default();
        for item in &section.items {
            totals.add(item);
        }
        table_row(
            layout,
            [
                section.title().to_string(),
                shared_thousands(totals.items),
                sums(&totals.purchase),
                sums(&totals.value),
            ],
            TABLE,
            Some(*anchor),
        );
    }
    layout.rule(120);
    layout.gap(3.0);
    let all = report.totals();
    table_row(
        layout,
        [
            "All".to_string(),
            shared_thousands(all.items),
            sums(&all.purchase),
            sums(&all.value),
        ],
        TABLE_HEAD,
        None,
    );
    layout.gap(8.0);
}

/// One row of the summary: each cell wrapped in its column; the row links to `anchor`.
fn table_row(layout: &mut Layout<'_>, cells: [String; 4], style: Style, anchor: Option<usize>) {
    let wrapped: Vec<Vec<String>> = cells
        .iter()
        .zip(COLUMNS)
        .map(|(text, (_, w))| {
            let mut lines = layout.fonts.wrap(&printable(text), style, w);
            lines.truncate(20);
            lines
        })
        .collect();
    let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
    let height = lines as f32 * style.leading() + 2.0;
    layout.ensure(height);
    let top = layout.y;
    for (cell, (x, _)) in wrapped.into_iter().zip(COLUMNS) {
        layout.y = top;
        for line in cell {
            layout.line(MARGIN + x, line, style);
        }
    }
    layout.y = top + height;
    if let Some(anchor) = anchor {
        layout.push(Op::Link {
            x: MARGIN,
            y: top,
            w: CONTENT_W,
            h: height,
            anchor,
        });
    }
}

fn item_block(layout: &mut Layout<'_>, item: &ReportItem, thumbnail: Option<AttachmentId>) {
    let f = &item.row.fields;
    let x = MARGIN + THUMB + THUMB_GAP;
    let width = CONTENT_W - THUMB - THUMB_GAP;
    let mut lines = Vec::new();
    let add = |text: &str, style: Style, lines: &mut Vec<BlockLine>| {
        for line in layout.fonts.wrap(&printable(text), style, width) {
            lines.push(BlockLine {
                x,
                text: line,
                style,
            });
        }
    };
    add(&f.name, NAME, &mut lines);
    let mut details = Vec::new();
    let make: Vec<&str> = [f.brand.as_deref(), f.model.as_deref()]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
    if !make.is_empty() {
        details.push(format!("Brand / model: {}", make.join(" ")));
    }
    if let Some(serial) = f.serial_number.as_deref().filter(|s| !s.trim().is_empty()) {
        details.push(format!("Serial number: {serial}"));
    }
    details.push(format!("Quantity: {}", f.quantity));
    match (&f.purchase_date, f.purchased_from.as_deref()) {
        (Some(day), Some(shop)) => details.push(format!("Purchased: {day} from {shop}")),
        (Some(day), None) => details.push(format!("Purchased: {day}")),
        (None, Some(shop)) => details.push(format!("Purchased from: {shop}")),
        (None, None) => {}
    }
    let apiece = |label: &str, money: &Option<shared::Money>| {
        money.as_ref().map(|m| {
            if f.quantity == 1 {
                format!("{label}: {}", m.display())
            } else {
                format!(
                    "{label}: {} each, {} for {}",
                    m.display(),
                    amount(
                        i128::from(m.amount_minor) * i128::from(f.quantity.max(0)),
                        m.currency.as_str()
                    ),
                    f.quantity
                )
            }
        })
    };
    details.extend(apiece("Purchase price", &f.purchase_price));
    details.push(
        apiece("Estimated value", &f.estimated_value)
            .unwrap_or_else(|| "Estimated value: none".into()),
    );
    if f.lifetime_warranty {
        details.push("Warranty: lifetime".into());
    } else if let Some(day) = &f.warranty_expires {
        details.push(format!("Warranty until: {day}"));
    }
    if let Some(description) = f.description.as_deref().filter(|s| !s.trim().is_empty()) {
        details.push(description.to_string());
    }
    let documents: Vec<String> = item
        .documents
        .iter()
        .map(|(name, kind)| match kind {
            AttachmentKind::Other => name.clone(),
            kind => format!("{name} ({})", kind.as_str()),
        })
        .collect();
    if documents.is_empty() {
        details.push("Documents on file: none".into());
    } else {
        details.push(format!("Documents on file: {}", documents.join(", ")));
    }
    details.push(match item.photos {
        0 => "Photos on file: none".to_string(),
        n => format!("Photos on file: {n}"),
    });
    for detail in details {
        add(&detail, DETAIL, &mut lines);
    }
    let photo = match (thumbnail, item.photos) {
        (Some(id), _) => PhotoBox::Thumbnail(id),
        (None, 0) => PhotoBox::Empty("No photo"),
        (None, _) => PhotoBox::Empty("Photo on file"),
    };
    block(layout, Some((THUMB, photo)), THUMB, lines);
    layout.gap(10.0);
}

/// The claim pack's files: path, size and SHA-256 of each.
fn files(layout: &mut Layout<'_>, entries: &[Entry]) {
    layout.paragraph(MARGIN, CONTENT_W, "Files in this claim pack", HEADING);
    layout.gap(4.0);
    layout.paragraph(
        MARGIN,
        CONTENT_W,
        "Each file of the claim pack with its size in bytes and its SHA-256 checksum. This \
         report (report.pdf) can't list its own checksum: manifest.json lists it with every \
         file here, and manifest.sha256 holds the checksum of manifest.json.",
        SMALL.gray(70),
    );
    layout.gap(8.0);
    let hash = Style::new(7.5, Weight::Regular).gray(60);
    for entry in entries {
        let path_lines = layout
            .fonts
            .wrap(&printable(&entry.path), TABLE, CONTENT_W - 90.0);
        let height = path_lines.len() as f32 * TABLE.leading() + hash.leading() + 4.0;
        layout.ensure(height);
        let top = layout.y;
        for line in path_lines {
            layout.line(MARGIN, line, TABLE);
        }
        let after = layout.y;
        layout.y = top;
        let size = format!("{} bytes", shared_thousands(entry.size));
        let size_w = layout.fonts.width(&size, TABLE);
        layout.line(MARGIN + CONTENT_W - size_w, size, TABLE);
        layout.y = after;
        layout.line(MARGIN + 8.0, format!("SHA-256 {}", entry.sha256), hash);
        layout.gap(4.0);
    }
}

#[cfg(test)]
mod tests {
    use shared::{Currency, ItemFields, ItemId};

    use super::super::layout::{BOTTOM, Fonts};
    use super::super::{Report, Section};
    use super::*;
    use crate::store::{ItemRow, now};

    fn item(name: &str, description: Option<String>) -> ReportItem {
        ReportItem {
            row: ItemRow {
                id: ItemId::new(),
                household_id: HouseholdId::new(),
                fields: ItemFields {
                    name: name.into(),
                    quantity: 1,
                    description,
                    ..Default::default()
                },
                version: 1,
                created_at: now(),
                updated_at: now(),
                deleted_at: None,
            },
            photo: Some(AttachmentId::new()),
            photos: 1,
            documents: Vec::new(),
            files: Vec::new(),
        }
    }

    fn report(items: Vec<ReportItem>) -> Report {
        Report {
            household: "Home".into(),
            currency: Currency::default(),
            generated_at: now(),
            filter: "every item of the household".into(),
            sections: vec![Section {
                path: "House".into(),
                items,
            }],
        }
    }

    #[test]
    fn a_report_shows_at_most_its_share_of_thumbnails() {
        let fonts = Fonts::load().unwrap();
        let mut layout = Layout::new(&fonts);
        let items = (0..MAX_THUMBNAILS + 5)
            .map(|n| item(&format!("Thing {n}"), None))
            .collect();
        lay_out(&mut layout, &report(items), None);
        let ops = || layout.pages.iter().flatten();
        let photos = ops().filter(|op| matches!(op, Op::Photo { .. })).count();
        assert_eq!(photos, MAX_THUMBNAILS);
        let on_file = ops()
            .filter(|op| matches!(op, Op::Text { text, .. } if text == "Photo on file"))
            .count();
        assert_eq!(on_file, 5);
    }

    #[test]
    fn an_item_taller_than_a_page_flows_onto_the_next_ones() {
        let fonts = Fonts::load().unwrap();
        let mut layout = Layout::new(&fonts);
        let long = "A very long note about this heirloom, written down in full. ".repeat(400);
        lay_out(
            &mut layout,
            &report(vec![item("Heirloom clock", Some(long.clone()))]),
            None,
        );
        assert!(layout.pages.len() >= 4, "{} pages", layout.pages.len());
        let mut words = 0;
        for op in layout.pages.iter().flatten() {
            if let Op::Text { y, text, .. } = op {
                assert!(*y <= BOTTOM + 1.0, "{text:?} at {y}");
                words += text.matches("heirloom,").count();
            }
        }
        assert_eq!(words, 400, "every line of the note is there");
    }
}

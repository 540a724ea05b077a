//! Label sheets, read back as a printer and a phone would (`labels_pdf`): every template's
//! pages have the stock's size and count, each label's text lies inside its label, the
//! skipped positions stay blank, and every QR code decodes to its label's address, where
//! that label is.

use api::labels::{Label, Line, TEMPLATES, Template, address, render};

use crate::labels_pdf::{Pdf, cell, words_by_label};

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

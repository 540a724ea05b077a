//! The label stocks the server prints on, as data: adding one is adding a row to
//! [`TEMPLATES`]. Lengths are in millimetres, measured from the top-left corner of the page
//! as it goes into the printer; a roll's page is one label, turned so that it is wider than
//! tall (the printer's driver turns it back).

use shared::{LabelKind, LabelTemplate};

/// Millimetres in an inch.
const INCH: f64 = 25.4;

/// One label stock.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Template {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub kind: LabelKind,
    pub page_width: f64,
    pub page_height: f64,
    pub label_width: f64,
    pub label_height: f64,
    pub columns: u32,
    pub rows: u32,
    pub margin_left: f64,
    pub margin_top: f64,
    pub pitch_x: f64,
    pub pitch_y: f64,
}

/// A sheet of `columns × rows` labels.
#[allow(clippy::too_many_arguments)]
const fn sheet(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    page: (f64, f64),
    label: (f64, f64),
    grid: (u32, u32),
    margins: (f64, f64),
    pitch: (f64, f64),
) -> Template {
    Template {
        id,
        name,
        description,
        kind: LabelKind::Sheet,
        page_width: page.0,
        page_height: page.1,
        label_width: label.0,
        label_height: label.1,
        columns: grid.0,
        rows: grid.1,
        margin_left: margins.0,
        margin_top: margins.1,
        pitch_x: pitch.0,
        pitch_y: pitch.1,
    }
}

/// A roll of labels `width × height` (as printed, wider than tall): one label per page.
const fn roll(
    id: &'static str,
    name: &'static str,
    description: &'static str,
    width: f64,
    height: f64,
) -> Template {
    Template {
        id,
        name,
        description,
        kind: LabelKind::Roll,
        page_width: width,
        page_height: height,
        label_width: width,
        label_height: height,
        columns: 1,
        rows: 1,
        margin_left: 0.0,
        margin_top: 0.0,
        pitch_x: width,
        pitch_y: height,
    }
}

/// Every stock, in the order `GET …/labels/templates` lists them.
pub const TEMPLATES: &[Template] = &[
    sheet(
        "avery-5160",
        "Avery 5160 (US Letter, 30 per sheet)",
        "Address labels 2⅝″ × 1″ (66.7 × 25.4 mm), 3 columns of 10 on US Letter; also \
         Avery 5260, 5520, 5960, 8160 and 8460.",
        (8.5 * INCH, 11.0 * INCH),
        (2.625 * INCH, 1.0 * INCH),
        (3, 10),
        (0.1875 * INCH, 0.5 * INCH),
        (2.75 * INCH, 1.0 * INCH),
    ),
    sheet(
        "avery-l7160",
        "Avery L7160 (A4, 21 per sheet)",
        "Address labels 63.5 × 38.1 mm, 3 columns of 7 on A4; also Avery J8160 and L7160B.",
        (210.0, 297.0),
        (63.5, 38.1),
        (3, 7),
        (7.2, 15.15),
        (66.0, 38.1),
    ),
    roll(
        "brother-62mm",
        "Brother DK-22205, 62 mm continuous, cut at 100 mm",
        "Continuous 62 mm paper tape for Brother QL printers, each label cut 100 mm long \
         (62 × 100 mm). Choose the 62 mm × 100 mm paper size in the printer's dialog.",
        100.0,
        62.0,
    ),
    roll(
        "brother-29x90",
        "Brother DK-11201 (29 × 90 mm)",
        "Die-cut standard address labels 29 × 90 mm for Brother QL printers.",
        90.0,
        29.0,
    ),
    roll(
        "dymo-30252",
        "Dymo 30252 (28 × 89 mm)",
        "Die-cut address labels 1⅛″ × 3½″ (28 × 89 mm) for Dymo LabelWriter printers.",
        89.0,
        28.0,
    ),
];

impl Template {
    /// The stock with this id.
    pub fn find(id: &str) -> Option<&'static Template> {
        TEMPLATES.iter().find(|t| t.id == id)
    }

    pub fn labels_per_page(&self) -> u32 {
        self.columns * self.rows
    }

    /// The top-left corner of the label at `position` on a page (0 is top left, then left
    /// to right, top to bottom), in millimetres.
    pub fn cell(&self, position: u32) -> (f64, f64) {
        let column = position % self.columns;
        let row = position / self.columns;
        (
            self.margin_left + f64::from(column) * self.pitch_x,
            self.margin_top + f64::from(row) * self.pitch_y,
        )
    }

    pub fn dto(&self) -> LabelTemplate {
        // Lengths go out rounded to a thousandth of a millimetre (2⅝″ is 66.675 mm).
        let mm = |v: f64| (v * 1000.0).round() / 1000.0;
        LabelTemplate {
            id: self.id.into(),
            name: self.name.into(),
            description: self.description.into(),
            kind: self.kind,
            page_width_mm: mm(self.page_width),
            page_height_mm: mm(self.page_height),
            label_width_mm: mm(self.label_width),
            label_height_mm: mm(self.label_height),
            columns: self.columns,
            rows: self.rows,
            margin_left_mm: mm(self.margin_left),
            margin_top_mm: mm(self.margin_top),
            pitch_x_mm: mm(self.pitch_x),
            pitch_y_mm: mm(self.pitch_y),
            labels_per_page: self.labels_per_page(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_lies_on_its_page_without_touching_the_next() {
        for t in TEMPLATES {
            assert!(t.label_width <= t.pitch_x + 1e-9, "{}", t.id);
            assert!(t.label_height <= t.pitch_y + 1e-9, "{}", t.id);
            let (x, y) = t.cell(t.labels_per_page() - 1);
            assert!(x + t.label_width <= t.page_width + 1e-9, "{}", t.id);
            assert!(y + t.label_height <= t.page_height + 1e-9, "{}", t.id);
            if t.kind == LabelKind::Roll {
                assert_eq!(t.labels_per_page(), 1);
                assert!(
                    t.page_width >= t.page_height,
                    "{} is printed landscape",
                    t.id
                );
            }
        }
    }

    #[test]
    fn avery_5160_is_thirty_address_labels_on_letter() {
        let t = Template::find("avery-5160").unwrap().dto();
        assert_eq!((t.page_width_mm, t.page_height_mm), (215.9, 279.4));
        assert_eq!((t.label_width_mm, t.label_height_mm), (66.675, 25.4));
        assert_eq!(t.labels_per_page, 30);
        assert_eq!(
            Template::find("avery-5160").unwrap().cell(4),
            (4.7625 + 69.85, 12.7 + 25.4)
        );
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<_> = TEMPLATES.iter().map(|t| t.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), TEMPLATES.len());
    }
}

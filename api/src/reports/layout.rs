//! A small page layout for the reports: text measured with the bundled font's advances,
//! wrapped at spaces (or anywhere, for a word wider than its column), and placed on A4
//! pages that break wherever the next line or block no longer fits.
//!
//! Laying out makes a list of pages, each a list of drawing operations with nothing heavy
//! in them (a photo is only its attachment's id), so the number of pages is known before
//! anything is drawn ("Page X of Y") and photos are fetched one at a time as they are
//! drawn (`super::render`).

use std::collections::HashMap;

use shared::AttachmentId;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider as _};

/// A4, in points.
pub const PAGE_W: f32 = 595.28;
pub const PAGE_H: f32 = 841.89;
pub const MARGIN: f32 = 48.0;
/// Room kept at the bottom of every page for the footer.
const FOOTER_ROOM: f32 = 30.0;
pub const TOP: f32 = MARGIN;
pub const BOTTOM: f32 = PAGE_H - MARGIN - FOOTER_ROOM;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Where the footer's baseline is.
pub const FOOTER_Y: f32 = PAGE_H - MARGIN + 6.0;

pub const REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub const BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Kerning may shift glyphs a little from their advances; lines are filled to this share
/// of the width so they never overflow.
const SLACK: f32 = 0.98;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Weight {
    Regular,
    Bold,
}

/// How a run of text looks: size in points, weight, and gray (0 black, 255 white).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Style {
    pub size: f32,
    pub weight: Weight,
    pub gray: u8,
}

impl Style {
    pub const fn new(size: f32, weight: Weight) -> Self {
        Self {
            size,
            weight,
            gray: 0,
        }
    }

    pub const fn gray(self, gray: u8) -> Self {
        Self { gray, ..self }
    }

    /// Distance between baselines.
    pub fn leading(&self) -> f32 {
        self.size * 1.35
    }
}

/// One font's advances, in em, read once per character.
pub struct Face {
    pub bytes: &'static [u8],
    advances: HashMap<char, f32>,
    fallback: f32,
}

impl Face {
    fn new(bytes: &'static [u8]) -> anyhow::Result<Self> {
        let font = FontRef::new(bytes)?;
        let upem = f32::from(
            font.metrics(Size::unscaled(), LocationRef::default())
                .units_per_em,
        )
        .max(1.0);
        let charmap = font.charmap();
        let metrics = font.glyph_metrics(Size::unscaled(), LocationRef::default());
        // Printable ASCII and Latin-1 up front; anything else when first met is measured
        // as the average, a touch generous.
        let mut advances = HashMap::new();
        let mut sum = 0.0;
        for c in (' '..='~').chain('\u{a0}'..='\u{17f}') {
            if let Some(advance) = charmap.map(c).and_then(|g| metrics.advance_width(g)) {
                advances.insert(c, advance / upem);
                sum += advance / upem;
            }
        }
        let fallback = if advances.is_empty() {
            0.6
        } else {
            (sum / advances.len() as f32).max(0.6)
        };
        let mut face = Self {
            bytes,
            advances,
            fallback,
        };
        // Common letters beyond Latin-1: Cyrillic, Greek, dashes and quotes.
        for c in ('\u{370}'..='\u{3ff}')
            .chain('\u{400}'..='\u{4ff}')
            .chain('\u{2010}'..='\u{2027}')
        {
            if let Some(advance) = charmap.map(c).and_then(|g| metrics.advance_width(g)) {
                face.advances.insert(c, advance / upem);
            }
        }
        Ok(face)
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| self.advances.get(&c).copied().unwrap_or(self.fallback))
            .sum::<f32>()
            * size
    }
}

/// The report's two faces.
pub struct Fonts {
    pub regular: Face,
    pub bold: Face,
}

impl Fonts {
    pub fn load() -> anyhow::Result<Self> {
        Ok(Self {
            regular: Face::new(REGULAR_TTF)?,
            bold: Face::new(BOLD_TTF)?,
        })
    }

    pub fn face(&self, weight: Weight) -> &Face {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    pub fn width(&self, text: &str, style: Style) -> f32 {
        self.face(style.weight).width(text, style.size)
    }

    /// `text` broken into lines no wider than `width`: at spaces, or inside a word wider
    /// than a line; line breaks in the text are kept. Never empty.
    pub fn wrap(&self, text: &str, style: Style, width: f32) -> Vec<String> {
        let width = width * SLACK;
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, style) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if self.width(word, style) <= width {
                    line = word.to_string();
                    continue;
                }
                // A word wider than the column: cut it where it reaches the edge.
                for c in word.chars() {
                    line.push(c);
                    if self.width(&line, style) > width && line.chars().count() > 1 {
                        line.pop();
                        lines.push(std::mem::take(&mut line));
                        line.push(c);
                    }
                }
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }

    /// `text` cut to one line of `width`, ending in "…" when cut.
    pub fn clip(&self, text: &str, style: Style, width: f32) -> String {
        let width = width * SLACK;
        if self.width(text, style) <= width {
            return text.to_string();
        }
        let mut out = String::new();
        for c in text.chars() {
            out.push(c);
            if self.width(&format!("{out}…"), style) > width {
                out.pop();
                break;
            }
        }
        format!("{}…", out.trim_end())
    }
}

/// Text safe to draw: control characters (tabs, stray escapes) become spaces.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect()
}

/// One thing drawn on a page. `y` is measured from the top of the page; for text it is the
/// baseline.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Text {
        x: f32,
        y: f32,
        style: Style,
        text: String,
    },
    /// An attachment's thumbnail, fitted into the box and centred in it.
    Photo {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        id: AttachmentId,
    },
    /// A filled rectangle: rules and shaded boxes.
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: u8,
    },
    /// A link to an anchor (a place in the document).
    Link {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        anchor: usize,
    },
}

/// Pages being laid out, and the anchors links lead to.
pub struct Layout<'f> {
    pub fonts: &'f Fonts,
    pub pages: Vec<Vec<Op>>,
    /// Where the next thing goes, from the top of the page.
    pub y: f32,
    /// Each anchor's page and height, once placed.
    pub anchors: Vec<Option<(usize, f32)>>,
}

impl<'f> Layout<'f> {
    pub fn new(fonts: &'f Fonts) -> Self {
        Self {
            fonts,
            pages: vec![Vec::new()],
            y: TOP,
            anchors: Vec::new(),
        }
    }

    pub fn page_index(&self) -> usize {
        self.pages.len() - 1
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = TOP;
    }

    /// Height left on this page.
    pub fn room(&self) -> f32 {
        BOTTOM - self.y
    }

    /// Goes to a new page unless `height` fits here (or this page is still empty).
    pub fn ensure(&mut self, height: f32) {
        if height > self.room() && self.y > TOP {
            self.new_page();
        }
    }

    pub fn push(&mut self, op: Op) {
        if let Some(page) = self.pages.last_mut() {
            page.push(op);
        }
    }

    pub fn gap(&mut self, height: f32) {
        self.y = (self.y + height).min(BOTTOM);
    }

    /// A new anchor, placed later with [`Self::place_anchor`].
    pub fn anchor(&mut self) -> usize {
        self.anchors.push(None);
        self.anchors.len() - 1
    }

    /// Puts the anchor here.
    pub fn place_anchor(&mut self, anchor: usize) {
        let here = (self.page_index(), self.y);
        if let Some(slot) = self.anchors.get_mut(anchor) {
            *slot = Some(here);
        }
    }

    /// One line of text with its top at the current height; moves down a line.
    pub fn line(&mut self, x: f32, text: String, style: Style) {
        self.ensure(style.leading());
        let baseline = self.y + style.size;
        self.push(Op::Text {
            x,
            y: baseline,
            style,
            text,
        });
        self.y += style.leading();
    }

    /// Text wrapped to `width` from `x`, flowing onto new pages as needed.
    pub fn paragraph(&mut self, x: f32, width: f32, text: &str, style: Style) {
        for line in self.fonts.wrap(&printable(text), style, width) {
            self.line(x, line, style);
        }
    }

    /// A thin horizontal rule across the content.
    pub fn rule(&mut self, gray: u8) {
        self.push(Op::Rect {
            x: MARGIN,
            y: self.y,
            w: CONTENT_W,
            h: 0.6,
            gray,
        });
    }
}

/// A line of a block, relative to the block: its left edge and look.
pub struct BlockLine {
    pub x: f32,
    pub text: String,
    pub style: Style,
}

/// What the box at the left of a block shows.
pub enum PhotoBox {
    Thumbnail(AttachmentId),
    /// A light empty box with a word in it ("No photo").
    Empty(&'static str),
}

/// Places a block: an optional photo box at the left and lines beside it. The block stays
/// on one page when it can (on a new page if it doesn't fit here); a block taller than a
/// page flows line by line.
pub fn block(
    layout: &mut Layout<'_>,
    photo: Option<(f32, PhotoBox)>,
    photo_room: f32,
    lines: Vec<BlockLine>,
) {
    let text_height: f32 = lines.iter().map(|l| l.style.leading()).sum();
    let height = text_height.max(photo_room);
    if height <= BOTTOM - TOP {
        layout.ensure(height);
    } else if layout.y > TOP {
        layout.new_page();
    }
    let top = layout.y;
    match photo {
        Some((edge, PhotoBox::Thumbnail(id))) => layout.push(Op::Photo {
            x: MARGIN,
            y: top,
            w: edge,
            h: edge,
            id,
        }),
        Some((edge, PhotoBox::Empty(word))) => {
            layout.push(Op::Rect {
                x: MARGIN,
                y: top,
                w: edge,
                h: edge,
                gray: 238,
            });
            let style = Style::new(7.5, Weight::Regular).gray(120);
            let text = word.to_string();
            let w = layout.fonts.width(&text, style);
            layout.push(Op::Text {
                x: MARGIN + (edge - w) / 2.0,
                y: top + edge / 2.0 + style.size / 3.0,
                style,
                text,
            });
        }
        None => {}
    }
    let start_page = layout.page_index();
    for line in lines {
        layout.line(line.x, line.text, line.style);
    }
    if layout.page_index() == start_page {
        layout.y = layout.y.max(top + photo_room);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_never_run_past_their_width() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(10.0, Weight::Regular);
        let text = "Überraschend große Kühlschrank — Ørsted Дрель аккумуляторная \
                    averyveryveryveryveryveryveryveryverylongwordwithoutanyspacesinside";
        for width in [40.0, 90.0, 200.0] {
            let lines = fonts.wrap(text, style, width);
            assert!(lines.len() > 1);
            for line in &lines {
                assert!(fonts.width(line, style) <= width, "{line:?} at {width}");
            }
            let joined: String = lines.concat().split_whitespace().collect();
            let original: String = text.split_whitespace().collect();
            assert_eq!(joined, original, "nothing is lost");
        }
    }

    #[test]
    fn a_long_paragraph_flows_onto_new_pages() {
        let fonts = Fonts::load().unwrap();
        let mut layout = Layout::new(&fonts);
        let text = "word ".repeat(5_000);
        layout.paragraph(MARGIN, CONTENT_W, &text, Style::new(10.0, Weight::Regular));
        assert!(layout.pages.len() > 2);
        for page in &layout.pages {
            for op in page {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= BOTTOM + 1.0 && *y >= TOP);
                }
            }
        }
    }

    #[test]
    fn clipped_text_fits_and_says_so() {
        let fonts = Fonts::load().unwrap();
        let style = Style::new(9.0, Weight::Bold);
        let clipped = fonts.clip(&"Garage ".repeat(30), style, 100.0);
        assert!(clipped.ends_with('…'));
        assert!(fonts.width(&clipped, style) <= 100.0);
    }
}

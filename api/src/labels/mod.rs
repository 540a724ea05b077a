//! Printable labels (`POST …/labels`): a PDF of sticky labels, each with a QR code that
//! leads to an item or a location (`<PUBLIC_URL>/q/<asset id digits>`) and lines of text
//! beside it: the name in bold, the asset id, where it is, a line of the person's own, and
//! for a location what is in it.
//!
//! [`render`] is a pure function of the template, the labels and the public address, so it
//! is tested and measured without a database; the route (`routes::labels`) reads the
//! records and makes the [`Label`]s. The QR code is drawn as vector squares (sharp at any
//! printer resolution) and the text with the reports' embedded DejaVu Sans, every line
//! fitted to its label: a line too wide is set smaller down to [`MIN_SIZE`], then cut with
//! "…"; lines that still don't fit the label's height are left off from the last.

use std::sync::{Arc, LazyLock};

use krilla::Document;
use krilla::color::luma;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use qrcode::{Color, EcLevel, QrCode};

use crate::reports::layout::{BOLD_TTF, Fonts, REGULAR_TTF, Style, Weight, printable};

pub mod templates;

pub use templates::{TEMPLATES, Template};

/// Points in a millimetre.
pub const PT_PER_MM: f32 = 72.0 / 25.4;
/// The smallest text a label is set in, in points.
pub const MIN_SIZE: f32 = 5.0;
/// Modules of blank space around a QR code, as the standard asks for.
pub const QUIET_ZONE: usize = 4;
/// Blank space kept between a label's edge and what is on it, in millimetres.
const EDGE_MM: f32 = 1.5;
/// At most this share of a label's width goes to the QR code.
const QR_SHARE: f32 = 0.42;
/// Space between the QR code's quiet zone and the text, in millimetres.
const GAP_MM: f32 = 0.8;
/// Distance between baselines, in sizes.
const LEADING: f32 = 1.2;

/// What one label shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    /// The asset id's digits without the dash (`000123`): the QR code leads to
    /// `<public_url>/q/<code>`.
    pub code: String,
    /// The lines beside the QR code, top to bottom.
    pub lines: Vec<Line>,
}

/// One line (or, for a name or contents, a few) of a label's text.
#[derive(Clone, Debug, PartialEq)]
pub enum Line {
    /// Bold and larger; wraps onto a second line where there is room.
    Title(String),
    Text(String),
    /// The names of what is inside, as many as fit, then "+ N more" for the rest:
    /// `more` counts the ones not in `names`.
    Contents {
        names: Vec<String>,
        more: usize,
    },
}

/// What a label stock's labels are set in.
struct Fitter {
    fonts: &'static Fonts,
    /// The text's box: its width and height, in points.
    width: f32,
    height: f32,
    /// The title's and the other lines' sizes before shrinking.
    title: f32,
    text: f32,
}

/// One line placed: its text and look, and its baseline below the text box's top.
#[derive(Clone, Debug, PartialEq)]
struct Placed {
    text: String,
    style: Style,
    baseline: f32,
}

static FONTS: LazyLock<Option<Fonts>> = LazyLock::new(|| Fonts::load().ok());
static FACES: LazyLock<Option<(Font, Font)>> =
    LazyLock::new(|| Some((font(REGULAR_TTF)?, font(BOLD_TTF)?)));

fn font(bytes: &'static [u8]) -> Option<Font> {
    let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
    Font::new(data.into(), 0)
}

/// The address a label's QR code encodes.
pub fn address(public_url: &str, code: &str) -> String {
    format!("{}/q/{code}", public_url.trim_end_matches('/'))
}

/// Pages needed for `count` labels after `skip` positions left empty.
pub fn pages(template: &Template, count: usize, skip: u32) -> usize {
    let per_page = template.labels_per_page().max(1) as usize;
    (count + skip as usize).div_ceil(per_page).max(1)
}

/// The labels, in order, on `template`'s pages as a PDF: the first `skip` positions of the
/// first page are left empty (labels already used), then one label per position, left to
/// right and top to bottom, page after page.
pub fn render(
    template: &Template,
    labels: &[Label],
    skip: u32,
    public_url: &str,
) -> anyhow::Result<Vec<u8>> {
    let fonts = FONTS
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the bundled font is not readable"))?;
    let (regular, bold) = FACES
        .as_ref()
        .ok_or_else(|| anyhow::anyhow!("the bundled font is not readable"))?;
    let per_page = template.labels_per_page().max(1) as usize;
    let skip = (skip as usize).min(per_page - 1);
    let settings = PageSettings::from_wh(
        template.page_width as f32 * PT_PER_MM,
        template.page_height as f32 * PT_PER_MM,
    )
    .ok_or_else(|| anyhow::anyhow!("the page of {} is not valid", template.id))?;
    let geometry = Geometry::of(template);
    let fitter = Fitter::new(fonts, &geometry);

    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!("Labels ({})", template.name))
            .creator("Home Inventory".into()),
    );
    let total_pages = pages(template, labels.len(), skip as u32);
    let mut next = labels.iter();
    for page_index in 0..total_pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        let first = if page_index == 0 { skip } else { 0 };
        for position in first..per_page {
            let Some(label) = next.next() else { break };
            let (x, y) = template.cell(position as u32);
            let origin = (x as f32 * PT_PER_MM, y as f32 * PT_PER_MM);
            draw_qr(
                &mut surface,
                &address(public_url, &label.code),
                origin,
                &geometry,
            )?;
            let (tx, ty) = (origin.0 + geometry.text_x, origin.1 + geometry.text_y);
            for placed in fitter.place(&label.lines) {
                let face = match placed.style.weight {
                    Weight::Regular => regular,
                    Weight::Bold => bold,
                };
                surface.set_fill(Some(fill(placed.style.gray)));
                surface.draw_text(
                    Point::from_xy(tx, ty + placed.baseline),
                    face.clone(),
                    placed.style.size,
                    &placed.text,
                    false,
                    TextDirection::Auto,
                );
            }
        }
        surface.finish();
        page.finish();
    }
    document
        .finish()
        .map_err(|e| anyhow::anyhow!("the PDF could not be written: {e:?}"))
}

/// Where things go on every label of a stock, in points from the label's top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Geometry {
    /// The QR code's square, quiet zone included.
    pub qr_x: f32,
    pub qr_y: f32,
    pub qr_side: f32,
    /// The text's box.
    pub text_x: f32,
    pub text_y: f32,
    pub text_width: f32,
    pub text_height: f32,
    pub label_height: f32,
}

impl Geometry {
    pub fn of(template: &Template) -> Self {
        let w = template.label_width as f32 * PT_PER_MM;
        let h = template.label_height as f32 * PT_PER_MM;
        let edge = EDGE_MM * PT_PER_MM;
        // As tall as the label allows (the quiet zone is blank, so it may reach close to
        // the edge), but leaving most of the width to the text.
        let qr_side = (h - 2.0 * edge).min(w * QR_SHARE);
        let qr_y = (h - qr_side) / 2.0;
        let text_x = edge + qr_side + GAP_MM * PT_PER_MM;
        Self {
            qr_x: edge,
            qr_y,
            qr_side,
            text_x,
            text_y: edge,
            text_width: (w - text_x - 2.0 * edge).max(1.0),
            text_height: h - 2.0 * edge,
            label_height: h,
        }
    }
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        ..Fill::default()
    }
}

/// The QR code of `data` in the label's QR square: its dark modules as one path of
/// squares (runs along a row merged into one rectangle), the quiet zone left blank.
fn draw_qr(
    surface: &mut Surface<'_>,
    data: &str,
    origin: (f32, f32),
    geometry: &Geometry,
) -> anyhow::Result<()> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow::anyhow!("the address {data:?} does not fit a QR code: {e}"))?;
    let modules = code.width();
    let module = geometry.qr_side / (modules + 2 * QUIET_ZONE) as f32;
    let left = origin.0 + geometry.qr_x + QUIET_ZONE as f32 * module;
    let top = origin.1 + geometry.qr_y + QUIET_ZONE as f32 * module;
    let colors = code.to_colors();
    let mut path = PathBuilder::new();
    for row in 0..modules {
        let mut column = 0;
        while column < modules {
            if colors[row * modules + column] != Color::Dark {
                column += 1;
                continue;
            }
            let start = column;
            while column < modules && colors[row * modules + column] == Color::Dark {
                column += 1;
            }
            if let Some(rect) = Rect::from_xywh(
                left + start as f32 * module,
                top + row as f32 * module,
                (column - start) as f32 * module,
                module,
            ) {
                path.push_rect(rect);
            }
        }
    }
    if let Some(path) = path.finish() {
        surface.set_fill(Some(fill(0)));
        surface.draw_path(&path);
    }
    Ok(())
}

impl Fitter {
    fn new(fonts: &'static Fonts, geometry: &Geometry) -> Self {
        // Sizes follow the label's height: about 11.5 pt for the name on a 1″ label.
        let title = (geometry.label_height * 0.16).clamp(7.0, 16.0);
        Self {
            fonts,
            width: geometry.text_width,
            height: geometry.text_height,
            title,
            text: (title * 0.75).max(MIN_SIZE),
        }
    }

    /// The lines set to fit the text box, centred in its height: at the largest scale (in
    /// steps of 5 %) at which every line fits, the title on up to two lines; when none
    /// does, at the smallest size with lines left off from the last.
    fn place(&self, lines: &[Line]) -> Vec<Placed> {
        let mut scale = 1.0_f32;
        let smallest = (MIN_SIZE / self.text).min(1.0);
        let mut set = loop {
            let set = self.set(lines, scale, 2);
            if height(&set) <= self.height {
                break set;
            }
            if scale <= smallest {
                let mut set = self.set(lines, smallest, 1);
                while height(&set) > self.height && set.len() > 1 {
                    set.pop();
                }
                break set;
            }
            scale = (scale - 0.05).max(smallest);
        };
        // Baselines, the block centred in the box.
        let top = ((self.height - height(&set)) / 2.0).max(0.0);
        let mut y = top;
        for placed in &mut set {
            let leading = placed.style.size * LEADING;
            // The cap height of DejaVu Sans is about 0.73 em; a line's box is its leading,
            // with the glyphs centred in it.
            placed.baseline = y + (leading + placed.style.size * 0.73) / 2.0;
            y += leading;
        }
        set
    }

    /// Every line set at `scale`, the title wrapped onto at most `title_lines` lines, the
    /// contents onto as many lines as the box has left. Baselines are filled in later.
    fn set(&self, lines: &[Line], scale: f32, title_lines: usize) -> Vec<Placed> {
        let title = Style::new((self.title * scale).max(MIN_SIZE), Weight::Bold);
        let text = Style::new((self.text * scale).max(MIN_SIZE), Weight::Regular);
        let mut set = Vec::new();
        let mut used = 0.0;
        let fixed: f32 = lines
            .iter()
            .map(|l| match l {
                Line::Title(_) => title.size * LEADING,
                Line::Text(_) | Line::Contents { .. } => text.size * LEADING,
            })
            .sum();
        for line in lines {
            match line {
                Line::Title(name) => {
                    let name = one_line(name);
                    let mut wrapped = self.fonts.wrap(&name, title, self.width);
                    // A second line only where the box has room for it.
                    let room = self.height - fixed - used;
                    let lines = if room >= title.size * LEADING {
                        title_lines
                    } else {
                        1
                    };
                    if wrapped.len() > lines {
                        let rest = wrapped[lines - 1..].join(" ");
                        wrapped.truncate(lines - 1);
                        wrapped.push(rest);
                    }
                    let count = wrapped.len();
                    for (i, part) in wrapped.into_iter().enumerate() {
                        let part = if i + 1 == count {
                            self.fits(&part, title)
                        } else {
                            (part, title)
                        };
                        set.push(placed(part.0, part.1));
                    }
                    used += (count as f32 - 1.0) * title.size * LEADING;
                }
                Line::Text(value) => {
                    let (value, style) = self.fits(&one_line(value), text);
                    set.push(placed(value, style));
                }
                Line::Contents { names, more } => {
                    let room = self.height - fixed - used;
                    let rows = ((room / (text.size * LEADING)).floor() as usize).max(1);
                    let rows = self.contents(names, *more, text, rows + 1);
                    used += (rows.len() as f32 - 1.0) * text.size * LEADING;
                    set.extend(rows.into_iter().map(|r| placed(r, text)));
                }
            }
        }
        set
    }

    /// `value` in `style`, or smaller down to `MIN_SIZE` so it fits the width, or at that
    /// size cut with "…".
    fn fits(&self, value: &str, style: Style) -> (String, Style) {
        let width = self.fonts.width(value, style);
        // The fonts' own margin for kerning (`layout::SLACK`) applies here too.
        let room = self.width * 0.98;
        if width <= room {
            return (value.to_string(), style);
        }
        let size = (style.size * room / width).max(MIN_SIZE).min(style.size);
        let style = Style { size, ..style };
        (self.fonts.clip(value, style, self.width), style)
    }

    /// The names on at most `rows` lines, as many as fit, the last line ending with
    /// "+ N more" when some are left out.
    fn contents(&self, names: &[String], more: usize, style: Style, rows: usize) -> Vec<String> {
        if names.is_empty() && more == 0 {
            return vec!["Empty".into()];
        }
        let names: Vec<String> = names.iter().map(|n| one_line(n)).collect();
        // The most names that fit with the count of the others after them.
        (0..=names.len())
            .rev()
            .find_map(|shown| {
                let left = more + names.len() - shown;
                let suffix = (left > 0).then(|| format!("+ {left} more"));
                self.flow(&names[..shown], suffix.as_deref(), style, rows)
            })
            .unwrap_or_else(|| {
                vec![
                    self.fonts
                        .clip(&format!("+ {} more", more + names.len()), style, self.width),
                ]
            })
    }

    /// `names` joined by commas and then `suffix`, flowed onto at most `rows` lines (a name
    /// wider than a line cut with "…"); `None` when they need more lines.
    fn flow(
        &self,
        names: &[String],
        suffix: Option<&str>,
        style: Style,
        rows: usize,
    ) -> Option<Vec<String>> {
        let room = self.width * 0.98;
        let mut lines: Vec<String> = Vec::new();
        let tokens = names
            .iter()
            .map(|n| (n.as_str(), ", "))
            .chain(suffix.map(|s| (s, " ")));
        for (token, separator) in tokens {
            if let Some(last) = lines.last_mut() {
                let joined = format!("{last}{separator}{token}");
                if self.fonts.width(&joined, style) <= room {
                    *last = joined;
                    continue;
                }
            }
            if lines.len() == rows {
                return None;
            }
            // A list going on to the next line keeps its comma where there is room for it.
            if let Some(last) = lines.last_mut() {
                let with_comma = format!("{last}{}", separator.trim_end());
                if self.fonts.width(&with_comma, style) <= room {
                    *last = with_comma;
                }
            }
            lines.push(self.fonts.clip(token, style, self.width));
        }
        Some(lines)
    }
}

fn placed(text: String, style: Style) -> Placed {
    Placed {
        text,
        style,
        baseline: 0.0,
    }
}

fn height(set: &[Placed]) -> f32 {
    set.iter().map(|p| p.style.size * LEADING).sum()
}

/// Text on one line: line breaks and control characters become spaces, runs of white space
/// one space.
fn one_line(text: &str) -> String {
    printable(text)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;

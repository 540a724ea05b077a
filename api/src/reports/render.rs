//! Draws laid-out pages (`super::layout`) into a PDF with krilla: the bundled font is
//! embedded as a subset, thumbnails are embedded as the JPEGs they are (never decoded),
//! each fetched when its page is drawn and let go after it, and every page gets the footer
//! with "Page X of Y".

use std::path::Path;
use std::sync::Arc;

use krilla::Document;
use krilla::annotation::{Annotation, LinkAnnotation, Target};
use krilla::color::luma;
use krilla::destination::XyzDestination;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::image::Image;
use krilla::metadata::{DateTime, Metadata};
use krilla::outline::{Outline, OutlineNode};
use krilla::page::PageSettings;
use krilla::paint::Fill;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use shared::AttachmentId;
use time::OffsetDateTime;

use super::layout::{
    BOLD_TTF, CONTENT_W, FOOTER_Y, Fonts, MARGIN, Op, PAGE_H, PAGE_W, REGULAR_TTF, Style, Weight,
};
use crate::portability::PortError;

/// What a document says about itself, the footer's left side, and the bookmarks a PDF
/// reader shows beside the pages (a title and the anchor it leads to).
pub struct Cover<'a> {
    pub title: &'a str,
    pub footer: &'a str,
    pub made_at: OffsetDateTime,
    pub bookmarks: Vec<(String, usize)>,
}

/// What drawing took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawn {
    pub pages: usize,
    pub photos: usize,
    pub bytes: u64,
}

/// Draws `pages` into a PDF file at `out`. `photo` gives an attachment's thumbnail (a
/// JPEG), or `None` to leave its box empty; `page_done` is called after each page (to
/// count progress, or to stop).
pub fn render(
    pages: Vec<Vec<Op>>,
    anchors: &[Option<(usize, f32)>],
    fonts: &Fonts,
    cover: &Cover<'_>,
    out: &Path,
    mut photo: impl FnMut(AttachmentId) -> Option<Vec<u8>>,
    mut page_done: impl FnMut(usize) -> Result<(), PortError>,
) -> Result<Drawn, PortError> {
    let regular = font(REGULAR_TTF)?;
    let bold = font(BOLD_TTF)?;
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(cover.title.to_string())
            .creator("Home Inventory".into())
            .creation_date(pdf_time(cover.made_at)),
    );
    let mut outline = Outline::new();
    for (title, anchor) in &cover.bookmarks {
        if let Some(Some((page, y))) = anchors.get(*anchor) {
            let to = XyzDestination::new(*page, Point::from_xy(0.0, (y - 8.0).max(0.0)));
            outline.push_child(OutlineNode::new(title.clone(), to));
        }
    }
    document.set_outline(outline);
    let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
        .ok_or_else(|| PortError::Internal(anyhow::anyhow!("the page size is not valid")))?;
    let total = pages.len();
    let mut drawn = Drawn {
        pages: total,
        ..Drawn::default()
    };
    for (index, ops) in pages.into_iter().enumerate() {
        let mut page = document.start_page_with(settings.clone());
        let mut links = Vec::new();
        {
            let mut surface = page.surface();
            for op in ops {
                match op {
                    Op::Text { x, y, style, text } => {
                        let face = match style.weight {
                            Weight::Regular => &regular,
                            Weight::Bold => &bold,
                        };
                        text_at(&mut surface, face, x, y, style, &text);
                    }
                    Op::Photo { x, y, w, h, id } => {
                        let Some(bytes) = photo(id) else { continue };
                        // A thumbnail krilla can't read is left out, not the report.
                        let Ok(image) = Image::from_jpeg(bytes.into(), true) else {
                            tracing::warn!(attachment = %id, "a thumbnail is not a JPEG krilla reads");
                            continue;
                        };
                        let (iw, ih) = image.size();
                        let scale = (w / iw.max(1) as f32).min(h / ih.max(1) as f32);
                        let (dw, dh) = (iw as f32 * scale, ih as f32 * scale);
                        let Some(size) = Size::from_wh(dw, dh) else {
                            continue;
                        };
                        surface.push_transform(&Transform::from_translate(
                            x + (w - dw) / 2.0,
                            y + (h - dh) / 2.0,
                        ));
                        surface.draw_image(image, size);
                        surface.pop();
                        drawn.photos += 1;
                    }
                    Op::Rect { x, y, w, h, gray } => {
                        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
                            let mut path = PathBuilder::new();
                            path.push_rect(rect);
                            if let Some(path) = path.finish() {
                                surface.set_fill(Some(fill(gray)));
                                surface.draw_path(&path);
                            }
                        }
                    }
                    Op::Link { x, y, w, h, anchor } => links.push((x, y, w, h, anchor)),
                }
            }
            footer(
                &mut surface,
                fonts,
                &regular,
                cover.footer,
                index + 1,
                total,
            );
            surface.finish();
        }
        for (x, y, w, h, anchor) in links {
            let (Some(Some((to_page, to_y))), Some(rect)) =
                (anchors.get(anchor), Rect::from_xywh(x, y, w, h))
            else {
                continue;
            };
            let target = XyzDestination::new(*to_page, Point::from_xy(0.0, (to_y - 8.0).max(0.0)));
            page.add_annotation(Annotation::new_link(
                LinkAnnotation::new(rect, Target::Destination(target.into())),
                None,
            ));
        }
        page.finish();
        page_done(index + 1)?;
    }
    let bytes = document
        .finish()
        .map_err(|e| PortError::Internal(anyhow::anyhow!("the PDF could not be written: {e:?}")))?;
    std::fs::write(out, &bytes)?;
    drawn.bytes = bytes.len() as u64;
    Ok(drawn)
}

fn font(bytes: &'static [u8]) -> Result<Font, PortError> {
    let data: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(bytes);
    Font::new(data.into(), 0)
        .ok_or_else(|| PortError::Internal(anyhow::anyhow!("the bundled font is not readable")))
}

fn fill(gray: u8) -> Fill {
    Fill {
        paint: luma::Color::new(gray).into(),
        ..Fill::default()
    }
}

fn text_at(surface: &mut Surface<'_>, font: &Font, x: f32, y: f32, style: Style, text: &str) {
    if text.is_empty() {
        return;
    }
    surface.set_fill(Some(fill(style.gray)));
    surface.draw_text(
        Point::from_xy(x, y),
        font.clone(),
        style.size,
        text,
        false,
        TextDirection::Auto,
    );
}

/// The household and the date at the left, "Page X of Y" at the right.
fn footer(
    surface: &mut Surface<'_>,
    fonts: &Fonts,
    font: &Font,
    left: &str,
    page: usize,
    total: usize,
) {
    let style = Style::new(8.0, Weight::Regular).gray(90);
    let right = format!("Page {page} of {total}");
    let right_w = fonts.width(&right, style);
    let left = fonts.clip(left, style, CONTENT_W - right_w - 24.0);
    text_at(surface, font, MARGIN, FOOTER_Y, style, &left);
    text_at(
        surface,
        font,
        MARGIN + CONTENT_W - right_w,
        FOOTER_Y,
        style,
        &right,
    );
}

fn pdf_time(t: OffsetDateTime) -> DateTime {
    DateTime::new(u16::try_from(t.year()).unwrap_or(2000))
        .month(u8::from(t.month()))
        .day(t.day())
        .hour(t.hour())
        .minute(t.minute())
        .second(t.second())
        .utc_offset_hour(0)
        .utc_offset_minute(0)
}

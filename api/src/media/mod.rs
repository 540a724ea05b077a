//! What happens to an uploaded file before anyone sees it: its first bytes decide its type
//! (never the name or what the browser claimed), images are decoded under a pixel limit,
//! turned upright by their EXIF orientation, stripped of everything but what displays them
//! (EXIF, GPS, XMP, comments, C2PA, secondary images, motion-photo videos: see `strip`),
//! and get a small JPEG thumbnail.

use std::io::Cursor;

pub mod strip;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, metadata::Orientation};
use shared::AttachmentKind;

/// Largest image accepted, in pixels (a 50-megapixel photo): beyond it a small file can
/// still need gigabytes once decoded.
pub const MAX_PIXELS: u64 = 50_000_000;
/// Long edge of thumbnails, in pixels.
pub const THUMBNAIL_EDGE: u32 = 480;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Webp,
    Gif,
    Heic,
    Pdf,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Webp => "image/webp",
            Self::Gif => "image/gif",
            Self::Heic => "image/heic",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Jpeg => "a JPEG image",
            Self::Png => "a PNG image",
            Self::Webp => "a WebP image",
            Self::Gif => "a GIF image",
            Self::Heic => "a HEIC photo",
            Self::Pdf => "a PDF document",
        }
    }

    /// The file name extension of the type, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Webp => "webp",
            Self::Gif => "gif",
            Self::Heic => "heic",
            Self::Pdf => "pdf",
        }
    }

    pub fn is_image(self) -> bool {
        !matches!(self, Self::Pdf)
    }

    /// The type a declared `Content-Type` names, if it is one accepted.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        let essence = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        Some(match essence.as_str() {
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Self::Jpeg,
            "image/png" => Self::Png,
            "image/webp" => Self::Webp,
            "image/gif" => Self::Gif,
            "image/heic" | "image/heif" => Self::Heic,
            "application/pdf" => Self::Pdf,
            _ => return None,
        })
    }

    /// What the file's first bytes say it is.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(Self::Png)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(Self::Webp)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(Self::Gif)
        } else if bytes.len() >= 12
            && &bytes[4..8] == b"ftyp"
            && matches!(
                &bytes[8..12],
                b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1"
            )
        {
            Some(Self::Heic)
        } else if bytes.starts_with(b"%PDF-") {
            Some(Self::Pdf)
        } else {
            None
        }
    }
}

/// Why a file was refused; each maps to a status and a message for the person.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    /// 415.
    #[error("{0}")]
    UnsupportedType(String),
    /// 413.
    #[error("{0}")]
    TooLarge(String),
    /// 422.
    #[error("{0}")]
    Invalid(String),
}

/// A file ready to keep.
#[derive(Debug)]
pub struct Processed {
    pub file_type: FileType,
    /// The bytes to serve: upright, without metadata.
    pub bytes: Vec<u8>,
    pub thumbnail: Option<Vec<u8>>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Checks and cleans an uploaded file that was announced as `declared` for `kind`.
pub fn process(
    bytes: Vec<u8>,
    declared: FileType,
    kind: AttachmentKind,
) -> Result<Processed, Refusal> {
    let Some(found) = FileType::sniff(&bytes) else {
        return Err(Refusal::UnsupportedType(
            "This file is not a JPEG, PNG, WebP, GIF or HEIC image or a PDF document.".into(),
        ));
    };
    if found != declared {
        return Err(Refusal::UnsupportedType(format!(
            "The file was announced as {} but is {}.",
            declared.label(),
            found.label()
        )));
    }
    if kind == AttachmentKind::Photo && !found.is_image() {
        return Err(Refusal::UnsupportedType(
            "A photo must be an image; add PDF files as a receipt, manual, warranty or other document."
                .into(),
        ));
    }
    match found {
        FileType::Pdf => Ok(Processed {
            file_type: found,
            bytes,
            thumbnail: None,
            width: None,
            height: None,
        }),
        FileType::Heic => Err(Refusal::UnsupportedType(
            "HEIC photos can't be read here yet. Send it as JPEG (on an iPhone: Settings › Camera › \
             Formats › Most Compatible), or take it on the capture page, which sends JPEG."
                .into(),
        )),
        _ => process_image(bytes, found),
    }
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, Refusal> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| unreadable())?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 8 + 64 * 1024 * 1024);
    reader.limits(limits);
    Ok(reader)
}

fn unreadable() -> Refusal {
    Refusal::Invalid("The image is damaged or incomplete and can't be read.".into())
}

fn process_image(bytes: Vec<u8>, file_type: FileType) -> Result<Processed, Refusal> {
    // The header's dimensions first: a decompression bomb is refused before it is decoded.
    let (w, h) = reader(&bytes)?
        .into_dimensions()
        .map_err(|_| unreadable())?;
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(Refusal::TooLarge(format!(
            "The image is {w} × {h} pixels; the most accepted is {} megapixels.",
            MAX_PIXELS / 1_000_000
        )));
    }
    let mut decoder = reader(&bytes)?.into_decoder().map_err(|_| unreadable())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| unreadable())?;
    image.apply_orientation(orientation);

    let cleaned = if orientation == Orientation::NoTransforms {
        strip_metadata(&bytes, file_type).map_err(|_| unreadable())?
    } else {
        reencode(&image, file_type)?
    };
    Ok(Processed {
        file_type,
        bytes: cleaned,
        thumbnail: Some(thumbnail(&image)?),
        width: Some(image.width()),
        height: Some(image.height()),
    })
}

/// The same pixels, written again without metadata (after a rotation).
fn reencode(image: &DynamicImage, file_type: FileType) -> Result<Vec<u8>, Refusal> {
    let mut out = Vec::new();
    let written =
        match file_type {
            FileType::Jpeg => image.to_rgb8().write_with_encoder(
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92),
            ),
            FileType::Webp => image
                .to_rgba8()
                .write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut out)),
            _ => image.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png),
        };
    written.map_err(|e| {
        tracing::warn!(error = %e, "writing a rotated image failed");
        unreadable()
    })?;
    Ok(out)
}

/// A JPEG no larger than `THUMBNAIL_EDGE` on its long edge, transparency on white.
pub fn thumbnail(image: &DynamicImage) -> Result<Vec<u8>, Refusal> {
    let small = if image.width().max(image.height()) > THUMBNAIL_EDGE {
        image.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE)
    } else {
        image.clone()
    };
    let rgba = small.to_rgba8();
    let mut rgb = image::RgbImage::new(rgba.width(), rgba.height());
    for (to, from) in rgb.pixels_mut().zip(rgba.pixels()) {
        let [r, g, b, a] = from.0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        to.0 = [blend(r), blend(g), blend(b)];
    }
    let mut out = Vec::new();
    rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut out, 80,
    ))
    .map_err(|_| unreadable())?;
    Ok(out)
}

/// Removes metadata without touching the pixels: only what displays the image is kept
/// (see `strip`).
pub fn strip_metadata(bytes: &[u8], file_type: FileType) -> Result<Vec<u8>, strip::Malformed> {
    match file_type {
        FileType::Jpeg => strip::jpeg(bytes),
        FileType::Png => strip::png(bytes),
        FileType::Webp => strip::webp(bytes),
        FileType::Gif => strip::gif(bytes),
        // PDFs and HEIC are not rewritten (HEIC is refused before this).
        FileType::Pdf | FileType::Heic => Ok(bytes.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let image =
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(w, h, image::Rgb([200, 10, 10])));
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn types_come_from_the_bytes() {
        assert_eq!(FileType::sniff(&png(2, 2)), Some(FileType::Png));
        assert_eq!(FileType::sniff(b"%PDF-1.7\n"), Some(FileType::Pdf));
        assert_eq!(FileType::sniff(b"hello"), None);
        let err = process(png(2, 2), FileType::Jpeg, AttachmentKind::Photo).unwrap_err();
        assert!(matches!(err, Refusal::UnsupportedType(m) if m.contains("PNG")));
    }

    #[test]
    fn a_png_gets_a_thumbnail_and_loses_its_text() {
        let mut bytes = png(1000, 500);
        // A tEXt chunk before IEND.
        let iend = bytes.len() - 12;
        let text = b"tEXtComment\0secret place";
        let mut chunk = (text.len() as u32 - 4).to_be_bytes().to_vec();
        chunk.extend_from_slice(text);
        chunk.extend_from_slice(&[0, 0, 0, 0]);
        bytes.splice(iend..iend, chunk);
        let done = process(bytes, FileType::Png, AttachmentKind::Photo).unwrap();
        assert!(!done.bytes.windows(6).any(|w| w == b"secret"));
        assert_eq!((done.width, done.height), (Some(1000), Some(500)));
        let thumb = image::load_from_memory(&done.thumbnail.unwrap()).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (480, 240));
    }

    #[test]
    fn pdfs_are_documents_not_photos() {
        let pdf = b"%PDF-1.4\n%%EOF\n".to_vec();
        assert!(process(pdf.clone(), FileType::Pdf, AttachmentKind::Photo).is_err());
        let done = process(pdf, FileType::Pdf, AttachmentKind::Receipt).unwrap();
        assert!(done.thumbnail.is_none());
    }
}

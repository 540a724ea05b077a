//! The copy of a photo sent for recognition: a JPEG no larger than the model looks at.

use std::io::Cursor;

use anyhow::Context as _;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageReader, Rgb, RgbImage};

/// The longest edge, in pixels, of a photo sent for recognition. The model scales larger
/// images down to about this size anyway, so bigger ones only cost time and bandwidth.
pub const MAX_EDGE: u32 = 1568;

const JPEG_QUALITY: u8 = 85;

/// Decodes a JPEG, PNG, WebP or GIF (its first frame) and returns a JPEG copy whose long
/// edge is at most [`MAX_EDGE`] pixels; smaller photos keep their size. Transparent areas
/// become white.
///
/// The bytes should be an image already checked and turned upright. This takes a moment of
/// CPU for a large photo: call it from `tokio::task::spawn_blocking`.
pub fn prepare_photo(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let image = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .context("reading the photo")?
        .decode()
        .context("decoding the photo")?;
    let image = if image.width().max(image.height()) > MAX_EDGE {
        // Area averaging: quick, and as good as a filter when only shrinking.
        image.thumbnail(MAX_EDGE, MAX_EDGE)
    } else {
        image
    };
    let rgb = flatten_on_white(image);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
        .encode_image(&rgb)
        .context("encoding the photo as JPEG")?;
    Ok(out)
}

/// JPEG has no transparency: blend any alpha onto white instead of letting hidden colours
/// (often black) show.
fn flatten_on_white(image: DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.into_rgb8();
    }
    let rgba = image.into_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| {
            let c = u32::from(c);
            let a = u32::from(a);
            // Rounded (c·a + 255·(255−a)) / 255, always within 0..=255.
            u8::try_from((c * a + 255 * (255 - a) + 127) / 255).unwrap_or(u8::MAX)
        };
        Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        image.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    fn gradient(width: u32, height: u32) -> DynamicImage {
        DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        }))
    }

    fn jpeg_size(jpeg: &[u8]) -> (u32, u32) {
        let image = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
        (image.width(), image.height())
    }

    #[test]
    fn a_large_photo_is_shrunk_to_the_long_edge_keeping_its_shape() {
        let landscape = encoded(gradient(1700, 1275), ImageFormat::Jpeg);
        assert_eq!(jpeg_size(&prepare_photo(&landscape).unwrap()), (1568, 1176));

        let portrait = encoded(gradient(200, 3136), ImageFormat::Png);
        assert_eq!(jpeg_size(&prepare_photo(&portrait).unwrap()), (100, 1568));
    }

    #[test]
    fn a_small_photo_keeps_its_size() {
        let gif = encoded(gradient(320, 200), ImageFormat::Gif);
        assert_eq!(jpeg_size(&prepare_photo(&gif).unwrap()), (320, 200));
        let webp = encoded(gradient(1568, 10), ImageFormat::WebP);
        assert_eq!(jpeg_size(&prepare_photo(&webp).unwrap()), (1568, 10));
    }

    #[test]
    fn transparent_areas_turn_white() {
        let clear = RgbaImage::from_pixel(16, 16, Rgba([0, 0, 0, 0]));
        let png = encoded(DynamicImage::ImageRgba8(clear), ImageFormat::Png);
        let jpeg = prepare_photo(&png).unwrap();
        let decoded = image::load_from_memory(&jpeg).unwrap().into_rgb8();
        let Rgb([r, g, b]) = *decoded.get_pixel(8, 8);
        assert!(r > 245 && g > 245 && b > 245, "got {r},{g},{b}");
    }

    #[test]
    fn bytes_that_are_not_an_image_are_refused() {
        assert!(prepare_photo(b"%PDF-1.7 not a photo").is_err());
        assert!(prepare_photo(&[]).is_err());
    }
}

//! Reads the QR codes in one camera frame.
//!
//! The Scan page sends the frames it grabs (RGBA, as a canvas gives them) to the worker in
//! `main.rs`, which answers with what [`decode_rgba`] found.

/// The text of the first QR code that can be read in an RGBA frame `width` pixels wide;
/// `None` when there is none (or the frame is not `width × height` pixels).
pub fn decode_rgba(width: usize, height: usize, rgba: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || rgba.len() < width * height * 4 {
        return None;
    }
    let grey: Vec<u8> = rgba
        .chunks_exact(4)
        .take(width * height)
        .map(|p| luma(p[0], p[1], p[2]))
        .collect();
    decode_grey(width, height, &grey)
}

/// The text of the first QR code that can be read in a grey frame (one byte a pixel).
pub fn decode_grey(width: usize, height: usize, grey: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || grey.len() < width * height {
        return None;
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| grey[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

/// Brightness of a pixel (ITU-R BT.601 weights, in 8-bit fixed point).
fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A grey frame `w × h` with `text`'s QR code at (`left`, `top`), `scale` pixels a
    /// module, dark modules `ink` on white.
    fn frame_with(
        text: &str,
        w: usize,
        h: usize,
        left: usize,
        top: usize,
        scale: usize,
        ink: u8,
    ) -> Vec<u8> {
        let code = qrcode::QrCode::new(text.as_bytes()).unwrap();
        let n = code.width();
        let colors = code.to_colors();
        let mut grey = vec![255u8; w * h];
        for y in 0..n * scale {
            for x in 0..n * scale {
                if colors[(y / scale) * n + x / scale] == qrcode::Color::Dark {
                    grey[(top + y) * w + left + x] = ink;
                }
            }
        }
        grey
    }

    #[test]
    fn a_labels_code_is_read_from_a_camera_frame() {
        let text = "http://127.0.0.1:8080/q/000123";
        let grey = frame_with(text, 640, 480, 200, 120, 6, 30);
        assert_eq!(decode_grey(640, 480, &grey).as_deref(), Some(text));
        // The same as the RGBA a canvas gives, greyish ink on a white page.
        let rgba: Vec<u8> = grey
            .iter()
            .flat_map(|&g| [g, g, g.saturating_add(10), 255])
            .collect();
        assert_eq!(decode_rgba(640, 480, &rgba).as_deref(), Some(text));
    }

    #[test]
    fn a_small_code_in_a_corner_is_read_too() {
        let text = "https://home.example/q/1000003";
        let grey = frame_with(text, 320, 240, 8, 8, 3, 0);
        assert_eq!(decode_grey(320, 240, &grey).as_deref(), Some(text));
    }

    #[test]
    fn a_frame_without_a_code_reads_as_nothing() {
        let (w, h) = (64, 48);
        let mut rgba = vec![255u8; w * h * 4];
        for (i, p) in rgba.chunks_exact_mut(4).enumerate() {
            // Stripes: edges but no finder patterns.
            if (i % w) / 8 % 2 == 0 {
                p[..3].fill(0);
            }
        }
        assert_eq!(decode_rgba(w, h, &rgba), None);
    }

    #[test]
    fn a_frame_shorter_than_its_size_says_reads_as_nothing() {
        assert_eq!(decode_rgba(10, 10, &[0; 40]), None);
        assert_eq!(decode_grey(0, 10, &[]), None);
    }

    #[test]
    fn grey_is_weighted_like_the_eye() {
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert!(luma(0, 255, 0) > luma(255, 0, 0));
        assert!(luma(255, 0, 0) > luma(0, 0, 255));
    }
}

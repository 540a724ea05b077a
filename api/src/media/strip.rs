//! Rewrites an image file keeping only what displays it: the pixels, and what says how to
//! show them (colour profile, gamma, transparency, animation timing). Everything else is
//! dropped: EXIF (and its GPS position), XMP, IPTC, comments and text, C2PA manifests,
//! MPF secondary images and motion-photo videos appended after the image, and any bytes
//! after the end of the image.
//!
//! It is a list of what to keep, not of what to remove: a kind of metadata nobody has
//! heard of yet is dropped too.
//!
//! Written by hand because no maintained crate rewrites JPEG, PNG, WebP and GIF
//! containers losslessly: `image` decodes and encodes again (a JPEG loses quality, a GIF
//! its animation), and the metadata crates edit EXIF or XMP in place rather than keep
//! only what displays the image. These functions only walk the containers' framing
//! (segments, chunks, blocks); the pixels are copied as they came, and the file has
//! already been decoded once by `image` before it gets here.
//!
//! A file whose framing doesn't hold together is refused rather than passed through.

use memchr::memchr;

/// Why a file could not be rewritten.
pub type Malformed = &'static str;

const TRUNCATED: Malformed = "truncated";

/// `bytes[at..at + len]`, or an error when the file ends before.
fn slice(bytes: &[u8], at: usize, len: usize) -> Result<&[u8], Malformed> {
    at.checked_add(len)
        .and_then(|end| bytes.get(at..end))
        .ok_or(TRUNCATED)
}

fn byte(bytes: &[u8], at: usize) -> Result<u8, Malformed> {
    bytes.get(at).copied().ok_or(TRUNCATED)
}

fn u16_be(bytes: &[u8], at: usize) -> Result<u16, Malformed> {
    Ok(u16::from_be_bytes([byte(bytes, at)?, byte(bytes, at + 1)?]))
}

fn u32_be(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let b = slice(bytes, at, 4)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn u32_le(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let b = slice(bytes, at, 4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

// ---------------------------------------------------------------------------------- JPEG

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

/// A JPEG's first image, from its start to its end-of-image marker, with only the
/// segments a decoder needs: JFIF (without its thumbnail), an ICC colour profile, Adobe's
/// colour transform, quantisation and Huffman tables, the frame header, restart interval,
/// arithmetic-coding conditioning, line count, and the scans. A phone's EXIF and XMP
/// (APP1), MPF index (APP2), IPTC (APP13), C2PA (APP11), comments, and whatever follows
/// the first image's end (MPF's secondary images, a motion photo's video) are left out.
pub fn jpeg(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    if !bytes.starts_with(&[0xFF, SOI]) {
        return Err("not a JPEG");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&[0xFF, SOI]);
    let (mut at, mut frame, mut scans) = (2, false, 0usize);
    loop {
        if byte(bytes, at)? != 0xFF {
            return Err("no marker where one should be");
        }
        // Any number of 0xFF may fill the space before a marker.
        while byte(bytes, at + 1)? == 0xFF {
            at += 1;
        }
        let marker = byte(bytes, at + 1)?;
        at += 2;
        match marker {
            EOI if scans > 0 => {
                out.extend_from_slice(&[0xFF, EOI]);
                return Ok(out);
            }
            EOI => return Err("no image data"),
            // TEM: a marker on its own, meaning nothing to a decoder.
            0x01 => continue,
            0x00 | SOI | 0xD0..=0xD7 => return Err("a marker out of place"),
            _ => {}
        }
        let len = usize::from(u16_be(bytes, at)?);
        if len < 2 {
            return Err("a segment shorter than its length field");
        }
        let payload = slice(bytes, at + 2, len - 2)?;
        let segment = &bytes[at - 2..at + len];
        at += len;
        match marker {
            // APP0 JFIF: the version and pixel density, without the thumbnail it may carry.
            0xE0 if payload.starts_with(b"JFIF\0") && payload.len() >= 14 => {
                out.extend_from_slice(&[0xFF, 0xE0, 0, 16]);
                out.extend_from_slice(&payload[..12]);
                out.extend_from_slice(&[0, 0]);
            }
            // APP2: only ICC profiles (it also carries MPF, the index of secondary images).
            0xE2 if payload.starts_with(b"ICC_PROFILE\0") => out.extend_from_slice(segment),
            // APP14 Adobe: the colour transform (YCbCr, YCCK or none), 12 bytes.
            0xEE if payload.starts_with(b"Adobe") && payload.len() >= 12 => {
                out.extend_from_slice(&[0xFF, 0xEE, 0, 14]);
                out.extend_from_slice(&payload[..12]);
            }
            // Frame headers (SOF0–SOF15 but for DHT, JPG and DAC at C4, C8 and CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if frame {
                    return Err("a second frame header");
                }
                frame = true;
                out.extend_from_slice(segment);
            }
            // DHT, DAC, DQT, DNL, DRI.
            0xC4 | 0xCC | 0xDB | 0xDC | 0xDD => out.extend_from_slice(segment),
            SOS => {
                if !frame {
                    return Err("a scan before the frame header");
                }
                out.extend_from_slice(segment);
                let end = entropy_coded_end(bytes, at)?;
                out.extend_from_slice(&bytes[at..end]);
                at = end;
                scans += 1;
            }
            // Every other APPn, COM, and the rest.
            _ => {}
        }
    }
}

/// Where the entropy-coded data starting at `at` ends: at the first marker that is not a
/// stuffed 0x00 or a restart marker (either may follow fill bytes).
fn entropy_coded_end(bytes: &[u8], mut at: usize) -> Result<usize, Malformed> {
    loop {
        let ff = at + memchr(0xFF, bytes.get(at..).ok_or(TRUNCATED)?).ok_or(TRUNCATED)?;
        let mut next = ff + 1;
        while byte(bytes, next)? == 0xFF {
            next += 1;
        }
        match byte(bytes, next)? {
            0x00 | 0xD0..=0xD7 => at = next + 1,
            _ => return Ok(ff),
        }
    }
}

// ----------------------------------------------------------------------------------- PNG

/// Chunks kept: the image, its palette and transparency, how to show its colours (gamma,
/// chromaticities, sRGB intent, ICC profile, significant bits, coding-independent code
/// points for HDR), its pixel size, and APNG's animation.
const PNG_KEPT: [&[u8; 4]; 15] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"cICP", b"pHYs", b"acTL", b"fcTL", b"fdAT",
];

/// A PNG up to its IEND chunk with only the chunks in `PNG_KEPT`: no eXIf, text (tEXt,
/// zTXt, iTXt), tIME, C2PA (caBX) or private chunks, and nothing after IEND.
pub fn png(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) {
        return Err("not a PNG");
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(SIGNATURE);
    let mut at = SIGNATURE.len();
    loop {
        let len = u32_be(bytes, at)?;
        if len > 0x7FFF_FFFF {
            return Err("a chunk longer than PNG allows");
        }
        let chunk = slice(bytes, at, 12 + len as usize)?;
        let kind = &chunk[4..8];
        at += chunk.len();
        if PNG_KEPT.iter().any(|k| k.as_slice() == kind) {
            out.extend_from_slice(chunk);
        }
        if kind == b"IEND" {
            return Ok(out);
        }
    }
}

// ---------------------------------------------------------------------------------- WebP

/// Chunks kept at the top level: the bitstreams, the extended header, alpha, animation and
/// the ICC profile.
const WEBP_KEPT: [&[u8; 4]; 7] = [
    b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP",
];
/// VP8X flags of the EXIF and XMP chunks.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

/// A WebP file of only the chunks in `WEBP_KEPT` (no EXIF, XMP or unknown chunks, at the
/// top level or inside animation frames), its VP8X flags and RIFF length made to match, and
/// nothing after the length the RIFF header gives.
pub fn webp(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    if bytes.len() < 12 || &bytes[..4] != b"RIFF" || &bytes[8..12] != b"WEBP" {
        return Err("not a WebP file");
    }
    let riff_end = 8usize
        .checked_add(u32_le(bytes, 4)? as usize)
        .ok_or(TRUNCATED)?;
    let body = bytes.get(12..riff_end).ok_or(TRUNCATED)?;
    let mut out = Vec::with_capacity(riff_end);
    out.extend_from_slice(b"RIFF\0\0\0\0WEBP");
    riff_chunks(body, &mut out, |kind, data, out| {
        match kind {
            b"VP8X" => {
                let mut header = slice(data, 0, 10)?.to_vec();
                header[0] &= !(VP8X_EXIF | VP8X_XMP);
                put_chunk(out, kind, &header);
            }
            // An animation frame: its 16-byte header, then its own chunks, of which only
            // alpha and the bitstream are kept.
            b"ANMF" => {
                let mut frame = slice(data, 0, 16)?.to_vec();
                riff_chunks(&data[16..], &mut frame, |kind, data, frame| {
                    if matches!(kind, b"ALPH" | b"VP8 " | b"VP8L") {
                        put_chunk(frame, kind, data);
                    }
                    Ok(())
                })?;
                put_chunk(out, kind, &frame);
            }
            _ if WEBP_KEPT.contains(&kind) => put_chunk(out, kind, data),
            _ => {}
        }
        Ok(())
    })?;
    let riff_len = u32::try_from(out.len() - 8).map_err(|_| "too large")?;
    out[4..8].copy_from_slice(&riff_len.to_le_bytes());
    Ok(out)
}

/// Calls `each` with the type and data of every RIFF chunk in `bytes`.
fn riff_chunks(
    bytes: &[u8],
    out: &mut Vec<u8>,
    mut each: impl FnMut(&[u8; 4], &[u8], &mut Vec<u8>) -> Result<(), Malformed>,
) -> Result<(), Malformed> {
    let mut at = 0;
    while at < bytes.len() {
        let header = slice(bytes, at, 8)?;
        let kind: &[u8; 4] = header[..4].try_into().map_err(|_| TRUNCATED)?;
        let len = u32_le(header, 4)? as usize;
        let data = slice(bytes, at + 8, len)?;
        each(kind, data, out)?;
        // Chunks are padded to an even length; the last one's padding may be missing.
        at = (at + 8 + len + (len & 1)).min(bytes.len());
    }
    Ok(())
}

/// Writes a RIFF chunk, with a zero padding byte after an odd length.
fn put_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(kind);
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    if data.len() % 2 == 1 {
        out.push(0);
    }
}

// ----------------------------------------------------------------------------------- GIF

/// A GIF built again from its parts that display: the header, the logical screen and
/// global colour table, and for each frame its graphic control extension (delay,
/// transparency, disposal), image descriptor, local colour table and image data; the
/// NETSCAPE2.0 loop count; the trailer. Comments, plain text, and every other application
/// extension (XMP, ICC, anything private) are left out, and so is anything after the
/// trailer.
pub fn gif(bytes: &[u8]) -> Result<Vec<u8>, Malformed> {
    if !(bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a")) {
        return Err("not a GIF");
    }
    let mut out = Vec::with_capacity(bytes.len());
    // Header and logical screen descriptor, then the global colour table if flagged.
    let screen = slice(bytes, 0, 13)?;
    out.extend_from_slice(screen);
    let mut at = 13 + colour_table_len(screen[10]);
    out.extend_from_slice(slice(bytes, 13, at - 13)?);
    // A graphic control extension belongs to the next graphic: held until it comes.
    let mut control: Option<[u8; 8]> = None;
    loop {
        match byte(bytes, at)? {
            0x2C => {
                let descriptor = slice(bytes, at, 10)?;
                let table = colour_table_len(descriptor[9]);
                // Descriptor, local colour table, LZW minimum code size.
                let head = slice(bytes, at, 10 + table + 1)?;
                let end = sub_blocks_end(bytes, at + head.len())?;
                if let Some(control) = control.take() {
                    out.extend_from_slice(&control);
                }
                out.extend_from_slice(&bytes[at..end]);
                at = end;
            }
            0x21 => {
                let label = byte(bytes, at + 1)?;
                let end = sub_blocks_end(bytes, at + 2)?;
                match label {
                    // Its one 4-byte block: flags, delay, transparent colour index.
                    0xF9 => {
                        let block = slice(bytes, at + 2, 5)?;
                        if block[0] != 4 {
                            return Err("a graphic control extension of the wrong size");
                        }
                        let mut gce = [0x21, 0xF9, 4, 0, 0, 0, 0, 0];
                        gce[3..7].copy_from_slice(&block[1..]);
                        control = Some(gce);
                    }
                    // Plain text is a graphic too: its control goes with it.
                    0x01 => control = None,
                    0xFF => {
                        if let Some(count) = netscape_loop_count(&bytes[at + 2..end]) {
                            out.extend_from_slice(b"\x21\xFF\x0BNETSCAPE2.0\x03\x01");
                            out.extend_from_slice(&count.to_le_bytes());
                            out.push(0);
                        }
                    }
                    _ => {}
                }
                at = end;
            }
            0x3B => {
                out.push(0x3B);
                return Ok(out);
            }
            _ => return Err("an unknown GIF block"),
        }
    }
}

/// Bytes of the colour table a packed field announces.
fn colour_table_len(packed: u8) -> usize {
    if packed & 0x80 == 0 {
        0
    } else {
        3 << ((packed & 0x07) + 1)
    }
}

/// Where the sub-blocks starting at `at` end (just after their zero-length terminator).
fn sub_blocks_end(bytes: &[u8], mut at: usize) -> Result<usize, Malformed> {
    loop {
        let len = usize::from(byte(bytes, at)?);
        at += 1;
        if len == 0 {
            return Ok(at);
        }
        slice(bytes, at, len)?;
        at += len;
    }
}

/// The loop count of a NETSCAPE2.0 (or its twin ANIMEXTS1.0) application extension, given
/// its sub-blocks.
fn netscape_loop_count(blocks: &[u8]) -> Option<u16> {
    let (id, rest) = blocks.split_at_checked(12)?;
    if id != b"\x0BNETSCAPE2.0" && id != b"\x0BANIMEXTS1.0" {
        return None;
    }
    let mut at = 0;
    while let Some(&len) = rest.get(at) {
        let block = rest.get(at + 1..at + 1 + usize::from(len))?;
        if let [1, lo, hi, ..] = block {
            return Some(u16::from_le_bytes([*lo, *hi]));
        }
        if len == 0 {
            return None;
        }
        at += 1 + usize::from(len);
    }
    None
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use image::AnimationDecoder as _;
    use image::ImageEncoder as _;

    use super::*;

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0xFF, marker];
        out.extend_from_slice(&(payload.len() as u16 + 2).to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// A baseline JPEG as `image` writes it: SOI, APP0 JFIF (18 bytes), then with `icc` an
    /// APP2 ICC profile, tables, frame, one scan, EOI.
    fn encode_jpeg(w: u32, h: u32, icc: Option<&[u8]>) -> Vec<u8> {
        let pixels =
            image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x * 5) as u8, (y * 5) as u8, 128]));
        let mut out = Vec::new();
        let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
        if let Some(icc) = icc {
            encoder.set_icc_profile(icc.to_vec()).unwrap();
        }
        encoder
            .write_image(pixels.as_raw(), w, h, image::ExtendedColorType::Rgb8)
            .unwrap();
        out
    }

    const EXIF_GPS: &[u8] = b"Exif\0\0II\x2a\0\x08\0\0\0GPS 51.5007N 0.1246W";
    const PROGRESSIVE: &[u8] = include_bytes!("../../tests/fixtures/progressive.jpg");

    /// A phone's extras around a JPEG's segments: EXIF and GPS, MPF and C2PA before them;
    /// a second image with its own EXIF and a motion photo's video after the end.
    fn as_phone_writes_it(segments: &[u8]) -> Vec<u8> {
        [
            &[0xFF, 0xD8][..],
            &segment(0xE1, EXIF_GPS),
            &segment(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta GCamera:MotionPhoto='1'/>",
            ),
            &segment(0xE2, b"MPF\0MM\0\x2a\0\0\0\x08\0\0"),
            &segment(0xEB, b"JP\0\x01\0\0\0\x01\0\0\0\x20jumb\0\0\0\x18jumdc2pa"),
            &segment(0xED, b"Photoshop 3.0\08BIM\x04\x04 caption"),
            &segment(0xFE, b"taken at home"),
            segments,
            &[0xFF, 0xD8],
            &segment(0xE1, EXIF_GPS),
            &encode_jpeg(8, 8, None)[2..],
            b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom\0\0\0\x10mdatvideo...",
        ]
        .concat()
    }

    #[track_caller]
    fn assert_clean(jpeg: &[u8]) {
        for giveaway in [
            b"Exif".as_slice(),
            b"GPS",
            b"xmpmeta",
            b"MPF\0",
            b"jumb",
            b"c2pa",
            b"Photoshop",
            b"taken at home",
            b"ftyp",
        ] {
            assert!(
                !contains(jpeg, giveaway),
                "{}",
                String::from_utf8_lossy(giveaway)
            );
        }
    }

    #[test]
    fn a_phone_jpeg_keeps_its_first_image_and_colour_profile_only() {
        let plain = encode_jpeg(40, 24, Some(b"a colour profile"));
        assert_eq!(&plain[2..4], &[0xFF, 0xE0], "APP0 JFIF first");
        let (soi_jfif, rest) = plain.split_at(20);
        // JFIF with a 1 × 1 thumbnail, Adobe's segment with a byte too many, a JFXX
        // thumbnail and an unknown APP15 among the segments that display the image.
        let jfif_with_thumbnail = [&soi_jfif[6..18], &[1, 1, 9, 9, 9][..]].concat();
        let adobe = b"Adobe\0\x64\0\0\0\0\x01";
        let phone = as_phone_writes_it(
            &[
                segment(0xE0, &jfif_with_thumbnail),
                segment(0xE0, b"JFXX\0\x10 thumbnail"),
                segment(0xEE, &[adobe.as_slice(), b"!"].concat()),
                segment(0xEF, b"whatever comes next"),
                rest.to_vec(),
            ]
            .concat(),
        );

        let stripped = jpeg(&phone).unwrap();
        assert_clean(&stripped);
        let expected = [soi_jfif, &segment(0xEE, adobe), rest].concat();
        assert_eq!(stripped, expected);
        assert!(contains(
            &stripped,
            b"ICC_PROFILE\0\x01\x01a colour profile"
        ));
        let shown = image::load_from_memory(&stripped).unwrap();
        assert_eq!((shown.width(), shown.height()), (40, 24));
    }

    #[test]
    fn a_progressive_jpeg_keeps_every_scan_up_to_its_end() {
        let phone = as_phone_writes_it(&PROGRESSIVE[2..]);
        let stripped = jpeg(&phone).unwrap();
        assert_clean(&stripped);
        assert_eq!(stripped, PROGRESSIVE);
        let shown = image::load_from_memory(&stripped).unwrap();
        assert_eq!(shown, image::load_from_memory(PROGRESSIVE).unwrap());
        // And through the whole check, as an upload.
        let done = crate::media::process(
            phone,
            crate::media::FileType::Jpeg,
            shared::AttachmentKind::Photo,
        )
        .unwrap();
        assert_eq!(done.bytes, PROGRESSIVE);
    }

    #[test]
    fn a_jpeg_that_does_not_hold_together_is_refused() {
        let plain = encode_jpeg(16, 16, None);
        let frame = plain.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
        let scan = plain.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let broken: [(&str, Vec<u8>); 7] = [
            ("no end", plain[..plain.len() - 2].to_vec()),
            ("cut in a segment", plain[..frame + 6].to_vec()),
            ("no image", [&plain[..20], &[0xFF, 0xD9][..]].concat()),
            ("no marker", [&plain[..20], &[0x00], &plain[20..]].concat()),
            (
                "a scan before its frame",
                [&plain[..frame], &plain[scan..]].concat(),
            ),
            (
                "a length under 2",
                [&plain[..20], &[0xFF, 0xE1, 0, 1], &plain[20..]].concat(),
            ),
            (
                "two images in one",
                [&plain[..plain.len() - 2], &plain[2..]].concat(),
            ),
        ];
        for (what, bytes) in broken {
            assert!(jpeg(&bytes).is_err(), "{what}");
        }
        let refused = crate::media::process(
            plain[..plain.len() - 2].to_vec(),
            crate::media::FileType::Jpeg,
            shared::AttachmentKind::Photo,
        );
        assert!(
            matches!(refused, Err(crate::media::Refusal::Invalid(_))),
            "{refused:?}"
        );
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0; 4]); // The CRC, not read here.
        out
    }

    #[test]
    fn a_png_keeps_the_chunks_that_display_it_and_ends_at_iend() {
        let mut plain = Vec::new();
        image::RgbImage::from_pixel(6, 4, image::Rgb([1, 2, 3]))
            .write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Png)
            .unwrap();
        // Signature, IHDR (25 bytes), then colour and size chunks that are kept.
        let (head, rest) = plain.split_at(33);
        let kept = [
            png_chunk(b"gAMA", &45455u32.to_be_bytes()),
            png_chunk(b"iCCP", b"profile\0\0compressed"),
            png_chunk(b"pHYs", &[0, 0, 11, 19, 0, 0, 11, 19, 1]),
        ]
        .concat();
        let iend = rest.len() - 12;
        let extras = [
            png_chunk(b"tEXt", b"Comment\0front door key"),
            png_chunk(b"iTXt", b"XML:com.adobe.xmp\0\0\0\0\0<x:xmpmeta/>"),
            png_chunk(b"zTXt", b"Raw profile type exif\0\0x"),
            png_chunk(b"eXIf", &EXIF_GPS[6..]),
            png_chunk(b"tIME", &[7, 233, 1, 1, 0, 0, 0]),
            png_chunk(b"caBX", b"\0\0\0\x10jumbc2pa...."),
            png_chunk(b"prVt", b"a private chunk"),
        ]
        .concat();
        let uploaded = [
            head,
            &kept,
            &extras,
            &rest[..iend],
            &rest[iend..],
            b"after the end",
        ]
        .concat();
        assert_eq!(png(&uploaded).unwrap(), [head, &kept, rest].concat());
        assert!(png(&uploaded[..uploaded.len() - 20]).is_err(), "no IEND");
    }

    /// A lossless WebP of 8 × 8 pixels, as `image` writes it: with a colour profile or
    /// EXIF, in the extended format (VP8X), else the simple one.
    fn encode_webp(colour: [u8; 4], icc: Option<&[u8]>, exif: Option<&[u8]>) -> Vec<u8> {
        let pixels = image::RgbaImage::from_pixel(8, 8, image::Rgba(colour));
        let mut out = Vec::new();
        let mut encoder = image::codecs::webp::WebPEncoder::new_lossless(&mut out);
        if let Some(icc) = icc {
            encoder.set_icc_profile(icc.to_vec()).unwrap();
        }
        if let Some(exif) = exif {
            encoder.set_exif_metadata(exif.to_vec()).unwrap();
        }
        encoder
            .write_image(pixels.as_raw(), 8, 8, image::ExtendedColorType::Rgba8)
            .unwrap();
        out
    }

    fn riff(chunks: &[Vec<u8>], after: &[u8]) -> Vec<u8> {
        let body = chunks.concat();
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32 + 4).to_le_bytes());
        out.extend_from_slice(b"WEBP");
        out.extend_from_slice(&body);
        out.extend_from_slice(after);
        out
    }

    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        put_chunk(&mut out, kind, data);
        out
    }

    #[test]
    fn a_webp_keeps_its_image_and_colour_profile_only() {
        let icc = b"a colour profile";
        let expected = encode_webp([9, 99, 199, 255], Some(icc), None);
        let with_exif = encode_webp([9, 99, 199, 255], Some(icc), Some(&EXIF_GPS[6..]));
        assert_ne!(with_exif[20] & VP8X_EXIF, 0, "the encoder flags its EXIF");
        // Add XMP (flagged, of odd length), a C2PA manifest and bytes past the RIFF length.
        let mut uploaded = with_exif[..with_exif.len()].to_vec();
        uploaded[20] |= VP8X_XMP;
        let uploaded = riff(
            &[
                uploaded[12..].to_vec(),
                chunk(b"XMP ", b"<x:xmpmeta GPS='51.5007N'/>"),
                chunk(b"C2PA", b"\0\0\0\x10jumbc2pa...."),
            ],
            b"after the end",
        );

        let stripped = webp(&uploaded).unwrap();
        assert_eq!(stripped, expected);
        let shown = image::load_from_memory(&stripped).unwrap().to_rgba8();
        assert_eq!(shown.get_pixel(4, 4).0, [9, 99, 199, 255]);
        assert!(webp(&uploaded[..uploaded.len() - 30]).is_err(), "cut short");
    }

    /// An animated WebP of two frames, with (or without) EXIF, and a private chunk in
    /// each frame.
    fn animated_webp(extras: bool) -> Vec<u8> {
        let flags = if extras { 0x02 | VP8X_EXIF } else { 0x02 };
        let mut vp8x = vec![flags, 0, 0, 0];
        vp8x.extend_from_slice(&[7, 0, 0, 7, 0, 0]); // 8 × 8
        let mut chunks = vec![
            chunk(b"VP8X", &vp8x),
            chunk(b"ANIM", &[255, 255, 255, 255, 0, 0]),
        ];
        for colour in [[200, 0, 0, 255], [0, 0, 200, 255]] {
            // At 0, 0; 8 × 8; 100 ms; no blending.
            let mut frame = vec![0, 0, 0, 0, 0, 0, 7, 0, 0, 7, 0, 0, 100, 0, 0, 0x02];
            frame.extend_from_slice(&encode_webp(colour, None, None)[12..]);
            if extras {
                frame.extend_from_slice(&chunk(b"XYZW", b"hidden in a frame"));
            }
            chunks.push(chunk(b"ANMF", &frame));
        }
        if extras {
            chunks.push(chunk(b"EXIF", &EXIF_GPS[6..]));
        }
        riff(&chunks, b"")
    }

    #[test]
    fn an_animated_webp_keeps_its_frames_without_what_hides_in_them() {
        let stripped = webp(&animated_webp(true)).unwrap();
        assert_eq!(stripped, animated_webp(false));
        let frames = image::codecs::webp::WebPDecoder::new(Cursor::new(&stripped))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].buffer().get_pixel(1, 1).0, [0, 0, 200, 255]);
    }

    fn two_frame_gif() -> Vec<u8> {
        use image::codecs::gif::{GifEncoder, Repeat};
        let frame = |colour: [u8; 4]| {
            image::Frame::from_parts(
                image::RgbaImage::from_pixel(6, 6, image::Rgba(colour)),
                0,
                0,
                image::Delay::from_numer_denom_ms(100, 1),
            )
        };
        let mut out = Vec::new();
        {
            let mut encoder = GifEncoder::new(&mut out);
            encoder.set_repeat(Repeat::Finite(3)).unwrap();
            encoder
                .encode_frames([frame([200, 0, 0, 255]), frame([0, 200, 0, 255])])
                .unwrap();
        }
        out
    }

    #[test]
    fn a_gif_is_rebuilt_from_its_frames_and_loop_count() {
        let plain = two_frame_gif();
        let netscape = b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x03\x00\x00";
        let at = plain
            .windows(netscape.len())
            .position(|w| w == netscape)
            .unwrap();
        let second = at
            + netscape.len()
            + 1
            + plain[at + netscape.len() + 1..]
                .windows(3)
                .position(|w| w == [0x21, 0xF9, 0x04])
                .unwrap();
        let uploaded = [
            &plain[..at],
            b"\x21\xFE\x0Dtaken at home\x00",
            b"\x21\xFF\x0BXMP DataXMP\x0C<x:xmpmeta/>\x00",
            b"\x21\xFF\x0BICCRGBG1012\x04icc!\x00",
            // The loop count with a buffering block after it.
            b"\x21\xFF\x0BNETSCAPE2.0\x03\x01\x03\x00\x05\x02\0\x10\0\0\x00",
            &plain[at + netscape.len()..second],
            // A plain text extension, and the graphic control that belongs to it.
            b"\x21\xF9\x04\x00\x64\x00\x00\x00",
            b"\x21\x01\x0C\0\0\0\0\x06\0\x06\0\x01\x01\x00\x01\x04note\x00",
            &plain[second..],
            b"after the end",
        ]
        .concat();

        let rebuilt = gif(&uploaded).unwrap();
        assert_eq!(rebuilt, plain);
        let frames = image::codecs::gif::GifDecoder::new(Cursor::new(&rebuilt))
            .unwrap()
            .into_frames()
            .collect_frames()
            .unwrap();
        assert_eq!(frames.len(), 2);
        assert!(gif(&plain[..plain.len() - 1]).is_err(), "no trailer");
    }
}

//! What a served file gives away (issue 22): photos come back with only what displays
//! them — no second image, motion-photo video, C2PA manifest, comment, XMP or GPS — and
//! documents download under their real type instead of showing in the browser. Each test
//! sends the file through the real upload flow, on every database and attachment store.

use axum::http::{HeaderMap, StatusCode};
use image::AnimationDecoder as _;

use crate::attachments::{Files, LIMIT, Place, contains, crc32, on_every_store, png};

on_every_store!(
    a_phone_photo_is_served_without_its_second_image_video_or_c2pa,
    a_progressive_photo_is_served_whole_and_without_metadata,
    a_gif_is_served_without_comments_or_xmp_and_keeps_its_frames,
    a_png_is_served_without_c2pa_or_what_follows_its_end,
    a_document_downloads_under_its_real_type_and_is_never_shown,
);

// ------------------------------------------------------------------ files as phones make them

/// `marker`'s JPEG segment around `payload`.
fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, marker];
    out.extend_from_slice(&u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// An ISO base media (MP4, JUMBF) box.
fn mp4_box(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len() + 8)
        .unwrap()
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out
}

/// An EXIF block (APP1 payload) whose GPS IFD names `place` as its area.
fn exif_with_gps(place: &str) -> Vec<u8> {
    // TIFF, little-endian: IFD0 with the GPS pointer (26), then the GPS IFD with the
    // version, a latitude reference and the area information (its text at 68).
    let mut tiff: Vec<u8> = b"II\x2a\x00\x08\x00\x00\x00".to_vec();
    let entry = |tiff: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        tiff.extend_from_slice(&tag.to_le_bytes());
        tiff.extend_from_slice(&kind.to_le_bytes());
        tiff.extend_from_slice(&count.to_le_bytes());
        tiff.extend_from_slice(&value);
    };
    tiff.extend_from_slice(&1u16.to_le_bytes());
    entry(&mut tiff, 0x8825, 4, 1, 26u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let area = [b"ASCII\0\0\0".as_slice(), place.as_bytes()].concat();
    tiff.extend_from_slice(&3u16.to_le_bytes());
    entry(&mut tiff, 0x0000, 1, 4, [2, 3, 0, 0]);
    entry(&mut tiff, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut tiff, 0x001C, 7, area.len() as u32, 68u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    assert_eq!(tiff.len(), 68);
    tiff.extend_from_slice(&area);
    [b"Exif\0\0".as_slice(), &tiff].concat()
}

/// Google's motion-photo XMP (APP1 payload): the video's length at the end of the file.
fn motion_photo_xmp(video_len: usize) -> Vec<u8> {
    let xmp = format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description xmlns:GCamera=\"http://ns.google.com/photos/1.0/camera/\" \
         GCamera:MotionPhoto=\"1\" GCamera:MotionPhotoVersion=\"1\" \
         GCamera:MicroVideoOffset=\"{video_len}\"/></rdf:RDF></x:xmpmeta>"
    );
    [b"http://ns.adobe.com/xap/1.0/\0".as_slice(), xmp.as_bytes()].concat()
}

/// An MPF index (APP2 payload): the primary image and a second one `second_offset` bytes
/// after the index's own TIFF header.
fn mpf(primary_len: usize, second_len: usize, second_offset: usize) -> Vec<u8> {
    let mut p = b"MPF\0MM\x00\x2a\x00\x00\x00\x08".to_vec();
    let entry = |p: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        p.extend_from_slice(&tag.to_be_bytes());
        p.extend_from_slice(&kind.to_be_bytes());
        p.extend_from_slice(&count.to_be_bytes());
        p.extend_from_slice(&value);
    };
    p.extend_from_slice(&3u16.to_be_bytes());
    entry(&mut p, 0xB000, 7, 4, *b"0100");
    entry(&mut p, 0xB001, 4, 1, 2u32.to_be_bytes());
    entry(&mut p, 0xB002, 7, 32, 50u32.to_be_bytes());
    p.extend_from_slice(&0u32.to_be_bytes());
    for (attributes, size, offset) in [
        (0x2003_0000u32, primary_len, 0),
        (0x0001_0002, second_len, second_offset),
    ] {
        p.extend_from_slice(&attributes.to_be_bytes());
        p.extend_from_slice(&(size as u32).to_be_bytes());
        p.extend_from_slice(&(offset as u32).to_be_bytes());
        p.extend_from_slice(&[0; 4]);
    }
    p
}

/// A C2PA manifest store in JUMBF boxes.
fn c2pa_manifest() -> Vec<u8> {
    let description = [
        b"c2pa".as_slice(),
        &[
            0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ],
        &[0x03],
        b"c2pa\0",
    ]
    .concat();
    let claim = br#"{"claim_generator":"Phone Camera/1.0","location":"51.5007N 0.1246W"}"#;
    mp4_box(
        b"jumb",
        &[mp4_box(b"jumd", &description), mp4_box(b"json", claim)].concat(),
    )
}

/// The video a motion photo carries after its JPEG.
fn motion_photo_video() -> Vec<u8> {
    [
        mp4_box(b"ftyp", b"mp42\0\0\0\0mp42isom"),
        mp4_box(b"mdat", b"three seconds of the living room"),
    ]
    .concat()
}

fn baseline_jpeg(w: u32, h: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 4) as u8,
            (y * 4) as u8,
            if x < w / 2 { 200 } else { 40 },
        ])
    });
    let mut out = Vec::new();
    image
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut out, 90,
        ))
        .unwrap();
    out
}

/// A phone's photo: `primary` (a plain JPEG) with EXIF and GPS, motion-photo XMP, an MPF
/// index and a C2PA manifest; after its end a second JPEG with its own EXIF and GPS, then
/// the motion photo's video.
fn phone_mpo(primary: &[u8]) -> Vec<u8> {
    let second = [
        &[0xFF, 0xD8][..],
        &segment(0xE1, &exif_with_gps("Second image: 48.8584N 2.2945E")),
        &baseline_jpeg(16, 12)[2..],
    ]
    .concat();
    let video = motion_photo_video();
    let head = [
        segment(0xE1, &exif_with_gps("Home: 51.5007N 0.1246W")),
        segment(0xE1, &motion_photo_xmp(video.len())),
    ]
    .concat();
    let tail = [segment(
        0xEB,
        &[b"JP\0\x01\0\0\0\x01".as_slice(), &c2pa_manifest()].concat(),
    )]
    .concat();
    // The MPF segment's size doesn't depend on its numbers: measured once, then written.
    let mpf_len = segment(0xE2, &mpf(0, 0, 0)).len();
    let primary_len = 2 + head.len() + mpf_len + tail.len() + primary.len() - 2;
    let mpf_tiff_at = 2 + head.len() + 4 + 4;
    let mpf = segment(
        0xE2,
        &mpf(primary_len, second.len(), primary_len - mpf_tiff_at),
    );
    [
        &[0xFF, 0xD8][..],
        &head,
        &mpf,
        &tail,
        &primary[2..],
        &second,
        &video,
    ]
    .concat()
}

/// A progressive JPEG with restart markers and tables between its ten scans
/// (`cjpeg -quality 90 -progressive -restart 1 -optimize` of a 96 × 64 picture).
const PROGRESSIVE: &[u8] = include_bytes!("../fixtures/progressive.jpg");

/// What nothing served may contain.
const GIVEAWAYS: [&[u8]; 12] = [
    b"Exif\0\0",
    b"MPF\0",
    b"ftyp",
    b"mdat",
    b"jumb",
    b"c2pa",
    b"MotionPhoto",
    b"xmpmeta",
    b"51.5007N",
    b"48.8584N",
    b"Home: ",
    b"living room",
];

#[track_caller]
fn assert_nothing_given_away(served: &[u8]) {
    for giveaway in GIVEAWAYS {
        assert!(
            !contains(served, giveaway),
            "{} is served",
            String::from_utf8_lossy(giveaway)
        );
    }
}

/// How many times `marker` appears as a JPEG marker.
fn markers(jpeg: &[u8], marker: u8) -> usize {
    jpeg.windows(2).filter(|w| w == &[0xFF, marker]).count()
}

// ------------------------------------------------------------------ the tests

async fn a_phone_photo_is_served_without_its_second_image_video_or_c2pa(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Sideboard").await;
    let primary = baseline_jpeg(64, 48);
    let photo = phone_mpo(&primary);
    assert!(contains(&photo, b"Home: 51.5007N") && contains(&photo, b"ftypmp42"));
    let done = files
        .attach(&ann, &item, "photo", "PXL_0001.MP.jpg", "image/jpeg", photo)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (status, served) = files.download(done.body["url"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);

    assert_nothing_given_away(&served);
    assert_eq!(
        (markers(&served, 0xD8), markers(&served, 0xD9)),
        (1, 1),
        "one image"
    );
    assert!(served.starts_with(&[0xFF, 0xD8]) && served.ends_with(&[0xFF, 0xD9]));
    assert_eq!(served, primary, "exactly the first image, as encoded");
    let shown = image::load_from_memory(&served).unwrap();
    assert_eq!((shown.width(), shown.height()), (64, 48));
    assert_eq!(
        (done.body["width"].as_u64(), done.body["size"].as_u64()),
        (Some(64), Some(served.len() as u64))
    );
}

async fn a_progressive_photo_is_served_whole_and_without_metadata(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Rug").await;
    let done = files
        .attach(
            &ann,
            &item,
            "photo",
            "rug.jpg",
            "image/jpeg",
            phone_mpo(PROGRESSIVE),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (_, served) = files.download(done.body["url"].as_str().unwrap()).await;

    assert_nothing_given_away(&served);
    assert_eq!((markers(&served, 0xD8), markers(&served, 0xD9)), (1, 1));
    assert_eq!(markers(&served, 0xDA), 10, "every scan is kept");
    assert_eq!(served, PROGRESSIVE);
    let shown = image::load_from_memory(&served).unwrap().to_rgb8();
    let original = image::load_from_memory(PROGRESSIVE).unwrap().to_rgb8();
    assert_eq!((shown.width(), shown.height()), (96, 64));
    assert_eq!(shown, original, "the same pixels");
}

/// A two-frame looping GIF as `image` writes it.
fn animated_gif() -> Vec<u8> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let frame = |colour: [u8; 4]| {
        image::Frame::from_parts(
            image::RgbaImage::from_pixel(12, 8, image::Rgba(colour)),
            0,
            0,
            image::Delay::from_numer_denom_ms(200, 1),
        )
    };
    let mut out = Vec::new();
    {
        let mut encoder = GifEncoder::new(&mut out);
        encoder.set_repeat(Repeat::Infinite).unwrap();
        encoder
            .encode_frames([frame([200, 0, 0, 255]), frame([0, 0, 200, 255])])
            .unwrap();
    }
    out
}

/// XMP as Adobe writes it into a GIF: the packet's raw bytes (read by a GIF decoder as
/// sub-blocks of whatever length each byte says) and a 258-byte "magic trailer" that
/// brings any such reading back to the terminator.
fn gif_xmp_extension() -> Vec<u8> {
    let mut out = b"\x21\xFF\x0BXMP DataXMP".to_vec();
    out.extend_from_slice(
        b"<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'>\
          <rdf:RDF><rdf:Description exif:GPSLatitude='51,30.042N' exif:GPSLongitude='0,7.476W'/>\
          </rdf:RDF></x:xmpmeta><?xpacket end='w'?>",
    );
    out.push(0x01);
    out.extend((0..=255u8).rev());
    out.push(0x00);
    out
}

async fn a_gif_is_served_without_comments_or_xmp_and_keeps_its_frames(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Lava lamp").await;
    let plain = animated_gif();
    // After the header, screen descriptor and global colour table: a comment and XMP.
    let packed = plain[10];
    let at = 13
        + if packed & 0x80 != 0 {
            3 << ((packed & 7) + 1)
        } else {
            0
        };
    let comment = b"\x21\xFE\x1AKitchen, 12 Acacia Avenue\x00";
    let gif = [
        &plain[..at],
        comment.as_slice(),
        &gif_xmp_extension(),
        &plain[at..],
    ]
    .concat();
    assert!(image::load_from_memory(&gif).is_ok(), "a GIF decoders read");
    let done = files
        .attach(&ann, &item, "photo", "lamp.gif", "image/gif", gif)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (_, served) = files.download(done.body["url"].as_str().unwrap()).await;

    for giveaway in [
        b"XMP DataXMP".as_slice(),
        b"xmpmeta",
        b"GPSLatitude",
        b"Acacia Avenue",
    ] {
        assert!(
            !contains(&served, giveaway),
            "{}",
            String::from_utf8_lossy(giveaway)
        );
    }
    assert!(
        !served.windows(2).any(|w| w == [0x21, 0xFE]),
        "no comment extension"
    );
    assert!(contains(&served, b"NETSCAPE2.0"), "it still loops");
    assert_eq!(served, plain, "the GIF as it was before the additions");
    let frames = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&served))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].buffer().get_pixel(3, 3).0, [0, 0, 200, 255]);
}

/// A PNG chunk with its CRC.
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[4..]);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

async fn a_png_is_served_without_c2pa_or_what_follows_its_end(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Mirror").await;
    let plain = png(20, 10);
    let iend = plain.len() - 12;
    let with_extras = [
        &plain[..iend],
        &png_chunk(b"caBX", &c2pa_manifest()),
        &png_chunk(b"eXIf", &exif_with_gps("Home: 51.5007N 0.1246W")[6..]),
        &plain[iend..],
        b"living room, appended after the end",
    ]
    .concat();
    let done = files
        .attach(&ann, &item, "photo", "mirror.png", "image/png", with_extras)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let (_, served) = files.download(done.body["url"].as_str().unwrap()).await;

    assert_nothing_given_away(&served);
    assert!(!contains(&served, b"caBX") && !contains(&served, b"eXIf"));
    assert!(served.ends_with(&plain[iend..]), "it ends with IEND");
    assert_eq!(served, plain);
    let shown = image::load_from_memory(&served).unwrap();
    assert_eq!((shown.width(), shown.height()), (20, 10));
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

/// The `Content-Disposition` a browser gets from `url`. S3 sends what the presigned URL's
/// `response-content-disposition` says; moto, standing in for it here, ignores that
/// parameter, so from S3 it is read from the signed URL.
async fn disposition(files: &Files, url: &str) -> String {
    if files.on_s3() {
        let url = reqwest::Url::parse(url).unwrap();
        let (_, value) = url
            .query_pairs()
            .find(|(name, _)| name == "response-content-disposition")
            .expect("a presigned download names its disposition");
        value.into_owned()
    } else {
        let (_, headers, _) = files.download_with_headers(url).await;
        header(&headers, "content-disposition").to_string()
    }
}

const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

async fn a_document_downloads_under_its_real_type_and_is_never_shown(files: Files) {
    let app = &files.app;
    let ann = app.register("Ann").await;
    let item = files.item(&ann, "Fridge").await;
    // A PDF named as a web page: were it shown under that name, a browser saving or
    // opening it would treat it as HTML.
    for (name, ascii, encoded) in [
        ("invoice.html", "invoice.pdf", "invoice.pdf"),
        (
            "Facture été.htm",
            "Facture _t_.pdf",
            "Facture%20%C3%A9t%C3%A9.pdf",
        ),
        ("receipt", "receipt.pdf", "receipt.pdf"),
    ] {
        let done = files
            .attach(
                &ann,
                &item,
                "receipt",
                name,
                "application/pdf",
                PDF.to_vec(),
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.body);
        assert_eq!(done.body["content_type"], "application/pdf");
        let url = done.body["url"].as_str().unwrap();
        let (status, headers, served) = files.download_with_headers(url).await;
        assert_eq!((status, served.as_slice()), (StatusCode::OK, PDF));
        assert_eq!(
            disposition(&files, url).await,
            format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
        );
        assert_eq!(header(&headers, "content-type"), "application/pdf");
        // S3 can't be told to send it (a presigned GET sets only the type, disposition,
        // caching, language and encoding); the type is exact and the file a download.
        if !files.on_s3() {
            assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
        }
    }

    // Images are shown in the page, under their real type's name too.
    let photo = files
        .attach(&ann, &item, "photo", "fridge.html", "image/png", png(8, 8))
        .await;
    assert_eq!(photo.status, StatusCode::OK, "{}", photo.body);
    let url = photo.body["url"].as_str().unwrap();
    let (_, headers, _) = files.download_with_headers(url).await;
    assert_eq!(
        disposition(&files, url).await,
        "inline; filename=\"fridge.png\"; filename*=UTF-8''fridge.png"
    );
    assert_eq!(header(&headers, "content-type"), "image/png");
}

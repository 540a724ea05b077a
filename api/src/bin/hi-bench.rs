//! Helpers for `cargo xtask bench`: seeds a household with many items straight into the
//! store, and times store calls without HTTP so the API's own overhead can be told apart.
//!
//!   hi-bench seed EMAIL ITEMS LOCATIONS      prints key=value lines for the load tests
//!   hi-bench store-latency EMAIL ITERATIONS  prints one `op p50 p95 p99` line (µs) per call
//!   hi-bench media                           times the checks of a 12-megapixel photo
//!   hi-bench labels COUNT RUNS               draws COUNT labels on avery-5160 RUNS times:
//!                                            prints `median_ms max_ms bytes`
//!   hi-bench photos EMAIL DIR COUNT MIB      COUNT items, each with a MIB-sized photo
//!                                            written into the attachment folder DIR
//!   hi-bench thumbnails EMAIL DIR COUNT      COUNT valued items in ten rooms, each with a
//!                                            photo's 480 px JPEG thumbnail (about 40 KB,
//!                                            each different) in the folder DIR: what an
//!                                            insurance report embeds
//!   hi-bench bare ADDR [FILE]                serves one fixed JSON body (FILE's, else an
//!                                            item's as the API answers it) to every GET,
//!                                            on ADDR, until killed: a bare axum handler to
//!                                            measure the server's requests against
//!
//! All but `media` and `bare` read DATABASE_URL.

use std::time::Instant;

use anyhow::{Context as _, bail};
use api::store::{
    self, ActivityRow, AttachmentRow, DynStore, IMPORT_ROWS, ItemQuery, ItemRow, LocationRow,
};
use shared::{
    Action, AttachmentId, AttachmentKind, AttachmentStatus, Currency, Day, HouseholdId, ItemFields,
    ItemId, LocationId, Money, UserId,
};
use time::OffsetDateTime;

const ROOMS: &[&str] = &[
    "Kitchen",
    "Garage",
    "Basement",
    "Attic",
    "Living room",
    "Bedroom",
    "Office",
    "Bathroom",
    "Shed",
    "Hallway",
];
const FURNITURE: &[&str] = &["Cabinet", "Shelf", "Drawer", "Closet", "Box", "Bin", "Rack"];
const THINGS: &[&str] = &[
    "drill",
    "kettle",
    "lamp",
    "blender",
    "saw",
    "hammer",
    "camera",
    "guitar",
    "router",
    "speaker",
    "monitor",
    "keyboard",
    "toaster",
    "vacuum",
    "heater",
    "fan",
    "bicycle",
    "tent",
    "skis",
    "printer",
    "projector",
    "mixer",
    "grinder",
    "ladder",
    "jacket",
    "watch",
    "headphones",
    "tablet",
    "charger",
    "cable",
];
const ADJECTIVES: &[&str] = &[
    "Cordless", "Vintage", "Compact", "Large", "Small", "Blue", "Red", "Wireless", "Electric",
    "Manual", "Spare", "Old", "New", "Folding", "Portable",
];
const BRANDS: &[&str] = &[
    "Bosch", "Makita", "Sony", "Philips", "Ikea", "Samsung", "Dyson", "Canon", "Yamaha",
    "Logitech", "DeWalt", "Braun", "Smeg", "Trek", "Garmin",
];
const TAGS: &[&str] = &[
    "tools",
    "electronics",
    "kitchen",
    "outdoor",
    "winter",
    "summer",
    "music",
    "office",
    "garden",
    "sports",
    "camping",
    "audio",
    "video",
    "lighting",
    "cleaning",
    "spare",
    "gift",
    "insured",
    "warranty",
    "fragile",
];

/// A small deterministic generator, so every run seeds the same inventory.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("media") => return media(),
        Some("labels") => {
            let count = args.get(1).context("usage: hi-bench labels COUNT RUNS")?;
            let runs = args.get(2).context("usage: hi-bench labels COUNT RUNS")?;
            return labels(count.parse()?, runs.parse()?);
        }
        Some("bare") => {
            let addr = args.get(1).context("usage: hi-bench bare ADDR [FILE]")?;
            return bare(addr, args.get(2)).await;
        }
        _ => {}
    }
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    let store = store::open(&url).await?;
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["seed", email, items, locations] => {
            seed(&store, email, items.parse()?, locations.parse()?).await
        }
        ["store-latency", email, iterations] => {
            store_latency(&store, email, iterations.parse()?).await
        }
        ["photos", email, dir, count, mib] => {
            photos(&store, email, dir, count.parse()?, mib.parse()?).await
        }
        ["thumbnails", email, dir, count] => thumbnails(&store, email, dir, count.parse()?).await,
        _ => bail!(
            "usage: hi-bench seed EMAIL ITEMS LOCATIONS | store-latency EMAIL ITERATIONS | \
             photos EMAIL DIR COUNT MIB | thumbnails EMAIL DIR COUNT | media | labels COUNT RUNS | \
             bare ADDR [FILE]"
        ),
    }
}

/// An item as `GET /api/v1/households/{hid}/items/{id}` answers it, for `bare` without a
/// file: about the size and shape of a seeded item's.
const ITEM_JSON: &str = r#"{"id":"0193a5f2-7c1e-7d40-9a2b-3f6c8e1d5b70","household_id":"0193a5f2-6b10-7a3c-8e4d-2c9f1a7b3e60","name":"Cordless drill","description":"A drill kept for everyday use","location_id":"0193a5f2-6c22-7b4e-9f1a-4d2e3b8c6a71","location_path":[{"id":"0193a5f2-6b90-7c11-8d2e-1a3b4c5d6e7f","name":"Garage"},{"id":"0193a5f2-6c22-7b4e-9f1a-4d2e3b8c6a71","name":"Shelf 3"}],"quantity":2,"tags":["electronics","tools"],"brand":"Makita","model":"M-4821","serial_number":"SN00010000","barcode":null,"purchase_date":"2026-12-06","purchase_price":{"amount_minor":45900,"currency":"USD"},"purchased_from":null,"estimated_value":{"amount_minor":32000,"currency":"USD"},"warranty_expires":null,"notes":null,"custom_fields":{},"primary_photo":{"id":"0193a5f2-8d33-7e55-a0b1-5e6f7a8b9c0d","url":"/api/v1/households/0193a5f2-6b10-7a3c-8e4d-2c9f1a7b3e60/attachments/0193a5f2-8d33-7e55-a0b1-5e6f7a8b9c0d/thumbnail","width":4000,"height":3000},"version":1,"created_at":"2026-12-06T20:41:17.512Z","updated_at":"2026-12-06T20:41:17.512Z","deleted_at":null}"#;

/// Serves `body` (the file's, else `ITEM_JSON`) as JSON to every GET on `addr`.
async fn bare(addr: &str, file: Option<&String>) -> anyhow::Result<()> {
    use axum::http::header::CONTENT_TYPE;
    let body = match file {
        Some(path) => {
            bytes::Bytes::from(std::fs::read(path).with_context(|| format!("reading {path}"))?)
        }
        None => bytes::Bytes::from_static(ITEM_JSON.as_bytes()),
    };
    let app = axum::Router::new().fallback(axum::routing::get(move || {
        let body = body.clone();
        async move { ([(CONTENT_TYPE, "application/json")], body) }
    }));
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr}"))?;
    axum::serve(listener, app).await?;
    Ok(())
}

/// Items with one photo each, its bytes (incompressible, as a JPEG's are) in the local
/// attachment folder `dir`: a household whose backup carries `count × mib` MiB of files.
async fn photos(
    store: &DynStore,
    email: &str,
    dir: &str,
    count: usize,
    mib: usize,
) -> anyhow::Result<()> {
    use std::io::Write as _;
    let (user, household) = household_of(store, email).await?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let bytes = mib * 1024 * 1024;
    for n in 0..count {
        let now = OffsetDateTime::now_utc();
        let item = ItemRow {
            id: ItemId::new(),
            household_id: household,
            fields: ItemFields {
                name: format!("Photographed thing {n}"),
                quantity: 1,
                ..Default::default()
            },
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let activity = ActivityRow::new(household, item.id, user, Action::Created, vec![], now);
        store.insert_item(&item, &activity).await?;
        let id = AttachmentId::new();
        let path = std::path::Path::new(dir).join(api::blob::keys::file(household, id));
        std::fs::create_dir_all(path.parent().context("a folder")?)?;
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for _ in 0..bytes / 8 {
            file.write_all(&rng.next().to_le_bytes())?;
        }
        file.flush()?;
        store
            .insert_attachment(&AttachmentRow {
                id,
                household_id: household,
                item_id: item.id,
                kind: AttachmentKind::Photo,
                filename: format!("photo-{n}.jpg"),
                content_type: "image/jpeg".into(),
                size: bytes as i64,
                stored_bytes: bytes as i64,
                status: AttachmentStatus::Ready,
                width: Some(4000),
                height: Some(3000),
                primary: true,
                created_by: user,
                created_at: now,
            })
            .await?;
    }
    println!("household={household}");
    Ok(())
}

/// Items with a value, in ten rooms, each with a photo whose thumbnail (a 480 × 360 JPEG
/// of about 40 KB, each different) is in the local attachment folder `dir`; the photos
/// themselves are not written (the report reads only thumbnails).
async fn thumbnails(store: &DynStore, email: &str, dir: &str, count: usize) -> anyhow::Result<()> {
    let (user, household) = household_of(store, email).await?;
    let now = OffsetDateTime::now_utc();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let image = image::RgbImage::from_fn(480, 360, |x, y| {
        let noise = (rng.next() % 24) as u8;
        image::Rgb([
            ((x / 2) as u8).wrapping_add(noise),
            ((y / 2) as u8).wrapping_add(noise),
            (((x + y) / 4) as u8).wrapping_add(noise),
        ])
    });
    let mut thumbnail = Vec::new();
    image.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut thumbnail,
        80,
    ))?;
    let mut rooms = Vec::new();
    for room in ROOMS {
        let row = LocationRow {
            id: LocationId::new(),
            household_id: household,
            parent_id: None,
            name: format!("{room} (report)"),
            description: None,
            asset_id: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        store.insert_location(&row).await?;
        rooms.push(row.id);
    }
    let usd = Currency::parse("USD").map_err(anyhow::Error::msg)?;
    for n in 0..count {
        let item = ItemRow {
            id: ItemId::new(),
            household_id: household,
            fields: ItemFields {
                name: format!("Insured thing {n:05}"),
                quantity: 1 + (n % 3) as i64,
                location_id: Some(rooms[n % rooms.len()]),
                brand: Some("Brand".into()),
                serial_number: Some(format!("SN-{n:06}")),
                purchase_price: Some(Money {
                    amount_minor: 10_000 + n as i64,
                    currency: usd.clone(),
                }),
                estimated_value: Some(Money {
                    amount_minor: 8_000 + n as i64,
                    currency: usd.clone(),
                }),
                ..Default::default()
            },
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let activity = ActivityRow::new(household, item.id, user, Action::Created, vec![], now);
        store.insert_item(&item, &activity).await?;
        let id = AttachmentId::new();
        let path = std::path::Path::new(dir).join(api::blob::keys::thumbnail(household, id));
        std::fs::create_dir_all(path.parent().context("a folder")?)?;
        // Different bytes after the image's end make each thumbnail a file of its own.
        let mut bytes = thumbnail.clone();
        bytes.extend_from_slice(&(n as u64).to_le_bytes());
        std::fs::write(&path, &bytes)?;
        store
            .insert_attachment(&AttachmentRow {
                id,
                household_id: household,
                item_id: item.id,
                kind: AttachmentKind::Photo,
                filename: format!("photo-{n}.jpg"),
                content_type: "image/jpeg".into(),
                size: bytes.len() as i64,
                stored_bytes: bytes.len() as i64,
                status: AttachmentStatus::Ready,
                width: Some(4000),
                height: Some(3000),
                primary: true,
                created_by: user,
                created_at: now,
            })
            .await?;
    }
    println!("household={household}");
    Ok(())
}

async fn household_of(store: &DynStore, email: &str) -> anyhow::Result<(UserId, HouseholdId)> {
    let user = store
        .user_by_email(email)
        .await?
        .context("no account with that email")?;
    let (household, _) = store
        .households_of(user.user.id)
        .await?
        .into_iter()
        .next()
        .context("the account has no household")?;
    Ok((user.user.id, household.id))
}

async fn seed(store: &DynStore, email: &str, items: usize, locations: usize) -> anyhow::Result<()> {
    let (user, household) = household_of(store, email).await?;
    let now = OffsetDateTime::now_utc();
    let mut rng = Rng(0x5eed_1234_abcd_9876);
    // Rooms, then furniture in rooms, then boxes in furniture: three levels.
    let mut tree: Vec<(LocationId, usize)> = Vec::new();
    let mut made = 0;
    let location = |name: String, parent: Option<LocationId>| LocationRow {
        id: LocationId::new(),
        household_id: household,
        parent_id: parent,
        name,
        description: None,
        asset_id: None,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let rooms: Vec<LocationRow> = ROOMS
        .iter()
        .map(|r| location(r.to_string(), None))
        .collect();
    for room in &rooms {
        store.insert_location(room).await?;
        tree.push((room.id, 0));
        made += 1;
    }
    let mut level = 0;
    while made < locations {
        let parents: Vec<LocationId> = tree
            .iter()
            .filter(|(_, l)| *l == level)
            .map(|(id, _)| *id)
            .collect();
        for parent in parents {
            for n in 1..=7 {
                if made >= locations {
                    break;
                }
                let row = location(format!("{} {n}", rng.pick(FURNITURE)), Some(parent));
                store.insert_location(&row).await?;
                tree.push((row.id, level + 1));
                made += 1;
            }
        }
        level += 1;
    }
    let usd = Currency::default();
    let mut first_id = None;
    let mut batch: Vec<ItemRow> = Vec::new();
    let mut activities: Vec<ActivityRow> = Vec::new();
    let mut photos = Vec::new();
    for i in 0..items {
        let thing = rng.pick(THINGS);
        let created = now - time::Duration::seconds((items - i) as i64);
        let tags: Vec<String> = (0..(rng.next() % 3))
            .map(|_| rng.pick(TAGS).to_string())
            .collect();
        let row = ItemRow {
            id: ItemId::new(),
            household_id: household,
            fields: ItemFields {
                name: format!("{} {thing}", rng.pick(ADJECTIVES)),
                description: Some(format!("A {thing} kept for everyday use")),
                location_id: Some(tree[(rng.next() % tree.len() as u64) as usize].0),
                quantity: 1 + (rng.next() % 3) as i64,
                tags: shared::normalize_tags(&tags).unwrap_or_default(),
                brand: Some(rng.pick(BRANDS).to_string()),
                model: Some(format!("M-{}", rng.next() % 10_000)),
                serial_number: Some(format!("SN{i:08}")),
                barcode: None,
                purchase_date: Some(Day(now.date())),
                purchase_price: Some(Money {
                    amount_minor: (rng.next() % 100_000) as i64,
                    currency: usd.clone(),
                }),
                purchased_from: None,
                estimated_value: Some(Money {
                    amount_minor: (rng.next() % 80_000) as i64,
                    currency: usd.clone(),
                }),
                warranty_expires: None,
                notes: None,
                custom_fields: Default::default(),
                ..Default::default()
            },
            version: 1,
            created_at: created,
            updated_at: created,
            deleted_at: None,
        };
        first_id.get_or_insert(row.id);
        // The newest items, those on the first pages, have photos every other one.
        if i + PHOTOGRAPHED >= items && i % 2 == 0 {
            photos.push((row.id, created));
        }
        activities.push(ActivityRow::new(
            household,
            row.id,
            user,
            Action::Created,
            vec![],
            created,
        ));
        batch.push(row);
        // Each item writes itself, its tags and one activity entry.
        if store::import_rows(&batch) + activities.len() + 60 > IMPORT_ROWS {
            store.import_items(&batch, &activities).await?;
            batch.clear();
            activities.clear();
        }
    }
    if !batch.is_empty() {
        store.import_items(&batch, &activities).await?;
    }
    for (item, created) in photos {
        store
            .insert_attachment(&AttachmentRow {
                id: AttachmentId::new(),
                household_id: household,
                item_id: item,
                kind: AttachmentKind::Photo,
                filename: "photo.jpg".into(),
                content_type: "image/jpeg".into(),
                size: 2_000_000,
                stored_bytes: 2_040_000,
                status: AttachmentStatus::Ready,
                width: Some(4000),
                height: Some(3000),
                primary: true,
                created_by: user,
                created_at: created,
            })
            .await?;
    }
    println!("household={household}");
    println!(
        "item={}",
        first_id.map(|i| i.to_string()).unwrap_or_default()
    );
    println!("room={}", rooms[1].id);
    println!("search=sn{:08}", items / 2);
    Ok(())
}

/// Items, counted from the newest, among which every other one has a photo.
const PHOTOGRAPHED: usize = 5_000;

/// Times `media::process` on a 12-megapixel JPEG as phones take them: once upright (the
/// metadata is cut out, the pixels kept) and once turned by its EXIF orientation (decoded,
/// rotated and encoded again); both decode it once more for the thumbnail.
/// Draws a sheet of `count` labels like a household's (a name, the asset id, a location
/// path) `runs` times, after one run to warm up: the median and the longest time in
/// milliseconds, and the PDF's size.
fn labels(count: usize, runs: usize) -> anyhow::Result<()> {
    use api::labels::{Label, Line, Template, render};
    let template = Template::find("avery-5160").context("the avery-5160 template")?;
    let labels: Vec<Label> = (1..=count)
        .map(|i| Label {
            code: format!("{i:06}"),
            lines: vec![
                Line::Title(format!("Cordless drill {i} with a spare battery")),
                Line::Text(format!("{:03}-{:03}", i / 1000, i % 1000)),
                Line::Text(format!("House › Garage › Shelf {}", i % 7)),
            ],
        })
        .collect();
    let public_url = "http://127.0.0.1:8080";
    let mut bytes = render(template, &labels, 0, public_url)?.len();
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        bytes = render(template, &labels, 0, public_url)?.len();
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{:.1} {:.1} {bytes}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    Ok(())
}

fn media() -> anyhow::Result<()> {
    use api::media::{FileType, process};
    let (w, h) = (4000u32, 3000u32);
    let image = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
    });
    let mut plain = Vec::new();
    image.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
        &mut plain, 90,
    ))?;
    let with_orientation = |o: u16| {
        // EXIF: a little-endian TIFF with one IFD entry, Orientation.
        let mut app1 =
            b"Exif\0\0II\x2a\x00\x08\x00\x00\x00\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00".to_vec();
        app1.extend_from_slice(&o.to_le_bytes());
        app1.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        let mut out = plain[..2].to_vec();
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(&app1);
        out.extend_from_slice(&plain[2..]);
        out
    };
    for (label, orientation) in [("upright", 1u16), ("rotated", 6)] {
        let bytes = with_orientation(orientation);
        let mut times = Vec::new();
        for _ in 0..3 {
            let started = Instant::now();
            let done = process(bytes.clone(), FileType::Jpeg, AttachmentKind::Photo)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(done.width == Some(if orientation == 6 { h } else { w }));
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{label} {:.0} {:.1}",
            times[1],
            bytes.len() as f64 / 1_000_000.0
        );
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
    {
        println!("peak {:.0}", kib / 1024.0);
    }
    Ok(())
}

fn percentiles(mut micros: Vec<u128>) -> (u128, u128, u128) {
    micros.sort_unstable();
    let at = |p: f64| micros[((micros.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.95), at(0.99))
}

async fn store_latency(store: &DynStore, email: &str, iterations: usize) -> anyhow::Result<()> {
    let (user, household) = household_of(store, email).await?;
    let first = store
        .list_items(
            household,
            &ItemQuery {
                limit: 1,
                ..Default::default()
            },
        )
        .await?
        .pop()
        .context("seed the household first")?;
    let locations = store.locations(household).await?;
    let room = locations
        .iter()
        .find(|l| l.parent_id.is_none())
        .context("no locations")?;
    let subtree = api::routes::locations::Tree::new(locations.clone()).subtree(room.id);
    let count = store.stats(household).await?.item_count;
    let needle = format!("sn{:08}", count / 2);
    let queries: Vec<(&str, ItemQuery)> = vec![
        (
            "list",
            ItemQuery {
                limit: 51,
                ..Default::default()
            },
        ),
        (
            "search",
            ItemQuery {
                search: Some(needle),
                limit: 51,
                ..Default::default()
            },
        ),
        (
            "location",
            ItemQuery {
                location_ids: Some(subtree),
                limit: 51,
                ..Default::default()
            },
        ),
    ];
    let mut timings = Vec::new();
    for _ in 0..iterations {
        let start = Instant::now();
        store.item(household, first.id).await?;
        timings.push(start.elapsed().as_micros());
    }
    let (p50, p95, p99) = percentiles(timings);
    println!("get {p50} {p95} {p99}");
    for (name, query) in queries {
        let mut timings = Vec::new();
        for _ in 0..iterations {
            let start = Instant::now();
            store.list_items(household, &query).await?;
            timings.push(start.elapsed().as_micros());
        }
        let (p50, p95, p99) = percentiles(timings);
        println!("{name} {p50} {p95} {p99}");
    }
    let mut timings = Vec::new();
    for i in 0..iterations {
        let now = OffsetDateTime::now_utc();
        let row = ItemRow {
            id: ItemId::new(),
            household_id: household,
            fields: ItemFields {
                name: format!("Timed item {i}"),
                quantity: 1,
                ..Default::default()
            },
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        let activity = ActivityRow::new(household, row.id, user, Action::Created, vec![], now);
        let start = Instant::now();
        store.insert_item(&row, &activity).await?;
        timings.push(start.elapsed().as_micros());
    }
    let (p50, p95, p99) = percentiles(timings);
    println!("create {p50} {p95} {p99}");
    Ok(())
}

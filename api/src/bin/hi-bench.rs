//! Helpers for `cargo xtask bench`: seeds a household with many items straight into the
//! store, and times store calls without HTTP so the API's own overhead can be told apart.
//!
//!   hi-bench seed EMAIL ITEMS LOCATIONS      prints key=value lines for the load tests
//!   hi-bench store-latency EMAIL ITERATIONS  prints one `op p50 p95 p99` line (µs) per call
//!
//! Both read DATABASE_URL.

use std::time::Instant;

use anyhow::{Context as _, bail};
use api::store::{self, ActivityRow, DynStore, IMPORT_ROWS, ItemQuery, ItemRow, LocationRow};
use shared::{Action, Currency, Day, HouseholdId, ItemFields, ItemId, LocationId, Money, UserId};
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
        _ => bail!("usage: hi-bench seed EMAIL ITEMS LOCATIONS | store-latency EMAIL ITERATIONS"),
    }
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
            },
            version: 1,
            created_at: created,
            updated_at: created,
            deleted_at: None,
        };
        first_id.get_or_insert(row.id);
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
    println!("household={household}");
    println!(
        "item={}",
        first_id.map(|i| i.to_string()).unwrap_or_default()
    );
    println!("room={}", rooms[1].id);
    println!("search=sn{:08}", items / 2);
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

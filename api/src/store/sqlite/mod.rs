//! The embedded SQLite backend: one writer connection and a few readers over a WAL-mode
//! file, each call on the blocking thread pool.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use shared::{
    Activity, Actor, AssetId, AssetKind, Currency, Day, HouseholdId, ItemFields, ItemId,
    LocationId, Money, Role, TagCount, User, UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;

mod accounts;
mod assets;
mod attachments;
mod backup;
mod changes;
mod email_confirmations;
mod households;
mod items;
mod items_bulk;
mod jobs;
mod locations;
mod maintenance;
mod passkeys;
mod reminder_settings;
mod reminders;
mod security;
mod share_links;
mod tokens;

/// Reader connections: enough to keep both cores busy while one waits on the disk; more
/// would only multiply page caches.
const READERS: usize = 4;

pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    /// Taken before a blocking thread is, so waiting writers hold no threads.
    writer: Arc<tokio::sync::Mutex<Connection>>,
    readers: Mutex<Vec<Connection>>,
    /// One permit per reader connection: a read waits for a warm connection rather than
    /// opening a cold one.
    permits: tokio::sync::Semaphore,
    path: String,
    /// Reads and writes run, for `Store::round_trips`.
    trips: AtomicU64,
}

fn open_connection(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    conn.pragma_update(None, "cache_size", -16_000)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(conn)
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies the migrations.
    pub async fn open(path: &str) -> anyhow::Result<Self> {
        let path = path.to_string();
        tokio::task::spawn_blocking(move || -> anyhow::Result<Self> {
            if let Some(dir) = Path::new(&path).parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            let mut writer =
                open_connection(&path).with_context(|| format!("opening SQLite at {path}"))?;
            migrate(&mut writer)?;
            // Table statistics for the query planner, refreshed when they are stale.
            writer.execute_batch("PRAGMA optimize=0x10002")?;
            Ok(Self {
                inner: Arc::new(Inner {
                    writer: Arc::new(tokio::sync::Mutex::new(writer)),
                    readers: Mutex::new(Vec::new()),
                    permits: tokio::sync::Semaphore::new(READERS),
                    path,
                    trips: AtomicU64::new(0),
                }),
            })
        })
        .await
        .context("opening SQLite")?
    }

    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        inner.trips.fetch_add(1, Ordering::Relaxed);
        let permit = inner
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Other(e.into()))?;
        let result = tokio::task::spawn_blocking({
            let inner = inner.clone();
            move || {
                let pooled = inner.readers.lock().map_err(poisoned)?.pop();
                let conn = match pooled {
                    Some(conn) => conn,
                    None => open_connection(&inner.path).map_err(db)?,
                };
                let result = f(&conn);
                inner.readers.lock().map_err(poisoned)?.push(conn);
                result
            }
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?;
        drop(permit);
        result
    }

    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        self.inner.trips.fetch_add(1, Ordering::Relaxed);
        let mut conn = self.inner.writer.clone().lock_owned().await;
        tokio::task::spawn_blocking(move || {
            let tx = conn.transaction().map_err(db)?;
            let value = f(&tx)?;
            tx.commit().map_err(db)?;
            Ok(value)
        })
        .await
        .map_err(|e| StoreError::Other(e.into()))?
    }
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    for migration in migrate::SQLITE {
        let done: bool = conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
                [migration.version],
                |r| r.get(0),
            )
            .context("reading schema_migrations")?;
        if done {
            continue;
        }
        // SQLite's DDL is transactional: a file and its record are applied whole or not
        // at all, so statements that can't be re-run (`ALTER TABLE … ADD COLUMN`) are safe.
        let tx = conn.transaction()?;
        for statement in migrate::statements(migration.sql) {
            tx.execute_batch(&statement)
                .with_context(|| format!("migration {}: {statement}", migration.version))?;
        }
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![migration.version, micros(now())],
        )?;
        tx.commit()?;
        tracing::info!(version = migration.version, "applied SQLite migration");
    }
    let numbered: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
        [migrate::ASSET_ID_BACKFILL],
        |r| r.get(0),
    )?;
    if !numbered {
        let n = assets::backfill_on(conn).context("numbering items and locations")?;
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![migrate::ASSET_ID_BACKFILL, micros(now())],
        )?;
        tracing::info!(
            numbered = n,
            "gave asset ids to the items and locations made before"
        );
    }
    Ok(())
}

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Other(anyhow::anyhow!("a SQLite connection lock was poisoned"))
}

fn db(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(err, _) = &e
        && err.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict(e.to_string());
    }
    StoreError::Other(e.into())
}

use super::micros;

fn from_micros(v: i64) -> rusqlite::Result<OffsetDateTime> {
    super::from_micros(v).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Integer,
            format!("{v} µs is out of range").into(),
        )
    })
}

fn uuid_of(s: String) -> rusqlite::Result<Uuid> {
    Uuid::parse_str(&s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
    })
}

fn opt_uuid(s: Option<String>) -> rusqlite::Result<Option<Uuid>> {
    s.map(uuid_of).transpose()
}

fn conversion(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, e.into())
}

const ATTACHMENT_COLUMNS: &str = "id, household_id, item_id, kind, filename, content_type, size, \
     stored_bytes, status, width, height, is_primary, created_by, created_at";

fn attachment_from(r: &Row<'_>) -> rusqlite::Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        item_id: uuid_of(r.get(2)?)?.into(),
        kind: parse_kind(&r.get::<_, String>(3)?).map_err(conversion)?,
        filename: r.get(4)?,
        content_type: r.get(5)?,
        size: r.get(6)?,
        stored_bytes: r.get(7)?,
        status: parse_status(&r.get::<_, String>(8)?).map_err(conversion)?,
        width: r.get(9)?,
        height: r.get(10)?,
        primary: r.get(11)?,
        created_by: uuid_of(r.get(12)?)?.into(),
        created_at: from_micros(r.get(13)?)?,
    })
}

fn attachment_in(
    c: &Connection,
    household: HouseholdId,
    id: AttachmentId,
) -> StoreResult<Option<AttachmentRow>> {
    c.query_row(
        &format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE household_id = ?1 AND id = ?2"
        ),
        [household.to_string(), id.to_string()],
        attachment_from,
    )
    .optional()
    .map_err(db)
}

/// Makes the item's oldest ready photo primary when it has no primary photo.
fn ensure_primary(tx: &Transaction<'_>, household: HouseholdId, item: ItemId) -> StoreResult<()> {
    tx.execute(
        "UPDATE attachments SET is_primary = 1 WHERE id = ( \
           SELECT id FROM attachments WHERE household_id = ?1 AND item_id = ?2 \
           AND kind = 'photo' AND status = 'ready' ORDER BY created_at, id LIMIT 1) \
         AND NOT EXISTS (SELECT 1 FROM attachments WHERE household_id = ?1 AND item_id = ?2 \
           AND is_primary = 1)",
        [household.to_string(), item.to_string()],
    )
    .map_err(db)?;
    Ok(())
}

fn household_from(row: &Row<'_>) -> rusqlite::Result<HouseholdRow> {
    Ok(HouseholdRow {
        id: uuid_of(row.get(0)?)?.into(),
        name: row.get(1)?,
        currency: Currency::parse(&row.get::<_, String>(2)?).map_err(conversion)?,
        version: row.get(3)?,
        created_at: from_micros(row.get(4)?)?,
    })
}

fn invite_from(r: &Row<'_>) -> rusqlite::Result<InviteRow> {
    Ok(InviteRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        code_hash: r.get(2)?,
        role: role_of(r.get(3)?)?,
        created_by: uuid_of(r.get(4)?)?.into(),
        created_at: from_micros(r.get(5)?)?,
        expires_at: from_micros(r.get(6)?)?,
        max_uses: r.get(7)?,
        uses: r.get(8)?,
    })
}

fn member_role(tx: &Transaction<'_>, household: HouseholdId, user: UserId) -> StoreResult<Role> {
    tx.query_row(
        "SELECT role FROM members WHERE household_id = ?1 AND user_id = ?2",
        [household.to_string(), user.to_string()],
        |r| role_of(r.get(0)?),
    )
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound)
}

fn owners(tx: &Transaction<'_>, household: HouseholdId) -> StoreResult<i64> {
    tx.query_row(
        "SELECT count(*) FROM members WHERE household_id = ?1 AND role = 'owner'",
        [household.to_string()],
        |r| r.get(0),
    )
    .map_err(db)
}

/// A user from the first four columns: id, email, name, created_at.
fn user_from(r: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: uuid_of(r.get(0)?)?.into(),
        email: r.get(1)?,
        name: r.get(2)?,
        created_at: from_micros(r.get(3)?)?,
    })
}

fn role_of(raw: String) -> rusqlite::Result<Role> {
    raw.parse().map_err(conversion)
}

fn location_from(row: &Row<'_>) -> rusqlite::Result<LocationRow> {
    Ok(LocationRow {
        id: uuid_of(row.get(0)?)?.into(),
        household_id: uuid_of(row.get(1)?)?.into(),
        parent_id: opt_uuid(row.get(2)?)?.map(Into::into),
        name: row.get(3)?,
        description: row.get(4)?,
        asset_id: row.get::<_, Option<i64>>(8)?.and_then(AssetId::from_i64),
        version: row.get(5)?,
        created_at: from_micros(row.get(6)?)?,
        updated_at: from_micros(row.get(7)?)?,
    })
}

const ITEM_COLUMNS: &str = "id, household_id, name, description, location_id, quantity, tags, brand, model, \
     serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
     purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
     custom_fields, version, created_at, updated_at, deleted_at, insured, lifetime_warranty, sold_to, \
     sold_date, sold_price_minor, sold_price_currency, sold_notes, asset_id";

fn money_of(amount: Option<i64>, currency: Option<String>) -> rusqlite::Result<Option<Money>> {
    match (amount, currency) {
        (Some(amount_minor), Some(currency)) => Ok(Some(Money {
            amount_minor,
            currency: Currency::parse(&currency).map_err(conversion)?,
        })),
        _ => Ok(None),
    }
}

fn day_of(raw: Option<String>) -> rusqlite::Result<Option<Day>> {
    raw.map(|s| s.parse::<Day>().map_err(conversion))
        .transpose()
}

fn item_from(row: &Row<'_>) -> rusqlite::Result<ItemRow> {
    let tags: String = row.get(6)?;
    let custom: String = row.get(19)?;
    Ok(ItemRow {
        id: uuid_of(row.get(0)?)?.into(),
        household_id: uuid_of(row.get(1)?)?.into(),
        fields: ItemFields {
            name: row.get(2)?,
            description: row.get(3)?,
            location_id: opt_uuid(row.get(4)?)?.map(Into::into),
            quantity: row.get(5)?,
            tags: serde_json::from_str(&tags).map_err(conversion)?,
            brand: row.get(7)?,
            model: row.get(8)?,
            serial_number: row.get(9)?,
            barcode: row.get(10)?,
            purchase_date: day_of(row.get(11)?)?,
            purchase_price: money_of(row.get(12)?, row.get(13)?)?,
            purchased_from: row.get(14)?,
            estimated_value: money_of(row.get(15)?, row.get(16)?)?,
            warranty_expires: day_of(row.get(17)?)?,
            notes: row.get(18)?,
            custom_fields: serde_json::from_str(&custom).map_err(conversion)?,
            insured: row.get::<_, Option<bool>>(24)?.unwrap_or_default(),
            lifetime_warranty: row.get::<_, Option<bool>>(25)?.unwrap_or_default(),
            sold_to: row.get(26)?,
            sold_date: day_of(row.get(27)?)?,
            sold_price: money_of(row.get(28)?, row.get(29)?)?,
            sold_notes: row.get(30)?,
            asset_id: row.get::<_, Option<i64>>(31)?.and_then(AssetId::from_i64),
        },
        version: row.get(20)?,
        created_at: from_micros(row.get(21)?)?,
        updated_at: from_micros(row.get(22)?)?,
        deleted_at: row
            .get::<_, Option<i64>>(23)?
            .map(from_micros)
            .transpose()?,
    })
}

/// Writes an item: a new one (`insert`), or a stored one if its version is still the one
/// before. When `claim`, its asset id is settled in the write: none gets the household's
/// next; the one it has is checked free and moves the counter past it (else it is written
/// as it is). How many rows it wrote (0: stale) and the asset id stored.
fn write_item(
    tx: &Transaction<'_>,
    item: &ItemRow,
    insert: bool,
    claim: bool,
) -> StoreResult<(usize, Option<AssetId>)> {
    let f = &item.fields;
    let (hid, own) = (item.household_id, item.id.as_uuid());
    let asset_id = match f.asset_id {
        None if claim => Some(assets::next_asset_ids(tx, hid, 1)?),
        Some(wanted) if claim => {
            assets::claim_asset_id(tx, hid, wanted, own)?;
            Some(wanted)
        }
        kept => kept,
    };
    let sql = if insert {
        "INSERT INTO items (id, household_id, name, description, location_id, quantity, tags, brand, \
         model, serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
         purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
         custom_fields, version, created_at, updated_at, deleted_at, name_lower, search_text, insured, \
         lifetime_warranty, sold_to, sold_date, sold_price_minor, sold_price_currency, sold_notes, \
         asset_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34)"
    } else {
        "UPDATE items SET name = ?3, description = ?4, location_id = ?5, quantity = ?6, tags = ?7, \
         brand = ?8, model = ?9, serial_number = ?10, barcode = ?11, purchase_date = ?12, \
         purchase_price_minor = ?13, purchase_price_currency = ?14, purchased_from = ?15, \
         estimated_value_minor = ?16, estimated_value_currency = ?17, warranty_expires = ?18, \
         notes = ?19, custom_fields = ?20, version = ?21, created_at = ?22, updated_at = ?23, \
         deleted_at = ?24, name_lower = ?25, search_text = ?26, insured = ?27, \
         lifetime_warranty = ?28, sold_to = ?29, sold_date = ?30, sold_price_minor = ?31, \
         sold_price_currency = ?32, sold_notes = ?33, asset_id = coalesce(?34, asset_id) \
         WHERE id = ?1 AND household_id = ?2 AND version = ?35"
    };
    let mut stmt = tx.prepare_cached(sql).map_err(db)?;
    let tags = serde_json::to_string(&f.tags).map_err(anyhow::Error::from)?;
    let custom = serde_json::to_string(&f.custom_fields).map_err(anyhow::Error::from)?;
    let mut values: Vec<Box<dyn rusqlite::ToSql>> = vec![
        Box::new(item.id.to_string()),
        Box::new(item.household_id.to_string()),
        Box::new(f.name.clone()),
        Box::new(f.description.clone()),
        Box::new(f.location_id.map(|l| l.to_string())),
        Box::new(f.quantity),
        Box::new(tags),
        Box::new(f.brand.clone()),
        Box::new(f.model.clone()),
        Box::new(f.serial_number.clone()),
        Box::new(f.barcode.clone()),
        Box::new(f.purchase_date.map(|d| d.to_string())),
        Box::new(f.purchase_price.as_ref().map(|m| m.amount_minor)),
        Box::new(f.purchase_price.as_ref().map(|m| m.currency.to_string())),
        Box::new(f.purchased_from.clone()),
        Box::new(f.estimated_value.as_ref().map(|m| m.amount_minor)),
        Box::new(f.estimated_value.as_ref().map(|m| m.currency.to_string())),
        Box::new(f.warranty_expires.map(|d| d.to_string())),
        Box::new(f.notes.clone()),
        Box::new(custom),
        Box::new(item.version),
        Box::new(micros(item.created_at)),
        Box::new(micros(item.updated_at)),
        Box::new(item.deleted_at.map(micros)),
        Box::new(f.name.to_lowercase()),
        Box::new(item.search_text()),
        Box::new(f.insured),
        Box::new(f.lifetime_warranty),
        Box::new(f.sold_to.clone()),
        Box::new(f.sold_date.map(|d| d.to_string())),
        Box::new(f.sold_price.as_ref().map(|m| m.amount_minor)),
        Box::new(f.sold_price.as_ref().map(|m| m.currency.to_string())),
        Box::new(f.sold_notes.clone()),
        Box::new(asset_id.map(AssetId::as_i64)),
    ];
    if !insert {
        values.push(Box::new(item.version - 1));
    }
    let changed = stmt
        .execute(rusqlite::params_from_iter(values.iter()))
        .map_err(db)?;
    if changed == 1 {
        tx.execute(
            "DELETE FROM item_tags WHERE item_id = ?1",
            [item.id.to_string()],
        )
        .map_err(db)?;
        let mut insert_tag = tx
            .prepare_cached(
                "INSERT INTO item_tags (item_id, name_lower, household_id, name, trashed, value_minor) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db)?;
        for tag in &f.tags {
            insert_tag
                .execute(params![
                    item.id.to_string(),
                    tag.to_lowercase(),
                    item.household_id.to_string(),
                    tag,
                    item.deleted_at.is_some(),
                    f.estimated_value.as_ref().map(|m| m.amount_minor),
                ])
                .map_err(db)?;
        }
    }
    Ok((changed, asset_id))
}

fn write_activity(tx: &Transaction<'_>, a: &ActivityRow) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO activity (id, household_id, item_id, actor_id, action, fields, at, via_token) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .map_err(db)?
    .execute(params![
        a.id.to_string(),
        a.household_id.to_string(),
        a.item_id.to_string(),
        a.actor_id.to_string(),
        action_str(a.action),
        serde_json::to_string(&a.fields).map_err(anyhow::Error::from)?,
        micros(a.at),
        a.via_token,
    ])
    .map_err(db)?;
    Ok(())
}

fn insert_household(tx: &Transaction<'_>, h: &HouseholdRow, owner: UserId) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO households (id, name, currency, version, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![h.id.to_string(), h.name, h.currency.as_str(), h.version, micros(h.created_at)],
    )
    .map_err(db)?;
    tx.execute(
        "INSERT INTO members (household_id, user_id, role, created_at) VALUES (?1, ?2, 'owner', ?3)",
        params![h.id.to_string(), owner.to_string(), micros(h.created_at)],
    )
    .map_err(db)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|c| {
            c.query_row("SELECT 1", [], |_| Ok(()))
                .map_err(|e| StoreError::Unavailable(e.to_string()))
        })
        .await
    }

    fn round_trips(&self) -> u64 {
        self.inner.trips.load(Ordering::Relaxed)
    }
}

pub(crate) fn check_batch(items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()> {
    let rows = import_rows(items) + activities.len();
    if rows > IMPORT_ROWS {
        return Err(anyhow::anyhow!(
            "an import batch may write at most {IMPORT_ROWS} rows, not {rows}"
        )
        .into());
    }
    Ok(())
}

/// The column a sort orders by, and whether it runs newest (or last) first.
pub(crate) fn sort_column(sort: ItemSort) -> (&'static str, bool) {
    match sort {
        ItemSort::Newest => ("created_at", true),
        ItemSort::Oldest => ("created_at", false),
        ItemSort::Updated => ("updated_at", true),
        ItemSort::Deleted => ("deleted_at", true),
        ItemSort::Name => ("name_lower", false),
    }
}

/// Why a location can't be deleted yet, for people.
pub(crate) fn describe_contents(items: i64, children: i64) -> String {
    let plural = |n: i64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let what = match (items > 0, children > 0) {
        (true, true) => format!(
            "{} and {}",
            plural(items, "item", "items"),
            plural(children, "location", "locations")
        ),
        (true, false) => plural(items, "item", "items"),
        _ => plural(children, "location", "locations"),
    };
    format!("this location still holds {what}; move or delete them first")
}

fn number_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 16);
    let mut n = 0;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '?' {
            if chars.peek().is_some_and(char::is_ascii_digit) {
                let mut digits = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    digits.push(d);
                    chars.next();
                }
                out.push_str(&digits);
            } else {
                n += 1;
                out.push_str(&n.to_string());
            }
        }
    }
    out
}

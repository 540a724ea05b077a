//! The embedded SQLite backend: one writer connection and a few readers over a WAL-mode
//! file, each call on the blocking thread pool.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use shared::{
    Activity, Actor, Currency, Day, HouseholdId, ItemFields, ItemId, LocationId, Money, Role,
    TagCount, User, UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::*;

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
        for statement in migrate::statements(migration.sql) {
            let tx = conn.transaction()?;
            tx.execute_batch(&statement)
                .with_context(|| format!("migration {}: {statement}", migration.version))?;
            tx.commit()?;
        }
        conn.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![migration.version, micros(now())],
        )?;
        tracing::info!(version = migration.version, "applied SQLite migration");
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

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

fn from_micros(v: i64) -> rusqlite::Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Integer, e.into())
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
        version: row.get(5)?,
        created_at: from_micros(row.get(6)?)?,
        updated_at: from_micros(row.get(7)?)?,
    })
}

const ITEM_COLUMNS: &str = "id, household_id, name, description, location_id, quantity, tags, brand, model, \
     serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
     purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
     custom_fields, version, created_at, updated_at, deleted_at";

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

fn write_item(tx: &Transaction<'_>, item: &ItemRow, insert: bool) -> StoreResult<usize> {
    let f = &item.fields;
    let sql = if insert {
        "INSERT INTO items (id, household_id, name, description, location_id, quantity, tags, brand, \
         model, serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
         purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
         custom_fields, version, created_at, updated_at, deleted_at, name_lower, search_text) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, \
         ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)"
    } else {
        "UPDATE items SET name = ?3, description = ?4, location_id = ?5, quantity = ?6, tags = ?7, \
         brand = ?8, model = ?9, serial_number = ?10, barcode = ?11, purchase_date = ?12, \
         purchase_price_minor = ?13, purchase_price_currency = ?14, purchased_from = ?15, \
         estimated_value_minor = ?16, estimated_value_currency = ?17, warranty_expires = ?18, \
         notes = ?19, custom_fields = ?20, version = ?21, created_at = ?22, updated_at = ?23, \
         deleted_at = ?24, name_lower = ?25, search_text = ?26 \
         WHERE id = ?1 AND household_id = ?2 AND version = ?27"
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
    Ok(changed)
}

fn write_activity(tx: &Transaction<'_>, a: &ActivityRow) -> StoreResult<()> {
    tx.prepare_cached(
        "INSERT INTO activity (id, household_id, item_id, actor_id, action, fields, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
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

    async fn create_user(&self, user: &UserRow, household: &HouseholdRow) -> StoreResult<()> {
        let (user, household) = (user.clone(), household.clone());
        self.write(move |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1)",
                    [&user.user.email],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if taken {
                return Err(StoreError::Conflict("email taken".into()));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    user.user.id.to_string(),
                    user.user.email,
                    user.user.name,
                    user.password_hash,
                    micros(user.user.created_at)
                ],
            )
            .map_err(db)?;
            insert_household(tx, &household, user.user.id)
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let email = email.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT id, email, name, created_at, password_hash FROM users WHERE email = ?1",
                [email],
                |r| {
                    Ok(UserRow {
                        user: user_from(r)?,
                        password_hash: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn user_by_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<User>> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.read(move |c| {
            c.query_row(
                "SELECT u.id, u.email, u.name, u.created_at FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.provider = ?1 AND i.subject = ?2",
                [provider, subject],
                user_from,
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn link_identity(&self, provider: &str, subject: &str, user: UserId) -> StoreResult<()> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                params![provider, subject, user.to_string(), micros(now())],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        let s = s.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![s.token_hash, s.user_id.to_string(), micros(s.created_at), micros(s.expires_at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        let token_hash = token_hash.to_vec();
        self.read(move |c| {
            c.query_row(
                "SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, u.email, u.name, u.created_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, micros(now)],
                |r| {
                    let user_id: UserId = uuid_of(r.get(1)?)?.into();
                    Ok((
                        SessionRow {
                            token_hash: r.get(0)?,
                            user_id,
                            created_at: from_micros(r.get(2)?)?,
                            expires_at: from_micros(r.get(3)?)?,
                        },
                        User {
                            id: user_id,
                            email: r.get(4)?,
                            name: r.get(5)?,
                            created_at: from_micros(r.get(6)?)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1",
                params![token_hash, micros(expires_at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn record_login_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO login_failures (id, key, at) VALUES (?1, ?2, ?3)",
                params![Uuid::now_v7().to_string(), key, micros(at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn login_failures_since(&self, key: &str, since: OffsetDateTime) -> StoreResult<i64> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT count(*) FROM login_failures WHERE key = ?1 AND at > ?2",
                params![key, micros(since)],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = ?1", [key])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_household(&self, household: &HouseholdRow, owner: UserId) -> StoreResult<()> {
        let household = household.clone();
        self.write(move |tx| insert_household(tx, &household, owner))
            .await
    }

    async fn members(&self, household: HouseholdId) -> StoreResult<Vec<MemberRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT u.id, u.email, u.name, u.created_at, m.role, m.created_at \
                     FROM members m JOIN users u ON u.id = m.user_id \
                     WHERE m.household_id = ?1 ORDER BY m.created_at, u.id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok(MemberRow {
                        user: user_from(r)?,
                        role: role_of(r.get(4)?)?,
                        joined_at: from_micros(r.get(5)?)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn change_role(
        &self,
        household: HouseholdId,
        user: UserId,
        role: Role,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let current = member_role(tx, household, user)?;
            if current == Role::Owner && role != Role::Owner && owners(tx, household)? <= 1 {
                return Err(StoreError::Conflict(
                    "the household needs an owner; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "UPDATE members SET role = ?3 WHERE household_id = ?1 AND user_id = ?2",
                params![household.to_string(), user.to_string(), role.as_str()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, household: HouseholdId, user: UserId) -> StoreResult<()> {
        self.write(move |tx| {
            if member_role(tx, household, user)? == Role::Owner && owners(tx, household)? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner can't leave; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "DELETE FROM members WHERE household_id = ?1 AND user_id = ?2",
                [household.to_string(), user.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_invite(&self, i: &InviteRow) -> StoreResult<()> {
        let i = i.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO invites (id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    i.id.to_string(),
                    i.household_id.to_string(),
                    i.code_hash,
                    i.role.as_str(),
                    i.created_by.to_string(),
                    micros(i.created_at),
                    micros(i.expires_at),
                    i.max_uses,
                    i.uses
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn invites(&self, household: HouseholdId) -> StoreResult<Vec<InviteRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE household_id = ?1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
                )
                .map_err(db)?;
            let rows = stmt.query_map([household.to_string()], invite_from).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn revoke_invite(
        &self,
        household: HouseholdId,
        id: shared::InviteId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE invites SET revoked_at = ?3 WHERE household_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                    params![household.to_string(), id.to_string(), micros(at)],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)
        })
        .await
    }

    async fn invite_by_code(
        &self,
        code_hash: &[u8],
    ) -> StoreResult<Option<(InviteRow, String, String)>> {
        let code_hash = code_hash.to_vec();
        self.read(move |c| {
            c.query_row(
                "SELECT i.id, i.household_id, i.code_hash, i.role, i.created_by, i.created_at, i.expires_at, \
                 i.max_uses, i.uses, h.name, coalesce(u.name, '') \
                 FROM invites i JOIN households h ON h.id = i.household_id LEFT JOIN users u ON u.id = i.created_by \
                 WHERE i.code_hash = ?1 AND i.revoked_at IS NULL",
                [code_hash],
                |r| Ok((invite_from(r)?, r.get(9)?, r.get(10)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<HouseholdId> {
        let code_hash = code_hash.to_vec();
        self.write(move |tx| {
            let invite = tx
                .query_row(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE code_hash = ?1 AND revoked_at IS NULL",
                    [&code_hash],
                    invite_from,
                )
                .optional()
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
            let member: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM members WHERE household_id = ?1 AND user_id = ?2)",
                    [invite.household_id.to_string(), user.to_string()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if member {
                return Ok(invite.household_id);
            }
            check_invite(&invite, at)?;
            tx.execute(
                "INSERT INTO members (household_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![invite.household_id.to_string(), user.to_string(), invite.role.as_str(), micros(at)],
            )
            .map_err(db)?;
            tx.execute(
                "UPDATE invites SET uses = uses + 1 WHERE id = ?1",
                [invite.id.to_string()],
            )
            .map_err(db)?;
            Ok(invite.household_id)
        })
        .await
    }

    async fn households_of(&self, user: UserId) -> StoreResult<Vec<(HouseholdRow, Role)>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                     FROM members m JOIN households h ON h.id = m.household_id \
                     WHERE m.user_id = ?1 ORDER BY h.created_at, h.id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([user.to_string()], |r| {
                    Ok((household_from(r)?, role_of(r.get(5)?)?))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn membership(
        &self,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.household_id = ?1 AND m.user_id = ?2",
            )
            .map_err(db)?
            .query_row([household.to_string(), user.to_string()], |r| {
                Ok((household_from(r)?, role_of(r.get(5)?)?))
            })
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn update_household(&self, h: &HouseholdRow, expected_version: i64) -> StoreResult<()> {
        let h = h.clone();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE households SET name = ?2, currency = ?3, version = ?4 WHERE id = ?1 AND version = ?5",
                    params![h.id.to_string(), h.name, h.currency.as_str(), h.version, expected_version],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::Stale)
        })
        .await
    }

    async fn locations(&self, household: HouseholdId) -> StoreResult<Vec<LocationRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, parent_id, name, description, version, created_at, updated_at \
                     FROM locations WHERE household_id = ?1",
                )
                .map_err(db)?;
            let rows = stmt.query_map([household.to_string()], location_from).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn location_item_counts(
        &self,
        household: HouseholdId,
    ) -> StoreResult<HashMap<LocationId, i64>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT location_id, count(*) FROM items \
                     WHERE household_id = ?1 AND deleted_at IS NULL AND location_id IS NOT NULL \
                     GROUP BY location_id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok((LocationId::from(uuid_of(r.get(0)?)?), r.get(1)?))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn location_owner(&self, id: LocationId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM locations WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_location(&self, l: &LocationRow) -> StoreResult<()> {
        let l = l.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO locations (id, household_id, parent_id, name, description, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    l.id.to_string(),
                    l.household_id.to_string(),
                    l.parent_id.map(|p| p.to_string()),
                    l.name,
                    l.description,
                    l.version,
                    micros(l.created_at),
                    micros(l.updated_at)
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn update_location(&self, l: &LocationRow, expected_version: i64) -> StoreResult<()> {
        let l = l.clone();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE locations SET parent_id = ?3, name = ?4, description = ?5, version = ?6, updated_at = ?7 \
                     WHERE id = ?1 AND household_id = ?2 AND version = ?8",
                    params![
                        l.id.to_string(),
                        l.household_id.to_string(),
                        l.parent_id.map(|p| p.to_string()),
                        l.name,
                        l.description,
                        l.version,
                        micros(l.updated_at),
                        expected_version
                    ],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::Stale)
        })
        .await
    }

    async fn delete_location(&self, household: HouseholdId, id: LocationId) -> StoreResult<()> {
        self.write(move |tx| {
            let (hid, lid) = (household.to_string(), id.to_string());
            let children: i64 = tx
                .query_row(
                    "SELECT count(*) FROM locations WHERE household_id = ?1 AND parent_id = ?2",
                    [&hid, &lid],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let items: i64 = tx
                .query_row(
                    "SELECT count(*) FROM items WHERE household_id = ?1 AND location_id = ?2 AND deleted_at IS NULL",
                    [&hid, &lid],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if children > 0 || items > 0 {
                return Err(StoreError::Conflict(describe_contents(items, children)));
            }
            let deleted = tx
                .execute("DELETE FROM locations WHERE household_id = ?1 AND id = ?2", [&hid, &lid])
                .map_err(db)?;
            exactly_one(deleted as u64, StoreError::NotFound)
        })
        .await
    }

    async fn item_owner(&self, id: ItemId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM items WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_item(&self, item: &ItemRow, activity: &ActivityRow) -> StoreResult<()> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write(move |tx| {
            write_item(tx, &item, true)?;
            write_activity(tx, &activity)
        })
        .await
    }

    async fn import_items(&self, items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()> {
        check_batch(items, activities)?;
        let (items, activities) = (items.to_vec(), activities.to_vec());
        self.write(move |tx| {
            for item in &items {
                write_item(tx, item, true)?;
            }
            for activity in &activities {
                write_activity(tx, activity)?;
            }
            // Many rows at once can change the best plans.
            tx.execute_batch("PRAGMA optimize").map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn item(&self, household: HouseholdId, id: ItemId) -> StoreResult<Option<ItemRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?1 AND id = ?2"
            ))
            .map_err(db)?
            .query_row([household.to_string(), id.to_string()], item_from)
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn update_item(
        &self,
        item: &ItemRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        let (item, activity) = (item.clone(), activity.clone());
        if item.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        self.write(move |tx| {
            if write_item(tx, &item, false)? == 0 {
                return Err(StoreError::Stale);
            }
            write_activity(tx, &activity)
        })
        .await
    }

    async fn list_items(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<ItemRow>> {
        let q = q.clone();
        self.read(move |c| {
            let mut sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(household.to_string())];
            sql.push_str(if q.trashed {
                " AND deleted_at IS NOT NULL"
            } else {
                " AND deleted_at IS NULL"
            });
            if let Some(search) = &q.search {
                sql.push_str(" AND instr(search_text, ?) > 0");
                args.push(Box::new(search.clone()));
            }
            if q.unplaced {
                sql.push_str(" AND location_id IS NULL");
            } else if let Some(ids) = &q.location_ids {
                sql.push_str(" AND location_id IN (SELECT value FROM json_each(?))");
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                args.push(Box::new(serde_json::to_string(&ids).map_err(anyhow::Error::from)?));
            }
            if let Some(tag) = &q.tag {
                sql.push_str(
                    " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = items.id AND t.name_lower = ?)",
                );
                args.push(Box::new(tag.clone()));
            }
            let (column, desc) = sort_column(q.sort);
            let cmp = if desc { "<" } else { ">" };
            if let Some(cursor) = &q.after {
                match cursor.text_key() {
                    Some(key) => args.push(Box::new(key.to_string())),
                    None => args.push(Box::new(cursor.time_key().map(micros).unwrap_or_default())),
                }
                sql.push_str(&format!(" AND ({column} {cmp} ?{n} OR ({column} = ?{n} AND id {cmp} ?{m}))", n = args.len(), m = args.len() + 1));
                args.push(Box::new(cursor.id.to_string()));
            }
            let dir = if desc { "DESC" } else { "ASC" };
            sql.push_str(&format!(" ORDER BY {column} {dir}, id {dir} LIMIT {}", q.limit));
            // Positional `?` and numbered `?N` can't be mixed: number them all.
            let sql = number_placeholders(&sql);
            let mut stmt = c.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), item_from)
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn search_entries(
        &self,
        household: HouseholdId,
        since: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<SearchEntry>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, search_text, name_lower, location_id, tags, created_at, updated_at, deleted_at \
                     FROM items WHERE household_id = ?1 AND updated_at > ?2",
                )
                .map_err(db)?;
            let since = since.map(micros).unwrap_or(i64::MIN);
            let rows = stmt
                .query_map(params![household.to_string(), since], |r| {
                    Ok((
                        uuid_of(r.get(0)?)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        opt_uuid(r.get(3)?)?,
                        r.get::<_, String>(4)?,
                        (
                            from_micros(r.get(5)?)?,
                            from_micros(r.get(6)?)?,
                            r.get::<_, Option<i64>>(7)?.map(from_micros).transpose()?,
                        ),
                    ))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, text, name, location, tags, times) = row.map_err(db)?;
                out.push(SearchEntry::new(id.into(), text, name, location.map(Into::into), &tags, times)?);
            }
            Ok(out)
        })
        .await
    }

    async fn items_by_ids(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<ItemRow>> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.read(move |c| {
            let ids = serde_json::to_string(&ids).map_err(anyhow::Error::from)?;
            let mut stmt = c
                // CROSS JOIN keeps the ids as the outer loop: one key lookup per id,
                // rather than a walk over the household.
                .prepare_cached(&format!(
                    "SELECT {} FROM json_each(?2) AS wanted CROSS JOIN items i ON i.id = wanted.value \
                     WHERE i.household_id = ?1",
                    ITEM_COLUMNS
                        .split(", ")
                        .map(|c| format!("i.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(params![household.to_string(), ids], item_from)
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn purge_trash(
        &self,
        household: HouseholdId,
        only: Option<ItemId>,
        limit: usize,
    ) -> StoreResult<Purged> {
        self.write(move |tx| {
            let hid = household.to_string();
            let ids: Vec<String> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT id FROM items WHERE household_id = ?1 AND deleted_at IS NOT NULL \
                         AND (?2 IS NULL OR id = ?2) LIMIT ?3",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(
                        params![hid, only.map(|i| i.to_string()), limit as i64],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let mut attachments = Vec::new();
            for id in &ids {
                {
                    let mut stmt = tx
                        .prepare(
                            "SELECT id FROM attachments WHERE household_id = ?1 AND item_id = ?2",
                        )
                        .map_err(db)?;
                    let rows = stmt
                        .query_map([&hid, id], |r| Ok(AttachmentId::from(uuid_of(r.get(0)?)?)))
                        .map_err(db)?;
                    for row in rows {
                        attachments.push(row.map_err(db)?);
                    }
                }
                tx.execute(
                    "DELETE FROM attachments WHERE household_id = ?1 AND item_id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM item_tags WHERE item_id = ?1", [id])
                    .map_err(db)?;
                tx.execute(
                    "DELETE FROM activity WHERE household_id = ?1 AND item_id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
                tx.execute(
                    "DELETE FROM items WHERE household_id = ?1 AND id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
            }
            Ok(Purged {
                items: ids.len(),
                attachments,
            })
        })
        .await
    }

    async fn tags(&self, household: HouseholdId) -> StoreResult<Vec<TagCount>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT min(name), count(*) FROM item_tags WHERE household_id = ?1 AND trashed = 0 \
                     GROUP BY name_lower ORDER BY name_lower",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok(TagCount {
                        name: r.get(0)?,
                        item_count: r.get(1)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn stats(&self, household: HouseholdId) -> StoreResult<StatsRow> {
        self.read(move |c| {
            let hid = household.to_string();
            let (item_count, total_quantity, total_value_minor, trashed_count) = c
                .query_row(
                    "SELECT count(*) FILTER (WHERE deleted_at IS NULL), \
                     coalesce(sum(quantity) FILTER (WHERE deleted_at IS NULL), 0), \
                     coalesce(sum(estimated_value_minor) FILTER (WHERE deleted_at IS NULL), 0), \
                     count(*) FILTER (WHERE deleted_at IS NOT NULL) \
                     FROM items WHERE household_id = ?1",
                    [&hid],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(db)?;
            let by_location = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT location_id, count(*), coalesce(sum(estimated_value_minor), 0) FROM items \
                         WHERE household_id = ?1 AND deleted_at IS NULL GROUP BY location_id",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([&hid], |r| {
                        Ok((opt_uuid(r.get(0)?)?.map(LocationId::from), r.get(1)?, r.get(2)?))
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let by_tag = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT min(name), count(*), coalesce(sum(value_minor), 0) FROM item_tags \
                         WHERE household_id = ?1 AND trashed = 0 GROUP BY name_lower",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([&hid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let (attachment_count, storage_bytes) = c
                .query_row(
                    "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM attachments \
                     WHERE household_id = ?1 AND status = 'ready'",
                    [&hid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db)?;
            Ok(StatsRow {
                item_count,
                total_quantity,
                trashed_count,
                total_value_minor,
                by_location,
                by_tag,
                attachment_count,
                storage_bytes,
            })
        })
        .await
    }

    async fn history(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<Activity>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, a.action, a.actor_id, coalesce(u.name, ''), a.fields, a.at \
                     FROM activity a LEFT JOIN users u ON u.id = a.actor_id \
                     WHERE a.household_id = ?1 AND a.item_id = ?2 ORDER BY a.at DESC, a.id DESC",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), item.to_string()], |r| {
                    let fields: String = r.get(4)?;
                    Ok((
                        uuid_of(r.get(0)?)?,
                        r.get::<_, String>(1)?,
                        uuid_of(r.get(2)?)?,
                        r.get::<_, String>(3)?,
                        fields,
                        from_micros(r.get(5)?)?,
                    ))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, action, actor_id, actor_name, fields, at) = row.map_err(db)?;
                out.push(Activity {
                    id: id.into(),
                    action: parse_action(&action)?,
                    actor: Actor {
                        id: actor_id.into(),
                        name: actor_name,
                    },
                    fields: serde_json::from_str(&fields).map_err(anyhow::Error::from)?,
                    at,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn attachment_owner(&self, id: AttachmentId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM attachments WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_attachment(&self, a: &AttachmentRow) -> StoreResult<()> {
        let a = a.clone();
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
                ),
                params![
                    a.id.to_string(),
                    a.household_id.to_string(),
                    a.item_id.to_string(),
                    a.kind.as_str(),
                    a.filename,
                    a.content_type,
                    a.size,
                    a.stored_bytes,
                    status_str(a.status),
                    a.width,
                    a.height,
                    a.primary,
                    a.created_by.to_string(),
                    micros(a.created_at),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
    ) -> StoreResult<Option<AttachmentRow>> {
        self.read(move |c| attachment_in(c, household, id)).await
    }

    async fn attachments(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<AttachmentRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE household_id = ?1 AND item_id = ?2 AND status = 'ready' \
                     ORDER BY is_primary DESC, kind = 'photo' DESC, created_at, id"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), item.to_string()], attachment_from)
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn complete_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let a = a.clone();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'ready', size = ?3, stored_bytes = ?4, \
                     content_type = ?5, width = ?6, height = ?7 \
                     WHERE household_id = ?1 AND id = ?2 AND status = 'pending'",
                    params![
                        a.household_id.to_string(),
                        a.id.to_string(),
                        a.size,
                        a.stored_bytes,
                        a.content_type,
                        a.width,
                        a.height,
                    ],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)?;
            ensure_primary(tx, a.household_id, a.item_id)?;
            attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn update_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let a = a.clone();
        self.write(move |tx| {
            let (hid, id) = (a.household_id.to_string(), a.id.to_string());
            let before = attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)?;
            if a.primary {
                tx.execute(
                    "UPDATE attachments SET is_primary = 0 \
                     WHERE household_id = ?1 AND item_id = ?2 AND id <> ?3",
                    [&hid, &a.item_id.to_string(), &id],
                )
                .map_err(db)?;
            }
            let changed = tx
                .execute(
                    "UPDATE attachments SET kind = ?3, filename = ?4, is_primary = ?5, item_id = ?6 \
                     WHERE household_id = ?1 AND id = ?2",
                    params![hid, id, a.kind.as_str(), a.filename, a.primary, a.item_id.to_string()],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)?;
            ensure_primary(tx, a.household_id, a.item_id)?;
            if before.item_id != a.item_id {
                ensure_primary(tx, a.household_id, before.item_id)?;
            }
            attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn delete_attachment(&self, household: HouseholdId, id: AttachmentId) -> StoreResult<()> {
        self.write(move |tx| {
            let row = attachment_in(tx, household, id)?.ok_or(StoreError::NotFound)?;
            tx.execute(
                "DELETE FROM attachments WHERE household_id = ?1 AND id = ?2",
                [household.to_string(), id.to_string()],
            )
            .map_err(db)?;
            ensure_primary(tx, household, row.item_id)
        })
        .await
    }

    async fn primary_photos(
        &self,
        household: HouseholdId,
        items: &[ItemId],
    ) -> StoreResult<HashMap<ItemId, AttachmentId>> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(items).map_err(anyhow::Error::from)?;
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT item_id, id FROM attachments WHERE household_id = ?1 \
                     AND item_id IN (SELECT value FROM json_each(?2)) AND is_primary = 1",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), ids], |r| {
                    Ok((
                        ItemId::from(uuid_of(r.get(0)?)?),
                        AttachmentId::from(uuid_of(r.get(1)?)?),
                    ))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn count_recognitions(
        &self,
        household: HouseholdId,
        day: &str,
        n: i64,
    ) -> StoreResult<i64> {
        let day = day.to_string();
        self.write(move |tx| {
            tx.query_row(
                "INSERT INTO recognitions (household_id, day, count) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (household_id, day) DO UPDATE SET count = count + excluded.count \
                 RETURNING count",
                params![household.to_string(), day, n],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
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

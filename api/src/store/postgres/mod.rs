//! The PostgreSQL backend, written to the rules that keep it working on Aurora DSQL:
//! app-made UUID keys, no foreign keys or sequences, one DDL statement per transaction,
//! bounded write transactions, and every write transaction retried on serialization
//! failures (SQLSTATE 40001, DSQL's OC000/OC001) with jittered exponential backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Context as _;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use shared::{
    Activity, Actor, AssetId, AssetKind, Currency, Day, HouseholdId, ItemFields, ItemId,
    LocationId, Money, Role, TagCount, User, UserId,
};
use time::OffsetDateTime;
use tokio_postgres::Row;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use super::sqlite::{check_batch, describe_contents, sort_column};
use super::*;

/// How often a write transaction is tried before its conflict is reported.
const MAX_ATTEMPTS: u32 = 8;

pub struct PgStore {
    pool: Pool,
    dsql: bool,
    retries: AtomicU64,
    /// Connections taken from the pool, for `Store::round_trips`.
    trips: AtomicU64,
}

fn pg(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(code) if *code == SqlState::UNIQUE_VIOLATION => StoreError::Conflict(e.to_string()),
        _ if e.is_closed() => StoreError::Unavailable(e.to_string()),
        _ => StoreError::Other(e.into()),
    }
}

fn pool_error(e: deadpool_postgres::PoolError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Whether a failed transaction may succeed if tried again.
fn is_retryable(e: &StoreError) -> bool {
    let StoreError::Other(e) = e else {
        return false;
    };
    e.downcast_ref::<tokio_postgres::Error>()
        .and_then(|e| e.code())
        .is_some_and(|c| {
            *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED
        })
}

/// Runs `$body` in a transaction bound to `$tx`, committing it, and runs the whole again
/// when the database reports a serialization failure. The body must be idempotent.
macro_rules! write_tx {
    ($self:ident, |$tx:ident| $body:block) => {{
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let result: StoreResult<_> = async {
                $self.trips.fetch_add(1, Ordering::Relaxed);
                let mut client = $self.pool.get().await.map_err(pool_error)?;
                // Repeatable read: what Aurora DSQL gives every transaction, so conflicts
                // surface (and are retried) the same way on PostgreSQL.
                let $tx = client
                    .build_transaction()
                    .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
                    .start()
                    .await
                    .map_err(pg)?;
                let value = async {
                    let value: StoreResult<_> = $body;
                    value
                }
                .await?;
                $tx.commit().await.map_err(pg)?;
                Ok(value)
            }
            .await;
            match result {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    $self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(attempt, "retrying a write transaction after a conflict");
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) if is_retryable(&e) => {
                    break Err(StoreError::Conflict(
                        "the change collided with other changes too often; try again".into(),
                    ));
                }
                other => break other,
            }
        }
    }};
}

// After `write_tx`, which they use.
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
pub mod tls;
mod tokens;

impl PgStore {
    /// A pool for a `postgres://` URL, over TLS as its `sslmode` says (`tls.rs`).
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let tls::ConnectOptions { config, tls, mode } = tls::connect_options(url)?;
        if matches!(mode, tls::SslMode::Disable | tls::SslMode::Prefer) && !tls::is_local(&config) {
            tracing::warn!(
                ?mode,
                "the database server's certificate is not checked; add sslmode=verify-full to DATABASE_URL (and sslrootcert=<CA file> for a private CA)"
            );
        }
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .build()
            .context("building the connection pool")?;
        Ok(Self::from_pool(pool, false))
    }

    pub fn from_pool(pool: Pool, dsql: bool) -> Self {
        Self {
            pool,
            dsql,
            retries: AtomicU64::new(0),
            trips: AtomicU64::new(0),
        }
    }

    /// How many write transactions were tried again after a serialization failure.
    pub fn conflict_retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// Applies the migrations that have not run, one statement per transaction.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let client = self.pool.get().await.context("connecting to PostgreSQL")?;
        // Up to date: nothing to do, and no DDL, which the application's role may not run.
        if let Ok(rows) = client
            .query("SELECT version FROM schema_migrations", &[])
            .await
        {
            let applied: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            if migrate::POSTGRES
                .iter()
                .map(|m| m.version)
                .chain([migrate::ASSET_ID_BACKFILL])
                .all(|m| applied.iter().any(|a| a == m))
            {
                return Ok(());
            }
        }
        client
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version text PRIMARY KEY, applied_at timestamptz NOT NULL)",
            )
            .await
            .context("creating schema_migrations")?;
        for migration in migrate::POSTGRES {
            let done = client
                .query_opt(
                    "SELECT 1 FROM schema_migrations WHERE version = $1",
                    &[&migration.version],
                )
                .await?
                .is_some();
            if done {
                continue;
            }
            for statement in migrate::statements(migration.sql) {
                self.apply(&client, &statement)
                    .await
                    .with_context(|| format!("migration {}: {statement}", migration.version))?;
            }
            client
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
                    &[&migration.version, &now()],
                )
                .await?;
            tracing::info!(version = migration.version, "applied PostgreSQL migration");
        }
        let numbered = client
            .query_opt(
                "SELECT 1 FROM schema_migrations WHERE version = $1",
                &[&migrate::ASSET_ID_BACKFILL],
            )
            .await?
            .is_some();
        if !numbered {
            let n = backfill_asset_ids(self)
                .await
                .context("numbering items and locations")?;
            client
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2) ON CONFLICT (version) DO NOTHING",
                    &[&migrate::ASSET_ID_BACKFILL, &now()],
                )
                .await?;
            tracing::info!(
                numbered = n,
                "gave asset ids to the items and locations made before"
            );
        }
        Ok(())
    }

    /// Runs one DDL statement in a transaction of its own. On DSQL an index is built by an
    /// asynchronous job, which this waits for.
    async fn apply(
        &self,
        client: &deadpool_postgres::Object,
        statement: &str,
    ) -> anyhow::Result<()> {
        if !self.dsql {
            client
                .batch_execute(&format!("BEGIN; {statement}; COMMIT"))
                .await?;
            return Ok(());
        }
        let statement = migrate::dsql_statement(statement);
        let messages = client.simple_query(&statement).await?;
        let job = messages.iter().find_map(|m| match m {
            tokio_postgres::SimpleQueryMessage::Row(row) => row.get("job_id").map(str::to_string),
            _ => None,
        });
        if let Some(job) = job {
            tracing::info!(%job, "waiting for an index build");
            client
                .simple_query(&format!(
                    "CALL sys.wait_for_job('{}')",
                    job.replace('\'', "")
                ))
                .await?;
        }
        Ok(())
    }

    /// Maps the database role `app` to the IAM roles allowed to log in as it, and grants
    /// it the data (not the schema). Runs as `admin`.
    pub async fn grant_app_role(&self, role_arns: &[String]) -> anyhow::Result<()> {
        let client = self.pool.get().await.context("connecting")?;
        match client.batch_execute("CREATE ROLE app WITH LOGIN").await {
            Ok(()) => {}
            Err(e) if e.code() == Some(&SqlState::DUPLICATE_OBJECT) => {}
            Err(e) => return Err(e).context("creating the app role"),
        }
        for arn in role_arns {
            let arn = arn.trim().replace('\'', "");
            if arn.is_empty() {
                continue;
            }
            client
                .batch_execute(&format!("AWS IAM GRANT app TO '{arn}'"))
                .await
                .with_context(|| format!("mapping {arn} to the app role"))?;
        }
        for grant in [
            "GRANT USAGE ON SCHEMA public TO app",
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app",
        ] {
            client
                .batch_execute(grant)
                .await
                .with_context(|| grant.to_string())?;
        }
        Ok(())
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.trips.fetch_add(1, Ordering::Relaxed);
        self.pool.get().await.map_err(pool_error)
    }
}

const ATTACHMENT_COLUMNS: &str = "id, household_id, item_id, kind, filename, content_type, size, \
     stored_bytes, status, width, height, is_primary, created_by, created_at";

fn attachment_from(r: &Row) -> StoreResult<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.get::<_, Uuid>(0).into(),
        household_id: r.get::<_, Uuid>(1).into(),
        item_id: r.get::<_, Uuid>(2).into(),
        kind: parse_kind(r.get(3))?,
        filename: r.get(4),
        content_type: r.get(5),
        size: r.get(6),
        stored_bytes: r.get(7),
        status: parse_status(r.get(8))?,
        width: r.get::<_, Option<i32>>(9).map(i64::from),
        height: r.get::<_, Option<i32>>(10).map(i64::from),
        primary: r.get(11),
        created_by: r.get::<_, Uuid>(12).into(),
        created_at: r.get(13),
    })
}

async fn attachment_in(
    c: &impl GenericClient,
    household: HouseholdId,
    id: AttachmentId,
) -> StoreResult<Option<AttachmentRow>> {
    c.query_opt(
        &format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE household_id = $1 AND id = $2"
        ),
        &[&household.as_uuid(), &id.as_uuid()],
    )
    .await
    .map_err(pg)?
    .as_ref()
    .map(attachment_from)
    .transpose()
}

/// Makes the item's oldest ready photo primary when it has no primary photo.
async fn ensure_primary(
    tx: &impl GenericClient,
    household: HouseholdId,
    item: ItemId,
) -> StoreResult<()> {
    let (hid, item) = (household.as_uuid(), item.as_uuid());
    let has_primary = tx
        .query_opt(
            "SELECT 1 FROM attachments WHERE household_id = $1 AND item_id = $2 AND is_primary",
            &[&hid, &item],
        )
        .await
        .map_err(pg)?
        .is_some();
    if !has_primary {
        tx.execute(
            "UPDATE attachments SET is_primary = true WHERE household_id = $1 AND id = ( \
               SELECT id FROM attachments WHERE household_id = $1 AND item_id = $2 \
               AND kind = 'photo' AND status = 'ready' ORDER BY created_at, id LIMIT 1)",
            &[&hid, &item],
        )
        .await
        .map_err(pg)?;
    }
    Ok(())
}

fn household_from(r: &Row) -> StoreResult<HouseholdRow> {
    Ok(HouseholdRow {
        id: r.get::<_, Uuid>("id").into(),
        name: r.get("name"),
        currency: Currency::parse(r.get("currency")).map_err(|e| anyhow::anyhow!(e))?,
        version: r.get("version"),
        created_at: r.get("created_at"),
    })
}

fn role_from(r: &Row) -> StoreResult<Role> {
    r.get::<_, &str>("role")
        .parse()
        .map_err(|e: String| anyhow::anyhow!(e).into())
}

fn invite_from(r: &Row) -> StoreResult<InviteRow> {
    Ok(InviteRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        code_hash: r.get("code_hash"),
        role: role_from(r)?,
        created_by: r.get::<_, Uuid>("created_by").into(),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        max_uses: r.get("max_uses"),
        uses: r.get("uses"),
    })
}

/// Makes this transaction collide with every other that takes the same household's lock,
/// so a rule spanning several rows (the tree has no cycle, the household keeps an owner)
/// is checked on data no concurrent writer changes unseen. Run it first in the transaction.
///
/// The lock is a write to the household row, not `SELECT … FOR UPDATE`: at PostgreSQL's
/// repeatable read a `FOR UPDATE` that waited for a transaction which only locked the row
/// goes on with its old snapshot, missing what that transaction wrote elsewhere, whereas
/// waiting for one that wrote the row fails with SQLSTATE 40001. On Aurora DSQL two writes
/// of one row are a data conflict (OC000, also 40001) for the later commit. Either way
/// `write_tx!` runs the loser again, on a fresh snapshot that holds the winner's change.
async fn lock_household(tx: &impl GenericClient, household: Uuid) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE households SET version = version WHERE id = $1",
        &[&household],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

async fn member_role(tx: &impl GenericClient, household: Uuid, user: Uuid) -> StoreResult<Role> {
    let row = tx
        .query_opt(
            "SELECT role FROM members WHERE household_id = $1 AND user_id = $2",
            &[&household, &user],
        )
        .await
        .map_err(pg)?
        .ok_or(StoreError::NotFound)?;
    role_from(&row)
}

async fn owners(tx: &impl GenericClient, household: Uuid) -> StoreResult<i64> {
    Ok(tx
        .query_one(
            "SELECT count(*) FROM members WHERE household_id = $1 AND role = 'owner'",
            &[&household],
        )
        .await
        .map_err(pg)?
        .get(0))
}

fn user_from(r: &Row) -> User {
    User {
        id: r.get::<_, Uuid>("id").into(),
        email: r.get("email"),
        name: r.get("name"),
        created_at: r.get("created_at"),
    }
}

fn location_from(r: &Row) -> LocationRow {
    LocationRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        parent_id: r.get::<_, Option<Uuid>>("parent_id").map(Into::into),
        name: r.get("name"),
        description: r.get("description"),
        asset_id: r
            .get::<_, Option<i64>>("asset_id")
            .and_then(AssetId::from_i64),
        version: r.get("version"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

const ITEM_COLUMNS: &str = "id, household_id, name, description, location_id, quantity, tags, brand, model, \
     serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
     purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
     custom_fields, version, created_at, updated_at, deleted_at, insured, lifetime_warranty, sold_to, \
     sold_date, sold_price_minor, sold_price_currency, sold_notes, asset_id";

fn money_from(r: &Row, amount: &str, currency: &str) -> StoreResult<Option<Money>> {
    match (
        r.get::<_, Option<i64>>(amount),
        r.get::<_, Option<&str>>(currency),
    ) {
        (Some(amount_minor), Some(currency)) => Ok(Some(Money {
            amount_minor,
            currency: Currency::parse(currency).map_err(|e| anyhow::anyhow!(e))?,
        })),
        _ => Ok(None),
    }
}

fn item_from(r: &Row) -> StoreResult<ItemRow> {
    let json = |col: &str| -> StoreResult<_> {
        Ok(serde_json::from_str::<serde_json::Value>(r.get(col)).map_err(anyhow::Error::from)?)
    };
    Ok(ItemRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        fields: ItemFields {
            name: r.get("name"),
            description: r.get("description"),
            location_id: r.get::<_, Option<Uuid>>("location_id").map(Into::into),
            quantity: r.get("quantity"),
            tags: serde_json::from_value(json("tags")?).map_err(anyhow::Error::from)?,
            brand: r.get("brand"),
            model: r.get("model"),
            serial_number: r.get("serial_number"),
            barcode: r.get("barcode"),
            purchase_date: r.get::<_, Option<time::Date>>("purchase_date").map(Day),
            purchase_price: money_from(r, "purchase_price_minor", "purchase_price_currency")?,
            purchased_from: r.get("purchased_from"),
            estimated_value: money_from(r, "estimated_value_minor", "estimated_value_currency")?,
            warranty_expires: r.get::<_, Option<time::Date>>("warranty_expires").map(Day),
            notes: r.get("notes"),
            custom_fields: serde_json::from_value(json("custom_fields")?)
                .map_err(anyhow::Error::from)?,
            insured: r.get::<_, Option<bool>>("insured").unwrap_or_default(),
            lifetime_warranty: r
                .get::<_, Option<bool>>("lifetime_warranty")
                .unwrap_or_default(),
            sold_to: r.get("sold_to"),
            sold_date: r.get::<_, Option<time::Date>>("sold_date").map(Day),
            sold_price: money_from(r, "sold_price_minor", "sold_price_currency")?,
            sold_notes: r.get("sold_notes"),
            asset_id: r
                .get::<_, Option<i64>>("asset_id")
                .and_then(AssetId::from_i64),
        },
        version: r.get("version"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
        deleted_at: r.get("deleted_at"),
    })
}

/// Executes a statement prepared once per connection.
async fn exec(
    tx: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, tokio_postgres::Error> {
    let statement = tx.prepare_cached(sql).await?;
    tx.execute(&statement, params).await
}

/// The results of two statements pipelined in one transaction: both values, or the error
/// that says why it failed. Once one statement fails, those after it only report that the
/// transaction was aborted, and they may finish first.
pub(crate) fn settle<A, B>(a: StoreResult<A>, b: StoreResult<B>) -> StoreResult<(A, B)> {
    let aborted = |e: &StoreError| match e {
        StoreError::Other(e) => e
            .downcast_ref::<tokio_postgres::Error>()
            .and_then(|e| e.code())
            .is_some_and(|c| *c == SqlState::IN_FAILED_SQL_TRANSACTION),
        _ => false,
    };
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
        (Err(a), Err(b)) if aborted(&a) && !aborted(&b) => Err(b),
        (Err(a), Err(_)) => Err(a),
    }
}

/// How `write_item` sends an item's tag statements.
#[derive(Clone, Copy, PartialEq)]
enum Tags {
    /// After the item's own statement, and only when it wrote the row.
    IfWritten,
    /// In the same round trip as the item's statement, for a caller that ends the
    /// transaction without committing when an update finds the row changed (`Stale`).
    Pipelined,
}

/// Writes an item: a new one (`expected_version` `None`), or a stored one if its version
/// is still `expected_version`. When `claim`, its asset id is settled in the same round
/// trip: none gets the household's next (the counter bumped before the insert reads it);
/// the one it has is checked free and moves the counter past it (else it is written as it
/// is). Every such write changes the household's row, so two of them in one household
/// never both commit on what the other has not seen (`lock_household`). How many rows it
/// wrote (0: stale) and the asset id stored.
async fn write_item(
    tx: &impl GenericClient,
    item: &ItemRow,
    expected_version: Option<i64>,
    tag_writes: Tags,
    claim: bool,
) -> StoreResult<(u64, Option<AssetId>)> {
    let f = &item.fields;
    let asset_param: Option<i64> = f.asset_id.map(AssetId::as_i64);
    let id = item.id.as_uuid();
    let hid = item.household_id.as_uuid();
    let location = f.location_id.map(|l| l.as_uuid());
    let tags = serde_json::to_string(&f.tags).map_err(anyhow::Error::from)?;
    let custom = serde_json::to_string(&f.custom_fields).map_err(anyhow::Error::from)?;
    let purchase_date = f.purchase_date.map(|d| d.0);
    let warranty = f.warranty_expires.map(|d| d.0);
    let pp_amount = f.purchase_price.as_ref().map(|m| m.amount_minor);
    let pp_currency = f.purchase_price.as_ref().map(|m| m.currency.as_str());
    let ev_amount = f.estimated_value.as_ref().map(|m| m.amount_minor);
    let ev_currency = f.estimated_value.as_ref().map(|m| m.currency.as_str());
    let sold_date = f.sold_date.map(|d| d.0);
    let sp_amount = f.sold_price.as_ref().map(|m| m.amount_minor);
    let sp_currency = f.sold_price.as_ref().map(|m| m.currency.as_str());
    let name_lower = f.name.to_lowercase();
    let search = item.search_text();
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![
        &id,
        &hid,
        &f.name,
        &f.description,
        &location,
        &f.quantity,
        &tags,
        &f.brand,
        &f.model,
        &f.serial_number,
        &f.barcode,
        &purchase_date,
        &pp_amount,
        &pp_currency,
        &f.purchased_from,
        &ev_amount,
        &ev_currency,
        &warranty,
        &f.notes,
        &custom,
        &item.version,
        &item.created_at,
        &item.updated_at,
        &item.deleted_at,
        &name_lower,
        &search,
        &f.insured,
        &f.lifetime_warranty,
        &f.sold_to,
        &sold_date,
        &sp_amount,
        &sp_currency,
        &f.sold_notes,
        &asset_param,
    ];
    let sql = match &expected_version {
        None => {
            "INSERT INTO items (id, household_id, name, description, location_id, quantity, tags, brand, \
             model, serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
             purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
             custom_fields, version, created_at, updated_at, deleted_at, name_lower, search_text, \
             insured, lifetime_warranty, sold_to, sold_date, sold_price_minor, sold_price_currency, \
             sold_notes, asset_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33, \
             coalesce($34::bigint, (SELECT next_asset_id - 1 FROM households WHERE id = $2), \
               (SELECT coalesce(max(asset_id), 0) + 1 FROM (SELECT asset_id FROM items WHERE household_id = $2 \
                UNION ALL SELECT asset_id FROM locations WHERE household_id = $2) AS used))) \
             RETURNING asset_id"
        }
        Some(expected) => {
            params.push(expected);
            "UPDATE items SET name = $3, description = $4, location_id = $5, quantity = $6, tags = $7, \
             brand = $8, model = $9, serial_number = $10, barcode = $11, purchase_date = $12, \
             purchase_price_minor = $13, purchase_price_currency = $14, purchased_from = $15, \
             estimated_value_minor = $16, estimated_value_currency = $17, warranty_expires = $18, \
             notes = $19, custom_fields = $20, version = $21, created_at = $22, updated_at = $23, \
             deleted_at = $24, name_lower = $25, search_text = $26, insured = $27, \
             lifetime_warranty = $28, sold_to = $29, sold_date = $30, sold_price_minor = $31, \
             sold_price_currency = $32, sold_notes = $33, asset_id = coalesce($34, asset_id) \
             WHERE id = $1 AND household_id = $2 AND version = $35 RETURNING asset_id"
        }
    };
    let lower: Vec<String> = f.tags.iter().map(|t| t.to_lowercase()).collect();
    let trashed = item.deleted_at.is_some();
    let tag_params: [&(dyn ToSql + Sync); 6] = [&id, &hid, &lower, &f.tags, &trashed, &ev_amount];
    let id_param: [&(dyn ToSql + Sync); 1] = [&id];
    // Every statement prepared first (once per connection), so that the pipelined ones go
    // out in this order.
    let number = match (claim, f.asset_id) {
        (false, _) => None,
        (true, None) => Some((NEXT_ASSET_ID, None)),
        (true, Some(wanted)) => Some((CLAIM_ASSET_ID, Some(wanted))),
    };
    let counter = match number {
        Some((sql, _)) => Some(tx.prepare_cached(sql).await.map_err(pg)?),
        None => None,
    };
    let holder = match number {
        Some((_, Some(_))) => Some(tx.prepare_cached(ASSET_HOLDER).await.map_err(pg)?),
        _ => None,
    };
    let main = tx.prepare_cached(sql).await.map_err(pg)?;
    let delete = tx.prepare_cached(DELETE_TAGS).await.map_err(pg)?;
    let insert = tx.prepare_cached(INSERT_TAGS).await.map_err(pg)?;
    let own = [&hid as &(dyn ToSql + Sync), &asset_param, &id];
    let write_tags = async || {
        tx.execute(&delete, &id_param).await?;
        if f.tags.is_empty() {
            return Ok(0);
        }
        tx.execute(&insert, &tag_params).await
    };
    let stored = |rows: Vec<Row>| -> (u64, Option<AssetId>) {
        let asset_id = rows
            .first()
            .and_then(|r| r.get::<_, Option<i64>>(0))
            .and_then(AssetId::from_i64);
        (rows.len() as u64, asset_id)
    };
    let counter_params = match number {
        Some((_, Some(_))) => &own[..2],
        _ => &own[..1],
    };
    // The counter first, then the check of the number asked for, the row and its tags.
    let (counted, held, written, deleted, inserted) = tokio::join!(
        async {
            match &counter {
                Some(stmt) => tx.execute(stmt, counter_params).await.map(|_| ()),
                None => Ok(()),
            }
        },
        async {
            match &holder {
                Some(stmt) => tx.query_opt(stmt, &own).await,
                None => Ok(None),
            }
        },
        async {
            let written = stored(tx.query(&main, &params).await?);
            if tag_writes == Tags::IfWritten && written.0 == 1 {
                write_tags().await?;
            }
            Ok(written)
        },
        async {
            if tag_writes == Tags::IfWritten {
                return Ok(0);
            }
            tx.execute(&delete, &id_param).await
        },
        async {
            if tag_writes == Tags::IfWritten || f.tags.is_empty() {
                return Ok(0);
            }
            tx.execute(&insert, &tag_params).await
        },
    );
    if let (Ok(Some(row)), Some((_, Some(wanted)))) = (&held, number) {
        return Err(asset_id_taken(wanted, asset_kind(row.get(0)), row.get(1)));
    }
    let before = settle(counted.map_err(pg), held.map_err(pg));
    let tags = settle(deleted.map_err(pg), inserted.map_err(pg));
    let after = settle(written.map_err(pg), tags);
    Ok(settle(before, after)?.1.0)
}

/// Takes the household's next asset id: the insert after it reads `next_asset_id - 1`.
const NEXT_ASSET_ID: &str =
    "UPDATE households SET next_asset_id = coalesce(next_asset_id, 1) + 1 WHERE id = $1";
/// Moves the household's counter past a number claimed.
const CLAIM_ASSET_ID: &str = "UPDATE households SET next_asset_id = \
     GREATEST(coalesce(next_asset_id, 1), $2::bigint + 1) WHERE id = $1";
/// What holds asset id `$2` in household `$1`, other than `$3`.
const ASSET_HOLDER: &str = "SELECT 'item', name FROM items \
     WHERE household_id = $1 AND asset_id = $2 AND id <> $3 \
     UNION ALL SELECT 'location', name FROM locations \
     WHERE household_id = $1 AND asset_id = $2 AND id <> $3 LIMIT 1";

fn asset_kind(raw: &str) -> AssetKind {
    if raw == "item" {
        AssetKind::Item
    } else {
        AssetKind::Location
    }
}

const DELETE_TAGS: &str = "DELETE FROM item_tags WHERE item_id = $1";
const INSERT_TAGS: &str = "INSERT INTO item_tags (item_id, name_lower, household_id, name, trashed, value_minor) \
     SELECT $1, l, $2, n, $5, $6 FROM unnest($3::text[], $4::text[]) AS t(l, n)";

async fn write_activity(tx: &impl GenericClient, a: &ActivityRow) -> StoreResult<()> {
    let fields = serde_json::to_string(&a.fields).map_err(anyhow::Error::from)?;
    exec(
        tx,
        "INSERT INTO activity (id, household_id, item_id, actor_id, action, fields, at, via_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            &a.id.as_uuid(),
            &a.household_id.as_uuid(),
            &a.item_id.as_uuid(),
            &a.actor_id.as_uuid(),
            &action_str(a.action),
            &fields,
            &a.at,
            &a.via_token,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

async fn insert_household(
    tx: &impl GenericClient,
    h: &HouseholdRow,
    owner: UserId,
) -> StoreResult<()> {
    // Re-running after a retried commit must not fail: the id is the application's.
    tx.execute(
        "INSERT INTO households (id, name, currency, version, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (id) DO NOTHING",
        &[&h.id.as_uuid(), &h.name, &h.currency.as_str(), &h.version, &h.created_at],
    )
    .await
    .map_err(pg)?;
    tx.execute(
        "INSERT INTO members (household_id, user_id, role, created_at) VALUES ($1, $2, 'owner', $3) \
         ON CONFLICT (household_id, user_id) DO NOTHING",
        &[&h.id.as_uuid(), &owner.as_uuid(), &h.created_at],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    async fn ping(&self) -> StoreResult<()> {
        let client = self.client().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(())
    }

    fn round_trips(&self) -> u64 {
        self.trips.load(Ordering::Relaxed)
    }
}

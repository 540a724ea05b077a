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
    Activity, Actor, Currency, Day, HouseholdId, ItemFields, ItemId, LocationId, Money, Role,
    TagCount, User, UserId,
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

impl PgStore {
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let config: tokio_postgres::Config = url.parse().context("parsing DATABASE_URL")?;
        let manager = Manager::from_config(
            config,
            tokio_postgres::NoTls,
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
                .all(|m| applied.iter().any(|a| a == m.version))
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
        version: r.get("version"),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    }
}

const ITEM_COLUMNS: &str = "id, household_id, name, description, location_id, quantity, tags, brand, model, \
     serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
     purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
     custom_fields, version, created_at, updated_at, deleted_at";

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

async fn write_item(
    tx: &impl GenericClient,
    item: &ItemRow,
    expected_version: Option<i64>,
) -> StoreResult<u64> {
    let f = &item.fields;
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
    ];
    let changed = match &expected_version {
        None => {
            exec(tx,
                "INSERT INTO items (id, household_id, name, description, location_id, quantity, tags, brand, \
                 model, serial_number, barcode, purchase_date, purchase_price_minor, purchase_price_currency, \
                 purchased_from, estimated_value_minor, estimated_value_currency, warranty_expires, notes, \
                 custom_fields, version, created_at, updated_at, deleted_at, name_lower, search_text) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
                 $19, $20, $21, $22, $23, $24, $25, $26)",
                &params,
            )
            .await
            .map_err(pg)?
        }
        Some(expected) => {
            params.push(expected);
            exec(tx,
                "UPDATE items SET name = $3, description = $4, location_id = $5, quantity = $6, tags = $7, \
                 brand = $8, model = $9, serial_number = $10, barcode = $11, purchase_date = $12, \
                 purchase_price_minor = $13, purchase_price_currency = $14, purchased_from = $15, \
                 estimated_value_minor = $16, estimated_value_currency = $17, warranty_expires = $18, \
                 notes = $19, custom_fields = $20, version = $21, created_at = $22, updated_at = $23, \
                 deleted_at = $24, name_lower = $25, search_text = $26 \
                 WHERE id = $1 AND household_id = $2 AND version = $27",
                &params,
            )
            .await
            .map_err(pg)?
        }
    };
    if changed == 1 {
        exec(tx, "DELETE FROM item_tags WHERE item_id = $1", &[&id])
            .await
            .map_err(pg)?;
        if !f.tags.is_empty() {
            let lower: Vec<String> = f.tags.iter().map(|t| t.to_lowercase()).collect();
            let trashed = item.deleted_at.is_some();
            exec(
                tx,
                "INSERT INTO item_tags (item_id, name_lower, household_id, name, trashed, value_minor) \
                 SELECT $1, l, $2, n, $5, $6 FROM unnest($3::text[], $4::text[]) AS t(l, n)",
                &[&id, &hid, &lower, &f.tags, &trashed, &ev_amount],
            )
            .await
            .map_err(pg)?;
        }
    }
    Ok(changed)
}

async fn write_activity(tx: &impl GenericClient, a: &ActivityRow) -> StoreResult<()> {
    let fields = serde_json::to_string(&a.fields).map_err(anyhow::Error::from)?;
    exec(tx,
        "INSERT INTO activity (id, household_id, item_id, actor_id, action, fields, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &a.id.as_uuid(),
            &a.household_id.as_uuid(),
            &a.item_id.as_uuid(),
            &a.actor_id.as_uuid(),
            &action_str(a.action),
            &fields,
            &a.at,
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

    async fn create_user(&self, user: &UserRow, household: &HouseholdRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let taken = tx
                .query_opt("SELECT 1 FROM users WHERE email = $1", &[&user.user.email])
                .await
                .map_err(pg)?
                .is_some();
            if taken {
                return Err(StoreError::Conflict("email taken".into()));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &user.user.id.as_uuid(),
                    &user.user.email,
                    &user.user.name,
                    &user.password_hash,
                    &user.user.created_at,
                ],
            )
            .await
            .map_err(pg)?;
            insert_household(&tx, household, user.user.id).await
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT id, email, name, created_at, password_hash FROM users WHERE email = $1",
                &[&email],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| UserRow {
            user: user_from(&r),
            password_hash: r.get("password_hash"),
        }))
    }

    async fn user_by_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<User>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT u.id, u.email, u.name, u.created_at FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.provider = $1 AND i.subject = $2",
                &[&provider, &subject],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| user_from(&r)))
    }

    async fn link_identity(&self, provider: &str, subject: &str, user: UserId) -> StoreResult<()> {
        let at = now();
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                &[&provider, &subject, &user.as_uuid(), &at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_hash) DO NOTHING",
                &[&s.token_hash, &s.user_id.as_uuid(), &s.created_at, &s.expires_at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, u.email, u.name, u.created_at AS user_created_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
                &[&token_hash, &now],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| {
            let user_id: UserId = r.get::<_, Uuid>("user_id").into();
            (
                SessionRow {
                    token_hash: r.get("token_hash"),
                    user_id,
                    created_at: r.get("created_at"),
                    expires_at: r.get("expires_at"),
                },
                User {
                    id: user_id,
                    email: r.get("email"),
                    name: r.get("name"),
                    created_at: r.get("user_created_at"),
                },
            )
        }))
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = $2 WHERE token_hash = $1",
                &[&token_hash, &expires_at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    async fn record_login_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<()> {
        let id = Uuid::now_v7();
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                &[&id, &key, &at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn login_failures_since(&self, key: &str, since: OffsetDateTime) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at > $2",
                &[&key, &since],
            )
            .await
            .map_err(pg)?;
        Ok(row.get(0))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = $1", &[&key])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_household(&self, household: &HouseholdRow, owner: UserId) -> StoreResult<()> {
        write_tx!(self, |tx| { insert_household(&tx, household, owner).await })
    }

    async fn members(&self, household: HouseholdId) -> StoreResult<Vec<MemberRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT u.id, u.email, u.name, u.created_at, m.role, m.created_at AS joined_at \
                 FROM members m JOIN users u ON u.id = m.user_id \
                 WHERE m.household_id = $1 ORDER BY m.created_at, u.id",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    user: user_from(r),
                    role: role_from(r)?,
                    joined_at: r.get("joined_at"),
                })
            })
            .collect()
    }

    async fn change_role(
        &self,
        household: HouseholdId,
        user: UserId,
        role: Role,
    ) -> StoreResult<()> {
        let (hid, uid) = (household.as_uuid(), user.as_uuid());
        write_tx!(self, |tx| {
            let current = member_role(&tx, hid, uid).await?;
            if current == Role::Owner && role != Role::Owner && owners(&tx, hid).await? <= 1 {
                return Err(StoreError::Conflict(
                    "the household needs an owner; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "UPDATE members SET role = $3 WHERE household_id = $1 AND user_id = $2",
                &[&hid, &uid, &role.as_str()],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn remove_member(&self, household: HouseholdId, user: UserId) -> StoreResult<()> {
        let (hid, uid) = (household.as_uuid(), user.as_uuid());
        write_tx!(self, |tx| {
            if member_role(&tx, hid, uid).await? == Role::Owner && owners(&tx, hid).await? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner can't leave; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "DELETE FROM members WHERE household_id = $1 AND user_id = $2",
                &[&hid, &uid],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_invite(&self, i: &InviteRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO invites (id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                &[
                    &i.id.as_uuid(),
                    &i.household_id.as_uuid(),
                    &i.code_hash,
                    &i.role.as_str(),
                    &i.created_by.as_uuid(),
                    &i.created_at,
                    &i.expires_at,
                    &i.max_uses,
                    &i.uses,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn invites(&self, household: HouseholdId) -> StoreResult<Vec<InviteRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                 FROM invites WHERE household_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(invite_from).collect()
    }

    async fn revoke_invite(
        &self,
        household: HouseholdId,
        id: shared::InviteId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE invites SET revoked_at = $3 WHERE household_id = $1 AND id = $2 AND revoked_at IS NULL",
                    &[&household.as_uuid(), &id.as_uuid(), &at],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)
        })
    }

    async fn invite_by_code(
        &self,
        code_hash: &[u8],
    ) -> StoreResult<Option<(InviteRow, String, String)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT i.id, i.household_id, i.code_hash, i.role, i.created_by, i.created_at, i.expires_at, \
                 i.max_uses, i.uses, h.name AS household_name, coalesce(u.name, '') AS invited_by \
                 FROM invites i JOIN households h ON h.id = i.household_id LEFT JOIN users u ON u.id = i.created_by \
                 WHERE i.code_hash = $1 AND i.revoked_at IS NULL",
                &[&code_hash],
            )
            .await
            .map_err(pg)?;
        row.map(|r| {
            Ok((
                invite_from(&r)?,
                r.get("household_name"),
                r.get("invited_by"),
            ))
        })
        .transpose()
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<HouseholdId> {
        let uid = user.as_uuid();
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE code_hash = $1 AND revoked_at IS NULL",
                    &[&code_hash],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?;
            let invite = invite_from(&row)?;
            let hid = invite.household_id.as_uuid();
            let member = tx
                .query_opt(
                    "SELECT 1 FROM members WHERE household_id = $1 AND user_id = $2",
                    &[&hid, &uid],
                )
                .await
                .map_err(pg)?
                .is_some();
            if member {
                return Ok(invite.household_id);
            }
            check_invite(&invite, at)?;
            tx.execute(
                "INSERT INTO members (household_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                &[&hid, &uid, &invite.role.as_str(), &at],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "UPDATE invites SET uses = uses + 1 WHERE id = $1",
                &[&invite.id.as_uuid()],
            )
            .await
            .map_err(pg)?;
            Ok(invite.household_id)
        })
    }

    async fn households_of(&self, user: UserId) -> StoreResult<Vec<(HouseholdRow, Role)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.user_id = $1 ORDER BY h.created_at, h.id",
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| Ok((household_from(r)?, role_from(r)?)))
            .collect()
    }

    async fn membership(
        &self,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.household_id = $1 AND m.user_id = $2",
                &[&household.as_uuid(), &user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        row.map(|r| Ok((household_from(&r)?, role_from(&r)?)))
            .transpose()
    }

    async fn update_household(&self, h: &HouseholdRow, expected_version: i64) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE households SET name = $2, currency = $3, version = $4 WHERE id = $1 AND version = $5",
                    &[&h.id.as_uuid(), &h.name, &h.currency.as_str(), &h.version, &expected_version],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::Stale)
        })
    }

    async fn locations(&self, household: HouseholdId) -> StoreResult<Vec<LocationRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, household_id, parent_id, name, description, version, created_at, updated_at \
                 FROM locations WHERE household_id = $1",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(location_from).collect())
    }

    async fn location_item_counts(
        &self,
        household: HouseholdId,
    ) -> StoreResult<HashMap<LocationId, i64>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT location_id, count(*) FROM items \
                 WHERE household_id = $1 AND deleted_at IS NULL AND location_id IS NOT NULL \
                 GROUP BY location_id",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (LocationId::from(r.get::<_, Uuid>(0)), r.get(1)))
            .collect())
    }

    async fn location_owner(&self, id: LocationId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT household_id FROM locations WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_location(&self, l: &LocationRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO locations (id, household_id, parent_id, name, description, version, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                &[
                    &l.id.as_uuid(),
                    &l.household_id.as_uuid(),
                    &l.parent_id.map(|p| p.as_uuid()),
                    &l.name,
                    &l.description,
                    &l.version,
                    &l.created_at,
                    &l.updated_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn update_location(&self, l: &LocationRow, expected_version: i64) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE locations SET parent_id = $3, name = $4, description = $5, version = $6, updated_at = $7 \
                     WHERE id = $1 AND household_id = $2 AND version = $8",
                    &[
                        &l.id.as_uuid(),
                        &l.household_id.as_uuid(),
                        &l.parent_id.map(|p| p.as_uuid()),
                        &l.name,
                        &l.description,
                        &l.version,
                        &l.updated_at,
                        &expected_version,
                    ],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::Stale)
        })
    }

    async fn delete_location(&self, household: HouseholdId, id: LocationId) -> StoreResult<()> {
        let (hid, lid) = (household.as_uuid(), id.as_uuid());
        write_tx!(self, |tx| {
            let children: i64 = tx
                .query_one(
                    "SELECT count(*) FROM locations WHERE household_id = $1 AND parent_id = $2",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?
                .get(0);
            let items: i64 = tx
                .query_one(
                    "SELECT count(*) FROM items WHERE household_id = $1 AND location_id = $2 AND deleted_at IS NULL",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?
                .get(0);
            if children > 0 || items > 0 {
                return Err(StoreError::Conflict(describe_contents(items, children)));
            }
            let deleted = tx
                .execute(
                    "DELETE FROM locations WHERE household_id = $1 AND id = $2",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?;
            exactly_one(deleted, StoreError::NotFound)
        })
    }

    async fn item_owner(&self, id: ItemId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT household_id FROM items WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_item(&self, item: &ItemRow, activity: &ActivityRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            write_item(&tx, item, None).await?;
            write_activity(&tx, activity).await
        })
    }

    async fn import_items(&self, items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()> {
        check_batch(items, activities)?;
        write_tx!(self, |tx| {
            for item in items {
                write_item(&tx, item, None).await?;
            }
            for activity in activities {
                write_activity(&tx, activity).await?;
            }
            Ok(())
        })
    }

    async fn item(&self, household: HouseholdId, id: ItemId) -> StoreResult<Option<ItemRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 AND id = $2"),
                &[&household.as_uuid(), &id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        row.as_ref().map(item_from).transpose()
    }

    async fn update_item(
        &self,
        item: &ItemRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        if item.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        write_tx!(self, |tx| {
            if write_item(&tx, item, Some(expected_version)).await? == 0 {
                return Err(StoreError::Stale);
            }
            write_activity(&tx, activity).await
        })
    }

    async fn list_items(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<ItemRow>> {
        let hid = household.as_uuid();
        let mut sql = format!("SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1");
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(hid)];
        sql.push_str(if q.trashed {
            " AND deleted_at IS NOT NULL"
        } else {
            " AND deleted_at IS NULL"
        });
        if let Some(search) = &q.search {
            params.push(Box::new(search.clone()));
            sql.push_str(&format!(" AND strpos(search_text, ${}) > 0", params.len()));
        }
        if q.unplaced {
            sql.push_str(" AND location_id IS NULL");
        } else if let Some(ids) = &q.location_ids {
            let ids: Vec<Uuid> = ids.iter().map(LocationId::as_uuid).collect();
            params.push(Box::new(ids));
            sql.push_str(&format!(" AND location_id = ANY(${})", params.len()));
        }
        if let Some(tag) = &q.tag {
            params.push(Box::new(tag.clone()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = items.id AND t.name_lower = ${})",
                params.len()
            ));
        }
        let (column, desc) = sort_column(q.sort);
        let collate = if q.sort == ItemSort::Name {
            " COLLATE \"C\""
        } else {
            ""
        };
        let cmp = if desc { "<" } else { ">" };
        if let Some(cursor) = &q.after {
            match cursor.text_key() {
                Some(key) => params.push(Box::new(key.to_string())),
                None => params.push(Box::new(
                    cursor.time_key().unwrap_or(OffsetDateTime::UNIX_EPOCH),
                )),
            }
            let key = params.len();
            params.push(Box::new(cursor.id.as_uuid()));
            let id = params.len();
            sql.push_str(&format!(
                " AND ({column}{collate} {cmp} ${key} OR ({column} = ${key} AND id {cmp} ${id}))"
            ));
        }
        let dir = if desc { "DESC" } else { "ASC" };
        sql.push_str(&format!(
            " ORDER BY {column}{collate} {dir}, id {dir} LIMIT {}",
            q.limit
        ));
        let client = self.client().await?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
        let rows = client.query(&stmt, &refs).await.map_err(pg)?;
        rows.iter().map(item_from).collect()
    }

    async fn search_entries(
        &self,
        household: HouseholdId,
        since: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<SearchEntry>> {
        let client = self.client().await?;
        let since = since.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let rows = client
            .query(
                "SELECT id, search_text, name_lower, location_id, tags, created_at, updated_at, deleted_at \
                 FROM items WHERE household_id = $1 AND updated_at > $2",
                &[&household.as_uuid(), &since],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                SearchEntry::new(
                    r.get::<_, Uuid>(0).into(),
                    r.get(1),
                    r.get(2),
                    r.get::<_, Option<Uuid>>(3).map(Into::into),
                    r.get(4),
                    (r.get(5), r.get(6), r.get(7)),
                )
            })
            .collect()
    }

    async fn items_by_ids(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<ItemRow>> {
        let client = self.client().await?;
        let ids: Vec<Uuid> = ids.iter().map(ItemId::as_uuid).collect();
        let rows = client
            .query(
                &format!(
                    "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 AND id = ANY($2)"
                ),
                &[&household.as_uuid(), &ids],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(item_from).collect()
    }

    async fn purge_trash(
        &self,
        household: HouseholdId,
        only: Option<ItemId>,
        limit: usize,
    ) -> StoreResult<Purged> {
        let hid = household.as_uuid();
        let only = only.map(|i| i.as_uuid());
        // Bounded by `limit`, which callers keep well under DSQL's 3,000 rows a transaction.
        let limit = limit as i64;
        write_tx!(self, |tx| {
            let ids: Vec<Uuid> = tx
                .query(
                    "SELECT id FROM items WHERE household_id = $1 AND deleted_at IS NOT NULL \
                     AND ($2::uuid IS NULL OR id = $2) LIMIT $3",
                    &[&hid, &only, &limit],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut attachments = Vec::new();
            if !ids.is_empty() {
                attachments = tx
                    .query(
                        "DELETE FROM attachments WHERE household_id = $1 AND item_id = ANY($2) \
                         RETURNING id",
                        &[&hid, &ids],
                    )
                    .await
                    .map_err(pg)?
                    .iter()
                    .map(|r| AttachmentId::from(r.get::<_, Uuid>(0)))
                    .collect();
                tx.execute("DELETE FROM item_tags WHERE item_id = ANY($1)", &[&ids])
                    .await
                    .map_err(pg)?;
                tx.execute(
                    "DELETE FROM activity WHERE household_id = $1 AND item_id = ANY($2)",
                    &[&hid, &ids],
                )
                .await
                .map_err(pg)?;
                tx.execute(
                    "DELETE FROM items WHERE household_id = $1 AND id = ANY($2)",
                    &[&hid, &ids],
                )
                .await
                .map_err(pg)?;
            }
            Ok(Purged {
                items: ids.len(),
                attachments,
            })
        })
    }

    async fn tags(&self, household: HouseholdId) -> StoreResult<Vec<TagCount>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT min(name), count(*) FROM item_tags WHERE household_id = $1 AND NOT trashed \
                 GROUP BY name_lower ORDER BY name_lower COLLATE \"C\"",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| TagCount {
                name: r.get(0),
                item_count: r.get(1),
            })
            .collect())
    }

    async fn stats(&self, household: HouseholdId) -> StoreResult<StatsRow> {
        let client = self.client().await?;
        let hid = household.as_uuid();
        let totals = client
            .query_one(
                "SELECT count(*) FILTER (WHERE deleted_at IS NULL), \
                 coalesce(sum(quantity) FILTER (WHERE deleted_at IS NULL), 0)::bigint, \
                 coalesce(sum(estimated_value_minor) FILTER (WHERE deleted_at IS NULL), 0)::bigint, \
                 count(*) FILTER (WHERE deleted_at IS NOT NULL) \
                 FROM items WHERE household_id = $1",
                &[&hid],
            )
            .await
            .map_err(pg)?;
        let by_location = client
            .query(
                "SELECT location_id, count(*), coalesce(sum(estimated_value_minor), 0)::bigint FROM items \
                 WHERE household_id = $1 AND deleted_at IS NULL GROUP BY location_id",
                &[&hid],
            )
            .await
            .map_err(pg)?
            .iter()
            .map(|r| (r.get::<_, Option<Uuid>>(0).map(Into::into), r.get(1), r.get(2)))
            .collect();
        let by_tag = client
            .query(
                "SELECT min(name), count(*), coalesce(sum(value_minor), 0)::bigint FROM item_tags \
                 WHERE household_id = $1 AND NOT trashed GROUP BY name_lower",
                &[&hid],
            )
            .await
            .map_err(pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let files = client
            .query_one(
                "SELECT count(*), coalesce(sum(stored_bytes), 0)::bigint FROM attachments \
                 WHERE household_id = $1 AND status = 'ready'",
                &[&hid],
            )
            .await
            .map_err(pg)?;
        Ok(StatsRow {
            item_count: totals.get(0),
            total_quantity: totals.get(1),
            total_value_minor: totals.get(2),
            trashed_count: totals.get(3),
            by_location,
            by_tag,
            attachment_count: files.get(0),
            storage_bytes: files.get(1),
        })
    }

    async fn history(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<Activity>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT a.id, a.action, a.actor_id, coalesce(u.name, '') AS actor_name, a.fields, a.at \
                 FROM activity a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.household_id = $1 AND a.item_id = $2 ORDER BY a.at DESC, a.id DESC",
                &[&household.as_uuid(), &item.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(Activity {
                    id: r.get::<_, Uuid>("id").into(),
                    action: parse_action(r.get("action"))?,
                    actor: Actor {
                        id: r.get::<_, Uuid>("actor_id").into(),
                        name: r.get("actor_name"),
                    },
                    fields: serde_json::from_str(r.get("fields")).map_err(anyhow::Error::from)?,
                    at: r.get("at"),
                })
            })
            .collect()
    }

    async fn attachment_owner(&self, id: AttachmentId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT household_id FROM attachments WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?
            .map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_attachment(&self, a: &AttachmentRow) -> StoreResult<()> {
        let width = a.width.and_then(|w| i32::try_from(w).ok());
        let height = a.height.and_then(|h| i32::try_from(h).ok());
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    &format!(
                        "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                         ON CONFLICT (id) DO NOTHING"
                    ),
                    &[
                        &a.id.as_uuid(),
                        &a.household_id.as_uuid(),
                        &a.item_id.as_uuid(),
                        &a.kind.as_str(),
                        &a.filename,
                        &a.content_type,
                        &a.size,
                        &a.stored_bytes,
                        &status_str(a.status),
                        &width,
                        &height,
                        &a.primary,
                        &a.created_by.as_uuid(),
                        &a.created_at,
                    ],
                )
                .await
                .map_err(pg)?;
            exactly_one(
                changed,
                StoreError::Conflict("an attachment with this id exists".into()),
            )
        })
    }

    async fn attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
    ) -> StoreResult<Option<AttachmentRow>> {
        let client = self.client().await?;
        attachment_in(&client, household, id).await
    }

    async fn attachments(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<AttachmentRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE household_id = $1 AND item_id = $2 AND status = 'ready' \
                     ORDER BY is_primary DESC, kind = 'photo' DESC, created_at, id"
                ),
                &[&household.as_uuid(), &item.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(attachment_from).collect()
    }

    async fn complete_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let width = a.width.and_then(|w| i32::try_from(w).ok());
        let height = a.height.and_then(|h| i32::try_from(h).ok());
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'ready', size = $3, stored_bytes = $4, \
                     content_type = $5, width = $6, height = $7 \
                     WHERE household_id = $1 AND id = $2 AND status = 'pending'",
                    &[
                        &a.household_id.as_uuid(),
                        &a.id.as_uuid(),
                        &a.size,
                        &a.stored_bytes,
                        &a.content_type,
                        &width,
                        &height,
                    ],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)?;
            ensure_primary(&tx, a.household_id, a.item_id).await?;
            attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn update_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let (hid, id, item) = (
            a.household_id.as_uuid(),
            a.id.as_uuid(),
            a.item_id.as_uuid(),
        );
        write_tx!(self, |tx| {
            let before = attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if a.primary {
                tx.execute(
                    "UPDATE attachments SET is_primary = false \
                     WHERE household_id = $1 AND item_id = $2 AND id <> $3 AND is_primary",
                    &[&hid, &item, &id],
                )
                .await
                .map_err(pg)?;
            }
            let changed = tx
                .execute(
                    "UPDATE attachments SET kind = $3, filename = $4, is_primary = $5, item_id = $6 \
                     WHERE household_id = $1 AND id = $2",
                    &[&hid, &id, &a.kind.as_str(), &a.filename, &a.primary, &item],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)?;
            ensure_primary(&tx, a.household_id, a.item_id).await?;
            if before.item_id != a.item_id {
                ensure_primary(&tx, a.household_id, before.item_id).await?;
            }
            attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn delete_attachment(&self, household: HouseholdId, id: AttachmentId) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let item: Uuid = tx
                .query_opt(
                    "DELETE FROM attachments WHERE household_id = $1 AND id = $2 RETURNING item_id",
                    &[&household.as_uuid(), &id.as_uuid()],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?
                .get(0);
            ensure_primary(&tx, household, item.into()).await
        })
    }

    async fn primary_photos(
        &self,
        household: HouseholdId,
        items: &[ItemId],
    ) -> StoreResult<HashMap<ItemId, AttachmentId>> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<Uuid> = items.iter().map(ItemId::as_uuid).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT item_id, id FROM attachments WHERE household_id = $1 \
                 AND item_id = ANY($2) AND is_primary",
                &[&household.as_uuid(), &ids],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, Uuid>(0).into(), r.get::<_, Uuid>(1).into()))
            .collect())
    }

    async fn count_recognitions(
        &self,
        household: HouseholdId,
        day: &str,
        n: i64,
    ) -> StoreResult<i64> {
        write_tx!(self, |tx| {
            let row = tx
                .query_one(
                    "INSERT INTO recognitions (household_id, day, count) VALUES ($1, $2, $3) \
                     ON CONFLICT (household_id, day) \
                     DO UPDATE SET count = recognitions.count + excluded.count RETURNING count",
                    &[&household.as_uuid(), &day, &n],
                )
                .await
                .map_err(pg)?;
            Ok(row.get(0))
        })
    }
}

//! Storage behind one trait, with an embedded SQLite backend and a PostgreSQL backend that
//! also runs on Aurora DSQL. Each backend owns its SQL and its migrations; both pass the same
//! conformance suite.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use shared::{
    Action, Activity, ActivityId, AssetId, AttachmentId, AttachmentKind, AttachmentStatus,
    Currency, HouseholdId, ItemFields, ItemId, JobId, JobKind, JobStatus, LocationId, Role,
    TagCount, TokenId, TokenScope, User, UserId,
};
use time::OffsetDateTime;
use uuid::Uuid;

pub mod assets;
pub mod dsql;
pub mod email_confirmations;
pub mod maintenance;
pub mod migrate;
pub mod passkeys;
pub mod postgres;
pub mod reminder_settings;
pub mod reminders;
pub mod security;
pub mod share_links;
pub mod sqlite;
pub mod tree;

pub(crate) use assets::claims_asset_id;
pub use assets::{AssetRow, AssetStore, asset_id_taken, backfill_asset_ids, stored_asset_id};
pub use email_confirmations::EmailConfirmationStore;
pub use maintenance::{
    EntryRow, MaintenanceStore, ScheduleRow, WarrantyRow, WithItem, refreshed_schedule,
};
pub use passkeys::{CeremonyRow, PasskeyRow, PasskeyStore};
pub use reminder_settings::ReminderSettingsStore;
pub use reminders::{Claimed, DigestRecipient, ReminderStore, UpcomingKind, UpcomingRow};
pub use security::{RecoveryCodeRow, SecurityStore, TwoFactorRow, derived_session_id};
pub use share_links::{ShareLinkListed, ShareLinkRow, ShareLinkStore, ShareUseRow};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or the state of the data forbids the write.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row changed since the version the caller read.
    #[error("the version is stale")]
    Stale,
    /// The current data makes a field's value wrong (checked inside the write, so two
    /// concurrent writes can't both pass).
    #[error("{field} {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// An asset id asked for is another item's or location's; the message says whose.
    #[error("{0}")]
    AssetIdTaken(String),
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Clone, Debug, PartialEq)]
pub struct UserRow {
    pub user: User,
    pub password_hash: Option<String>,
    /// When the email was shown to be the owner's (by Google sign-in); `None` for an
    /// email and password registration, which nobody has confirmed.
    pub email_verified_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SessionRow {
    pub token_hash: Vec<u8>,
    /// Its public id: a UUIDv7 made at sign-in, or for a session made before sessions had
    /// one, `derived_session_id` of its token's hash.
    pub id: Uuid,
    pub user_id: UserId,
    /// The `User-Agent` it signed in with.
    pub user_agent: Option<String>,
    pub created_at: OffsetDateTime,
    /// Its last use, written with its sliding expiry; `None` for a session made before
    /// uses were recorded.
    pub last_used_at: Option<OffsetDateTime>,
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HouseholdRow {
    pub id: HouseholdId,
    pub name: String,
    pub currency: Currency,
    pub version: i64,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct InviteRow {
    pub id: shared::InviteId,
    pub household_id: HouseholdId,
    pub code_hash: Vec<u8>,
    pub role: Role,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub max_uses: Option<i64>,
    pub uses: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MemberRow {
    pub user: User,
    pub role: Role,
    pub joined_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LocationRow {
    pub id: LocationId,
    pub household_id: HouseholdId,
    pub parent_id: Option<LocationId>,
    pub name: String,
    pub description: Option<String>,
    /// `None` only for a location not yet stored: the store gives it the household's next.
    pub asset_id: Option<AssetId>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemRow {
    pub id: ItemId,
    pub household_id: HouseholdId,
    pub fields: ItemFields,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub deleted_at: Option<OffsetDateTime>,
}

/// An item as an answer shows it: its row and its primary photo, read together.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub row: ItemRow,
    pub photo: Option<AttachmentId>,
}

impl ItemRow {
    /// Lower-cased text of every searchable field, one per line.
    pub fn search_text(&self) -> String {
        self.fields.search_text()
    }
}

/// One entry for the activity log, written in the same transaction as the change.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivityRow {
    pub id: ActivityId,
    pub household_id: HouseholdId,
    pub item_id: ItemId,
    pub actor_id: UserId,
    pub action: Action,
    pub fields: Vec<String>,
    pub at: OffsetDateTime,
    /// The name of the API token the change came through.
    pub via_token: Option<String>,
}

impl ActivityRow {
    pub fn new(
        household_id: HouseholdId,
        item_id: ItemId,
        actor_id: UserId,
        action: Action,
        fields: Vec<String>,
        at: OffsetDateTime,
    ) -> Self {
        Self {
            id: ActivityId::new(),
            household_id,
            item_id,
            actor_id,
            action,
            fields,
            at,
            via_token: None,
        }
    }

    /// The same entry, made through the API token named `token` (if any).
    pub fn via(self, token: Option<String>) -> Self {
        Self {
            via_token: token,
            ..self
        }
    }
}

pub fn action_str(action: Action) -> &'static str {
    match action {
        Action::Created => "created",
        Action::Updated => "updated",
        Action::Deleted => "deleted",
        Action::Restored => "restored",
        Action::Maintained => "maintained",
    }
}

pub fn parse_action(raw: &str) -> StoreResult<Action> {
    Ok(match raw {
        "created" => Action::Created,
        "updated" => Action::Updated,
        "deleted" => Action::Deleted,
        "restored" => Action::Restored,
        "maintained" => Action::Maintained,
        other => return Err(anyhow::anyhow!("unknown action {other:?}").into()),
    })
}

/// How a list of items is ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemSort {
    #[default]
    Newest,
    Oldest,
    Name,
    Updated,
    /// The trash: most recently deleted first.
    Deleted,
}

/// The position after the last item of a page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    pub sort: ItemSort,
    /// Microseconds since the epoch for the time sorts, a lower-cased name for `Name`.
    pub key: CursorKey,
    pub id: ItemId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CursorKey {
    Time(i64),
    Text(String),
}

impl Cursor {
    pub fn after(item: &ItemRow, sort: ItemSort) -> Self {
        let key = match sort {
            ItemSort::Newest | ItemSort::Oldest => CursorKey::Time(micros(item.created_at)),
            ItemSort::Updated => CursorKey::Time(micros(item.updated_at)),
            ItemSort::Deleted => {
                CursorKey::Time(micros(item.deleted_at.unwrap_or(item.updated_at)))
            }
            ItemSort::Name => CursorKey::Text(item.fields.name.to_lowercase()),
        };
        Self {
            sort,
            key,
            id: item.id,
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn time_key(&self) -> Option<OffsetDateTime> {
        match self.key {
            CursorKey::Time(micros) => {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1_000).ok()
            }
            CursorKey::Text(_) => None,
        }
    }

    pub fn text_key(&self) -> Option<&str> {
        match &self.key {
            CursorKey::Text(s) => Some(s),
            CursorKey::Time(_) => None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct ItemQuery {
    /// Lower-cased substring to look for in the searchable fields.
    pub search: Option<String>,
    /// Only the item with this asset id.
    pub asset_id: Option<AssetId>,
    /// Only items in one of these locations (a location and everything below it).
    pub location_ids: Option<Vec<LocationId>>,
    /// Only items without a location.
    pub unplaced: bool,
    /// Lower-cased tag.
    pub tag: Option<String>,
    pub trashed: bool,
    pub sort: ItemSort,
    pub after: Option<Cursor>,
    pub limit: usize,
}

/// What the in-memory search index keeps of an item.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchEntry {
    pub id: ItemId,
    /// `ItemRow::search_text`.
    pub text: String,
    pub name_lower: String,
    pub location_id: Option<LocationId>,
    pub tags_lower: Vec<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub trashed: bool,
}

impl SearchEntry {
    pub fn new(
        id: ItemId,
        text: String,
        name_lower: String,
        location_id: Option<LocationId>,
        tags_json: &str,
        times: (OffsetDateTime, OffsetDateTime, Option<OffsetDateTime>),
    ) -> StoreResult<Self> {
        let tags: Vec<String> = serde_json::from_str(tags_json).map_err(anyhow::Error::from)?;
        Ok(Self {
            id,
            text,
            name_lower,
            location_id,
            tags_lower: tags.iter().map(|t| t.to_lowercase()).collect(),
            created_at: times.0,
            updated_at: times.1,
            trashed: times.2.is_some(),
        })
    }
}

/// A file attached to an item. Its bytes live in the blob store (see `crate::blob::keys`).
#[derive(Clone, Debug, PartialEq)]
pub struct AttachmentRow {
    pub id: AttachmentId,
    pub household_id: HouseholdId,
    pub item_id: ItemId,
    pub kind: AttachmentKind,
    pub filename: String,
    pub content_type: String,
    /// Announced size while pending; the size of the file as served once ready.
    pub size: i64,
    /// Bytes kept for it: the file and its thumbnail.
    pub stored_bytes: i64,
    pub status: AttachmentStatus,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub primary: bool,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
}

pub fn status_str(status: AttachmentStatus) -> &'static str {
    match status {
        AttachmentStatus::Pending => "pending",
        AttachmentStatus::Ready => "ready",
    }
}

/// `processing` (claimed by the request checking it) is still pending to everyone else.
pub fn parse_status(raw: &str) -> StoreResult<AttachmentStatus> {
    match raw {
        "pending" | "processing" => Ok(AttachmentStatus::Pending),
        "ready" => Ok(AttachmentStatus::Ready),
        other => Err(anyhow::anyhow!("unknown attachment status {other:?}").into()),
    }
}

pub fn parse_kind(raw: &str) -> StoreResult<AttachmentKind> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("unknown attachment kind {raw:?}").into())
}

/// What a household keeps and has announced, for its storage quota.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadUsage {
    /// Bytes kept for ready attachments: their files and thumbnails.
    pub ready_bytes: i64,
    /// Announced sizes of the uploads announced since the time asked about and not ready.
    pub pending_bytes: i64,
    /// How many uploads that is.
    pub pending: i64,
}

/// What purging the trash deleted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Purged {
    pub items: usize,
    /// Attachments of the purged items, whose files are to be deleted next.
    pub attachments: Vec<AttachmentId>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct StatsRow {
    pub item_count: i64,
    pub total_quantity: i64,
    pub trashed_count: i64,
    pub total_value_minor: i64,
    /// (location, live items, summed value)
    pub by_location: Vec<(Option<LocationId>, i64, i64)>,
    /// (tag as spelled, live items, summed value)
    pub by_tag: Vec<(String, i64, i64)>,
    /// Ready attachments and the bytes they keep.
    pub attachment_count: i64,
    pub storage_bytes: i64,
}

/// A personal API token as stored: its secret only as a SHA-256 hash.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiTokenRow {
    pub id: TokenId,
    pub user_id: UserId,
    pub secret_hash: Vec<u8>,
    pub name: String,
    pub scope: TokenScope,
    pub household_id: Option<HouseholdId>,
    pub hint: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// What a removal recorded for the changes feed was: an item purged from the trash or a
/// location deleted. Stored as `item` and `location`, which also order them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RemovalKind {
    Item,
    Location,
}

impl RemovalKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Item => "item",
            Self::Location => "location",
        }
    }

    pub fn parse(raw: &str) -> StoreResult<Self> {
        match raw {
            "item" => Ok(Self::Item),
            "location" => Ok(Self::Location),
            other => Err(anyhow::anyhow!("unknown removal kind {other:?}").into()),
        }
    }
}

/// Something deleted for good, as the changes feed reports it.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovalRow {
    pub removed_at: OffsetDateTime,
    pub kind: RemovalKind,
    pub id: Uuid,
}

/// Where a scan of removals goes on: after `(removed_at, kind, id)`. `kind` is the stored
/// text; `""` (with any id) comes before every removal at that time.
#[derive(Clone, Debug, PartialEq)]
pub struct RemovalKey {
    pub at: OffsetDateTime,
    pub kind: String,
    pub id: Uuid,
}

pub fn parse_scope(raw: &str) -> StoreResult<TokenScope> {
    raw.parse()
        .map_err(|_| anyhow::anyhow!("unknown token scope {raw:?}").into())
}

/// Everything the API asks of a database: one trait per resource, so each backend keeps
/// each resource's SQL in a file of its own (`sqlite/items.rs`, `postgres/items.rs`).
#[async_trait]
pub trait Store:
    AccountStore
    + HouseholdStore
    + LocationStore
    + ItemStore
    + AttachmentStore
    + TokenStore
    + ChangeStore
    + JobStore
    + BackupStore
    + BulkStore
    + AssetStore
    + ShareLinkStore
    + SecurityStore
    + PasskeyStore
    + MaintenanceStore
    + ReminderStore
    + ReminderSettingsStore
    + EmailConfirmationStore
    + Send
    + Sync
    + 'static
{
    async fn ping(&self) -> StoreResult<()>;

    /// Trips to the database so far: one per SQLite read or write, one per PostgreSQL
    /// connection taken from the pool (a query, or a transaction and every retry of it).
    /// For tests and measurements of what a request costs.
    fn round_trips(&self) -> u64;
}

/// The changes feed: what changed in a household after a point, oldest change first. Items
/// purged from the trash and locations deleted leave a removal behind (in the transaction
/// that deletes them), kept until `prune_removals` drops it.
#[async_trait]
pub trait ChangeStore: Send + Sync {
    /// The household's items, live and trashed, ordered by `(updated_at, id)`, after
    /// `after` (from the first when `None`): at most `limit`. One range of the
    /// `items_updated` index.
    async fn changed_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>>;
    /// The household's removals ordered by `(removed_at, kind, id)`, after `after`: at
    /// most `limit`.
    async fn removals(
        &self,
        household: HouseholdId,
        after: &RemovalKey,
        limit: usize,
    ) -> StoreResult<Vec<RemovalRow>>;
    /// Deletes some of the household's removals recorded before `before`, the oldest
    /// first, in one transaction of at most about `limit` rows; how many it deleted.
    async fn prune_removals(
        &self,
        household: HouseholdId,
        before: OffsetDateTime,
        limit: usize,
    ) -> StoreResult<u64>;
}

/// A background job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct JobRow {
    pub id: JobId,
    pub household_id: HouseholdId,
    pub user_id: UserId,
    pub kind: JobKind,
    pub status: JobStatus,
    /// What the job was asked to do, as JSON.
    pub params: String,
    /// The uploaded file the job reads, in the attachment store.
    pub input_key: Option<String>,
    /// The file the job made, in the attachment store, with its name and type.
    pub output_key: Option<String>,
    pub output_name: Option<String>,
    pub output_type: Option<String>,
    pub done: i64,
    pub total: i64,
    /// What it produced, as JSON.
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// How many times a runner took it.
    pub attempts: i64,
    /// A runner holds it until then.
    pub lease_until: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    pub finished_at: Option<OffsetDateTime>,
}

/// How a job ended, written once.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    pub status: JobStatus,
    pub done: i64,
    pub total: i64,
    pub result: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub output_key: Option<String>,
    pub output_name: Option<String>,
    pub output_type: Option<String>,
    pub finished_at: OffsetDateTime,
}

/// Background jobs: made by a request, taken and run by one runner at a time.
#[async_trait]
pub trait JobStore: Send + Sync {
    async fn insert_job(&self, job: &JobRow) -> StoreResult<()>;
    /// A job of `household`.
    async fn job(&self, household: HouseholdId, id: JobId) -> StoreResult<Option<JobRow>>;
    /// A person's jobs in `household`, newest first.
    async fn jobs_of(
        &self,
        household: HouseholdId,
        user: UserId,
        limit: usize,
    ) -> StoreResult<Vec<JobRow>>;
    /// Takes the job for a runner until `lease_until` if it is queued, or running with a
    /// lease that ran out before `now`; `None` when another runner holds it or it finished.
    async fn claim_job(
        &self,
        id: JobId,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> StoreResult<Option<JobRow>>;
    /// Writes progress and extends the lease of a running job.
    async fn job_progress(
        &self,
        id: JobId,
        done: i64,
        total: i64,
        lease_until: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn finish_job(&self, id: JobId, outcome: &JobOutcome) -> StoreResult<()>;
    /// Jobs waiting for a runner: queued, or running with a lease that ran out.
    async fn unfinished_jobs(&self, now: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobId>>;
    /// Finished jobs that finished before `before`, oldest first, with their files' keys.
    async fn old_jobs(&self, before: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobRow>>;
    async fn delete_jobs(&self, ids: &[JobId]) -> StoreResult<()>;
}

/// How many records a backup of a household holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BackupCounts {
    pub locations: u64,
    /// Live and trashed.
    pub items: u64,
    /// Ready ones only.
    pub attachments: u64,
    pub activity: u64,
}

/// Where a backup's scan of attachments or activity entries goes on: after this
/// `(item, time, id)` (the attachment's `created_at`, the entry's `at`).
pub type BackupKey = (ItemId, OffsetDateTime, Uuid);

/// The whole of a household read in pages for its backup, and the writes that restore a
/// backup into a new household. Pages follow the household's indexes, so each is one
/// range read whatever the size of the household. A restore writes items and history with
/// `ItemStore::import_items`.
#[async_trait]
pub trait BackupStore: Send + Sync {
    /// A household's row, for its name and currency.
    async fn household(&self, household: HouseholdId) -> StoreResult<Option<HouseholdRow>>;
    /// Whether the household holds no item (live or trashed) and no location.
    async fn household_is_empty(&self, household: HouseholdId) -> StoreResult<bool>;
    async fn backup_counts(&self, household: HouseholdId) -> StoreResult<BackupCounts>;
    /// The household's items, live and trashed, ordered by `(created_at, id)`, after
    /// `after`: at most `limit`.
    async fn backup_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>>;
    /// The household's ready attachments, filed or not, ordered by `(item_id, created_at,
    /// id)`, after `after`: at most `limit`.
    async fn backup_attachments(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentRow>>;
    /// The household's activity entries ordered by `(item_id, at, id)`, after `after`: at
    /// most `limit`.
    async fn backup_activity(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRow>>;
    /// Inserts restored locations in one transaction (at most `RESTORE_ROWS`). The tree
    /// is not checked here: the restore checked the whole of it before writing.
    async fn restore_locations(&self, locations: &[LocationRow]) -> StoreResult<()>;
    /// Inserts restored ready attachments, as they are, in one transaction (at most
    /// `RESTORE_ROWS`).
    async fn restore_attachments(&self, attachments: &[AttachmentRow]) -> StoreResult<()>;
    /// Deletes some of what a failed restore wrote, in one transaction of at most about
    /// `limit` rows: the activity entries, tags and maintenance of `items`, the attachment rows in
    /// `attachments`, then `items` and `locations` themselves (each leaving a removal for
    /// the changes feed, as devices may have synced them). How many rows it deleted: 0
    /// when nothing of them is left.
    async fn remove_restored(
        &self,
        household: HouseholdId,
        items: &[ItemId],
        attachments: &[AttachmentId],
        locations: &[LocationId],
        limit: usize,
    ) -> StoreResult<u64>;
}

/// The most rows one `BackupStore::restore_locations` or `restore_attachments` writes.
pub const RESTORE_ROWS: usize = 1_000;

pub(crate) fn check_restore_rows(rows: usize) -> StoreResult<()> {
    if rows > RESTORE_ROWS {
        return Err(anyhow::anyhow!(
            "a restore batch may write at most {RESTORE_ROWS} rows, not {rows}"
        )
        .into());
    }
    Ok(())
}

/// Personal API tokens.
#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn create_api_token(&self, token: &ApiTokenRow) -> StoreResult<()>;
    /// A person's tokens, expired ones too, newest first.
    async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiTokenRow>>;
    /// The token whose secret has this hash, expired or not, and its owner.
    async fn api_token_by_hash(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<(ApiTokenRow, User)>>;
    /// Records a use at `at`, unless one was recorded after `since` (so concurrent uses
    /// write once).
    async fn touch_api_token(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Deletes one of `user`'s tokens; `NotFound` when `user` has no such token.
    async fn delete_api_token(&self, user: UserId, id: TokenId) -> StoreResult<()>;
}

/// Accounts: users, linked identities, sessions and sign-in throttling.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates a user, the user's first household and the owner membership in one
    /// transaction. `Conflict` when the email is taken.
    async fn create_user(&self, user: &UserRow, household: &HouseholdRow) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>>;
    /// The user an identity provider's account is linked to.
    async fn user_by_identity(&self, provider: &str, subject: &str)
    -> StoreResult<Option<UserRow>>;
    /// Links a provider's account to a user (again: no change).
    async fn link_identity(&self, provider: &str, subject: &str, user: UserId) -> StoreResult<()>;
    /// Hands an account whose email nobody confirmed to whoever just proved at `provider`
    /// that the email is theirs, in one transaction: the password is cleared, every session
    /// and API token of the account ends, its passkeys are removed, every live invitation it made is revoked, the identity is
    /// linked and the email marked verified. An account already verified is only linked.
    async fn claim_account(
        &self,
        user: UserId,
        provider: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Sets a new password and ends every session of the account but `keep` (the caller's),
    /// if the password is still `current`; else `Conflict`.
    async fn change_password(
        &self,
        user: UserId,
        current: &str,
        new: &str,
        keep: &[u8],
    ) -> StoreResult<()>;
    async fn create_session(&self, session: &SessionRow) -> StoreResult<()>;
    /// Starts a session granted for a password, if that password is still the account's:
    /// `Conflict` when it was changed or cleared since it was checked. The check writes the
    /// user's row, so it collides with (and is retried after, or refused by) a concurrent
    /// `claim_account` or `change_password` instead of slipping a session past them.
    async fn create_password_session(
        &self,
        session: &SessionRow,
        password_hash: &str,
    ) -> StoreResult<()>;
    /// The live session with that token hash and its user.
    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>>;
    /// `session` and the user's memberships with their households, in one round trip:
    /// what a request needs to know who asks and where they belong.
    async fn session_access(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User, Vec<(HouseholdRow, Role)>)>>;
    /// Moves the session's end to `expires_at` and records its use at `used_at`.
    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
        used_at: OffsetDateTime,
    ) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()>;
    /// Records sign-in attempts, one row per `(id, key)`, committed when this returns.
    async fn record_login_attempts(
        &self,
        attempts: &[(Uuid, String)],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Attempts recorded under `key` after `since`, counted up to `cap` (a flood of
    /// attempts costs no more to count than `cap` of them).
    async fn login_attempts_since(
        &self,
        key: &str,
        since: OffsetDateTime,
        cap: i64,
    ) -> StoreResult<i64>;
    async fn delete_login_attempts(&self, ids: &[Uuid]) -> StoreResult<()>;
    async fn clear_login_failures(&self, key: &str) -> StoreResult<()>;
    /// Deletes up to `limit` attempts recorded before `before`, whatever their key (keys an
    /// attacker never uses again would otherwise stay forever). How many it deleted.
    async fn purge_login_attempts(&self, before: OffsetDateTime, limit: i64) -> StoreResult<u64>;
}

/// Households, their members and invitations.
#[async_trait]
pub trait HouseholdStore: Send + Sync {
    /// Creates a household with `owner` as its owner; `Conflict` when the owner already
    /// owns `max_owned` households (counted so that two created at once can't both pass).
    async fn create_household(
        &self,
        household: &HouseholdRow,
        owner: UserId,
        max_owned: i64,
    ) -> StoreResult<()>;
    async fn households_of(&self, user: UserId) -> StoreResult<Vec<(HouseholdRow, Role)>>;
    async fn members(&self, household: HouseholdId) -> StoreResult<Vec<MemberRow>>;
    /// Changes a member's role; `Conflict` when that would leave no owner, `NotFound`
    /// when the user is not a member.
    async fn change_role(
        &self,
        household: HouseholdId,
        user: UserId,
        role: Role,
    ) -> StoreResult<()>;
    /// Removes a member; `Conflict` for the last owner, `NotFound` for a non-member.
    async fn remove_member(&self, household: HouseholdId, user: UserId) -> StoreResult<()>;
    async fn create_invite(&self, invite: &InviteRow) -> StoreResult<()>;
    /// Live (not revoked) invitations, newest first.
    async fn invites(&self, household: HouseholdId) -> StoreResult<Vec<InviteRow>>;
    async fn revoke_invite(
        &self,
        household: HouseholdId,
        id: shared::InviteId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// A live (not revoked) invitation by its code's hash, with its household's name and
    /// the name of who made it.
    async fn invite_by_code(
        &self,
        code_hash: &[u8],
    ) -> StoreResult<Option<(InviteRow, String, String)>>;
    /// Joins `user` to the invitation's household with its role, counting a use; a member
    /// already is left as they are. `NotFound` for an unknown or revoked code, `Conflict`
    /// for an expired or used-up one.
    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<HouseholdId>;
    async fn membership(
        &self,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>>;
    /// `Stale` unless the stored version is `expected_version`; bumps the version.
    async fn update_household(
        &self,
        household: &HouseholdRow,
        expected_version: i64,
    ) -> StoreResult<()>;
}

/// The location tree.
#[async_trait]
pub trait LocationStore: Send + Sync {
    async fn locations(&self, household: HouseholdId) -> StoreResult<Vec<LocationRow>>;
    async fn location_item_counts(
        &self,
        household: HouseholdId,
    ) -> StoreResult<HashMap<LocationId, i64>>;
    /// The household a location id belongs to, in any household.
    async fn location_owner(&self, id: LocationId) -> StoreResult<Option<HouseholdId>>;
    /// `Conflict` when the id exists; `Invalid` (`parent_id`) unless the parent is a
    /// location of the household, checked in the write (`tree::Links::check_write`).
    /// Returns its asset id, given as `insert_item` gives an item's.
    async fn insert_location(&self, location: &LocationRow) -> StoreResult<AssetId>;
    /// `Stale` unless the stored version is `expected_version`; bumps the version. A new
    /// parent is checked in the write against the household's current tree: `Invalid`
    /// (`parent_id`) for a missing parent, a cycle or too deep a nesting. Its asset id
    /// must be free (`Conflict` when another item or location has it); the counter moves
    /// past it.
    async fn update_location(
        &self,
        location: &LocationRow,
        expected_version: i64,
    ) -> StoreResult<()>;
    /// `Conflict` while it holds live items or other locations. Records a removal for the
    /// changes feed.
    async fn delete_location(&self, household: HouseholdId, id: LocationId) -> StoreResult<()>;
}

/// Items, search entries, the trash, tags, stats and history.
#[async_trait]
pub trait ItemStore: Send + Sync {
    async fn item_owner(&self, id: ItemId) -> StoreResult<Option<HouseholdId>>;
    /// `Conflict` when the id exists. Returns the item's asset id: the one its fields ask
    /// for (`Conflict` when another item or location of the household has it; the counter
    /// moves past it), else the household's next, taken in the same transaction.
    async fn insert_item(&self, item: &ItemRow, activity: &ActivityRow) -> StoreResult<AssetId>;
    /// Inserts many new items (all of one household) with their activity entries in one
    /// transaction. A batch writes at most `IMPORT_ROWS` rows (items, their tags, activity
    /// entries), inside Aurora DSQL's 3,000 rows a transaction. An item keeps the asset id
    /// it asks for when that is free; the others get a block of new numbers, in order.
    async fn import_items(&self, items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()>;
    /// A live or trashed item.
    async fn item(&self, household: HouseholdId, id: ItemId) -> StoreResult<Option<ItemRow>>;
    /// Writes `item` (its `version` already bumped) if the stored version is
    /// `expected_version`, else `Stale`. When the activity entry names `asset_id`, the
    /// item's new asset id is claimed: `Conflict` when another item or location of the
    /// household has it; the counter moves past it.
    async fn update_item(
        &self,
        item: &ItemRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()>;
    async fn list_items(
        &self,
        household: HouseholdId,
        query: &ItemQuery,
    ) -> StoreResult<Vec<ItemRow>>;
    /// Search entries of the household's items (trashed ones too) changed after `since`,
    /// or all of them.
    async fn search_entries(
        &self,
        household: HouseholdId,
        since: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<SearchEntry>>;
    /// The items with these ids, live or trashed, in no particular order; unknown ids are
    /// left out.
    async fn items_by_ids(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<ItemRow>>;
    /// `items_by_ids` with each item's primary photo, in one query: what an answer shows.
    async fn items_shown(&self, household: HouseholdId, ids: &[ItemId]) -> StoreResult<Vec<Shown>>;
    /// `list_items` with each item's primary photo, in one query.
    async fn list_shown(
        &self,
        household: HouseholdId,
        query: &ItemQuery,
    ) -> StoreResult<Vec<Shown>>;
    /// In one round trip, what a search needs from the database once its index is loaded
    /// (`search.rs`): the id and `updated_at` of every item of the household changed after
    /// `since` (trashed ones too), and `items_shown` of `ids`.
    async fn search_refresh(
        &self,
        household: HouseholdId,
        since: OffsetDateTime,
        ids: &[ItemId],
    ) -> StoreResult<(Vec<(ItemId, OffsetDateTime)>, Vec<Shown>)>;
    /// The search entries of these items (trashed ones too); unknown ids are left out.
    async fn search_entries_of(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<SearchEntry>>;
    /// Deletes trashed items for good with their attachment rows, at most `limit` items per
    /// call, recording a removal of each for the changes feed.
    async fn purge_trash(
        &self,
        household: HouseholdId,
        only: Option<ItemId>,
        limit: usize,
    ) -> StoreResult<Purged>;
    async fn tags(&self, household: HouseholdId) -> StoreResult<Vec<TagCount>>;
    async fn stats(&self, household: HouseholdId) -> StoreResult<StatsRow>;
    async fn history(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<Activity>>;
}

/// Many items changed at once: bulk edits.
#[async_trait]
pub trait BulkStore: Send + Sync {
    /// Writes, in one transaction, each item (its `version` already bumped by one) whose
    /// stored version is still the one before, with its activity entry. Returns the ids of
    /// the items whose stored version had moved on: nothing of them is written. A batch
    /// holds at most `BULK_BATCH_ITEMS` items and writes at most `IMPORT_ROWS` rows
    /// (`ItemUpdate::rows`).
    async fn update_items(&self, updates: &[ItemUpdate]) -> StoreResult<Vec<ItemId>>;
}

/// One item of a `BulkStore::update_items` batch.
#[derive(Clone, Debug, PartialEq)]
pub struct ItemUpdate {
    pub item: ItemRow,
    pub activity: ActivityRow,
    /// Tags the item has before the change, whose rows are replaced.
    pub old_tags: usize,
}

impl ItemUpdate {
    /// Rows writing it changes: the item, its activity entry, its old and new tag rows.
    pub fn rows(&self) -> usize {
        2 + self.old_tags + self.item.fields.tags.len()
    }
}

/// The most items one `BulkStore::update_items` batch writes.
pub const BULK_BATCH_ITEMS: usize = 500;

/// Refuses a bulk batch larger than a transaction may be.
pub(crate) fn check_bulk_batch(updates: &[ItemUpdate]) -> StoreResult<()> {
    let rows: usize = updates.iter().map(ItemUpdate::rows).sum();
    if updates.len() > BULK_BATCH_ITEMS || rows > IMPORT_ROWS {
        return Err(anyhow::anyhow!(
            "a bulk batch may write at most {BULK_BATCH_ITEMS} items and {IMPORT_ROWS} rows, \
             not {} items and {rows} rows",
            updates.len()
        )
        .into());
    }
    if updates.iter().any(|u| u.activity.item_id != u.item.id) {
        return Err(anyhow::anyhow!("each activity entry must be its item's").into());
    }
    Ok(())
}

/// Photos and documents, and the daily counters of metered work.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// The household an attachment id belongs to, in any household.
    async fn attachment_owner(&self, id: AttachmentId) -> StoreResult<Option<HouseholdId>>;
    /// `Conflict` when the id exists.
    async fn insert_attachment(&self, attachment: &AttachmentRow) -> StoreResult<()>;
    /// A pending or ready attachment.
    async fn attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
    ) -> StoreResult<Option<AttachmentRow>>;
    /// An item's ready attachments: the primary photo, the other photos, then the rest,
    /// each group oldest first.
    async fn attachments(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<AttachmentRow>>;
    /// Claims a pending attachment for checking: it is `processing` from `at` on. A claim
    /// made before `stale_before` was left by a check that stopped and is taken over.
    /// `true` for exactly one of any number of callers at once; `false` when it is being
    /// checked, ready or gone.
    async fn claim_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        at: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> StoreResult<bool>;
    /// Gives back the claim made at `claimed_at`: the attachment is pending again (a claim
    /// taken over since is left alone).
    async fn release_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        claimed_at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Bytes the household keeps, and the uploads it announced since `pending_since` that
    /// are not ready.
    async fn upload_usage(
        &self,
        household: HouseholdId,
        pending_since: OffsetDateTime,
    ) -> StoreResult<UploadUsage>;
    /// Marks a pending (or claimed) attachment ready with what the checks found (size,
    /// stored bytes, content type, dimensions). A photo becomes primary when its item has
    /// no primary photo yet. `NotFound` unless it is pending. Returns the row as stored.
    async fn complete_attachment(&self, attachment: &AttachmentRow) -> StoreResult<AttachmentRow>;
    /// Writes kind, filename, item and the primary mark; marking one primary unmarks the
    /// item's other photos, and an item left without a primary photo gets its oldest one.
    /// Returns the row as stored.
    async fn update_attachment(&self, attachment: &AttachmentRow) -> StoreResult<AttachmentRow>;
    /// Deletes an attachment row; when it was the primary photo, the item's oldest other
    /// ready photo becomes primary.
    async fn delete_attachment(&self, household: HouseholdId, id: AttachmentId) -> StoreResult<()>;
    /// The primary photo of each of these items that has one.
    async fn primary_photos(
        &self,
        household: HouseholdId,
        items: &[ItemId],
    ) -> StoreResult<HashMap<ItemId, AttachmentId>>;
    /// Adds `n` to each counter (`household:<id>`, `account:<id>`, `global`) on `day`
    /// (`YYYY-MM-DD`, UTC) in one transaction; the totals after it, in the same order.
    async fn count_usage(&self, keys: &[String], day: &str, n: i64) -> StoreResult<Vec<i64>>;
}

pub type DynStore = Arc<dyn Store>;

/// The most rows one `ItemStore::import_items` batch writes.
pub const IMPORT_ROWS: usize = 2_500;

/// Rows that writing these items takes, not counting activity entries.
pub fn import_rows(items: &[ItemRow]) -> usize {
    items.iter().map(|i| 1 + i.fields.tags.len()).sum()
}

/// Opens the store `database_url` names and brings its schema up to date.
pub async fn open(database_url: &str) -> anyhow::Result<DynStore> {
    if let Some(path) = database_url.strip_prefix("sqlite:") {
        let store = sqlite::SqliteStore::open(path).await?;
        Ok(Arc::new(store))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        let store = postgres::PgStore::connect(database_url).await?;
        store.migrate().await?;
        Ok(Arc::new(store))
    } else if database_url.starts_with("dsql://") {
        let store = postgres::PgStore::from_pool(dsql::pool(database_url)?, true);
        store.migrate().await?;
        Ok(Arc::new(store))
    } else {
        anyhow::bail!("DATABASE_URL must start with sqlite:, postgres:// or dsql://")
    }
}

/// Microseconds since the Unix epoch: how times are kept in SQLite and in cursors.
pub fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

/// The time `micros` gives back; `None` out of range.
pub fn from_micros(v: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(v) * 1_000).ok()
}

pub(crate) fn now() -> OffsetDateTime {
    // Microsecond precision: what both databases keep.
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .unwrap_or(now)
}

/// Exponential backoff with full jitter before try number `attempt` (1-based) of something
/// that collided: up to 10 ms, 20 ms, 40 ms, … capped at 1 s.
pub fn backoff(attempt: u32) -> std::time::Duration {
    let cap = 10u64.saturating_mul(1 << attempt.min(7)).min(1_000);
    let mut bytes = [0u8; 8];
    let _ = getrandom::fill(&mut bytes);
    std::time::Duration::from_millis(u64::from_le_bytes(bytes) % (cap + 1))
}

/// `Ok` when a write touched exactly one row, else `otherwise`.
pub(crate) fn exactly_one(changed: u64, otherwise: StoreError) -> StoreResult<()> {
    if changed == 1 { Ok(()) } else { Err(otherwise) }
}

/// Refuses one more household to an account that owns `max` already.
pub(crate) fn check_households_owned(owned: i64, max: i64) -> StoreResult<()> {
    if owned >= max {
        return Err(StoreError::Conflict(format!(
            "you already own {max} households, the most one account may; \
             keep using one of them, or ask the server's operator for more"
        )));
    }
    Ok(())
}

/// Refuses an invitation that has expired or been used up.
pub fn check_invite(invite: &InviteRow, at: OffsetDateTime) -> StoreResult<()> {
    if invite.expires_at <= at {
        return Err(StoreError::Conflict(
            "this invitation has expired; ask for a new one".into(),
        ));
    }
    if invite.max_uses.is_some_and(|max| invite.uses >= max) {
        return Err(StoreError::Conflict(
            "this invitation has been used as often as it allows; ask for a new one".into(),
        ));
    }
    Ok(())
}

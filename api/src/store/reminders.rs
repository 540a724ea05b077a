//! Reminders in the stores: what a person has coming up (warranties ending, maintenance
//! due) across their households, who is due a digest, and the record of every reminder
//! sent, unique per person and key.

use async_trait::async_trait;
use shared::{DigestFrequency, HouseholdId, ItemId, MaintenanceScheduleId, UserId, Weekday};
use time::{Date, OffsetDateTime};

use super::StoreResult;

/// What a reminder is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpcomingKind {
    /// An item's warranty ends on `date`.
    WarrantyEnds,
    /// A maintenance schedule is due on `date`.
    MaintenanceDue,
}

/// One thing a person is reminded of: a live (not trashed) item's warranty end or one of
/// its maintenance schedules' next due date.
#[derive(Clone, Debug, PartialEq)]
pub struct UpcomingRow {
    pub kind: UpcomingKind,
    pub household_id: HouseholdId,
    pub household_name: String,
    pub item_id: ItemId,
    pub item_name: String,
    /// The schedule, for `MaintenanceDue`.
    pub schedule_id: Option<MaintenanceScheduleId>,
    /// The schedule's title for `MaintenanceDue`; empty for `WarrantyEnds`.
    pub title: String,
    pub date: Date,
}

/// A person whose digest is on and whose address is confirmed, with their settings (the
/// defaults when they never chose: daily, Monday, at 8, in UTC).
#[derive(Clone, Debug, PartialEq)]
pub struct DigestRecipient {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub frequency: DigestFrequency,
    pub weekday: Weekday,
    pub hour: u8,
    pub time_zone: String,
    /// `None` until the person has a settings row.
    pub unsubscribe_secret: Option<String>,
}

/// What a claim of a digest got: `None` when another pass has the period already;
/// otherwise the keys of the claim that are this pass's (a key reminded before is left
/// out).
pub type Claimed = Option<Vec<String>>;

#[async_trait]
pub trait ReminderStore: Send + Sync {
    /// Everything of `user`'s households, ordered by date: warranties ending from `from`
    /// to `until` (both included), and maintenance due on or before `until` (overdue
    /// included, however old).
    async fn upcoming(
        &self,
        user: UserId,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<UpcomingRow>>;

    /// Up to `limit` people whose digest is on and whose address is confirmed, by id,
    /// after `after`.
    async fn digest_recipients(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> StoreResult<Vec<DigestRecipient>>;

    /// Makes `user`'s settings row (the defaults, with `unsubscribe_secret`) unless there
    /// is one; the unsubscribe secret stored either way.
    async fn ensure_unsubscribe_secret(
        &self,
        user: UserId,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String>;

    /// Which of `keys` were reminded to `user` before.
    async fn reminded(&self, user: UserId, keys: &[String]) -> StoreResult<Vec<String>>;

    /// Records, in one transaction, the digest `period` and the reminders `keys` as sent
    /// to `user`. When `period` is taken nothing is recorded (`None`); keys taken before
    /// are left out of the answer; when every key was taken the period is not kept either
    /// (`Some(empty)`).
    async fn claim_reminders(
        &self,
        user: UserId,
        period: &str,
        keys: &[String],
        at: OffsetDateTime,
    ) -> StoreResult<Claimed>;

    /// Forgets the reminders `keys` of `user` (a digest that could not be sent), so the
    /// next pass tries again.
    async fn release_reminders(&self, user: UserId, keys: &[String]) -> StoreResult<()>;
}

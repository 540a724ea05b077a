//! Reminders in the stores: what a person has coming up (warranties ending, maintenance
//! due) across their households, who is due a digest, and the record of every reminder
//! sent, unique per person and key.

use async_trait::async_trait;
use shared::{HouseholdId, ItemId, MaintenanceScheduleId, UserId};
use time::Date;

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
}

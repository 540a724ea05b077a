//! Maintenance in the stores: items' schedules and their maintenance logs, and what a
//! household has due, overdue or done recently; items whose warranties end soon.
//!
//! A schedule's `last_done` and `next_due` follow its log: every write of an entry that
//! belongs to a schedule works them out again, in the same transaction
//! ([`refreshed_schedule`]), so "Mark done" is one insert of an entry.

use async_trait::async_trait;
use shared::{
    AttachmentId, HouseholdId, Interval, IntervalUnit, ItemId, LocationId, MaintenanceEntryId,
    MaintenanceScheduleId, Money, ScheduleAnchor, UserId, next_due,
};
use time::{Date, OffsetDateTime};

use super::{ActivityRow, StoreError, StoreResult};

/// A schedule as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleRow {
    pub id: MaintenanceScheduleId,
    pub household_id: HouseholdId,
    pub item_id: ItemId,
    pub title: String,
    pub every: i64,
    pub unit: IntervalUnit,
    pub anchor: ScheduleAnchor,
    pub start_date: Date,
    pub last_done: Option<Date>,
    pub next_due: Date,
    pub notes: Option<String>,
    pub version: i64,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl ScheduleRow {
    pub fn interval(&self) -> Interval {
        Interval {
            every: self.every,
            unit: self.unit,
        }
    }

    /// The next due date its settings and `last_done` give.
    pub fn computed_next_due(&self) -> StoreResult<Date> {
        next_due(
            self.interval(),
            self.anchor,
            self.start_date,
            self.last_done,
        )
        .ok_or_else(|| StoreError::Invalid {
            field: "every",
            message: "puts the next due date beyond the calendar".into(),
        })
    }
}

/// One entry of an item's maintenance log, as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryRow {
    pub id: MaintenanceEntryId,
    pub household_id: HouseholdId,
    pub item_id: ItemId,
    pub schedule_id: Option<MaintenanceScheduleId>,
    pub done_on: Date,
    pub title: String,
    pub cost: Option<Money>,
    pub notes: Option<String>,
    pub attachment_ids: Vec<AttachmentId>,
    pub version: i64,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A row of an overview with the name and location of its (live) item.
#[derive(Clone, Debug, PartialEq)]
pub struct WithItem<T> {
    pub row: T,
    pub item_name: String,
    pub location_id: Option<LocationId>,
}

/// A live item's warranty end.
#[derive(Clone, Debug, PartialEq)]
pub struct WarrantyRow {
    pub item_id: ItemId,
    pub name: String,
    pub warranty_expires: Date,
    pub location_id: Option<LocationId>,
}

/// The schedule `schedule` once its log's latest entry is `last_done`: the same row when
/// nothing moves, else the next version with the new `last_done` and `next_due`.
pub fn refreshed_schedule(
    schedule: &ScheduleRow,
    last_done: Option<Date>,
    at: OffsetDateTime,
) -> StoreResult<Option<ScheduleRow>> {
    let mut next = ScheduleRow {
        last_done,
        ..schedule.clone()
    };
    next.next_due = next.computed_next_due()?;
    if next.last_done == schedule.last_done && next.next_due == schedule.next_due {
        return Ok(None);
    }
    next.version += 1;
    next.updated_at = at;
    Ok(Some(next))
}

#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// An item's schedules, soonest due first.
    async fn schedules_of(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<ScheduleRow>>;
    async fn schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
    ) -> StoreResult<Option<ScheduleRow>>;
    async fn insert_schedule(
        &self,
        schedule: &ScheduleRow,
        activity: &ActivityRow,
    ) -> StoreResult<()>;
    /// Writes the schedule if it is still at `expected_version` (else `Stale`: a log entry
    /// written since moves it on, too).
    async fn update_schedule(
        &self,
        schedule: &ScheduleRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()>;
    /// Deletes the schedule; its log entries stay, without a schedule. `NotFound` when
    /// gone; `Stale` when it is no longer at `expected_version`.
    async fn delete_schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()>;

    /// An item's log, newest first.
    async fn entries_of(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<EntryRow>>;
    async fn entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
    ) -> StoreResult<Option<EntryRow>>;
    /// Logs an entry; when it belongs to a schedule, moves the schedule on in the same
    /// transaction and returns it (`NotFound` when that schedule is gone).
    async fn insert_entry(
        &self,
        entry: &EntryRow,
        activity: &ActivityRow,
    ) -> StoreResult<Option<ScheduleRow>>;
    /// Writes the entry if it is still at `expected_version` (else `Stale`), and moves its
    /// schedule to its log.
    async fn update_entry(
        &self,
        entry: &EntryRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()>;
    /// Deletes the entry (`NotFound` when gone, `Stale` when no longer at
    /// `expected_version`), and moves its schedule back to what its log says.
    async fn delete_entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()>;

    /// Schedules of live items due on or before `until`, soonest due first: at most `limit`.
    async fn due_schedules(
        &self,
        household: HouseholdId,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<ScheduleRow>>>;
    /// Log entries of live items done on or after `since`, newest first: at most `limit`.
    async fn done_since(
        &self,
        household: HouseholdId,
        since: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<EntryRow>>>;
    /// Live items whose warranty ends from `from` to `until` (both included), soonest
    /// first: at most `limit`.
    async fn warranties_between(
        &self,
        household: HouseholdId,
        from: Date,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WarrantyRow>>;

    /// The household's schedules, by id after `after`: at most `limit` (for backups).
    async fn backup_schedules(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceScheduleId>,
        limit: usize,
    ) -> StoreResult<Vec<ScheduleRow>>;
    /// The household's log entries, by id after `after`: at most `limit` (for backups).
    async fn backup_entries(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<EntryRow>>;
    /// Inserts restored schedules and entries as they are, in one transaction (at most
    /// `RESTORE_ROWS` rows together).
    async fn restore_maintenance(
        &self,
        schedules: &[ScheduleRow],
        entries: &[EntryRow],
    ) -> StoreResult<()>;
}

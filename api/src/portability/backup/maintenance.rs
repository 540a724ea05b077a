//! Items' maintenance in a backup: `maintenance_schedules.jsonl` and
//! `maintenance_entries.jsonl`, one record a line. Backups made before maintenance have
//! neither file and restore without any.

use std::collections::{HashMap, HashSet};
use std::fs::File;

use serde::{Deserialize, Serialize};
use shared::{
    AttachmentId, Currency, Day, HouseholdId, IntervalUnit, ItemId, MaintenanceEntryId,
    MaintenanceScheduleId, Money, ScheduleAnchor, UserId, parse_every, parse_maintenance_notes,
    parse_maintenance_title,
};
use time::OffsetDateTime;
use zip::ZipArchive;

use super::verify::{Verified, each_line};
use crate::portability::PortError;
use crate::store::{EntryRow, ScheduleRow};

pub const SCHEDULES: &str = "maintenance_schedules.jsonl";
pub const ENTRIES: &str = "maintenance_entries.jsonl";

/// One line of `maintenance_schedules.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScheduleRecord {
    pub id: MaintenanceScheduleId,
    pub item_id: ItemId,
    pub title: String,
    pub every: i64,
    pub unit: IntervalUnit,
    pub anchor: ScheduleAnchor,
    pub start_date: Day,
    pub last_done: Option<Day>,
    pub next_due: Day,
    pub notes: Option<String>,
    pub version: i64,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&ScheduleRow> for ScheduleRecord {
    fn from(s: &ScheduleRow) -> Self {
        Self {
            id: s.id,
            item_id: s.item_id,
            title: s.title.clone(),
            every: s.every,
            unit: s.unit,
            anchor: s.anchor,
            start_date: Day(s.start_date),
            last_done: s.last_done.map(Day),
            next_due: Day(s.next_due),
            notes: s.notes.clone(),
            version: s.version,
            created_by: s.created_by,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

impl ScheduleRecord {
    pub fn into_row(
        self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
        item_id: ItemId,
    ) -> ScheduleRow {
        ScheduleRow {
            id,
            household_id: household,
            item_id,
            title: self.title,
            every: self.every,
            unit: self.unit,
            anchor: self.anchor,
            start_date: self.start_date.0,
            last_done: self.last_done.map(|d| d.0),
            next_due: self.next_due.0,
            notes: self.notes,
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// One line of `maintenance_entries.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryRecord {
    pub id: MaintenanceEntryId,
    pub item_id: ItemId,
    pub schedule_id: Option<MaintenanceScheduleId>,
    pub date: Day,
    pub title: String,
    pub cost: Option<Money>,
    pub notes: Option<String>,
    /// Attachments of the backup (records of `attachments.jsonl`).
    pub attachment_ids: Vec<AttachmentId>,
    pub version: i64,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl EntryRecord {
    /// The record of an entry, naming only the attachments in `kept` (those whose files
    /// are in the backup).
    pub fn new(e: &EntryRow, kept: &HashSet<AttachmentId>) -> Self {
        Self {
            id: e.id,
            item_id: e.item_id,
            schedule_id: e.schedule_id,
            date: Day(e.done_on),
            title: e.title.clone(),
            cost: e.cost.clone(),
            notes: e.notes.clone(),
            attachment_ids: e
                .attachment_ids
                .iter()
                .copied()
                .filter(|a| kept.contains(a))
                .collect(),
            version: e.version,
            created_by: e.created_by,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }

    /// The row under new ids: the item's, its schedule's (`None` when the schedule is not
    /// in the backup) and its attachments'.
    pub fn into_row(
        self,
        household: HouseholdId,
        id: MaintenanceEntryId,
        item_id: ItemId,
        schedules: &HashMap<MaintenanceScheduleId, MaintenanceScheduleId>,
        attachments: &HashMap<AttachmentId, AttachmentId>,
    ) -> EntryRow {
        EntryRow {
            id,
            household_id: household,
            item_id,
            schedule_id: self.schedule_id.and_then(|s| schedules.get(&s).copied()),
            done_on: self.date.0,
            title: self.title,
            cost: self.cost,
            notes: self.notes,
            attachment_ids: self
                .attachment_ids
                .iter()
                .filter_map(|a| attachments.get(a).copied())
                .collect(),
            version: self.version,
            created_by: self.created_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn line_error(path: &str, line: u64, what: impl std::fmt::Display) -> PortError {
    PortError::Refused(format!(
        "This backup can't be restored: line {line} of {path} {what}."
    ))
}

/// Checks the maintenance files, if the backup has them: every record as the API would
/// accept it, naming items, schedules and attachments of the backup. How many schedules
/// and entries they hold.
pub fn verify(
    archive: &mut ZipArchive<File>,
    verified: &Verified,
    items: &HashSet<ItemId>,
    attachments: &HashSet<AttachmentId>,
    currency: &Currency,
) -> Result<(u64, u64), PortError> {
    let mut schedules = HashSet::new();
    let schedule_count = if verified.entries.contains_key(SCHEDULES) {
        each_line(archive, verified, SCHEDULES, |line, r: ScheduleRecord| {
            let fail = |what: String| line_error(SCHEDULES, line, what);
            if !items.contains(&r.item_id) {
                return Err(fail("names an item the backup doesn't hold".into()));
            }
            parse_maintenance_title(&r.title).map_err(|e| fail(format!("has a title that {e}")))?;
            parse_every(r.every).map_err(|e| fail(format!("has an interval that {e}")))?;
            if let Some(notes) = &r.notes {
                parse_maintenance_notes(notes).map_err(|e| fail(format!("has notes that {e}")))?;
            }
            if !schedules.insert(r.id) {
                return Err(fail("repeats a schedule".into()));
            }
            Ok(())
        })?
    } else {
        0
    };
    let mut entries = HashSet::new();
    let entry_count = if verified.entries.contains_key(ENTRIES) {
        each_line(archive, verified, ENTRIES, |line, r: EntryRecord| {
            let fail = |what: String| line_error(ENTRIES, line, what);
            if !items.contains(&r.item_id) {
                return Err(fail("names an item the backup doesn't hold".into()));
            }
            if r.schedule_id.is_some_and(|s| !schedules.contains(&s)) {
                return Err(fail("names a schedule the backup doesn't hold".into()));
            }
            if r.attachment_ids.iter().any(|a| !attachments.contains(a)) {
                return Err(fail("names a file the backup doesn't hold".into()));
            }
            parse_maintenance_title(&r.title).map_err(|e| fail(format!("has a title that {e}")))?;
            if let Some(notes) = &r.notes {
                parse_maintenance_notes(notes).map_err(|e| fail(format!("has notes that {e}")))?;
            }
            if let Some(cost) = &r.cost {
                cost.check()
                    .map_err(|e| fail(format!("has a cost whose {e}")))?;
                if &cost.currency != currency {
                    return Err(fail(format!("has a cost in {}", cost.currency)));
                }
            }
            if !entries.insert(r.id) {
                return Err(fail("repeats an entry".into()));
            }
            Ok(())
        })?
    } else {
        0
    };
    Ok((schedule_count, entry_count))
}

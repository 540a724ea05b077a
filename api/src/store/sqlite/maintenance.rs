//! SQLite: items' maintenance schedules and logs.

use shared::{
    AttachmentId, IntervalUnit, MaintenanceEntryId, MaintenanceScheduleId, ScheduleAnchor,
};
use time::Date;

use super::*;
use crate::store::maintenance::{EntryRow, ScheduleRow, WarrantyRow, WithItem};

const SCHEDULE_COLUMNS: &str = "s.id, s.household_id, s.item_id, s.title, s.every, s.unit, \
     s.anchor, s.start_date, s.last_done, s.next_due, s.notes, s.version, s.created_by, \
     s.created_at, s.updated_at";

const ENTRY_COLUMNS: &str = "e.id, e.household_id, e.item_id, e.schedule_id, e.done_on, \
     e.title, e.cost_minor, e.cost_currency, e.notes, e.attachment_ids, e.version, \
     e.created_by, e.created_at, e.updated_at";

fn date_of(raw: String) -> rusqlite::Result<Date> {
    raw.parse::<Day>().map(|d| d.0).map_err(conversion)
}

fn text_of(d: Date) -> String {
    Day(d).to_string()
}

fn schedule_from(r: &Row<'_>) -> rusqlite::Result<ScheduleRow> {
    let unit: String = r.get(5)?;
    let anchor: String = r.get(6)?;
    Ok(ScheduleRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        item_id: uuid_of(r.get(2)?)?.into(),
        title: r.get(3)?,
        every: r.get(4)?,
        unit: IntervalUnit::parse(&unit)
            .ok_or_else(|| conversion(format!("unknown interval unit {unit:?}")))?,
        anchor: ScheduleAnchor::parse(&anchor)
            .ok_or_else(|| conversion(format!("unknown anchor {anchor:?}")))?,
        start_date: date_of(r.get(7)?)?,
        last_done: r.get::<_, Option<String>>(8)?.map(date_of).transpose()?,
        next_due: date_of(r.get(9)?)?,
        notes: r.get(10)?,
        version: r.get(11)?,
        created_by: uuid_of(r.get(12)?)?.into(),
        created_at: from_micros(r.get(13)?)?,
        updated_at: from_micros(r.get(14)?)?,
    })
}

fn entry_from(r: &Row<'_>) -> rusqlite::Result<EntryRow> {
    let attachments: String = r.get(9)?;
    Ok(EntryRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        item_id: uuid_of(r.get(2)?)?.into(),
        schedule_id: opt_uuid(r.get(3)?)?.map(Into::into),
        done_on: date_of(r.get(4)?)?,
        title: r.get(5)?,
        cost: money_of(r.get(6)?, r.get(7)?)?,
        notes: r.get(8)?,
        attachment_ids: serde_json::from_str::<Vec<AttachmentId>>(&attachments)
            .map_err(conversion)?,
        version: r.get(10)?,
        created_by: uuid_of(r.get(11)?)?.into(),
        created_at: from_micros(r.get(12)?)?,
        updated_at: from_micros(r.get(13)?)?,
    })
}

fn with_item<T>(
    r: &Row<'_>,
    at: usize,
    row: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<WithItem<T>> {
    Ok(WithItem {
        row: row(r)?,
        item_name: r.get(at)?,
        location_id: opt_uuid(r.get(at + 1)?)?.map(Into::into),
    })
}

fn write_schedule(tx: &Transaction<'_>, s: &ScheduleRow, insert: bool) -> StoreResult<usize> {
    let (id, hid, item) = (
        s.id.to_string(),
        s.household_id.to_string(),
        s.item_id.to_string(),
    );
    let (start, last, next) = (
        text_of(s.start_date),
        s.last_done.map(text_of),
        text_of(s.next_due),
    );
    let changed = if insert {
        tx.prepare_cached(
            "INSERT INTO maintenance_schedules (id, household_id, item_id, title, every, unit, \
             anchor, start_date, last_done, next_due, notes, version, created_by, created_at, \
             updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .map_err(db)?
        .execute(params![
            id,
            hid,
            item,
            s.title,
            s.every,
            s.unit.as_str(),
            s.anchor.as_str(),
            start,
            last,
            next,
            s.notes,
            s.version,
            s.created_by.to_string(),
            micros(s.created_at),
            micros(s.updated_at),
        ])
    } else {
        tx.prepare_cached(
            "UPDATE maintenance_schedules SET title = ?4, every = ?5, unit = ?6, anchor = ?7, \
             start_date = ?8, last_done = ?9, next_due = ?10, notes = ?11, version = ?12, \
             updated_at = ?13 \
             WHERE id = ?1 AND household_id = ?2 AND item_id = ?3 AND version = ?12 - 1",
        )
        .map_err(db)?
        .execute(params![
            id,
            hid,
            item,
            s.title,
            s.every,
            s.unit.as_str(),
            s.anchor.as_str(),
            start,
            last,
            next,
            s.notes,
            s.version,
            micros(s.updated_at),
        ])
    };
    changed.map_err(db)
}

fn write_entry(tx: &Transaction<'_>, e: &EntryRow, insert: bool) -> StoreResult<usize> {
    let attachments = serde_json::to_string(&e.attachment_ids).map_err(anyhow::Error::from)?;
    let (id, hid, item) = (
        e.id.to_string(),
        e.household_id.to_string(),
        e.item_id.to_string(),
    );
    let amount = e.cost.as_ref().map(|m| m.amount_minor);
    let currency = e.cost.as_ref().map(|m| m.currency.as_str().to_string());
    let changed = if insert {
        tx.prepare_cached(
            "INSERT INTO maintenance_entries (id, household_id, item_id, schedule_id, done_on, \
             title, cost_minor, cost_currency, notes, attachment_ids, version, created_by, \
             created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, \
             ?13, ?14)",
        )
        .map_err(db)?
        .execute(params![
            id,
            hid,
            item,
            e.schedule_id.map(|s| s.to_string()),
            text_of(e.done_on),
            e.title,
            amount,
            currency,
            e.notes,
            attachments,
            e.version,
            e.created_by.to_string(),
            micros(e.created_at),
            micros(e.updated_at),
        ])
    } else {
        tx.prepare_cached(
            "UPDATE maintenance_entries SET done_on = ?4, title = ?5, cost_minor = ?6, \
             cost_currency = ?7, notes = ?8, attachment_ids = ?9, version = ?10, updated_at = ?11 \
             WHERE id = ?1 AND household_id = ?2 AND item_id = ?3 AND version = ?10 - 1",
        )
        .map_err(db)?
        .execute(params![
            id,
            hid,
            item,
            text_of(e.done_on),
            e.title,
            amount,
            currency,
            e.notes,
            attachments,
            e.version,
            micros(e.updated_at),
        ])
    };
    changed.map_err(db)
}

fn schedule_on(
    c: &Connection,
    household: HouseholdId,
    id: MaintenanceScheduleId,
) -> StoreResult<Option<ScheduleRow>> {
    c.prepare_cached(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
         WHERE s.household_id = ?1 AND s.id = ?2"
    ))
    .map_err(db)?
    .query_row([household.to_string(), id.to_string()], schedule_from)
    .optional()
    .map_err(db)
}

fn entry_on(
    c: &Connection,
    household: HouseholdId,
    id: MaintenanceEntryId,
) -> StoreResult<Option<EntryRow>> {
    c.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
         WHERE e.household_id = ?1 AND e.id = ?2"
    ))
    .map_err(db)?
    .query_row([household.to_string(), id.to_string()], entry_from)
    .optional()
    .map_err(db)
}

/// Moves a schedule to its log as it is now in `tx`: its latest entry's date.
fn refresh(
    tx: &Transaction<'_>,
    household: HouseholdId,
    id: MaintenanceScheduleId,
    at: OffsetDateTime,
) -> StoreResult<ScheduleRow> {
    let current = schedule_on(tx, household, id)?.ok_or(StoreError::NotFound)?;
    let last: Option<String> = tx
        .prepare_cached(
            "SELECT max(done_on) FROM maintenance_entries WHERE household_id = ?1 \
             AND item_id = ?2 AND schedule_id = ?3",
        )
        .map_err(db)?
        .query_row(
            [
                household.to_string(),
                current.item_id.to_string(),
                id.to_string(),
            ],
            |r| r.get(0),
        )
        .map_err(db)?;
    let last = last.map(date_of).transpose().map_err(db)?;
    match refreshed_schedule(&current, last, at)? {
        Some(next) => {
            write_schedule(tx, &next, false)?;
            Ok(next)
        }
        None => Ok(current),
    }
}

fn collect<T>(
    c: &Connection,
    sql: &str,
    values: impl rusqlite::Params,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let mut stmt = c.prepare_cached(sql).map_err(db)?;
    let rows = stmt
        .query_map(values, f)
        .map_err(db)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db)?;
    Ok(rows)
}

#[async_trait]
impl MaintenanceStore for SqliteStore {
    async fn schedules_of(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<ScheduleRow>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
                     WHERE s.household_id = ?1 AND s.item_id = ?2 ORDER BY s.next_due, s.id"
                ),
                [household.to_string(), item.to_string()],
                schedule_from,
            )
        })
        .await
    }

    async fn schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
    ) -> StoreResult<Option<ScheduleRow>> {
        self.read(move |c| schedule_on(c, household, id)).await
    }

    async fn insert_schedule(
        &self,
        schedule: &ScheduleRow,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        let (s, a) = (schedule.clone(), activity.clone());
        self.write(move |tx| {
            write_schedule(tx, &s, true)?;
            write_activity(tx, &a)
        })
        .await
    }

    async fn update_schedule(
        &self,
        schedule: &ScheduleRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        if schedule.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        let (s, a) = (schedule.clone(), activity.clone());
        self.write(move |tx| {
            if write_schedule(tx, &s, false)? == 0 {
                return Err(match schedule_on(tx, s.household_id, s.id)? {
                    Some(_) => StoreError::Stale,
                    None => StoreError::NotFound,
                });
            }
            write_activity(tx, &a)
        })
        .await
    }

    async fn delete_schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        let a = activity.clone();
        self.write(move |tx| {
            let current = schedule_on(tx, household, id)?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::Stale);
            }
            let (hid, sid) = (household.to_string(), id.to_string());
            tx.execute(
                "UPDATE maintenance_entries SET schedule_id = NULL \
                 WHERE household_id = ?1 AND item_id = ?2 AND schedule_id = ?3",
                [&hid, &current.item_id.to_string(), &sid],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM maintenance_schedules WHERE household_id = ?1 AND id = ?2",
                [&hid, &sid],
            )
            .map_err(db)?;
            write_activity(tx, &a)
        })
        .await
    }

    async fn entries_of(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<EntryRow>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
                     WHERE e.household_id = ?1 AND e.item_id = ?2 \
                     ORDER BY e.done_on DESC, e.id DESC"
                ),
                [household.to_string(), item.to_string()],
                entry_from,
            )
        })
        .await
    }

    async fn entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
    ) -> StoreResult<Option<EntryRow>> {
        self.read(move |c| entry_on(c, household, id)).await
    }

    async fn insert_entry(
        &self,
        entry: &EntryRow,
        activity: &ActivityRow,
    ) -> StoreResult<Option<ScheduleRow>> {
        let (e, a) = (entry.clone(), activity.clone());
        self.write(move |tx| {
            write_entry(tx, &e, true)?;
            write_activity(tx, &a)?;
            e.schedule_id
                .map(|sid| refresh(tx, e.household_id, sid, e.updated_at))
                .transpose()
        })
        .await
    }

    async fn update_entry(
        &self,
        entry: &EntryRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        if entry.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        let (e, a) = (entry.clone(), activity.clone());
        self.write(move |tx| {
            if write_entry(tx, &e, false)? == 0 {
                return Err(match entry_on(tx, e.household_id, e.id)? {
                    Some(_) => StoreError::Stale,
                    None => StoreError::NotFound,
                });
            }
            write_activity(tx, &a)?;
            if let Some(sid) = e.schedule_id {
                match refresh(tx, e.household_id, sid, e.updated_at) {
                    Ok(_) | Err(StoreError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(())
        })
        .await
    }

    async fn delete_entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        let a = activity.clone();
        self.write(move |tx| {
            let current = entry_on(tx, household, id)?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::Stale);
            }
            tx.execute(
                "DELETE FROM maintenance_entries WHERE household_id = ?1 AND id = ?2",
                [household.to_string(), id.to_string()],
            )
            .map_err(db)?;
            write_activity(tx, &a)?;
            if let Some(sid) = current.schedule_id {
                match refresh(tx, household, sid, a.at) {
                    Ok(_) | Err(StoreError::NotFound) => {}
                    Err(other) => return Err(other),
                }
            }
            Ok(())
        })
        .await
    }

    async fn due_schedules(
        &self,
        household: HouseholdId,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<ScheduleRow>>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {SCHEDULE_COLUMNS}, i.name, i.location_id \
                     FROM maintenance_schedules s JOIN items i \
                     ON i.household_id = s.household_id AND i.id = s.item_id \
                     WHERE s.household_id = ?1 AND s.next_due <= ?2 AND i.deleted_at IS NULL AND i.sold_date IS NULL \
                     ORDER BY s.next_due, s.id LIMIT ?3"
                ),
                params![household.to_string(), text_of(until), limit as i64],
                |r| with_item(r, 15, schedule_from),
            )
        })
        .await
    }

    async fn done_since(
        &self,
        household: HouseholdId,
        since: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<EntryRow>>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {ENTRY_COLUMNS}, i.name, i.location_id \
                     FROM maintenance_entries e JOIN items i \
                     ON i.household_id = e.household_id AND i.id = e.item_id \
                     WHERE e.household_id = ?1 AND e.done_on >= ?2 AND i.deleted_at IS NULL \
                     ORDER BY e.done_on DESC, e.id DESC LIMIT ?3"
                ),
                params![household.to_string(), text_of(since), limit as i64],
                |r| with_item(r, 14, entry_from),
            )
        })
        .await
    }

    async fn warranties_between(
        &self,
        household: HouseholdId,
        from: Date,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WarrantyRow>> {
        self.read(move |c| {
            collect(
                c,
                "SELECT id, name, warranty_expires, location_id FROM items \
                 WHERE household_id = ?1 AND warranty_expires >= ?2 AND warranty_expires <= ?3 \
                 AND deleted_at IS NULL AND sold_date IS NULL ORDER BY warranty_expires, id LIMIT ?4",
                params![
                    household.to_string(),
                    text_of(from),
                    text_of(until),
                    limit as i64
                ],
                |r| {
                    Ok(WarrantyRow {
                        item_id: uuid_of(r.get(0)?)?.into(),
                        name: r.get(1)?,
                        warranty_expires: date_of(r.get(2)?)?,
                        location_id: opt_uuid(r.get(3)?)?.map(Into::into),
                    })
                },
            )
        })
        .await
    }

    async fn backup_schedules(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceScheduleId>,
        limit: usize,
    ) -> StoreResult<Vec<ScheduleRow>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
                     WHERE s.household_id = ?1 AND (?2 IS NULL OR s.id > ?2) \
                     ORDER BY s.id LIMIT ?3"
                ),
                params![
                    household.to_string(),
                    after.map(|a| a.to_string()),
                    limit as i64
                ],
                schedule_from,
            )
        })
        .await
    }

    async fn backup_entries(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<EntryRow>> {
        self.read(move |c| {
            collect(
                c,
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
                     WHERE e.household_id = ?1 AND (?2 IS NULL OR e.id > ?2) \
                     ORDER BY e.id LIMIT ?3"
                ),
                params![
                    household.to_string(),
                    after.map(|a| a.to_string()),
                    limit as i64
                ],
                entry_from,
            )
        })
        .await
    }

    async fn restore_maintenance(
        &self,
        schedules: &[ScheduleRow],
        entries: &[EntryRow],
    ) -> StoreResult<()> {
        check_restore_rows(schedules.len() + entries.len())?;
        let (schedules, entries) = (schedules.to_vec(), entries.to_vec());
        self.write(move |tx| {
            for s in &schedules {
                write_schedule(tx, s, true)?;
            }
            for e in &entries {
                write_entry(tx, e, true)?;
            }
            Ok(())
        })
        .await
    }
}

/// Deletes the maintenance of an item being purged, in the purge's transaction.
pub(super) fn purge_item(tx: &Transaction<'_>, household: &str, item: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM maintenance_entries WHERE household_id = ?1 AND item_id = ?2",
        [household, item],
    )
    .map_err(db)?;
    tx.execute(
        "DELETE FROM maintenance_schedules WHERE household_id = ?1 AND item_id = ?2",
        [household, item],
    )
    .map_err(db)?;
    Ok(())
}

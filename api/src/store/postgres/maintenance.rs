//! PostgreSQL and Aurora DSQL: items' maintenance schedules and logs.

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

fn schedule_from(r: &Row) -> StoreResult<ScheduleRow> {
    let unit: &str = r.get("unit");
    let anchor: &str = r.get("anchor");
    Ok(ScheduleRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        item_id: r.get::<_, Uuid>("item_id").into(),
        title: r.get("title"),
        every: i64::from(r.get::<_, i32>("every")),
        unit: IntervalUnit::parse(unit)
            .ok_or_else(|| anyhow::anyhow!("unknown interval unit {unit:?}"))?,
        anchor: ScheduleAnchor::parse(anchor)
            .ok_or_else(|| anyhow::anyhow!("unknown anchor {anchor:?}"))?,
        start_date: r.get("start_date"),
        last_done: r.get("last_done"),
        next_due: r.get("next_due"),
        notes: r.get("notes"),
        version: r.get("version"),
        created_by: r.get::<_, Uuid>("created_by").into(),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

fn entry_from(r: &Row) -> StoreResult<EntryRow> {
    Ok(EntryRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        item_id: r.get::<_, Uuid>("item_id").into(),
        schedule_id: r.get::<_, Option<Uuid>>("schedule_id").map(Into::into),
        done_on: r.get("done_on"),
        title: r.get("title"),
        cost: money_from(r, "cost_minor", "cost_currency")?,
        notes: r.get("notes"),
        attachment_ids: serde_json::from_str::<Vec<AttachmentId>>(r.get("attachment_ids"))
            .map_err(anyhow::Error::from)?,
        version: r.get("version"),
        created_by: r.get::<_, Uuid>("created_by").into(),
        created_at: r.get("created_at"),
        updated_at: r.get("updated_at"),
    })
}

fn with_item<T>(r: &Row, row: impl FnOnce(&Row) -> StoreResult<T>) -> StoreResult<WithItem<T>> {
    Ok(WithItem {
        row: row(r)?,
        item_name: r.get("item_name"),
        location_id: r.get::<_, Option<Uuid>>("item_location").map(Into::into),
    })
}

/// Inserts (re-running after a retried commit does nothing) or updates at the version
/// before; how many rows it wrote.
async fn write_schedule(
    tx: &impl GenericClient,
    s: &ScheduleRow,
    insert: bool,
) -> StoreResult<u64> {
    let every = i32::try_from(s.every).map_err(anyhow::Error::from)?;
    let (id, hid, item) = (
        s.id.as_uuid(),
        s.household_id.as_uuid(),
        s.item_id.as_uuid(),
    );
    let changed = if insert {
        exec(
            tx,
            "INSERT INTO maintenance_schedules (id, household_id, item_id, title, every, unit, \
             anchor, start_date, last_done, next_due, notes, version, created_by, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
             ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &hid,
                &item,
                &s.title,
                &every,
                &s.unit.as_str(),
                &s.anchor.as_str(),
                &s.start_date,
                &s.last_done,
                &s.next_due,
                &s.notes,
                &s.version,
                &s.created_by.as_uuid(),
                &s.created_at,
                &s.updated_at,
            ],
        )
        .await
    } else {
        exec(
            tx,
            "UPDATE maintenance_schedules SET title = $4, every = $5, unit = $6, anchor = $7, \
             start_date = $8, last_done = $9, next_due = $10, notes = $11, version = $12::bigint, \
             updated_at = $13 \
             WHERE id = $1 AND household_id = $2 AND item_id = $3 AND version = $12::bigint - 1",
            &[
                &id,
                &hid,
                &item,
                &s.title,
                &every,
                &s.unit.as_str(),
                &s.anchor.as_str(),
                &s.start_date,
                &s.last_done,
                &s.next_due,
                &s.notes,
                &s.version,
                &s.updated_at,
            ],
        )
        .await
    };
    changed.map_err(pg)
}

async fn write_entry(tx: &impl GenericClient, e: &EntryRow, insert: bool) -> StoreResult<u64> {
    let attachments = serde_json::to_string(&e.attachment_ids).map_err(anyhow::Error::from)?;
    let (id, hid, item) = (
        e.id.as_uuid(),
        e.household_id.as_uuid(),
        e.item_id.as_uuid(),
    );
    let amount = e.cost.as_ref().map(|m| m.amount_minor);
    let currency = e.cost.as_ref().map(|m| m.currency.as_str());
    let changed = if insert {
        exec(
            tx,
            "INSERT INTO maintenance_entries (id, household_id, item_id, schedule_id, done_on, \
             title, cost_minor, cost_currency, notes, attachment_ids, version, created_by, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14) ON CONFLICT (id) DO NOTHING",
            &[
                &id,
                &hid,
                &item,
                &e.schedule_id.map(|s| s.as_uuid()),
                &e.done_on,
                &e.title,
                &amount,
                &currency,
                &e.notes,
                &attachments,
                &e.version,
                &e.created_by.as_uuid(),
                &e.created_at,
                &e.updated_at,
            ],
        )
        .await
    } else {
        exec(
            tx,
            "UPDATE maintenance_entries SET done_on = $4, title = $5, cost_minor = $6, \
             cost_currency = $7, notes = $8, attachment_ids = $9, version = $10::bigint, updated_at = $11 \
             WHERE id = $1 AND household_id = $2 AND item_id = $3 AND version = $10::bigint - 1",
            &[
                &id,
                &hid,
                &item,
                &e.done_on,
                &e.title,
                &amount,
                &currency,
                &e.notes,
                &attachments,
                &e.version,
                &e.updated_at,
            ],
        )
        .await
    };
    changed.map_err(pg)
}

async fn schedule_on(
    c: &impl GenericClient,
    household: HouseholdId,
    id: MaintenanceScheduleId,
) -> StoreResult<Option<ScheduleRow>> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
             WHERE s.household_id = $1 AND s.id = $2"
        ))
        .await
        .map_err(pg)?;
    c.query_opt(&stmt, &[&household.as_uuid(), &id.as_uuid()])
        .await
        .map_err(pg)?
        .as_ref()
        .map(schedule_from)
        .transpose()
}

async fn entry_on(
    c: &impl GenericClient,
    household: HouseholdId,
    id: MaintenanceEntryId,
) -> StoreResult<Option<EntryRow>> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
             WHERE e.household_id = $1 AND e.id = $2"
        ))
        .await
        .map_err(pg)?;
    c.query_opt(&stmt, &[&household.as_uuid(), &id.as_uuid()])
        .await
        .map_err(pg)?
        .as_ref()
        .map(entry_from)
        .transpose()
}

/// Moves a schedule to its log as it is now in `tx`: its latest entry's date.
async fn refresh(
    tx: &impl GenericClient,
    household: HouseholdId,
    id: MaintenanceScheduleId,
    at: OffsetDateTime,
) -> StoreResult<ScheduleRow> {
    let current = schedule_on(tx, household, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let last: Option<Date> = tx
        .query_one(
            "SELECT max(done_on) FROM maintenance_entries WHERE household_id = $1 \
             AND item_id = $2 AND schedule_id = $3",
            &[
                &household.as_uuid(),
                &current.item_id.as_uuid(),
                &id.as_uuid(),
            ],
        )
        .await
        .map_err(pg)?
        .get(0);
    match refreshed_schedule(&current, last, at)? {
        Some(next) => {
            write_schedule(tx, &next, false).await?;
            Ok(next)
        }
        None => Ok(current),
    }
}

/// A schedule whose refresh finds it gone is fine: its entries outlive it.
fn gone_is_fine(result: StoreResult<ScheduleRow>) -> StoreResult<()> {
    match result {
        Ok(_) | Err(StoreError::NotFound) => Ok(()),
        Err(other) => Err(other),
    }
}

impl PgStore {
    async fn rows<T>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        f: impl Fn(&Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await.map_err(pg)?;
        let rows = client.query(&stmt, params).await.map_err(pg)?;
        rows.iter().map(f).collect()
    }
}

#[async_trait]
impl MaintenanceStore for PgStore {
    async fn schedules_of(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<ScheduleRow>> {
        self.rows(
            &format!(
                "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
                 WHERE s.household_id = $1 AND s.item_id = $2 ORDER BY s.next_due, s.id"
            ),
            &[&household.as_uuid(), &item.as_uuid()],
            schedule_from,
        )
        .await
    }

    async fn schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
    ) -> StoreResult<Option<ScheduleRow>> {
        let client = self.client().await?;
        schedule_on(&client, household, id).await
    }

    async fn insert_schedule(
        &self,
        schedule: &ScheduleRow,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            if write_schedule(&tx, schedule, true).await? == 1 {
                write_activity(&tx, activity).await?;
            }
            Ok(())
        })
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
        write_tx!(self, |tx| {
            if write_schedule(&tx, schedule, false).await? == 0 {
                return Err(
                    match schedule_on(&tx, schedule.household_id, schedule.id).await? {
                        Some(_) => StoreError::Stale,
                        None => StoreError::NotFound,
                    },
                );
            }
            write_activity(&tx, activity).await
        })
    }

    async fn delete_schedule(
        &self,
        household: HouseholdId,
        id: MaintenanceScheduleId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let current = schedule_on(&tx, household, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::Stale);
            }
            let (hid, sid) = (household.as_uuid(), id.as_uuid());
            tx.execute(
                "UPDATE maintenance_entries SET schedule_id = NULL \
                 WHERE household_id = $1 AND item_id = $2 AND schedule_id = $3",
                &[&hid, &current.item_id.as_uuid(), &sid],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "DELETE FROM maintenance_schedules WHERE household_id = $1 AND id = $2",
                &[&hid, &sid],
            )
            .await
            .map_err(pg)?;
            write_activity(&tx, activity).await
        })
    }

    async fn entries_of(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<EntryRow>> {
        self.rows(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
                 WHERE e.household_id = $1 AND e.item_id = $2 ORDER BY e.done_on DESC, e.id DESC"
            ),
            &[&household.as_uuid(), &item.as_uuid()],
            entry_from,
        )
        .await
    }

    async fn entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
    ) -> StoreResult<Option<EntryRow>> {
        let client = self.client().await?;
        entry_on(&client, household, id).await
    }

    async fn insert_entry(
        &self,
        entry: &EntryRow,
        activity: &ActivityRow,
    ) -> StoreResult<Option<ScheduleRow>> {
        write_tx!(self, |tx| {
            if write_entry(&tx, entry, true).await? == 1 {
                write_activity(&tx, activity).await?;
            }
            match entry.schedule_id {
                Some(sid) => Ok(Some(
                    refresh(&tx, entry.household_id, sid, entry.updated_at).await?,
                )),
                None => Ok(None),
            }
        })
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
        write_tx!(self, |tx| {
            if write_entry(&tx, entry, false).await? == 0 {
                return Err(match entry_on(&tx, entry.household_id, entry.id).await? {
                    Some(_) => StoreError::Stale,
                    None => StoreError::NotFound,
                });
            }
            write_activity(&tx, activity).await?;
            if let Some(sid) = entry.schedule_id {
                gone_is_fine(refresh(&tx, entry.household_id, sid, entry.updated_at).await)?;
            }
            Ok(())
        })
    }

    async fn delete_entry(
        &self,
        household: HouseholdId,
        id: MaintenanceEntryId,
        expected_version: Option<i64>,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let current = entry_on(&tx, household, id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::Stale);
            }
            tx.execute(
                "DELETE FROM maintenance_entries WHERE household_id = $1 AND id = $2",
                &[&household.as_uuid(), &id.as_uuid()],
            )
            .await
            .map_err(pg)?;
            write_activity(&tx, activity).await?;
            if let Some(sid) = current.schedule_id {
                gone_is_fine(refresh(&tx, household, sid, activity.at).await)?;
            }
            Ok(())
        })
    }

    async fn due_schedules(
        &self,
        household: HouseholdId,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<ScheduleRow>>> {
        self.rows(
            &format!(
                "SELECT {SCHEDULE_COLUMNS}, i.name AS item_name, i.location_id AS item_location \
                 FROM maintenance_schedules s JOIN items i \
                 ON i.household_id = s.household_id AND i.id = s.item_id \
                 WHERE s.household_id = $1 AND s.next_due <= $2 AND i.deleted_at IS NULL AND i.sold_date IS NULL \
                 ORDER BY s.next_due, s.id LIMIT $3"
            ),
            &[&household.as_uuid(), &until, &(limit as i64)],
            |r| with_item(r, schedule_from),
        )
        .await
    }

    async fn done_since(
        &self,
        household: HouseholdId,
        since: Date,
        limit: usize,
    ) -> StoreResult<Vec<WithItem<EntryRow>>> {
        self.rows(
            &format!(
                "SELECT {ENTRY_COLUMNS}, i.name AS item_name, i.location_id AS item_location \
                 FROM maintenance_entries e JOIN items i \
                 ON i.household_id = e.household_id AND i.id = e.item_id \
                 WHERE e.household_id = $1 AND e.done_on >= $2 AND i.deleted_at IS NULL \
                 ORDER BY e.done_on DESC, e.id DESC LIMIT $3"
            ),
            &[&household.as_uuid(), &since, &(limit as i64)],
            |r| with_item(r, entry_from),
        )
        .await
    }

    async fn warranties_between(
        &self,
        household: HouseholdId,
        from: Date,
        until: Date,
        limit: usize,
    ) -> StoreResult<Vec<WarrantyRow>> {
        self.rows(
            "SELECT id, name, warranty_expires, location_id FROM items \
             WHERE household_id = $1 AND warranty_expires >= $2 AND warranty_expires <= $3 \
             AND deleted_at IS NULL AND sold_date IS NULL ORDER BY warranty_expires, id LIMIT $4",
            &[&household.as_uuid(), &from, &until, &(limit as i64)],
            |r| {
                Ok(WarrantyRow {
                    item_id: r.get::<_, Uuid>("id").into(),
                    name: r.get("name"),
                    warranty_expires: r.get("warranty_expires"),
                    location_id: r.get::<_, Option<Uuid>>("location_id").map(Into::into),
                })
            },
        )
        .await
    }

    async fn backup_schedules(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceScheduleId>,
        limit: usize,
    ) -> StoreResult<Vec<ScheduleRow>> {
        self.rows(
            &format!(
                "SELECT {SCHEDULE_COLUMNS} FROM maintenance_schedules s \
                 WHERE s.household_id = $1 AND ($2::uuid IS NULL OR s.id > $2) \
                 ORDER BY s.id LIMIT $3"
            ),
            &[
                &household.as_uuid(),
                &after.map(|a| a.as_uuid()),
                &(limit as i64),
            ],
            schedule_from,
        )
        .await
    }

    async fn backup_entries(
        &self,
        household: HouseholdId,
        after: Option<MaintenanceEntryId>,
        limit: usize,
    ) -> StoreResult<Vec<EntryRow>> {
        self.rows(
            &format!(
                "SELECT {ENTRY_COLUMNS} FROM maintenance_entries e \
                 WHERE e.household_id = $1 AND ($2::uuid IS NULL OR e.id > $2) \
                 ORDER BY e.id LIMIT $3"
            ),
            &[
                &household.as_uuid(),
                &after.map(|a| a.as_uuid()),
                &(limit as i64),
            ],
            entry_from,
        )
        .await
    }

    async fn restore_maintenance(
        &self,
        schedules: &[ScheduleRow],
        entries: &[EntryRow],
    ) -> StoreResult<()> {
        check_restore_rows(schedules.len() + entries.len())?;
        write_tx!(self, |tx| {
            for s in schedules {
                write_schedule(&tx, s, true).await?;
            }
            for e in entries {
                write_entry(&tx, e, true).await?;
            }
            Ok(())
        })
    }
}

/// Deletes the maintenance of items being purged, in the purge's transaction.
pub(super) async fn purge_items(
    tx: &impl GenericClient,
    household: Uuid,
    items: &[Uuid],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM maintenance_entries WHERE household_id = $1 AND item_id = ANY($2)",
        &[&household, &items],
    )
    .await
    .map_err(pg)?;
    tx.execute(
        "DELETE FROM maintenance_schedules WHERE household_id = $1 AND item_id = ANY($2)",
        &[&household, &items],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

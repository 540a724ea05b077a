//! SQLite: a household read in pages for its backup, and the writes of a restore.

use super::*;

/// The columns of `ITEM_COLUMNS`, each prefixed with `alias.`.
fn qualified(columns: &str, alias: &str) -> String {
    columns
        .split(", ")
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn activity_from(r: &Row<'_>) -> rusqlite::Result<ActivityRow> {
    let fields: String = r.get(5)?;
    Ok(ActivityRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        item_id: uuid_of(r.get(2)?)?.into(),
        actor_id: uuid_of(r.get(3)?)?.into(),
        action: parse_action(&r.get::<_, String>(4)?).map_err(conversion)?,
        fields: serde_json::from_str(&fields).map_err(conversion)?,
        at: from_micros(r.get(6)?)?,
        via_token: r.get(7)?,
    })
}

/// `(item, time, id)` as bound parameters: the first key of a scan when `None`.
fn key_params(after: Option<BackupKey>) -> (String, i64, String) {
    match after {
        Some((item, at, id)) => (item.to_string(), micros(at), id.to_string()),
        None => (String::new(), i64::MIN, String::new()),
    }
}

/// `ids` as a JSON array, for `json_each`.
fn json_ids<T: ToString>(ids: &[T]) -> StoreResult<String> {
    let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
    Ok(serde_json::to_string(&ids).map_err(anyhow::Error::from)?)
}

#[async_trait]
impl BackupStore for SqliteStore {
    async fn household(&self, household: HouseholdId) -> StoreResult<Option<HouseholdRow>> {
        self.read(move |c| {
            c.query_row(
                "SELECT id, name, currency, version, created_at FROM households WHERE id = ?1",
                [household.to_string()],
                household_from,
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn household_is_empty(&self, household: HouseholdId) -> StoreResult<bool> {
        self.read(move |c| {
            c.query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM items WHERE household_id = ?1) \
                 AND NOT EXISTS (SELECT 1 FROM locations WHERE household_id = ?1)",
                [household.to_string()],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
    }

    async fn backup_counts(&self, household: HouseholdId) -> StoreResult<BackupCounts> {
        self.read(move |c| {
            c.query_row(
                "SELECT (SELECT count(*) FROM locations WHERE household_id = ?1), \
                   (SELECT count(*) FROM items WHERE household_id = ?1), \
                   (SELECT count(*) FROM attachments WHERE household_id = ?1 AND status = 'ready'), \
                   (SELECT count(*) FROM activity WHERE household_id = ?1)",
                [household.to_string()],
                |r| {
                    let n = |i| r.get::<_, i64>(i).map(|v| v.max(0) as u64);
                    Ok(BackupCounts {
                        locations: n(0)?,
                        items: n(1)?,
                        attachments: n(2)?,
                        activity: n(3)?,
                    })
                },
            )
            .map_err(db)
        })
        .await
    }

    async fn backup_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>> {
        self.read(move |c| {
            let (at, id) = match after {
                Some((at, id)) => (micros(at), id.to_string()),
                None => (i64::MIN, String::new()),
            };
            // `created_at >= ?2` bounds the range of `items_created`; the rest skips what
            // came before.
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?1 \
                     AND created_at >= ?2 AND (created_at > ?2 OR id > ?3) \
                     ORDER BY created_at, id LIMIT ?4"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![household.to_string(), at, id, limit as i64],
                    item_from,
                )
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn backup_attachments(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentRow>> {
        self.read(move |c| {
            let (item, at, id) = key_params(after);
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {} FROM attachments a WHERE a.household_id = ?1 AND a.status = 'ready' \
                     AND a.item_id >= ?2 \
                     AND (a.item_id > ?2 OR a.created_at > ?3 OR (a.created_at = ?3 AND a.id > ?4)) \
                     ORDER BY a.item_id, a.created_at, a.id LIMIT ?5",
                    qualified(ATTACHMENT_COLUMNS, "a")
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![household.to_string(), item, at, id, limit as i64],
                    attachment_from,
                )
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn backup_activity(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRow>> {
        self.read(move |c| {
            let (item, at, id) = key_params(after);
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, item_id, actor_id, action, fields, at, via_token \
                     FROM activity WHERE household_id = ?1 AND item_id >= ?2 \
                     AND (item_id > ?2 OR at > ?3 OR (at = ?3 AND id > ?4)) \
                     ORDER BY item_id, at, id LIMIT ?5",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![household.to_string(), item, at, id, limit as i64],
                    activity_from,
                )
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn restore_locations(&self, locations: &[LocationRow]) -> StoreResult<()> {
        check_restore_rows(locations.len())?;
        let locations = locations.to_vec();
        self.write(move |tx| {
            let numbers = match locations.first() {
                Some(first) => super::assets::import_asset_ids(
                    tx,
                    first.household_id,
                    &locations
                        .iter()
                        .map(|l| (l.asset_id, l.id.as_uuid()))
                        .collect::<Vec<_>>(),
                )?,
                None => Vec::new(),
            };
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO locations (id, household_id, parent_id, name, description, version, \
                     created_at, updated_at, asset_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(db)?;
            for (l, asset_id) in locations.iter().zip(numbers) {
                stmt.execute(params![
                    l.id.to_string(),
                    l.household_id.to_string(),
                    l.parent_id.map(|p| p.to_string()),
                    l.name,
                    l.description,
                    l.version,
                    micros(l.created_at),
                    micros(l.updated_at),
                    asset_id.as_i64()
                ])
                .map_err(db)?;
            }
            Ok(())
        })
        .await
    }

    async fn restore_attachments(&self, attachments: &[AttachmentRow]) -> StoreResult<()> {
        check_restore_rows(attachments.len())?;
        let attachments = attachments.to_vec();
        self.write(move |tx| {
            for a in &attachments {
                super::attachments::write_attachment(tx, a)?;
            }
            Ok(())
        })
        .await
    }

    async fn remove_restored(
        &self,
        household: HouseholdId,
        items: &[ItemId],
        attachments: &[AttachmentId],
        locations: &[LocationId],
        limit: usize,
    ) -> StoreResult<u64> {
        let (items, attachments, locations) = (
            json_ids(items)?,
            json_ids(attachments)?,
            json_ids(locations)?,
        );
        self.write(move |tx| {
            let hid = household.to_string();
            let mut budget = limit as i64;
            let mut deleted = 0u64;
            // Rows that only belong to the items go first, so a stop part way leaves
            // nothing pointing at a missing item.
            for sql in [
                "DELETE FROM activity WHERE id IN (SELECT id FROM activity \
                 WHERE household_id = ?1 AND item_id IN (SELECT value FROM json_each(?2)) LIMIT ?3)",
                "DELETE FROM attachments WHERE id IN (SELECT id FROM attachments \
                 WHERE household_id = ?1 AND id IN (SELECT value FROM json_each(?2)) LIMIT ?3)",
                "DELETE FROM item_tags WHERE rowid IN (SELECT rowid FROM item_tags \
                 WHERE household_id = ?1 AND item_id IN (SELECT value FROM json_each(?2)) LIMIT ?3)",
                "DELETE FROM maintenance_entries WHERE id IN (SELECT id FROM maintenance_entries \
                 WHERE household_id = ?1 AND item_id IN (SELECT value FROM json_each(?2)) LIMIT ?3)",
                "DELETE FROM maintenance_schedules WHERE id IN (SELECT id FROM maintenance_schedules \
                 WHERE household_id = ?1 AND item_id IN (SELECT value FROM json_each(?2)) LIMIT ?3)",
            ] {
                if budget <= 0 {
                    return Ok(deleted);
                }
                let ids = if sql.contains("FROM attachments") {
                    &attachments
                } else {
                    &items
                };
                let n = tx.execute(sql, params![hid, ids, budget]).map_err(db)? as i64;
                budget -= n;
                deleted += n as u64;
            }
            // Each item or location deleted also records a removal: two rows.
            for (table, ids, kind) in [
                ("items", &items, RemovalKind::Item),
                ("locations", &locations, RemovalKind::Location),
            ] {
                if budget < 2 {
                    return Ok(deleted);
                }
                let gone: Vec<String> = {
                    let mut stmt = tx
                        .prepare(&format!(
                            "SELECT id FROM {table} WHERE household_id = ?1 \
                             AND id IN (SELECT value FROM json_each(?2)) LIMIT ?3"
                        ))
                        .map_err(db)?;
                    let rows = stmt
                        .query_map(params![hid, ids, budget / 2], |r| r.get(0))
                        .map_err(db)?;
                    rows.collect::<rusqlite::Result<_>>().map_err(db)?
                };
                for id in &gone {
                    tx.execute(
                        &format!("DELETE FROM {table} WHERE household_id = ?1 AND id = ?2"),
                        [&hid, id],
                    )
                    .map_err(db)?;
                }
                super::changes::record_removals(tx, household, kind, &gone)?;
                budget -= 2 * gone.len() as i64;
                deleted += gone.len() as u64;
            }
            Ok(deleted)
        })
        .await
    }
}

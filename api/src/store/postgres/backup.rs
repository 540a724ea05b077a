//! PostgreSQL and Aurora DSQL: a household read in pages for its backup, and the writes of
//! a restore, each in a transaction within DSQL's limits and retried on conflicts.

use super::*;

fn activity_from(r: &Row) -> StoreResult<ActivityRow> {
    Ok(ActivityRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        item_id: r.get::<_, Uuid>("item_id").into(),
        actor_id: r.get::<_, Uuid>("actor_id").into(),
        action: parse_action(r.get("action"))?,
        fields: serde_json::from_str(r.get("fields")).map_err(anyhow::Error::from)?,
        at: r.get("at"),
        via_token: r.get("via_token"),
    })
}

/// `(item, time, id)` as bound parameters: before every row when `None`.
fn key_params(after: Option<BackupKey>) -> (Uuid, OffsetDateTime, Uuid) {
    match after {
        Some((item, at, id)) => (item.as_uuid(), at, id),
        // Item ids are UUIDs, and the nil UUID (unfiled attachments) is the smallest; a time
        // before every row makes the rest of the key irrelevant.
        None => (
            Uuid::nil(),
            OffsetDateTime::UNIX_EPOCH - time::Duration::days(365 * 100),
            Uuid::nil(),
        ),
    }
}

#[async_trait]
impl BackupStore for PgStore {
    async fn household(&self, household: HouseholdId) -> StoreResult<Option<HouseholdRow>> {
        let client = self.client().await?;
        client
            .query_opt(
                "SELECT id, name, currency, version, created_at FROM households WHERE id = $1",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?
            .as_ref()
            .map(household_from)
            .transpose()
    }

    async fn household_is_empty(&self, household: HouseholdId) -> StoreResult<bool> {
        let client = self.client().await?;
        Ok(client
            .query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM items WHERE household_id = $1) \
                 AND NOT EXISTS (SELECT 1 FROM locations WHERE household_id = $1)",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?
            .get(0))
    }

    async fn backup_counts(&self, household: HouseholdId) -> StoreResult<BackupCounts> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT (SELECT count(*) FROM locations WHERE household_id = $1), \
                   (SELECT count(*) FROM items WHERE household_id = $1), \
                   (SELECT count(*) FROM attachments WHERE household_id = $1 AND status = 'ready'), \
                   (SELECT count(*) FROM activity WHERE household_id = $1)",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        let n = |i| row.get::<_, i64>(i).max(0) as u64;
        Ok(BackupCounts {
            locations: n(0),
            items: n(1),
            attachments: n(2),
            activity: n(3),
        })
    }

    async fn backup_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>> {
        let hid = household.as_uuid();
        let limit = limit as i64;
        let client = self.client().await?;
        let rows = match after {
            // `created_at >= $2` bounds the range of `items_created`; the rest skips what
            // came before.
            Some((at, id)) => {
                let stmt = client
                    .prepare_cached(&format!(
                        "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 \
                         AND created_at >= $2 AND (created_at > $2 OR id > $3) \
                         ORDER BY created_at, id LIMIT $4"
                    ))
                    .await
                    .map_err(pg)?;
                client
                    .query(&stmt, &[&hid, &at, &id.as_uuid(), &limit])
                    .await
            }
            None => {
                let stmt = client
                    .prepare_cached(&format!(
                        "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 \
                         ORDER BY created_at, id LIMIT $2"
                    ))
                    .await
                    .map_err(pg)?;
                client.query(&stmt, &[&hid, &limit]).await
            }
        }
        .map_err(pg)?;
        rows.iter().map(item_from).collect()
    }

    async fn backup_attachments(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<AttachmentRow>> {
        let (item, at, id) = key_params(after);
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                 WHERE household_id = $1 AND status = 'ready' AND item_id >= $2 \
                 AND (item_id > $2 OR created_at > $3 OR (created_at = $3 AND id > $4)) \
                 ORDER BY item_id, created_at, id LIMIT $5"
            ))
            .await
            .map_err(pg)?;
        let rows = client
            .query(
                &stmt,
                &[&household.as_uuid(), &item, &at, &id, &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(attachment_from).collect()
    }

    async fn backup_activity(
        &self,
        household: HouseholdId,
        after: Option<BackupKey>,
        limit: usize,
    ) -> StoreResult<Vec<ActivityRow>> {
        let (item, at, id) = key_params(after);
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, household_id, item_id, actor_id, action, fields, at, via_token \
                 FROM activity WHERE household_id = $1 AND item_id >= $2 \
                 AND (item_id > $2 OR at > $3 OR (at = $3 AND id > $4)) \
                 ORDER BY item_id, at, id LIMIT $5",
            )
            .await
            .map_err(pg)?;
        let rows = client
            .query(
                &stmt,
                &[&household.as_uuid(), &item, &at, &id, &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(activity_from).collect()
    }

    async fn restore_locations(&self, locations: &[LocationRow]) -> StoreResult<()> {
        check_restore_rows(locations.len())?;
        if locations.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = locations.iter().map(|l| l.id.as_uuid()).collect();
        let households: Vec<Uuid> = locations.iter().map(|l| l.household_id.as_uuid()).collect();
        let parents: Vec<Option<Uuid>> = locations
            .iter()
            .map(|l| l.parent_id.map(|p| p.as_uuid()))
            .collect();
        let names: Vec<&str> = locations.iter().map(|l| l.name.as_str()).collect();
        let descriptions: Vec<Option<&str>> =
            locations.iter().map(|l| l.description.as_deref()).collect();
        let versions: Vec<i64> = locations.iter().map(|l| l.version).collect();
        let created: Vec<OffsetDateTime> = locations.iter().map(|l| l.created_at).collect();
        let updated: Vec<OffsetDateTime> = locations.iter().map(|l| l.updated_at).collect();
        let wanted: Vec<(Option<AssetId>, Uuid)> = locations
            .iter()
            .map(|l| (l.asset_id, l.id.as_uuid()))
            .collect();
        let household = locations[0].household_id;
        write_tx!(self, |tx| {
            let numbers: Vec<i64> = super::assets::import_asset_ids(&tx, household, &wanted)
                .await?
                .into_iter()
                .map(AssetId::as_i64)
                .collect();
            exec(
                &tx,
                "INSERT INTO locations (id, household_id, parent_id, name, description, version, \
                 created_at, updated_at, asset_id) \
                 SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], \
                 $6::bigint[], $7::timestamptz[], $8::timestamptz[], $9::bigint[])",
                &[
                    &ids,
                    &households,
                    &parents,
                    &names,
                    &descriptions,
                    &versions,
                    &created,
                    &updated,
                    &numbers,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn restore_attachments(&self, attachments: &[AttachmentRow]) -> StoreResult<()> {
        check_restore_rows(attachments.len())?;
        write_tx!(self, |tx| {
            for a in attachments {
                super::attachments::write_attachment(&tx, a).await?;
            }
            Ok(())
        })
    }

    async fn remove_restored(
        &self,
        household: HouseholdId,
        items: &[ItemId],
        attachments: &[AttachmentId],
        locations: &[LocationId],
        limit: usize,
    ) -> StoreResult<u64> {
        let hid = household.as_uuid();
        let items: Vec<Uuid> = items.iter().map(ItemId::as_uuid).collect();
        let attachments: Vec<Uuid> = attachments.iter().map(AttachmentId::as_uuid).collect();
        let locations: Vec<Uuid> = locations.iter().map(LocationId::as_uuid).collect();
        write_tx!(self, |tx| {
            let mut budget = limit as i64;
            let mut deleted = 0u64;
            // Rows that only belong to the items go first, so a stop part way leaves
            // nothing pointing at a missing item.
            for (sql, ids) in [
                (
                    "DELETE FROM activity WHERE id IN (SELECT id FROM activity \
                     WHERE household_id = $1 AND item_id = ANY($2) LIMIT $3)",
                    &items,
                ),
                (
                    "DELETE FROM attachments WHERE id IN (SELECT id FROM attachments \
                     WHERE household_id = $1 AND id = ANY($2) LIMIT $3)",
                    &attachments,
                ),
                (
                    "DELETE FROM item_tags WHERE (item_id, name_lower) IN \
                     (SELECT item_id, name_lower FROM item_tags \
                      WHERE household_id = $1 AND item_id = ANY($2) LIMIT $3)",
                    &items,
                ),
                (
                    "DELETE FROM maintenance_entries WHERE id IN (SELECT id FROM maintenance_entries \
                     WHERE household_id = $1 AND item_id = ANY($2) LIMIT $3)",
                    &items,
                ),
                (
                    "DELETE FROM maintenance_schedules WHERE id IN (SELECT id FROM \
                     maintenance_schedules WHERE household_id = $1 AND item_id = ANY($2) LIMIT $3)",
                    &items,
                ),
            ] {
                if budget <= 0 {
                    return Ok(deleted);
                }
                let n = tx.execute(sql, &[&hid, ids, &budget]).await.map_err(pg)? as i64;
                budget -= n;
                deleted += n as u64;
            }
            // Each item or location deleted also records a removal: two rows.
            for (sql, ids, kind) in [
                (
                    "DELETE FROM items WHERE household_id = $1 AND id IN \
                     (SELECT id FROM items WHERE household_id = $1 AND id = ANY($2) LIMIT $3) \
                     RETURNING id",
                    &items,
                    RemovalKind::Item,
                ),
                (
                    "DELETE FROM locations WHERE household_id = $1 AND id IN \
                     (SELECT id FROM locations WHERE household_id = $1 AND id = ANY($2) LIMIT $3) \
                     RETURNING id",
                    &locations,
                    RemovalKind::Location,
                ),
            ] {
                if budget < 2 {
                    return Ok(deleted);
                }
                let gone: Vec<Uuid> = tx
                    .query(sql, &[&hid, ids, &(budget / 2)])
                    .await
                    .map_err(pg)?
                    .iter()
                    .map(|r| r.get(0))
                    .collect();
                super::changes::record_removals(&tx, hid, kind, &gone).await?;
                budget -= 2 * gone.len() as i64;
                deleted += gone.len() as u64;
            }
            Ok(deleted)
        })
    }
}

//! SQLite: photos and documents, and the daily counters of metered work.

use super::*;

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn attachment_owner(&self, id: AttachmentId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM attachments WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_attachment(&self, a: &AttachmentRow) -> StoreResult<()> {
        let a = a.clone();
        self.write(move |tx| write_attachment(tx, &a)).await
    }

    async fn attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
    ) -> StoreResult<Option<AttachmentRow>> {
        self.read(move |c| attachment_in(c, household, id)).await
    }

    async fn attachments(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<AttachmentRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE household_id = ?1 AND item_id = ?2 AND status = 'ready' \
                     ORDER BY is_primary DESC, kind = 'photo' DESC, created_at, id"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), item.to_string()], attachment_from)
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn claim_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        at: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> StoreResult<bool> {
        // One writer: the first caller's update is committed before the next one looks.
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'processing', claimed_at = ?3 \
                     WHERE household_id = ?1 AND id = ?2 AND (status = 'pending' \
                       OR (status = 'processing' AND coalesce(claimed_at, 0) < ?4))",
                    params![
                        household.to_string(),
                        id.to_string(),
                        micros(at),
                        micros(stale_before)
                    ],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        claimed_at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE attachments SET status = 'pending', claimed_at = NULL \
                 WHERE household_id = ?1 AND id = ?2 AND status = 'processing' \
                 AND claimed_at = ?3",
                params![household.to_string(), id.to_string(), micros(claimed_at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn upload_usage(
        &self,
        household: HouseholdId,
        pending_since: OffsetDateTime,
    ) -> StoreResult<UploadUsage> {
        self.read(move |c| {
            c.query_row(
                "SELECT coalesce(sum(CASE WHEN status = 'ready' THEN stored_bytes END), 0), \
                   coalesce(sum(CASE WHEN status <> 'ready' AND created_at >= ?2 THEN size END), 0), \
                   coalesce(sum(CASE WHEN status <> 'ready' AND created_at >= ?2 THEN 1 END), 0) \
                 FROM attachments WHERE household_id = ?1",
                params![household.to_string(), micros(pending_since)],
                |r| {
                    Ok(UploadUsage {
                        ready_bytes: r.get(0)?,
                        pending_bytes: r.get(1)?,
                        pending: r.get(2)?,
                    })
                },
            )
            .map_err(db)
        })
        .await
    }

    async fn complete_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let a = a.clone();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'ready', size = ?3, stored_bytes = ?4, \
                     content_type = ?5, width = ?6, height = ?7, claimed_at = NULL \
                     WHERE household_id = ?1 AND id = ?2 AND status IN ('pending', 'processing')",
                    params![
                        a.household_id.to_string(),
                        a.id.to_string(),
                        a.size,
                        a.stored_bytes,
                        a.content_type,
                        a.width,
                        a.height,
                    ],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)?;
            ensure_primary(tx, a.household_id, a.item_id)?;
            attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn update_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let a = a.clone();
        self.write(move |tx| {
            let (hid, id) = (a.household_id.to_string(), a.id.to_string());
            let before = attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)?;
            if a.primary {
                tx.execute(
                    "UPDATE attachments SET is_primary = 0 \
                     WHERE household_id = ?1 AND item_id = ?2 AND id <> ?3",
                    [&hid, &a.item_id.to_string(), &id],
                )
                .map_err(db)?;
            }
            let changed = tx
                .execute(
                    "UPDATE attachments SET kind = ?3, filename = ?4, is_primary = ?5, item_id = ?6 \
                     WHERE household_id = ?1 AND id = ?2",
                    params![hid, id, a.kind.as_str(), a.filename, a.primary, a.item_id.to_string()],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)?;
            ensure_primary(tx, a.household_id, a.item_id)?;
            if before.item_id != a.item_id {
                ensure_primary(tx, a.household_id, before.item_id)?;
            }
            attachment_in(tx, a.household_id, a.id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn delete_attachment(&self, household: HouseholdId, id: AttachmentId) -> StoreResult<()> {
        self.write(move |tx| {
            let row = attachment_in(tx, household, id)?.ok_or(StoreError::NotFound)?;
            tx.execute(
                "DELETE FROM attachments WHERE household_id = ?1 AND id = ?2",
                [household.to_string(), id.to_string()],
            )
            .map_err(db)?;
            ensure_primary(tx, household, row.item_id)
        })
        .await
    }

    async fn primary_photos(
        &self,
        household: HouseholdId,
        items: &[ItemId],
    ) -> StoreResult<HashMap<ItemId, AttachmentId>> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let ids = serde_json::to_string(items).map_err(anyhow::Error::from)?;
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT item_id, id FROM attachments WHERE household_id = ?1 \
                     AND item_id IN (SELECT value FROM json_each(?2)) AND is_primary = 1",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), ids], |r| {
                    Ok((
                        ItemId::from(uuid_of(r.get(0)?)?),
                        AttachmentId::from(uuid_of(r.get(1)?)?),
                    ))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn count_usage(&self, keys: &[String], day: &str, n: i64) -> StoreResult<Vec<i64>> {
        let (keys, day) = (keys.to_vec(), day.to_string());
        self.write(move |tx| {
            let mut count = tx
                .prepare_cached(
                    "INSERT INTO usage_counts (key, day, count) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (key, day) DO UPDATE SET count = count + excluded.count \
                     RETURNING count",
                )
                .map_err(db)?;
            keys.iter()
                .map(|key| {
                    count
                        .query_row(params![key, day, n], |r| r.get(0))
                        .map_err(db)
                })
                .collect()
        })
        .await
    }
}

/// Inserts an attachment row (`Conflict` when its id exists).
pub(super) fn write_attachment(tx: &Transaction<'_>, a: &AttachmentRow) -> StoreResult<()> {
    tx.prepare_cached(&format!(
        "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))
    .map_err(db)?
    .execute(params![
        a.id.to_string(),
        a.household_id.to_string(),
        a.item_id.to_string(),
        a.kind.as_str(),
        a.filename,
        a.content_type,
        a.size,
        a.stored_bytes,
        status_str(a.status),
        a.width,
        a.height,
        a.primary,
        a.created_by.to_string(),
        micros(a.created_at),
    ])
    .map_err(db)?;
    Ok(())
}

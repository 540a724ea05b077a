//! PostgreSQL and Aurora DSQL: photos and documents, and the daily counters of metered work.

use super::*;

#[async_trait]
impl AttachmentStore for PgStore {
    async fn attachment_owner(&self, id: AttachmentId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "SELECT household_id FROM attachments WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?
            .map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_attachment(&self, a: &AttachmentRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = write_attachment(&tx, a).await?;
            exactly_one(
                changed,
                StoreError::Conflict("an attachment with this id exists".into()),
            )
        })
    }

    async fn attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
    ) -> StoreResult<Option<AttachmentRow>> {
        let client = self.client().await?;
        attachment_in(&client, household, id).await
    }

    async fn attachments(
        &self,
        household: HouseholdId,
        item: ItemId,
    ) -> StoreResult<Vec<AttachmentRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {ATTACHMENT_COLUMNS} FROM attachments \
                     WHERE household_id = $1 AND item_id = $2 AND status = 'ready' \
                     ORDER BY is_primary DESC, kind = 'photo' DESC, created_at, id"
                ),
                &[&household.as_uuid(), &item.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(attachment_from).collect()
    }

    async fn claim_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        at: OffsetDateTime,
        stale_before: OffsetDateTime,
    ) -> StoreResult<bool> {
        // Two claims at once update the same row: on PostgreSQL the second waits for the
        // first and fails to serialize, on Aurora DSQL it fails at commit; either way it is
        // tried again, sees the claim, and changes nothing.
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'processing', claimed_at = $3 \
                     WHERE household_id = $1 AND id = $2 AND (status = 'pending' \
                       OR (status = 'processing' \
                           AND (claimed_at IS NULL OR claimed_at < $4)))",
                    &[&household.as_uuid(), &id.as_uuid(), &at, &stale_before],
                )
                .await
                .map_err(pg)?;
            Ok(changed == 1)
        })
    }

    async fn release_attachment(
        &self,
        household: HouseholdId,
        id: AttachmentId,
        claimed_at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE attachments SET status = 'pending', claimed_at = NULL \
                 WHERE household_id = $1 AND id = $2 AND status = 'processing' \
                 AND claimed_at = $3",
                &[&household.as_uuid(), &id.as_uuid(), &claimed_at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn upload_usage(
        &self,
        household: HouseholdId,
        pending_since: OffsetDateTime,
    ) -> StoreResult<UploadUsage> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT coalesce(sum(CASE WHEN status = 'ready' THEN stored_bytes END), 0)::bigint, \
                   coalesce(sum(CASE WHEN status <> 'ready' AND created_at >= $2 THEN size END), 0)::bigint, \
                   coalesce(sum(CASE WHEN status <> 'ready' AND created_at >= $2 THEN 1 END), 0)::bigint \
                 FROM attachments WHERE household_id = $1",
                &[&household.as_uuid(), &pending_since],
            )
            .await
            .map_err(pg)?;
        Ok(UploadUsage {
            ready_bytes: row.get(0),
            pending_bytes: row.get(1),
            pending: row.get(2),
        })
    }

    async fn complete_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let width = a.width.and_then(|w| i32::try_from(w).ok());
        let height = a.height.and_then(|h| i32::try_from(h).ok());
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE attachments SET status = 'ready', size = $3, stored_bytes = $4, \
                     content_type = $5, width = $6, height = $7, claimed_at = NULL \
                     WHERE household_id = $1 AND id = $2 \
                     AND status IN ('pending', 'processing')",
                    &[
                        &a.household_id.as_uuid(),
                        &a.id.as_uuid(),
                        &a.size,
                        &a.stored_bytes,
                        &a.content_type,
                        &width,
                        &height,
                    ],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)?;
            ensure_primary(&tx, a.household_id, a.item_id).await?;
            attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn update_attachment(&self, a: &AttachmentRow) -> StoreResult<AttachmentRow> {
        let (hid, id, item) = (
            a.household_id.as_uuid(),
            a.id.as_uuid(),
            a.item_id.as_uuid(),
        );
        write_tx!(self, |tx| {
            let before = attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)?;
            if a.primary {
                tx.execute(
                    "UPDATE attachments SET is_primary = false \
                     WHERE household_id = $1 AND item_id = $2 AND id <> $3 AND is_primary",
                    &[&hid, &item, &id],
                )
                .await
                .map_err(pg)?;
            }
            let changed = tx
                .execute(
                    "UPDATE attachments SET kind = $3, filename = $4, is_primary = $5, item_id = $6 \
                     WHERE household_id = $1 AND id = $2",
                    &[&hid, &id, &a.kind.as_str(), &a.filename, &a.primary, &item],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)?;
            ensure_primary(&tx, a.household_id, a.item_id).await?;
            if before.item_id != a.item_id {
                ensure_primary(&tx, a.household_id, before.item_id).await?;
            }
            attachment_in(&tx, a.household_id, a.id)
                .await?
                .ok_or(StoreError::NotFound)
        })
    }

    async fn delete_attachment(&self, household: HouseholdId, id: AttachmentId) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let item: Uuid = tx
                .query_opt(
                    "DELETE FROM attachments WHERE household_id = $1 AND id = $2 RETURNING item_id",
                    &[&household.as_uuid(), &id.as_uuid()],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?
                .get(0);
            ensure_primary(&tx, household, item.into()).await
        })
    }

    async fn primary_photos(
        &self,
        household: HouseholdId,
        items: &[ItemId],
    ) -> StoreResult<HashMap<ItemId, AttachmentId>> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<Uuid> = items.iter().map(ItemId::as_uuid).collect();
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT item_id, id FROM attachments WHERE household_id = $1 \
                 AND item_id = ANY($2) AND is_primary",
                &[&household.as_uuid(), &ids],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<_, Uuid>(0).into(), r.get::<_, Uuid>(1).into()))
            .collect())
    }

    async fn count_usage(&self, keys: &[String], day: &str, n: i64) -> StoreResult<Vec<i64>> {
        // Always in the order given (household, account, global), so two requests never
        // wait on each other's rows crosswise.
        write_tx!(self, |tx| {
            let mut totals = Vec::with_capacity(keys.len());
            for key in keys {
                let row = tx
                    .query_one(
                        "INSERT INTO usage_counts (key, day, count) VALUES ($1, $2, $3) \
                         ON CONFLICT (key, day) \
                         DO UPDATE SET count = usage_counts.count + excluded.count RETURNING count",
                        &[key, &day, &n],
                    )
                    .await
                    .map_err(pg)?;
                totals.push(row.get(0));
            }
            Ok(totals)
        })
    }
}

/// Inserts an attachment row unless its id exists; the rows written (0 or 1).
pub(super) async fn write_attachment(
    tx: &impl GenericClient,
    a: &AttachmentRow,
) -> StoreResult<u64> {
    let width = a.width.and_then(|w| i32::try_from(w).ok());
    let height = a.height.and_then(|h| i32::try_from(h).ok());
    tx.execute(
        &format!(
            "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (id) DO NOTHING"
        ),
        &[
            &a.id.as_uuid(),
            &a.household_id.as_uuid(),
            &a.item_id.as_uuid(),
            &a.kind.as_str(),
            &a.filename,
            &a.content_type,
            &a.size,
            &a.stored_bytes,
            &status_str(a.status),
            &width,
            &height,
            &a.primary,
            &a.created_by.as_uuid(),
            &a.created_at,
        ],
    )
    .await
    .map_err(pg)
}

//! PostgreSQL and Aurora DSQL: the changes feed (items by `(updated_at, id)`, removals)
//! and the removals that purges and location deletes leave behind.

use super::*;

/// Records that `ids` of `kind` were deleted for good, inside the deleting transaction
/// (one row each: callers delete in chunks well under DSQL's 3,000 rows a transaction).
pub(super) async fn record_removals(
    tx: &impl GenericClient,
    household: Uuid,
    kind: RemovalKind,
    ids: &[Uuid],
) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    exec(
        tx,
        "INSERT INTO removals (household_id, removed_at, kind, id) \
         SELECT $1, $2, $3, r FROM unnest($4::uuid[]) AS t(r)",
        &[&household, &now(), &kind.as_str(), &ids],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

#[async_trait]
impl ChangeStore for PgStore {
    async fn changed_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>> {
        let hid = household.as_uuid();
        let limit = limit as i64;
        let client = self.client().await?;
        let rows = match after {
            // `updated_at >= $2` bounds the index range; the rest skips what came before.
            Some((at, id)) => {
                let stmt = client
                    .prepare_cached(&format!(
                        "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 \
                         AND updated_at >= $2 AND (updated_at > $2 OR id > $3) \
                         ORDER BY updated_at, id LIMIT $4"
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
                         ORDER BY updated_at, id LIMIT $2"
                    ))
                    .await
                    .map_err(pg)?;
                client.query(&stmt, &[&hid, &limit]).await
            }
        }
        .map_err(pg)?;
        rows.iter().map(item_from).collect()
    }

    async fn removals(
        &self,
        household: HouseholdId,
        after: &RemovalKey,
        limit: usize,
    ) -> StoreResult<Vec<RemovalRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT removed_at, kind, id FROM removals WHERE household_id = $1 \
                 AND removed_at >= $2 \
                 AND (removed_at > $2 OR kind > $3 OR (kind = $3 AND id > $4)) \
                 ORDER BY removed_at, kind, id LIMIT $5",
            )
            .await
            .map_err(pg)?;
        let rows = client
            .query(
                &stmt,
                &[
                    &household.as_uuid(),
                    &after.at,
                    &after.kind,
                    &after.id,
                    &(limit as i64),
                ],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(RemovalRow {
                    removed_at: r.get(0),
                    kind: RemovalKind::parse(r.get(1))?,
                    id: r.get(2),
                })
            })
            .collect()
    }

    async fn prune_removals(
        &self,
        household: HouseholdId,
        before: OffsetDateTime,
        limit: usize,
    ) -> StoreResult<u64> {
        let hid = household.as_uuid();
        let limit = limit as i64;
        // Mostly there is nothing to prune: a read says so without a transaction.
        let any = self
            .client()
            .await?
            .query_opt(
                "SELECT 1 FROM removals WHERE household_id = $1 AND removed_at < $2 LIMIT 1",
                &[&hid, &before],
            )
            .await
            .map_err(pg)?;
        if any.is_none() {
            return Ok(0);
        }
        write_tx!(self, |tx| {
            // Up to the `limit`-th oldest (and the few stamped the same microsecond, one
            // purge chunk at most): a bounded transaction.
            let last: Option<OffsetDateTime> = tx
                .query_opt(
                    "SELECT removed_at FROM removals WHERE household_id = $1 AND removed_at < $2 \
                     ORDER BY removed_at LIMIT 1 OFFSET $3",
                    &[&hid, &before, &(limit - 1).max(0)],
                )
                .await
                .map_err(pg)?
                .map(|r| r.get(0));
            let deleted = tx
                .execute(
                    "DELETE FROM removals WHERE household_id = $1 AND removed_at < $2 \
                     AND ($3::timestamptz IS NULL OR removed_at <= $3)",
                    &[&hid, &before, &last],
                )
                .await
                .map_err(pg)?;
            Ok(deleted)
        })
    }
}

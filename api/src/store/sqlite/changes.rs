//! SQLite: the changes feed (items by `(updated_at, id)`, removals) and the removals that
//! purges and location deletes leave behind.

use super::*;

/// Records that `ids` of `kind` were deleted for good, inside the deleting transaction.
pub(super) fn record_removals(
    tx: &Transaction<'_>,
    household: HouseholdId,
    kind: RemovalKind,
    ids: &[String],
) -> StoreResult<()> {
    let at = micros(now());
    let mut stmt = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO removals (household_id, removed_at, kind, id) VALUES (?1, ?2, ?3, ?4)",
        )
        .map_err(db)?;
    for id in ids {
        stmt.execute(params![household.to_string(), at, kind.as_str(), id])
            .map_err(db)?;
    }
    Ok(())
}

#[async_trait]
impl ChangeStore for SqliteStore {
    async fn changed_items(
        &self,
        household: HouseholdId,
        after: Option<(OffsetDateTime, ItemId)>,
        limit: usize,
    ) -> StoreResult<Vec<ItemRow>> {
        self.read(move |c| {
            let hid = household.to_string();
            let limit = limit as i64;
            let rows = match after {
                // `updated_at >= ?` bounds the index range; the rest skips what came before.
                Some((at, id)) => {
                    let mut stmt = c
                        .prepare_cached(&format!(
                            "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?1 \
                             AND updated_at >= ?2 AND (updated_at > ?2 OR id > ?3) \
                             ORDER BY updated_at, id LIMIT ?4"
                        ))
                        .map_err(db)?;
                    let rows = stmt
                        .query_map(params![hid, micros(at), id.to_string(), limit], item_from)
                        .map_err(db)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()
                }
                None => {
                    let mut stmt = c
                        .prepare_cached(&format!(
                            "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?1 \
                             ORDER BY updated_at, id LIMIT ?2"
                        ))
                        .map_err(db)?;
                    let rows = stmt.query_map(params![hid, limit], item_from).map_err(db)?;
                    rows.collect::<rusqlite::Result<Vec<_>>>()
                }
            };
            rows.map_err(db)
        })
        .await
    }

    async fn removals(
        &self,
        household: HouseholdId,
        after: &RemovalKey,
        limit: usize,
    ) -> StoreResult<Vec<RemovalRow>> {
        let after = after.clone();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT removed_at, kind, id FROM removals WHERE household_id = ?1 \
                     AND removed_at >= ?2 \
                     AND (removed_at > ?2 OR kind > ?3 OR (kind = ?3 AND id > ?4)) \
                     ORDER BY removed_at, kind, id LIMIT ?5",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![
                        household.to_string(),
                        micros(after.at),
                        after.kind,
                        after.id.to_string(),
                        limit as i64
                    ],
                    |r| {
                        Ok((
                            from_micros(r.get(0)?)?,
                            r.get::<_, String>(1)?,
                            uuid_of(r.get(2)?)?,
                        ))
                    },
                )
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (removed_at, kind, id) = row.map_err(db)?;
                out.push(RemovalRow {
                    removed_at,
                    kind: RemovalKind::parse(&kind)?,
                    id,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn prune_removals(
        &self,
        household: HouseholdId,
        before: OffsetDateTime,
        limit: usize,
    ) -> StoreResult<u64> {
        let hid = household.to_string();
        let any = self
            .read({
                let hid = hid.clone();
                move |c| {
                    c.prepare_cached(
                        "SELECT 1 FROM removals WHERE household_id = ?1 AND removed_at < ?2 LIMIT 1",
                    )
                    .map_err(db)?
                    .exists(params![hid, micros(before)])
                    .map_err(db)
                }
            })
            .await?;
        // Mostly there is nothing to prune: a read says so without taking the writer.
        if !any {
            return Ok(0);
        }
        self.write(move |tx| {
            let deleted = tx
                .execute(
                    "DELETE FROM removals WHERE rowid IN (SELECT rowid FROM removals \
                     WHERE household_id = ?1 AND removed_at < ?2 ORDER BY removed_at LIMIT ?3)",
                    params![hid, micros(before), limit as i64],
                )
                .map_err(db)?;
            Ok(deleted as u64)
        })
        .await
    }
}

//! SQLite: asset ids. The one writer connection runs writes one at a time, so a number
//! checked free inside `write` is still free when the write commits.

use super::*;

/// Takes `n` numbers from the household's counter: the first of them. A location or item
/// whose household has no row (only tests make those) numbers after the highest in use.
pub(super) fn next_asset_ids(
    tx: &Transaction<'_>,
    household: HouseholdId,
    n: u64,
) -> StoreResult<AssetId> {
    let n = n as i64;
    let hid = household.to_string();
    let first: Option<i64> = tx
        .prepare_cached(
            "UPDATE households SET next_asset_id = coalesce(next_asset_id, 1) + ?2 WHERE id = ?1 \
             RETURNING next_asset_id - ?2",
        )
        .map_err(db)?
        .query_row(params![hid, n], |r| r.get(0))
        .optional()
        .map_err(db)?;
    let first = match first {
        Some(first) => first,
        None => highest_in_use(tx, household)? + 1,
    };
    AssetId::from_i64(first)
        .filter(|_| first + n - 1 <= shared::MAX_ASSET_ID as i64)
        .ok_or_else(|| StoreError::Conflict("the household has used every asset id".into()))
}

fn highest_in_use(tx: &Transaction<'_>, household: HouseholdId) -> StoreResult<i64> {
    tx.query_row(
        "SELECT max(coalesce((SELECT max(asset_id) FROM items WHERE household_id = ?1), 0), \
         coalesce((SELECT max(asset_id) FROM locations WHERE household_id = ?1), 0))",
        [household.to_string()],
        |r| r.get(0),
    )
    .map_err(db)
}

/// What holds `asset_id` in the household, other than `own`.
fn holder(
    tx: &Transaction<'_>,
    household: HouseholdId,
    asset_id: AssetId,
    own: Uuid,
) -> StoreResult<Option<(AssetKind, String)>> {
    tx.prepare_cached(
        "SELECT 'item', name FROM items WHERE household_id = ?1 AND asset_id = ?2 AND id <> ?3 \
         UNION ALL \
         SELECT 'location', name FROM locations WHERE household_id = ?1 AND asset_id = ?2 AND id <> ?3 \
         LIMIT 1",
    )
    .map_err(db)?
    .query_row(
        params![household.to_string(), asset_id.as_i64(), own.to_string()],
        |r| {
            let kind = if r.get::<_, String>(0)? == "item" {
                AssetKind::Item
            } else {
                AssetKind::Location
            };
            Ok((kind, r.get(1)?))
        },
    )
    .optional()
    .map_err(db)
}

/// Claims `asset_id` for the item or location `own`: `Conflict` when another item or
/// location of the household has it; the counter moves past it.
pub(super) fn claim_asset_id(
    tx: &Transaction<'_>,
    household: HouseholdId,
    asset_id: AssetId,
    own: Uuid,
) -> StoreResult<()> {
    if let Some((kind, name)) = holder(tx, household, asset_id, own)? {
        return Err(asset_id_taken(asset_id, kind, &name));
    }
    tx.prepare_cached(
        "UPDATE households SET next_asset_id = max(coalesce(next_asset_id, 1), ?2 + 1) WHERE id = ?1",
    )
    .map_err(db)?
    .execute(params![household.to_string(), asset_id.as_i64()])
    .map_err(db)?;
    Ok(())
}

/// The asset ids of a batch of new rows (`(asked for, id)`): each keeps the number it asks
/// for when that is free in the household and in the batch; the others get a block of new
/// numbers, in order, taken after the counter has moved past the kept ones.
pub(super) fn import_asset_ids(
    tx: &Transaction<'_>,
    household: HouseholdId,
    rows: &[(Option<AssetId>, Uuid)],
) -> StoreResult<Vec<AssetId>> {
    let mut kept = std::collections::HashSet::new();
    let mut numbers: Vec<Option<AssetId>> = Vec::with_capacity(rows.len());
    for &(wanted, own) in rows {
        let keep = match wanted {
            Some(n) if !kept.contains(&n) && holder(tx, household, n, own)?.is_none() => Some(n),
            _ => None,
        };
        if let Some(n) = keep {
            kept.insert(n);
        }
        numbers.push(keep);
    }
    if let Some(highest) = kept.iter().max() {
        tx.prepare_cached(
            "UPDATE households SET next_asset_id = max(coalesce(next_asset_id, 1), ?2 + 1) WHERE id = ?1",
        )
        .map_err(db)?
        .execute(params![household.to_string(), highest.as_i64()])
        .map_err(db)?;
    }
    let missing = numbers.iter().filter(|n| n.is_none()).count() as u64;
    let mut next = if missing > 0 {
        next_asset_ids(tx, household, missing)?.get()
    } else {
        0
    };
    let mut out = Vec::with_capacity(rows.len());
    for n in numbers {
        out.push(match n {
            Some(n) => n,
            None => {
                let n = AssetId::new(next).ok_or_else(|| {
                    StoreError::Conflict("the household has used every asset id".into())
                })?;
                next += 1;
                n
            }
        });
    }
    Ok(out)
}

/// Numbers up to `limit` of the household's rows without an asset id, oldest first.
pub(super) fn number_assets_on(
    tx: &Transaction<'_>,
    household: HouseholdId,
    limit: usize,
) -> StoreResult<u64> {
    let hid = household.to_string();
    let rows: Vec<(String, String)> = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT kind, id FROM ( \
                   SELECT 'item' AS kind, id, created_at FROM items \
                   WHERE household_id = ?1 AND asset_id IS NULL \
                   UNION ALL \
                   SELECT 'location', id, created_at FROM locations \
                   WHERE household_id = ?1 AND asset_id IS NULL) \
                 ORDER BY created_at, id LIMIT ?2",
            )
            .map_err(db)?;
        let rows = stmt
            .query_map(params![hid, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<_>>().map_err(db)?
    };
    if rows.is_empty() {
        return Ok(0);
    }
    // Past every number in use, whatever the counter says.
    let highest = highest_in_use(tx, household)?;
    tx.execute(
        "UPDATE households SET next_asset_id = max(coalesce(next_asset_id, 1), ?2 + 1) WHERE id = ?1",
        params![hid, highest],
    )
    .map_err(db)?;
    let first = next_asset_ids(tx, household, rows.len() as u64)?.get() as i64;
    for (n, (kind, id)) in rows.iter().enumerate() {
        let sql = if kind == "item" {
            "UPDATE items SET asset_id = ?3 WHERE household_id = ?1 AND id = ?2"
        } else {
            "UPDATE locations SET asset_id = ?3 WHERE household_id = ?1 AND id = ?2"
        };
        tx.prepare_cached(sql)
            .map_err(db)?
            .execute(params![hid, id, first + n as i64])
            .map_err(db)?;
    }
    Ok(rows.len() as u64)
}

pub(super) fn households_to_number_on(
    c: &Connection,
    limit: usize,
) -> StoreResult<Vec<HouseholdId>> {
    let mut stmt = c
        .prepare_cached(
            "SELECT household_id FROM items WHERE asset_id IS NULL \
             UNION SELECT household_id FROM locations WHERE asset_id IS NULL LIMIT ?1",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([limit as i64], |r| {
            Ok(HouseholdId::from(uuid_of(r.get(0)?)?))
        })
        .map_err(db)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db)
}

/// Numbers every row made before asset ids existed, on the connection that migrates.
pub(super) fn backfill_on(conn: &mut Connection) -> StoreResult<u64> {
    let mut numbered = 0;
    loop {
        let households = households_to_number_on(conn, 100)?;
        if households.is_empty() {
            return Ok(numbered);
        }
        for household in households {
            loop {
                let tx = conn.transaction().map_err(db)?;
                let n = number_assets_on(&tx, household, migrate::BACKFILL_ROWS)?;
                tx.commit().map_err(db)?;
                numbered += n;
                if n == 0 {
                    break;
                }
            }
        }
    }
}

const ASSET_COLUMNS: &str = "kind, id, household_id, name, asset_id, location_id";

fn asset_from(r: &Row<'_>) -> rusqlite::Result<AssetRow> {
    let kind = if r.get::<_, String>(0)? == "item" {
        AssetKind::Item
    } else {
        AssetKind::Location
    };
    let asset_id: i64 = r.get(4)?;
    Ok(AssetRow {
        kind,
        id: uuid_of(r.get(1)?)?,
        household_id: uuid_of(r.get(2)?)?.into(),
        name: r.get(3)?,
        asset_id: AssetId::from_i64(asset_id)
            .ok_or_else(|| conversion(format!("{asset_id} is not an asset id")))?,
        location_id: opt_uuid(r.get(5)?)?.map(Into::into),
    })
}

#[async_trait]
impl AssetStore for SqliteStore {
    async fn assets_by_id(
        &self,
        households: &[HouseholdId],
        asset_id: AssetId,
    ) -> StoreResult<Vec<AssetRow>> {
        let households: Vec<String> = households.iter().map(ToString::to_string).collect();
        let households = serde_json::to_string(&households).map_err(anyhow::Error::from)?;
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {ASSET_COLUMNS} FROM ( \
                       SELECT 'item' AS kind, i.id, i.household_id, i.name, i.asset_id, i.location_id \
                       FROM json_each(?1) AS h CROSS JOIN items i \
                       ON i.household_id = h.value AND i.asset_id = ?2 WHERE i.deleted_at IS NULL \
                       UNION ALL \
                       SELECT 'location', l.id, l.household_id, l.name, l.asset_id, l.id \
                       FROM json_each(?1) AS h CROSS JOIN locations l \
                       ON l.household_id = h.value AND l.asset_id = ?2) \
                     ORDER BY household_id, kind"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(params![households, asset_id.as_i64()], asset_from)
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn assets_in_range(
        &self,
        household: HouseholdId,
        from: AssetId,
        to: AssetId,
        limit: usize,
    ) -> StoreResult<Vec<(AssetKind, Uuid)>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT kind, id FROM ( \
                       SELECT 'item' AS kind, id, asset_id FROM items \
                       WHERE household_id = ?1 AND asset_id BETWEEN ?2 AND ?3 AND deleted_at IS NULL \
                       UNION ALL \
                       SELECT 'location', id, asset_id FROM locations \
                       WHERE household_id = ?1 AND asset_id BETWEEN ?2 AND ?3) \
                     ORDER BY asset_id LIMIT ?4",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![
                        household.to_string(),
                        from.as_i64(),
                        to.as_i64(),
                        limit as i64
                    ],
                    |r| {
                        let kind = if r.get::<_, String>(0)? == "item" {
                            AssetKind::Item
                        } else {
                            AssetKind::Location
                        };
                        Ok((kind, uuid_of(r.get(1)?)?))
                    },
                )
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn number_assets(&self, household: HouseholdId, limit: usize) -> StoreResult<u64> {
        self.write(move |tx| number_assets_on(tx, household, limit))
            .await
    }

    async fn households_to_number(&self, limit: usize) -> StoreResult<Vec<HouseholdId>> {
        self.read(move |c| households_to_number_on(c, limit)).await
    }
}

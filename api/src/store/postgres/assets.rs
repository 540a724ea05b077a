//! PostgreSQL and Aurora DSQL: asset ids. Every write that gives out or claims a number
//! changes the household's row (its counter), so two such writes in one household never
//! both commit on a snapshot that misses the other: PostgreSQL's repeatable read fails the
//! later one with 40001, Aurora DSQL's optimistic concurrency does the same at commit, and
//! `write_tx!` runs it again on fresh data.

use super::*;

/// Takes `n` numbers from the household's counter: the first of them. Items or locations
/// whose household has no row (only tests make those) number after the highest in use.
pub(super) async fn next_asset_ids(
    tx: &impl GenericClient,
    household: HouseholdId,
    n: u64,
) -> StoreResult<AssetId> {
    let hid = household.as_uuid();
    let n = n as i64;
    let first: i64 = match tx
        .query_opt(
            "UPDATE households SET next_asset_id = coalesce(next_asset_id, 1) + $2 WHERE id = $1 \
             RETURNING next_asset_id - $2",
            &[&hid, &n],
        )
        .await
        .map_err(pg)?
    {
        Some(row) => row.get(0),
        None => highest_in_use(tx, hid).await? + 1,
    };
    AssetId::from_i64(first)
        .filter(|_| first + n - 1 <= shared::MAX_ASSET_ID as i64)
        .ok_or_else(|| StoreError::Conflict("the household has used every asset id".into()))
}

async fn highest_in_use(tx: &impl GenericClient, hid: Uuid) -> StoreResult<i64> {
    Ok(tx
        .query_one(
            "SELECT GREATEST(coalesce((SELECT max(asset_id) FROM items WHERE household_id = $1), 0), \
             coalesce((SELECT max(asset_id) FROM locations WHERE household_id = $1), 0))",
            &[&hid],
        )
        .await
        .map_err(pg)?
        .get(0))
}

/// Claims `asset_id` for the item or location `own`: `Conflict` when another item or
/// location of the household has it; the counter moves past it.
pub(super) async fn claim_asset_id(
    tx: &impl GenericClient,
    household: HouseholdId,
    asset_id: AssetId,
    own: Uuid,
) -> StoreResult<()> {
    let (hid, n) = (household.as_uuid(), asset_id.as_i64());
    exec(tx, CLAIM_ASSET_ID, &[&hid, &n]).await.map_err(pg)?;
    let holder = tx
        .query_opt(ASSET_HOLDER, &[&hid, &n, &own])
        .await
        .map_err(pg)?;
    match holder {
        Some(row) => Err(asset_id_taken(asset_id, asset_kind(row.get(0)), row.get(1))),
        None => Ok(()),
    }
}

/// The asset ids of a batch of new rows (`(asked for, id)`): each keeps the number it asks
/// for when that is free in the household and in the batch; the others get a block of new
/// numbers, in order, taken after the counter has moved past the kept ones.
pub(super) async fn import_asset_ids(
    tx: &impl GenericClient,
    household: HouseholdId,
    rows: &[(Option<AssetId>, Uuid)],
) -> StoreResult<Vec<AssetId>> {
    let hid = household.as_uuid();
    let asked: Vec<i64> = rows
        .iter()
        .filter_map(|(n, _)| n.map(AssetId::as_i64))
        .collect();
    // The counter first: the household's row is written before anything is read.
    let highest = asked.iter().copied().max().unwrap_or(0);
    exec(tx, CLAIM_ASSET_ID, &[&hid, &highest])
        .await
        .map_err(pg)?;
    let taken: std::collections::HashSet<i64> = if asked.is_empty() {
        Default::default()
    } else {
        tx.query(
            "SELECT asset_id FROM items WHERE household_id = $1 AND asset_id = ANY($2) \
             UNION SELECT asset_id FROM locations WHERE household_id = $1 AND asset_id = ANY($2)",
            &[&hid, &asked],
        )
        .await
        .map_err(pg)?
        .iter()
        .map(|r| r.get(0))
        .collect()
    };
    let mut kept = std::collections::HashSet::new();
    let numbers: Vec<Option<AssetId>> = rows
        .iter()
        .map(|(wanted, _)| wanted.filter(|n| !taken.contains(&n.as_i64()) && kept.insert(*n)))
        .collect();
    let missing = numbers.iter().filter(|n| n.is_none()).count() as u64;
    let mut next = if missing > 0 {
        next_asset_ids(tx, household, missing).await?.get()
    } else {
        0
    };
    numbers
        .into_iter()
        .map(|n| match n {
            Some(n) => Ok(n),
            None => {
                let n = AssetId::new(next).ok_or_else(|| {
                    StoreError::Conflict("the household has used every asset id".into())
                })?;
                next += 1;
                Ok(n)
            }
        })
        .collect()
}

/// Rows without an asset id, oldest first.
const UNNUMBERED: &str = "SELECT kind, id FROM ( \
       SELECT 'item' AS kind, id, created_at FROM items \
       WHERE household_id = $1 AND asset_id IS NULL \
       UNION ALL \
       SELECT 'location', id, created_at FROM locations \
       WHERE household_id = $1 AND asset_id IS NULL) AS unnumbered \
     ORDER BY created_at, id LIMIT $2";

const NUMBER_ITEM: &str =
    "UPDATE items SET asset_id = $3 WHERE household_id = $1 AND id = $2 AND asset_id IS NULL";
const NUMBER_LOCATION: &str =
    "UPDATE locations SET asset_id = $3 WHERE household_id = $1 AND id = $2 AND asset_id IS NULL";

const ASSET_COLUMNS: &str = "kind, id, household_id, name, asset_id, location_id";

fn asset_from(r: &Row) -> StoreResult<AssetRow> {
    let asset_id: i64 = r.get(4);
    Ok(AssetRow {
        kind: asset_kind(r.get(0)),
        id: r.get(1),
        household_id: r.get::<_, Uuid>(2).into(),
        name: r.get(3),
        asset_id: AssetId::from_i64(asset_id)
            .ok_or_else(|| anyhow::anyhow!("{asset_id} is not an asset id"))?,
        location_id: r.get::<_, Option<Uuid>>(5).map(Into::into),
    })
}

#[async_trait]
impl AssetStore for PgStore {
    async fn assets_by_id(
        &self,
        households: &[HouseholdId],
        asset_id: AssetId,
    ) -> StoreResult<Vec<AssetRow>> {
        let client = self.client().await?;
        let households: Vec<Uuid> = households.iter().map(HouseholdId::as_uuid).collect();
        let rows = client
            .query(
                &format!(
                    "SELECT {ASSET_COLUMNS} FROM ( \
                       SELECT 'item' AS kind, id, household_id, name, asset_id, location_id FROM items \
                       WHERE household_id = ANY($1) AND asset_id = $2 AND deleted_at IS NULL \
                       UNION ALL \
                       SELECT 'location', id, household_id, name, asset_id, id FROM locations \
                       WHERE household_id = ANY($1) AND asset_id = $2) AS found \
                     ORDER BY household_id, kind"
                ),
                &[&households, &asset_id.as_i64()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(asset_from).collect()
    }

    async fn assets_in_range(
        &self,
        household: HouseholdId,
        from: AssetId,
        to: AssetId,
        limit: usize,
    ) -> StoreResult<Vec<(AssetKind, Uuid)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT kind, id FROM ( \
                   SELECT 'item' AS kind, id, asset_id FROM items \
                   WHERE household_id = $1 AND asset_id BETWEEN $2 AND $3 AND deleted_at IS NULL \
                   UNION ALL \
                   SELECT 'location', id, asset_id FROM locations \
                   WHERE household_id = $1 AND asset_id BETWEEN $2 AND $3) AS found \
                 ORDER BY asset_id LIMIT $4",
                &[
                    &household.as_uuid(),
                    &from.as_i64(),
                    &to.as_i64(),
                    &(limit as i64),
                ],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (asset_kind(r.get(0)), r.get(1)))
            .collect())
    }

    async fn number_assets(&self, household: HouseholdId, limit: usize) -> StoreResult<u64> {
        let hid = household.as_uuid();
        let limit = limit as i64;
        write_tx!(self, |tx| {
            // Past every number in use, whatever the counter says; and the household's row
            // written first, so a create beside this waits or collides.
            let highest = highest_in_use(&tx, hid).await?;
            exec(&tx, CLAIM_ASSET_ID, &[&hid, &highest])
                .await
                .map_err(pg)?;
            let rows = tx.query(UNNUMBERED, &[&hid, &limit]).await.map_err(pg)?;
            if rows.is_empty() {
                return Ok(0);
            }
            let first = next_asset_ids(&tx, household, rows.len() as u64)
                .await?
                .as_i64();
            // One plain update a row, all sent before any answer is awaited.
            let item = tx.prepare_cached(NUMBER_ITEM).await.map_err(pg)?;
            let location = tx.prepare_cached(NUMBER_LOCATION).await.map_err(pg)?;
            let numbered: Vec<(Uuid, i64, bool)> = rows
                .iter()
                .enumerate()
                .map(|(n, row)| {
                    (
                        row.get(1),
                        first + n as i64,
                        row.get::<_, &str>(0) == "item",
                    )
                })
                .collect();
            let params: Vec<[&(dyn ToSql + Sync); 3]> = numbered
                .iter()
                .map(|(id, n, _)| [&hid as &(dyn ToSql + Sync), id, n])
                .collect();
            futures_util::future::try_join_all(numbered.iter().zip(&params).map(
                |((_, _, is_item), params)| {
                    let stmt = if *is_item { &item } else { &location };
                    tx.execute(stmt, params)
                },
            ))
            .await
            .map_err(pg)?;
            Ok(rows.len() as u64)
        })
    }

    async fn households_to_number(&self, limit: usize) -> StoreResult<Vec<HouseholdId>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT household_id FROM items WHERE asset_id IS NULL \
                 UNION SELECT household_id FROM locations WHERE asset_id IS NULL LIMIT $1",
                &[&(limit as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get::<_, Uuid>(0).into()).collect())
    }
}

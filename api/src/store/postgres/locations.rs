//! PostgreSQL and Aurora DSQL: the location tree. Writes that change the tree's shape take
//! the household's lock (`lock_household`) and check the change on the links as they stand
//! inside the transaction, so concurrent moves, and a create beside a delete, can't both
//! pass on stale data.

use super::tree::Links;
use super::*;

/// The household's parent links as this transaction sees them.
async fn links(tx: &impl GenericClient, household: Uuid) -> StoreResult<Links> {
    let rows = tx
        .query(
            "SELECT id, parent_id FROM locations WHERE household_id = $1",
            &[&household],
        )
        .await
        .map_err(pg)?;
    Ok(Links::new(rows.iter().map(|r| {
        (
            LocationId::from(r.get::<_, Uuid>(0)),
            r.get::<_, Option<Uuid>>(1).map(LocationId::from),
        )
    })))
}

#[async_trait]
impl LocationStore for PgStore {
    async fn locations(&self, household: HouseholdId) -> StoreResult<Vec<LocationRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, household_id, parent_id, name, description, version, created_at, updated_at, \
                 asset_id FROM locations WHERE household_id = $1",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(location_from).collect())
    }

    async fn location_item_counts(
        &self,
        household: HouseholdId,
    ) -> StoreResult<HashMap<LocationId, i64>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT location_id, count(*) FROM items \
                 WHERE household_id = $1 AND deleted_at IS NULL AND location_id IS NOT NULL \
                 GROUP BY location_id",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| (LocationId::from(r.get::<_, Uuid>(0)), r.get(1)))
            .collect())
    }

    async fn location_owner(&self, id: LocationId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT household_id FROM locations WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_location(&self, l: &LocationRow) -> StoreResult<AssetId> {
        let hid = l.household_id.as_uuid();
        write_tx!(self, |tx| {
            lock_household(&tx, hid).await?;
            links(&tx, hid).await?.check_write(l.id, l.parent_id)?;
            let asset_id = match l.asset_id {
                Some(wanted) => {
                    super::assets::claim_asset_id(&tx, l.household_id, wanted, l.id.as_uuid())
                        .await?;
                    wanted
                }
                None => super::assets::next_asset_ids(&tx, l.household_id, 1).await?,
            };
            tx.execute(
                "INSERT INTO locations (id, household_id, parent_id, name, description, version, created_at, updated_at, asset_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &l.id.as_uuid(),
                    &l.household_id.as_uuid(),
                    &l.parent_id.map(|p| p.as_uuid()),
                    &l.name,
                    &l.description,
                    &l.version,
                    &l.created_at,
                    &l.updated_at,
                    &asset_id.as_i64(),
                ],
            )
            .await
            .map_err(pg)?;
            Ok(asset_id)
        })
    }

    async fn update_location(&self, l: &LocationRow, expected_version: i64) -> StoreResult<()> {
        let hid = l.household_id.as_uuid();
        write_tx!(self, |tx| {
            lock_household(&tx, hid).await?;
            links(&tx, hid).await?.check_write(l.id, l.parent_id)?;
            if let Some(wanted) = l.asset_id {
                super::assets::claim_asset_id(&tx, l.household_id, wanted, l.id.as_uuid()).await?;
            }
            let changed = tx
                .execute(
                    "UPDATE locations SET parent_id = $3, name = $4, description = $5, version = $6, updated_at = $7, \
                     asset_id = coalesce($9, asset_id) \
                     WHERE id = $1 AND household_id = $2 AND version = $8",
                    &[
                        &l.id.as_uuid(),
                        &l.household_id.as_uuid(),
                        &l.parent_id.map(|p| p.as_uuid()),
                        &l.name,
                        &l.description,
                        &l.version,
                        &l.updated_at,
                        &expected_version,
                        &l.asset_id.map(AssetId::as_i64),
                    ],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::Stale)
        })
    }

    async fn delete_location(&self, household: HouseholdId, id: LocationId) -> StoreResult<()> {
        let (hid, lid) = (household.as_uuid(), id.as_uuid());
        write_tx!(self, |tx| {
            lock_household(&tx, hid).await?;
            let children: i64 = tx
                .query_one(
                    "SELECT count(*) FROM locations WHERE household_id = $1 AND parent_id = $2",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?
                .get(0);
            let items: i64 = tx
                .query_one(
                    "SELECT count(*) FROM items WHERE household_id = $1 AND location_id = $2 AND deleted_at IS NULL",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?
                .get(0);
            if children > 0 || items > 0 {
                return Err(StoreError::Conflict(describe_contents(items, children)));
            }
            let deleted = tx
                .execute(
                    "DELETE FROM locations WHERE household_id = $1 AND id = $2",
                    &[&hid, &lid],
                )
                .await
                .map_err(pg)?;
            exactly_one(deleted, StoreError::NotFound)?;
            super::changes::record_removals(&tx, hid, RemovalKind::Location, &[lid]).await
        })
    }
}

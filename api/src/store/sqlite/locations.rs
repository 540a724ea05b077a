//! SQLite: the location tree. The one writer connection runs writes one at a time, so a
//! check made inside `write` sees every earlier write and no later one.

use super::tree::Links;
use super::*;

/// The household's parent links as they stand inside the write.
fn links(tx: &Transaction<'_>, household: HouseholdId) -> StoreResult<Links> {
    let mut stmt = tx
        .prepare_cached("SELECT id, parent_id FROM locations WHERE household_id = ?1")
        .map_err(db)?;
    let rows = stmt
        .query_map([household.to_string()], |r| {
            Ok((
                LocationId::from(uuid_of(r.get(0)?)?),
                opt_uuid(r.get(1)?)?.map(LocationId::from),
            ))
        })
        .map_err(db)?;
    Ok(Links::new(
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)?,
    ))
}

#[async_trait]
impl LocationStore for SqliteStore {
    async fn locations(&self, household: HouseholdId) -> StoreResult<Vec<LocationRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, parent_id, name, description, version, created_at, updated_at, \
                     asset_id FROM locations WHERE household_id = ?1",
                )
                .map_err(db)?;
            let rows = stmt.query_map([household.to_string()], location_from).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn location_item_counts(
        &self,
        household: HouseholdId,
    ) -> StoreResult<HashMap<LocationId, i64>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT location_id, count(*) FROM items \
                     WHERE household_id = ?1 AND deleted_at IS NULL AND location_id IS NOT NULL \
                     GROUP BY location_id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok((LocationId::from(uuid_of(r.get(0)?)?), r.get(1)?))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn location_owner(&self, id: LocationId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM locations WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_location(&self, l: &LocationRow) -> StoreResult<AssetId> {
        let l = l.clone();
        self.write(move |tx| {
            links(tx, l.household_id)?.check_write(l.id, l.parent_id)?;
            let asset_id = match l.asset_id {
                Some(wanted) => {
                    assets::claim_asset_id(tx, l.household_id, wanted, l.id.as_uuid())?;
                    wanted
                }
                None => assets::next_asset_ids(tx, l.household_id, 1)?,
            };
            tx.execute(
                "INSERT INTO locations (id, household_id, parent_id, name, description, version, created_at, updated_at, asset_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    l.id.to_string(),
                    l.household_id.to_string(),
                    l.parent_id.map(|p| p.to_string()),
                    l.name,
                    l.description,
                    l.version,
                    micros(l.created_at),
                    micros(l.updated_at),
                    asset_id.as_i64()
                ],
            )
            .map_err(db)?;
            Ok(asset_id)
        })
        .await
    }

    async fn update_location(&self, l: &LocationRow, expected_version: i64) -> StoreResult<()> {
        let l = l.clone();
        self.write(move |tx| {
            links(tx, l.household_id)?.check_write(l.id, l.parent_id)?;
            if let Some(wanted) = l.asset_id {
                assets::claim_asset_id(tx, l.household_id, wanted, l.id.as_uuid())?;
            }
            let changed = tx
                .execute(
                    "UPDATE locations SET parent_id = ?3, name = ?4, description = ?5, version = ?6, updated_at = ?7, \
                     asset_id = coalesce(?9, asset_id) \
                     WHERE id = ?1 AND household_id = ?2 AND version = ?8",
                    params![
                        l.id.to_string(),
                        l.household_id.to_string(),
                        l.parent_id.map(|p| p.to_string()),
                        l.name,
                        l.description,
                        l.version,
                        micros(l.updated_at),
                        expected_version,
                        l.asset_id.map(AssetId::as_i64)
                    ],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::Stale)
        })
        .await
    }

    async fn delete_location(&self, household: HouseholdId, id: LocationId) -> StoreResult<()> {
        self.write(move |tx| {
            let (hid, lid) = (household.to_string(), id.to_string());
            let children: i64 = tx
                .query_row(
                    "SELECT count(*) FROM locations WHERE household_id = ?1 AND parent_id = ?2",
                    [&hid, &lid],
                    |r| r.get(0),
                )
                .map_err(db)?;
            let items: i64 = tx
                .query_row(
                    "SELECT count(*) FROM items WHERE household_id = ?1 AND location_id = ?2 AND deleted_at IS NULL",
                    [&hid, &lid],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if children > 0 || items > 0 {
                return Err(StoreError::Conflict(describe_contents(items, children)));
            }
            let deleted = tx
                .execute("DELETE FROM locations WHERE household_id = ?1 AND id = ?2", [&hid, &lid])
                .map_err(db)?;
            exactly_one(deleted as u64, StoreError::NotFound)?;
            super::changes::record_removals(tx, household, RemovalKind::Location, &[lid])
        })
        .await
    }
}

//! Asset ids in the stores: what every backend offers for them, and what the API and the
//! backends share (the conflict of a taken number, the numbering of older rows).

use async_trait::async_trait;
use shared::{AssetId, AssetKind, HouseholdId, LocationId};
use uuid::Uuid;

use super::{ActivityRow, StoreError, StoreResult, migrate};

/// The asset id of a stored item or location, as an answer shows it. The stores give every
/// row one (at its insert, or the migration's numbering of older rows), so `None` is a bug:
/// logged, and shown as the highest number rather than failing the whole answer.
pub fn stored_asset_id(id: Option<AssetId>, what: Uuid) -> AssetId {
    id.unwrap_or_else(|| {
        tracing::error!(%what, "a stored row has no asset id");
        AssetId::MAX
    })
}

/// An item or location found by its asset id.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetRow {
    pub kind: AssetKind,
    /// The item's or the location's id.
    pub id: Uuid,
    pub household_id: HouseholdId,
    pub name: String,
    pub asset_id: AssetId,
    /// An item's location; for a location, the location itself.
    pub location_id: Option<LocationId>,
}

/// Asset ids: finding what carries one, ranges of them for label sheets, and numbering
/// the rows made before they existed. Numbers are given out by the writes that make items
/// and locations (`insert_item`, `import_items`, `insert_location`, `restore_locations`),
/// from one counter per household that never goes down.
#[async_trait]
pub trait AssetStore: Send + Sync {
    /// The live items and the locations with this asset id in any of `households`.
    async fn assets_by_id(
        &self,
        households: &[HouseholdId],
        asset_id: AssetId,
    ) -> StoreResult<Vec<AssetRow>>;
    /// The household's live items and locations whose asset ids are from `from` to `to`
    /// (both included), in number order: at most `limit`.
    async fn assets_in_range(
        &self,
        household: HouseholdId,
        from: AssetId,
        to: AssetId,
        limit: usize,
    ) -> StoreResult<Vec<(AssetKind, Uuid)>>;
    /// Numbers the household's items and locations that have no asset id yet, oldest first
    /// (`created_at`, then id), from its counter, in one transaction of at most `limit`
    /// rows, leaving the counter past them. How many it numbered: 0 when none is left.
    async fn number_assets(&self, household: HouseholdId, limit: usize) -> StoreResult<u64>;
    /// Households that have items or locations without an asset id: at most `limit`.
    async fn households_to_number(&self, limit: usize) -> StoreResult<Vec<HouseholdId>>;
}

/// Whether an item's update claims its asset id: its activity entry names the field.
pub(crate) fn claims_asset_id(activity: &ActivityRow) -> bool {
    activity.fields.iter().any(|f| f == "asset_id")
}

/// The message of the conflict when an asset id is taken.
pub fn asset_id_taken(asset_id: AssetId, kind: AssetKind, name: &str) -> StoreError {
    StoreError::AssetIdTaken(format!(
        "{asset_id} is already the asset id of the {} \"{name}\"",
        kind.as_str()
    ))
}

/// Numbers what was made before asset ids existed, one household at a time, in
/// transactions of at most `migrate::BACKFILL_ROWS` rows. Idempotent: only rows without a
/// number are numbered. How many rows it numbered.
pub async fn backfill_asset_ids(store: &(impl AssetStore + ?Sized)) -> StoreResult<u64> {
    let mut numbered = 0;
    loop {
        let households = store.households_to_number(100).await?;
        if households.is_empty() {
            return Ok(numbered);
        }
        for household in households {
            loop {
                let n = store
                    .number_assets(household, migrate::BACKFILL_ROWS)
                    .await?;
                numbered += n;
                if n == 0 {
                    break;
                }
            }
        }
    }
}

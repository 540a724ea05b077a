//! The changes feed of a household (`GET …/changes`): what the offline app needs to keep
//! its local copy current without downloading everything again.

use serde::{Deserialize, Serialize};

use crate::{Item, ItemId, Location, LocationId};

/// One page of changes: items and locations as they are now, and the ids of what was
/// deleted for good.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Changes {
    /// Items changed since the cursor, as `GET …/items/{id}` answers them; trashed ones too,
    /// with `deleted_at` set. Oldest change first.
    pub items: Vec<Item>,
    /// Locations changed since the cursor, as `GET …/locations` lists them. Oldest change
    /// first.
    pub locations: Vec<Location>,
    /// What was deleted for good since the cursor: drop it after applying `items` and
    /// `locations`.
    pub removed: Removed,
    /// Where the next call starts (`since`): right after this page while `more` is true;
    /// once caught up, a cursor that re-reads the last minute before the newest change seen.
    pub next_cursor: String,
    /// Whether more changes are waiting: call again at once with `next_cursor`.
    pub more: bool,
}

/// Ids of what was deleted for good: items purged from the trash, locations deleted. Each
/// is gone at the time of the answer.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Removed {
    pub items: Vec<ItemId>,
    pub locations: Vec<LocationId>,
}

//! Newtype ids over UUIDs, so an item id can't be passed where a location id is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

id_type!(
    /// A person's account.
    UserId
);
id_type!(
    /// A household: the unit of sharing; every inventory row belongs to one.
    HouseholdId
);
id_type!(
    /// A place in the household's location tree.
    LocationId
);
id_type!(
    /// A thing someone owns.
    ItemId
);
id_type!(
    /// One entry of the activity log.
    ActivityId
);
id_type!(
    /// An invitation to join a household.
    InviteId
);
id_type!(
    /// A photo, receipt, manual or other file attached to an item.
    AttachmentId
);
id_type!(
    /// A personal API token (its id, not its secret).
    TokenId
);
id_type!(
    /// A passkey registered to an account (our id, not the authenticator's credential id).
    PasskeyId
);
id_type!(
    /// A background job: an import, an export, a backup or a restore.
    JobId
);
id_type!(
    /// A read-only share link (its id, not its secret).
    ShareLinkId
);
id_type!(
    /// One use of a share link, in its log.
    ShareUseId
);
id_type!(
    /// A maintenance schedule of an item ("replace the filter every 3 months").
    MaintenanceScheduleId
);
id_type!(
    /// One entry of an item's maintenance log.
    MaintenanceEntryId
);

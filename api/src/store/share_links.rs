//! Share links in the stores: the links of a household, finding one by its secret's hash,
//! and the log of their uses.

use async_trait::async_trait;
use shared::{HouseholdId, LocationId, ShareLinkId, ShareUseId, UserId};
use time::OffsetDateTime;

use super::StoreResult;

/// A share link as stored: its secret only as a SHA-256 hash.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareLinkRow {
    pub id: ShareLinkId,
    pub household_id: HouseholdId,
    pub token_hash: Vec<u8>,
    pub name: String,
    /// The location it shows with everything below it; `None`: the whole household.
    pub location_id: Option<LocationId>,
    pub hide_prices: bool,
    pub created_by: UserId,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
}

/// A link with how often and when it was last used.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareLinkListed {
    pub link: ShareLinkRow,
    pub uses: i64,
    pub last_used_at: Option<OffsetDateTime>,
}

/// One request made through a link.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareUseRow {
    pub id: ShareUseId,
    pub household_id: HouseholdId,
    pub link_id: ShareLinkId,
    pub at: OffsetDateTime,
    pub what: String,
    pub address: String,
    pub user_agent: Option<String>,
}

#[async_trait]
pub trait ShareLinkStore: Send + Sync {
    async fn insert_share_link(&self, link: &ShareLinkRow) -> StoreResult<()>;
    /// The household's links, revoked and expired ones too, newest first, with their uses.
    async fn share_links(&self, household: HouseholdId) -> StoreResult<Vec<ShareLinkListed>>;
    async fn share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
    ) -> StoreResult<Option<ShareLinkRow>>;
    /// Marks the link revoked at `at` (a revoked link stays revoked as it was); `NotFound`
    /// when the household has no such link.
    async fn revoke_share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// The link whose secret has this hash, whatever its state, with its household's name.
    async fn share_link_by_hash(
        &self,
        token_hash: &[u8],
    ) -> StoreResult<Option<(ShareLinkRow, String)>>;
    /// Logs one use: a single insert.
    async fn log_share_use(&self, used: &ShareUseRow) -> StoreResult<()>;
    /// The link's uses, newest first, after `before` (`(at, id)` of the last one of the
    /// page before): at most `limit`.
    async fn share_uses(
        &self,
        household: HouseholdId,
        link: ShareLinkId,
        before: Option<(OffsetDateTime, ShareUseId)>,
        limit: usize,
    ) -> StoreResult<Vec<ShareUseRow>>;
}

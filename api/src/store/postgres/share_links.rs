//! PostgreSQL and Aurora DSQL: share links and the log of their uses.

use shared::{ShareLinkId, ShareUseId};

use super::*;

const LINK_COLUMNS: &str = "l.id, l.household_id, l.token_hash, l.name, l.location_id, \
     l.hide_prices, l.created_by, l.created_at, l.expires_at, l.revoked_at";

fn link_from(r: &Row) -> ShareLinkRow {
    ShareLinkRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        token_hash: r.get("token_hash"),
        name: r.get("name"),
        location_id: r.get::<_, Option<Uuid>>("location_id").map(Into::into),
        hide_prices: r.get("hide_prices"),
        created_by: r.get::<_, Uuid>("created_by").into(),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        revoked_at: r.get("revoked_at"),
    }
}

fn use_from(r: &Row) -> ShareUseRow {
    ShareUseRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        link_id: r.get::<_, Uuid>("link_id").into(),
        at: r.get("at"),
        what: r.get("what"),
        address: r.get("address"),
        user_agent: r.get("user_agent"),
    }
}

#[async_trait]
impl ShareLinkStore for PgStore {
    async fn insert_share_link(&self, link: &ShareLinkRow) -> StoreResult<()> {
        let l = link;
        let location = l.location_id.map(|id| id.as_uuid());
        write_tx!(self, |tx| {
            // Re-running after a retried commit must not fail: the id is the application's.
            tx.execute(
                "INSERT INTO share_links (id, household_id, token_hash, name, location_id, \
                 hide_prices, created_by, created_at, expires_at, revoked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING",
                &[
                    &l.id.as_uuid(),
                    &l.household_id.as_uuid(),
                    &l.token_hash,
                    &l.name,
                    &location,
                    &l.hide_prices,
                    &l.created_by.as_uuid(),
                    &l.created_at,
                    &l.expires_at,
                    &l.revoked_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn share_links(&self, household: HouseholdId) -> StoreResult<Vec<ShareLinkListed>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {LINK_COLUMNS}, \
                     (SELECT count(*) FROM share_link_uses u \
                      WHERE u.household_id = l.household_id AND u.link_id = l.id) AS uses, \
                     (SELECT max(u.at) FROM share_link_uses u \
                      WHERE u.household_id = l.household_id AND u.link_id = l.id) AS last_used_at \
                     FROM share_links l WHERE l.household_id = $1 \
                     ORDER BY l.created_at DESC, l.id DESC"
                ),
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| ShareLinkListed {
                link: link_from(r),
                uses: r.get("uses"),
                last_used_at: r.get("last_used_at"),
            })
            .collect())
    }

    async fn share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
    ) -> StoreResult<Option<ShareLinkRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {LINK_COLUMNS} FROM share_links l \
                     WHERE l.household_id = $1 AND l.id = $2"
                ),
                &[&household.as_uuid(), &id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(link_from))
    }

    async fn revoke_share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE share_links SET revoked_at = coalesce(revoked_at, $3) \
                     WHERE household_id = $1 AND id = $2",
                    &[&household.as_uuid(), &id.as_uuid(), &at],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)
        })
    }

    async fn share_link_by_hash(
        &self,
        token_hash: &[u8],
    ) -> StoreResult<Option<(ShareLinkRow, String)>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {LINK_COLUMNS}, h.name AS household_name FROM share_links l \
                 JOIN households h ON h.id = l.household_id WHERE l.token_hash = $1"
            ))
            .await
            .map_err(pg)?;
        let row = client
            .query_opt(&statement, &[&token_hash])
            .await
            .map_err(pg)?;
        Ok(row.map(|r| (link_from(&r), r.get("household_name"))))
    }

    async fn log_share_use(&self, used: &ShareUseRow) -> StoreResult<()> {
        let u = used;
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO share_link_uses (id, household_id, link_id, at, what, address, \
                 user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
                &[
                    &u.id.as_uuid(),
                    &u.household_id.as_uuid(),
                    &u.link_id.as_uuid(),
                    &u.at,
                    &u.what,
                    &u.address,
                    &u.user_agent,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn share_uses(
        &self,
        household: HouseholdId,
        link: ShareLinkId,
        before: Option<(OffsetDateTime, ShareUseId)>,
        limit: usize,
    ) -> StoreResult<Vec<ShareUseRow>> {
        let client = self.client().await?;
        let columns = "id, household_id, link_id, at, what, address, user_agent";
        let rows = match before {
            None => {
                client
                    .query(
                        &format!(
                            "SELECT {columns} FROM share_link_uses \
                             WHERE household_id = $1 AND link_id = $2 \
                             ORDER BY at DESC, id DESC LIMIT $3"
                        ),
                        &[&household.as_uuid(), &link.as_uuid(), &(limit as i64)],
                    )
                    .await
            }
            Some((at, id)) => {
                client
                    .query(
                        &format!(
                            "SELECT {columns} FROM share_link_uses \
                             WHERE household_id = $1 AND link_id = $2 \
                             AND (at < $3 OR (at = $3 AND id < $4)) \
                             ORDER BY at DESC, id DESC LIMIT $5"
                        ),
                        &[
                            &household.as_uuid(),
                            &link.as_uuid(),
                            &at,
                            &id.as_uuid(),
                            &(limit as i64),
                        ],
                    )
                    .await
            }
        }
        .map_err(pg)?;
        Ok(rows.iter().map(use_from).collect())
    }
}

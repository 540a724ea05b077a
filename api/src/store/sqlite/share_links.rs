//! SQLite: share links and the log of their uses.

use shared::{ShareLinkId, ShareUseId};

use super::*;

const LINK_COLUMNS: &str = "l.id, l.household_id, l.token_hash, l.name, l.location_id, \
     l.hide_prices, l.created_by, l.created_at, l.expires_at, l.revoked_at";

fn link_from(r: &Row<'_>) -> rusqlite::Result<ShareLinkRow> {
    Ok(ShareLinkRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        token_hash: r.get(2)?,
        name: r.get(3)?,
        location_id: opt_uuid(r.get(4)?)?.map(Into::into),
        hide_prices: r.get(5)?,
        created_by: uuid_of(r.get(6)?)?.into(),
        created_at: from_micros(r.get(7)?)?,
        expires_at: from_micros(r.get(8)?)?,
        revoked_at: r.get::<_, Option<i64>>(9)?.map(from_micros).transpose()?,
    })
}

fn use_from(r: &Row<'_>) -> rusqlite::Result<ShareUseRow> {
    Ok(ShareUseRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        link_id: uuid_of(r.get(2)?)?.into(),
        at: from_micros(r.get(3)?)?,
        what: r.get(4)?,
        address: r.get(5)?,
        user_agent: r.get(6)?,
    })
}

#[async_trait]
impl ShareLinkStore for SqliteStore {
    async fn insert_share_link(&self, link: &ShareLinkRow) -> StoreResult<()> {
        let l = link.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO share_links (id, household_id, token_hash, name, location_id, \
                 hide_prices, created_by, created_at, expires_at, revoked_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    l.id.to_string(),
                    l.household_id.to_string(),
                    l.token_hash,
                    l.name,
                    l.location_id.map(|id| id.to_string()),
                    l.hide_prices,
                    l.created_by.to_string(),
                    micros(l.created_at),
                    micros(l.expires_at),
                    l.revoked_at.map(micros),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn share_links(&self, household: HouseholdId) -> StoreResult<Vec<ShareLinkListed>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {LINK_COLUMNS}, \
                     (SELECT count(*) FROM share_link_uses u \
                      WHERE u.household_id = l.household_id AND u.link_id = l.id), \
                     (SELECT max(u.at) FROM share_link_uses u \
                      WHERE u.household_id = l.household_id AND u.link_id = l.id) \
                     FROM share_links l WHERE l.household_id = ?1 \
                     ORDER BY l.created_at DESC, l.id DESC"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok(ShareLinkListed {
                        link: link_from(r)?,
                        uses: r.get(10)?,
                        last_used_at: r.get::<_, Option<i64>>(11)?.map(from_micros).transpose()?,
                    })
                })
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
    ) -> StoreResult<Option<ShareLinkRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {LINK_COLUMNS} FROM share_links l WHERE l.household_id = ?1 AND l.id = ?2"
            ))
            .map_err(db)?
            .query_row([household.to_string(), id.to_string()], link_from)
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn revoke_share_link(
        &self,
        household: HouseholdId,
        id: ShareLinkId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE share_links SET revoked_at = coalesce(revoked_at, ?3) \
                     WHERE household_id = ?1 AND id = ?2",
                    params![household.to_string(), id.to_string(), micros(at)],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)
        })
        .await
    }

    async fn share_link_by_hash(
        &self,
        token_hash: &[u8],
    ) -> StoreResult<Option<(ShareLinkRow, String)>> {
        let hash = token_hash.to_vec();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {LINK_COLUMNS}, h.name FROM share_links l \
                 JOIN households h ON h.id = l.household_id WHERE l.token_hash = ?1"
            ))
            .map_err(db)?
            .query_row([hash], |r| Ok((link_from(r)?, r.get(10)?)))
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn log_share_use(&self, used: &ShareUseRow) -> StoreResult<()> {
        let u = used.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO share_link_uses (id, household_id, link_id, at, what, address, \
                 user_agent) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    u.id.to_string(),
                    u.household_id.to_string(),
                    u.link_id.to_string(),
                    micros(u.at),
                    u.what,
                    u.address,
                    u.user_agent,
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn share_uses(
        &self,
        household: HouseholdId,
        link: ShareLinkId,
        before: Option<(OffsetDateTime, ShareUseId)>,
        limit: usize,
    ) -> StoreResult<Vec<ShareUseRow>> {
        self.read(move |c| {
            // Without a cursor, from after the end of time.
            let (at, id) = before.map_or((i64::MAX, String::new()), |(at, id)| {
                (micros(at), id.to_string())
            });
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, link_id, at, what, address, user_agent \
                     FROM share_link_uses WHERE household_id = ?1 AND link_id = ?2 \
                     AND (at < ?3 OR (at = ?3 AND id < ?4)) \
                     ORDER BY at DESC, id DESC LIMIT ?5",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![
                        household.to_string(),
                        link.to_string(),
                        at,
                        id,
                        limit as i64
                    ],
                    use_from,
                )
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }
}

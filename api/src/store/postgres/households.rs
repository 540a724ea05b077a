//! PostgreSQL and Aurora DSQL: households, their members and invitations.

use super::*;

#[async_trait]
impl HouseholdStore for PgStore {
    async fn create_household(
        &self,
        household: &HouseholdRow,
        owner: UserId,
        max_owned: i64,
    ) -> StoreResult<()> {
        let (uid, hid) = (owner.as_uuid(), household.id.as_uuid());
        write_tx!(self, |tx| {
            // Writing the owner's row makes two households created at once collide (one is
            // retried and counts the other), where two reads of the count would both pass.
            tx.execute("UPDATE users SET name = name WHERE id = $1", &[&uid])
                .await
                .map_err(pg)?;
            let owned: i64 = tx
                .query_one(
                    "SELECT count(*) FROM members WHERE user_id = $1 AND role = 'owner' \
                     AND household_id <> $2",
                    &[&uid, &hid],
                )
                .await
                .map_err(pg)?
                .get(0);
            check_households_owned(owned, max_owned)?;
            insert_household(&tx, household, owner).await
        })
    }

    async fn members(&self, household: HouseholdId) -> StoreResult<Vec<MemberRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT u.id, u.email, u.name, u.created_at, m.role, m.created_at AS joined_at \
                 FROM members m JOIN users u ON u.id = m.user_id \
                 WHERE m.household_id = $1 ORDER BY m.created_at, u.id",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    user: user_from(r),
                    role: role_from(r)?,
                    joined_at: r.get("joined_at"),
                })
            })
            .collect()
    }

    async fn change_role(
        &self,
        household: HouseholdId,
        user: UserId,
        role: Role,
    ) -> StoreResult<()> {
        let (hid, uid) = (household.as_uuid(), user.as_uuid());
        write_tx!(self, |tx| {
            // Two owners demoting each other would each count two owners: the lock makes
            // the second count after the first demotion.
            lock_household(&tx, hid).await?;
            let current = member_role(&tx, hid, uid).await?;
            if current == Role::Owner && role != Role::Owner && owners(&tx, hid).await? <= 1 {
                return Err(StoreError::Conflict(
                    "the household needs an owner; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "UPDATE members SET role = $3 WHERE household_id = $1 AND user_id = $2",
                &[&hid, &uid, &role.as_str()],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn remove_member(&self, household: HouseholdId, user: UserId) -> StoreResult<()> {
        let (hid, uid) = (household.as_uuid(), user.as_uuid());
        write_tx!(self, |tx| {
            lock_household(&tx, hid).await?;
            if member_role(&tx, hid, uid).await? == Role::Owner && owners(&tx, hid).await? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner can't leave; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "DELETE FROM members WHERE household_id = $1 AND user_id = $2",
                &[&hid, &uid],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_invite(&self, i: &InviteRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO invites (id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
                &[
                    &i.id.as_uuid(),
                    &i.household_id.as_uuid(),
                    &i.code_hash,
                    &i.role.as_str(),
                    &i.created_by.as_uuid(),
                    &i.created_at,
                    &i.expires_at,
                    &i.max_uses,
                    &i.uses,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn invites(&self, household: HouseholdId) -> StoreResult<Vec<InviteRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                 FROM invites WHERE household_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(invite_from).collect()
    }

    async fn revoke_invite(
        &self,
        household: HouseholdId,
        id: shared::InviteId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE invites SET revoked_at = $3 WHERE household_id = $1 AND id = $2 AND revoked_at IS NULL",
                    &[&household.as_uuid(), &id.as_uuid(), &at],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)
        })
    }

    async fn invite_by_code(
        &self,
        code_hash: &[u8],
    ) -> StoreResult<Option<(InviteRow, String, String)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT i.id, i.household_id, i.code_hash, i.role, i.created_by, i.created_at, i.expires_at, \
                 i.max_uses, i.uses, h.name AS household_name, coalesce(u.name, '') AS invited_by \
                 FROM invites i JOIN households h ON h.id = i.household_id LEFT JOIN users u ON u.id = i.created_by \
                 WHERE i.code_hash = $1 AND i.revoked_at IS NULL",
                &[&code_hash],
            )
            .await
            .map_err(pg)?;
        row.map(|r| {
            Ok((
                invite_from(&r)?,
                r.get("household_name"),
                r.get("invited_by"),
            ))
        })
        .transpose()
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<HouseholdId> {
        let uid = user.as_uuid();
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE code_hash = $1 AND revoked_at IS NULL",
                    &[&code_hash],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?;
            let invite = invite_from(&row)?;
            let hid = invite.household_id.as_uuid();
            let member = tx
                .query_opt(
                    "SELECT 1 FROM members WHERE household_id = $1 AND user_id = $2",
                    &[&hid, &uid],
                )
                .await
                .map_err(pg)?
                .is_some();
            if member {
                return Ok(invite.household_id);
            }
            check_invite(&invite, at)?;
            tx.execute(
                "INSERT INTO members (household_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
                &[&hid, &uid, &invite.role.as_str(), &at],
            )
            .await
            .map_err(pg)?;
            tx.execute(
                "UPDATE invites SET uses = uses + 1 WHERE id = $1",
                &[&invite.id.as_uuid()],
            )
            .await
            .map_err(pg)?;
            Ok(invite.household_id)
        })
    }

    async fn households_of(&self, user: UserId) -> StoreResult<Vec<(HouseholdRow, Role)>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.user_id = $1 ORDER BY h.created_at, h.id",
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| Ok((household_from(r)?, role_from(r)?)))
            .collect()
    }

    async fn membership(
        &self,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.household_id = $1 AND m.user_id = $2",
                &[&household.as_uuid(), &user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        row.map(|r| Ok((household_from(&r)?, role_from(&r)?)))
            .transpose()
    }

    async fn update_household(&self, h: &HouseholdRow, expected_version: i64) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE households SET name = $2, currency = $3, version = $4 WHERE id = $1 AND version = $5",
                    &[&h.id.as_uuid(), &h.name, &h.currency.as_str(), &h.version, &expected_version],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::Stale)
        })
    }
}

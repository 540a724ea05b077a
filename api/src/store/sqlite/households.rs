//! SQLite: households, their members and invitations.

use super::*;

#[async_trait]
impl HouseholdStore for SqliteStore {
    async fn create_household(
        &self,
        household: &HouseholdRow,
        owner: UserId,
        max_owned: i64,
    ) -> StoreResult<()> {
        let household = household.clone();
        self.write(move |tx| {
            let owned: i64 = tx
                .query_row(
                    "SELECT count(*) FROM members WHERE user_id = ?1 AND role = 'owner' \
                     AND household_id <> ?2",
                    [owner.to_string(), household.id.to_string()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            check_households_owned(owned, max_owned)?;
            insert_household(tx, &household, owner)
        })
        .await
    }

    async fn members(&self, household: HouseholdId) -> StoreResult<Vec<MemberRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT u.id, u.email, u.name, u.created_at, m.role, m.created_at \
                     FROM members m JOIN users u ON u.id = m.user_id \
                     WHERE m.household_id = ?1 ORDER BY m.created_at, u.id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok(MemberRow {
                        user: user_from(r)?,
                        role: role_of(r.get(4)?)?,
                        joined_at: from_micros(r.get(5)?)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn change_role(
        &self,
        household: HouseholdId,
        user: UserId,
        role: Role,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let current = member_role(tx, household, user)?;
            if current == Role::Owner && role != Role::Owner && owners(tx, household)? <= 1 {
                return Err(StoreError::Conflict(
                    "the household needs an owner; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "UPDATE members SET role = ?3 WHERE household_id = ?1 AND user_id = ?2",
                params![household.to_string(), user.to_string(), role.as_str()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, household: HouseholdId, user: UserId) -> StoreResult<()> {
        self.write(move |tx| {
            if member_role(tx, household, user)? == Role::Owner && owners(tx, household)? <= 1 {
                return Err(StoreError::Conflict(
                    "the last owner can't leave; make someone else an owner first".into(),
                ));
            }
            tx.execute(
                "DELETE FROM members WHERE household_id = ?1 AND user_id = ?2",
                [household.to_string(), user.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_invite(&self, i: &InviteRow) -> StoreResult<()> {
        let i = i.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO invites (id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    i.id.to_string(),
                    i.household_id.to_string(),
                    i.code_hash,
                    i.role.as_str(),
                    i.created_by.to_string(),
                    micros(i.created_at),
                    micros(i.expires_at),
                    i.max_uses,
                    i.uses
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn invites(&self, household: HouseholdId) -> StoreResult<Vec<InviteRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE household_id = ?1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
                )
                .map_err(db)?;
            let rows = stmt.query_map([household.to_string()], invite_from).map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn revoke_invite(
        &self,
        household: HouseholdId,
        id: shared::InviteId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE invites SET revoked_at = ?3 WHERE household_id = ?1 AND id = ?2 AND revoked_at IS NULL",
                    params![household.to_string(), id.to_string(), micros(at)],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)
        })
        .await
    }

    async fn invite_by_code(
        &self,
        code_hash: &[u8],
    ) -> StoreResult<Option<(InviteRow, String, String)>> {
        let code_hash = code_hash.to_vec();
        self.read(move |c| {
            c.query_row(
                "SELECT i.id, i.household_id, i.code_hash, i.role, i.created_by, i.created_at, i.expires_at, \
                 i.max_uses, i.uses, h.name, coalesce(u.name, '') \
                 FROM invites i JOIN households h ON h.id = i.household_id LEFT JOIN users u ON u.id = i.created_by \
                 WHERE i.code_hash = ?1 AND i.revoked_at IS NULL",
                [code_hash],
                |r| Ok((invite_from(r)?, r.get(9)?, r.get(10)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: UserId,
        at: OffsetDateTime,
    ) -> StoreResult<HouseholdId> {
        let code_hash = code_hash.to_vec();
        self.write(move |tx| {
            let invite = tx
                .query_row(
                    "SELECT id, household_id, code_hash, role, created_by, created_at, expires_at, max_uses, uses \
                     FROM invites WHERE code_hash = ?1 AND revoked_at IS NULL",
                    [&code_hash],
                    invite_from,
                )
                .optional()
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
            let member: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM members WHERE household_id = ?1 AND user_id = ?2)",
                    [invite.household_id.to_string(), user.to_string()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if member {
                return Ok(invite.household_id);
            }
            check_invite(&invite, at)?;
            tx.execute(
                "INSERT INTO members (household_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![invite.household_id.to_string(), user.to_string(), invite.role.as_str(), micros(at)],
            )
            .map_err(db)?;
            tx.execute(
                "UPDATE invites SET uses = uses + 1 WHERE id = ?1",
                [invite.id.to_string()],
            )
            .map_err(db)?;
            Ok(invite.household_id)
        })
        .await
    }

    async fn households_of(&self, user: UserId) -> StoreResult<Vec<(HouseholdRow, Role)>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                     FROM members m JOIN households h ON h.id = m.household_id \
                     WHERE m.user_id = ?1 ORDER BY h.created_at, h.id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([user.to_string()], |r| {
                    Ok((household_from(r)?, role_of(r.get(5)?)?))
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn membership(
        &self,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 WHERE m.household_id = ?1 AND m.user_id = ?2",
            )
            .map_err(db)?
            .query_row([household.to_string(), user.to_string()], |r| {
                Ok((household_from(r)?, role_of(r.get(5)?)?))
            })
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn update_household(&self, h: &HouseholdRow, expected_version: i64) -> StoreResult<()> {
        let h = h.clone();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE households SET name = ?2, currency = ?3, version = ?4 WHERE id = ?1 AND version = ?5",
                    params![h.id.to_string(), h.name, h.currency.as_str(), h.version, expected_version],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::Stale)
        })
        .await
    }
}

//! SQLite: accounts: users, linked identities, sessions and sign-in throttling.

use super::*;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_user(&self, user: &UserRow, household: &HouseholdRow) -> StoreResult<()> {
        let (user, household) = (user.clone(), household.clone());
        self.write(move |tx| {
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM users WHERE email = ?1)",
                    [&user.user.email],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if taken {
                return Err(StoreError::Conflict("email taken".into()));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at, email_verified_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    user.user.id.to_string(),
                    user.user.email,
                    user.user.name,
                    user.password_hash,
                    micros(user.user.created_at),
                    user.email_verified_at.map(micros)
                ],
            )
            .map_err(db)?;
            insert_household(tx, &household, user.user.id)
        })
        .await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let email = email.to_string();
        self.read(move |c| {
            c.query_row(
                &format!("SELECT {USER_ROW_COLUMNS} FROM users u WHERE u.email = ?1"),
                [email],
                user_row_from,
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn user_by_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<UserRow>> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.read(move |c| {
            c.query_row(
                &format!(
                    "SELECT {USER_ROW_COLUMNS} FROM identities i JOIN users u ON u.id = i.user_id \
                     WHERE i.provider = ?1 AND i.subject = ?2"
                ),
                [provider, subject],
                user_row_from,
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn link_identity(&self, provider: &str, subject: &str, user: UserId) -> StoreResult<()> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                params![provider, subject, user.to_string(), micros(now())],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn claim_account(
        &self,
        user: UserId,
        provider: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.write(move |tx| {
            let id = user.to_string();
            let (password, verified): (Option<String>, Option<i64>) = tx
                .query_row(
                    "SELECT password_hash, email_verified_at FROM users WHERE id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db)?
                .ok_or(StoreError::NotFound)?;
            if verified.is_none() {
                tx.execute(
                    "UPDATE users SET password_hash = NULL, email_verified_at = ?2 WHERE id = ?1",
                    params![id, micros(at)],
                )
                .map_err(db)?;
                // Whoever set the password may have signed in and handed out invitations;
                // an account that never had a password had no one else in it.
                if password.is_some() {
                    tx.execute(
                        "DELETE FROM sessions WHERE user_id = ?1",
                        [&id],
                    )
                    .map_err(db)?;
                    tx.execute("DELETE FROM api_tokens WHERE user_id = ?1", [&id])
                        .map_err(db)?;
                    // A second factor they set up would lock the owner out of nothing
                    // (it guards the password, now gone) but must not outlive them.
                    tx.execute("DELETE FROM two_factor WHERE user_id = ?1", [&id])
                        .map_err(db)?;
                    tx.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [&id])
                        .map_err(db)?;
                    // Passkeys they added would let them back in.
                    tx.execute("DELETE FROM passkeys WHERE user_id = ?1", [&id])
                        .map_err(db)?;
                    tx.execute(
                        "UPDATE invites SET revoked_at = ?2 WHERE created_by = ?1 AND revoked_at IS NULL",
                        params![id, micros(at)],
                    )
                    .map_err(db)?;
                }
            }
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                params![provider, subject, id, micros(at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn change_password(
        &self,
        user: UserId,
        current: &str,
        new: &str,
        keep: &[u8],
    ) -> StoreResult<()> {
        let (current, new, keep) = (current.to_string(), new.to_string(), keep.to_vec());
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE users SET password_hash = ?3 WHERE id = ?1 AND password_hash = ?2",
                    params![user.to_string(), current, new],
                )
                .map_err(db)?;
            exactly_one(changed as u64, password_changed())?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
                params![user.to_string(), keep],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_password_session(
        &self,
        s: &SessionRow,
        password_hash: &str,
    ) -> StoreResult<()> {
        let (s, password_hash) = (s.clone(), password_hash.to_string());
        self.write(move |tx| {
            let still = tx
                .execute(
                    "UPDATE users SET password_hash = password_hash WHERE id = ?1 AND password_hash = ?2",
                    params![s.user_id.to_string(), password_hash],
                )
                .map_err(db)?;
            exactly_one(still as u64, password_changed())?;
            insert_session(tx, &s)?;
            Ok(())
        })
        .await
    }

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        let s = s.clone();
        self.write(move |tx| {
            insert_session(tx, &s)?;
            Ok(())
        })
        .await
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        let token_hash = token_hash.to_vec();
        self.read(move |c| session_on(c, &token_hash, now)).await
    }

    async fn session_access(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User, Vec<(HouseholdRow, Role)>)>> {
        let token_hash = token_hash.to_vec();
        self.read(move |c| {
            let Some((session, user)) = session_on(c, &token_hash, now)? else {
                return Ok(None);
            };
            let mut stmt = c
                .prepare_cached(
                    "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
                     FROM members m JOIN households h ON h.id = m.household_id \
                     WHERE m.user_id = ?1",
                )
                .map_err(db)?;
            let members = stmt
                .query_map([user.id.to_string()], |r| {
                    Ok((household_from(r)?, role_of(r.get(5)?)?))
                })
                .map_err(db)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db)?;
            Ok(Some((session, user, members)))
        })
        .await
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
        used_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = ?2, last_used_at = ?3 WHERE token_hash = ?1",
                params![token_hash, micros(expires_at), micros(used_at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn record_login_attempts(
        &self,
        attempts: &[(Uuid, String)],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let attempts = attempts.to_vec();
        self.write(move |tx| {
            for (id, key) in attempts {
                tx.execute(
                    "INSERT INTO login_failures (id, key, at) VALUES (?1, ?2, ?3)",
                    params![id.to_string(), key, micros(at)],
                )
                .map_err(db)?;
            }
            Ok(())
        })
        .await
    }

    async fn login_attempts_since(
        &self,
        key: &str,
        since: OffsetDateTime,
        cap: i64,
    ) -> StoreResult<i64> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT count(*) FROM (SELECT 1 FROM login_failures WHERE key = ?1 AND at > ?2 LIMIT ?3)",
                params![key, micros(since), cap],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
    }

    async fn delete_login_attempts(&self, ids: &[Uuid]) -> StoreResult<()> {
        let ids = ids.to_vec();
        self.write(move |tx| {
            for id in ids {
                tx.execute("DELETE FROM login_failures WHERE id = ?1", [id.to_string()])
                    .map_err(db)?;
            }
            Ok(())
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = ?1", [key])
                .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn purge_login_attempts(&self, before: OffsetDateTime, limit: i64) -> StoreResult<u64> {
        self.write(move |tx| {
            let deleted = tx
                .execute(
                    "DELETE FROM login_failures WHERE id IN \
                     (SELECT id FROM login_failures WHERE at < ?1 LIMIT ?2)",
                    params![micros(before), limit],
                )
                .map_err(db)?;
            Ok(deleted as u64)
        })
        .await
    }
}

const USER_ROW_COLUMNS: &str =
    "u.id, u.email, u.name, u.created_at, u.password_hash, u.email_verified_at";

fn user_row_from(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok(UserRow {
        user: user_from(r)?,
        password_hash: r.get(4)?,
        email_verified_at: r.get::<_, Option<i64>>(5)?.map(from_micros).transpose()?,
    })
}

fn password_changed() -> StoreError {
    StoreError::Conflict("the password was changed meanwhile".into())
}

fn insert_session(tx: &Transaction<'_>, s: &SessionRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, id, user_id, user_agent, created_at, last_used_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            s.token_hash,
            s.id.to_string(),
            s.user_id.to_string(),
            s.user_agent,
            micros(s.created_at),
            s.last_used_at.map(micros),
            micros(s.expires_at)
        ],
    )
    .map_err(db)?;
    Ok(())
}

/// The columns `session_from` reads, from `sessions s`.
pub(super) const SESSION_COLUMNS: &str =
    "s.token_hash, s.id, s.user_id, s.user_agent, s.created_at, s.last_used_at, s.expires_at";

pub(super) fn session_from(r: &Row<'_>) -> rusqlite::Result<SessionRow> {
    let token_hash: Vec<u8> = r.get(0)?;
    let id = opt_uuid(r.get(1)?)?.unwrap_or_else(|| derived_session_id(&token_hash));
    Ok(SessionRow {
        id,
        user_id: uuid_of(r.get(2)?)?.into(),
        user_agent: r.get(3)?,
        created_at: from_micros(r.get(4)?)?,
        last_used_at: r.get::<_, Option<i64>>(5)?.map(from_micros).transpose()?,
        expires_at: from_micros(r.get(6)?)?,
        token_hash,
    })
}

fn session_on(
    c: &Connection,
    token_hash: &[u8],
    now: OffsetDateTime,
) -> StoreResult<Option<(SessionRow, User)>> {
    c.prepare_cached(&format!(
        "SELECT {SESSION_COLUMNS}, u.email, u.name, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = ?1 AND s.expires_at > ?2"
    ))
    .map_err(db)?
    .query_row(params![token_hash, micros(now)], |r| {
        let session = session_from(r)?;
        let user = User {
            id: session.user_id,
            email: r.get(7)?,
            name: r.get(8)?,
            created_at: from_micros(r.get(9)?)?,
        };
        Ok((session, user))
    })
    .optional()
    .map_err(db)
}

//! PostgreSQL and Aurora DSQL: accounts: users, linked identities, sessions and sign-in throttling.

use super::*;

#[async_trait]
impl AccountStore for PgStore {
    async fn create_user(&self, user: &UserRow, household: &HouseholdRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let taken = tx
                .query_opt("SELECT 1 FROM users WHERE email = $1", &[&user.user.email])
                .await
                .map_err(pg)?
                .is_some();
            if taken {
                return Err(StoreError::Conflict("email taken".into()));
            }
            tx.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at, email_verified_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &user.user.id.as_uuid(),
                    &user.user.email,
                    &user.user.name,
                    &user.password_hash,
                    &user.user.created_at,
                    &user.email_verified_at,
                ],
            )
            .await
            .map_err(pg)?;
            insert_household(&tx, household, user.user.id).await
        })
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {USER_ROW_COLUMNS} FROM users u WHERE u.email = $1"),
                &[&email],
            )
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(user_row_from))
    }

    async fn user_by_identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> StoreResult<Option<UserRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {USER_ROW_COLUMNS} FROM identities i JOIN users u ON u.id = i.user_id \
                     WHERE i.provider = $1 AND i.subject = $2"
                ),
                &[&provider, &subject],
            )
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(user_row_from))
    }

    async fn link_identity(&self, provider: &str, subject: &str, user: UserId) -> StoreResult<()> {
        let at = now();
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                &[&provider, &subject, &user.as_uuid(), &at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn claim_account(
        &self,
        user: UserId,
        provider: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    "SELECT password_hash, email_verified_at FROM users WHERE id = $1",
                    &[&id],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?;
            let password: Option<String> = row.get(0);
            let verified: Option<OffsetDateTime> = row.get(1);
            if verified.is_none() {
                // Writes the user's row, so a concurrent password sign-in (which writes it
                // too, see `create_password_session`) collides with this transaction
                // instead of starting a session beside it.
                tx.execute(
                    "UPDATE users SET password_hash = NULL, email_verified_at = $2 WHERE id = $1",
                    &[&id, &at],
                )
                .await
                .map_err(pg)?;
                // Whoever set the password may have signed in and handed out invitations;
                // an account that never had a password had no one else in it.
                if password.is_some() {
                    tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&id])
                        .await
                        .map_err(pg)?;
                    tx.execute("DELETE FROM api_tokens WHERE user_id = $1", &[&id])
                        .await
                        .map_err(pg)?;
                    // A second factor they set up would lock the owner out of nothing
                    // (it guards the password, now gone) but must not outlive them.
                    tx.execute("DELETE FROM two_factor WHERE user_id = $1", &[&id])
                        .await
                        .map_err(pg)?;
                    tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[&id])
                        .await
                        .map_err(pg)?;
                    // Passkeys they added would let them back in.
                    tx.execute("DELETE FROM passkeys WHERE user_id = $1", &[&id])
                        .await
                        .map_err(pg)?;
                    tx.execute(
                        "UPDATE invites SET revoked_at = $2 WHERE created_by = $1 AND revoked_at IS NULL",
                        &[&id, &at],
                    )
                    .await
                    .map_err(pg)?;
                }
            }
            tx.execute(
                "INSERT INTO identities (provider, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (provider, subject) DO NOTHING",
                &[&provider, &subject, &id, &at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn change_password(
        &self,
        user: UserId,
        current: &str,
        new: &str,
        keep: &[u8],
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2",
                    &[&id, &current, &new],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, password_changed())?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
                &[&id, &keep],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_password_session(
        &self,
        s: &SessionRow,
        password_hash: &str,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            // A write to the user's row, not a read: under snapshot isolation (PostgreSQL's
            // repeatable read, Aurora DSQL) only two writes of one row collide, so this is
            // what keeps a takeover or password change from passing unnoticed.
            let still = tx
                .execute(
                    "UPDATE users SET password_hash = password_hash WHERE id = $1 AND password_hash = $2",
                    &[&s.user_id.as_uuid(), &password_hash],
                )
                .await
                .map_err(pg)?;
            exactly_one(still, password_changed())?;
            insert_session(&tx, s).await?;
            Ok(())
        })
    }

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            insert_session(&tx, s).await?;
            Ok(())
        })
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(SESSION).await.map_err(pg)?;
        let row = client
            .query_opt(&stmt, &[&token_hash, &now])
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(session_from))
    }

    async fn session_access(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User, Vec<(HouseholdRow, Role)>)>> {
        let client = self.client().await?;
        // Both statements go out before either answer is awaited: one round trip.
        let (session, members) = tokio::try_join!(
            async {
                let stmt = client.prepare_cached(SESSION).await?;
                client.query_opt(&stmt, &[&token_hash, &now]).await
            },
            async {
                let stmt = client.prepare_cached(SESSION_MEMBERSHIPS).await?;
                client.query(&stmt, &[&token_hash, &now]).await
            },
        )
        .map_err(pg)?;
        let Some(session) = session else {
            return Ok(None);
        };
        let (session, user) = session_from(&session);
        let members = members
            .iter()
            .map(|r| Ok((household_from(r)?, role_from(r)?)))
            .collect::<StoreResult<_>>()?;
        Ok(Some((session, user, members)))
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
        used_at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = $2, last_used_at = $3 WHERE token_hash = $1",
                &[&token_hash, &expires_at, &used_at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&token_hash])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    async fn record_login_attempts(
        &self,
        attempts: &[(Uuid, String)],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            for (id, key) in attempts {
                tx.execute(
                    "INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                    &[id, key, &at],
                )
                .await
                .map_err(pg)?;
            }
            Ok(())
        })
    }

    async fn login_attempts_since(
        &self,
        key: &str,
        since: OffsetDateTime,
        cap: i64,
    ) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM (SELECT 1 FROM login_failures WHERE key = $1 AND at > $2 LIMIT $3) AS recent",
                &[&key, &since, &cap],
            )
            .await
            .map_err(pg)?;
        Ok(row.get(0))
    }

    async fn delete_login_attempts(&self, ids: &[Uuid]) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM login_failures WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = $1", &[&key])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }

    async fn purge_login_attempts(&self, before: OffsetDateTime, limit: i64) -> StoreResult<u64> {
        // In pages of at most `limit` rows: Aurora DSQL bounds the rows one transaction
        // may change.
        write_tx!(self, |tx| {
            tx.execute(
                "DELETE FROM login_failures WHERE id IN \
                 (SELECT id FROM login_failures WHERE at < $1 LIMIT $2)",
                &[&before, &limit],
            )
            .await
            .map_err(pg)
        })
    }
}

const USER_ROW_COLUMNS: &str =
    "u.id, u.email, u.name, u.created_at, u.password_hash, u.email_verified_at";

fn user_row_from(r: &Row) -> UserRow {
    UserRow {
        user: user_from(r),
        password_hash: r.get("password_hash"),
        email_verified_at: r.get("email_verified_at"),
    }
}

fn password_changed() -> StoreError {
    StoreError::Conflict("the password was changed meanwhile".into())
}

async fn insert_session(tx: &impl GenericClient, s: &SessionRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, id, user_id, user_agent, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token_hash) DO NOTHING",
        &[
            &s.token_hash,
            &s.id,
            &s.user_id.as_uuid(),
            &s.user_agent,
            &s.created_at,
            &s.last_used_at,
            &s.expires_at,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

/// The columns `session_row_from` reads, from `sessions s`.
pub(super) const SESSION_COLUMNS: &str = "s.token_hash, s.id, s.user_id, s.user_agent, s.created_at, \
     s.last_used_at, s.expires_at";

pub(super) fn session_row_from(r: &Row) -> SessionRow {
    let token_hash: Vec<u8> = r.get("token_hash");
    let id: Option<Uuid> = r.get("id");
    SessionRow {
        id: id.unwrap_or_else(|| derived_session_id(&token_hash)),
        user_id: r.get::<_, Uuid>("user_id").into(),
        user_agent: r.get("user_agent"),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
        expires_at: r.get("expires_at"),
        token_hash,
    }
}

const SESSION: &str = "SELECT s.token_hash, s.id, s.user_id, s.user_agent, s.created_at, s.last_used_at, \
     s.expires_at, u.email, u.name, u.created_at AS user_created_at \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2";

/// The households of a live session's user, with their role.
const SESSION_MEMBERSHIPS: &str = "SELECT h.id, h.name, h.currency, h.version, h.created_at, m.role \
     FROM sessions s JOIN members m ON m.user_id = s.user_id JOIN households h ON h.id = m.household_id \
     WHERE s.token_hash = $1 AND s.expires_at > $2";

fn session_from(r: &Row) -> (SessionRow, User) {
    let session = session_row_from(r);
    let user = User {
        id: session.user_id,
        email: r.get("email"),
        name: r.get("name"),
        created_at: r.get("user_created_at"),
    };
    (session, user)
}

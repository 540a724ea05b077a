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
                "INSERT INTO users (id, email, name, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    user.user.id.to_string(),
                    user.user.email,
                    user.user.name,
                    user.password_hash,
                    micros(user.user.created_at)
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
                "SELECT id, email, name, created_at, password_hash FROM users WHERE email = ?1",
                [email],
                |r| {
                    Ok(UserRow {
                        user: user_from(r)?,
                        password_hash: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn user_by_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<User>> {
        let (provider, subject) = (provider.to_string(), subject.to_string());
        self.read(move |c| {
            c.query_row(
                "SELECT u.id, u.email, u.name, u.created_at FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.provider = ?1 AND i.subject = ?2",
                [provider, subject],
                user_from,
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

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        let s = s.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![s.token_hash, s.user_id.to_string(), micros(s.created_at), micros(s.expires_at)],
            )
            .map_err(db)?;
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
        self.read(move |c| {
            c.query_row(
                "SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, u.email, u.name, u.created_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
                params![token_hash, micros(now)],
                |r| {
                    let user_id: UserId = uuid_of(r.get(1)?)?.into();
                    Ok((
                        SessionRow {
                            token_hash: r.get(0)?,
                            user_id,
                            created_at: from_micros(r.get(2)?)?,
                            expires_at: from_micros(r.get(3)?)?,
                        },
                        User {
                            id: user_id,
                            email: r.get(4)?,
                            name: r.get(5)?,
                            created_at: from_micros(r.get(6)?)?,
                        },
                    ))
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        let token_hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1",
                params![token_hash, micros(expires_at)],
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

    async fn record_login_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<()> {
        let key = key.to_string();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO login_failures (id, key, at) VALUES (?1, ?2, ?3)",
                params![Uuid::now_v7().to_string(), key, micros(at)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn login_failures_since(&self, key: &str, since: OffsetDateTime) -> StoreResult<i64> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_row(
                "SELECT count(*) FROM login_failures WHERE key = ?1 AND at > ?2",
                params![key, micros(since)],
                |r| r.get(0),
            )
            .map_err(db)
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
}

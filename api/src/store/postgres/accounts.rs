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
                "INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[
                    &user.user.id.as_uuid(),
                    &user.user.email,
                    &user.user.name,
                    &user.password_hash,
                    &user.user.created_at,
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
                "SELECT id, email, name, created_at, password_hash FROM users WHERE email = $1",
                &[&email],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| UserRow {
            user: user_from(&r),
            password_hash: r.get("password_hash"),
        }))
    }

    async fn user_by_identity(&self, provider: &str, subject: &str) -> StoreResult<Option<User>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT u.id, u.email, u.name, u.created_at FROM identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.provider = $1 AND i.subject = $2",
                &[&provider, &subject],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| user_from(&r)))
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

    async fn create_session(&self, s: &SessionRow) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (token_hash) DO NOTHING",
                &[&s.token_hash, &s.user_id.as_uuid(), &s.created_at, &s.expires_at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn session(
        &self,
        token_hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT s.token_hash, s.user_id, s.created_at, s.expires_at, u.email, u.name, u.created_at AS user_created_at \
                 FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
                &[&token_hash, &now],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| {
            let user_id: UserId = r.get::<_, Uuid>("user_id").into();
            (
                SessionRow {
                    token_hash: r.get("token_hash"),
                    user_id,
                    created_at: r.get("created_at"),
                    expires_at: r.get("expires_at"),
                },
                User {
                    id: user_id,
                    email: r.get("email"),
                    name: r.get("name"),
                    created_at: r.get("user_created_at"),
                },
            )
        }))
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        expires_at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE sessions SET expires_at = $2 WHERE token_hash = $1",
                &[&token_hash, &expires_at],
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

    async fn record_login_failure(&self, key: &str, at: OffsetDateTime) -> StoreResult<()> {
        let id = Uuid::now_v7();
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO login_failures (id, key, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
                &[&id, &key, &at],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn login_failures_since(&self, key: &str, since: OffsetDateTime) -> StoreResult<i64> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "SELECT count(*) FROM login_failures WHERE key = $1 AND at > $2",
                &[&key, &since],
            )
            .await
            .map_err(pg)?;
        Ok(row.get(0))
    }

    async fn clear_login_failures(&self, key: &str) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM login_failures WHERE key = $1", &[&key])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }
}

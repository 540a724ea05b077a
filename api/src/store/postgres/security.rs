//! PostgreSQL and Aurora DSQL: sessions a person can see, and two-factor sign-in.

use super::accounts::{SESSION_COLUMNS, session_row_from};
use super::*;

#[async_trait]
impl SecurityStore for PgStore {
    async fn sessions_of(&self, user: UserId, now: OffsetDateTime) -> StoreResult<Vec<SessionRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = $1 AND s.expires_at > $2"
                ),
                &[&user.as_uuid(), &now],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(session_row_from).collect())
    }

    async fn end_other_sessions(
        &self,
        user: UserId,
        keep: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let live: i64 = tx
                .query_one(
                    "SELECT count(*) FROM sessions WHERE user_id = $1 AND token_hash <> $2 AND expires_at > $3",
                    &[&id, &keep, &now],
                )
                .await
                .map_err(pg)?
                .get(0);
            tx.execute(
                "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
                &[&id, &keep],
            )
            .await
            .map_err(pg)?;
            Ok(live.max(0) as u64)
        })
    }

    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactorRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT t.secret, t.pending_secret, t.enabled_at, t.last_step, \
                 (SELECT count(*) FROM recovery_codes r WHERE r.user_id = t.user_id) AS left \
                 FROM two_factor t WHERE t.user_id = $1",
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| TwoFactorRow {
            user_id: user,
            secret: r.get(0),
            pending_secret: r.get(1),
            enabled_at: r.get(2),
            last_step: r.get(3),
            recovery_codes_left: r.get(4),
        }))
    }

    async fn start_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    "SELECT enabled_at FROM two_factor WHERE user_id = $1",
                    &[&id],
                )
                .await
                .map_err(pg)?;
            match row.map(|r| r.get::<_, Option<OffsetDateTime>>(0)) {
                Some(Some(_)) => Err(already_on()),
                Some(None) => {
                    tx.execute(
                        "UPDATE two_factor SET pending_secret = $2, updated_at = $3 WHERE user_id = $1",
                        &[&id, &secret, &at],
                    )
                    .await
                    .map_err(pg)?;
                    Ok(())
                }
                None => {
                    tx.execute(
                        "INSERT INTO two_factor (user_id, pending_secret, updated_at) VALUES ($1, $2, $3)",
                        &[&id, &secret, &at],
                    )
                    .await
                    .map_err(pg)?;
                    Ok(())
                }
            }
        })
    }

    async fn enable_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        step: i64,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE two_factor SET secret = pending_secret, pending_secret = NULL, \
                     enabled_at = $3, last_step = $4, updated_at = $3 \
                     WHERE user_id = $1 AND pending_secret = $2 AND enabled_at IS NULL",
                    &[&id, &secret, &at, &step],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, setup_changed())?;
            replace_codes(&tx, id, codes, at).await
        })
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "UPDATE two_factor SET last_step = $2 WHERE user_id = $1 \
                     AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < $2)",
                    &[&id, &step],
                )
                .await
                .map_err(pg)?;
            Ok(changed == 1)
        })
    }

    async fn use_recovery_code(&self, user: UserId, code_hash: &[u8]) -> StoreResult<bool> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "DELETE FROM recovery_codes WHERE user_id = $1 AND code_hash = $2",
                    &[&id, &code_hash],
                )
                .await
                .map_err(pg)?;
            Ok(changed >= 1)
        })
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            // A write to the two-factor row, so that turning it off meanwhile collides
            // with this rather than leaving codes behind.
            let on = tx
                .execute(
                    "UPDATE two_factor SET updated_at = $2 WHERE user_id = $1 AND enabled_at IS NOT NULL",
                    &[&id, &at],
                )
                .await
                .map_err(pg)?;
            exactly_one(on, StoreError::NotFound)?;
            replace_codes(&tx, id, codes, at).await
        })
    }

    async fn disable_two_factor(&self, user: UserId) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM two_factor WHERE user_id = $1", &[&id])
                .await
                .map_err(pg)?;
            tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[&id])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }
}

async fn replace_codes(
    tx: &impl GenericClient,
    user: Uuid,
    codes: &[RecoveryCodeRow],
    at: OffsetDateTime,
) -> StoreResult<()> {
    tx.execute("DELETE FROM recovery_codes WHERE user_id = $1", &[&user])
        .await
        .map_err(pg)?;
    for (id, hash) in codes {
        tx.execute(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO NOTHING",
            &[id, &user, hash, &at],
        )
        .await
        .map_err(pg)?;
    }
    Ok(())
}

fn already_on() -> StoreError {
    StoreError::Conflict("two-factor sign-in is already on; turn it off first".into())
}

fn setup_changed() -> StoreError {
    StoreError::Conflict(
        "two-factor sign-in was set up again or turned on meanwhile; start the setup again".into(),
    )
}

//! SQLite: sessions a person can see, and two-factor sign-in.

use super::accounts::{SESSION_COLUMNS, session_from};
use super::*;

#[async_trait]
impl SecurityStore for SqliteStore {
    async fn sessions_of(&self, user: UserId, now: OffsetDateTime) -> StoreResult<Vec<SessionRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {SESSION_COLUMNS} FROM sessions s WHERE s.user_id = ?1 AND s.expires_at > ?2"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map(params![user.to_string(), micros(now)], session_from)
                .map_err(db)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn end_other_sessions(
        &self,
        user: UserId,
        keep: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<u64> {
        let keep = keep.to_vec();
        self.write(move |tx| {
            let live: i64 = tx
                .query_row(
                    "SELECT count(*) FROM sessions WHERE user_id = ?1 AND token_hash <> ?2 AND expires_at > ?3",
                    params![user.to_string(), keep, micros(now)],
                    |r| r.get(0),
                )
                .map_err(db)?;
            tx.execute(
                "DELETE FROM sessions WHERE user_id = ?1 AND token_hash <> ?2",
                params![user.to_string(), keep],
            )
            .map_err(db)?;
            Ok(live.max(0) as u64)
        })
        .await
    }

    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactorRow>> {
        self.read(move |c| {
            c.query_row(
                "SELECT t.secret, t.pending_secret, t.enabled_at, t.last_step, \
                 (SELECT count(*) FROM recovery_codes r WHERE r.user_id = t.user_id) \
                 FROM two_factor t WHERE t.user_id = ?1",
                [user.to_string()],
                |r| {
                    Ok(TwoFactorRow {
                        user_id: user,
                        secret: r.get(0)?,
                        pending_secret: r.get(1)?,
                        enabled_at: r.get::<_, Option<i64>>(2)?.map(from_micros).transpose()?,
                        last_step: r.get(3)?,
                        recovery_codes_left: r.get(4)?,
                    })
                },
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn start_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let secret = secret.to_vec();
        self.write(move |tx| {
            let enabled: Option<Option<i64>> = tx
                .query_row(
                    "SELECT enabled_at FROM two_factor WHERE user_id = ?1",
                    [user.to_string()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            match enabled {
                Some(Some(_)) => Err(already_on()),
                Some(None) => {
                    tx.execute(
                        "UPDATE two_factor SET pending_secret = ?2, updated_at = ?3 WHERE user_id = ?1",
                        params![user.to_string(), secret, micros(at)],
                    )
                    .map_err(db)?;
                    Ok(())
                }
                None => {
                    tx.execute(
                        "INSERT INTO two_factor (user_id, pending_secret, updated_at) VALUES (?1, ?2, ?3)",
                        params![user.to_string(), secret, micros(at)],
                    )
                    .map_err(db)?;
                    Ok(())
                }
            }
        })
        .await
    }

    async fn enable_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        step: i64,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (secret, codes) = (secret.to_vec(), codes.to_vec());
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE two_factor SET secret = pending_secret, pending_secret = NULL, \
                     enabled_at = ?3, last_step = ?4, updated_at = ?3 \
                     WHERE user_id = ?1 AND pending_secret = ?2 AND enabled_at IS NULL",
                    params![user.to_string(), secret, micros(at), step],
                )
                .map_err(db)?;
            exactly_one(changed as u64, setup_changed())?;
            replace_codes(tx, user, &codes, at)
        })
        .await
    }

    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE two_factor SET last_step = ?2 WHERE user_id = ?1 \
                     AND enabled_at IS NOT NULL AND (last_step IS NULL OR last_step < ?2)",
                    params![user.to_string(), step],
                )
                .map_err(db)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn use_recovery_code(&self, user: UserId, code_hash: &[u8]) -> StoreResult<bool> {
        let code_hash = code_hash.to_vec();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "DELETE FROM recovery_codes WHERE user_id = ?1 AND code_hash = ?2",
                    params![user.to_string(), code_hash],
                )
                .map_err(db)?;
            Ok(changed >= 1)
        })
        .await
    }

    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let codes = codes.to_vec();
        self.write(move |tx| {
            let on: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM two_factor WHERE user_id = ?1 AND enabled_at IS NOT NULL)",
                    [user.to_string()],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if !on {
                return Err(StoreError::NotFound);
            }
            replace_codes(tx, user, &codes, at)
        })
        .await
    }

    async fn disable_two_factor(&self, user: UserId) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM two_factor WHERE user_id = ?1",
                [user.to_string()],
            )
            .map_err(db)?;
            tx.execute(
                "DELETE FROM recovery_codes WHERE user_id = ?1",
                [user.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }
}

fn replace_codes(
    tx: &Transaction<'_>,
    user: UserId,
    codes: &[RecoveryCodeRow],
    at: OffsetDateTime,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM recovery_codes WHERE user_id = ?1",
        [user.to_string()],
    )
    .map_err(db)?;
    for (id, hash) in codes {
        tx.execute(
            "INSERT INTO recovery_codes (id, user_id, code_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id.to_string(), user.to_string(), hash, micros(at)],
        )
        .map_err(db)?;
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

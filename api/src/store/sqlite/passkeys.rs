//! SQLite: passkeys and their ceremonies.

use shared::PasskeyId;

use super::*;

const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, name, public_key, counter_state, \
     transports, created_at, last_used_at";

fn passkey_from(r: &Row<'_>) -> rusqlite::Result<PasskeyRow> {
    Ok(PasskeyRow {
        id: uuid_of(r.get(0)?)?.into(),
        user_id: uuid_of(r.get(1)?)?.into(),
        credential_id: r.get(2)?,
        name: r.get(3)?,
        public_key: r.get(4)?,
        counter_state: r.get(5)?,
        transports: r.get(6)?,
        created_at: from_micros(r.get(7)?)?,
        last_used_at: r.get::<_, Option<i64>>(8)?.map(from_micros).transpose()?,
    })
}

fn passkey_in(c: &Connection, user: UserId, id: PasskeyId) -> StoreResult<PasskeyRow> {
    c.prepare_cached(&format!(
        "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE id = ?1 AND user_id = ?2"
    ))
    .map_err(db)?
    .query_row([id.to_string(), user.to_string()], passkey_from)
    .optional()
    .map_err(db)?
    .ok_or(StoreError::NotFound)
}

#[async_trait]
impl PasskeyStore for SqliteStore {
    async fn create_passkey(&self, passkey: &PasskeyRow) -> StoreResult<()> {
        let p = passkey.clone();
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO passkeys ({PASSKEY_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    p.id.to_string(),
                    p.user_id.to_string(),
                    p.credential_id,
                    p.name,
                    p.public_key,
                    p.counter_state,
                    p.transports,
                    micros(p.created_at),
                    p.last_used_at.map(micros),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = ?1 \
                     ORDER BY created_at, id"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([user.to_string()], passkey_from)
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<(PasskeyRow, User)>> {
        let credential = credential_id.to_vec();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT p.id, p.user_id, p.credential_id, p.name, p.public_key, p.counter_state, \
                 p.transports, p.created_at, p.last_used_at, u.email, u.name, u.created_at \
                 FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = ?1",
            )
            .map_err(db)?
            .query_row([credential], |r| {
                let passkey = passkey_from(r)?;
                let user = User {
                    id: passkey.user_id,
                    email: r.get(9)?,
                    name: r.get(10)?,
                    created_at: from_micros(r.get(11)?)?,
                };
                Ok((passkey, user))
            })
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn rename_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
        name: &str,
    ) -> StoreResult<PasskeyRow> {
        let name = name.to_string();
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE passkeys SET name = ?1 WHERE id = ?2 AND user_id = ?3",
                    params![name, id.to_string(), user.to_string()],
                )
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            passkey_in(tx, user, id)
        })
        .await
    }

    async fn delete_passkey(&self, user: UserId, id: PasskeyId) -> StoreResult<()> {
        self.write(move |tx| {
            passkey_in(tx, user, id)?;
            let (has_password, identities, passkeys): (bool, i64, i64) = tx
                .query_row(
                    "SELECT (SELECT password_hash IS NOT NULL FROM users WHERE id = ?1), \
                     (SELECT count(*) FROM identities WHERE user_id = ?1), \
                     (SELECT count(*) FROM passkeys WHERE user_id = ?1)",
                    [user.to_string()],
                    |r| {
                        Ok((
                            r.get::<_, Option<bool>>(0)?.unwrap_or(false),
                            r.get(1)?,
                            r.get(2)?,
                        ))
                    },
                )
                .map_err(db)?;
            if passkeys <= 1 && !has_password && identities == 0 {
                return Err(StoreError::Conflict(
                    "this is the account's only way to sign in".into(),
                ));
            }
            tx.execute(
                "DELETE FROM passkeys WHERE id = ?1 AND user_id = ?2",
                [id.to_string(), user.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn passkey_used(
        &self,
        id: PasskeyId,
        counter_state: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let state = counter_state.to_vec();
        self.write(move |tx| {
            tx.execute(
                "UPDATE passkeys SET counter_state = ?1, last_used_at = ?2 WHERE id = ?3",
                params![state, micros(at), id.to_string()],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn create_ceremony(
        &self,
        ceremony: &CeremonyRow,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let c = ceremony.clone();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM passkey_ceremonies WHERE expires_at < ?1",
                [micros(now)],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO passkey_ceremonies (id, user_id, kind, state, expires_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    c.id.to_string(),
                    c.user_id.map(|u| u.to_string()),
                    c.kind,
                    c.state,
                    micros(c.expires_at),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<CeremonyRow>> {
        let kind = kind.to_string();
        self.write(move |tx| {
            let row = tx
                .query_row(
                    "DELETE FROM passkey_ceremonies WHERE id = ?1 AND kind = ?2 \
                     RETURNING id, user_id, kind, state, expires_at",
                    [id.to_string(), kind],
                    |r| {
                        Ok(CeremonyRow {
                            id: uuid_of(r.get(0)?)?,
                            user_id: opt_uuid(r.get(1)?)?.map(Into::into),
                            kind: r.get(2)?,
                            state: r.get(3)?,
                            expires_at: from_micros(r.get(4)?)?,
                        })
                    },
                )
                .optional()
                .map_err(db)?;
            Ok(row.filter(|c| c.expires_at > now))
        })
        .await
    }
}

//! PostgreSQL and Aurora DSQL: passkeys and their ceremonies.

use shared::PasskeyId;

use super::*;

const PASSKEY_COLUMNS: &str = "id, user_id, credential_id, name, public_key, counter_state, \
     transports, created_at, last_used_at";

fn passkey_from(r: &Row) -> PasskeyRow {
    PasskeyRow {
        id: r.get::<_, Uuid>("id").into(),
        user_id: r.get::<_, Uuid>("user_id").into(),
        credential_id: r.get("credential_id"),
        name: r.get("name"),
        public_key: r.get("public_key"),
        counter_state: r.get("counter_state"),
        transports: r.get("transports"),
        created_at: r.get("created_at"),
        last_used_at: r.get("last_used_at"),
    }
}

#[async_trait]
impl PasskeyStore for PgStore {
    async fn create_passkey(&self, passkey: &PasskeyRow) -> StoreResult<()> {
        let p = passkey;
        write_tx!(self, |tx| {
            // Re-running after a retried commit must not fail: the id is the application's.
            tx.execute(
                &format!(
                    "INSERT INTO passkeys ({PASSKEY_COLUMNS}) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING"
                ),
                &[
                    &p.id.as_uuid(),
                    &p.user_id.as_uuid(),
                    &p.credential_id,
                    &p.name,
                    &p.public_key,
                    &p.counter_state,
                    &p.transports,
                    &p.created_at,
                    &p.last_used_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE user_id = $1 \
                     ORDER BY created_at, id"
                ),
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(passkey_from).collect())
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<(PasskeyRow, User)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT p.id, p.user_id, p.credential_id, p.name, p.public_key, p.counter_state, \
                 p.transports, p.created_at, p.last_used_at, u.email, u.name AS user_name, \
                 u.created_at AS user_created_at \
                 FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = $1",
                &[&credential_id],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| {
            let passkey = passkey_from(&r);
            let user = User {
                id: passkey.user_id,
                email: r.get("email"),
                name: r.get("user_name"),
                created_at: r.get("user_created_at"),
            };
            (passkey, user)
        }))
    }

    async fn rename_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
        name: &str,
    ) -> StoreResult<PasskeyRow> {
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    &format!(
                        "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 \
                         RETURNING {PASSKEY_COLUMNS}"
                    ),
                    &[&name, &id.as_uuid(), &user.as_uuid()],
                )
                .await
                .map_err(pg)?;
            row.as_ref().map(passkey_from).ok_or(StoreError::NotFound)
        })
    }

    async fn delete_passkey(&self, user: UserId, id: PasskeyId) -> StoreResult<()> {
        write_tx!(self, |tx| {
            // A write to the user's row: two removals of an account's last passkeys, or a
            // removal and a password being cleared, collide instead of both passing.
            let user_row = tx
                .query_opt(
                    "UPDATE users SET name = name WHERE id = $1 \
                     RETURNING password_hash IS NOT NULL AS has_password",
                    &[&user.as_uuid()],
                )
                .await
                .map_err(pg)?
                .ok_or(StoreError::NotFound)?;
            let has_password: bool = user_row.get("has_password");
            let counts = tx
                .query_one(
                    "SELECT (SELECT count(*) FROM identities WHERE user_id = $1) AS identities, \
                     (SELECT count(*) FROM passkeys WHERE user_id = $1) AS passkeys, \
                     (SELECT count(*) FROM passkeys WHERE user_id = $1 AND id = $2) AS this_one",
                    &[&user.as_uuid(), &id.as_uuid()],
                )
                .await
                .map_err(pg)?;
            let identities: i64 = counts.get("identities");
            let passkeys: i64 = counts.get("passkeys");
            let this_one: i64 = counts.get("this_one");
            if this_one == 0 {
                return Err(StoreError::NotFound);
            }
            if passkeys <= 1 && !has_password && identities == 0 {
                return Err(StoreError::Conflict(
                    "this is the account's only way to sign in".into(),
                ));
            }
            tx.execute(
                "DELETE FROM passkeys WHERE id = $1 AND user_id = $2",
                &[&id.as_uuid(), &user.as_uuid()],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn passkey_used(
        &self,
        id: PasskeyId,
        counter_state: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE passkeys SET counter_state = $1, last_used_at = $2 WHERE id = $3",
                &[&counter_state, &at, &id.as_uuid()],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn create_ceremony(
        &self,
        ceremony: &CeremonyRow,
        now: OffsetDateTime,
    ) -> StoreResult<()> {
        let c = ceremony;
        // Forgetting expired ceremonies is its own transaction, a few at a time, so it
        // stays small and never holds up the new one.
        write_tx!(self, |tx| {
            tx.execute(
                "DELETE FROM passkey_ceremonies WHERE id IN \
                 (SELECT id FROM passkey_ceremonies WHERE expires_at < $1 LIMIT 100)",
                &[&now],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })?;
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO passkey_ceremonies (id, user_id, kind, state, expires_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
                &[
                    &c.id,
                    &c.user_id.map(|u| u.as_uuid()),
                    &c.kind,
                    &c.state,
                    &c.expires_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<CeremonyRow>> {
        let row = write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    "DELETE FROM passkey_ceremonies WHERE id = $1 AND kind = $2 \
                     RETURNING id, user_id, kind, state, expires_at",
                    &[&id, &kind],
                )
                .await
                .map_err(pg)?;
            Ok(row.map(|r| CeremonyRow {
                id: r.get("id"),
                user_id: r.get::<_, Option<Uuid>>("user_id").map(Into::into),
                kind: r.get("kind"),
                state: r.get("state"),
                expires_at: r.get("expires_at"),
            }))
        })?;
        Ok(row.filter(|c| c.expires_at > now))
    }
}

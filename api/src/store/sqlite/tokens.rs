//! SQLite: personal API tokens.

use super::*;

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.secret_hash, t.name, t.scope, t.household_id, t.hint, \
     t.created_at, t.expires_at, t.last_used_at";

fn token_from(r: &Row<'_>) -> rusqlite::Result<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: uuid_of(r.get(0)?)?.into(),
        user_id: uuid_of(r.get(1)?)?.into(),
        secret_hash: r.get(2)?,
        name: r.get(3)?,
        scope: parse_scope(&r.get::<_, String>(4)?).map_err(conversion)?,
        household_id: opt_uuid(r.get(5)?)?.map(Into::into),
        hint: r.get(6)?,
        created_at: from_micros(r.get(7)?)?,
        expires_at: from_micros(r.get(8)?)?,
        last_used_at: r.get::<_, Option<i64>>(9)?.map(from_micros).transpose()?,
    })
}

#[async_trait]
impl TokenStore for SqliteStore {
    async fn create_api_token(&self, token: &ApiTokenRow) -> StoreResult<()> {
        let t = token.clone();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO api_tokens (id, user_id, secret_hash, name, scope, household_id, hint, \
                 created_at, expires_at, last_used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    t.id.to_string(),
                    t.user_id.to_string(),
                    t.secret_hash,
                    t.name,
                    t.scope.as_str(),
                    t.household_id.map(|h| h.to_string()),
                    t.hint,
                    micros(t.created_at),
                    micros(t.expires_at),
                    t.last_used_at.map(micros),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiTokenRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(&format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = ?1 \
                     ORDER BY t.created_at DESC, t.id DESC"
                ))
                .map_err(db)?;
            let rows = stmt
                .query_map([user.to_string()], token_from)
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn api_token_by_hash(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<(ApiTokenRow, User)>> {
        let hash = secret_hash.to_vec();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS}, u.id, u.email, u.name, u.created_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = ?1"
            ))
            .map_err(db)?
            .query_row([hash], |r| {
                let token = token_from(r)?;
                let user = User {
                    id: uuid_of(r.get(10)?)?.into(),
                    email: r.get(11)?,
                    name: r.get(12)?,
                    created_at: from_micros(r.get(13)?)?,
                };
                Ok((token, user))
            })
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn touch_api_token(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE api_tokens SET last_used_at = ?2 \
                 WHERE id = ?1 AND (last_used_at IS NULL OR last_used_at <= ?3)",
                params![id.to_string(), micros(at), micros(since)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn delete_api_token(&self, user: UserId, id: TokenId) -> StoreResult<()> {
        self.write(move |tx| {
            let changed = tx
                .execute(
                    "DELETE FROM api_tokens WHERE id = ?1 AND user_id = ?2",
                    [id.to_string(), user.to_string()],
                )
                .map_err(db)?;
            exactly_one(changed as u64, StoreError::NotFound)
        })
        .await
    }
}

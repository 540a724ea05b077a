//! PostgreSQL and Aurora DSQL: personal API tokens.

use super::*;

const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.secret_hash, t.name, t.scope, t.household_id, t.hint, \
     t.created_at, t.expires_at, t.last_used_at";

fn token_from(r: &Row) -> StoreResult<ApiTokenRow> {
    Ok(ApiTokenRow {
        id: r.get::<_, Uuid>("id").into(),
        user_id: r.get::<_, Uuid>("user_id").into(),
        secret_hash: r.get("secret_hash"),
        name: r.get("name"),
        scope: parse_scope(r.get("scope"))?,
        household_id: r.get::<_, Option<Uuid>>("household_id").map(Into::into),
        hint: r.get("hint"),
        created_at: r.get("created_at"),
        expires_at: r.get("expires_at"),
        last_used_at: r.get("last_used_at"),
    })
}

#[async_trait]
impl TokenStore for PgStore {
    async fn create_api_token(&self, token: &ApiTokenRow) -> StoreResult<()> {
        let t = token;
        let household = t.household_id.map(|h| h.as_uuid());
        write_tx!(self, |tx| {
            // Re-running after a retried commit must not fail: the id is the application's.
            tx.execute(
                "INSERT INTO api_tokens (id, user_id, secret_hash, name, scope, household_id, hint, \
                 created_at, expires_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (id) DO NOTHING",
                &[
                    &t.id.as_uuid(),
                    &t.user_id.as_uuid(),
                    &t.secret_hash,
                    &t.name,
                    &t.scope.as_str(),
                    &household,
                    &t.hint,
                    &t.created_at,
                    &t.expires_at,
                    &t.last_used_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiTokenRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.user_id = $1 \
                     ORDER BY t.created_at DESC, t.id DESC"
                ),
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(token_from).collect()
    }

    async fn api_token_by_hash(
        &self,
        secret_hash: &[u8],
    ) -> StoreResult<Option<(ApiTokenRow, User)>> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "SELECT {TOKEN_COLUMNS}, u.email, u.name AS user_name, u.created_at AS user_created_at \
                 FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1"
            ))
            .await
            .map_err(pg)?;
        let Some(r) = client
            .query_opt(&statement, &[&secret_hash])
            .await
            .map_err(pg)?
        else {
            return Ok(None);
        };
        let token = token_from(&r)?;
        let user = User {
            id: token.user_id,
            email: r.get("email"),
            name: r.get("user_name"),
            created_at: r.get("user_created_at"),
        };
        Ok(Some((token, user)))
    }

    async fn touch_api_token(
        &self,
        id: TokenId,
        at: OffsetDateTime,
        since: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE api_tokens SET last_used_at = $2 \
                 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at <= $3)",
                &[&id.as_uuid(), &at, &since],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn delete_api_token(&self, user: UserId, id: TokenId) -> StoreResult<()> {
        write_tx!(self, |tx| {
            let changed = tx
                .execute(
                    "DELETE FROM api_tokens WHERE id = $1 AND user_id = $2",
                    &[&id.as_uuid(), &user.as_uuid()],
                )
                .await
                .map_err(pg)?;
            exactly_one(changed, StoreError::NotFound)
        })
    }
}

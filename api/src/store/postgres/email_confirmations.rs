//! PostgreSQL: confirmation mails of addresses for reminder mail.

use shared::UserId;

use super::*;
use crate::store::email_confirmations::{EmailConfirmationRow, EmailConfirmationStore};

const COLUMNS: &str = "user_id, email, token_hash, sent_at, expires_at, confirmed_at, \
     window_started_at, mails_in_window";

fn row_from(r: &Row) -> EmailConfirmationRow {
    EmailConfirmationRow {
        user_id: r.get::<_, Uuid>(0).into(),
        email: r.get(1),
        token_hash: r.get(2),
        sent_at: r.get(3),
        expires_at: r.get(4),
        confirmed_at: r.get(5),
        window_started_at: r.get(6),
        mails_in_window: i64::from(r.get::<_, i32>(7)),
    }
}

#[async_trait]
impl EmailConfirmationStore for PgStore {
    async fn email_confirmation(&self, user: UserId) -> StoreResult<Option<EmailConfirmationRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM email_confirmations WHERE user_id = $1"),
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(row_from))
    }

    async fn save_email_confirmation(&self, row: &EmailConfirmationRow) -> StoreResult<()> {
        let user = row.user_id.as_uuid();
        let mails = i32::try_from(row.mails_in_window).unwrap_or(i32::MAX);
        write_tx!(self, |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO email_confirmations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, \
                     token_hash = excluded.token_hash, sent_at = excluded.sent_at, \
                     expires_at = excluded.expires_at, confirmed_at = excluded.confirmed_at, \
                     window_started_at = excluded.window_started_at, \
                     mails_in_window = excluded.mails_in_window"
                ),
                &[
                    &user,
                    &row.email,
                    &row.token_hash,
                    &row.sent_at,
                    &row.expires_at,
                    &row.confirmed_at,
                    &row.window_started_at,
                    &mails,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn drop_email_confirmation(&self, user: UserId, token_hash: &[u8]) -> StoreResult<()> {
        let user = user.as_uuid();
        write_tx!(self, |tx| {
            tx.execute(
                "DELETE FROM email_confirmations \
                 WHERE user_id = $1 AND token_hash = $2 AND confirmed_at IS NULL",
                &[&user, &token_hash],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn confirm_email(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Option<(UserId, String)>> {
        write_tx!(self, |tx| {
            let found = tx
                .query_opt(
                    "SELECT c.user_id, c.email, c.expires_at FROM email_confirmations c \
                     JOIN users u ON u.id = c.user_id AND u.email = c.email \
                     WHERE c.token_hash = $1 AND c.confirmed_at IS NULL",
                    &[&token_hash],
                )
                .await
                .map_err(pg)?;
            let Some(found) = found else {
                return Ok(None);
            };
            let (user, email, expires_at): (Uuid, String, OffsetDateTime) =
                (found.get(0), found.get(1), found.get(2));
            if expires_at <= at {
                tx.execute(
                    "DELETE FROM email_confirmations WHERE user_id = $1",
                    &[&user],
                )
                .await
                .map_err(pg)?;
                return Ok(None);
            }
            tx.execute(
                "UPDATE email_confirmations SET confirmed_at = $2, token_hash = NULL \
                 WHERE user_id = $1",
                &[&user, &at],
            )
            .await
            .map_err(pg)?;
            Ok(Some((user.into(), email)))
        })
    }
}

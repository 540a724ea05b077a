//! SQLite: confirmation mails of addresses for reminder mail.

use shared::UserId;

use super::*;
use crate::store::email_confirmations::{EmailConfirmationRow, EmailConfirmationStore};

const COLUMNS: &str = "user_id, email, token_hash, sent_at, expires_at, confirmed_at, \
     window_started_at, mails_in_window";

fn row_from(r: &Row<'_>) -> rusqlite::Result<EmailConfirmationRow> {
    Ok(EmailConfirmationRow {
        user_id: uuid_of(r.get(0)?)?.into(),
        email: r.get(1)?,
        token_hash: r.get(2)?,
        sent_at: from_micros(r.get(3)?)?,
        expires_at: from_micros(r.get(4)?)?,
        confirmed_at: r.get::<_, Option<i64>>(5)?.map(from_micros).transpose()?,
        window_started_at: from_micros(r.get(6)?)?,
        mails_in_window: r.get(7)?,
    })
}

#[async_trait]
impl EmailConfirmationStore for SqliteStore {
    async fn email_confirmation(&self, user: UserId) -> StoreResult<Option<EmailConfirmationRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM email_confirmations WHERE user_id = ?1"
            ))
            .map_err(db)?
            .query_row([user.to_string()], row_from)
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn save_email_confirmation(&self, row: &EmailConfirmationRow) -> StoreResult<()> {
        let row = row.clone();
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO email_confirmations ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                     ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, \
                     token_hash = excluded.token_hash, sent_at = excluded.sent_at, \
                     expires_at = excluded.expires_at, confirmed_at = excluded.confirmed_at, \
                     window_started_at = excluded.window_started_at, \
                     mails_in_window = excluded.mails_in_window"
                ),
                params![
                    row.user_id.to_string(),
                    row.email,
                    row.token_hash,
                    micros(row.sent_at),
                    micros(row.expires_at),
                    row.confirmed_at.map(micros),
                    micros(row.window_started_at),
                    row.mails_in_window,
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn drop_email_confirmation(&self, user: UserId, token_hash: &[u8]) -> StoreResult<()> {
        let hash = token_hash.to_vec();
        self.write(move |tx| {
            tx.execute(
                "DELETE FROM email_confirmations \
                 WHERE user_id = ?1 AND token_hash = ?2 AND confirmed_at IS NULL",
                params![user.to_string(), hash],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn confirm_email(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Option<(UserId, String)>> {
        let hash = token_hash.to_vec();
        self.write(move |tx| {
            let found: Option<(String, String, i64)> = tx
                .query_row(
                    "SELECT c.user_id, c.email, c.expires_at FROM email_confirmations c \
                     JOIN users u ON u.id = c.user_id AND u.email = c.email \
                     WHERE c.token_hash = ?1 AND c.confirmed_at IS NULL",
                    [&hash],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((user, email, expires_at)) = found else {
                return Ok(None);
            };
            if expires_at <= micros(at) {
                tx.execute(
                    "DELETE FROM email_confirmations WHERE user_id = ?1",
                    [&user],
                )
                .map_err(db)?;
                return Ok(None);
            }
            tx.execute(
                "UPDATE email_confirmations SET confirmed_at = ?2, token_hash = NULL \
                 WHERE user_id = ?1",
                params![user, micros(at)],
            )
            .map_err(db)?;
            Ok(Some((uuid_of(user).map_err(db)?.into(), email)))
        })
        .await
    }
}

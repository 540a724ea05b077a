//! SQLite: reminder settings, calendar feed and unsubscribe secrets.

use shared::{UserId, Weekday};

use super::*;
use crate::store::reminder_settings::{ReminderSettingsRow, frequency_str, parse_frequency};

const COLUMNS: &str = "user_id, digest_enabled, frequency, weekday, hour, time_zone, \
     calendar_secret, unsubscribe_secret, updated_at, saved_at";

fn settings_from(r: &Row<'_>) -> rusqlite::Result<ReminderSettingsRow> {
    Ok(ReminderSettingsRow {
        user_id: uuid_of(r.get(0)?)?.into(),
        digest_enabled: r.get(1)?,
        frequency: parse_frequency(&r.get::<_, String>(2)?),
        weekday: Weekday::from_number(r.get(3)?).unwrap_or_default(),
        hour: r.get(4)?,
        time_zone: r.get(5)?,
        calendar_secret: r.get(6)?,
        unsubscribe_secret: r.get(7)?,
        updated_at: from_micros(r.get(8)?)?,
        saved_at: r.get::<_, Option<i64>>(9)?.map(from_micros).transpose()?,
    })
}

/// Inserts the row of defaults (with these secrets) unless the person has one.
fn insert_defaults(
    tx: &Transaction<'_>,
    user: UserId,
    calendar_secret: Option<&str>,
    unsubscribe_secret: &str,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let d = ReminderSettingsRow::defaults(user, unsubscribe_secret.into(), at);
    tx.execute(
        &format!(
            "INSERT INTO reminder_settings ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
             ON CONFLICT (user_id) DO NOTHING"
        ),
        params![
            user.to_string(),
            d.digest_enabled,
            frequency_str(d.frequency),
            d.weekday.number(),
            d.hour,
            d.time_zone,
            calendar_secret,
            d.unsubscribe_secret,
            micros(at),
            None::<i64>,
        ],
    )
    .map_err(db)?;
    Ok(())
}

fn read_row(c: &Connection, user: UserId) -> StoreResult<Option<ReminderSettingsRow>> {
    c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM reminder_settings WHERE user_id = ?1"
    ))
    .map_err(db)?
    .query_row([user.to_string()], settings_from)
    .optional()
    .map_err(db)
}

#[async_trait]
impl ReminderSettingsStore for SqliteStore {
    async fn reminder_settings(&self, user: UserId) -> StoreResult<Option<ReminderSettingsRow>> {
        self.read(move |c| read_row(c, user)).await
    }

    async fn save_reminder_settings(
        &self,
        settings: &ReminderSettingsRow,
    ) -> StoreResult<ReminderSettingsRow> {
        let s = settings.clone();
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO reminder_settings ({COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                     ON CONFLICT (user_id) DO UPDATE SET digest_enabled = excluded.digest_enabled, \
                     frequency = excluded.frequency, weekday = excluded.weekday, \
                     hour = excluded.hour, time_zone = excluded.time_zone, \
                     updated_at = excluded.updated_at, saved_at = excluded.saved_at"
                ),
                params![
                    s.user_id.to_string(),
                    s.digest_enabled,
                    frequency_str(s.frequency),
                    s.weekday.number(),
                    s.hour,
                    s.time_zone,
                    s.calendar_secret,
                    s.unsubscribe_secret,
                    micros(s.updated_at),
                    s.saved_at.map(micros),
                ],
            )
            .map_err(db)?;
            read_row(tx, s.user_id)?.ok_or(StoreError::NotFound)
        })
        .await
    }

    async fn ensure_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String> {
        let (fresh, unsubscribe) = (fresh.to_string(), unsubscribe_secret.to_string());
        self.write(move |tx| {
            insert_defaults(tx, user, Some(&fresh), &unsubscribe, at)?;
            tx.execute(
                "UPDATE reminder_settings SET calendar_secret = ?2 \
                 WHERE user_id = ?1 AND calendar_secret IS NULL",
                params![user.to_string(), fresh],
            )
            .map_err(db)?;
            tx.query_row(
                "SELECT calendar_secret FROM reminder_settings WHERE user_id = ?1",
                [user.to_string()],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
    }

    async fn reset_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let (fresh, unsubscribe) = (fresh.to_string(), unsubscribe_secret.to_string());
        self.write(move |tx| {
            insert_defaults(tx, user, Some(&fresh), &unsubscribe, at)?;
            tx.execute(
                "UPDATE reminder_settings SET calendar_secret = ?2 WHERE user_id = ?1",
                params![user.to_string(), fresh],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn user_by_calendar_secret(&self, secret: &str) -> StoreResult<Option<UserId>> {
        let secret = secret.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT user_id FROM reminder_settings WHERE calendar_secret = ?1")
                .map_err(db)?
                .query_row([secret], |r| Ok(uuid_of(r.get(0)?)?.into()))
                .optional()
                .map_err(db)
        })
        .await
    }

    async fn user_by_unsubscribe_secret(&self, secret: &str) -> StoreResult<Option<UserId>> {
        let secret = secret.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT user_id FROM reminder_settings WHERE unsubscribe_secret = ?1")
                .map_err(db)?
                .query_row([secret], |r| Ok(uuid_of(r.get(0)?)?.into()))
                .optional()
                .map_err(db)
        })
        .await
    }

    async fn unsubscribe(&self, secret: &str, at: OffsetDateTime) -> StoreResult<bool> {
        let secret = secret.to_string();
        self.write(move |tx| {
            let found = tx
                .query_row(
                    "SELECT 1 FROM reminder_settings WHERE unsubscribe_secret = ?1",
                    [&secret],
                    |_| Ok(()),
                )
                .optional()
                .map_err(db)?
                .is_some();
            tx.execute(
                "UPDATE reminder_settings SET digest_enabled = 0, updated_at = ?2 \
                 WHERE unsubscribe_secret = ?1 AND digest_enabled <> 0",
                params![secret, micros(at)],
            )
            .map_err(db)?;
            Ok(found)
        })
        .await
    }
}

//! PostgreSQL: reminder settings, calendar feed and unsubscribe secrets.

use shared::{UserId, Weekday};

use super::*;
use crate::store::reminder_settings::{ReminderSettingsRow, frequency_str, parse_frequency};

const COLUMNS: &str = "user_id, digest_enabled, frequency, weekday, hour, time_zone, \
     calendar_secret, unsubscribe_secret, updated_at, saved_at";

fn settings_from(r: &Row) -> ReminderSettingsRow {
    ReminderSettingsRow {
        user_id: r.get::<_, Uuid>(0).into(),
        digest_enabled: r.get(1),
        frequency: parse_frequency(r.get(2)),
        weekday: u8::try_from(r.get::<_, i32>(3))
            .ok()
            .and_then(Weekday::from_number)
            .unwrap_or_default(),
        hour: u8::try_from(r.get::<_, i32>(4)).unwrap_or(0),
        time_zone: r.get(5),
        calendar_secret: r.get(6),
        unsubscribe_secret: r.get(7),
        updated_at: r.get(8),
        saved_at: r.get(9),
    }
}

/// Inserts the row of defaults (with these secrets) unless the person has one.
async fn insert_defaults(
    tx: &impl GenericClient,
    user: Uuid,
    calendar_secret: Option<&str>,
    unsubscribe_secret: &str,
    at: OffsetDateTime,
) -> StoreResult<()> {
    let d = ReminderSettingsRow::defaults(user.into(), unsubscribe_secret.into(), at);
    tx.execute(
        &format!(
            "INSERT INTO reminder_settings ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (user_id) DO NOTHING"
        ),
        &[
            &user,
            &d.digest_enabled,
            &frequency_str(d.frequency),
            &i32::from(d.weekday.number()),
            &i32::from(d.hour),
            &d.time_zone,
            &calendar_secret,
            &d.unsubscribe_secret,
            &at,
            &None::<OffsetDateTime>,
        ],
    )
    .await
    .map_err(pg)?;
    Ok(())
}

async fn user_where(store: &PgStore, column: &str, secret: &str) -> StoreResult<Option<UserId>> {
    let client = store.client().await?;
    let row = client
        .query_opt(
            &format!("SELECT user_id FROM reminder_settings WHERE {column} = $1"),
            &[&secret],
        )
        .await
        .map_err(pg)?;
    Ok(row.map(|r| r.get::<_, Uuid>(0).into()))
}

#[async_trait]
impl ReminderSettingsStore for PgStore {
    async fn reminder_settings(&self, user: UserId) -> StoreResult<Option<ReminderSettingsRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {COLUMNS} FROM reminder_settings WHERE user_id = $1"),
                &[&user.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.as_ref().map(settings_from))
    }

    async fn save_reminder_settings(
        &self,
        settings: &ReminderSettingsRow,
    ) -> StoreResult<ReminderSettingsRow> {
        let s = settings;
        let (weekday, hour) = (i32::from(s.weekday.number()), i32::from(s.hour));
        let frequency = frequency_str(s.frequency);
        write_tx!(self, |tx| {
            let row = tx
                .query_one(
                    &format!(
                        "INSERT INTO reminder_settings ({COLUMNS}) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (user_id) DO UPDATE SET \
                         digest_enabled = excluded.digest_enabled, \
                         frequency = excluded.frequency, weekday = excluded.weekday, \
                         hour = excluded.hour, time_zone = excluded.time_zone, \
                         updated_at = excluded.updated_at, saved_at = excluded.saved_at RETURNING {COLUMNS}"
                    ),
                    &[
                        &s.user_id.as_uuid(),
                        &s.digest_enabled,
                        &frequency,
                        &weekday,
                        &hour,
                        &s.time_zone,
                        &s.calendar_secret,
                        &s.unsubscribe_secret,
                        &s.updated_at,
                        &s.saved_at,
                    ],
                )
                .await
                .map_err(pg)?;
            Ok(settings_from(&row))
        })
    }

    async fn ensure_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            insert_defaults(&tx, id, Some(fresh), unsubscribe_secret, at).await?;
            let row = tx
                .query_one(
                    "UPDATE reminder_settings SET calendar_secret = coalesce(calendar_secret, $2) \
                     WHERE user_id = $1 RETURNING calendar_secret",
                    &[&id, &fresh],
                )
                .await
                .map_err(pg)?;
            Ok(row.get(0))
        })
    }

    async fn reset_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        let id = user.as_uuid();
        write_tx!(self, |tx| {
            insert_defaults(&tx, id, Some(fresh), unsubscribe_secret, at).await?;
            tx.execute(
                "UPDATE reminder_settings SET calendar_secret = $2 WHERE user_id = $1",
                &[&id, &fresh],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn user_by_calendar_secret(&self, secret: &str) -> StoreResult<Option<UserId>> {
        user_where(self, "calendar_secret", secret).await
    }

    async fn user_by_unsubscribe_secret(&self, secret: &str) -> StoreResult<Option<UserId>> {
        user_where(self, "unsubscribe_secret", secret).await
    }

    async fn unsubscribe(&self, secret: &str, at: OffsetDateTime) -> StoreResult<bool> {
        write_tx!(self, |tx| {
            let found = tx
                .query_opt(
                    "SELECT digest_enabled FROM reminder_settings WHERE unsubscribe_secret = $1",
                    &[&secret],
                )
                .await
                .map_err(pg)?;
            match found.map(|r| r.get::<_, bool>(0)) {
                None => Ok(false),
                Some(false) => Ok(true),
                Some(true) => {
                    tx.execute(
                        "UPDATE reminder_settings SET digest_enabled = false, updated_at = $2 \
                         WHERE unsubscribe_secret = $1",
                        &[&secret, &at],
                    )
                    .await
                    .map_err(pg)?;
                    Ok(true)
                }
            }
        })
    }
}

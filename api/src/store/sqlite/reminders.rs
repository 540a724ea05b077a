//! SQLite: what people have coming up, and the reminders sent.

use shared::{DigestFrequency, Weekday};
use time::Date;

use super::*;
use crate::store::reminders::{Claimed, DigestRecipient, UpcomingKind, UpcomingRow};

fn recipient_from(r: &Row<'_>) -> rusqlite::Result<DigestRecipient> {
    Ok(DigestRecipient {
        user_id: uuid_of(r.get(0)?)?.into(),
        email: r.get(1)?,
        name: r.get(2)?,
        frequency: match r.get::<_, Option<String>>(3)?.as_deref() {
            Some("weekly") => DigestFrequency::Weekly,
            _ => DigestFrequency::Daily,
        },
        weekday: r
            .get::<_, Option<u8>>(4)?
            .and_then(Weekday::from_number)
            .unwrap_or_default(),
        hour: r
            .get::<_, Option<u8>>(5)?
            .unwrap_or(shared::DEFAULT_DIGEST_HOUR),
        time_zone: r
            .get::<_, Option<String>>(6)?
            .unwrap_or_else(|| shared::DEFAULT_TIME_ZONE.into()),
        unsubscribe_secret: r.get(7)?,
    })
}

/// Which of `keys` `user` has in `reminders_sent`.
fn taken(c: &Connection, user: &str, keys: &[String]) -> StoreResult<Vec<String>> {
    let mut found = Vec::new();
    let mut stmt = c
        .prepare_cached("SELECT key FROM reminders_sent WHERE user_id = ?1 AND key = ?2")
        .map_err(db)?;
    for key in keys {
        if let Some(key) = stmt
            .query_row([user, key], |r| r.get::<_, String>(0))
            .optional()
            .map_err(db)?
        {
            found.push(key);
        }
    }
    Ok(found)
}

fn upcoming_from(r: &Row<'_>) -> rusqlite::Result<UpcomingRow> {
    let kind = match r.get::<_, String>(0)?.as_str() {
        "w" => UpcomingKind::WarrantyEnds,
        _ => UpcomingKind::MaintenanceDue,
    };
    let date: String = r.get(7)?;
    Ok(UpcomingRow {
        kind,
        household_id: uuid_of(r.get(1)?)?.into(),
        household_name: r.get(2)?,
        item_id: uuid_of(r.get(3)?)?.into(),
        item_name: r.get(4)?,
        schedule_id: opt_uuid(r.get(5)?)?.map(Into::into),
        title: r.get(6)?,
        date: date.parse::<Day>().map_err(conversion)?.0,
    })
}

#[async_trait]
impl ReminderStore for SqliteStore {
    async fn upcoming(
        &self,
        user: UserId,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<UpcomingRow>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT 'w', i.household_id, h.name, i.id, i.name, NULL, '', \
                     i.warranty_expires \
                     FROM members m JOIN households h ON h.id = m.household_id \
                     JOIN items i ON i.household_id = m.household_id \
                     WHERE m.user_id = ?1 AND i.deleted_at IS NULL AND i.sold_date IS NULL \
                     AND i.warranty_expires >= ?2 AND i.warranty_expires <= ?3 \
                     UNION ALL \
                     SELECT 'm', s.household_id, h.name, s.item_id, i.name, s.id, s.title, \
                     s.next_due \
                     FROM members m JOIN households h ON h.id = m.household_id \
                     JOIN maintenance_schedules s ON s.household_id = m.household_id \
                     JOIN items i ON i.household_id = s.household_id AND i.id = s.item_id \
                     WHERE m.user_id = ?1 AND i.deleted_at IS NULL AND i.sold_date IS NULL AND s.next_due <= ?3 \
                     ORDER BY 8, 1 DESC, 5, 4, 6",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(
                    params![
                        user.to_string(),
                        Day(from).to_string(),
                        Day(until).to_string()
                    ],
                    upcoming_from,
                )
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn digest_recipients(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> StoreResult<Vec<DigestRecipient>> {
        let after = after.map(|id| id.to_string()).unwrap_or_default();
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT u.id, u.email, u.name, s.frequency, s.weekday, s.hour, \
                     s.time_zone, s.unsubscribe_secret \
                     FROM users u LEFT JOIN reminder_settings s ON s.user_id = u.id \
                     LEFT JOIN email_confirmations c ON c.user_id = u.id \
                     WHERE u.id > ?1 \
                     AND (u.email_verified_at IS NOT NULL \
                          OR (c.confirmed_at IS NOT NULL AND c.email = u.email)) \
                     AND coalesce(s.digest_enabled, 1) \
                     ORDER BY u.id LIMIT ?2",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map(params![after, limit as i64], recipient_from)
                .map_err(db)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db)?;
            Ok(rows)
        })
        .await
    }

    async fn ensure_unsubscribe_secret(
        &self,
        user: UserId,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String> {
        let secret = unsubscribe_secret.to_string();
        self.write(move |tx| {
            tx.execute(
                "INSERT INTO reminder_settings (user_id, digest_enabled, frequency, weekday, \
                 hour, time_zone, calendar_secret, unsubscribe_secret, updated_at) \
                 VALUES (?1, 1, 'daily', ?2, ?3, ?4, NULL, ?5, ?6) \
                 ON CONFLICT (user_id) DO NOTHING",
                params![
                    user.to_string(),
                    Weekday::default().number(),
                    shared::DEFAULT_DIGEST_HOUR,
                    shared::DEFAULT_TIME_ZONE,
                    secret,
                    micros(at),
                ],
            )
            .map_err(db)?;
            tx.query_row(
                "SELECT unsubscribe_secret FROM reminder_settings WHERE user_id = ?1",
                [user.to_string()],
                |r| r.get(0),
            )
            .map_err(db)
        })
        .await
    }

    async fn reminded(&self, user: UserId, keys: &[String]) -> StoreResult<Vec<String>> {
        let keys = keys.to_vec();
        self.read(move |c| taken(c, &user.to_string(), &keys)).await
    }

    async fn claim_reminders(
        &self,
        user: UserId,
        period: &str,
        keys: &[String],
        at: OffsetDateTime,
    ) -> StoreResult<Claimed> {
        let period = period.to_string();
        let keys = keys.to_vec();
        self.write(move |tx| {
            let user = user.to_string();
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO reminders_sent (id, user_id, key, sent_at) \
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, key) DO NOTHING",
                )
                .map_err(db)?;
            let mut claim = |key: &str| -> StoreResult<bool> {
                let n = insert
                    .execute(params![Uuid::now_v7().to_string(), user, key, micros(at)])
                    .map_err(db)?;
                Ok(n == 1)
            };
            if !claim(&period)? {
                return Ok(None);
            }
            let mut claimed = Vec::new();
            for key in keys {
                if claim(&key)? {
                    claimed.push(key);
                }
            }
            if claimed.is_empty() {
                tx.execute(
                    "DELETE FROM reminders_sent WHERE user_id = ?1 AND key = ?2",
                    params![user, period],
                )
                .map_err(db)?;
            }
            Ok(Some(claimed))
        })
        .await
    }

    async fn release_reminders(&self, user: UserId, keys: &[String]) -> StoreResult<()> {
        let keys = keys.to_vec();
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached("DELETE FROM reminders_sent WHERE user_id = ?1 AND key = ?2")
                .map_err(db)?;
            let user = user.to_string();
            for key in keys {
                stmt.execute(params![user, key]).map_err(db)?;
            }
            Ok(())
        })
        .await
    }
}

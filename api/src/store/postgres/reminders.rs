//! PostgreSQL: what people have coming up, and the reminders sent.

use shared::{DigestFrequency, Weekday};
use time::Date;

use super::*;
use crate::store::reminders::{Claimed, DigestRecipient, UpcomingKind, UpcomingRow};

fn recipient_from(r: &Row) -> DigestRecipient {
    DigestRecipient {
        user_id: r.get::<_, Uuid>("id").into(),
        email: r.get("email"),
        name: r.get("name"),
        frequency: match r.get::<_, Option<&str>>("frequency") {
            Some("weekly") => DigestFrequency::Weekly,
            _ => DigestFrequency::Daily,
        },
        weekday: r
            .get::<_, Option<i32>>("weekday")
            .and_then(|n| u8::try_from(n).ok())
            .and_then(Weekday::from_number)
            .unwrap_or_default(),
        hour: r
            .get::<_, Option<i32>>("hour")
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(shared::DEFAULT_DIGEST_HOUR),
        time_zone: r
            .get::<_, Option<String>>("time_zone")
            .unwrap_or_else(|| shared::DEFAULT_TIME_ZONE.into()),
        unsubscribe_secret: r.get("unsubscribe_secret"),
    }
}

fn upcoming_from(r: &Row) -> UpcomingRow {
    UpcomingRow {
        kind: if r.get::<_, &str>("kind") == "w" {
            UpcomingKind::WarrantyEnds
        } else {
            UpcomingKind::MaintenanceDue
        },
        household_id: r.get::<_, Uuid>("household_id").into(),
        household_name: r.get("household_name"),
        item_id: r.get::<_, Uuid>("item_id").into(),
        item_name: r.get("item_name"),
        schedule_id: r.get::<_, Option<Uuid>>("schedule_id").map(Into::into),
        title: r.get("title"),
        date: r.get("date"),
    }
}

#[async_trait]
impl ReminderStore for PgStore {
    async fn upcoming(
        &self,
        user: UserId,
        from: Date,
        until: Date,
    ) -> StoreResult<Vec<UpcomingRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT 'w' AS kind, i.household_id, h.name AS household_name, i.id AS item_id, \
                 i.name AS item_name, NULL::uuid AS schedule_id, '' AS title, \
                 i.warranty_expires AS date \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 JOIN items i ON i.household_id = m.household_id \
                 WHERE m.user_id = $1 AND i.deleted_at IS NULL AND i.sold_date IS NULL \
                 AND i.warranty_expires >= $2 AND i.warranty_expires <= $3 \
                 UNION ALL \
                 SELECT 'm', s.household_id, h.name, s.item_id, i.name, s.id, s.title, \
                 s.next_due \
                 FROM members m JOIN households h ON h.id = m.household_id \
                 JOIN maintenance_schedules s ON s.household_id = m.household_id \
                 JOIN items i ON i.household_id = s.household_id AND i.id = s.item_id \
                 WHERE m.user_id = $1 AND i.deleted_at IS NULL AND i.sold_date IS NULL AND s.next_due <= $3 \
                 ORDER BY date, kind DESC, item_name, item_id, schedule_id",
                &[&user.as_uuid(), &from, &until],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(upcoming_from).collect())
    }

    async fn digest_recipients(
        &self,
        after: Option<UserId>,
        limit: usize,
    ) -> StoreResult<Vec<DigestRecipient>> {
        let after = after.map_or(Uuid::nil(), |id| id.as_uuid());
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT u.id, u.email, u.name, s.frequency, s.weekday, s.hour, s.time_zone, \
                 s.unsubscribe_secret \
                 FROM users u LEFT JOIN reminder_settings s ON s.user_id = u.id \
                 LEFT JOIN email_confirmations c ON c.user_id = u.id \
                 WHERE u.id > $1 \
                 AND (u.email_verified_at IS NOT NULL \
                      OR (c.confirmed_at IS NOT NULL AND c.email = u.email)) \
                 AND coalesce(s.digest_enabled, true) \
                 ORDER BY u.id LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(recipient_from).collect())
    }

    async fn ensure_unsubscribe_secret(
        &self,
        user: UserId,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String> {
        let weekday = i32::from(Weekday::default().number());
        let hour = i32::from(shared::DEFAULT_DIGEST_HOUR);
        write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO reminder_settings (user_id, digest_enabled, frequency, weekday, \
                 hour, time_zone, calendar_secret, unsubscribe_secret, updated_at) \
                 VALUES ($1, true, 'daily', $2, $3, $4, NULL, $5, $6) \
                 ON CONFLICT (user_id) DO NOTHING",
                &[
                    &user.as_uuid(),
                    &weekday,
                    &hour,
                    &shared::DEFAULT_TIME_ZONE,
                    &unsubscribe_secret,
                    &at,
                ],
            )
            .await
            .map_err(pg)?;
            let row = tx
                .query_one(
                    "SELECT unsubscribe_secret FROM reminder_settings WHERE user_id = $1",
                    &[&user.as_uuid()],
                )
                .await
                .map_err(pg)?;
            Ok(row.get::<_, String>(0))
        })
    }

    async fn reminded(&self, user: UserId, keys: &[String]) -> StoreResult<Vec<String>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT key FROM reminders_sent WHERE user_id = $1 AND key = ANY($2)",
                &[&user.as_uuid(), &keys],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    async fn claim_reminders(
        &self,
        user: UserId,
        period: &str,
        keys: &[String],
        at: OffsetDateTime,
    ) -> StoreResult<Claimed> {
        // Ids made once, so a transaction tried again after a conflict (or after a commit
        // whose answer was lost) knows its own rows.
        let period_id = Uuid::now_v7();
        let ids: Vec<Uuid> = keys.iter().map(|_| Uuid::now_v7()).collect();
        let result = write_tx!(self, |tx| {
            tx.execute(
                "INSERT INTO reminders_sent (id, user_id, key, sent_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, key) DO NOTHING",
                &[&period_id, &user.as_uuid(), &period, &at],
            )
            .await
            .map_err(pg)?;
            let ours = tx
                .query_opt(
                    "SELECT 1 FROM reminders_sent WHERE user_id = $1 AND key = $2 AND id = $3",
                    &[&user.as_uuid(), &period, &period_id],
                )
                .await
                .map_err(pg)?
                .is_some();
            if !ours {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO reminders_sent (id, user_id, key, sent_at) \
                 SELECT k.id, $1, k.key, $2 FROM unnest($3::uuid[], $4::text[]) AS k (id, key) \
                 ON CONFLICT (user_id, key) DO NOTHING",
                &[&user.as_uuid(), &at, &ids, &keys],
            )
            .await
            .map_err(pg)?;
            let claimed: Vec<String> = tx
                .query(
                    "SELECT key FROM reminders_sent WHERE user_id = $1 AND id = ANY($2)",
                    &[&user.as_uuid(), &ids],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            if claimed.is_empty() {
                tx.execute(
                    "DELETE FROM reminders_sent WHERE user_id = $1 AND id = $2",
                    &[&user.as_uuid(), &period_id],
                )
                .await
                .map_err(pg)?;
            }
            // In the order asked for.
            Ok(Some(
                keys.iter()
                    .filter(|k| claimed.contains(*k))
                    .cloned()
                    .collect::<Vec<_>>(),
            ))
        });
        match result {
            // Another pass's claim of the same key won (a unique violation on DSQL).
            Err(StoreError::Conflict(_)) => Ok(None),
            other => other,
        }
    }

    async fn release_reminders(&self, user: UserId, keys: &[String]) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "DELETE FROM reminders_sent WHERE user_id = $1 AND key = ANY($2)",
                &[&user.as_uuid(), &keys],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }
}

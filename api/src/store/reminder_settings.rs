//! Reminder settings in the stores: each person's digest settings, the secret of their
//! calendar feed and of the unsubscribe link in their mail.
//!
//! A person without a row has the defaults ([`ReminderSettingsRow::defaults`]); a row is
//! made the first time they save their settings, ask for their calendar feed, or are sent
//! a digest. Every row carries an unsubscribe secret from the start, so every mail can
//! carry its link. Both secrets are kept as they are (not hashed): the feed's address is
//! shown again whenever its owner asks, and the unsubscribe link goes into every mail.

use async_trait::async_trait;
use shared::reminders::{DEFAULT_DIGEST_HOUR, DEFAULT_TIME_ZONE};
use shared::{DigestFrequency, UserId, Weekday};
use time::OffsetDateTime;

use super::StoreResult;

/// One person's reminder settings as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct ReminderSettingsRow {
    pub user_id: UserId,
    pub digest_enabled: bool,
    pub frequency: DigestFrequency,
    pub weekday: Weekday,
    /// 0–23, in `time_zone`.
    pub hour: u8,
    /// An IANA time zone name.
    pub time_zone: String,
    /// The secret in the calendar feed's address; `None` until the feed is first asked for.
    pub calendar_secret: Option<String>,
    /// The secret in the unsubscribe link of every mail.
    pub unsubscribe_secret: String,
    pub updated_at: OffsetDateTime,
    /// When the person last saved them; `None` while they are the defaults.
    pub saved_at: Option<OffsetDateTime>,
}

impl ReminderSettingsRow {
    /// The settings of a person who never chose: a daily digest at 8 in UTC.
    pub fn defaults(user: UserId, unsubscribe_secret: String, at: OffsetDateTime) -> Self {
        Self {
            user_id: user,
            digest_enabled: true,
            frequency: DigestFrequency::Daily,
            weekday: Weekday::Monday,
            hour: DEFAULT_DIGEST_HOUR,
            time_zone: DEFAULT_TIME_ZONE.into(),
            calendar_secret: None,
            unsubscribe_secret,
            updated_at: at,
            saved_at: None,
        }
    }
}

/// How a frequency is stored.
pub fn frequency_str(frequency: DigestFrequency) -> &'static str {
    match frequency {
        DigestFrequency::Daily => "daily",
        DigestFrequency::Weekly => "weekly",
    }
}

/// A stored frequency; anything unknown reads as daily.
pub fn parse_frequency(raw: &str) -> DigestFrequency {
    match raw {
        "weekly" => DigestFrequency::Weekly,
        _ => DigestFrequency::Daily,
    }
}

#[async_trait]
pub trait ReminderSettingsStore: Send + Sync {
    /// The person's stored settings; `None` when they have none yet (the defaults apply).
    async fn reminder_settings(&self, user: UserId) -> StoreResult<Option<ReminderSettingsRow>>;

    /// Saves the digest settings of `settings` (on, frequency, weekday, hour, time zone,
    /// when saved).
    /// A new row takes `settings.unsubscribe_secret` and `settings.calendar_secret`; an
    /// existing row keeps its secrets. The row as stored afterwards.
    async fn save_reminder_settings(
        &self,
        settings: &ReminderSettingsRow,
    ) -> StoreResult<ReminderSettingsRow>;

    /// The person's calendar secret: the one they have, else `fresh` (stored now, with a
    /// row of defaults and `unsubscribe_secret` when they have no row).
    async fn ensure_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<String>;

    /// Replaces the person's calendar secret with `fresh`: the old address stops working.
    async fn reset_calendar_secret(
        &self,
        user: UserId,
        fresh: &str,
        unsubscribe_secret: &str,
        at: OffsetDateTime,
    ) -> StoreResult<()>;

    /// Whose calendar feed has this secret.
    async fn user_by_calendar_secret(&self, secret: &str) -> StoreResult<Option<UserId>>;

    /// Whose unsubscribe link has this secret.
    async fn user_by_unsubscribe_secret(&self, secret: &str) -> StoreResult<Option<UserId>>;

    /// Turns off the digest of the person whose unsubscribe link has this secret (nothing
    /// else changes); whether there was such a person.
    async fn unsubscribe(&self, secret: &str, at: OffsetDateTime) -> StoreResult<bool>;
}

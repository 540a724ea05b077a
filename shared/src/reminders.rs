//! Reminders: each person's digest of warranties ending and maintenance due (by email, daily
//! or weekly at a local hour in their time zone), and their private calendar feed.
//!
//! `GET /api/v1/me/reminders` → [`ReminderSettings`]; `PUT /api/v1/me/reminders`
//! [`ReminderSettingsInput`] → [`ReminderSettings`]; `GET /api/v1/me/calendar` and
//! `POST /api/v1/me/calendar/reset` → [`CalendarFeed`]. Digests go only to a confirmed
//! address: `POST /api/v1/me/email/confirmation` → [`ConfirmationSent`] mails a link, and
//! `POST /api/v1/email/confirm` [`ConfirmEmailInput`] → [`EmailConfirmed`] uses it.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The hour a digest goes out when the person has not chosen one.
pub const DEFAULT_DIGEST_HOUR: u8 = 8;
/// The time zone of a person who has not chosen one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// A warranty ending within this many days is in the digest.
pub const WARRANTY_NOTICE_DAYS: i64 = 30;
/// Where the web app turns reminder mail off: `<PUBLIC_URL>/unsubscribe/<secret>`.
pub const UNSUBSCRIBE_PATH: &str = "/unsubscribe/";
/// Where a confirmation mail's link leads in the web app: `<PUBLIC_URL>/confirm-email/<secret>`.
pub const CONFIRM_EMAIL_PATH: &str = "/confirm-email/";

/// How often the digest goes out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DigestFrequency {
    #[default]
    Daily,
    /// Once a week, on `weekday`.
    Weekly,
}

/// A day of the week, for a weekly digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Weekday {
    #[default]
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Self::Monday,
        Self::Tuesday,
        Self::Wednesday,
        Self::Thursday,
        Self::Friday,
        Self::Saturday,
        Self::Sunday,
    ];

    /// 1 for Monday to 7 for Sunday (ISO 8601), as stored.
    pub fn number(self) -> u8 {
        Self::ALL.iter().position(|d| *d == self).unwrap_or(0) as u8 + 1
    }

    pub fn from_number(n: u8) -> Option<Self> {
        Self::ALL.get(usize::from(n).checked_sub(1)?).copied()
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Monday => "Monday",
            Self::Tuesday => "Tuesday",
            Self::Wednesday => "Wednesday",
            Self::Thursday => "Thursday",
            Self::Friday => "Friday",
            Self::Saturday => "Saturday",
            Self::Sunday => "Sunday",
        }
    }
}

/// A person's reminder settings as the API shows them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderSettings {
    /// The digest mail is sent (a new account's is, daily).
    pub digest_enabled: bool,
    pub frequency: DigestFrequency,
    /// The day a weekly digest goes out.
    pub weekday: Weekday,
    /// The local hour (0–23) it goes out at.
    pub hour: u8,
    /// An IANA time zone name, like `Europe/Paris`.
    pub time_zone: String,
    /// Where the digest goes: the account's email.
    pub email: String,
    /// Whether that address is confirmed as the person's (by a confirmation mail's link,
    /// or by signing in with Google): until it is, no digest is sent.
    #[serde(default)]
    pub email_confirmed: bool,
    /// Whether this server can send mail at all (`SMTP_URL` or SES); without it only the
    /// calendar feed and the pages remind.
    pub mail_configured: bool,
    /// Whether the person ever saved these settings (else they are the defaults, and the
    /// web app offers the browser's time zone).
    #[serde(default)]
    pub saved: bool,
}

/// What `PUT /api/v1/me/reminders` takes: every setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReminderSettingsInput {
    pub digest_enabled: bool,
    pub frequency: DigestFrequency,
    #[serde(default)]
    pub weekday: Weekday,
    /// 0–23.
    pub hour: u8,
    /// An IANA time zone name; anything else → 422.
    pub time_zone: String,
}

/// The address of a person's private calendar feed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CalendarFeed {
    /// `<PUBLIC_URL>/api/v1/calendar/<secret>.ics`: readable without a cookie by whoever
    /// has it; resetting makes a new one and the old one answers 404.
    pub url: String,
}

/// What `POST /api/v1/me/email/confirmation` answers: the confirmation mail is on its way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmationSent {
    /// The address it was sent to.
    pub email: String,
    /// When its link stops working.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// What `POST /api/v1/email/confirm` takes: the secret from the confirmation mail's link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfirmEmailInput {
    pub token: String,
}

/// What `POST /api/v1/email/confirm` answers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailConfirmed {
    /// The address now confirmed.
    pub email: String,
}

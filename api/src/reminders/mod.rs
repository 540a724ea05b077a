//! Reminders: the digest mail of warranties ending and maintenance due, sent to each person
//! at their local hour, once per threshold however many passes run; the private calendar
//! feed of the same dates.
//!
//! A pass ([`pass`]) runs from the server's timer, from `home-inventory-backend remind`, and
//! on AWS from the hourly scheduled event. Mail goes out through a [`Mailer`]: SMTP
//! (`SMTP_URL`, [`smtp`]) or Amazon SES ([`ses`]).

use std::sync::Arc;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::AppState;
use crate::config::Config;

pub mod calendar;
pub mod ses;
pub mod smtp;

/// Sends one message.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: lettre::Message) -> anyhow::Result<()>;
}

pub type DynMailer = Arc<dyn Mailer>;

/// The mailer the configuration describes: SMTP when `SMTP_URL` is set, else SES when it is
/// configured, else none (no mail; the calendar feed and the pages still remind).
pub fn mailer_from_config(config: &Config) -> anyhow::Result<Option<DynMailer>> {
    if let Some(mailer) = smtp::from_config(config)? {
        return Ok(Some(mailer));
    }
    ses::from_env(config)
}

/// What one pass did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    /// Digests sent.
    pub sent: usize,
    /// People whose digest was due but had nothing new to say, or was sent by another pass.
    pub skipped: usize,
    /// Digests that could not be sent (tried again by the next pass).
    pub failed: usize,
}

/// One reminder pass at `now`: every person whose digest is due (their local hour has come,
/// or at any hour with `ignore_hour`) gets one digest of what they have not been reminded of.
pub async fn pass(
    _state: &AppState,
    _now: OffsetDateTime,
    _ignore_hour: bool,
) -> anyhow::Result<PassReport> {
    Ok(PassReport::default())
}

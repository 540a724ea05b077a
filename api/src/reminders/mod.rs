//! Reminders: the digest mail of warranties ending and maintenance due, sent to each person
//! at their local hour, once per threshold however many passes run; the private calendar
//! feed of the same dates.
//!
//! A pass ([`pass`]) runs from the server's timer, from `home-inventory-backend remind`, and
//! on AWS from the hourly scheduled event. Mail goes out through a [`Mailer`]: SMTP
//! (`SMTP_URL`, [`smtp`]) or Amazon SES ([`ses`]).

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use lettre::message::Mailbox;
use time::OffsetDateTime;

use crate::AppState;
use crate::config::Config;
use crate::store::DigestRecipient;

pub mod calendar;
pub mod confirm;
pub mod digest;
pub mod schedule;
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

/// People read from the store at a time.
const PAGE: usize = 500;

/// One reminder pass at `now`: every person whose digest is due (their local hour has come,
/// or at any hour with `ignore_hour`) gets one digest of what they have not been reminded of.
///
/// Exactly once: the digest's period and every line's key are claimed together before the
/// mail goes out, so a second pass (or one running at the same time) finds them taken; a
/// mail that could not be sent gives its claims back for the next pass.
pub async fn pass(
    state: &AppState,
    now: OffsetDateTime,
    ignore_hour: bool,
) -> anyhow::Result<PassReport> {
    let mut report = PassReport::default();
    let Some(mailer) = state.mailer.clone() else {
        tracing::info!("reminder pass: no mail is configured, nothing to send");
        return Ok(report);
    };
    let from: Mailbox = state
        .config
        .mail_from
        .as_deref()
        .context("MAIL_FROM is not set: reminder mail needs a sender address")?
        .parse()
        .context("MAIL_FROM is not an email address")?;
    let mut after = None;
    loop {
        let people = state.store.digest_recipients(after, PAGE).await?;
        let Some(last) = people.last() else { break };
        after = Some(last.user_id);
        for person in &people {
            match remind(state, &mailer, &from, person, now, ignore_hour).await {
                Ok(Outcome::NotDue) => {}
                Ok(Outcome::Sent) => report.sent += 1,
                Ok(Outcome::Skipped) => report.skipped += 1,
                Err(e) => {
                    report.failed += 1;
                    // The deployment's alarm watches for this line (infrastructure/src/monitoring.ts).
                    tracing::warn!(user = %person.user_id, "a reminder digest failed: {e:#}");
                }
            }
        }
        if people.len() < PAGE {
            break;
        }
    }
    // The timer runs a pass every few minutes: a pass that sent nothing says so quietly.
    if report.sent + report.failed > 0 {
        tracing::info!(
            sent = report.sent,
            skipped = report.skipped,
            failed = report.failed,
            "reminder pass"
        );
    } else {
        tracing::debug!(skipped = report.skipped, "reminder pass: nothing to send");
    }
    Ok(report)
}

enum Outcome {
    /// Not this person's time, or their digest of the period went out already.
    NotDue,
    Sent,
    /// Nothing new to say, or another pass has it.
    Skipped,
}

/// A person's mailbox: their name (when they have one) and address.
pub fn mailbox(name: &str, email: &str) -> anyhow::Result<Mailbox> {
    let address: lettre::Address = email
        .parse()
        .with_context(|| format!("{email:?} is not an email address"))?;
    let name = name.trim();
    Ok(Mailbox::new(
        (!name.is_empty()).then(|| name.to_string()),
        address,
    ))
}

/// A secret for an unsubscribe link: 256 random bits.
fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

async fn remind(
    state: &AppState,
    mailer: &DynMailer,
    from: &Mailbox,
    person: &DigestRecipient,
    now: OffsetDateTime,
    ignore_hour: bool,
) -> anyhow::Result<Outcome> {
    let store = &state.store;
    let Some(due) = schedule::digest_due(
        person.frequency,
        person.weekday,
        person.hour,
        &person.time_zone,
        now,
        ignore_hour,
    ) else {
        return Ok(Outcome::NotDue);
    };
    let user = person.user_id;
    if !store
        .reminded(user, std::slice::from_ref(&due.period))
        .await?
        .is_empty()
    {
        return Ok(Outcome::NotDue);
    }
    let rows = store
        .upcoming(user, due.today, digest::horizon(due.today))
        .await?;
    let mut entries = digest::entries(&rows, due.today, person.frequency);
    let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let before = store.reminded(user, &keys).await?;
    entries.retain(|e| !before.contains(&e.key));
    entries.truncate(digest::MAX_ENTRIES);
    if entries.is_empty() {
        return Ok(Outcome::Skipped);
    }
    let to = mailbox(&person.name, &person.email)?;
    let secret = match &person.unsubscribe_secret {
        Some(secret) => secret.clone(),
        None => {
            store
                .ensure_unsubscribe_secret(user, &new_secret()?, now)
                .await?
        }
    };
    let keys: Vec<String> = entries.iter().map(|e| e.key.clone()).collect();
    let Some(claimed) = store.claim_reminders(user, &due.period, &keys, now).await? else {
        return Ok(Outcome::Skipped);
    };
    entries.retain(|e| claimed.contains(&e.key));
    if entries.is_empty() {
        return Ok(Outcome::Skipped);
    }
    let addressing = digest::Addressing {
        from: from.clone(),
        to,
        name: &person.name,
        public_url: &state.config.public_url,
        unsubscribe_secret: &secret,
        frequency: person.frequency,
    };
    let sent = match digest::message(&addressing, &entries) {
        Ok(message) => mailer.send(message).await,
        Err(e) => Err(e),
    };
    if let Err(e) = sent {
        let mut release = claimed;
        release.push(due.period);
        if let Err(undo) = store.release_reminders(user, &release).await {
            tracing::error!(%user, "a digest's claims could not be given back: {undo:#}");
        }
        return Err(e);
    }
    Ok(Outcome::Sent)
}

/// How often the self-hosted server runs a pass. Digests go out at whole local hours, so a
/// few minutes late at most; a pass that finds nothing due costs a few reads.
pub const TIMER_PERIOD: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// The self-hosted server's timer: a pass at start-up and then every [`TIMER_PERIOD`]
/// (a missed hour is caught up by the next pass). Does nothing when no mail is configured;
/// a failing pass is logged and the next one tries again.
pub fn remind_forever(state: AppState) {
    if state.mailer.is_none() {
        tracing::info!("no mail is configured (SMTP_URL): reminder digests are off");
        return;
    }
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(TIMER_PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = pass(&state, OffsetDateTime::now_utc(), false).await {
                tracing::warn!("the reminder pass failed: {e:#}");
            }
        }
    });
}

//! The mail that asks a person to confirm their address before reminder digests go to it.

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use time::Duration;

use super::digest::{escape, message_id};

/// How long a confirmation link works.
pub const LINK_LIFETIME: Duration = Duration::hours(24);

/// Whom a confirmation mail goes to, and its link's secret.
pub struct Confirmation<'a> {
    pub from: Mailbox,
    pub to: Mailbox,
    pub name: &'a str,
    pub public_url: &'a str,
    pub token: &'a str,
}

/// The link the mail carries: the web app's page, which confirms when its button is pressed
/// (mail scanners that open links confirm nothing).
pub fn link(public_url: &str, token: &str) -> String {
    format!(
        "{}{}{token}",
        public_url.trim_end_matches('/'),
        shared::CONFIRM_EMAIL_PATH
    )
}

pub fn message(c: &Confirmation<'_>) -> anyhow::Result<Message> {
    let link = link(c.public_url, c.token);
    let hours = LINK_LIFETIME.whole_hours();
    let name = c.name.trim();
    let hello = if name.is_empty() {
        "Hello,".to_string()
    } else {
        format!("Hello {name},")
    };
    let text = format!(
        "{hello}\n\nConfirm that this is your address, and Home Inventory will send your \
         reminder digest here:\n\n{link}\n\nThe link works for {hours} hours. If you did not \
         ask for this, ignore this mail: nothing will be sent to you.\n"
    );
    let html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\"><p>{}</p>\
         <p>Confirm that this is your address, and Home Inventory will send your reminder \
         digest here:</p><p><a href=\"{link}\">Confirm my address</a></p>\
         <p>The link works for {hours} hours. If you did not ask for this, ignore this mail: \
         nothing will be sent to you.</p></body></html>",
        escape(&hello),
    );
    Ok(Message::builder()
        .from(c.from.clone())
        .to(c.to.clone())
        .subject("Confirm your address for Home Inventory reminders")
        .message_id(Some(message_id(c.public_url)))
        .multipart(MultiPart::alternative_plain_html(text, html))?)
}

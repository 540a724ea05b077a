//! Mail through an SMTP server (`SMTP_URL`), over rustls when the URL asks for TLS.
//!
//! `smtp://host:25` talks plain SMTP (a relay on the same machine or network);
//! `smtp://user:pass@host:587?tls=required` upgrades with STARTTLS (`?tls=opportunistic`
//! when the server offers it); `smtps://user:pass@host:465` is TLS from the start.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::Config;

use super::{DynMailer, Mailer};

/// How long one conversation with the server may take.
const TIMEOUT: Duration = Duration::from_secs(30);

struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: lettre::Message) -> anyhow::Result<()> {
        self.transport
            .send(message)
            .await
            .context("the SMTP server did not take the message")?;
        Ok(())
    }
}

/// `MAIL_FROM` as a mailbox, with a message that says what is wrong.
pub fn sender(config: &Config) -> anyhow::Result<Mailbox> {
    let from = config
        .mail_from
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .context("MAIL_FROM must be set with SMTP_URL: the address reminder mail comes from")?;
    from.parse().with_context(|| {
        format!(
            "MAIL_FROM {from:?} is not an email address (like reminders@example.com or \
             \"Home Inventory <reminders@example.com>\")"
        )
    })
}

/// The SMTP mailer of `SMTP_URL`; `None` when it is unset. A URL lettre cannot read, or a
/// missing or malformed `MAIL_FROM`, is an error (the server does not start).
pub fn from_config(config: &Config) -> anyhow::Result<Option<DynMailer>> {
    let Some(url) = &config.smtp_url else {
        return Ok(None);
    };
    let url = url.expose_secret().trim();
    if url.is_empty() {
        return Ok(None);
    }
    sender(config)?;
    // The URL's scheme and host, never its password, in the message.
    let shown = url
        .split_once("://")
        .map(|(scheme, rest)| {
            let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
            format!("{scheme}://{host}")
        })
        .unwrap_or_else(|| "(no scheme)".into());
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        anyhow::bail!(
            "SMTP_URL {shown} must start with smtp:// or smtps:// (like smtp://localhost:25 \
             or smtps://user:password@mail.example.com:465)"
        );
    }
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|e| anyhow::anyhow!("SMTP_URL {shown} is not a usable SMTP address: {e}"))?
        .timeout(Some(TIMEOUT))
        .build();
    Ok(Some(Arc::new(SmtpMailer { transport })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(smtp: Option<&str>, from: Option<&str>) -> Config {
        let smtp = smtp.map(str::to_string);
        let from = from.map(str::to_string);
        Config::from_lookup(|name| match name {
            "SMTP_URL" => smtp.clone(),
            "MAIL_FROM" => from.clone(),
            _ => None,
        })
        .expect("a configuration")
    }

    fn error(smtp: Option<&str>, from: Option<&str>) -> String {
        match from_config(&config(smtp, from)) {
            Ok(_) => panic!("accepted {smtp:?} {from:?}"),
            Err(e) => format!("{e:#}"),
        }
    }

    #[test]
    fn no_url_no_mailer() {
        assert!(from_config(&config(None, None)).unwrap().is_none());
        assert!(
            from_config(&config(None, Some("a@example.com")))
                .unwrap()
                .is_none()
        );
    }

    #[tokio::test]
    async fn plain_starttls_and_implicit_tls_urls_make_a_mailer() {
        for url in [
            "smtp://127.0.0.1:2525",
            "smtp://user:pw@mail.example.com:587?tls=required",
            "smtps://user:pw@mail.example.com:465",
        ] {
            assert!(
                from_config(&config(Some(url), Some("Home <home@example.com>")))
                    .unwrap()
                    .is_some(),
                "{url}"
            );
        }
    }

    #[test]
    fn a_url_without_a_sender_is_refused() {
        let e = error(Some("smtp://localhost:25"), None);
        assert!(e.contains("MAIL_FROM must be set"), "{e}");
        let e = error(Some("smtp://localhost:25"), Some("not an address"));
        assert!(
            e.contains("MAIL_FROM \"not an address\" is not an email address"),
            "{e}"
        );
    }

    #[test]
    fn a_wrong_url_is_refused_without_showing_its_password() {
        let e = error(
            Some("http://user:hunter2@mail.example.com"),
            Some("a@example.com"),
        );
        assert!(e.contains("must start with smtp:// or smtps://"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = error(Some("smtp://user:hunter2@:25"), Some("a@example.com"));
        assert!(!e.contains("hunter2"), "{e}");
    }
}

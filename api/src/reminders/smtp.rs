//! Mail through an SMTP server (`SMTP_URL`).

use crate::config::Config;

use super::DynMailer;

/// The SMTP mailer of `SMTP_URL`; `None` when it is unset.
pub fn from_config(_config: &Config) -> anyhow::Result<Option<DynMailer>> {
    Ok(None)
}

//! Confirming a person's address for reminder mail in the stores: the link mailed to it,
//! one per person, its secret kept as a SHA-256 hash until it is used. Reminder digests go
//! only to an address confirmed so, or by Google sign-in.
//!
//! A confirmation here is not `users.email_verified_at`: that decides whether a Google
//! sign-in links to an account or takes it over (see `AccountStore::claim_account`), and a
//! link someone was talked into clicking must not hand their Google sign-in to an account
//! somebody else made with their address.

use async_trait::async_trait;
use shared::UserId;
use time::OffsetDateTime;

use super::StoreResult;

/// A person's confirmation mail: waiting (`token_hash`) or used (`confirmed_at`).
#[derive(Clone, Debug, PartialEq)]
pub struct EmailConfirmationRow {
    pub user_id: UserId,
    /// The address the link was sent to: it confirms that address only.
    pub email: String,
    /// SHA-256 of the link's secret, until it is used.
    pub token_hash: Option<Vec<u8>>,
    pub sent_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When the link was used.
    pub confirmed_at: Option<OffsetDateTime>,
    /// Since when `mails_in_window` counts: confirmation mails are limited per day.
    pub window_started_at: OffsetDateTime,
    pub mails_in_window: i64,
}

impl EmailConfirmationRow {
    /// Whether it confirms `email`.
    pub fn confirms(&self, email: &str) -> bool {
        self.confirmed_at.is_some() && self.email == email
    }
}

#[async_trait]
pub trait EmailConfirmationStore: Send + Sync {
    /// The person's confirmation mail, waiting or used, if they ever asked for one.
    async fn email_confirmation(&self, user: UserId) -> StoreResult<Option<EmailConfirmationRow>>;

    /// Keeps `row` (a new mail, not used) as the person's confirmation, replacing an earlier
    /// one, whose link stops working.
    async fn save_email_confirmation(&self, row: &EmailConfirmationRow) -> StoreResult<()>;

    /// Forgets the person's confirmation if it is still the unused one with `token_hash`
    /// (its mail could not be sent).
    async fn drop_email_confirmation(&self, user: UserId, token_hash: &[u8]) -> StoreResult<()>;

    /// Uses the confirmation with `token_hash`: when it has not expired at `at` and its
    /// account still has the address it was sent to, the address is confirmed for reminder
    /// mail (`confirmed_at`) and the secret forgotten; an expired one is forgotten too.
    /// Whose address was confirmed, and which; `None` for an unknown, used or expired link.
    async fn confirm_email(
        &self,
        token_hash: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<Option<(UserId, String)>>;
}

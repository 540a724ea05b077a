//! Account security in the stores: the sessions a person can see and end, and two-factor
//! sign-in (the authenticator app's secret, the last accepted time step, recovery codes).

use async_trait::async_trait;
use sha2::{Digest, Sha256};
use shared::UserId;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SessionRow, StoreResult};

/// The public id of a session made before sessions had one: derived from its token's hash
/// (itself a hash), so it is stable, tells nothing of the token, and is never a UUIDv7 a
/// newer session could have.
pub fn derived_session_id(token_hash: &[u8]) -> Uuid {
    let digest = Sha256::new()
        .chain_update(b"home-inventory session id\0")
        .chain_update(token_hash)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// A person's two-factor sign-in, set up or being set up.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoFactorRow {
    pub user_id: UserId,
    /// The secret in use, once `enabled_at` is set.
    pub secret: Option<Vec<u8>>,
    /// A secret shown by a setup, until a code from it turns two-factor on.
    pub pending_secret: Option<Vec<u8>>,
    pub enabled_at: Option<OffsetDateTime>,
    /// The last time step a code was accepted for: a code is accepted once.
    pub last_step: Option<i64>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: i64,
}

impl TwoFactorRow {
    /// The secret sign-in checks codes against, when two-factor is on.
    pub fn enabled_secret(&self) -> Option<&[u8]> {
        self.enabled_at.and(self.secret.as_deref())
    }
}

/// A new recovery code's row: its id and the SHA-256 hash of the code.
pub type RecoveryCodeRow = (Uuid, Vec<u8>);

/// Sessions and two-factor sign-in.
#[async_trait]
pub trait SecurityStore: Send + Sync {
    /// The live sessions of `user`.
    async fn sessions_of(&self, user: UserId, now: OffsetDateTime) -> StoreResult<Vec<SessionRow>>;
    /// Ends every session of `user` but `keep`; how many live ones ended.
    async fn end_other_sessions(
        &self,
        user: UserId,
        keep: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<u64>;
    /// The user's two-factor row, if they ever started setting it up.
    async fn two_factor(&self, user: UserId) -> StoreResult<Option<TwoFactorRow>>;
    /// Keeps `secret` as the pending one, replacing any earlier pending secret.
    /// `Conflict` when two-factor is already on.
    async fn start_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Turns two-factor on with the pending secret, if it is still `secret`, recording
    /// `step` as used and replacing the recovery codes; `Conflict` otherwise.
    async fn enable_two_factor(
        &self,
        user: UserId,
        secret: &[u8],
        step: i64,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Records `step` as used, if two-factor is on and no code of that step or a later one
    /// was accepted before. Whether it was recorded.
    async fn accept_totp_step(&self, user: UserId, step: i64) -> StoreResult<bool>;
    /// Uses up the recovery code with that hash. Whether there was one.
    async fn use_recovery_code(&self, user: UserId, code_hash: &[u8]) -> StoreResult<bool>;
    /// Replaces every recovery code of `user`; `NotFound` when two-factor is off.
    async fn replace_recovery_codes(
        &self,
        user: UserId,
        codes: &[RecoveryCodeRow],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Turns two-factor off: the secrets and the recovery codes are deleted.
    async fn disable_two_factor(&self, user: UserId) -> StoreResult<()>;
}

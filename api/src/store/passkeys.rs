//! Passkeys in the stores: the credentials people register, and the ceremonies (register,
//! sign in, confirm) started and not finished yet.

use async_trait::async_trait;
use shared::{Passkey, PasskeyId, User, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

use super::StoreResult;

/// A registered passkey. `public_key` and `counter_state` are the WebAuthn library's
/// encodings (`StaticState`, `DynamicState`); the store keeps them as bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct PasskeyRow {
    pub id: PasskeyId,
    pub user_id: UserId,
    pub credential_id: Vec<u8>,
    pub name: String,
    pub public_key: Vec<u8>,
    pub counter_state: Vec<u8>,
    pub transports: i32,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

impl PasskeyRow {
    pub fn to_passkey(&self) -> Passkey {
        Passkey {
            id: self.id,
            name: self.name.clone(),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }
}

/// A ceremony waiting for its answer; `kind` is `register`, `sign_in` or `confirm`.
#[derive(Clone, Debug, PartialEq)]
pub struct CeremonyRow {
    pub id: Uuid,
    /// Whose ceremony it is; `None` for a sign-in, where nobody is known yet.
    pub user_id: Option<UserId>,
    pub kind: String,
    pub state: Vec<u8>,
    pub expires_at: OffsetDateTime,
}

#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Stores a new passkey; `Conflict` when its credential id is registered already.
    async fn create_passkey(&self, passkey: &PasskeyRow) -> StoreResult<()>;
    /// `user`'s passkeys, oldest first.
    async fn passkeys(&self, user: UserId) -> StoreResult<Vec<PasskeyRow>>;
    /// The passkey with this credential id, and its owner.
    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> StoreResult<Option<(PasskeyRow, User)>>;
    /// Renames one of `user`'s passkeys; `NotFound` when `user` has no such passkey.
    async fn rename_passkey(
        &self,
        user: UserId,
        id: PasskeyId,
        name: &str,
    ) -> StoreResult<PasskeyRow>;
    /// Deletes one of `user`'s passkeys; `NotFound` when `user` has no such passkey,
    /// `Conflict` when it is the account's only way in (its last passkey, and the account
    /// has no password and no linked identity).
    async fn delete_passkey(&self, user: UserId, id: PasskeyId) -> StoreResult<()>;
    /// Records a use: the new counter state and when.
    async fn passkey_used(
        &self,
        id: PasskeyId,
        counter_state: &[u8],
        at: OffsetDateTime,
    ) -> StoreResult<()>;
    /// Stores a ceremony; also forgets ceremonies that expired before `ceremony`'s start.
    async fn create_ceremony(&self, ceremony: &CeremonyRow, now: OffsetDateTime)
    -> StoreResult<()>;
    /// Takes (deletes and returns) the ceremony with this id and kind, if it has not
    /// expired at `now`: each ceremony is answered at most once.
    async fn take_ceremony(
        &self,
        id: Uuid,
        kind: &str,
        now: OffsetDateTime,
    ) -> StoreResult<Option<CeremonyRow>>;
}

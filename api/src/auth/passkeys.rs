//! Passkeys (WebAuthn): registering them, signing in with one, and confirming with one that
//! the person at the keyboard is the account's owner.

use shared::UserId;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Checks a passkey assertion (`{"challenge_id", "credential"}`, from the confirmation
/// ceremony's start) made by one of `user`'s passkeys: how a person without a password, or
/// who prefers not to type it, confirms something sensitive (turning two-factor sign-in off).
pub async fn confirm(
    _state: &AppState,
    _user: UserId,
    _proof: &serde_json::Value,
) -> ApiResult<()> {
    Err(ApiError::field(
        "passkey",
        "passkeys are not available on this server",
    ))
}

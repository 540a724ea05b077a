//! The account's security: its signed-in devices and two-factor sign-in.

use shared::{
    DisableTwoFactor, EnableTwoFactor, List, PasswordConfirmation, RecoveryCodes, RevokedSessions,
    Session, TwoFactorSetup, TwoFactorStatus,
};
use uuid::Uuid;

use super::{ApiResult, Method, json, request};

pub async fn sessions() -> ApiResult<List<Session>> {
    request(Method::Get, "/me/sessions", None, None).await
}

pub async fn end_session(id: Uuid) -> ApiResult<()> {
    request(Method::Delete, &format!("/me/sessions/{id}"), None, None).await
}

pub async fn end_other_sessions() -> ApiResult<RevokedSessions> {
    request(Method::Post, "/me/sessions/revoke-others", None, None).await
}

pub async fn two_factor() -> ApiResult<TwoFactorStatus> {
    request(Method::Get, "/me/two-factor", None, None).await
}

fn password(password: &str) -> Option<String> {
    json(&PasswordConfirmation {
        password: password.to_string(),
    })
}

pub async fn set_up_two_factor(confirm: &str) -> ApiResult<TwoFactorSetup> {
    request(
        Method::Post,
        "/me/two-factor/setup",
        password(confirm),
        None,
    )
    .await
}

/// The answer carries the recovery codes, which can't be read again later.
pub async fn enable_two_factor(code: &str) -> ApiResult<RecoveryCodes> {
    let body = EnableTwoFactor {
        code: code.to_string(),
    };
    request(Method::Post, "/me/two-factor/enable", json(&body), None).await
}

pub async fn disable_two_factor(confirm: &str) -> ApiResult<()> {
    let body = DisableTwoFactor {
        password: Some(confirm.to_string()),
        passkey: None,
    };
    request(Method::Post, "/me/two-factor/disable", json(&body), None).await
}

/// Turns two-factor sign-in off with a passkey's confirmation instead of the password.
pub async fn disable_two_factor_with_passkey(proof: serde_json::Value) -> ApiResult<()> {
    let body = DisableTwoFactor {
        password: None,
        passkey: Some(proof),
    };
    request(Method::Post, "/me/two-factor/disable", json(&body), None).await
}

pub async fn new_recovery_codes(confirm: &str) -> ApiResult<RecoveryCodes> {
    let body = password(confirm);
    request(Method::Post, "/me/two-factor/recovery-codes", body, None).await
}

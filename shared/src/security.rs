//! Account security: the sessions (signed-in devices) and two-factor sign-in with an authenticator app.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// Digits of a code from an authenticator app.
pub const TOTP_DIGITS: usize = 6;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;

/// A signed-in device: one session of the account, as `GET /api/v1/me/sessions` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// The session's public id (never its secret).
    pub id: Uuid,
    /// A short label read from the browser's `User-Agent`, like "Firefox on Windows".
    pub browser: String,
    /// The `User-Agent` the session was signed in with, when the browser sent one.
    #[serde(default)]
    pub user_agent: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last used, to the hour: written at most once an hour.
    #[serde(with = "time::serde::rfc3339")]
    pub last_used_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The session of the request that asked.
    pub current: bool,
}

/// `POST /api/v1/me/sessions/revoke-others`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedSessions {
    /// How many other sessions ended.
    pub revoked: u64,
}

/// `GET /api/v1/me/two-factor`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorStatus {
    /// Whether signing in with the password also needs a code.
    pub enabled: bool,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
}

/// `POST /api/v1/me/two-factor/setup` and `…/recovery-codes`: the account's password.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordConfirmation {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::password, required = true))]
    pub password: String,
}

/// The answer to `POST /api/v1/me/two-factor/setup`: a new secret, not yet in use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorSetup {
    /// The secret in base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/…`, what the QR code holds.
    pub otpauth_url: String,
    /// The QR code of `otpauth_url`, an SVG document.
    pub qr_svg: String,
}

/// `POST /api/v1/me/two-factor/enable`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnableTwoFactor {
    /// The 6-digit code the app shows now.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, min_length = 1))]
    pub code: String,
}

/// Recovery codes, shown once: each signs in once instead of a code from the app.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

/// `POST /api/v1/me/two-factor/disable`: the password, or a passkey's assertion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisableTwoFactor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `{"challenge_id", "credential"}` from a passkey confirmation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub passkey: Option<serde_json::Value>,
}

/// Whether `raw` looks like a code from an authenticator app (six digits, spaces allowed)
/// rather than a recovery code.
pub fn is_app_code(raw: &str) -> bool {
    let digits: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == TOTP_DIGITS && digits.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn six_digits_are_an_app_code_and_anything_else_a_recovery_code() {
        assert!(is_app_code("123456"));
        assert!(is_app_code(" 123 456 "));
        assert!(!is_app_code("12345"));
        assert!(!is_app_code("abcd-efgh-jkmn"));
    }
}

//! Passkeys (WebAuthn): registering them and signing in with one.
//!
//! The ceremonies' `options` and `credential` are the browser's own JSON
//! (`PublicKeyCredential.parseCreationOptionsFromJSON`, `credential.toJSON()`), passed
//! through as they are: the server checks them, the web app only hands them over.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::PasskeyId;
use crate::values::parse_name;

/// A passkey's name: 1 to this many characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 60;

/// A passkey's name, trimmed: 1 to [`MAX_PASSKEY_NAME_CHARS`] characters.
pub fn parse_passkey_name(raw: &str) -> Result<String, String> {
    parse_name(raw, MAX_PASSKEY_NAME_CHARS)
}

/// A passkey as listed: its name and when it was added and last used.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Passkey {
    pub id: PasskeyId,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it last signed in or confirmed something; `None`: never yet.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// `GET /api/v1/me/passkeys`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyList {
    pub items: Vec<Passkey>,
}

/// The start of a ceremony: the id to send back with its answer, and the options for the
/// browser (`PublicKeyCredentialCreationOptionsJSON` to register,
/// `PublicKeyCredentialRequestOptionsJSON` to sign in or confirm). Good once, for 5 minutes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyChallenge {
    pub challenge_id: uuid::Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: serde_json::Value,
}

/// `POST /api/v1/me/passkeys/register/finish`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FinishPasskeyRegistration {
    pub challenge_id: uuid::Uuid,
    /// 1 to 60 characters, e.g. "Passkey on Chrome".
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::passkey_name, required = true))]
    pub name: String,
    /// The new credential's `toJSON()` (`RegistrationResponseJSON`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

/// `PATCH /api/v1/me/passkeys/{id}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RenamePasskey {
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::passkey_name, required = true))]
    pub name: String,
}

/// `POST /api/v1/auth/passkey/finish`, and the proof a passkey confirmation sends: the
/// assertion's `toJSON()` (`AuthenticationResponseJSON`) for the ceremony `challenge_id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyAssertion {
    pub challenge_id: uuid::Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: serde_json::Value,
}

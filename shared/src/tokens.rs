//! Personal API tokens: what a person makes on the "API tokens" page for scripts and other
//! programs, and what the API answers about them. The secret itself (`hinv_…`) appears only
//! in [`NewToken`], once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{HouseholdId, TokenId};

/// Every token starts with this, so secret scanners (and people) can recognise one.
pub const TOKEN_PREFIX: &str = "hinv_";
/// A token's name: 1 to this many characters.
pub const MAX_TOKEN_NAME_CHARS: usize = 100;
/// Days a token lives when the request does not say.
pub const DEFAULT_TOKEN_DAYS: i64 = 90;
/// The longest a token may live: a year and a day, so "one year" always fits.
pub const MAX_TOKEN_DAYS: i64 = 366;

/// What a token may do, at most: its owner's role in a household still applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    /// Reads only: every write is refused with 403.
    Read,
    /// Reads and writes, as far as the owner's role allows.
    Write,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl FromStr for TokenScope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            _ => Err("must be read or write".into()),
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A token as listed: everything but its secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: TokenId,
    pub name: String,
    pub scope: TokenScope,
    /// The one household it may use; `None`: every household of its owner.
    pub household_id: Option<HouseholdId>,
    /// The secret's last characters, to tell tokens apart.
    pub hint: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// When it was last used, to the hour: written at most once an hour.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// `POST /api/v1/tokens`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateToken {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name, required = true))]
    pub name: String,
    pub scope: TokenScope,
    /// Limits the token to one of the person's households.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub household_id: Option<HouseholdId>,
    /// 1 to 366; 90 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 366))]
    #[serde(deserialize_with = "crate::values::whole::option")]
    pub expires_in_days: Option<i64>,
}

/// The answer to `POST /api/v1/tokens`: the only time the secret is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewToken {
    pub token: String,
    pub token_info: ApiToken,
}

/// A token's name: trimmed, 1 to 100 characters.
pub fn parse_token_name(raw: &str) -> Result<String, String> {
    crate::values::parse_name(raw, MAX_TOKEN_NAME_CHARS)
}

/// A token's lifetime in days: 90 when absent, else 1 to 366.
pub fn parse_token_days(days: Option<i64>) -> Result<i64, String> {
    match days {
        None => Ok(DEFAULT_TOKEN_DAYS),
        Some(n @ 1..=MAX_TOKEN_DAYS) => Ok(n),
        Some(_) => Err(format!(
            "must be a whole number of days from 1 to {MAX_TOKEN_DAYS}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_default_to_90_days_and_stay_within_a_year() {
        assert_eq!(parse_token_days(None), Ok(90));
        assert_eq!(parse_token_days(Some(1)), Ok(1));
        assert_eq!(parse_token_days(Some(366)), Ok(366));
        for bad in [0, -1, 367, 10_000] {
            assert!(parse_token_days(Some(bad)).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn names_are_trimmed_and_at_most_100_characters() {
        assert_eq!(
            parse_token_name("  Home Assistant "),
            Ok("Home Assistant".into())
        );
        assert!(parse_token_name("   ").is_err());
        assert!(parse_token_name(&"x".repeat(100)).is_ok());
        assert!(parse_token_name(&"x".repeat(101)).is_err());
    }

    #[test]
    fn scopes_read_as_lower_case_words() {
        assert_eq!(
            serde_json::to_string(&TokenScope::Read).unwrap(),
            "\"read\""
        );
        assert_eq!("write".parse::<TokenScope>(), Ok(TokenScope::Write));
        assert!("admin".parse::<TokenScope>().is_err());
    }
}

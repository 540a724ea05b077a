//! Read-only share links: part of a household shown to whoever holds the link, without an account.
//!
//! An owner makes a link to the whole household or to one location and everything below
//! it, with an expiry and optionally without prices. The secret appears once, in the
//! link's URL ([`NewShareLink`]); only its hash is kept. Every use is logged
//! ([`ShareUse`]), and a link can be revoked.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::attachment::Attachment;
use crate::dto::Item;
use crate::ids::{LocationId, ShareLinkId};

/// A link's name: 1 to this many characters.
pub const MAX_SHARE_LINK_NAME_CHARS: usize = 100;
/// Days a link lives when the request does not say.
pub const DEFAULT_SHARE_LINK_DAYS: i64 = 30;
/// The longest a link may live.
pub const MAX_SHARE_LINK_DAYS: i64 = 365;
/// Where the web app shows a shared view: `<PUBLIC_URL>/s/<secret>`.
pub const SHARE_PATH: &str = "/s/";

/// Whether a link still opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareLinkStatus {
    Active,
    Expired,
    Revoked,
}

impl ShareLinkStatus {
    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Expired => "Expired",
            Self::Revoked => "Revoked",
        }
    }
}

/// A share link as its household's owners see it: everything but its secret.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareLink {
    pub id: ShareLinkId,
    pub name: String,
    /// The location it shows with everything below it; `None`: the whole household.
    pub location_id: Option<LocationId>,
    /// That location's path, from the top; empty for the whole household.
    pub location_path: Vec<String>,
    /// Prices, values and receipts are left out of everything the link shows.
    pub hide_prices: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    pub status: ShareLinkStatus,
    /// Requests made through it so far.
    pub uses: i64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

/// `POST /api/v1/households/{hid}/share-links`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateShareLink {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name, required = true))]
    pub name: String,
    /// Show this location and everything below it; absent or `null`: the whole household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<LocationId>,
    /// 1 to 365; 30 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 365))]
    #[serde(deserialize_with = "crate::values::whole::option")]
    pub expires_in_days: Option<i64>,
    /// Leave prices, values and receipts out; `false` when absent.
    #[serde(default)]
    pub hide_prices: bool,
}

/// The answer to making a link: the only time its URL (holding the secret) is shown.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewShareLink {
    /// `<PUBLIC_URL>/s/<secret>`: give it to whoever should look.
    pub url: String,
    pub link: ShareLink,
}

/// One request made through a link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShareUse {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// What it opened: `details`, `locations`, `list`, `search "…"`, `item "…"`, `file "…"`.
    pub what: String,
    /// The client's address (an IPv6 address by its /64).
    pub address: String,
    /// The browser's own description of itself (`User-Agent`), if it sent one.
    pub user_agent: Option<String>,
}

/// A name for a link: trimmed, 1 to 100 characters.
pub fn parse_share_link_name(raw: &str) -> Result<String, String> {
    crate::values::parse_name(raw, MAX_SHARE_LINK_NAME_CHARS)
}

/// A link's lifetime in days: 30 when absent, else 1 to 365.
pub fn parse_share_link_days(days: Option<i64>) -> Result<i64, String> {
    match days {
        None => Ok(DEFAULT_SHARE_LINK_DAYS),
        Some(n @ 1..=MAX_SHARE_LINK_DAYS) => Ok(n),
        Some(_) => Err(format!(
            "must be a whole number of days from 1 to {MAX_SHARE_LINK_DAYS}"
        )),
    }
}

/// What a link shows, when it shows one location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedScope {
    pub location_id: LocationId,
    pub location_path: Vec<String>,
}

/// `GET /api/v1/shared/{secret}`: what the link shows, for the visitor's header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedInfo {
    pub household_name: String,
    /// The link's name, as its owner gave it.
    pub name: String,
    /// One location and everything below it; `null`: the whole household.
    pub scope: Option<SharedScope>,
    pub hide_prices: bool,
    /// What is left out of every answer: `prices` (purchase price, value, sale price) and
    /// `receipts` (documents of kind receipt) when `hide_prices`.
    pub hidden: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// `GET /api/v1/shared/{secret}/items/{id}`: an item with its photos and documents, whose
/// `url`s lead through the link.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SharedItem {
    #[serde(flatten)]
    pub item: Item,
    pub attachments: Vec<Attachment>,
}

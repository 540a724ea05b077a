//! Asset ids: the household-unique number every item and location carries, printed on
//! its label as `000-123` and in its QR code as the digits alone.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::ids::HouseholdId;

/// The largest asset id: nine digits.
pub const MAX_ASSET_ID: u64 = 999_999_999;

/// What an asset id that can't be read is told.
pub const ASSET_ID_FORMAT: &str =
    "must be an asset id like 000-123, 000123, #000123 or 123: a number from 1 to 999999999";

/// A household-unique number of an item or a location. Shown as `000-123`: zero-padded
/// to at least six digits, a dash before the last three (1 → `000-001`, 1000003 →
/// `1000-003`). Read from `000-123`, `000123`, `#000123` or `123`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, example = "000-123", pattern = "^[0-9]{3,6}-[0-9]{3}$")
)]
pub struct AssetId(u64);

impl AssetId {
    pub const FIRST: Self = Self(1);
    pub const MAX: Self = Self(MAX_ASSET_ID);

    /// `None` for 0 and for numbers above `MAX_ASSET_ID`.
    pub fn new(number: u64) -> Option<Self> {
        (1..=MAX_ASSET_ID).contains(&number).then_some(Self(number))
    }

    pub fn get(self) -> u64 {
        self.0
    }

    /// The number as the databases keep it.
    pub fn as_i64(self) -> i64 {
        self.0 as i64
    }

    /// A stored number; `None` when it is not a valid asset id.
    pub fn from_i64(number: i64) -> Option<Self> {
        u64::try_from(number).ok().and_then(Self::new)
    }

    /// The digits without the dash, zero-padded to six: what a QR code carries
    /// (`/q/000123`).
    pub fn code(self) -> String {
        format!("{:06}", self.0)
    }

    /// Whether `query` (a search) asks for an asset id: `#` followed by digits, or
    /// digits, a dash and three digits. The id it names, if it is one.
    pub fn from_search(query: &str) -> Option<Result<Self, String>> {
        let q = query.trim();
        let looks_like = match q.strip_prefix('#') {
            Some(rest) => {
                let digits = rest.replacen('-', "", 1);
                !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
            }
            None => dashed(q).is_some(),
        };
        looks_like.then(|| q.parse())
    }
}

/// `ddd-ddd` (one or more digits, a dash, exactly three): the digits without the dash.
fn dashed(s: &str) -> Option<String> {
    let (head, tail) = s.split_once('-')?;
    let ok = !head.is_empty()
        && tail.len() == 3
        && head.bytes().all(|b| b.is_ascii_digit())
        && tail.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| format!("{head}{tail}"))
}

impl fmt::Display for AssetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03}-{:03}", self.0 / 1_000, self.0 % 1_000)
    }
}

impl FromStr for AssetId {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim();
        let s = s.strip_prefix('#').unwrap_or(s);
        let digits = if s.contains('-') {
            dashed(s).ok_or_else(|| ASSET_ID_FORMAT.to_string())?
        } else {
            s.to_string()
        };
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ASSET_ID_FORMAT.into());
        }
        let number: u64 = digits.parse().map_err(|_| ASSET_ID_FORMAT.to_string())?;
        Self::new(number).ok_or_else(|| ASSET_ID_FORMAT.into())
    }
}

impl Serialize for AssetId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for AssetId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// What an asset id names: an item or a location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    Item,
    Location,
}

impl AssetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Item => "item",
            Self::Location => "location",
        }
    }
}

/// An item or location found by its asset id (`GET /api/v1/assets/{code}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetMatch {
    pub kind: AssetKind,
    /// The item's or the location's id.
    pub id: Uuid,
    pub household_id: HouseholdId,
    pub household_name: String,
    pub name: String,
    pub asset_id: AssetId,
    /// For an item: names from the root down to its location (empty when it has none).
    /// For a location: names from the root down to it, ending with its own name.
    pub location_path: Vec<String>,
}

/// Every item and location of the caller's households with one asset id.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetMatches {
    pub items: Vec<AssetMatch>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u64) -> AssetId {
        AssetId::new(n).unwrap()
    }

    #[test]
    fn shows_six_digits_with_a_dash_before_the_last_three() {
        assert_eq!(id(1).to_string(), "000-001");
        assert_eq!(id(123).to_string(), "000-123");
        assert_eq!(id(123_456).to_string(), "123-456");
        assert_eq!(id(1_000_003).to_string(), "1000-003");
        assert_eq!(id(MAX_ASSET_ID).to_string(), "999999-999");
    }

    #[test]
    fn a_qr_code_carries_the_digits_alone() {
        assert_eq!(id(123).code(), "000123");
        assert_eq!(id(1_000_003).code(), "1000003");
    }

    #[test]
    fn reads_every_input_form() {
        for raw in ["000-123", "000123", "#000123", "123", " 123 ", "#000-123"] {
            assert_eq!(raw.parse::<AssetId>(), Ok(id(123)), "{raw}");
        }
        assert_eq!("1000-003".parse::<AssetId>(), Ok(id(1_000_003)));
        assert_eq!("999999999".parse::<AssetId>(), Ok(id(MAX_ASSET_ID)));
        assert_eq!("000000001".parse::<AssetId>(), Ok(id(1)));
    }

    #[test]
    fn refuses_zero_negatives_letters_and_more_than_nine_digits() {
        for raw in [
            "",
            "0",
            "000-000",
            "-1",
            "-001",
            "12a",
            "abc",
            "1000000000",
            "0000000001",
            "00-12",
            "1-2345",
            "1--123",
            "##1",
            "+5",
            "1.5",
        ] {
            assert!(raw.parse::<AssetId>().is_err(), "{raw:?} was accepted");
        }
    }

    #[test]
    fn goes_through_json_as_its_display_form() {
        assert_eq!(serde_json::to_string(&id(42)).unwrap(), "\"000-042\"");
        assert_eq!(serde_json::from_str::<AssetId>("\"#42\"").unwrap(), id(42));
        assert!(serde_json::from_str::<AssetId>("\"x\"").is_err());
        assert!(serde_json::from_str::<AssetId>("42").is_err());
    }

    #[test]
    fn a_search_for_an_asset_id_is_told_from_other_text() {
        assert_eq!(AssetId::from_search("#000123"), Some(Ok(id(123))));
        assert_eq!(AssetId::from_search(" 000-123 "), Some(Ok(id(123))));
        assert_eq!(AssetId::from_search("#7"), Some(Ok(id(7))));
        assert!(matches!(AssetId::from_search("#0"), Some(Err(_))));
        assert_eq!(AssetId::from_search("123"), None);
        assert_eq!(AssetId::from_search("drill"), None);
        assert_eq!(AssetId::from_search("#drill"), None);
        assert_eq!(AssetId::from_search("2x4-board"), None);
    }

    #[test]
    fn stored_numbers_come_back_only_when_valid() {
        assert_eq!(AssetId::from_i64(5), Some(id(5)));
        assert_eq!(AssetId::from_i64(0), None);
        assert_eq!(AssetId::from_i64(-5), None);
        assert_eq!(id(77).as_i64(), 77);
    }
}

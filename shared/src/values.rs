//! Checked values: each `parse` returns the value or a message for the person who typed it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::{Date, Month};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_SHORT_TEXT_CHARS: usize = 200;
pub const MAX_LONG_TEXT_CHARS: usize = 10_000;
pub const MAX_TAG_CHARS: usize = 50;
pub const MAX_TAGS: usize = 50;
pub const MAX_CUSTOM_FIELDS: usize = 50;
pub const MAX_CUSTOM_KEY_CHARS: usize = 100;
pub const MAX_CUSTOM_VALUE_CHARS: usize = 1_000;
pub const MAX_QUANTITY: i64 = 1_000_000_000;
/// A thousand billion in minor units: far above anything a household owns, far below overflow
/// when a household's values are summed.
pub const MAX_AMOUNT_MINOR: i64 = 1_000_000_000_000_000;
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1_000;

/// A required name: trimmed, 1 to `max` characters, no control characters.
pub fn parse_name(raw: &str, max: usize) -> Result<String, String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err("is required".into());
    }
    check_text(name, max)?;
    Ok(name.to_string())
}

/// Optional free text: trimmed; empty means "not set".
pub fn parse_optional_text(raw: &str, max: usize) -> Result<Option<String>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    check_text(text, max)?;
    Ok(Some(text.to_string()))
}

fn check_text(text: &str, max: usize) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > max {
        return Err(format!(
            "must be at most {max} characters (this is {chars})"
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err("contains control characters".into());
    }
    Ok(())
}

/// The name of an item, 1–200 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct ItemName(String);

impl ItemName {
    pub fn parse(raw: &str) -> Result<Self, String> {
        parse_name(raw, MAX_NAME_CHARS).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An email address, lower-cased, with one `@` and a dot in the domain.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = lowercase(raw.trim());
        if email.is_empty() {
            return Err("is required".into());
        }
        let valid = email.len() <= 254
            && !email.chars().any(char::is_whitespace)
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        if valid {
            Ok(Self(email))
        } else {
            Err("is not an email address".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 1,000 characters.
pub fn check_password(raw: &str) -> Result<(), String> {
    let chars = raw.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

/// An ISO 4217 currency code: three letters, kept upper-case.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let code = raw.trim().to_ascii_uppercase();
        if code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err("must be a three-letter ISO 4217 currency code, like USD".into())
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// Digits after the decimal point, for display.
    pub fn minor_digits(&self) -> u32 {
        match self.0.as_str() {
            "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "UGX" | "XAF" | "XOF" | "PYG" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "IQD" | "LYD" => 3,
            _ => 2,
        }
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self("USD".into())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An amount of money in integer minor units (cents) and its currency.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    #[serde(deserialize_with = "whole::required")]
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn check(&self) -> Result<(), String> {
        if self.amount_minor < 0 {
            return Err("amount must not be negative".into());
        }
        if self.amount_minor > MAX_AMOUNT_MINOR {
            return Err("amount is too large".into());
        }
        Ok(())
    }

    /// `1,299.99 USD`-style text for people.
    pub fn display(&self) -> String {
        format_amount(self.amount_minor, &self.currency)
    }
}

/// Formats minor units with the currency's decimals and thousands separators.
pub fn format_amount(amount_minor: i64, currency: &Currency) -> String {
    let digits = currency.minor_digits();
    let scale = 10_i64.pow(digits);
    let sign = if amount_minor < 0 { "-" } else { "" };
    let abs = amount_minor.unsigned_abs();
    let whole = abs / scale as u64;
    let frac = abs % scale as u64;
    let whole = group_thousands(whole);
    if digits == 0 {
        format!("{sign}{whole} {currency}")
    } else {
        format!(
            "{sign}{whole}.{frac:0width$} {currency}",
            width = digits as usize
        )
    }
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Parses "1299.99" (or "1,299.99") into minor units for a currency.
pub fn parse_amount(raw: &str, currency: &Currency) -> Result<i64, String> {
    let text: String = raw
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != ' ')
        .collect();
    if text.is_empty() {
        return Err("is required".into());
    }
    let digits = currency.minor_digits() as usize;
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let numeric = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() && frac.is_empty() || !numeric(whole) || !numeric(frac) {
        return Err("must be a number like 12.50".into());
    }
    if frac.len() > digits {
        return Err(format!("has more than {digits} decimals"));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| "is too large".to_string())?
    };
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<digits$}")
            .parse()
            .map_err(|_| "must be a number".to_string())?
    };
    whole
        .checked_mul(10_i64.pow(digits as u32))
        .and_then(|w| w.checked_add(frac_value))
        .filter(|v| *v <= MAX_AMOUNT_MINOR)
        .ok_or_else(|| "is too large".to_string())
}

/// A calendar date, `2024-05-31` in JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Day(pub Date);

impl FromStr for Day {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_date(s.trim())
            .map(Self)
            .ok_or_else(|| format!("\"{s}\" is not a date like 2024-05-31"))
    }
}

/// `[year]-[month]-[day]` exactly as `time` reads it (an optional sign, four digits, two,
/// two, nothing after, a real day), without `time`'s general parser, which is large in the
/// web bundle.
fn parse_date(s: &str) -> Option<Date> {
    let (negative, rest) = match s.as_bytes() {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1] = *rest else {
        return None;
    };
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let year = i32::from(number(&[y0, y1, y2, y3])?);
    let month = Month::try_from(u8::try_from(number(&[m0, m1])?).ok()?).ok()?;
    let day = u8::try_from(number(&[d0, d1])?).ok()?;
    Date::from_calendar_date(if negative { -year } else { year }, month, day).ok()
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// Text in lower case, by the full Unicode mapping (`"ÄBC"` → `"äbc"`). In the browser
/// the browser's own `toLowerCase` does it: Rust's tables for it are large in the web bundle.
#[cfg(not(target_arch = "wasm32"))]
pub fn lowercase(text: &str) -> String {
    text.to_lowercase()
}

/// Text in lower case, by the full Unicode mapping (`"ÄBC"` → `"äbc"`). In the browser
/// the browser's own `toLowerCase` does it: Rust's tables for it are large in the web bundle.
#[cfg(target_arch = "wasm32")]
pub fn lowercase(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    js_sys::JsString::from(text).to_lower_case().into()
}

/// Normalizes tags: trimmed, inner white space folded, empty ones dropped, unique without
/// regard to case (the first spelling wins), sorted without regard to case.
pub fn normalize_tags<S: AsRef<str>>(raw: &[S]) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw {
        let tag = tag
            .as_ref()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(format!(
                "\"{tag}\" is longer than {MAX_TAG_CHARS} characters"
            ));
        }
        if tag.chars().any(char::is_control) {
            return Err("a tag contains control characters".into());
        }
        let key = lowercase(&tag);
        if !tags.iter().any(|t| lowercase(t) == key) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    tags.sort_by_key(|t| (lowercase(t), t.clone()));
    Ok(tags)
}

/// Reading whole numbers the way JSON Schema counts them: `3`, and also `3.0`, are the
/// integer 3 (`3.5` is not). For the integer fields of request bodies.
pub mod whole {
    use serde::de::{self, Deserializer, Visitor};

    use crate::Patch;

    struct Whole;

    impl Visitor<'_> for Whole {
        type Value = i64;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom("is too large"))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            // i64::MAX as f64 rounds up to 2^63, which is out of range.
            if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
                Ok(v as i64)
            } else if v.fract() == 0.0 {
                Err(E::custom("is too large"))
            } else {
                Err(E::invalid_type(de::Unexpected::Float(v), &self))
            }
        }
    }

    struct MaybeWhole;

    impl<'de> Visitor<'de> for MaybeWhole {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a whole number or null")
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(Whole).map(Some)
        }
    }

    pub fn required<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        d.deserialize_any(Whole)
    }

    pub fn option<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        d.deserialize_option(MaybeWhole)
    }

    pub fn patch<'de, D: Deserializer<'de>>(d: D) -> Result<Patch<i64>, D::Error> {
        option(d).map(Patch::from)
    }
}

/// A member's role in a household.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Editor,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Editor => "editor",
            Self::Viewer => "viewer",
        }
    }
    pub fn can_write(self) -> bool {
        matches!(self, Self::Owner | Self::Editor)
    }
    pub fn is_owner(self) -> bool {
        matches!(self, Self::Owner)
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "owner" => Ok(Self::Owner),
            "editor" => Ok(Self::Editor),
            "viewer" => Ok(Self::Viewer),
            _ => Err("must be owner, editor or viewer".into()),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_trimmed_unique_without_case_and_sorted() {
        let tags =
            normalize_tags(&["  kitchen ", "Tools", "kitchen", "", "KITCHEN", "a  b"]).unwrap();
        assert_eq!(tags, vec!["a b", "kitchen", "Tools"]);
    }

    #[test]
    fn item_names_are_trimmed_and_bounded() {
        assert_eq!(ItemName::parse("  Drill ").unwrap().as_str(), "Drill");
        assert!(ItemName::parse("   ").is_err());
        assert!(ItemName::parse(&"x".repeat(201)).is_err());
        assert!(ItemName::parse(&"é".repeat(200)).is_ok());
    }

    #[test]
    fn amounts_parse_and_format_with_the_currency_decimals() {
        let usd = Currency::parse("usd").unwrap();
        assert_eq!(parse_amount("1,299.99", &usd), Ok(129_999));
        assert_eq!(parse_amount("12.5", &usd), Ok(1_250));
        assert!(parse_amount("1.234", &usd).is_err());
        assert!(parse_amount("abc", &usd).is_err());
        assert_eq!(format_amount(129_999, &usd), "1,299.99 USD");
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(format_amount(1_500, &jpy), "1,500 JPY");
    }

    #[test]
    fn dates_round_trip_and_reject_nonsense() {
        let day: Day = "2024-05-31".parse().unwrap();
        assert_eq!(day.to_string(), "2024-05-31");
        assert!("2024-13-01".parse::<Day>().is_err());
        assert!("31/05/2024".parse::<Day>().is_err());
    }

    #[test]
    fn dates_are_read_as_time_reads_them() {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        for raw in [
            "2024-05-31",
            " 2024-02-29 ",
            "2023-02-29",
            "+2024-01-01",
            "-0044-03-15",
            "0000-01-01",
            "9999-12-31",
            "2024-00-10",
            "2024-01-00",
            "2024-04-31",
            "2024-1-01",
            "24-01-01",
            "2024-01-011",
            "2024/01/01",
            "2024-01-01T00:00",
            "+-2024-01-01",
            "20a4-01-01",
            "",
            "-",
            "2024-13-01",
            "１２３４-01-01",
            "2024-01-0١",
        ] {
            let ours = raw.parse::<Day>().ok().map(|d| d.0);
            let theirs = Date::parse(raw.trim(), format).ok();
            assert_eq!(ours, theirs, "{raw:?}");
        }
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(
            Email::parse(" Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        assert!(Email::parse("ann").is_err());
        assert!(Email::parse("ann@localhost").is_err());
    }
}

//! How single cells are written and read: amounts, dates, yes/no, quantities, formula
//! neutralising and the names of custom fields made from column names.

use std::borrow::Cow;

use shared::{Currency, Day, MAX_AMOUNT_MINOR, Money};

/// Characters that make a spreadsheet run a cell as a formula (OWASP, CSV injection).
const FORMULA_TRIGGERS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// Whether a spreadsheet would run `text` as a formula, or `text` already looks like a
/// neutralised cell (quotes before a trigger), which must then be quoted once more so that
/// reading it back removes exactly the one quote that was added.
fn needs_neutralising(text: &str) -> bool {
    text.trim_start_matches('\'').starts_with(FORMULA_TRIGGERS)
}

/// `=SUM(A1)` → `'=SUM(A1)`; `'=x` → `''=x`; anything else unchanged. The same rule
/// as Homebox's export, so files move both ways.
pub(super) fn neutralise(text: &str) -> Cow<'_, str> {
    if needs_neutralising(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Undoes [`neutralise`]: `'=SUM(A1)` → `=SUM(A1)`; `'plain` stays `'plain`.
pub(super) fn restore(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_neutralising(rest) => rest,
        _ => cell,
    }
}

/// Major units without a currency and without trailing zeros, as Homebox writes its
/// prices: 129999 USD → `1299.99`, 1250 → `12.5`, 34900 → `349`. Zero is "no amount" in
/// Homebox, so it is written as an empty cell.
pub(super) fn format_amount(money: &Money) -> String {
    if money.amount_minor == 0 {
        return String::new();
    }
    let digits = money.currency.minor_digits();
    let scale = 10_u64.pow(digits);
    let sign = if money.amount_minor < 0 { "-" } else { "" };
    let abs = money.amount_minor.unsigned_abs();
    let (whole, frac) = (abs / scale, abs % scale);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:0width$}", width = digits as usize);
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// Reads an amount in the household's currency: `1299.99`, `1,299.99`, `$1,299.99`,
/// `1.299,99 €`, `12,5`, `1299.99 USD`. `Ok(None)` for an empty cell or zero (Homebox
/// writes `0` for "no price"). The `Err` completes `"<cell>" …`.
pub(super) fn parse_amount(raw: &str, currency: &Currency) -> Result<Option<i64>, String> {
    const NOT_AN_AMOUNT: &str = "is not an amount";
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let numeric = |c: char| c.is_ascii_digit() || matches!(c, '.' | ',' | '-');
    let start = text.find(numeric).ok_or(NOT_AN_AMOUNT)?;
    let end = text
        .rfind(|c: char| c.is_ascii_digit())
        .filter(|end| *end >= start)
        .ok_or(NOT_AN_AMOUNT)?
        + 1;
    let (prefix, core, suffix) = (&text[..start], &text[start..end], &text[end..]);
    check_currency_marks(prefix, suffix, currency)?;

    let core = match core.strip_prefix('-') {
        Some(_) => return Err("is negative; amounts must be 0 or more".into()),
        None => core,
    };
    // Separators of thousands: spaces (also no-break ones), apostrophes, underscores.
    let core: String = core
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '\'' | '’' | '_'))
        .collect();
    if !core
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(NOT_AN_AMOUNT.into());
    }
    let (whole, frac) = match decimal_separator(&core, currency.minor_digits() as usize) {
        Some(sep) => match core.rsplit_once(sep) {
            Some((whole, frac)) if !whole.contains(sep) => (whole, frac),
            _ => return Err(NOT_AN_AMOUNT.into()),
        },
        None => (core.as_str(), ""),
    };
    let whole: String = whole.chars().filter(char::is_ascii_digit).collect();
    if whole.is_empty() && frac.is_empty() || frac.contains(['.', ',']) {
        return Err(NOT_AN_AMOUNT.into());
    }
    to_minor(&whole, frac, currency.minor_digits() as usize)
        .map(|minor| (minor > 0).then_some(minor))
}

/// Symbols around an amount are allowed (`$`, `€`, `kr`); a three-letter code must be the
/// household's; other words make the cell something else than an amount.
fn check_currency_marks(prefix: &str, suffix: &str, currency: &Currency) -> Result<(), String> {
    for mark in [prefix, suffix] {
        let letters: String = mark.chars().filter(char::is_ascii_alphabetic).collect();
        match letters.len() {
            0..=2 => {}
            3 if letters.eq_ignore_ascii_case(currency.as_str()) => {}
            3 if letters.chars().all(|c| c.is_ascii_uppercase()) => {
                return Err(format!(
                    "is in {letters}, not in the household's currency {currency}"
                ));
            }
            _ => return Err("is not an amount".into()),
        }
    }
    Ok(())
}

/// Which of `.` and `,` separates the decimals, if either does: the later of the two when
/// both occur; a single `,` followed by fewer than three digits (`12,5`, `12,50`); a
/// single `.`. Otherwise the marks group thousands (`1,299`, `1.299.000`).
fn decimal_separator(core: &str, minor_digits: usize) -> Option<char> {
    let (dots, commas) = (core.matches('.').count(), core.matches(',').count());
    match (dots, commas) {
        (0, 0) => None,
        (_, 0) if dots == 1 => Some('.'),
        (0, 1) => {
            let after = core.rsplit_once(',').map_or(0, |(_, f)| f.len());
            (minor_digits > 0 && after < 3).then_some(',')
        }
        (0, _) | (_, 0) => None,
        _ => core
            .rfind(['.', ','])
            .and_then(|i| core[i..].chars().next()),
    }
}

/// Whole and fractional digits into minor units. Trailing zeros beyond the currency's
/// decimals are fine; the long tails of binary fractions (`0.30000000000000004`, ten
/// digits or more) are rounded; other extra decimals are refused.
fn to_minor(whole: &str, frac: &str, digits: usize) -> Result<i64, String> {
    let frac = frac.trim_end_matches('0');
    let round_up = if frac.len() > digits {
        if frac.len() < 10 {
            return Err(format!("has more than {digits} decimals"));
        }
        frac.as_bytes()[digits] >= b'5'
    } else {
        false
    };
    let kept = &frac[..frac.len().min(digits)];
    let digits_text = format!("{whole}{kept:0<digits$}");
    let minor: i64 = if digits_text.is_empty() {
        0
    } else {
        digits_text
            .parse()
            .map_err(|_| "is too large".to_string())?
    };
    minor
        .checked_add(i64::from(round_up))
        .filter(|m| *m <= MAX_AMOUNT_MINOR)
        .ok_or_else(|| "is too large".into())
}

/// Dates in the forms Homebox reads: `2024-05-31`, `05/31/2024` (month first, as in
/// Homebox's own test files), `2024/05/31`, and RFC 3339 timestamps (their date).
pub(super) fn parse_date(raw: &str) -> Result<Option<Day>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let fail = || "is not a date like 2024-05-31".to_string();
    let iso = match text.split('/').collect::<Vec<_>>()[..] {
        [year, month, day] if year.len() == 4 => format!("{year}-{month:0>2}-{day:0>2}"),
        [month, day, year] if year.len() == 4 && month.len() <= 2 && day.len() <= 2 => {
            format!("{year}-{month:0>2}-{day:0>2}")
        }
        [_] => match text.get(..10) {
            Some(date) if text.len() == 10 || text[10..].starts_with(['T', 't', ' ']) => {
                date.to_string()
            }
            _ => return Err(fail()),
        },
        _ => return Err(fail()),
    };
    iso.parse::<Day>().map(Some).map_err(|_| fail())
}

/// Yes or no: `true`/`false`, `yes`/`no`, `1`/`0` (also `t`/`f`, `y`/`n`, `on`/`off`),
/// in any case. `Ok(None)` for an empty cell.
pub(super) fn parse_bool(raw: &str) -> Result<Option<bool>, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" => Ok(None),
        "true" | "t" | "yes" | "y" | "1" | "on" => Ok(Some(true)),
        "false" | "f" | "no" | "n" | "0" | "off" => Ok(Some(false)),
        _ => Err("is not true or false (nor yes or no, 1 or 0)".into()),
    }
}

/// A whole number; `3.0` is 3 (Homebox writes quantities as numbers that may have a
/// fraction).
pub(super) fn parse_quantity(raw: &str) -> Result<Option<i64>, String> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let whole = match text.split_once('.') {
        Some((whole, frac)) if frac.chars().all(|c| c == '0') => whole,
        Some(_) => return Err("is not a whole number".into()),
        None => text,
    };
    whole
        .parse()
        .map(Some)
        .map_err(|_| "is not a whole number".into())
}

/// A name for people from a column name: `warranty_details` → `Warranty details`,
/// `url` → `URL`.
pub(super) fn readable(column: &str) -> String {
    let words: Vec<String> = column
        .split(['_', '.', ' ', '-'])
        .filter(|w| !w.is_empty())
        .map(|w| match w.to_ascii_lowercase().as_str() {
            "url" | "id" | "uuid" => w.to_ascii_uppercase(),
            lower => lower.to_string(),
        })
        .collect();
    let text = words.join(" ");
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => "Field".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn amounts_are_written_as_homebox_writes_prices() {
        let money = |amount_minor, code| Money {
            amount_minor,
            currency: Currency::parse(code).unwrap(),
        };
        assert_eq!(format_amount(&money(129_999, "USD")), "1299.99");
        assert_eq!(format_amount(&money(1_250, "USD")), "12.5");
        assert_eq!(format_amount(&money(34_900, "USD")), "349");
        assert_eq!(format_amount(&money(5, "USD")), "0.05");
        assert_eq!(format_amount(&money(1_500, "JPY")), "1500");
        assert_eq!(format_amount(&money(12_340, "KWD")), "12.34");
        assert_eq!(format_amount(&money(0, "USD")), "");
    }

    #[test]
    fn amounts_are_read_with_separators_symbols_and_codes() {
        let usd = usd();
        for (raw, minor) in [
            ("1299.99", 129_999),
            ("1,299.99", 129_999),
            ("$1,299.99", 129_999),
            ("1.299,99 €", 129_999),
            ("1 299,99", 129_999),
            ("1'299.99", 129_999),
            ("12,5", 1_250),
            ("12,50", 1_250),
            ("1,299", 129_900),
            ("1.299.000", 129_900_000),
            ("39.95 USD", 3_995),
            ("usd 39.95", 3_995),
            ("349", 34_900),
            (".5", 50),
            ("12.500", 1_250),
            ("0.30000000000000004", 30),
            ("19.989999999999998", 1_999),
        ] {
            assert_eq!(parse_amount(raw, &usd), Ok(Some(minor)), "{raw}");
        }
        assert_eq!(parse_amount("", &usd), Ok(None));
        assert_eq!(parse_amount("0", &usd), Ok(None));
        assert_eq!(parse_amount("0.00", &usd), Ok(None));
        for (raw, message) in [
            ("abc", "is not an amount"),
            ("12.345", "has more than 2 decimals"),
            ("-5", "is negative; amounts must be 0 or more"),
            (
                "39.95 EUR",
                "is in EUR, not in the household's currency USD",
            ),
            ("1.2.3,4,5", "is not an amount"),
            ("12 34 x 5", "is not an amount"),
            ("12 pieces", "is not an amount"),
            ("99999999999999999999", "is too large"),
        ] {
            assert_eq!(parse_amount(raw, &usd), Err(message.into()), "{raw}");
        }
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(parse_amount("1,500", &jpy), Ok(Some(1_500)));
        assert_eq!(parse_amount("¥1,500", &jpy), Ok(Some(1_500)));
    }

    #[test]
    fn dates_are_read_in_the_forms_homebox_reads() {
        let day = |s: &str| Some(s.parse::<Day>().unwrap());
        assert_eq!(parse_date("2024-05-31"), Ok(day("2024-05-31")));
        assert_eq!(parse_date("10/13/2021"), Ok(day("2021-10-13")));
        assert_eq!(parse_date("9/3/2021"), Ok(day("2021-09-03")));
        assert_eq!(parse_date("2021/10/13"), Ok(day("2021-10-13")));
        assert_eq!(
            parse_date("2019-01-01T21:10:30+01:00"),
            Ok(day("2019-01-01"))
        );
        assert_eq!(parse_date(" "), Ok(None));
        for bad in [
            "13/10/2021",
            "2024-02-30",
            "yesterday",
            "2024-05-31x",
            "31.05.2024",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bools_quantities_and_names() {
        assert_eq!(parse_bool("TRUE"), Ok(Some(true)));
        assert_eq!(parse_bool("No"), Ok(Some(false)));
        assert_eq!(parse_bool("1"), Ok(Some(true)));
        assert_eq!(parse_bool(""), Ok(None));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(parse_quantity("3"), Ok(Some(3)));
        assert_eq!(parse_quantity("3.0"), Ok(Some(3)));
        assert!(parse_quantity("3.5").is_err());
        assert!(parse_quantity("three").is_err());
        assert_eq!(readable("warranty_details"), "Warranty details");
        assert_eq!(readable("url"), "URL");
        assert_eq!(readable("parent_import_ref"), "Parent import ref");
    }

    #[test]
    fn neutralising_is_undone_by_restoring() {
        for (value, written) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-20 °C freezer", "'-20 °C freezer"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tcmd", "'\tcmd"),
            ("\rcmd", "'\rcmd"),
            ("'=1+1", "''=1+1"),
            ("'plain", "'plain"),
            ("'", "'"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(neutralise(value), written, "{value:?}");
            assert_eq!(restore(written), value, "{written:?}");
        }
    }
}

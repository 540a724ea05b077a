//! Words and numbers for people: times, field names, sizes of files.

use js_sys::{Date, Object, Reflect};
use time::OffsetDateTime;
use wasm_bindgen::JsValue;

fn js_date(at: OffsetDateTime) -> Date {
    let millis = (at.unix_timestamp_nanos() / 1_000_000) as f64;
    Date::new(&JsValue::from_f64(millis))
}

/// "24 Nov 2026, 14:05" in the reader's own locale and time zone.
pub fn date_time(at: OffsetDateTime) -> String {
    let options = Object::new();
    let _ = Reflect::set(&options, &"dateStyle".into(), &"medium".into());
    let _ = Reflect::set(&options, &"timeStyle".into(), &"short".into());
    String::from(js_date(at).to_locale_string("default", &options))
}

/// "just now", "5 min ago", "3 h ago", "yesterday", or the date.
pub fn relative(at: OffsetDateTime) -> String {
    let then = js_date(at).get_time();
    let seconds = ((Date::now() - then) / 1000.0).max(0.0) as i64;
    match seconds {
        0..=44 => "just now".into(),
        45..=3_599 => format!("{} min ago", (seconds + 30) / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        86_400..=172_799 => "yesterday".into(),
        172_800..=604_799 => format!("{} days ago", seconds / 86_400),
        _ => {
            let options = Object::new();
            let _ = Reflect::set(&options, &"dateStyle".into(), &"medium".into());
            String::from(js_date(at).to_locale_date_string("default", &options))
        }
    }
}

/// What a field of an item is called on screen.
pub fn field_label(field: &str) -> &str {
    match field {
        "name" => "Name",
        "description" => "Description",
        "location_id" => "Location",
        "quantity" => "Quantity",
        "tags" => "Tags",
        "brand" => "Brand",
        "model" => "Model",
        "serial_number" => "Serial number",
        "barcode" => "Barcode",
        "asset_id" => "Asset id",
        "purchase_date" => "Purchase date",
        "purchase_price" => "Purchase price",
        "purchased_from" => "Purchased from",
        "estimated_value" => "Estimated value",
        "warranty_expires" => "Warranty expires",
        "notes" => "Notes",
        "insured" => "Insured",
        "lifetime_warranty" => "Lifetime warranty",
        "sold_to" => "Sold to",
        "sold_date" => "Sold on",
        "sold_price" => "Sold for",
        "sold_notes" => "Sale notes",
        "custom_fields" => "Custom fields",
        other => other,
    }
}

/// The text with a capital first letter: "name is required" → "Name is required".
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = if first.is_ascii() {
        first.to_ascii_uppercase().to_string()
    } else {
        upper(first)
    };
    out.push_str(chars.as_str());
    out
}

/// A letter in capitals, as the browser writes it (`toUpperCase`, the same Unicode mapping):
/// Rust's own tables for it would add about 12 KB to the bundle.
#[cfg(target_arch = "wasm32")]
fn upper(c: char) -> String {
    js_sys::JsString::from(c).to_upper_case().into()
}

#[cfg(not(target_arch = "wasm32"))]
fn upper(c: char) -> String {
    c.to_uppercase().collect()
}

/// "3 items", "1 item".
pub fn count(n: i64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", group(n))
    }
}

/// 12345 → "12,345".
pub fn group(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// 2_048 → "2 KB", 1_572_864 → "1.5 MB": sizes of files as people read them (1 KB = 1,024 bytes).
pub fn bytes(n: i64) -> String {
    const KB: f64 = 1024.0;
    let n = n.max(0);
    let size = n as f64;
    if n < 1024 {
        count(n, "byte", "bytes")
    } else if size < KB * KB {
        format!("{} KB", (size / KB).round() as i64)
    } else if size < KB * KB * KB {
        let mb = size / (KB * KB);
        if mb < 10.0 {
            format!("{mb:.1} MB")
        } else {
            format!("{} MB", mb.round() as i64)
        }
    } else {
        format!("{:.1} GB", size / (KB * KB * KB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capitalizing_changes_only_the_first_letter() {
        assert_eq!(capitalize("name is required"), "Name is required");
        assert_eq!(capitalize("élan"), "Élan");
        assert_eq!(capitalize("ßig"), "SSig");
        assert_eq!(capitalize("Already"), "Already");
        assert_eq!(capitalize(""), "");
    }

    #[test]
    fn sizes_of_files_read_naturally() {
        assert_eq!(bytes(0), "0 bytes");
        assert_eq!(bytes(1), "1 byte");
        assert_eq!(bytes(1_023), "1,023 bytes");
        assert_eq!(bytes(2_048), "2 KB");
        assert_eq!(bytes(1_572_864), "1.5 MB");
        assert_eq!(bytes(26_214_400), "25 MB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024), "3.0 GB");
    }
}

//! What a scanned or typed code names: one of our labels (`…/q/000123`, `000-123`,
//! `#000123`), a product's barcode (EAN-13, EAN-8, UPC-A, UPC-E), or something else.

/// The barcode formats asked of the browser's `BarcodeDetector`.
pub const FORMATS: [&str; 5] = ["qr_code", "ean_13", "ean_8", "upc_a", "upc_e"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Code {
    /// One of our labels: its asset number's digits, as `/q/<digits>` takes them.
    Label(String),
    /// A product barcode: its digits.
    Product(String),
    /// Anything else, as it reads.
    Other(String),
}

/// The most digits an asset number has (the API refuses more).
const MAX_ASSET_DIGITS: usize = 9;

/// What `text` names. `format` is the barcode format the browser read it as, when known:
/// the EAN and UPC formats are product barcodes whatever their digits.
pub fn classify(text: &str, format: Option<&str>) -> Code {
    let text = text.trim();
    if let Some(digits) = label_in_link(text) {
        return Code::Label(digits);
    }
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if format.is_some_and(|f| f != "qr_code") && all_digits(text) {
        return Code::Product(text.to_string());
    }
    if let Some(digits) = text.strip_prefix('#').filter(|d| all_digits(d)) {
        return label(digits).unwrap_or_else(|| Code::Other(text.to_string()));
    }
    if let Some((head, tail)) = text.split_once('-')
        && all_digits(head)
        && tail.len() == 3
        && all_digits(tail)
    {
        return label(&format!("{head}{tail}")).unwrap_or_else(|| Code::Other(text.to_string()));
    }
    if all_digits(text) {
        return match text.len() {
            // EAN-8, UPC-A, EAN-13 (and GTIN-14 on cartons).
            8 | 12 | 13 | 14 => Code::Product(text.to_string()),
            _ => label(text).unwrap_or_else(|| Code::Other(text.to_string())),
        };
    }
    Code::Other(text.to_string())
}

fn label(digits: &str) -> Option<Code> {
    (digits.len() <= MAX_ASSET_DIGITS && digits.bytes().any(|b| b != b'0'))
        .then(|| Code::Label(digits.to_string()))
}

/// The digits of a label's link, `<any site>/q/<digits>` (a query or `#…` after it aside).
fn label_in_link(text: &str) -> Option<String> {
    let (_, after) = text.rsplit_once("/q/")?;
    let code = after
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    match label(code) {
        Some(Code::Label(digits)) if code.bytes().all(|b| b.is_ascii_digit()) => Some(digits),
        _ => None,
    }
}

/// A label's number as people read it: `000-123` (at least six digits, a dash before the
/// last three).
pub fn display(digits: &str) -> String {
    let padded = format!("{digits:0>6}");
    let (head, tail) = padded.split_at(padded.len() - 3);
    format!("{head}-{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(d: &str) -> Code {
        Code::Label(d.into())
    }

    #[test]
    fn a_labels_link_from_any_site_names_the_label() {
        assert_eq!(
            classify("http://127.0.0.1:8080/q/000123", Some("qr_code")),
            label("000123")
        );
        assert_eq!(
            classify("https://home.example/q/1000003/", None),
            label("1000003")
        );
        assert_eq!(
            classify(" https://x.y/q/000042?from=sheet ", None),
            label("000042")
        );
        assert_eq!(
            classify("https://x.y/q/abc", None),
            Code::Other("https://x.y/q/abc".into())
        );
        assert_eq!(
            classify("https://x.y/q/000000", None),
            Code::Other("https://x.y/q/000000".into())
        );
    }

    #[test]
    fn a_typed_asset_number_names_the_label() {
        assert_eq!(classify("000-123", None), label("000123"));
        assert_eq!(classify("#000123", None), label("000123"));
        assert_eq!(classify("123", None), label("123"));
        assert_eq!(classify("1000-003", None), label("1000003"));
    }

    #[test]
    fn product_barcodes_are_searched_for() {
        assert_eq!(
            classify("4006381333931", None),
            Code::Product("4006381333931".into())
        );
        assert_eq!(
            classify("036000291452", None),
            Code::Product("036000291452".into())
        );
        assert_eq!(classify("96385074", None), Code::Product("96385074".into()));
        // Read as a barcode, six digits are a UPC-E, not a label.
        assert_eq!(
            classify("123456", Some("upc_e")),
            Code::Product("123456".into())
        );
    }

    #[test]
    fn anything_else_is_said_as_it_reads() {
        assert_eq!(
            classify("WIFI:S:home;;", Some("qr_code")),
            Code::Other("WIFI:S:home;;".into())
        );
        assert_eq!(classify("12-34", None), Code::Other("12-34".into()));
        assert_eq!(
            classify("1234567890", None),
            Code::Other("1234567890".into())
        );
    }

    #[test]
    fn a_labels_number_reads_with_a_dash() {
        assert_eq!(display("000123"), "000-123");
        assert_eq!(display("1"), "000-001");
        assert_eq!(display("1000003"), "1000-003");
    }
}

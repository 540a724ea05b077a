//! Schemas of checked text for the OpenAPI document (feature `openapi`): what `parse_name`,
//! `parse_optional_text`, `Email::parse` and `Currency::parse` accept, as JSON Schema, so
//! that a program (or a fuzzer) can tell a valid value from an invalid one without asking.
//!
//! The server trims white space (Unicode `White_Space`, as `str::trim`) before it checks a
//! value, so each pattern allows white space around the value and describes the trimmed
//! rest: it starts and ends with a character that is neither white space nor a control
//! character, holds no control character but tab, line feed and carriage return, and is
//! no longer than its limit (counted in the pattern, since `maxLength` would count the white
//! space around it too).

use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{RefOr, SchemaFormat};

/// Unicode `White_Space`: what `str::trim` removes.
const WHITE: &str = "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/// The first and last character of a trimmed value: not white space, not a control
/// character.
const EDGE: &str =
    "[^\\u0000-\\u0020\\u007f-\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
/// Any character but a control character other than tab, line feed and carriage return.
const INNER: &str = "[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]";

/// 1 to `max` characters once trimmed.
fn required_pattern(max: usize) -> String {
    let inner = max - 2;
    format!("^[{WHITE}]*{EDGE}(?:{INNER}{{0,{inner}}}{EDGE})?[{WHITE}]*$")
}

/// Empty, or 1 to `max` characters once trimmed.
fn optional_pattern(max: usize) -> String {
    let inner = max - 2;
    format!("^[{WHITE}]*(?:{EDGE}(?:{INNER}{{0,{inner}}}{EDGE})?[{WHITE}]*)?$")
}

fn string(nullable: bool) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new().schema_type(schema_type)
}

fn name(max: usize) -> RefOr<Schema> {
    string(false)
        .min_length(Some(1))
        .pattern(Some(required_pattern(max)))
        .description(Some(format!(
            "Required: 1 to {max} characters once white space around it is trimmed; no \
             control characters but tab and line breaks."
        )))
        .into()
}

fn text(max: usize, nullable: bool) -> RefOr<Schema> {
    string(nullable)
        .pattern(Some(optional_pattern(max)))
        .description(Some(format!(
            "At most {max} characters once white space around it is trimmed; no control \
             characters but tab and line breaks. Empty (or only white space){} leaves it \
             unset.",
            if nullable { ", like `null`," } else { "" }
        )))
        .into()
}

/// An item's name.
pub fn item_name() -> RefOr<Schema> {
    name(crate::MAX_NAME_CHARS)
}

/// The name of a location, a household or a person.
pub fn short_name() -> RefOr<Schema> {
    name(100)
}

/// A passkey's name: 1 to 60 characters.
pub fn passkey_name() -> RefOr<Schema> {
    name(crate::MAX_PASSKEY_NAME_CHARS)
}

/// Optional one-line text: brand, model, serial number, barcode, shop.
pub fn short_text() -> RefOr<Schema> {
    text(crate::MAX_SHORT_TEXT_CHARS, true)
}

/// Optional long text: descriptions and notes.
pub fn long_text() -> RefOr<Schema> {
    text(crate::MAX_LONG_TEXT_CHARS, true)
}

/// An email address as `Email::parse` accepts it.
pub fn email() -> RefOr<Schema> {
    let part = format!("[^{WHITE}@]");
    let label = format!("[^{WHITE}@.]");
    string(false)
        .max_length(Some(254))
        .pattern(Some(format!(
            "^[{WHITE}]*{part}+@{label}{part}*\\.{part}*{label}[{WHITE}]*$"
        )))
        .description(Some(
            "An email address: one `@`, a dot in the domain; compared without regard to case.",
        ))
        .into()
}

/// A new password: 8 to 1,000 characters, kept as typed.
pub fn new_password() -> RefOr<Schema> {
    string(false)
        .min_length(Some(crate::MIN_PASSWORD_CHARS))
        .max_length(Some(crate::MAX_PASSWORD_CHARS))
        .description(Some("8 to 1,000 characters."))
        .into()
}

/// A password being checked: anything but empty.
pub fn password() -> RefOr<Schema> {
    string(false).min_length(Some(1)).into()
}

/// A three-letter ISO 4217 code; any case, white space around it ignored.
pub fn currency_code() -> RefOr<Schema> {
    string(false)
        .pattern(Some(format!("^[{WHITE}]*[A-Za-z]{{3}}[{WHITE}]*$")))
        .description(Some(
            "A three-letter ISO 4217 currency code, like `USD` (kept upper-case).",
        ))
        .into()
}

/// Money in a request: in the household's currency, 0 to a thousand billion in minor units.
pub fn money_input() -> RefOr<Schema> {
    let amount = ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::Integer))
        .format(Some(SchemaFormat::KnownFormat(
            utoipa::openapi::KnownFormat::Int64,
        )))
        .minimum(Some(0))
        .maximum(Some(crate::MAX_AMOUNT_MINOR as f64))
        .description(Some("In minor units (cents): 0 to 10^18."));
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .property("amount_minor", amount)
        .property("currency", currency_code())
        .required("amount_minor")
        .required("currency")
        .description(Some(
            "An amount in the household's currency (another currency answers 422); `null` \
             clears it.",
        ))
        .into()
}

/// A name, or `null` to leave it as it is.
pub fn short_name_or_null() -> RefOr<Schema> {
    let mut schema = name(100);
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
        object.description = Some(
            "1 to 100 characters once white space around it is trimmed; no control characters \
             but tab and line breaks. Absent or `null` leaves it as it is."
                .into(),
        );
    }
    schema
}

/// A currency code, or `null`.
pub fn currency_code_or_null() -> RefOr<Schema> {
    let mut schema = currency_code();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    }
    schema
}

/// The email of a sign-in: anything but empty (a wrong one answers 401).
pub fn login_email() -> RefOr<Schema> {
    string(false).pattern(Some(format!("[^{WHITE}]"))).into()
}

/// A file's name as people gave it: folders before the last `/` or `\` and control
/// characters are dropped, and what is left, trimmed, must be 1 to 200 characters.
pub fn filename() -> RefOr<Schema> {
    string(false)
        .min_length(Some(1))
        .description(Some(
            "The file's name: folders before the last `/` or `\\` and control characters are \
             dropped; what is left, trimmed, must be 1 to 200 characters.",
        ))
        .into()
}

/// A file name, or `null` to leave it as it is.
pub fn filename_or_null() -> RefOr<Schema> {
    let mut schema = filename();
    if let RefOr::T(Schema::Object(object)) = &mut schema {
        object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    }
    schema
}

/// The type of a file to attach, as its bytes will show it.
pub fn content_type() -> RefOr<Schema> {
    string(false)
        .enum_values(Some([
            "image/jpeg",
            "image/png",
            "image/webp",
            "image/gif",
            "image/heic",
            "application/pdf",
        ]))
        .description(Some(
            "The file's type: JPEG, PNG, WebP, GIF or HEIC images, or PDF. Other types answer \
             415; the bytes are checked to be of this type when the upload is completed.",
        ))
        .into()
}

/// An asset id as a request gives it: `000-123`, `000123`, `#000123` or `123`.
pub fn asset_id_input() -> RefOr<Schema> {
    asset_id(false)
}

/// A create's asset id: `null`, like leaving it out, takes the household's next number.
pub fn asset_id_create() -> RefOr<Schema> {
    asset_id(true)
}

fn asset_id(nullable: bool) -> RefOr<Schema> {
    string(nullable)
        .pattern(Some(format!(
            "^[{WHITE}]*#?(?:[0-9]{{1,9}}|[0-9]{{1,6}}-[0-9]{{3}})[{WHITE}]*$"
        )))
        .examples([serde_json::json!("000-123")])
        .description(Some(
            "An asset id: `000-123`, `000123`, `#000123` or `123`, a number from 1 to \
             999999999 not used by another item or location of the household."
                .to_string(),
        ))
        .into()
}

//! What each column of a file fills, from its name.

use super::values::readable;
use super::{PARENT_IMPORT_REF, WARRANTY_DETAILS};

/// What a column fills.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Target {
    ImportRef,
    Location,
    Tags,
    AssetId,
    Archived,
    Url,
    Name,
    Quantity,
    Description,
    Insured,
    Notes,
    PurchasePrice,
    PurchaseFrom,
    PurchaseDate,
    Brand,
    Model,
    SerialNumber,
    LifetimeWarranty,
    WarrantyExpires,
    SoldTo,
    SoldPrice,
    SoldDate,
    SoldNotes,
    EstimatedValue,
    Currency,
    Barcode,
    /// A custom field of this name.
    Custom(String),
    /// Known, and not read.
    Ignored,
}

/// A column name without `HB.`, in lower case, and what it fills.
fn known(key: &str) -> Option<Target> {
    Some(match key {
        "import_ref" => Target::ImportRef,
        "parent_import_ref" => Target::Custom(PARENT_IMPORT_REF.into()),
        "location" => Target::Location,
        "tags" | "labels" | "label" | "tag" => Target::Tags,
        "asset_id" => Target::AssetId,
        "archived" => Target::Archived,
        "url" => Target::Url,
        "name" => Target::Name,
        "quantity" => Target::Quantity,
        "description" => Target::Description,
        "insured" => Target::Insured,
        "notes" => Target::Notes,
        "purchase_price" => Target::PurchasePrice,
        "purchase_from" => Target::PurchaseFrom,
        "purchase_date" | "purchase_time" => Target::PurchaseDate,
        "manufacturer" => Target::Brand,
        "model_number" => Target::Model,
        "serial_number" => Target::SerialNumber,
        "lifetime_warranty" => Target::LifetimeWarranty,
        "warranty_expires" => Target::WarrantyExpires,
        "warranty_details" => Target::Custom(WARRANTY_DETAILS.into()),
        "sold_to" => Target::SoldTo,
        "sold_price" => Target::SoldPrice,
        "sold_date" | "sold_time" => Target::SoldDate,
        "sold_notes" => Target::SoldNotes,
        "x.estimated_value" => Target::EstimatedValue,
        "x.currency" => Target::Currency,
        "x.barcode" => Target::Barcode,
        "x.created_at" | "x.updated_at" => Target::Ignored,
        _ => return None,
    })
}

/// Spellings of Homebox's first import format that differ from the `HB.` names.
fn legacy(key: &str) -> Option<Target> {
    Some(match key {
        "mode_number" => Target::Model,
        "purchased_price" => Target::PurchasePrice,
        "purchased_time" | "purchased_date" => Target::PurchaseDate,
        "purchased_from" => Target::PurchaseFrom,
        _ => return None,
    })
}

#[derive(Debug)]
pub(super) struct Column {
    /// As the file spells it, to name it in messages.
    pub(super) header: String,
    pub(super) target: Target,
}

pub(super) fn columns(headers: &[String]) -> Vec<Column> {
    let has_prefix = |h: &str| h.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("hb."));
    let first_format = !headers.iter().any(|h| has_prefix(h));
    headers
        .iter()
        .enumerate()
        .map(|(i, header)| {
            let lower = header.to_ascii_lowercase();
            let target = if let Some(name) = lower.strip_prefix("hb.field.") {
                // Same length in lower case: slice the original spelling.
                let name = header[header.len() - name.len()..].trim();
                Target::Custom(if name.is_empty() {
                    readable("")
                } else {
                    name.into()
                })
            } else if let Some(key) = lower.strip_prefix("hb.") {
                known(key).unwrap_or_else(|| {
                    Target::Custom(readable(key.strip_prefix("x.").unwrap_or(key)))
                })
            } else {
                let key = lower.split_whitespace().collect::<Vec<_>>().join("_");
                match known(&key).or_else(|| legacy(&key)) {
                    Some(target) if first_format => target,
                    _ if header.is_empty() => Target::Custom(format!("Column {}", i + 1)),
                    _ => Target::Custom(header.clone()),
                }
            };
            Column {
                header: header.clone(),
                target,
            }
        })
        .collect()
}

//! Bulk edits: one change applied to many items at once (`POST …/items/bulk`). The items are
//! picked by id or by the item list's filters; the change is a subset of a PATCH (the same
//! fields, checked by the same rules), tags added or removed, or a move to or out of the
//! trash.

use serde::{Deserialize, Serialize};

use crate::error::FieldErrors;
use crate::ids::{ItemId, LocationId};
use crate::patch::Patch;
use crate::values::{Day, Money, normalize_tags, whole};
use crate::{ItemFields, UpdateItem};

/// The most items one bulk edit may change.
pub const MAX_BULK_ITEMS: usize = 10_000;
/// Selections of more items than this are edited by a background job (202).
pub const BULK_INLINE_ITEMS: usize = 1_000;

/// `POST …/items/bulk`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkEdit {
    pub selection: BulkSelection,
    pub ops: BulkOps,
}

/// Which items: either `ids`, or a `filter` with the count of items it matched when the
/// person looked (`expected_count`); a filter that matches another number of items now is
/// refused with 409, so an edit never reaches items nobody saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkSelection {
    /// At most 10,000 items (repeats count once). Items of other households, unknown ids
    /// and (unless restoring) trashed items are reported in `failed` as `not_found`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 10_000))]
    pub ids: Option<Vec<ItemId>>,
    /// The items `GET …/items` lists with the same `q`, `location_id` and `tag`: live items
    /// only (restoring takes `ids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<BulkFilter>,
    /// How many items the filter matched; required with `filter`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_count"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000_000))]
    pub expected_count: Option<u64>,
}

fn whole_count<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    whole::option(d)?
        .map(|n| u64::try_from(n).map_err(|_| serde::de::Error::custom("must be 0 or more")))
        .transpose()
}

/// The filters of `GET …/items`, with the same meaning.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkFilter {
    /// Case-insensitive text found in the name, description, brand, model, serial number,
    /// barcode, notes or a tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Items in this location and every location below it; `none`: items without one
    /// (empty: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
        )
    )]
    pub location_id: Option<String>,
    /// Items with this tag (without regard to case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

/// What happens to each item. `set`, `clear`, `add_tags` and `remove_tags` combine;
/// `trash` and `restore` go alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkOps {
    /// Fields to set, checked as `PATCH …/items/{id}` checks them (`null` clears).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<BulkSet>,
    /// Optional fields to empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clear: Vec<ClearableField>,
    /// Tags to add (kept once, without regard to case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add_tags: Vec<String>,
    /// Tags to remove, without regard to case.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove_tags: Vec<String>,
    /// `true`: move the items to the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trash: Option<bool>,
    /// `true`: bring the items (picked by `ids`) back from the trash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore: Option<bool>,
}

/// The fields a bulk edit sets: those that are the same for many things at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkSet {
    /// Moves the items; `null` takes them out of any location.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LocationId>))]
    pub location_id: Patch<LocationId>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 1_000_000_000))]
    #[serde(deserialize_with = "whole::patch")]
    pub quantity: Patch<i64>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub description: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub brand: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub model: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub purchased_from: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Day>))]
    pub purchase_date: Patch<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Day>))]
    pub warranty_expires: Patch<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub estimated_value: Patch<Money>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub purchase_price: Patch<Money>,
    /// `null` means false.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub insured: Patch<bool>,
    /// `null` means false.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub lifetime_warranty: Patch<bool>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub notes: Patch<String>,
}

/// The names `set` takes; the server refuses any other (422) instead of ignoring it.
pub const BULK_SET_FIELDS: &[&str] = &[
    "location_id",
    "quantity",
    "description",
    "brand",
    "model",
    "purchased_from",
    "purchase_date",
    "warranty_expires",
    "estimated_value",
    "purchase_price",
    "insured",
    "lifetime_warranty",
    "notes",
];

/// What is wrong with each of these `set` names that a bulk edit doesn't set.
pub fn refused_set_fields<'a>(names: impl IntoIterator<Item = &'a str>) -> FieldErrors {
    names
        .into_iter()
        .filter(|name| !BULK_SET_FIELDS.contains(name))
        .map(|name| {
            let why = match name {
                "tags" => "is changed with add_tags and remove_tags",
                "name" | "serial_number" | "barcode" | "custom_fields" => {
                    "is one item's own; change it on the item"
                }
                _ => "is not a field a bulk edit sets",
            };
            (name.to_string(), why.to_string())
        })
        .collect()
}

/// An optional field a bulk edit can empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClearableField {
    LocationId,
    Description,
    Brand,
    Model,
    PurchasedFrom,
    PurchaseDate,
    WarrantyExpires,
    EstimatedValue,
    PurchasePrice,
    Notes,
}

impl ClearableField {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LocationId => "location_id",
            Self::Description => "description",
            Self::Brand => "brand",
            Self::Model => "model",
            Self::PurchasedFrom => "purchased_from",
            Self::PurchaseDate => "purchase_date",
            Self::WarrantyExpires => "warranty_expires",
            Self::EstimatedValue => "estimated_value",
            Self::PurchasePrice => "purchase_price",
            Self::Notes => "notes",
        }
    }
}

/// The answer of a bulk edit, and the `result` of its job. `matched` = `updated` +
/// `unchanged` + the number of `failed`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    /// Items the selection picked (each once).
    pub matched: u64,
    /// Items changed: each got a new version and an entry in its history.
    pub updated: u64,
    /// Items the change made no difference to; left as they were.
    pub unchanged: u64,
    /// Items left as they were, and why.
    pub failed: Vec<BulkFailure>,
}

/// An item a bulk edit could not change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkFailure {
    pub id: ItemId,
    /// `not_found` (no such item here), `validation_failed` (the change would make the
    /// item invalid, e.g. too many tags) or `conflict` (it kept changing meanwhile).
    pub code: String,
    pub message: String,
}

/// What the ops do to an item, checked once for all items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BulkChange {
    /// The fields set and cleared, as a PATCH.
    pub patch: UpdateItem,
    pub add_tags: Vec<String>,
    /// Lower-cased.
    pub remove_tags: Vec<String>,
    pub trash: bool,
    pub restore: bool,
}

impl BulkOps {
    /// Checks the ops as a PATCH checks its body; all problems at once, each under the
    /// name of its field.
    pub fn check(&self, currency: &crate::Currency) -> Result<BulkChange, FieldErrors> {
        let mut errors = FieldErrors::new();
        let set = self.set.clone().unwrap_or_default();
        let mut patch = UpdateItem {
            location_id: set.location_id,
            quantity: set.quantity,
            description: set.description,
            brand: set.brand,
            model: set.model,
            purchased_from: set.purchased_from,
            purchase_date: set.purchase_date,
            warranty_expires: set.warranty_expires,
            estimated_value: set.estimated_value,
            purchase_price: set.purchase_price,
            insured: set.insured,
            lifetime_warranty: set.lifetime_warranty,
            notes: set.notes,
            ..Default::default()
        };
        for field in &self.clear {
            let cleared = match field {
                ClearableField::LocationId => clear(&mut patch.location_id),
                ClearableField::Description => clear(&mut patch.description),
                ClearableField::Brand => clear(&mut patch.brand),
                ClearableField::Model => clear(&mut patch.model),
                ClearableField::PurchasedFrom => clear(&mut patch.purchased_from),
                ClearableField::PurchaseDate => clear(&mut patch.purchase_date),
                ClearableField::WarrantyExpires => clear(&mut patch.warranty_expires),
                ClearableField::EstimatedValue => clear(&mut patch.estimated_value),
                ClearableField::PurchasePrice => clear(&mut patch.purchase_price),
                ClearableField::Notes => clear(&mut patch.notes),
            };
            if !cleared {
                errors.insert(
                    field.as_str().into(),
                    "is both set and cleared; choose one".into(),
                );
            }
        }
        // The PATCH's own checks, on an item that any value fits.
        let sample = ItemFields {
            name: "item".into(),
            quantity: 1,
            ..Default::default()
        };
        if let Err(e) = patch.apply(&sample, currency) {
            errors.extend(e);
        }
        let add_tags = match normalize_tags(&self.add_tags) {
            Ok(tags) => tags,
            Err(e) => {
                errors.insert("add_tags".into(), e);
                Vec::new()
            }
        };
        let remove_tags: Vec<String> = match normalize_tags(&self.remove_tags) {
            Ok(tags) => tags.iter().map(|t| crate::values::lowercase(t)).collect(),
            Err(e) => {
                errors.insert("remove_tags".into(), e);
                Vec::new()
            }
        };
        if add_tags
            .iter()
            .any(|t| remove_tags.contains(&crate::values::lowercase(t)))
        {
            errors.insert(
                "remove_tags".into(),
                "a tag can't be both added and removed".into(),
            );
        }
        let trash = self.trash == Some(true);
        let restore = self.restore == Some(true);
        let edits =
            patch != UpdateItem::default() || !add_tags.is_empty() || !remove_tags.is_empty();
        if trash && restore {
            errors.insert("restore".into(), "can't go with trash".into());
        } else if (trash || restore) && edits {
            let op = if trash { "trash" } else { "restore" };
            errors.insert(
                op.into(),
                "goes alone: make other changes separately".into(),
            );
        } else if !trash && !restore && !edits && errors.is_empty() {
            errors.insert("ops".into(), "name at least one change".into());
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(BulkChange {
            patch,
            add_tags,
            remove_tags,
            trash,
            restore,
        })
    }
}

/// Makes a field `null`; false when it is set already.
fn clear<T>(field: &mut Patch<T>) -> bool {
    match field {
        Patch::Value(_) => false,
        _ => {
            *field = Patch::Null;
            true
        }
    }
}

impl BulkChange {
    /// The item's fields after the change, and the names of those that changed; an item the
    /// change would make invalid (too many tags) → its errors.
    pub fn apply(
        &self,
        current: &ItemFields,
        currency: &crate::Currency,
    ) -> Result<(ItemFields, Vec<&'static str>), FieldErrors> {
        let mut patch = self.patch.clone();
        if !self.add_tags.is_empty() || !self.remove_tags.is_empty() {
            let mut tags: Vec<String> = current
                .tags
                .iter()
                .filter(|t| !self.remove_tags.contains(&crate::values::lowercase(t)))
                .cloned()
                .collect();
            tags.extend(self.add_tags.iter().cloned());
            patch.tags = Patch::Value(tags);
        }
        patch.apply(current, currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn ops(json: &str) -> BulkOps {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn bad_values_are_named_as_a_patch_names_them() {
        let errors = ops(
            r#"{"set":{"quantity":-1,"estimated_value":{"amount_minor":5,"currency":"EUR"}},
                "clear":["brand"],"add_tags":[""]}"#,
        )
        .check(&usd())
        .unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            vec!["estimated_value", "quantity"]
        );
        let refused = refused_set_fields(["brand", "name", "tags"]);
        assert_eq!(refused.keys().collect::<Vec<_>>(), vec!["name", "tags"]);
        assert!(ops("{}").check(&usd()).unwrap_err().contains_key("ops"));
        assert!(
            ops(r#"{"trash":true,"add_tags":["a"]}"#)
                .check(&usd())
                .unwrap_err()
                .contains_key("trash")
        );
        assert!(
            ops(r#"{"set":{"brand":"A"},"clear":["brand"]}"#)
                .check(&usd())
                .unwrap_err()
                .contains_key("brand")
        );
    }

    #[test]
    fn tags_are_added_and_removed_without_regard_to_case() {
        let change = ops(r#"{"add_tags":["Garage"," tools "],"remove_tags":["OLD"]}"#)
            .check(&usd())
            .unwrap();
        let current = ItemFields {
            name: "Drill".into(),
            quantity: 1,
            tags: vec!["garage".into(), "old".into()],
            ..Default::default()
        };
        let (next, changed) = change.apply(&current, &usd()).unwrap();
        assert_eq!(next.tags, vec!["garage", "tools"]);
        assert_eq!(changed, vec!["tags"]);
        let (again, changed) = change.apply(&next, &usd()).unwrap();
        assert_eq!(again, next);
        assert!(changed.is_empty());
    }

    #[test]
    fn set_and_clear_make_one_patch() {
        let change = ops(r#"{"set":{"brand":" Bosch ","quantity":2.0},"clear":["notes"]}"#)
            .check(&usd())
            .unwrap();
        let current = ItemFields {
            name: "Drill".into(),
            quantity: 1,
            notes: Some("blue".into()),
            ..Default::default()
        };
        let (next, changed) = change.apply(&current, &usd()).unwrap();
        assert_eq!(next.brand.as_deref(), Some("Bosch"));
        assert_eq!((next.quantity, next.notes), (2, None));
        assert_eq!(changed, vec!["quantity", "brand", "notes"]);
    }
}

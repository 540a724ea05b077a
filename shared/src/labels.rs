//! Printable labels: sheets of sticky labels (and label-printer rolls) with a QR code that
//! leads to the item or location, and its name, asset id and place beside it.
//!
//! `GET …/labels/templates` lists the label stocks the server can print on
//! ([`LabelTemplates`]); `POST …/labels` ([`LabelRequest`]) answers with the PDF to print.

use serde::{Deserialize, Serialize};

use crate::ids::{ItemId, LocationId};

/// The most labels one request may print.
pub const MAX_LABELS: usize = 1_000;
/// The longest `custom_line`, in characters.
pub const MAX_CUSTOM_LINE_CHARS: usize = 80;

/// How the label stock comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LabelKind {
    /// A page of labels in rows and columns, for an office printer.
    Sheet,
    /// A label printer's roll: one label per page, the page the size of the label.
    Roll,
}

/// A label stock: its page and where each label sits on it. Lengths in millimetres.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelTemplate {
    /// What `POST …/labels` takes as `template`, e.g. `avery-5160`.
    pub id: String,
    pub name: String,
    pub description: String,
    pub kind: LabelKind,
    pub page_width_mm: f64,
    pub page_height_mm: f64,
    pub label_width_mm: f64,
    pub label_height_mm: f64,
    pub columns: u32,
    pub rows: u32,
    /// From the page's left edge to the first column's left edge.
    pub margin_left_mm: f64,
    /// From the page's top edge to the first row's top edge.
    pub margin_top_mm: f64,
    /// From one column's left edge to the next one's.
    pub pitch_x_mm: f64,
    /// From one row's top edge to the next one's.
    pub pitch_y_mm: f64,
    /// `columns × rows`; 1 for a roll.
    pub labels_per_page: u32,
}

/// `GET …/labels/templates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelTemplates {
    pub items: Vec<LabelTemplate>,
}

/// What a label shows beside its QR code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LabelField {
    /// The item's or location's name, in bold.
    Name,
    /// The asset id, as `000-123`.
    AssetId,
    /// Where it is: the path of locations (for a location, the ones above it).
    Location,
    /// The request's `custom_line`.
    Custom,
    /// On a location's label: the names of the items directly in it, then "+ N more".
    Contents,
}

impl LabelField {
    /// What a label shows when the request names no fields.
    pub const DEFAULT: [LabelField; 3] = [Self::Name, Self::AssetId, Self::Location];
}

/// Items and locations whose asset ids lie between `from` and `to` (both included), in
/// number order. Each is written as `000-123`, `000123`, `#000123` or `123`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AssetRange {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, example = "000-001"))]
    pub from: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, example = "000-030"))]
    pub to: String,
}

/// `POST …/labels`: which labels to print on which stock. The selections add up (one label
/// per item or location, in the order given: `item_ids`, `location_ids`,
/// `items_in_location`, `asset_range`; one picked twice is printed once); at least one
/// must pick something, and at most 1,000 labels are printed at once.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LabelRequest {
    /// A template's `id` from `GET …/labels/templates`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true, example = "avery-5160"))]
    pub template: String,
    /// Items of the household (live or trashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub item_ids: Option<Vec<ItemId>>,
    /// Locations of the household.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_items = 1000))]
    pub location_ids: Option<Vec<LocationId>>,
    /// Every live item in this location and the locations below it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_in_location: Option<LocationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_range: Option<AssetRange>,
    /// Labels already peeled off the first sheet: printing starts at this position (left
    /// to right, top to bottom). 0 to `labels_per_page − 1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub skip: Option<i64>,
    /// What each label shows beside its QR code, in this order; default `name`,
    /// `asset_id`, `location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<LabelField>>,
    /// The line the `custom` field prints on every label (at most 80 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 80))]
    pub custom_line: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_the_documented_shape() {
        let request: LabelRequest = serde_json::from_str(
            r#"{"template": "avery-5160", "asset_range": {"from": "000-001", "to": "30"},
                "skip": 2, "fields": ["name", "asset_id", "contents"], "custom_line": "Garage"}"#,
        )
        .unwrap();
        assert_eq!(request.template, "avery-5160");
        assert_eq!(request.asset_range.unwrap().to, "30");
        assert_eq!(request.skip, Some(2));
        assert_eq!(
            request.fields.unwrap(),
            [LabelField::Name, LabelField::AssetId, LabelField::Contents]
        );
        assert!(request.item_ids.is_none());
    }

    #[test]
    fn a_template_writes_its_kind_in_snake_case() {
        let json = serde_json::to_value(LabelKind::Roll).unwrap();
        assert_eq!(json, "roll");
        let json = serde_json::to_value(LabelField::AssetId).unwrap();
        assert_eq!(json, "asset_id");
    }
}

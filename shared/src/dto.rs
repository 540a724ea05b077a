//! Request and response bodies of the REST API (see API.md).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::assets::AssetId;
use crate::error::FieldErrors;
use crate::ids::{HouseholdId, ItemId, LocationId, UserId};
use crate::patch::Patch;
use crate::values::*;

// ---------------------------------------------------------------- health

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
}

// ---------------------------------------------------------------- accounts

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::email, required = true))]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::new_password, required = true))]
    pub password: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name, required = true))]
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::login_email, required = true))]
    pub email: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::password, required = true))]
    pub password: String,
    /// With two-factor sign-in on: the 6-digit code from the authenticator app, or one of
    /// the recovery codes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `POST /api/v1/me/password`. An account that signs in with Google has no current
/// password and gets none this way.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::password, required = true))]
    pub current_password: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::new_password, required = true))]
    pub new_password: String,
}

/// The sign-in methods a server offers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Providers {
    /// Email and password.
    pub local: bool,
    pub google: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserResponse {
    pub user: User,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    pub id: HouseholdId,
    pub name: String,
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    pub households: Vec<Membership>,
}

// ---------------------------------------------------------------- households

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Household {
    pub id: HouseholdId,
    pub name: String,
    pub currency: Currency,
    pub role: Role,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateHousehold {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name, required = true))]
    pub name: String,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::currency_code_or_null))]
    pub currency: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateHousehold {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name_or_null))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::currency_code_or_null))]
    pub currency: Option<String>,
}

// ---------------------------------------------------------------- sharing

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateMember {
    pub role: Role,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateInvite {
    pub role: Role,
    /// Seconds the link stays valid: default a week, at most 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 2592000))]
    #[serde(deserialize_with = "whole::option")]
    pub expires_in: Option<i64>,
    /// How many people may join with it; unlimited when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    #[serde(deserialize_with = "whole::option")]
    pub max_uses: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invite {
    pub id: crate::ids::InviteId,
    pub role: Role,
    /// Only in the answer that created it: the link can't be shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub max_uses: Option<i64>,
    pub uses: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What an invitation link offers, shown before joining.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitePreview {
    pub household_name: String,
    pub role: Role,
    /// The name of the owner who made the link.
    pub invited_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Joined {
    pub household: Household,
}

// ---------------------------------------------------------------- lists

/// A page of a cursor-paginated list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// A complete, unpaginated list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct List<T> {
    pub items: Vec<T>,
}

// ---------------------------------------------------------------- locations

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Location {
    pub id: LocationId,
    pub parent_id: Option<LocationId>,
    pub name: String,
    /// The household-unique number on its label, `000-123`.
    pub asset_id: AssetId,
    pub description: Option<String>,
    /// Names from the root down to this location, ending with its own name.
    pub path: Vec<String>,
    /// Live items directly in this location.
    pub item_count: i64,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateLocation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<LocationId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name, required = true))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<LocationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub description: Option<String>,
    /// A free asset id of the household; the next one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::asset_id_create))]
    pub asset_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateLocation {
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_name))]
    pub name: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LocationId>))]
    pub parent_id: Patch<LocationId>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub description: Patch<String>,
    /// Another asset id, free in the household; it can't be cleared.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::asset_id_input))]
    pub asset_id: Patch<String>,
}

// ---------------------------------------------------------------- items

/// Every field of an item a person edits, checked.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ItemFields {
    pub name: String,
    pub description: Option<String>,
    pub location_id: Option<LocationId>,
    pub quantity: i64,
    pub tags: Vec<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub barcode: Option<String>,
    pub purchase_date: Option<Day>,
    pub purchase_price: Option<Money>,
    pub purchased_from: Option<String>,
    pub estimated_value: Option<Money>,
    pub warranty_expires: Option<Day>,
    pub notes: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    #[serde(default)]
    pub insured: bool,
    #[serde(default)]
    pub lifetime_warranty: bool,
    #[serde(default)]
    pub sold_to: Option<String>,
    #[serde(default)]
    pub sold_date: Option<Day>,
    #[serde(default)]
    pub sold_price: Option<Money>,
    #[serde(default)]
    pub sold_notes: Option<String>,
    /// `None` only for an item not yet stored: the store gives it the household's next.
    #[serde(default)]
    pub asset_id: Option<AssetId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Item {
    pub id: ItemId,
    pub household_id: HouseholdId,
    /// The household-unique number on its label, `000-123`.
    pub asset_id: AssetId,
    pub name: String,
    pub description: Option<String>,
    pub location_id: Option<LocationId>,
    /// Names from the root down to the item's location; empty when it has none.
    pub location_path: Vec<String>,
    pub quantity: i64,
    pub tags: Vec<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub barcode: Option<String>,
    pub purchase_date: Option<Day>,
    pub purchase_price: Option<Money>,
    pub purchased_from: Option<String>,
    pub estimated_value: Option<Money>,
    pub warranty_expires: Option<Day>,
    pub notes: Option<String>,
    pub custom_fields: BTreeMap<String, String>,
    #[serde(default)]
    pub insured: bool,
    #[serde(default)]
    pub lifetime_warranty: bool,
    /// Who bought the item, when it was sold.
    #[serde(default)]
    pub sold_to: Option<String>,
    #[serde(default)]
    pub sold_date: Option<Day>,
    #[serde(default)]
    pub sold_price: Option<Money>,
    #[serde(default)]
    pub sold_notes: Option<String>,
    /// Short-lived address of the primary photo's thumbnail, when the item has one.
    #[serde(default)]
    pub thumbnail_url: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When it was moved to the trash; only set on trashed items.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub deleted_at: Option<OffsetDateTime>,
}

impl Item {
    pub fn fields(&self) -> ItemFields {
        ItemFields {
            name: self.name.clone(),
            description: self.description.clone(),
            location_id: self.location_id,
            quantity: self.quantity,
            tags: self.tags.clone(),
            brand: self.brand.clone(),
            model: self.model.clone(),
            serial_number: self.serial_number.clone(),
            barcode: self.barcode.clone(),
            purchase_date: self.purchase_date,
            purchase_price: self.purchase_price.clone(),
            purchased_from: self.purchased_from.clone(),
            estimated_value: self.estimated_value.clone(),
            warranty_expires: self.warranty_expires,
            notes: self.notes.clone(),
            custom_fields: self.custom_fields.clone(),
            insured: self.insured,
            lifetime_warranty: self.lifetime_warranty,
            sold_to: self.sold_to.clone(),
            sold_date: self.sold_date,
            sold_price: self.sold_price.clone(),
            sold_notes: self.sold_notes.clone(),
            asset_id: Some(self.asset_id),
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateItem {
    /// A client-made id makes the create safe to retry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::item_name, required = true))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<LocationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1_000_000_000))]
    #[serde(deserialize_with = "whole::option")]
    pub quantity: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub serial_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub barcode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub purchase_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub purchased_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub estimated_value: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warranty_expires: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub notes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_fields: Option<BTreeMap<String, String>>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insured: Option<bool>,
    /// Default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lifetime_warranty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub sold_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub sold_price: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub sold_notes: Option<String>,
    /// A free asset id of the household; the next one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::asset_id_create))]
    pub asset_id: Option<String>,
}

/// A PATCH of an item: absent fields stay, `null` clears, values replace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateItem {
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::item_name))]
    pub name: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub description: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<LocationId>))]
    pub location_id: Patch<LocationId>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 0, maximum = 1_000_000_000))]
    #[serde(deserialize_with = "whole::patch")]
    pub quantity: Patch<i64>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<String>>))]
    pub tags: Patch<Vec<String>>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub brand: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub model: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub serial_number: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub barcode: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Day>))]
    pub purchase_date: Patch<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub purchase_price: Patch<Money>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub purchased_from: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub estimated_value: Patch<Money>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Day>))]
    pub warranty_expires: Patch<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub notes: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, String>>))]
    pub custom_fields: Patch<BTreeMap<String, String>>,
    /// `null` means false.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub insured: Patch<bool>,
    /// `null` means false.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool>))]
    pub lifetime_warranty: Patch<bool>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::short_text))]
    pub sold_to: Patch<String>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Day>))]
    pub sold_date: Patch<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::money_input))]
    pub sold_price: Patch<Money>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::long_text))]
    pub sold_notes: Patch<String>,
    /// Another asset id, free in the household; it can't be cleared.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::asset_id_input))]
    pub asset_id: Patch<String>,
}

/// Collects the field errors of one request.
#[derive(Default)]
struct Checker {
    errors: FieldErrors,
}

impl Checker {
    fn take<T>(&mut self, field: &str, result: Result<T, String>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(message) => {
                self.errors.insert(field.to_string(), message);
                None
            }
        }
    }

    fn text(&mut self, field: &str, raw: Option<&String>, max: usize) -> Option<String> {
        raw.and_then(|raw| self.take(field, parse_optional_text(raw, max)).flatten())
    }

    fn money(&mut self, field: &str, money: Option<&Money>, currency: &Currency) -> Option<Money> {
        let money = money?;
        let checked = money.check().and_then(|()| {
            if &money.currency == currency {
                Ok(money.clone())
            } else {
                Err(format!(
                    "must be in the household currency, {currency} (got {})",
                    money.currency
                ))
            }
        });
        self.take(field, checked)
    }

    fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

/// The asset id a PATCH sets: `None` when absent; it can't be cleared.
pub fn parse_asset_id_patch(patch: &Patch<String>) -> Result<Option<AssetId>, String> {
    match patch {
        Patch::Missing => Ok(None),
        Patch::Null => Err("can't be cleared; every item and location has one".into()),
        Patch::Value(raw) => raw.parse().map(Some),
    }
}

fn check_quantity(quantity: i64) -> Result<i64, String> {
    if quantity < 0 {
        Err("must be 0 or more".into())
    } else if quantity > MAX_QUANTITY {
        Err(format!("must be at most {MAX_QUANTITY}"))
    } else {
        Ok(quantity)
    }
}

fn check_custom_fields(
    fields: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    if fields.len() > MAX_CUSTOM_FIELDS {
        return Err(format!("at most {MAX_CUSTOM_FIELDS} custom fields"));
    }
    let mut out = BTreeMap::new();
    for (key, value) in fields {
        let key = parse_name(key, MAX_CUSTOM_KEY_CHARS).map_err(|e| format!("a field name {e}"))?;
        let value = parse_optional_text(value, MAX_CUSTOM_VALUE_CHARS)
            .map_err(|e| format!("\"{key}\" {e}"))?;
        if let Some(value) = value {
            out.insert(key, value);
        }
    }
    Ok(out)
}

impl CreateItem {
    /// Checks every field; all problems are reported at once.
    pub fn validate(&self, currency: &Currency) -> Result<ItemFields, FieldErrors> {
        let mut c = Checker::default();
        let name = c.take(
            "name",
            ItemName::parse(self.name.as_deref().unwrap_or_default()),
        );
        let quantity = c.take("quantity", check_quantity(self.quantity.unwrap_or(1)));
        let tags = c.take(
            "tags",
            normalize_tags(self.tags.as_deref().unwrap_or_default()),
        );
        let custom_fields = c.take(
            "custom_fields",
            check_custom_fields(&self.custom_fields.clone().unwrap_or_default()),
        );
        let fields = ItemFields {
            name: name.map(ItemName::into_inner).unwrap_or_default(),
            description: c.text(
                "description",
                self.description.as_ref(),
                MAX_LONG_TEXT_CHARS,
            ),
            location_id: self.location_id,
            quantity: quantity.unwrap_or_default(),
            tags: tags.unwrap_or_default(),
            brand: c.text("brand", self.brand.as_ref(), MAX_SHORT_TEXT_CHARS),
            model: c.text("model", self.model.as_ref(), MAX_SHORT_TEXT_CHARS),
            serial_number: c.text(
                "serial_number",
                self.serial_number.as_ref(),
                MAX_SHORT_TEXT_CHARS,
            ),
            barcode: c.text("barcode", self.barcode.as_ref(), MAX_SHORT_TEXT_CHARS),
            purchase_date: self.purchase_date,
            purchase_price: c.money("purchase_price", self.purchase_price.as_ref(), currency),
            purchased_from: c.text(
                "purchased_from",
                self.purchased_from.as_ref(),
                MAX_SHORT_TEXT_CHARS,
            ),
            estimated_value: c.money("estimated_value", self.estimated_value.as_ref(), currency),
            warranty_expires: self.warranty_expires,
            notes: c.text("notes", self.notes.as_ref(), MAX_LONG_TEXT_CHARS),
            custom_fields: custom_fields.unwrap_or_default(),
            insured: self.insured.unwrap_or_default(),
            lifetime_warranty: self.lifetime_warranty.unwrap_or_default(),
            sold_to: c.text("sold_to", self.sold_to.as_ref(), MAX_SHORT_TEXT_CHARS),
            sold_date: self.sold_date,
            sold_price: c.money("sold_price", self.sold_price.as_ref(), currency),
            sold_notes: c.text("sold_notes", self.sold_notes.as_ref(), MAX_LONG_TEXT_CHARS),
            asset_id: self
                .asset_id
                .as_deref()
                .and_then(|raw| c.take("asset_id", raw.parse())),
        };
        c.finish(fields)
    }
}

impl UpdateItem {
    /// Applies the patch to `current`; returns the new fields and the names of the fields
    /// whose value changed.
    pub fn apply(
        &self,
        current: &ItemFields,
        currency: &Currency,
    ) -> Result<(ItemFields, Vec<&'static str>), FieldErrors> {
        let mut c = Checker::default();
        let mut next = current.clone();

        match &self.name {
            Patch::Missing => {}
            Patch::Null => {
                c.take::<()>("name", Err("is required".into()));
            }
            Patch::Value(raw) => {
                if let Some(name) = c.take("name", ItemName::parse(raw)) {
                    next.name = name.into_inner();
                }
            }
        }
        if let Some(asset_id) = c.take("asset_id", parse_asset_id_patch(&self.asset_id)) {
            next.asset_id = asset_id.or(next.asset_id);
        }
        match &self.quantity {
            Patch::Missing => {}
            Patch::Null => {
                c.take::<()>("quantity", Err("can't be cleared; use 0".into()));
            }
            Patch::Value(q) => {
                if let Some(q) = c.take("quantity", check_quantity(*q)) {
                    next.quantity = q;
                }
            }
        }
        if let Some(change) = self.location_id.clone().into_change() {
            next.location_id = change;
        }
        if let Some(change) = self.tags.clone().into_change()
            && let Some(tags) = c.take("tags", normalize_tags(&change.unwrap_or_default()))
        {
            next.tags = tags;
        }
        if let Some(change) = self.custom_fields.clone().into_change()
            && let Some(fields) = c.take(
                "custom_fields",
                check_custom_fields(&change.unwrap_or_default()),
            )
        {
            next.custom_fields = fields;
        }
        let texts: [(&str, &Patch<String>, &mut Option<String>, usize); 9] = [
            (
                "description",
                &self.description,
                &mut next.description,
                MAX_LONG_TEXT_CHARS,
            ),
            ("brand", &self.brand, &mut next.brand, MAX_SHORT_TEXT_CHARS),
            ("model", &self.model, &mut next.model, MAX_SHORT_TEXT_CHARS),
            (
                "serial_number",
                &self.serial_number,
                &mut next.serial_number,
                MAX_SHORT_TEXT_CHARS,
            ),
            (
                "barcode",
                &self.barcode,
                &mut next.barcode,
                MAX_SHORT_TEXT_CHARS,
            ),
            (
                "purchased_from",
                &self.purchased_from,
                &mut next.purchased_from,
                MAX_SHORT_TEXT_CHARS,
            ),
            ("notes", &self.notes, &mut next.notes, MAX_LONG_TEXT_CHARS),
            (
                "sold_to",
                &self.sold_to,
                &mut next.sold_to,
                MAX_SHORT_TEXT_CHARS,
            ),
            (
                "sold_notes",
                &self.sold_notes,
                &mut next.sold_notes,
                MAX_LONG_TEXT_CHARS,
            ),
        ];
        for (field, patch, target, max) in texts {
            match patch {
                Patch::Missing => {}
                Patch::Null => *target = None,
                Patch::Value(raw) => {
                    if let Some(v) = c.take(field, parse_optional_text(raw, max)) {
                        *target = v;
                    }
                }
            }
        }
        for (field, patch, target) in [
            (
                "purchase_price",
                &self.purchase_price,
                &mut next.purchase_price,
            ),
            (
                "estimated_value",
                &self.estimated_value,
                &mut next.estimated_value,
            ),
            ("sold_price", &self.sold_price, &mut next.sold_price),
        ] {
            match patch {
                Patch::Missing => {}
                Patch::Null => *target = None,
                Patch::Value(m) => {
                    if let Some(m) = c.money(field, Some(m), currency) {
                        *target = Some(m);
                    }
                }
            }
        }
        if let Some(change) = self.purchase_date.clone().into_change() {
            next.purchase_date = change;
        }
        if let Some(change) = self.warranty_expires.clone().into_change() {
            next.warranty_expires = change;
        }
        if let Some(change) = self.sold_date.clone().into_change() {
            next.sold_date = change;
        }
        if let Some(change) = self.insured.clone().into_change() {
            next.insured = change.unwrap_or_default();
        }
        if let Some(change) = self.lifetime_warranty.clone().into_change() {
            next.lifetime_warranty = change.unwrap_or_default();
        }
        let changed = changed_fields(current, &next);
        c.finish((next, changed))
    }
}

/// Names of the fields that differ between two versions of an item.
pub fn changed_fields(before: &ItemFields, after: &ItemFields) -> Vec<&'static str> {
    let mut changed = Vec::new();
    macro_rules! cmp {
        ($($field:ident),*) => {
            $(if before.$field != after.$field { changed.push(stringify!($field)); })*
        };
    }
    cmp!(
        name,
        description,
        location_id,
        quantity,
        tags,
        brand,
        model,
        serial_number,
        barcode,
        purchase_date,
        purchase_price,
        purchased_from,
        estimated_value,
        warranty_expires,
        notes,
        custom_fields,
        insured,
        lifetime_warranty,
        sold_to,
        sold_date,
        sold_price,
        sold_notes
    );
    // `None` after is an item not numbered yet, or a form that doesn't show the number.
    if after.asset_id.is_some() && before.asset_id != after.asset_id {
        changed.push("asset_id");
    }
    changed
}

// ---------------------------------------------------------------- tags, stats, history

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagCount {
    pub name: String,
    pub item_count: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValueBucket {
    /// The location or tag; `None` for items without one.
    pub id: Option<LocationId>,
    pub name: String,
    pub item_count: i64,
    pub total_value: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub item_count: i64,
    /// Sum of quantities of live items.
    pub total_quantity: i64,
    pub location_count: i64,
    pub trashed_count: i64,
    /// Sum of `estimated_value` of live items.
    pub total_value: Money,
    pub value_by_location: Vec<ValueBucket>,
    pub value_by_tag: Vec<ValueBucket>,
    /// Files attached to the household's items (trashed ones too), and their bytes.
    #[serde(default)]
    pub attachment_count: i64,
    #[serde(default)]
    pub storage_bytes: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Deleted,
    Restored,
    /// Maintenance was logged, changed or removed, or a schedule made, changed or removed:
    /// `fields` holds one line, `maintenance: <title>` (see `MaintenanceChange`).
    Maintained,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub id: UserId,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Activity {
    pub id: crate::ids::ActivityId,
    pub action: Action,
    pub actor: Actor,
    /// For updates: the names of the fields that changed.
    pub fields: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The name of the API token the change was made through; `None` when the person made
    /// it themselves.
    #[serde(default)]
    pub via_token: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn a_create_reports_every_bad_field_at_once() {
        let body: CreateItem = serde_json::from_str(
            r#"{"name":"  ","quantity":-1,"estimated_value":{"amount_minor":5,"currency":"EUR"}}"#,
        )
        .unwrap();
        let errors = body.validate(&usd()).unwrap_err();
        assert_eq!(
            errors.keys().collect::<Vec<_>>(),
            vec!["estimated_value", "name", "quantity"]
        );
    }

    #[test]
    fn a_patch_clears_with_null_and_keeps_what_is_absent() {
        let current = CreateItem {
            name: Some("Drill".into()),
            brand: Some("Bosch".into()),
            notes: Some("blue case".into()),
            ..Default::default()
        }
        .validate(&usd())
        .unwrap();
        let patch: UpdateItem = serde_json::from_str(r#"{"brand":null,"tags":["b","A"]}"#).unwrap();
        let (next, changed) = patch.apply(&current, &usd()).unwrap();
        assert_eq!(next.brand, None);
        assert_eq!(next.notes.as_deref(), Some("blue case"));
        assert_eq!(next.tags, vec!["A", "b"]);
        assert_eq!(changed, vec!["tags", "brand"]);
    }

    #[test]
    fn a_sale_and_the_flags_are_set_cleared_and_checked_like_their_neighbours() {
        let current = CreateItem {
            name: Some("Bike".into()),
            insured: Some(true),
            lifetime_warranty: Some(true),
            sold_to: Some(" Ann ".into()),
            sold_date: Some("2024-05-31".parse().unwrap()),
            sold_price: Some(Money {
                amount_minor: 12_000,
                currency: usd(),
            }),
            sold_notes: Some("paid cash".into()),
            ..Default::default()
        }
        .validate(&usd())
        .unwrap();
        assert!(current.insured && current.lifetime_warranty);
        assert_eq!(current.sold_to.as_deref(), Some("Ann"));

        let patch: UpdateItem = serde_json::from_str(
            r#"{"insured":null,"lifetime_warranty":false,"sold_to":null,"sold_date":null,
                "sold_price":null,"sold_notes":null}"#,
        )
        .unwrap();
        let (next, changed) = patch.apply(&current, &usd()).unwrap();
        assert!(!next.insured && !next.lifetime_warranty);
        assert_eq!(
            (
                next.sold_to,
                next.sold_date,
                next.sold_price,
                next.sold_notes
            ),
            (None, None, None, None)
        );
        assert_eq!(
            changed,
            vec![
                "insured",
                "lifetime_warranty",
                "sold_to",
                "sold_date",
                "sold_price",
                "sold_notes"
            ]
        );

        let patch: UpdateItem = serde_json::from_str(
            r#"{"sold_price":{"amount_minor":5,"currency":"EUR"},"sold_to":"x"}"#,
        )
        .unwrap();
        let errors = patch.apply(&current, &usd()).unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec!["sold_price"]);
    }

    #[test]
    fn fields_stored_before_the_sale_record_existed_still_decode() {
        let fields: ItemFields = serde_json::from_str(
            r#"{"name":"Drill","description":null,"location_id":null,"quantity":1,"tags":[],
                "brand":null,"model":null,"serial_number":null,"barcode":null,
                "purchase_date":null,"purchase_price":null,"purchased_from":null,
                "estimated_value":null,"warranty_expires":null,"notes":null,"custom_fields":{}}"#,
        )
        .unwrap();
        assert!(!fields.insured && !fields.lifetime_warranty);
        assert_eq!(fields.sold_to, None);
    }

    #[test]
    fn a_patch_cannot_clear_the_name() {
        let current = ItemFields {
            name: "Drill".into(),
            quantity: 1,
            ..Default::default()
        };
        let patch: UpdateItem = serde_json::from_str(r#"{"name":null}"#).unwrap();
        assert!(
            patch
                .apply(&current, &usd())
                .unwrap_err()
                .contains_key("name")
        );
    }
}

//! Photos and documents attached to items, and what photo recognition suggests.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::{AttachmentId, ItemId, LocationId};
use crate::values::Money;

/// What a file is to its item.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    #[default]
    Photo,
    Receipt,
    Manual,
    Warranty,
    Other,
}

impl AttachmentKind {
    pub const ALL: [AttachmentKind; 5] = [
        Self::Photo,
        Self::Receipt,
        Self::Manual,
        Self::Warranty,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Photo => "photo",
            Self::Receipt => "receipt",
            Self::Manual => "manual",
            Self::Warranty => "warranty",
            Self::Other => "other",
        }
    }

    /// The word people read, capitalised.
    pub fn label(self) -> &'static str {
        match self {
            Self::Photo => "Photo",
            Self::Receipt => "Receipt",
            Self::Manual => "Manual",
            Self::Warranty => "Warranty",
            Self::Other => "Other",
        }
    }
}

impl fmt::Display for AttachmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AttachmentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| "must be photo, receipt, manual, warranty or other".to_string())
    }
}

/// Whether the file has arrived and passed the checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AttachmentStatus {
    /// Announced; the bytes are on their way to the upload URL.
    Pending,
    /// Checked, cleaned of metadata, thumbnailed: ready to show.
    Ready,
}

/// The file types accepted, by what their first bytes say.
pub const ACCEPTED_TYPES: [&str; 6] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "image/heic",
    "application/pdf",
];

/// `POST …/items/{id}/attachments`: announces a file before its bytes are uploaded.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAttachment {
    #[serde(default)]
    pub id: Option<AttachmentId>,
    /// `photo` when left out.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AttachmentKind>))]
    pub kind: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::filename, required = true))]
    pub filename: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::content_type, required = true))]
    pub content_type: Option<String>,
    /// Exact size in bytes of what will be uploaded.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = i64, minimum = 1, required = true))]
    #[serde(deserialize_with = "crate::values::whole::option")]
    pub size: Option<i64>,
}

/// `PATCH …/attachments/{aid}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateAttachment {
    /// Files the attachment into this item (an unfiled photo from the capture page, or a
    /// file moved from another item).
    #[serde(default)]
    pub item_id: Option<ItemId>,
    /// `true` makes this photo the item's primary photo.
    #[serde(default)]
    pub primary: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<AttachmentKind>))]
    pub kind: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::openapi::filename_or_null))]
    pub filename: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attachment {
    pub id: AttachmentId,
    /// `null` while the photo is not filed into any item yet.
    pub item_id: Option<ItemId>,
    pub kind: AttachmentKind,
    pub filename: String,
    pub content_type: String,
    /// Bytes of the file as served (after metadata was removed).
    pub size: i64,
    pub status: AttachmentStatus,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The photo shown for the item in lists and at the top of its page.
    pub primary: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Short-lived address of the file; only when ready.
    pub url: Option<String>,
    /// Short-lived address of a small JPEG preview; ready images only.
    pub thumbnail_url: Option<String>,
}

/// Where and how to send a file's bytes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadTarget {
    pub url: String,
    /// Always `PUT`.
    pub method: String,
    /// Headers the request must carry exactly (`Content-Type`, and for S3 what it signed).
    pub headers: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

/// The answer to `POST …/attachments`: the pending attachment and where to upload it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAttachment {
    #[serde(flatten)]
    pub attachment: Attachment,
    pub upload: UploadTarget,
}

/// `POST …/recognize`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecognizeRequest {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, required = true))]
    pub attachment_ids: Vec<AttachmentId>,
}

/// One object the AI saw in a photo. Never saved by itself: a person applies, edits or
/// merges it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Suggestion {
    /// The photo it was seen in.
    pub attachment_id: AttachmentId,
    pub name: String,
    pub description: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub model: Option<String>,
    pub serial_number: Option<String>,
    pub tags: Vec<String>,
    /// In the household's currency.
    pub estimated_value: Option<Money>,
    /// 0–1: how sure the model is.
    pub confidence: f64,
    /// An existing location the photo seems to show, when one matches.
    #[serde(default)]
    pub location_id: Option<LocationId>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recognition {
    pub suggestions: Vec<Suggestion>,
    /// Recognitions left today: the fewest of what the household, the account and the
    /// whole server have left of their daily allowances.
    pub remaining_today: i64,
}

//! What a backup holds: the manifest, and one record type per JSON lines file, converted
//! from and to the store's rows (which stay free of serialization concerns).

use serde::{Deserialize, Serialize};
use shared::{
    Action, ActivityId, AssetId, AttachmentId, AttachmentKind, AttachmentStatus, Currency,
    HouseholdId, ItemFields, ItemId, LocationId, UserId,
};
use time::OffsetDateTime;

use crate::store::{ActivityRow, AttachmentRow, ItemRow, LocationRow};

/// The manifest's `format`: what tells a backup from any other zip file.
pub const FORMAT: &str = "home-inventory-backup";
/// The newest format version this code writes and reads.
pub const VERSION: u32 = 1;

pub const MANIFEST: &str = "manifest.json";
pub const LOCATIONS: &str = "locations.jsonl";
pub const ITEMS: &str = "items.jsonl";
pub const ATTACHMENTS: &str = "attachments.jsonl";
pub const ACTIVITY: &str = "activity.jsonl";
/// The folder of attachment files: `files/<attachment id>/<file name>`.
pub const FILES: &str = "files/";

/// `manifest.json`: written last in the zip, read first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub version: u32,
    /// The version of Home Inventory that wrote the backup.
    pub app_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub household: HouseholdRecord,
    pub counts: Counts,
    /// Every other entry of the zip, with its size and SHA-256.
    pub entries: Vec<Entry>,
    /// Attachments whose file was gone from the attachment store when the backup was made;
    /// their records are not in the backup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_files: Vec<MissingFile>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HouseholdRecord {
    pub name: String,
    pub currency: Currency,
}

/// Records in each JSON lines file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub locations: u64,
    pub items: u64,
    pub attachments: u64,
    pub activity: u64,
    /// Absent (0) in backups made before maintenance.
    #[serde(default)]
    pub maintenance_schedules: u64,
    #[serde(default)]
    pub maintenance_entries: u64,
}

impl Counts {
    pub fn total(&self) -> u64 {
        self.locations
            + self.items
            + self.attachments
            + self.activity
            + self.maintenance_schedules
            + self.maintenance_entries
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    /// Lower-case hex.
    pub sha256: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissingFile {
    pub attachment_id: AttachmentId,
    pub filename: String,
}

/// Just enough of a manifest to tell whether it is one this code reads.
#[derive(Debug, Deserialize)]
pub struct ManifestProbe {
    pub format: Option<serde_json::Value>,
    pub version: Option<serde_json::Value>,
}

/// One line of `locations.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LocationRecord {
    pub id: LocationId,
    pub parent_id: Option<LocationId>,
    pub name: String,
    pub description: Option<String>,
    /// Absent in backups made before asset ids: the restore gives it a new one.
    #[serde(default)]
    pub asset_id: Option<AssetId>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<&LocationRow> for LocationRecord {
    fn from(l: &LocationRow) -> Self {
        Self {
            id: l.id,
            parent_id: l.parent_id,
            name: l.name.clone(),
            description: l.description.clone(),
            asset_id: l.asset_id,
            version: l.version,
            created_at: l.created_at,
            updated_at: l.updated_at,
        }
    }
}

impl LocationRecord {
    /// The row this record restores to under a new id and parent.
    pub fn into_row(
        self,
        household: HouseholdId,
        id: LocationId,
        parent_id: Option<LocationId>,
        updated_at: OffsetDateTime,
    ) -> LocationRow {
        LocationRow {
            id,
            household_id: household,
            parent_id,
            name: self.name,
            description: self.description,
            asset_id: self.asset_id,
            version: self.version,
            created_at: self.created_at,
            updated_at,
        }
    }
}

/// One line of `items.jsonl`: the item's fields (tags and custom fields among them) beside
/// its id, version and times.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: ItemId,
    #[serde(flatten)]
    pub fields: ItemFields,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Set for an item in the trash.
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
}

impl From<&ItemRow> for ItemRecord {
    fn from(i: &ItemRow) -> Self {
        Self {
            id: i.id,
            fields: i.fields.clone(),
            version: i.version,
            created_at: i.created_at,
            updated_at: i.updated_at,
            deleted_at: i.deleted_at,
        }
    }
}

impl ItemRecord {
    pub fn into_row(
        self,
        household: HouseholdId,
        id: ItemId,
        location_id: Option<LocationId>,
        updated_at: OffsetDateTime,
    ) -> ItemRow {
        ItemRow {
            id,
            household_id: household,
            fields: ItemFields {
                location_id,
                ..self.fields
            },
            version: self.version,
            created_at: self.created_at,
            updated_at,
            deleted_at: self.deleted_at,
        }
    }
}

/// One line of `attachments.jsonl`: a ready photo or document and where its file is in
/// the zip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub id: AttachmentId,
    /// `None` for a photo not filed into an item yet.
    pub item_id: Option<ItemId>,
    pub kind: AttachmentKind,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub primary: bool,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The file's path in the zip.
    pub file: String,
}

impl AttachmentRecord {
    pub fn new(a: &AttachmentRow, item_id: Option<ItemId>, size: u64, file: String) -> Self {
        Self {
            id: a.id,
            item_id,
            kind: a.kind,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size,
            width: a.width,
            height: a.height,
            primary: a.primary,
            created_by: a.created_by,
            created_at: a.created_at,
            file,
        }
    }

    /// The ready row this record restores to, once its file (and thumbnail, which
    /// `stored_bytes` counts) is in the attachment store.
    pub fn into_row(
        self,
        household: HouseholdId,
        id: AttachmentId,
        item_id: ItemId,
        content_type: &str,
        stored_bytes: u64,
    ) -> AttachmentRow {
        AttachmentRow {
            id,
            household_id: household,
            item_id,
            kind: self.kind,
            filename: self.filename,
            content_type: content_type.to_string(),
            size: i64::try_from(self.size).unwrap_or(i64::MAX),
            stored_bytes: i64::try_from(stored_bytes).unwrap_or(i64::MAX),
            status: AttachmentStatus::Ready,
            width: self.width,
            height: self.height,
            primary: self.primary,
            created_by: self.created_by,
            created_at: self.created_at,
        }
    }
}

/// One line of `activity.jsonl`: an entry of an item's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub id: ActivityId,
    pub item_id: ItemId,
    pub actor_id: UserId,
    pub action: Action,
    pub fields: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// The name of the API token the change came through.
    pub via_token: Option<String>,
}

impl From<&ActivityRow> for ActivityRecord {
    fn from(a: &ActivityRow) -> Self {
        Self {
            id: a.id,
            item_id: a.item_id,
            actor_id: a.actor_id,
            action: a.action,
            fields: a.fields.clone(),
            at: a.at,
            via_token: a.via_token.clone(),
        }
    }
}

impl ActivityRecord {
    pub fn into_row(self, household: HouseholdId, id: ActivityId, item_id: ItemId) -> ActivityRow {
        ActivityRow {
            id,
            household_id: household,
            item_id,
            actor_id: self.actor_id,
            action: self.action,
            fields: self.fields,
            at: self.at,
            via_token: self.via_token,
        }
    }
}

/// The path of an attachment's file in the zip: `files/<id>/<name>`, the name made safe to
/// unpack anywhere (no separators, no characters Windows refuses, no leading dots, at most
/// about 120 bytes, the extension kept).
pub fn file_path(id: AttachmentId, filename: &str) -> String {
    format!("{FILES}{id}/{}", safe_file_name(filename))
}

pub(crate) fn safe_file_name(raw: &str) -> String {
    const MAX_BYTES: usize = 120;
    let cleaned: String = raw
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    let name = cleaned.trim().trim_matches(['.', ' ']);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 10 => (stem, Some(ext)),
        _ => (name, None),
    };
    let room = MAX_BYTES - extension.map_or(0, |e| e.len() + 1);
    let mut out: String = String::new();
    for c in stem.chars() {
        if out.len() + c.len_utf8() > room {
            break;
        }
        out.push(c);
    }
    let out = out.trim_end_matches(['.', ' ']).to_string();
    let out = if out.is_empty() {
        "file".to_string()
    } else {
        out
    };
    match extension {
        Some(ext) => format!("{out}.{ext}"),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_made_safe_to_unpack() {
        let id = AttachmentId::new();
        assert_eq!(
            file_path(id, "Receipt.pdf"),
            format!("files/{id}/Receipt.pdf")
        );
        for (raw, safe) in [
            ("../../etc/passwd", "_.._etc_passwd"),
            ("C:\\Users\\me\\photo.jpg", "C__Users_me_photo.jpg"),
            ("..", "file"),
            ("", "file"),
            (".hidden", "hidden"),
            ("a\u{0}b\nc.png", "a_b_c.png"),
            ("what?.jpg", "what_.jpg"),
        ] {
            assert_eq!(safe_file_name(raw), safe, "{raw:?}");
        }
        let long = format!("{}.jpeg", "é".repeat(200));
        let safe = safe_file_name(&long);
        assert!(safe.len() <= 120 && safe.ends_with(".jpeg"), "{safe}");
    }

    #[test]
    fn an_item_record_is_flat_and_reads_back() {
        let row = ItemRow {
            id: ItemId::new(),
            household_id: HouseholdId::new(),
            fields: ItemFields {
                name: "Drill".into(),
                tags: vec!["tools".into()],
                custom_fields: [("Voltage".to_string(), "18 V".to_string())].into(),
                quantity: 1,
                ..ItemFields::default()
            },
            version: 3,
            created_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            updated_at: OffsetDateTime::from_unix_timestamp(1_700_000_100).unwrap(),
            deleted_at: None,
        };
        let line = serde_json::to_value(ItemRecord::from(&row)).unwrap();
        assert_eq!(line["name"], "Drill");
        assert_eq!(line["custom_fields"]["Voltage"], "18 V");
        assert_eq!(line["created_at"], "2023-11-14T22:13:20Z");
        let back: ItemRecord = serde_json::from_value(line).unwrap();
        assert_eq!(back, ItemRecord::from(&row));
    }
}

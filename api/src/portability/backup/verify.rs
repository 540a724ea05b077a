//! The whole of a backup checked before anything is written: its manifest is ours and of a
//! version read here, every file it lists is present with the size and SHA-256 it says,
//! every JSON line parses into a record whose values the API would accept, and every
//! reference (a parent, an item's location, an attachment's item, history's item) points
//! at a record of the backup.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};

use serde::de::DeserializeOwned;
use shared::{
    AttachmentKind, CreateItem, Currency, ItemFields, LocationId, MAX_LONG_TEXT_CHARS, parse_name,
    parse_optional_text,
};
use zip::ZipArchive;

use super::check::{self, Counted};
use super::records::*;
use crate::media::FileType;
use crate::portability::PortError;
use crate::store::tree::{Links, MAX_DEPTH};

/// As the locations and attachments routes allow.
const MAX_LOCATION_NAME: usize = 100;
const MAX_FILENAME_CHARS: usize = 200;
/// A file's first bytes, which tell its type.
const HEAD: usize = 16;

/// A backup that passed every check.
pub struct Verified {
    pub manifest: Manifest,
    /// Each entry the manifest lists, by path.
    pub entries: HashMap<String, Listed>,
    /// Every location, checked (the tree too).
    pub locations: Vec<LocationRecord>,
}

/// Where a listed entry is in the zip and what it must be.
#[derive(Clone, Debug)]
pub struct Listed {
    pub index: usize,
    pub size: u64,
    pub sha256: String,
}

impl Verified {
    pub fn listed(&self, path: &str) -> Result<&Listed, PortError> {
        self.entries
            .get(path)
            .ok_or_else(|| damaged(path, "is missing"))
    }
}

pub fn damaged(path: &str, what: &str) -> PortError {
    PortError::Refused(format!("This backup is damaged: {path} {what}."))
}

fn line_error(path: &str, line: u64, what: impl std::fmt::Display) -> PortError {
    PortError::Refused(format!(
        "This backup can't be restored: line {line} of {path} {what}."
    ))
}

pub fn verify(archive: &mut ZipArchive<File>, currency: &Currency) -> Result<Verified, PortError> {
    check::check_headers(archive)?;
    let manifest = read_manifest(archive)?;
    if &manifest.household.currency != currency {
        return Err(PortError::Refused(format!(
            "This backup's amounts are in {}, but this household uses {currency}. Restore it \
             into a household whose currency is {}.",
            manifest.household.currency, manifest.household.currency
        )));
    }
    let entries = list_entries(archive, &manifest)?;
    let mut verified = Verified {
        manifest,
        entries,
        locations: Vec::new(),
    };

    // Locations, then what refers to them, then what refers to items.
    let mut location_ids = HashSet::new();
    let mut locations = Vec::new();
    each_line(
        archive,
        &verified,
        LOCATIONS,
        |line, record: LocationRecord| {
            let record = checked_location(record).map_err(|e| line_error(LOCATIONS, line, e))?;
            if !location_ids.insert(record.id) {
                return Err(line_error(LOCATIONS, line, "repeats a location"));
            }
            locations.push(record);
            Ok(())
        },
    )?;
    check_tree(&locations)?;

    let mut items = HashSet::new();
    each_line(archive, &verified, ITEMS, |line, record: ItemRecord| {
        checked_fields(&record.fields, currency).map_err(|e| line_error(ITEMS, line, e))?;
        if record
            .fields
            .location_id
            .is_some_and(|l| !location_ids.contains(&l))
        {
            return Err(line_error(
                ITEMS,
                line,
                "names a location the backup doesn't hold",
            ));
        }
        if !items.insert(record.id) {
            return Err(line_error(ITEMS, line, "repeats an item"));
        }
        Ok(())
    })?;

    // New ids are made for every entry, so only the item each names matters.
    let activity = each_line(
        archive,
        &verified,
        ACTIVITY,
        |line, record: ActivityRecord| {
            if !items.contains(&record.item_id) {
                return Err(line_error(
                    ACTIVITY,
                    line,
                    "names an item the backup doesn't hold",
                ));
            }
            Ok(())
        },
    )?;

    let mut heads = HashMap::new();
    let mut files: Vec<(&String, &Listed)> = verified
        .entries
        .iter()
        .filter(|(path, _)| path.starts_with(FILES))
        .collect();
    files.sort_by_key(|(_, listed)| listed.index);
    for (path, listed) in files {
        heads.insert(path.clone(), verify_file(archive, path, listed)?);
    }

    let mut attachments = HashSet::new();
    let mut primaries = HashSet::new();
    each_line(
        archive,
        &verified,
        ATTACHMENTS,
        |line, record: AttachmentRecord| {
            let fail = |what: String| line_error(ATTACHMENTS, line, what);
            if record.item_id.is_some_and(|i| !items.contains(&i)) {
                return Err(fail("names an item the backup doesn't hold".into()));
            }
            if !attachments.insert(record.id) {
                return Err(fail("repeats an attachment".into()));
            }
            if !record.file.starts_with(&format!("{FILES}{}/", record.id)) {
                return Err(fail(format!("puts its file at {:?}", record.file)));
            }
            let Some(head) = heads.get(&record.file) else {
                return Err(damaged(&record.file, "is missing"));
            };
            if verified.entries[&record.file].size != record.size {
                return Err(fail("gives its file another size than the manifest".into()));
            }
            check_attachment(&record, head).map_err(fail)?;
            if record.primary && !primaries.insert(record.item_id) {
                return Err(fail("is a second primary photo of its item".into()));
            }
            Ok(())
        },
    )?;

    let (maintenance_schedules, maintenance_entries) =
        super::maintenance::verify(archive, &verified, &items, &attachments, currency)?;
    let found = Counts {
        locations: locations.len() as u64,
        items: items.len() as u64,
        attachments: attachments.len() as u64,
        activity,
        maintenance_schedules,
        maintenance_entries,
    };
    if found != verified.manifest.counts {
        return Err(PortError::Refused(format!(
            "This backup is damaged: its manifest counts {:?}, its files hold {found:?}.",
            verified.manifest.counts
        )));
    }
    verified.locations = locations;
    Ok(verified)
}

fn read_manifest(archive: &mut ZipArchive<File>) -> Result<Manifest, PortError> {
    let Some(index) = archive.index_for_name(MANIFEST) else {
        return Err(PortError::Refused(
            "This is not a Home Inventory backup: it has no manifest.json.".into(),
        ));
    };
    let mut bytes = Vec::new();
    let mut reader = check::entry(archive, index, check::MAX_MANIFEST_BYTES)?;
    reader
        .read_to_end(&mut bytes)
        .map_err(|e| check::read_error(MANIFEST, e))?;
    let probe: ManifestProbe = serde_json::from_slice(&bytes).map_err(|_| {
        PortError::Refused(
            "This is not a Home Inventory backup: its manifest.json is not a JSON object.".into(),
        )
    })?;
    match probe.format.as_ref().and_then(|f| f.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(PortError::Refused(format!(
                "This zip file is not a Home Inventory backup: its manifest describes {other:?}."
            )));
        }
        None => {
            return Err(PortError::Refused(
                "This zip file is not a Home Inventory backup: its manifest.json belongs to \
                 another program."
                    .into(),
            ));
        }
    }
    match probe.version.as_ref().and_then(|v| v.as_u64()) {
        Some(v) if (1..=u64::from(VERSION)).contains(&v) => {}
        Some(v) if v > u64::from(VERSION) => {
            return Err(PortError::Refused(format!(
                "This backup was made by a newer Home Inventory (backup format {v}; this one \
                 reads up to {VERSION}). Update Home Inventory, then restore it."
            )));
        }
        _ => {
            return Err(PortError::Refused(
                "This backup's manifest.json is damaged: it has no valid version.".into(),
            ));
        }
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| PortError::Refused(format!("This backup's manifest.json is damaged: {e}.")))
}

fn list_entries(
    archive: &ZipArchive<File>,
    manifest: &Manifest,
) -> Result<HashMap<String, Listed>, PortError> {
    let mut entries = HashMap::new();
    let mut total: u64 = 0;
    for entry in &manifest.entries {
        let path = &entry.path;
        if let Some(why) = check::unsafe_name(path) {
            return Err(PortError::Refused(format!(
                "This backup can't be restored: its manifest lists {path:?}, which {why}."
            )));
        }
        if path == MANIFEST || path.ends_with('/') {
            return Err(damaged(MANIFEST, &format!("lists {path:?} as a file")));
        }
        let Some(index) = archive.index_for_name(path) else {
            return Err(damaged(path, "is missing"));
        };
        total = total.saturating_add(entry.size);
        if total > check::MAX_TOTAL_BYTES {
            return Err(PortError::Refused(format!(
                "This backup unpacks to more than {} GB, the most a restore takes.",
                check::MAX_TOTAL_BYTES >> 30
            )));
        }
        let listed = Listed {
            index,
            size: entry.size,
            sha256: entry.sha256.to_ascii_lowercase(),
        };
        if entries.insert(path.clone(), listed).is_some() {
            return Err(damaged(MANIFEST, &format!("lists {path} twice")));
        }
    }
    for required in [LOCATIONS, ITEMS, ATTACHMENTS, ACTIVITY] {
        if !entries.contains_key(required) {
            return Err(damaged(MANIFEST, &format!("doesn't list {required}")));
        }
    }
    Ok(entries)
}

/// Calls `f` with each record of the JSON lines file at `path` and its line number, then
/// checks the file's size and SHA-256 against the manifest. How many records it held.
pub fn each_line<T: DeserializeOwned>(
    archive: &mut ZipArchive<File>,
    verified: &Verified,
    path: &str,
    mut f: impl FnMut(u64, T) -> Result<(), PortError>,
) -> Result<u64, PortError> {
    let listed = verified.listed(path)?;
    let mut reader =
        BufReader::with_capacity(64 << 10, check::entry(archive, listed.index, listed.size)?);
    let (mut line, mut records) = (0u64, 0u64);
    let mut buf = Vec::new();
    while check::next_line(&mut reader, &mut buf).map_err(|e| check::read_error(path, e))? {
        line += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = serde_json::from_slice(&buf)
            .map_err(|e| line_error(path, line, format_args!("can't be read: {e}")))?;
        f(line, record)?;
        records += 1;
    }
    finish(reader.into_inner(), listed)?;
    Ok(records)
}

/// Checks what a reader passed on against the manifest.
pub fn finish<R: Read>(reader: Counted<R>, listed: &Listed) -> Result<(), PortError> {
    let name = reader.name().to_string();
    let (size, sha256) = reader.finish();
    if size != listed.size {
        return Err(damaged(
            &name,
            &format!(
                "holds {size} bytes, not the {} its manifest says",
                listed.size
            ),
        ));
    }
    if sha256 != listed.sha256 {
        return Err(damaged(&name, "doesn't match its checksum"));
    }
    Ok(())
}

/// Reads a file through, checking it; its first bytes.
fn verify_file(
    archive: &mut ZipArchive<File>,
    path: &str,
    listed: &Listed,
) -> Result<Vec<u8>, PortError> {
    let mut reader = check::entry(archive, listed.index, listed.size)?;
    let mut head = Vec::with_capacity(HEAD);
    (&mut reader)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .and_then(|_| std::io::copy(&mut reader, &mut std::io::sink()))
        .map_err(|e| check::read_error(path, e))?;
    finish(reader, listed)?;
    Ok(head)
}

fn checked_location(record: LocationRecord) -> Result<LocationRecord, String> {
    let name = parse_name(&record.name, MAX_LOCATION_NAME).map_err(|e| format!("name {e}"))?;
    let description = match &record.description {
        Some(d) => {
            parse_optional_text(d, MAX_LONG_TEXT_CHARS).map_err(|e| format!("description {e}"))?
        }
        None => None,
    };
    if record.parent_id == Some(record.id) {
        return Err("puts a location inside itself".into());
    }
    Ok(LocationRecord {
        name,
        description,
        ..record
    })
}

/// Every location's parents lead to a root, without a cycle, at most `MAX_DEPTH` deep.
fn check_tree(locations: &[LocationRecord]) -> Result<(), PortError> {
    let links = Links::new(locations.iter().map(|l| (l.id, l.parent_id)));
    let parents: HashMap<LocationId, Option<LocationId>> =
        locations.iter().map(|l| (l.id, l.parent_id)).collect();
    for l in locations {
        let above = links.ancestors(l.id);
        let top = above.last().copied().unwrap_or(l.id);
        let problem = match parents.get(&top).copied().flatten() {
            None if above.len() > MAX_DEPTH => {
                Some(format!("is nested more than {MAX_DEPTH} deep"))
            }
            None => None,
            Some(parent) if !links.contains(parent) => {
                Some("is inside a location the backup doesn't hold".into())
            }
            Some(_) => Some("is inside itself (its parents make a loop)".into()),
        };
        if let Some(problem) = problem {
            return Err(PortError::Refused(format!(
                "This backup can't be restored: the location {:?} {problem}.",
                l.name
            )));
        }
    }
    Ok(())
}

/// An item's fields as the API would take them: checked the way a new item's are (in the
/// household's currency), normalised (tags sorted without duplicates, text trimmed), and
/// with any field the create request doesn't have kept as it was.
pub fn checked_fields(fields: &ItemFields, currency: &Currency) -> Result<ItemFields, String> {
    let original = serde_json::to_value(fields).map_err(|e| e.to_string())?;
    let request: CreateItem =
        serde_json::from_value(original.clone()).map_err(|e| format!("can't be read: {e}"))?;
    let checked = request.validate(currency).map_err(|errors| {
        errors
            .iter()
            .map(|(field, message)| format!("{field} {message}"))
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let mut merged = original;
    if let (Some(into), serde_json::Value::Object(from)) = (
        merged.as_object_mut(),
        serde_json::to_value(checked).map_err(|e| e.to_string())?,
    ) {
        into.extend(from);
    }
    serde_json::from_value(merged).map_err(|e| e.to_string())
}

/// An attachment record's values, against the first bytes of its file.
fn check_attachment(record: &AttachmentRecord, head: &[u8]) -> Result<(), String> {
    let name = record.filename.trim();
    if name.is_empty()
        || name.chars().count() > MAX_FILENAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err("has a file name Home Inventory doesn't take".into());
    }
    let declared = FileType::from_content_type(&record.content_type)
        .filter(|t| *t != FileType::Heic)
        .ok_or_else(|| {
            format!(
                "has a type Home Inventory doesn't keep ({:?})",
                record.content_type
            )
        })?;
    if FileType::sniff(head) != Some(declared) {
        return Err(format!(
            "says its file is {}, but it isn't",
            declared.label()
        ));
    }
    if record.kind == AttachmentKind::Photo && !declared.is_image() {
        return Err("is a photo whose file is not an image".into());
    }
    if record.primary && record.kind != AttachmentKind::Photo {
        return Err("is a primary photo that is not a photo".into());
    }
    let dimension = |d: Option<i64>| d.is_none_or(|d| (1..=1_000_000).contains(&d));
    if !dimension(record.width) || !dimension(record.height) {
        return Err("has impossible dimensions".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use shared::{AttachmentId, Day, Money};

    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn item_fields_are_checked_and_normalised_like_a_new_item() {
        let fields = ItemFields {
            name: "  Drill ".into(),
            quantity: 2,
            tags: vec!["tools".into(), "Garage".into(), "TOOLS".into()],
            purchase_date: Some("2024-05-31".parse::<Day>().unwrap()),
            estimated_value: Some(Money {
                amount_minor: 12_999,
                currency: usd(),
            }),
            ..ItemFields::default()
        };
        let checked = checked_fields(&fields, &usd()).unwrap();
        assert_eq!(checked.name, "Drill");
        assert_eq!(checked.tags, ["Garage", "tools"]);
        assert_eq!(checked.purchase_date, fields.purchase_date);

        let eur = Currency::parse("EUR").unwrap();
        let err = checked_fields(&fields, &eur).unwrap_err();
        assert!(err.contains("estimated_value"), "{err}");
        let nameless = ItemFields {
            name: " ".into(),
            ..fields.clone()
        };
        assert!(
            checked_fields(&nameless, &usd())
                .unwrap_err()
                .contains("name")
        );
        let negative = ItemFields {
            quantity: -1,
            ..fields
        };
        assert!(
            checked_fields(&negative, &usd())
                .unwrap_err()
                .contains("quantity")
        );
    }

    fn location(id: LocationId, parent: Option<LocationId>) -> LocationRecord {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        LocationRecord {
            id,
            parent_id: parent,
            name: "Shelf".into(),
            description: None,
            asset_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_tree_with_a_loop_a_missing_parent_or_too_deep_is_refused() {
        let (a, b, c) = (LocationId::new(), LocationId::new(), LocationId::new());
        assert!(
            check_tree(&[
                location(a, None),
                location(b, Some(a)),
                location(c, Some(b))
            ])
            .is_ok()
        );
        let looped = check_tree(&[location(a, Some(b)), location(b, Some(a))]).unwrap_err();
        assert!(looped.to_string().contains("loop"), "{looped}");
        let orphan = check_tree(&[location(a, Some(LocationId::new()))]).unwrap_err();
        assert!(orphan.to_string().contains("doesn't hold"), "{orphan}");
        let chain: Vec<LocationId> = (0..=MAX_DEPTH).map(|_| LocationId::new()).collect();
        let mut deep = vec![location(chain[0], None)];
        deep.extend(chain.windows(2).map(|w| location(w[1], Some(w[0]))));
        let err = check_tree(&deep).unwrap_err();
        assert!(err.to_string().contains("deep"), "{err}");
        assert!(check_tree(&deep[..MAX_DEPTH]).is_ok());
    }

    fn attachment(kind: AttachmentKind, content_type: &str) -> AttachmentRecord {
        let id = AttachmentId::new();
        AttachmentRecord {
            id,
            item_id: None,
            kind,
            filename: "photo.jpg".into(),
            content_type: content_type.into(),
            size: 10,
            width: Some(4),
            height: Some(3),
            primary: false,
            created_by: shared::UserId::new(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            file: file_path(id, "photo.jpg"),
        }
    }

    #[test]
    fn an_attachment_must_be_what_its_record_says() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10];
        assert!(check_attachment(&attachment(AttachmentKind::Photo, "image/jpeg"), &jpeg).is_ok());
        let html = b"<html><script>";
        let err =
            check_attachment(&attachment(AttachmentKind::Photo, "image/jpeg"), html).unwrap_err();
        assert!(err.contains("isn't"), "{err}");
        let err =
            check_attachment(&attachment(AttachmentKind::Other, "text/html"), html).unwrap_err();
        assert!(err.contains("doesn't keep"), "{err}");
        let pdf = b"%PDF-1.7\n";
        assert!(
            check_attachment(&attachment(AttachmentKind::Receipt, "application/pdf"), pdf).is_ok()
        );
        let err = check_attachment(&attachment(AttachmentKind::Photo, "application/pdf"), pdf)
            .unwrap_err();
        assert!(err.contains("not an image"), "{err}");
    }
}

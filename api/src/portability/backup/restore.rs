//! Restoring a checked backup: new ids for everything, rows written in chunks within
//! Aurora DSQL's limits (locations, items, each attachment's file then its record, history),
//! and, if anything fails part way, what was written deleted again.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use image::{ImageReader, Limits};
use shared::{
    ActivityId, AttachmentId, Currency, HouseholdId, ItemId, LocationId, MaintenanceEntryId,
    MaintenanceScheduleId, Role, UserId,
};
use zip::ZipArchive;

use super::check::{self};
use super::maintenance;
use super::records::*;
use super::verify::{self, Listed, Verified, checked_fields, each_line};
use super::{BackupSummary, Step as _, Worker};
use crate::blob::{DynBlobs, keys};
use crate::media::{self, FileType};
use crate::portability::PortError;
use crate::routes::attachments::UNFILED;
use crate::store::{
    ActivityRow, AttachmentRow, DynStore, EntryRow, ItemRow, RESTORE_ROWS, ScheduleRow, now,
};

/// Item rows (an item and its tags) and estimated bytes per write transaction: well inside
/// DSQL's 3,000 rows and 10 MiB.
const ITEM_ROWS: usize = 2_000;
const ITEM_BYTES: usize = 4 << 20;
/// History entries per write transaction.
const ACTIVITY_ROWS: usize = 2_000;
/// Attachment records per write transaction (their files are written one by one first).
const ATTACHMENT_ROWS: usize = 200;
/// What a failed restore deletes per transaction, and the ids each call names.
const UNDO_ROWS: usize = 2_000;
const UNDO_IDS: usize = 500;

pub fn restore(
    worker: &Worker,
    store: &DynStore,
    blobs: &DynBlobs,
    household: HouseholdId,
    actor: UserId,
    zip: &Path,
) -> Result<BackupSummary, PortError> {
    let (row, role) = worker
        .block_on(store.membership(household, actor))
        .step("reading the household")?
        .ok_or_else(|| PortError::Conflict("You are not a member of this household.".into()))?;
    if role == Role::Viewer {
        return Err(PortError::Conflict(
            "Only the household's owners and editors can restore a backup into it.".into(),
        ));
    }
    ensure_empty(worker, store, household)?;
    let mut archive = check::open(zip)?;
    let verified = verify::verify(&mut archive, &row.currency)?;
    // Checking a large backup takes a while: someone may have added something meanwhile.
    ensure_empty(worker, store, household)?;
    worker.progress.set_total(verified.manifest.counts.total());

    let temp = TempDir::new().step("making a temporary folder")?;
    let ctx = Ctx {
        worker,
        store,
        blobs,
        household,
        currency: row.currency,
        temp: &temp.0,
    };
    let mut written = Written::default();
    // A panic part way must not skip removing what was written.
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        write_all(&ctx, &mut archive, &verified, &mut written)
    }))
    .unwrap_or_else(|_| Err(anyhow::anyhow!("the restore failed unexpectedly").into()));
    match outcome {
        Ok(summary) => Ok(summary),
        Err(e) => Err(match undo(&ctx, &written) {
            Ok(()) => match e {
                PortError::Refused(m) => PortError::Refused(format!(
                    "{m} What the restore had written was removed again."
                )),
                PortError::Conflict(m) => PortError::Conflict(format!(
                    "{m} What the restore had written was removed again."
                )),
                PortError::Internal(e) => PortError::Internal(
                    e.context("the restore stopped part way; what it had written was removed"),
                ),
            },
            Err(undo) => {
                tracing::error!(error = %undo, "removing what a failed restore wrote failed");
                PortError::Internal(anyhow::Error::from(e).context(format!(
                    "the restore stopped part way, and removing what it had written failed \
                     too ({undo:#}); the household may hold part of the backup"
                )))
            }
        }),
    }
}

fn ensure_empty(
    worker: &Worker,
    store: &DynStore,
    household: HouseholdId,
) -> Result<(), PortError> {
    if worker
        .block_on(store.household_is_empty(household))
        .step("looking into the household")?
    {
        Ok(())
    } else {
        Err(PortError::Conflict(
            "This household already has items or locations. A backup is restored into an \
             empty household: create a new one and restore into it."
                .into(),
        ))
    }
}

/// What every step needs.
struct Ctx<'a> {
    worker: &'a Worker,
    store: &'a DynStore,
    blobs: &'a DynBlobs,
    household: HouseholdId,
    currency: Currency,
    temp: &'a Path,
}

/// Ids of what this restore has written (or was writing when it stopped).
#[derive(Default)]
struct Written {
    locations: Vec<LocationId>,
    items: Vec<ItemId>,
    attachments: Vec<AttachmentId>,
}

fn write_all(
    ctx: &Ctx<'_>,
    archive: &mut ZipArchive<File>,
    verified: &Verified,
    written: &mut Written,
) -> Result<BackupSummary, PortError> {
    let (worker, household) = (ctx.worker, ctx.household);
    let progress = &worker.progress;
    let mut summary = BackupSummary::default();

    let locations: HashMap<LocationId, LocationId> = verified
        .locations
        .iter()
        .map(|l| (l.id, LocationId::new()))
        .collect();
    for chunk in verified.locations.chunks(RESTORE_ROWS) {
        worker.check_stop()?;
        let at = now();
        let rows: Vec<_> = chunk
            .iter()
            .map(|l| {
                let parent = l.parent_id.map(|p| locations[&p]);
                l.clone().into_row(household, locations[&l.id], parent, at)
            })
            .collect();
        written.locations.extend(rows.iter().map(|r| r.id));
        worker
            .block_on(ctx.store.restore_locations(&rows))
            .step("writing locations")?;
        summary.locations += rows.len() as u64;
        progress.add(rows.len() as u64);
    }

    let mut items: HashMap<ItemId, ItemId> = HashMap::new();
    let mut batch = ItemBatch::default();
    each_line(archive, verified, ITEMS, |line, record: ItemRecord| {
        worker.check_stop()?;
        let fields = checked_fields(&record.fields, &ctx.currency)
            .map_err(|e| PortError::Refused(format!("Line {line} of {ITEMS} {e}.")))?;
        let id = ItemId::new();
        items.insert(record.id, id);
        let location = fields.location_id.map(|l| locations[&l]);
        let row = ItemRecord { fields, ..record }.into_row(household, id, location, now());
        let cost = (
            1 + row.fields.tags.len(),
            serde_json::to_vec(&ItemRecord::from(&row)).map_or(0, |v| v.len()) * 2 + 512,
        );
        if batch.rows + cost.0 > ITEM_ROWS || batch.bytes + cost.1 > ITEM_BYTES {
            summary.items += batch.flush(ctx, written)?;
        }
        batch.push(row, cost);
        Ok(())
    })?;
    summary.items += batch.flush(ctx, written)?;

    let mut rows = Vec::new();
    let mut attachment_ids: HashMap<AttachmentId, AttachmentId> = HashMap::new();
    let records = extract(ctx, archive, verified, ATTACHMENTS)?;
    let mut reader = BufReader::new(File::open(&records).step("reading attachment records")?);
    let mut buf = Vec::new();
    while check::next_line(&mut reader, &mut buf).map_err(|e| check::read_error(ATTACHMENTS, e))? {
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        worker.check_stop()?;
        let record: AttachmentRecord = serde_json::from_slice(&buf).map_err(anyhow::Error::from)?;
        let item = match record.item_id {
            Some(old) => items[&old],
            None => UNFILED,
        };
        let id = AttachmentId::new();
        attachment_ids.insert(record.id, id);
        written.attachments.push(id);
        let (row, size) = restore_file(ctx, archive, verified, record, id, item)?;
        rows.push(row);
        if rows.len() >= ATTACHMENT_ROWS {
            worker
                .block_on(ctx.store.restore_attachments(&rows))
                .step("writing attachments")?;
            rows.clear();
        }
        summary.attachments += 1;
        summary.bytes += size;
        progress.add(1);
    }
    worker
        .block_on(ctx.store.restore_attachments(&rows))
        .step("writing attachments")?;
    drop(rows);

    let mut entries: Vec<ActivityRow> = Vec::new();
    each_line(archive, verified, ACTIVITY, |_, record: ActivityRecord| {
        worker.check_stop()?;
        let item = items[&record.item_id];
        entries.push(record.into_row(household, ActivityId::new(), item));
        if entries.len() >= ACTIVITY_ROWS {
            worker
                .block_on(ctx.store.import_items(&[], &entries))
                .step("writing the history")?;
            summary.activity += entries.len() as u64;
            progress.add(entries.len() as u64);
            entries.clear();
        }
        Ok(())
    })?;
    worker
        .block_on(ctx.store.import_items(&[], &entries))
        .step("writing the history")?;
    summary.activity += entries.len() as u64;
    progress.add(entries.len() as u64);

    // Maintenance: schedules first, so entries can name their new ids. Its rows are the
    // items', deleted with them if the restore stops.
    let mut schedules = HashMap::new();
    let mut rows = Vec::new();
    if verified.entries.contains_key(maintenance::SCHEDULES) {
        each_line(
            archive,
            verified,
            maintenance::SCHEDULES,
            |_, record: maintenance::ScheduleRecord| {
                worker.check_stop()?;
                let id = MaintenanceScheduleId::new();
                schedules.insert(record.id, id);
                let item = items[&record.item_id];
                rows.push(record.into_row(household, id, item));
                if rows.len() >= RESTORE_ROWS {
                    summary.maintenance_schedules += write_maintenance(ctx, &rows, &[])?;
                    rows.clear();
                }
                Ok(())
            },
        )?;
    }
    summary.maintenance_schedules += write_maintenance(ctx, &rows, &[])?;
    let mut rows = Vec::new();
    if verified.entries.contains_key(maintenance::ENTRIES) {
        each_line(
            archive,
            verified,
            maintenance::ENTRIES,
            |_, record: maintenance::EntryRecord| {
                worker.check_stop()?;
                let item = items[&record.item_id];
                rows.push(record.into_row(
                    household,
                    MaintenanceEntryId::new(),
                    item,
                    &schedules,
                    &attachment_ids,
                ));
                if rows.len() >= RESTORE_ROWS {
                    summary.maintenance_entries += write_maintenance(ctx, &[], &rows)?;
                    rows.clear();
                }
                Ok(())
            },
        )?;
    }
    summary.maintenance_entries += write_maintenance(ctx, &[], &rows)?;
    Ok(summary)
}

/// Writes restored schedules or entries in one transaction; how many.
fn write_maintenance(
    ctx: &Ctx<'_>,
    schedules: &[ScheduleRow],
    entries: &[EntryRow],
) -> Result<u64, PortError> {
    let n = (schedules.len() + entries.len()) as u64;
    if n > 0 {
        ctx.worker
            .block_on(ctx.store.restore_maintenance(schedules, entries))
            .step("writing maintenance")?;
        ctx.worker.progress.add(n);
    }
    Ok(n)
}

/// Items waiting to be written together.
#[derive(Default)]
struct ItemBatch {
    items: Vec<ItemRow>,
    rows: usize,
    bytes: usize,
}

impl ItemBatch {
    fn push(&mut self, item: ItemRow, (rows, bytes): (usize, usize)) {
        self.items.push(item);
        self.rows += rows;
        self.bytes += bytes;
    }

    /// Writes the items in one transaction, stamped now: a device or search index that has
    /// read the household up to a time sees them as changed after it.
    fn flush(&mut self, ctx: &Ctx<'_>, written: &mut Written) -> Result<u64, PortError> {
        if self.items.is_empty() {
            return Ok(0);
        }
        let at = now();
        for item in &mut self.items {
            item.updated_at = at;
        }
        written.items.extend(self.items.iter().map(|i| i.id));
        ctx.worker
            .block_on(ctx.store.import_items(&self.items, &[]))
            .step("writing items")?;
        let n = self.items.len() as u64;
        ctx.worker.progress.add(n);
        *self = Self::default();
        Ok(n)
    }
}

/// Copies the entry at `path` to a file in the temporary folder, checking it again against
/// the manifest on the way.
fn extract(
    ctx: &Ctx<'_>,
    archive: &mut ZipArchive<File>,
    verified: &Verified,
    path: &str,
) -> Result<PathBuf, PortError> {
    let listed: &Listed = verified.listed(path)?;
    let to = ctx.temp.join(format!("entry-{}", listed.index));
    let mut reader = check::entry(archive, listed.index, listed.size)?;
    let mut file = File::create(&to).step("making a temporary file")?;
    std::io::copy(&mut reader, &mut file).map_err(|e| check::read_error(path, e))?;
    verify::finish(reader, listed)?;
    file.sync_all().step("writing a temporary file")?;
    Ok(to)
}

/// Puts an attachment's file (and, for an image, a new thumbnail) into the attachment
/// store under its new id; the row to write and the file's size.
fn restore_file(
    ctx: &Ctx<'_>,
    archive: &mut ZipArchive<File>,
    verified: &Verified,
    record: AttachmentRecord,
    id: AttachmentId,
    item: ItemId,
) -> Result<(AttachmentRow, u64), PortError> {
    let file = extract(ctx, archive, verified, &record.file)?;
    let _removed = RemoveOnDrop(file.clone());
    // Checked by `verify`: a type kept here, and what the file's first bytes say.
    let file_type = FileType::from_content_type(&record.content_type)
        .ok_or_else(|| anyhow::anyhow!("an attachment of an unknown type passed the checks"))?;
    let household = ctx.household;
    ctx.worker
        .block_on(
            ctx.blobs
                .put_file(&keys::file(household, id), &file, file_type.content_type()),
        )
        .step("storing an attachment's file")?;
    let size = record.size;
    let mut stored = size;
    let (mut width, mut height) = (None, None);
    if file_type.is_image() {
        match thumbnail(&file) {
            Some((bytes, w, h)) => {
                stored += bytes.len() as u64;
                (width, height) = (Some(i64::from(w)), Some(i64::from(h)));
                ctx.worker
                    .block_on(
                        ctx.blobs
                            .put(&keys::thumbnail(household, id), bytes, "image/jpeg"),
                    )
                    .step("storing a thumbnail")?;
            }
            // Kept without a thumbnail; without dimensions the app shows none.
            None => tracing::warn!(attachment = %id, "a restored image could not be thumbnailed"),
        }
    }
    let row = AttachmentRow {
        width,
        height,
        ..record.into_row(household, id, item, file_type.content_type(), stored)
    };
    Ok((row, size))
}

/// A thumbnail of the image file at `path`, made the way uploads make theirs, and the
/// image's size; `None` when it can't be read within the pixel limit uploads have.
fn thumbnail(path: &Path) -> Option<(Vec<u8>, u32, u32)> {
    let open = || -> Option<ImageReader<BufReader<File>>> {
        let mut reader = ImageReader::open(path).ok()?.with_guessed_format().ok()?;
        let mut limits = Limits::default();
        limits.max_alloc = Some(media::MAX_PIXELS * 8 + (64 << 20));
        reader.limits(limits);
        Some(reader)
    };
    let (w, h) = open()?.into_dimensions().ok()?;
    if u64::from(w) * u64::from(h) > media::MAX_PIXELS {
        return None;
    }
    let image = open()?.decode().ok()?;
    let bytes = media::thumbnail(&image).ok()?;
    Some((bytes, image.width(), image.height()))
}

/// Deletes what this restore wrote: rows first (history, attachments, tags, items,
/// locations), then the files.
fn undo(ctx: &Ctx<'_>, written: &Written) -> anyhow::Result<()> {
    let (worker, store, household) = (ctx.worker, ctx.store, ctx.household);
    let remove = |items: &[ItemId], attachments: &[AttachmentId], locations: &[LocationId]| {
        while worker.block_on(store.remove_restored(
            household,
            items,
            attachments,
            locations,
            UNDO_ROWS,
        ))? > 0
        {}
        anyhow::Ok(())
    };
    for chunk in written.items.chunks(UNDO_IDS) {
        remove(chunk, &[], &[])?;
    }
    for chunk in written.attachments.chunks(UNDO_IDS) {
        remove(&[], chunk, &[])?;
    }
    for chunk in written.locations.chunks(UNDO_IDS) {
        remove(&[], &[], chunk)?;
    }
    let keys: Vec<String> = written
        .attachments
        .iter()
        .flat_map(|id| keys::all(household, *id))
        .collect();
    for chunk in keys.chunks(1_000) {
        worker.block_on(ctx.blobs.delete(chunk))?;
    }
    Ok(())
}

/// A folder of this restore's own for the files it passes on, removed with what is in it.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<Self> {
        let path =
            std::env::temp_dir().join(format!("home-inventory-restore-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&path)?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

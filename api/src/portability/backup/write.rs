//! Writing a backup: pages of records from the store and each attachment's file streamed
//! from the attachment store, into the zip as they come.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use shared::{AttachmentId, HouseholdId, ItemId, LocationId};
use time::OffsetDateTime;
use tokio::io::AsyncReadExt as _;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::check::hex;
use super::maintenance;
use super::records::*;
use super::{BackupSummary, Step as _, Worker, zip_error};
use crate::blob::{DynBlobs, keys};
use crate::portability::PortError;
use crate::routes::attachments::UNFILED;
use crate::store::{DynStore, now};

/// Records read from the store at a time.
const PAGE: usize = 500;
/// Bytes of a file copied at a time.
const COPY_BUFFER: usize = 256 << 10;

pub fn write(
    worker: &Worker,
    store: &DynStore,
    blobs: &DynBlobs,
    household: HouseholdId,
    out: &Path,
) -> Result<BackupSummary, PortError> {
    // Attachment records wait here while their files go into the zip.
    let records = Removed(out.with_extension("attachments.jsonl.part"));
    let written = write_zip(worker, store, blobs, household, out, &records.0);
    if written.is_err() {
        let _ = std::fs::remove_file(out);
    }
    written
}

/// A file removed when this is dropped.
struct Removed(PathBuf);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn write_zip(
    worker: &Worker,
    store: &DynStore,
    blobs: &DynBlobs,
    household: HouseholdId,
    out: &Path,
    records_path: &Path,
) -> Result<BackupSummary, PortError> {
    let row = worker
        .block_on(store.household(household))
        .step("reading the household")?
        .ok_or_else(|| PortError::Conflict("This household no longer exists.".into()))?;
    let counts = worker
        .block_on(store.backup_counts(household))
        .step("counting the household's records")?;
    let progress = &worker.progress;
    progress.set_total(counts.locations + counts.items + counts.attachments + counts.activity);

    let created_at = now();
    let stamp = zip_time(created_at);
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(stamp);
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(stamp);
    let mut zip = ZipWriter::new(BufWriter::with_capacity(
        1 << 20,
        File::create(out).step("creating the backup file")?,
    ))
    .set_auto_large_file();
    let mut entries = Vec::new();
    let mut summary = BackupSummary::default();

    // The tree is read whole: one household's locations are few.
    let locations = worker
        .block_on(store.locations(household))
        .step("reading the locations")?;
    let location_ids: HashSet<LocationId> = locations.iter().map(|l| l.id).collect();
    let mut lines = Lines::start(&mut zip, LOCATIONS, deflated)?;
    for location in &locations {
        lines.push(&LocationRecord::from(location))?;
    }
    entries.push(lines.finish());
    summary.locations = locations.len() as u64;
    progress.add(summary.locations);
    drop(locations);

    let mut items: HashSet<ItemId> = HashSet::new();
    let mut lines = Lines::start(&mut zip, ITEMS, deflated)?;
    let mut after = None;
    loop {
        worker.check_stop()?;
        let page = worker
            .block_on(store.backup_items(household, after, PAGE))
            .step("reading items")?;
        for item in &page {
            let mut record = ItemRecord::from(item);
            if record
                .fields
                .location_id
                .is_some_and(|l| !location_ids.contains(&l))
            {
                // Put in a location made after the tree was read: kept, without a place.
                record.fields.location_id = None;
            }
            lines.push(&record)?;
            items.insert(item.id);
        }
        progress.add(page.len() as u64);
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some((last.created_at, last.id)),
            _ => break,
        }
    }
    entries.push(lines.finish());
    summary.items = items.len() as u64;

    // Each file is an entry of its own, so the records go to a file beside the zip and
    // follow the files.
    let mut records = BufWriter::new(
        File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(records_path)
            .step("creating a file for the attachment records")?,
    );
    let mut missing_files = Vec::new();
    let mut kept: HashSet<AttachmentId> = HashSet::new();
    let mut buffer = vec![0u8; COPY_BUFFER];
    let mut after = None;
    loop {
        worker.check_stop()?;
        let page = worker
            .block_on(store.backup_attachments(household, after, PAGE))
            .step("reading attachments")?;
        for a in &page {
            progress.add(1);
            let filed = a.item_id != UNFILED;
            if filed && !items.contains(&a.item_id) {
                // Its item was made after the items were read.
                continue;
            }
            let path = file_path(a.id, &a.filename);
            let key = keys::file(household, a.id);
            let Some(entry) = copy_file(worker, blobs, &mut zip, &key, &path, stored, &mut buffer)?
            else {
                tracing::warn!(attachment = %a.id, "an attachment's file is missing; left out of the backup");
                missing_files.push(MissingFile {
                    attachment_id: a.id,
                    filename: a.filename.clone(),
                });
                continue;
            };
            let record = AttachmentRecord::new(a, filed.then_some(a.item_id), entry.size, path);
            serde_json::to_writer(&mut records, &record).map_err(anyhow::Error::from)?;
            records.write_all(b"\n")?;
            summary.attachments += 1;
            summary.bytes += entry.size;
            kept.insert(a.id);
            entries.push(entry);
        }
        match page.last() {
            Some(last) if page.len() == PAGE => {
                after = Some((last.item_id, last.created_at, last.id.as_uuid()));
            }
            _ => break,
        }
    }
    let mut records = records.into_inner().map_err(|e| e.into_error())?;
    records.rewind()?;
    let mut lines = Lines::start(&mut zip, ATTACHMENTS, deflated)?;
    std::io::copy(&mut records, &mut lines)?;
    entries.push(lines.finish());

    let mut lines = Lines::start(&mut zip, ACTIVITY, deflated)?;
    let mut after = None;
    loop {
        worker.check_stop()?;
        let page = worker
            .block_on(store.backup_activity(household, after, PAGE))
            .step("reading the history")?;
        for entry in &page {
            if items.contains(&entry.item_id) {
                lines.push(&ActivityRecord::from(entry))?;
                summary.activity += 1;
            }
        }
        progress.add(page.len() as u64);
        match page.last() {
            Some(last) if page.len() == PAGE => {
                after = Some((last.item_id, last.at, last.id.as_uuid()));
            }
            _ => break,
        }
    }
    entries.push(lines.finish());

    // Maintenance, after the files, so entries name only attachments the backup holds.
    let mut lines = Lines::start(&mut zip, maintenance::SCHEDULES, deflated)?;
    let mut after = None;
    loop {
        worker.check_stop()?;
        let page = worker
            .block_on(store.backup_schedules(household, after, PAGE))
            .step("reading maintenance schedules")?;
        for schedule in page.iter().filter(|s| items.contains(&s.item_id)) {
            lines.push(&maintenance::ScheduleRecord::from(schedule))?;
            summary.maintenance_schedules += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.id),
            _ => break,
        }
    }
    entries.push(lines.finish());
    let mut lines = Lines::start(&mut zip, maintenance::ENTRIES, deflated)?;
    let mut after = None;
    loop {
        worker.check_stop()?;
        let page = worker
            .block_on(store.backup_entries(household, after, PAGE))
            .step("reading maintenance logs")?;
        for entry in page.iter().filter(|e| items.contains(&e.item_id)) {
            lines.push(&maintenance::EntryRecord::new(entry, &kept))?;
            summary.maintenance_entries += 1;
        }
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.id),
            _ => break,
        }
    }
    entries.push(lines.finish());

    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        app_version: env!("CARGO_PKG_VERSION").into(),
        created_at,
        household: HouseholdRecord {
            name: row.name,
            currency: row.currency,
        },
        counts: Counts {
            locations: summary.locations,
            items: summary.items,
            attachments: summary.attachments,
            activity: summary.activity,
            maintenance_schedules: summary.maintenance_schedules,
            maintenance_entries: summary.maintenance_entries,
        },
        entries,
        missing_files,
    };
    zip.start_file(MANIFEST, deflated).map_err(zip_error)?;
    serde_json::to_writer_pretty(&mut zip, &manifest).map_err(anyhow::Error::from)?;
    let file = zip
        .finish()
        .map_err(zip_error)?
        .into_inner()
        .map_err(|e| e.into_error())?;
    file.sync_all().step("writing the backup file")?;
    Ok(summary)
}

/// Streams the file at `key` into a new stored entry `path`: its manifest entry, or `None`
/// when the attachment store has nothing at `key`.
pub(crate) fn copy_file<W: Write + Seek>(
    worker: &Worker,
    blobs: &DynBlobs,
    zip: &mut ZipWriter<W>,
    key: &str,
    path: &str,
    options: SimpleFileOptions,
    buffer: &mut [u8],
) -> Result<Option<Entry>, PortError> {
    let Some(mut reader) = worker
        .block_on(blobs.reader(key))
        .step("opening an attachment's file")?
    else {
        return Ok(None);
    };
    zip.start_file(path, options).map_err(zip_error)?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    loop {
        let n = worker
            .block_on(reader.read(buffer))
            .map_err(|e| anyhow::Error::new(e).context(format!("reading {key}")))?;
        if n == 0 {
            break;
        }
        zip.write_all(&buffer[..n])?;
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok(Some(Entry {
        path: path.to_string(),
        sha256: hex(&hasher.finalize()),
        size,
    }))
}

/// A JSON lines entry being written: counted and hashed for the manifest.
struct Lines<'z, W: Write + Seek> {
    zip: &'z mut ZipWriter<W>,
    path: &'static str,
    hasher: Sha256,
    size: u64,
    line: Vec<u8>,
}

impl<'z, W: Write + Seek> Lines<'z, W> {
    fn start(
        zip: &'z mut ZipWriter<W>,
        path: &'static str,
        options: SimpleFileOptions,
    ) -> Result<Self, PortError> {
        zip.start_file(path, options).map_err(zip_error)?;
        Ok(Self {
            zip,
            path,
            hasher: Sha256::new(),
            size: 0,
            line: Vec::new(),
        })
    }

    fn push(&mut self, record: &impl Serialize) -> Result<(), PortError> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        serde_json::to_writer(&mut line, record).map_err(anyhow::Error::from)?;
        line.push(b'\n');
        self.write_all(&line)?;
        self.line = line;
        Ok(())
    }

    fn finish(self) -> Entry {
        Entry {
            path: self.path.into(),
            sha256: hex(&self.hasher.finalize()),
            size: self.size,
        }
    }
}

impl<W: Write + Seek> Write for Lines<'_, W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n = self.zip.write(bytes)?;
        self.hasher.update(&bytes[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.zip.flush()
    }
}

/// The zip's time for its entries (zip times have no zone: UTC here).
pub(crate) fn zip_time(t: OffsetDateTime) -> zip::DateTime {
    zip::DateTime::from_date_and_time(
        u16::try_from(t.year()).unwrap_or(1980),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .unwrap_or_default()
}

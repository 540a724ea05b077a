//! The full backup of a household as one zip file, and its restore into another, empty
//! household (on this server or another one).
//!
//! The zip (format `home-inventory-backup`, version 1) holds, in this order:
//!
//! - `locations.jsonl`, `items.jsonl` (live and trashed, tags and custom fields included):
//!   one JSON record a line, deflated;
//! - `files/<attachment id>/<file name>`: each ready attachment's file as served, stored
//!   as it is (photos are compressed already);
//! - `attachments.jsonl` (the attachments' records) and `activity.jsonl` (the history);
//! - `maintenance_schedules.jsonl` and `maintenance_entries.jsonl`: items' maintenance
//!   schedules and logs (absent from backups made before maintenance);
//! - `manifest.json`, written last and read first: the format and its version, the app's
//!   version, when it was made, the household's name and currency, the counts, and every
//!   other entry's path, size and SHA-256.
//!
//! Both directions run on a blocking thread of their own and hold one page of records and
//! one buffer of a file at a time, whatever the size of the household: files are streamed
//! from the attachment store into the zip, and from the zip through a temporary file back
//! into the store. A restore first checks the whole zip (see `check` and `verify`) and
//! writes nothing unless all of it passes; then it writes with new ids in chunks within
//! Aurora DSQL's limits, and if it stops part way it deletes what it wrote.

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use shared::{HouseholdId, UserId};

use super::{PortError, Progress};
use crate::blob::DynBlobs;
use crate::store::DynStore;

pub(crate) mod check;
mod maintenance;
pub(crate) mod records;
mod restore;
mod verify;
pub(crate) mod write;

pub use records::{FORMAT, VERSION};

/// What a backup holds, or what a restore wrote: records of each kind, and `bytes`, the
/// size of the attachments' files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BackupSummary {
    pub locations: u64,
    pub items: u64,
    pub attachments: u64,
    pub activity: u64,
    pub maintenance_schedules: u64,
    pub maintenance_entries: u64,
    pub bytes: u64,
}

/// Writes the backup of `household` to a new zip file at `out` (replacing any file
/// there). Progress counts records: locations, items, attachments and history entries.
/// On failure nothing is left at `out`.
pub async fn write_backup(
    store: &DynStore,
    blobs: &DynBlobs,
    household: HouseholdId,
    out: &Path,
    progress: &Progress,
) -> Result<BackupSummary, PortError> {
    let (store, blobs, out) = (store.clone(), blobs.clone(), out.to_path_buf());
    on_blocking_thread(progress, move |worker| {
        write::write(worker, &store, &blobs, household, &out)
    })
    .await
}

/// Restores the backup zip at `zip` into `household`, which must hold no item and no
/// location (`Conflict` otherwise), as `actor` (an owner or editor of it). A zip that is
/// not a backup, is damaged or unsafe, or whose currency is not the household's is
/// `Refused` before anything is written. Everything gets a new id; an item's `updated_at`
/// and a location's become the time of the restore, so devices and search indexes see them
/// as changes. If the restore stops part way, what it wrote is deleted again.
pub async fn restore_backup(
    store: &DynStore,
    blobs: &DynBlobs,
    household: HouseholdId,
    actor: UserId,
    zip: &Path,
    progress: &Progress,
) -> Result<BackupSummary, PortError> {
    let (store, blobs, zip) = (store.clone(), blobs.clone(), zip.to_path_buf());
    on_blocking_thread(progress, move |worker| {
        restore::restore(worker, &store, &blobs, household, actor, &zip)
    })
    .await
}

/// Checks the backup zip at `zip` as a restore into `household` would — the format, every
/// entry's name, size and SHA-256, every record — and writes nothing (a restore's dry run);
/// what the backup holds. The household must be empty, as for the restore.
pub async fn check_backup(
    store: &DynStore,
    household: HouseholdId,
    zip: &Path,
    progress: &Progress,
) -> Result<BackupSummary, PortError> {
    let (store, zip) = (store.clone(), zip.to_path_buf());
    on_blocking_thread(progress, move |worker| {
        let row = worker
            .block_on(store.household(household))?
            .ok_or_else(|| PortError::Conflict("The household no longer exists.".into()))?;
        if !worker.block_on(store.household_is_empty(household))? {
            return Err(PortError::Conflict(
                "A backup restores only into an empty household; make a new household for it."
                    .into(),
            ));
        }
        let mut archive = check::open(&zip)?;
        let verified = verify::verify(&mut archive, &row.currency)?;
        let counts = verified.manifest.counts;
        let bytes = verified
            .manifest
            .entries
            .iter()
            .filter(|e| e.path.starts_with("files/"))
            .map(|e| e.size)
            .sum();
        Ok(BackupSummary {
            locations: counts.locations,
            items: counts.items,
            attachments: counts.attachments,
            activity: counts.activity,
            maintenance_schedules: counts.maintenance_schedules,
            maintenance_entries: counts.maintenance_entries,
            bytes,
        })
    })
    .await
}

/// What work on a blocking thread has: the runtime (for the store and the attachment
/// store), its progress, and whether the caller stopped waiting.
pub(crate) struct Worker {
    runtime: tokio::runtime::Handle,
    pub(crate) progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
}

impl Worker {
    /// Runs `future` to completion on the runtime, blocking this thread.
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// `Err` once whoever awaited the work went away (the job was cancelled).
    pub(crate) fn check_stop(&self) -> Result<(), PortError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(PortError::Internal(anyhow::anyhow!("the job was stopped")));
        }
        Ok(())
    }
}

/// Sets `stop` when dropped: the awaiting future went away before the work ended.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` on a blocking thread, copying its progress into `progress` a few times a
/// second. If this future is dropped, the work is told to stop (a restore then removes
/// what it wrote).
pub(crate) async fn on_blocking_thread<T: Send + 'static>(
    progress: &Progress,
    work: impl FnOnce(&Worker) -> Result<T, PortError> + Send + 'static,
) -> Result<T, PortError> {
    let worker = Worker {
        runtime: tokio::runtime::Handle::current(),
        progress: Arc::new(Progress::default()),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let inner = worker.progress.clone();
    let _stop = StopOnDrop(worker.stop.clone());
    let mirror = || {
        let (done, total) = inner.get();
        progress.set_total(total);
        progress.set_done(done);
    };
    let mut task = tokio::task::spawn_blocking(move || work(&worker));
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            joined = &mut task => {
                mirror();
                return joined.map_err(|e| PortError::Internal(anyhow::Error::new(e)))?;
            }
            _ = tick.tick() => mirror(),
        }
    }
}

/// `.step("doing what")` on a fallible step of the work: its error, with what was being
/// done, as an internal failure.
trait Step<T> {
    fn step(self, what: &'static str) -> Result<T, PortError>;
}

impl<T, E: Into<anyhow::Error>> Step<T> for Result<T, E> {
    fn step(self, what: &'static str) -> Result<T, PortError> {
        self.map_err(|e| PortError::Internal(e.into().context(what)))
    }
}

fn zip_error(e: zip::result::ZipError) -> PortError {
    PortError::Internal(anyhow::Error::new(e).context("writing the zip file"))
}

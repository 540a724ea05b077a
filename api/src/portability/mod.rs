//! Data in and out of a household: Homebox-compatible CSV (export and import) and the full
//! backup zip (backup and restore). These run as background jobs (`crate::jobs`); the file
//! formats here are plain synchronous code over `Read`/`Write`, run on blocking threads.

use std::sync::atomic::{AtomicU64, Ordering};

pub mod backup;
pub mod csv;

/// How far a piece of work has come, shared between the worker and the job runner, which
/// writes it to the job's row now and then.
#[derive(Debug, Default)]
pub struct Progress {
    done: AtomicU64,
    total: AtomicU64,
}

impl Progress {
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
    }

    pub fn set_done(&self, done: u64) {
        self.done.store(done, Ordering::Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    /// `(done, total)`.
    pub fn get(&self) -> (u64, u64) {
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        )
    }
}

/// Why an import, an export, a backup or a restore stopped.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The file is not something this can read (damaged, foreign, unsafe, too large); the
    /// job fails with `validation_failed` and this message, and nothing was written.
    #[error("{0}")]
    Refused(String),
    /// The household's state forbids it (a restore into a household that has items).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<crate::store::StoreError> for PortError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::Internal(anyhow::Error::new(e))
    }
}

impl From<std::io::Error> for PortError {
    fn from(e: std::io::Error) -> Self {
        Self::Internal(e.into())
    }
}

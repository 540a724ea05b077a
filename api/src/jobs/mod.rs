//! Background jobs: long work (imports, exports, backups, restores) that continues after the
//! request that asked for it has been answered.
//!
//! A request stores the job (`queued`) and starts it: self-hosted, on a task of this process;
//! on AWS, by invoking the jobs function asynchronously (`JOBS_FUNCTION`; [`invoke`]), which
//! runs it to the end outside API Gateway's 30 seconds. Whoever runs a job first claims it
//! with a lease (two minutes, renewed every two seconds with the progress), so one job runs
//! once; a job whose runner stopped is claimed again when its lease runs out — at the next
//! start of the server, or by its periodic sweep. Files a job makes go to the attachment
//! store under `jobs/<household>/<job>/`; finished jobs and their files are removed after
//! [`KEEP_FINISHED`].

use std::sync::Arc;
use std::time::Duration;

use shared::{
    ErrorCode, HouseholdId, Job, JobError, JobId, JobKind, JobProgress, JobStatus, UserId,
};

use crate::AppState;
use crate::blob::UrlWindow;
use crate::portability::{PortError, Progress};
use crate::store::{JobOutcome, JobRow, StoreResult, now};

pub mod bulk_edit;
pub mod csv_export;
pub mod csv_import;
pub mod invoke;

/// How long a runner holds a job without renewing its lease.
const LEASE: time::Duration = time::Duration::minutes(2);
/// How often progress is written (and the lease renewed).
const HEARTBEAT: Duration = Duration::from_secs(2);
/// A job that failed this many times (its runner stopped each time) is given up.
const MAX_ATTEMPTS: i64 = 3;
/// Finished jobs, and the files they made, are kept this long.
pub const KEEP_FINISHED: time::Duration = time::Duration::days(7);
/// Jobs one process runs at once; more wait their turn.
const CONCURRENT: usize = 2;

/// Starts jobs and keeps count of those running in this process.
pub struct Runner {
    permits: Arc<tokio::sync::Semaphore>,
    invoker: Option<invoke::Invoker>,
}

impl Runner {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            permits: Arc::new(tokio::sync::Semaphore::new(CONCURRENT)),
            invoker: invoke::Invoker::from_env()?,
        })
    }
}

/// A job about to be stored and started.
pub struct NewJob {
    pub household_id: HouseholdId,
    pub user_id: UserId,
    pub kind: JobKind,
    pub params: serde_json::Value,
    pub input_key: Option<String>,
}

/// Stores the job and starts it.
pub async fn start(state: &AppState, new: NewJob) -> anyhow::Result<JobRow> {
    let row = JobRow {
        id: JobId::new(),
        household_id: new.household_id,
        user_id: new.user_id,
        kind: new.kind,
        status: JobStatus::Queued,
        params: new.params.to_string(),
        input_key: new.input_key,
        output_key: None,
        output_name: None,
        output_type: None,
        done: 0,
        total: 0,
        result: None,
        error_code: None,
        error_message: None,
        attempts: 0,
        lease_until: None,
        created_at: now(),
        finished_at: None,
    };
    state.store.insert_job(&row).await?;
    match &state.jobs.invoker {
        Some(invoker) => {
            if let Err(e) = invoker.invoke(row.id).await {
                tracing::error!(job = %row.id, "the jobs function could not be started: {e:#}");
                let outcome = failure(
                    &row,
                    ErrorCode::Unavailable,
                    "the job could not be started; try again in a moment".into(),
                );
                state.store.finish_job(row.id, &outcome).await?;
            }
        }
        None => spawn(state.clone(), row.id),
    }
    Ok(row)
}

/// Runs the job on a task of this process.
pub fn spawn(state: AppState, id: JobId) {
    tokio::spawn(async move {
        run(&state, id).await;
    });
}

/// In the jobs function: runs the job, or, when a runner that stopped (a timeout, a crash;
/// Lambda then invokes again) still holds its lease, waits for the lease to run out and
/// takes it over. Gives up after a few tries when a live runner keeps it.
pub async fn run_invoked(state: &AppState, id: JobId) {
    for _ in 0..4 {
        if run(state, id).await {
            return;
        }
        // Still unfinished a lease from now: someone holds it.
        let held = state
            .store
            .unfinished_jobs(now() + LEASE, 1000)
            .await
            .map(|ids| ids.contains(&id))
            .unwrap_or(false);
        if !held {
            return;
        }
        tokio::time::sleep(Duration::from_secs(45)).await;
    }
}

/// Runs the job to its end here, unless another runner holds it or it has finished;
/// whether it ran here.
pub async fn run(state: &AppState, id: JobId) -> bool {
    let Ok(_permit) = state.jobs.permits.clone().acquire_owned().await else {
        return false;
    };
    let at = now();
    let job = match state.store.claim_job(id, at, at + LEASE).await {
        Ok(Some(job)) => job,
        Ok(None) => return false,
        Err(e) => {
            tracing::error!(job = %id, "a job could not be claimed: {e}");
            return false;
        }
    };
    if job.attempts > MAX_ATTEMPTS {
        let outcome = failure(
            &job,
            ErrorCode::Internal,
            "the job stopped several times before it could finish".into(),
        );
        finish(state, &job, outcome).await;
        return true;
    }
    tracing::info!(job = %id, kind = job.kind.as_str(), attempt = job.attempts, "a job starts");
    let progress = Arc::new(Progress::default());
    let heartbeat = tokio::spawn(beat(state.clone(), id, progress.clone()));
    // On a task of its own, so a panic fails the job instead of leaving it running.
    let work = {
        let state = state.clone();
        let job = job.clone();
        let progress = progress.clone();
        tokio::spawn(async move { execute(&state, &job, &progress).await })
    };
    let ended = work.await;
    heartbeat.abort();
    let (done, total) = progress.get();
    let mut outcome = match ended {
        Ok(Ok(finished)) => JobOutcome {
            status: JobStatus::Done,
            done: done as i64,
            total: total as i64,
            result: Some(finished.result.to_string()),
            error_code: None,
            error_message: None,
            output_key: finished.output.as_ref().map(|o| o.key.clone()),
            output_name: finished.output.as_ref().map(|o| o.name.clone()),
            output_type: finished.output.as_ref().map(|o| o.content_type.to_string()),
            finished_at: now(),
        },
        Ok(Err(PortError::Refused(message))) => failure(&job, ErrorCode::ValidationFailed, message),
        Ok(Err(PortError::Conflict(message))) => failure(&job, ErrorCode::Conflict, message),
        Ok(Err(PortError::Internal(e))) => {
            tracing::error!(job = %id, "a job failed: {e:#}");
            failure(
                &job,
                ErrorCode::Internal,
                "the job failed on the server; try again".into(),
            )
        }
        Err(e) => {
            tracing::error!(job = %id, "a job panicked: {e}");
            failure(
                &job,
                ErrorCode::Internal,
                "the job failed on the server; try again".into(),
            )
        }
    };
    if outcome.status == JobStatus::Failed {
        outcome.done = done as i64;
        outcome.total = total as i64;
    }
    finish(state, &job, outcome).await;
    true
}

async fn finish(state: &AppState, job: &JobRow, outcome: JobOutcome) {
    tracing::info!(job = %job.id, status = outcome.status.as_str(), "a job ended");
    // An import or a restore may have added locations.
    state.access.forget_tree(job.household_id);
    if let Err(e) = state.store.finish_job(job.id, &outcome).await {
        tracing::error!(job = %job.id, "a job's end could not be written: {e}");
    }
    // The uploaded file is read; nothing needs it any more, unless this was a dry run that
    // the person may still confirm (the sweep removes it with the job).
    let dry_run = is_dry_run(job);
    if let Some(key) = job.input_key.as_ref().filter(|_| !dry_run)
        && let Err(e) = state.blobs.delete(std::slice::from_ref(key)).await
    {
        tracing::warn!(job = %job.id, "an import's upload could not be removed: {e:#}");
    }
}

/// Writes the progress and renews the lease until aborted.
async fn beat(state: AppState, id: JobId, progress: Arc<Progress>) {
    let mut last = (u64::MAX, u64::MAX);
    let mut ticks = 0u32;
    loop {
        tokio::time::sleep(HEARTBEAT).await;
        ticks += 1;
        let now_progress = progress.get();
        // The lease is renewed at least every 30 s even when nothing moved.
        if now_progress == last && !ticks.is_multiple_of(15) {
            continue;
        }
        last = now_progress;
        let (done, total) = now_progress;
        if let Err(e) = state
            .store
            .job_progress(id, done as i64, total as i64, now() + LEASE)
            .await
        {
            tracing::warn!(job = %id, "a job's progress could not be written: {e}");
        }
    }
}

fn failure(job: &JobRow, code: ErrorCode, message: String) -> JobOutcome {
    JobOutcome {
        status: JobStatus::Failed,
        done: job.done,
        total: job.total,
        result: None,
        error_code: Some(code_str(code)),
        error_message: Some(message),
        output_key: None,
        output_name: None,
        output_type: None,
        finished_at: now(),
    }
}

/// The code as the error body writes it (`validation_failed`).
fn code_str(code: ErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "internal".into(),
    }
}

/// A file a job made.
pub struct Output {
    pub key: String,
    pub name: String,
    pub content_type: &'static str,
}

/// What a job that succeeded leaves.
pub struct Finished {
    pub result: serde_json::Value,
    pub output: Option<Output>,
}

async fn execute(
    state: &AppState,
    job: &JobRow,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let params: serde_json::Value =
        serde_json::from_str(&job.params).map_err(|e| PortError::Internal(e.into()))?;
    match job.kind {
        JobKind::ExportCsv => csv_export::run(state, job, &params, progress).await,
        JobKind::ImportCsv => csv_import::run(state, job, &params, progress).await,
        JobKind::Backup => backup(state, job, progress).await,
        JobKind::Restore => restore(state, job, progress).await,
        JobKind::InsuranceReport => {
            crate::reports::insurance_report(state, job, &params, progress).await
        }
        JobKind::ClaimPack => crate::reports::claim_pack(state, job, &params, progress).await,
        JobKind::BulkEdit => bulk_edit::run(state, job, &params, progress).await,
    }
}

async fn backup(
    state: &AppState,
    job: &JobRow,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("backup.zip");
    let summary = crate::portability::backup::write_backup(
        &state.store,
        &state.blobs,
        job.household_id,
        &path,
        progress,
    )
    .await?;
    let output = save_output(state, job, &path, "backup.zip", "application/zip").await?;
    Ok(Finished {
        result: serde_json::to_value(summary).map_err(|e| PortError::Internal(e.into()))?,
        output: Some(output),
    })
}

async fn restore(
    state: &AppState,
    job: &JobRow,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("restore.zip");
    fetch_input(state, job, &path).await?;
    if is_dry_run(job) {
        let summary = crate::portability::backup::check_backup(
            &state.store,
            job.household_id,
            &path,
            progress,
        )
        .await?;
        let mut result =
            serde_json::to_value(summary).map_err(|e| PortError::Internal(e.into()))?;
        result["dry_run"] = true.into();
        return Ok(Finished {
            result,
            output: None,
        });
    }
    let summary = crate::portability::backup::restore_backup(
        &state.store,
        &state.blobs,
        job.household_id,
        job.user_id,
        &path,
        progress,
    )
    .await?;
    Ok(Finished {
        result: serde_json::to_value(summary).map_err(|e| PortError::Internal(e.into()))?,
        output: None,
    })
}

/// A job's parameters, read into the type its kind stored them as.
pub fn params<T: serde::de::DeserializeOwned>(params: &serde_json::Value) -> Result<T, PortError> {
    T::deserialize(params).map_err(|e| PortError::Internal(e.into()))
}

/// The household and role of whoever started `job`, asked again when it runs: they may
/// have left the household, or become a viewer, since.
pub async fn starter(
    state: &AppState,
    job: &JobRow,
) -> Result<(crate::store::HouseholdRow, shared::Role), PortError> {
    state
        .store
        .membership(job.household_id, job.user_id)
        .await?
        .ok_or_else(|| PortError::Refused("you are no longer a member of this household".into()))
}

/// Whether the job is an import's dry run (it reads its file and writes nothing).
fn is_dry_run(job: &JobRow) -> bool {
    serde_json::from_str::<serde_json::Value>(&job.params).is_ok_and(|p| p["dry_run"] == true)
}

/// The key of a file a job makes.
pub fn output_key(household: HouseholdId, job: JobId, name: &str) -> String {
    format!("jobs/{household}/{job}/{name}")
}

/// The key an import's file is uploaded to.
pub fn input_key(household: HouseholdId, id: uuid::Uuid) -> String {
    format!("imports/{household}/{id}")
}

/// Puts the file at `path` into the attachment store as the job's output.
pub async fn save_output(
    state: &AppState,
    job: &JobRow,
    path: &std::path::Path,
    name: &str,
    content_type: &'static str,
) -> Result<Output, PortError> {
    let key = output_key(job.household_id, job.id, name);
    state.blobs.put_file(&key, path, content_type).await?;
    Ok(Output {
        key,
        name: name.to_string(),
        content_type,
    })
}

/// Copies the job's uploaded file to `path`.
pub async fn fetch_input(
    state: &AppState,
    job: &JobRow,
    path: &std::path::Path,
) -> Result<u64, PortError> {
    let key = job
        .input_key
        .as_deref()
        .ok_or_else(|| PortError::Internal(anyhow::anyhow!("the job has no file to read")))?;
    let Some(mut reader) = state.blobs.reader(key).await? else {
        return Err(PortError::Refused(
            "the uploaded file is gone (files are kept for a week); upload it again".into(),
        ));
    };
    let mut file = tokio::fs::File::create(path).await?;
    let n = tokio::io::copy(&mut reader, &mut file).await?;
    tokio::io::AsyncWriteExt::flush(&mut file).await?;
    Ok(n)
}

/// The job as the API shows it, with a fresh download address for its file.
pub async fn job_dto(state: &AppState, row: JobRow) -> anyhow::Result<Job> {
    let download_url = match (&row.output_key, row.status) {
        (Some(key), JobStatus::Done) => {
            let name = row.output_name.as_deref().unwrap_or("download");
            let disposition = format!(
                "attachment; filename=\"{name}\"; filename*=UTF-8''{}",
                crate::blob::percent_encode(name)
            );
            Some(
                state
                    .blobs
                    .download_url(
                        key,
                        row.output_type
                            .as_deref()
                            .unwrap_or("application/octet-stream"),
                        &disposition,
                        UrlWindow::around(now()),
                    )
                    .await?,
            )
        }
        _ => None,
    };
    Ok(Job {
        id: row.id,
        kind: row.kind,
        status: row.status,
        progress: JobProgress {
            done: row.done.max(0) as u64,
            total: row.total.max(0) as u64,
        },
        result: row
            .result
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok()),
        error: match (row.error_code, row.error_message) {
            (Some(code), Some(message)) => Some(JobError { code, message }),
            _ => None,
        },
        download_url,
        created_at: row.created_at,
        finished_at: row.finished_at,
    })
}

/// Self-hosted: runs what was left unfinished when the server stopped, then every minute
/// takes any job whose runner went away, and removes finished jobs older than
/// [`KEEP_FINISHED`] with their files.
pub fn sweep_forever(state: AppState) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = sweep(&state).await {
                tracing::warn!("the job sweep failed: {e}");
            }
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
    });
}

/// One pass of [`sweep_forever`].
pub async fn sweep(state: &AppState) -> StoreResult<()> {
    let at = now();
    for id in state.store.unfinished_jobs(at, 20).await? {
        spawn(state.clone(), id);
    }
    let old = state.store.old_jobs(at - KEEP_FINISHED, 100).await?;
    if old.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = old
        .iter()
        .flat_map(|j| [j.output_key.clone(), j.input_key.clone()])
        .flatten()
        .collect();
    if !keys.is_empty()
        && let Err(e) = state.blobs.delete(&keys).await
    {
        tracing::warn!("files of old jobs could not be removed: {e:#}");
        return Ok(());
    }
    let ids: Vec<JobId> = old.iter().map(|j| j.id).collect();
    state.store.delete_jobs(&ids).await
}

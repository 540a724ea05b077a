//! Following a job on the server (an export, an import, a report, a large bulk change):
//! reading it every second until it stops, and showing how far it is or why it failed.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use shared::{ErrorBody, ErrorCode, HouseholdId, Job, JobId, JobStatus};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use crate::api::{self, ApiResult};
use crate::components::ErrorAlert;
use crate::format;

pub async fn sleep(ms: u32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        gloo_timers::callback::Timeout::new(ms, move || {
            let _ = resolve.call0(&JsValue::NULL);
        })
        .forget();
    });
    let _ = JsFuture::from(wait).await;
}

/// Whether the component that asked is still shown: `false` once it is gone, so that what it
/// follows stops.
#[hook]
pub fn use_shown() -> Rc<RefCell<bool>> {
    let shown = use_mut_ref(|| true);
    {
        let shown = shown.clone();
        use_effect_with((), move |()| move || *shown.borrow_mut() = false);
    }
    shown
}

/// Reads job `id` every second, giving each reading to `on_read`, until the job stops or the
/// component following it is gone (`shown` false). A moment without the network is waited
/// out; any other error ends the following and is returned.
pub async fn follow(
    hid: HouseholdId,
    id: JobId,
    shown: &RefCell<bool>,
    on_read: &dyn Fn(Job),
) -> ApiResult<()> {
    while *shown.borrow() {
        match api::job(hid, id).await {
            Ok(job) => {
                let finished = job.status.is_finished();
                on_read(job);
                if finished {
                    return Ok(());
                }
            }
            Err(e) if e.error.code == ErrorCode::Network => {}
            Err(e) => return Err(e),
        }
        sleep(1000).await;
    }
    Ok(())
}

/// A failed job's reason, as the alert shows errors.
pub fn failure(job: &Job) -> Option<ErrorBody> {
    let error = job.error.as_ref()?;
    let code = serde_json::from_value(error.code.clone().into()).unwrap_or(ErrorCode::Internal);
    Some(ErrorBody::new(code, error.message.clone()))
}

/// What is under way ("Exporting… 1,200 of 5,000"), with its bar: `done` of `total`, or
/// moving when how much is left is not known yet.
pub fn progress(text: String, done: u64, total: u64) -> Html {
    html! {
        <div class="job-progress">
            <p role="status">{ text.clone() }</p>
            <progress max={(total > 0).then(|| total.to_string())}
                value={(total > 0).then(|| done.to_string())} aria-label={text} />
        </div>
    }
}

/// A running job's progress, or why it failed.
pub fn job_state(job: &Job, doing: &str) -> Html {
    let (done, total) = (job.progress.done, job.progress.total);
    match job.status {
        JobStatus::Queued | JobStatus::Running if total > 0 => progress(
            format!(
                "{doing}… {} of {}",
                format::group(done as i64),
                format::group(total as i64)
            ),
            done,
            total,
        ),
        JobStatus::Queued | JobStatus::Running => progress(format!("{doing}…"), 0, 0),
        JobStatus::Failed => html! { <ErrorAlert error={failure(job)} /> },
        JobStatus::Done => html! {},
    }
}

/// A number in a finished job's `result`: an import's `created`, an export's `items`.
pub fn number(job: &Job, key: &str) -> u64 {
    job.result
        .as_ref()
        .and_then(|r| r.get(key))
        .and_then(Value::as_u64)
        .unwrap_or(0)
}

/// Whether the job is still under way.
pub fn running(job: &Option<Job>) -> bool {
    job.as_ref().is_some_and(|j| !j.status.is_finished())
}

/// The job, once it is done.
pub fn done(job: &Option<Job>) -> Option<Job> {
    job.clone().filter(|j| j.status == JobStatus::Done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_job_is_shown_with_its_code() {
        let mut job: Job = serde_json::from_value(serde_json::json!({
            "id": "0192f0c4-5b1a-7cc0-8000-000000000003", "kind": "import_csv",
            "status": "failed", "progress": {"done": 0, "total": 0}, "result": null,
            "error": null, "download_url": null, "created_at": "2025-01-01T10:00:00Z",
            "finished_at": null,
        }))
        .unwrap();
        assert_eq!(failure(&job), None);
        job.error = Some(shared::JobError {
            code: "validation_failed".into(),
            message: "the file has no name column".into(),
        });
        let error = failure(&job).unwrap();
        assert_eq!(error.error.code, ErrorCode::ValidationFailed);
        assert_eq!(error.error.message, "the file has no name column");
    }
}

//! Import & export: the items as a Homebox-compatible CSV file, the whole household as a
//! backup zip, and items brought in from a CSV file, checked row by row before anything is
//! written (or a backup restored into an empty household). Each is a job on the server,
//! followed here until it is done.
//!
//! A job's `result` ([`shared::ImportResult`] for an import) is read field by field where
//! it is shown rather than decoded into its type, which would add its decoding to the
//! bundle for a few numbers and a table.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use shared::{
    AnnounceImport, ErrorBody, ExportFormat, HouseholdId, ImportSource, Job, JobId, JobKind,
    MAX_IMPORT_BODY_BYTES, StartExport,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::{File, HtmlInputElement};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api::{self, ApiResult};
use crate::app::Route;
use crate::components::ErrorAlert;
use crate::components::job::{self, done, job_state, number, progress, running};
use crate::format;
use crate::hooks::use_title;

/// Rows of a report shown in its table; the rest are only counted.
const SHOWN_ROWS: usize = 200;

/// The three jobs the page follows.
#[derive(Clone, Copy, PartialEq)]
enum Slot {
    Export,
    /// The dry run of the file chosen.
    Check,
    /// The import that confirms the dry run.
    Import,
}

#[derive(Clone, Default)]
struct State {
    file: Option<File>,
    /// How much of a large file is uploaded, 0 to 1, while it is.
    sent: Option<f64>,
    /// A job is being started: its buttons wait for it.
    starting: bool,
    export: Option<Job>,
    check: Option<Job>,
    import: Option<Job>,
    export_error: Option<ErrorBody>,
    import_error: Option<ErrorBody>,
}

enum Action {
    Pick(Option<File>),
    Start(Slot),
    Sent(f64),
    Read(Slot, Job),
    Fail(Slot, ErrorBody),
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            Action::Pick(file) => {
                s = State {
                    file,
                    export: s.export,
                    export_error: s.export_error,
                    ..State::default()
                }
            }
            Action::Start(slot) => {
                s.starting = true;
                match slot {
                    Slot::Export => (s.export, s.export_error) = (None, None),
                    Slot::Check => (s.check, s.import, s.import_error) = (None, None, None),
                    Slot::Import => (s.import, s.import_error) = (None, None),
                }
            }
            Action::Sent(part) => s.sent = Some(part),
            Action::Read(slot, job) => {
                (s.starting, s.sent) = (false, None);
                *match slot {
                    Slot::Export => &mut s.export,
                    Slot::Check => &mut s.check,
                    Slot::Import => &mut s.import,
                } = Some(job);
            }
            Action::Fail(slot, error) => {
                (s.starting, s.sent) = (false, None);
                *if slot == Slot::Export {
                    &mut s.export_error
                } else {
                    &mut s.import_error
                } = Some(error);
            }
        }
        s.into()
    }
}

/// What a button asks the server for.
enum Request {
    Export(ExportFormat),
    /// A dry run of the file chosen.
    Check(File),
    /// The import that confirms a dry run.
    Import(JobId),
}

/// Starts the job `request` asks for, then follows it until it stops, or until the page is
/// gone (`shown_here` false).
async fn run(
    hid: HouseholdId,
    request: Request,
    dispatch: UseReducerDispatcher<State>,
    shown_here: Rc<RefCell<bool>>,
) {
    let (slot, started) = match request {
        Request::Export(format) => {
            let body = StartExport {
                format,
                ..StartExport::default()
            };
            (Slot::Export, api::start_export(hid, &body).await)
        }
        Request::Check(file) => (Slot::Check, check(hid, file, &dispatch).await),
        Request::Import(from) => {
            let source = ImportSource {
                from_job: Some(from),
                ..ImportSource::default()
            };
            (Slot::Import, api::import_from(hid, false, &source).await)
        }
    };
    let id = match started {
        Ok(id) => id,
        Err(e) => return dispatch.dispatch(Action::Fail(slot, e)),
    };
    let read = |job| dispatch.dispatch(Action::Read(slot, job));
    if let Err(e) = job::follow(hid, id, &shown_here, &read).await {
        dispatch.dispatch(Action::Fail(slot, e));
    }
}

/// "3 to create, 1 to update, 2 unchanged, 1 refused" (a dry run), or "3 created, …".
fn counts(job: &Job, dry_run: bool) -> String {
    let [created, updated] = if dry_run {
        ["to create", "to update"]
    } else {
        ["created", "updated"]
    };
    [
        ("created", created),
        ("updated", updated),
        ("unchanged", "unchanged"),
        ("refused", "refused"),
    ]
    .iter()
    .map(|(key, what)| format!("{} {what}", format::group(number(job, key) as i64)))
    .collect::<Vec<_>>()
    .join(", ")
}

/// The type the server reads a file as, from its name or the type the browser gives it: a
/// zip is a backup, anything else delimited text.
fn content_type(file: &File) -> &'static str {
    let name = file.name().to_ascii_lowercase();
    if name.ends_with(".zip") || file.type_().contains("zip") {
        "application/zip"
    } else if name.ends_with(".tsv") {
        "text/tab-separated-values"
    } else {
        "text/csv"
    }
}

/// Starts a dry run of `file`: as the request's body, or announced and uploaded first when
/// it is too large for one (the page hears how far the upload is).
async fn check(
    hid: HouseholdId,
    file: File,
    dispatch: &UseReducerDispatcher<State>,
) -> ApiResult<JobId> {
    let content_type = content_type(&file);
    let size = file.size() as u64;
    // Four fifths of the API's limit: on AWS a binary body reaches Lambda base64-encoded,
    // and Lambda takes 6 MB a request.
    if size <= MAX_IMPORT_BODY_BYTES as u64 * 4 / 5 {
        return api::import_file(hid, true, &file, content_type).await;
    }
    let announce = AnnounceImport {
        content_type: content_type.into(),
        size,
    };
    let target = api::announce_import(hid, &announce).await?;
    let dispatch = dispatch.clone();
    let sent = Callback::from(move |part| dispatch.dispatch(Action::Sent(part)));
    api::upload(&target.upload, &file, sent).await?;
    let source = ImportSource {
        upload_id: Some(target.upload_id),
        content_type: Some(content_type.into()),
        ..ImportSource::default()
    };
    api::import_from(hid, true, &source).await
}

#[function_component(ImportExport)]
pub fn import_export(props: &HouseholdProps) -> Html {
    use_title("Import & export");
    let hid = props.household.id;
    let state = use_reducer(State::default);
    let shown_here = job::use_shown();

    let busy = state.starting
        || state.sent.is_some()
        || running(&state.export)
        || running(&state.check)
        || running(&state.import);

    let go = {
        let (dispatch, shown_here) = (state.dispatcher(), shown_here.clone());
        Callback::from(move |request: Request| {
            dispatch.dispatch(Action::Start(match request {
                Request::Export(_) => Slot::Export,
                Request::Check(_) => Slot::Check,
                Request::Import(_) => Slot::Import,
            }));
            spawn_local(run(hid, request, dispatch.clone(), shown_here.clone()));
        })
    };
    let start_export =
        |format: ExportFormat| go.reform(move |_: MouseEvent| Request::Export(format));
    let on_pick = {
        let dispatch = state.dispatcher();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            dispatch.dispatch(Action::Pick(input.files().and_then(|f| f.get(0))));
        })
    };
    let on_check = {
        let (go, file) = (go.clone(), state.file.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(file) = file.clone() {
                go.emit(Request::Check(file));
            }
        })
    };
    let on_import = {
        let (go, from) = (go.clone(), state.check.as_ref().map(|j| j.id));
        Callback::from(move |_: MouseEvent| {
            if let Some(from) = from {
                go.emit(Request::Import(from));
            }
        })
    };

    let backup = state
        .export
        .as_ref()
        .is_some_and(|j| j.kind == JobKind::Backup);
    let restore = state
        .file
        .as_ref()
        .is_some_and(|f| content_type(f) == "application/zip");
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ props.household.name.clone() }</p>
                    <h1>{ "Import & export" }</h1>
                    <p class="muted">
                        { "Take your inventory to a spreadsheet or another app, keep a backup, or bring items in from a file." }
                    </p>
                </div>
            </header>
            <section class="card transfer" aria-labelledby="export-heading">
                <h2 id="export-heading">{ "Export" }</h2>
                <p class="muted">
                    { "A CSV file of the items opens in any spreadsheet and imports into Homebox. A backup is a zip of everything: items, locations, photos and documents, to restore into an empty household." }
                </p>
                <div class="row-actions">
                    <button type="button" class="button button-primary" disabled={busy}
                        onclick={start_export(ExportFormat::Csv)}>{ "Export CSV" }</button>
                    <button type="button" class="button button-secondary" disabled={busy}
                        onclick={start_export(ExportFormat::Backup)}>{ "Make a backup" }</button>
                </div>
                if let Some(job) = &state.export {
                    { job_state(job, if backup { "Backing up" } else { "Exporting" }) }
                }
                if let Some(job) = done(&state.export) {
                    <p class="job-done">
                        <span role="status">
                            { format!("{} exported.", format::count(number(&job, "items") as i64, "item", "items")) }
                        </span>
                        <a class="button button-primary" href={job.download_url.clone()} download="">
                            { if backup { "Download backup" } else { "Download CSV" } }
                        </a>
                    </p>
                }
                <ErrorAlert error={state.export_error.clone()} />
            </section>
            if props.household.role.can_write() {
                <section class="card transfer" aria-labelledby="import-heading">
                    <h2 id="import-heading">{ "Import" }</h2>
                    <p class="muted">
                        { "A CSV or tab-separated file: one exported from here or from Homebox, or your own spreadsheet with a “name” column. Checking it changes nothing: you see what would happen first." }
                    </p>
                    <div class="field">
                        <label for="import-file">{ "File to import" }</label>
                        <input id="import-file" type="file" class="file-pick" accept=".csv,.tsv,.txt,.zip"
                            onchange={on_pick} disabled={busy} aria-describedby="import-file-hint" />
                        <p class="field-hint" id="import-file-hint">{ "CSV, TSV, or a backup (.zip)." }</p>
                    </div>
                    if restore {
                        <p class="alert alert-warn">{ "This restores a backup into this household (it must be empty)." }</p>
                    }
                    <div class="row-actions">
                        <button type="button" class="button button-secondary" onclick={on_check}
                            disabled={state.file.is_none() || busy}>{ "Check file" }</button>
                    </div>
                    if let Some(part) = state.sent {
                        { progress(format!("Uploading… {}%", (part * 100.0).round()), (part * 100.0) as u64, 100) }
                    }
                    if let Some(job) = &state.check {
                        { job_state(job, "Checking") }
                    }
                    if let Some(job) = done(&state.check) {
                        { check_report(&job, state.import.is_none() && !busy, on_import) }
                    }
                    if let Some(job) = &state.import {
                        { job_state(job, if restore { "Restoring" } else { "Importing" }) }
                    }
                    if let Some(job) = done(&state.import) {
                        <p class="job-done" role="status">
                            <strong>
                                { if job.kind == JobKind::Restore {
                                    format!("Restored: {}.", format::count(number(&job, "items") as i64, "item", "items"))
                                } else {
                                    format!("Imported: {}.", counts(&job, false))
                                } }
                            </strong>
                            <Link<Route> to={Route::Items}>{ "See the items" }</Link<Route>>
                        </p>
                    }
                    <ErrorAlert error={state.import_error.clone()} />
                </section>
            }
        </section>
    }
}

/// What a finished dry run found, and the button that imports it (while `can_confirm`).
fn check_report(job: &Job, can_confirm: bool, on_import: Callback<MouseEvent>) -> Html {
    let list = |key: &str| {
        job.result
            .as_ref()
            .and_then(|r| r.get(key))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    let text = |value: &Value, key: &str| {
        value
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    if job.kind == JobKind::Restore {
        let holds = format!(
            "The backup holds {}, {} and {}, and can be restored.",
            format::count(number(job, "items") as i64, "item", "items"),
            format::count(number(job, "locations") as i64, "location", "locations"),
            format::count(number(job, "attachments") as i64, "file", "files"),
        );
        return html! {
            <div class="import-report">
                <p role="status">{ holds }</p>
                if can_confirm {
                    <button type="button" class="button button-primary" onclick={on_import}>{ "Restore the backup" }</button>
                }
            </div>
        };
    }
    let rows = list("rows");
    let new_locations: Vec<&str> = list("new_locations")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let to_write = number(job, "created") + number(job, "updated");
    html! {
        <div class="import-report">
            <h3>{ "What the file would do" }</h3>
            <p role="status"><strong>{ format!("{}.", counts(job, true)) }</strong></p>
            if !new_locations.is_empty() {
                <p>{ format!("New locations: {}", new_locations.join(", ")) }</p>
            }
            if !rows.is_empty() {
                <div class="table-scroll" role="region" aria-labelledby="import-rows" tabindex="0">
                    <table class="report-table">
                        <caption id="import-rows">
                            { if rows.len() > SHOWN_ROWS {
                                format!("The first {SHOWN_ROWS} rows of the file")
                            } else {
                                "Rows of the file".to_string()
                            } }
                        </caption>
                        <thead>
                            <tr>
                                <th scope="col">{ "Line" }</th>
                                <th scope="col">{ "Name" }</th>
                                <th scope="col">{ "What happens" }</th>
                                <th scope="col">{ "Reason" }</th>
                            </tr>
                        </thead>
                        <tbody>
                            { for rows.iter().take(SHOWN_ROWS).map(|row| {
                                let (action, refused) = match text(row, "action").as_str() {
                                    "create" => ("Create", false),
                                    "update" => ("Update", false),
                                    "unchanged" => ("Unchanged", false),
                                    _ => ("Refused", true),
                                };
                                html! {
                                    <tr class={refused.then_some("refused")}>
                                        <td>{ row.get("line").and_then(Value::as_u64).unwrap_or_default() }</td>
                                        <td>{ text(row, "name") }</td>
                                        <td>{ action }</td>
                                        <td>{ text(row, "message") }</td>
                                    </tr>
                                }
                            }) }
                        </tbody>
                    </table>
                </div>
            }
            if can_confirm && to_write > 0 {
                <button type="button" class="button button-primary" onclick={on_import}>
                    { format!("Import {}", format::count(to_write as i64, "item", "items")) }
                </button>
            } else if can_confirm {
                <p class="muted">{ "Nothing in the file to import." }</p>
            }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(status: &str, result: Value) -> Job {
        serde_json::from_value(serde_json::json!({
            "id": "0192f0c4-5b1a-7cc0-8000-000000000003", "kind": "import_csv", "status": status,
            "progress": {"done": 7, "total": 7}, "result": result, "error": null,
            "download_url": null, "created_at": "2025-01-01T10:00:00Z", "finished_at": null,
        }))
        .unwrap()
    }

    #[test]
    fn counts_read_as_what_would_happen_then_as_what_did() {
        let job = import(
            "done",
            serde_json::json!({"dry_run": true, "created": 3, "updated": 1, "unchanged": 2,
                "refused": 1, "errors": [], "rows": [], "new_locations": []}),
        );
        assert_eq!(
            counts(&job, true),
            "3 to create, 1 to update, 2 unchanged, 1 refused"
        );
        assert_eq!(
            counts(&job, false),
            "3 created, 1 updated, 2 unchanged, 1 refused"
        );
    }
}

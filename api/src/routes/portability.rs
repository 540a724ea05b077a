//! Import and export: `POST …/exports` (CSV or the full backup) and `POST …/imports` (CSV,
//! or a backup restored into an empty household) start background jobs (`crate::jobs`),
//! followed with `GET …/jobs/{id}`.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use serde::Deserialize;
use shared::{
    AnnounceImport, ErrorBody, ExportFormat, HouseholdId, ImportSource, ImportUpload, JobKind,
    JobStarted, MAX_IMPORT_BODY_BYTES, MAX_IMPORT_BYTES, StartExport, UploadTarget,
};
use time::Duration;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::jobs::{self, NewJob};
use crate::store::{ItemQuery, now};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(start_export))
        .routes(routes!(start_import))
        .routes(routes!(announce_import))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/exports",
    tag = "Import and export",
    summary = "Export items as CSV, or the whole household as a backup",
    description = "Starts a job. `csv`: the live items (those `q`, `location_id` and `tag` pick, \
        as in the item list) with Homebox's `HB.*` columns, UTF-8 with a byte order mark. \
        `backup`: a zip with every record and every attachment's file, and a manifest with \
        each file's SHA-256. When the job is done, its `download_url` gives the file. Viewers \
        may export.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = StartExport,
    responses(
        (status = 202, description = "The job, queued", body = JobStarted),
        (status = 404, description = "No such household or location", body = ErrorBody),
    ),
)]
async fn start_export(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<StartExport>,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    auth::member(&state, &user, hid).await?;
    if let Some(location) = body.location_id {
        let owner = state.store.location_owner(location).await?;
        if owner != Some(hid) {
            return Err(ApiError::not_found("location"));
        }
    }
    let (kind, params) = match body.format {
        ExportFormat::Csv => (
            JobKind::ExportCsv,
            serde_json::json!({"q": body.q, "location_id": body.location_id, "tag": body.tag}),
        ),
        ExportFormat::Backup => (JobKind::Backup, serde_json::json!({})),
    };
    started(&state, &user, hid, kind, params, None).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportParams {
    /// `true`: read the file and report what would happen, writing nothing.
    #[serde(default)]
    #[param(value_type = Option<bool>)]
    dry_run: Option<String>,
}

/// A file's bytes, as they are.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary, min_length = 1)]
#[allow(dead_code)]
struct FileBody(Vec<u8>);

#[utoipa::path(
    post,
    path = "/households/{hid}/imports",
    tag = "Import and export",
    summary = "Import a CSV file, or restore a backup",
    description = "The file is the body (`text/csv`, `text/tab-separated-values`, or \
        `application/zip` for a backup; up to 5 MB). Larger files are announced with \
        `POST …/imports/uploads`, uploaded, and named here with a JSON body \
        `{\"upload_id\", \"content_type\"}`; `{\"from_job\"}` reuses the file of an earlier \
        dry run. Starts a job whose `result` reports, row by row with line numbers, what was \
        (or, with `dry_run=true`, would be) created, updated, unchanged and refused. A backup \
        restores only into a household with no items and no locations (409 otherwise).",
    params(("hid" = HouseholdId, Path, description = "The household"), ImportParams),
    request_body(content = inline(FileBody), description = "The file, or a JSON `ImportSource`",
        content_type = "text/csv"),
    responses(
        (status = 202, description = "The job, queued", body = JobStarted),
        (status = 400, description = "`dry_run` is not true or false, or the JSON body names \
            neither an upload nor a job", body = ErrorBody),
        (status = 403, description = "Viewers and read-only tokens can't import", body = ErrorBody),
        (status = 404, description = "No such household, or no such earlier job", body = ErrorBody),
        (status = 409, description = "A backup restores only into an empty household",
            body = ErrorBody),
        (status = 413, description = "More than 5 MB in the body; announce and upload it",
            body = ErrorBody),
        (status = 415, description = "Neither CSV, tab-separated text nor a zip",
            body = ErrorBody),
        (status = 422, description = "An empty file", body = ErrorBody),
    ),
)]
async fn start_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    auth::editor(&state, &user, hid).await?;
    let dry_run = match params.dry_run.as_deref().map(str::trim) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::BadRequest("dry_run must be true or false".into())),
    };
    let content_type = essence(&headers);
    let (kind, input_key) = if content_type == "application/json" {
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| ApiError::PayloadTooLarge("the JSON body is too large".into()))?;
        let source: ImportSource = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::BadRequest(format!("the JSON body is not valid: {e}")))?;
        from_source(&state, &user, hid, source).await?
    } else {
        let kind = kind_of(&content_type)?;
        let bytes = axum::body::to_bytes(body, MAX_IMPORT_BODY_BYTES)
            .await
            .map_err(|_| {
                ApiError::PayloadTooLarge(
                    "files over 5 MB are announced with POST …/imports/uploads and uploaded".into(),
                )
            })?;
        if bytes.is_empty() {
            return Err(ApiError::field("file", "the file is empty"));
        }
        let key = jobs::input_key(hid, uuid::Uuid::now_v7());
        state
            .blobs
            .put(&key, bytes.to_vec(), &content_type)
            .await
            .map_err(ApiError::Internal)?;
        (kind, key)
    };
    if kind == JobKind::Restore {
        require_empty(&state, hid).await?;
    }
    started(
        &state,
        &user,
        hid,
        kind,
        serde_json::json!({"dry_run": dry_run}),
        Some(input_key),
    )
    .await
}

#[utoipa::path(
    post,
    path = "/households/{hid}/imports/uploads",
    tag = "Import and export",
    summary = "Announce a large import file",
    description = "For files over 5 MB (a backup with its photos): answers where to `PUT` the \
        bytes, then `POST …/imports` with `{\"upload_id\", \"content_type\"}` starts the import.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = AnnounceImport,
    responses(
        (status = 201, description = "Where to upload", body = ImportUpload),
        (status = 403, description = "Viewers and read-only tokens can't import", body = ErrorBody),
        (status = 415, description = "Neither CSV, tab-separated text nor a zip",
            body = ErrorBody),
        (status = 422, description = "An empty file, or one larger than 20 GiB", body = ErrorBody),
    ),
)]
async fn announce_import(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<AnnounceImport>,
) -> ApiResult<(StatusCode, Json<ImportUpload>)> {
    auth::editor(&state, &user, hid).await?;
    let content_type = body
        .content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    kind_of(&content_type)?;
    if body.size == 0 {
        return Err(ApiError::field("size", "the file is empty"));
    }
    if body.size > MAX_IMPORT_BYTES {
        return Err(ApiError::field(
            "size",
            format!(
                "an import file may be at most {} GiB",
                MAX_IMPORT_BYTES >> 30
            ),
        ));
    }
    let upload_id = uuid::Uuid::now_v7();
    let expires_at = now() + Duration::hours(6);
    let upload = state
        .blobs
        .upload(
            &jobs::input_key(hid, upload_id),
            &content_type,
            body.size,
            expires_at,
        )
        .await
        .map_err(ApiError::Internal)?;
    Ok((
        StatusCode::CREATED,
        Json(ImportUpload {
            upload_id,
            upload: UploadTarget {
                url: upload.url,
                method: "PUT".into(),
                headers: upload.headers,
                expires_at,
            },
        }),
    ))
}

/// The job and the file a JSON body names.
async fn from_source(
    state: &AppState,
    user: &CurrentUser,
    hid: HouseholdId,
    source: ImportSource,
) -> ApiResult<(JobKind, String)> {
    match (source.from_job, source.upload_id) {
        (Some(id), None) => {
            let job = state
                .store
                .job(hid, id)
                .await?
                .filter(|j| j.user_id == user.user.id)
                .ok_or_else(|| ApiError::not_found("job"))?;
            let key = job
                .input_key
                .filter(|_| matches!(job.kind, JobKind::ImportCsv | JobKind::Restore))
                .ok_or_else(|| ApiError::BadRequest("that job read no file".into()))?;
            Ok((job.kind, key))
        }
        (None, Some(upload)) => {
            let content_type = source
                .content_type
                .as_deref()
                .unwrap_or("text/csv")
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            Ok((kind_of(&content_type)?, jobs::input_key(hid, upload)))
        }
        _ => Err(ApiError::BadRequest(
            "name either an upload (upload_id) or an earlier dry run (from_job)".into(),
        )),
    }
}

/// What kind of import a file type means.
fn kind_of(content_type: &str) -> ApiResult<JobKind> {
    match content_type {
        "text/csv"
        | "text/tab-separated-values"
        | "text/plain"
        | "application/csv"
        | "application/vnd.ms-excel" => Ok(JobKind::ImportCsv),
        "application/zip" | "application/x-zip-compressed" => Ok(JobKind::Restore),
        other => Err(ApiError::UnsupportedMediaType(format!(
            "imports take text/csv, text/tab-separated-values or application/zip (a backup), \
             not {other:?}"
        ))),
    }
}

fn essence(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// A backup restores only into a household with nothing in it.
async fn require_empty(state: &AppState, hid: HouseholdId) -> ApiResult<()> {
    let locations = state.store.locations(hid).await?;
    let any = |trashed| ItemQuery {
        trashed,
        limit: 1,
        ..Default::default()
    };
    let items = state.store.list_items(hid, &any(false)).await?;
    let trashed = state.store.list_items(hid, &any(true)).await?;
    if locations.is_empty() && items.is_empty() && trashed.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "a backup restores only into an empty household; make a new household for it".into(),
        ))
    }
}

async fn started(
    state: &AppState,
    user: &CurrentUser,
    hid: HouseholdId,
    kind: JobKind,
    params: serde_json::Value,
    input_key: Option<String>,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    let row = jobs::start(
        state,
        NewJob {
            household_id: hid,
            user_id: user.user.id,
            kind,
            params,
            input_key,
        },
    )
    .await
    .map_err(ApiError::Internal)?;
    let job = jobs::job_dto(state, row)
        .await
        .map_err(ApiError::Internal)?;
    Ok((StatusCode::ACCEPTED, Json(JobStarted { job })))
}

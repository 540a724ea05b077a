//! Background jobs as their starter sees them: `GET …/jobs/{id}` (status, progress, result,
//! a fresh download address) and `GET …/jobs` (their recent jobs). On AWS, the jobs function
//! also receives `POST /api/internal/jobs/{id}/run` here (`crate::jobs::invoke`).

use axum::Json;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::routing::post;
use shared::{ErrorBody, HouseholdId, Job, JobId, List};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppPath;
use crate::jobs;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_job))
        .routes(routes!(list_jobs))
}

/// The route the jobs function is invoked on; not part of the public API.
pub fn internal() -> axum::Router<AppState> {
    axum::Router::new().route("/internal/jobs/{id}/run", post(run_job))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/jobs/{id}",
    tag = "Jobs",
    summary = "Get a job",
    description = "Its status, `progress` (`done` of `total`), `result` once done, `error` if it \
        failed, and a short-lived `download_url` (no cookie needed) for the file it made. A job \
        is visible to the person who started it.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = JobId, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "The job", body = Job),
        (status = 404, description = "No such job", body = ErrorBody),
    ),
)]
async fn get_job(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, JobId)>,
) -> ApiResult<Json<Job>> {
    auth::member(&state, &user, hid).await?;
    let row = state
        .store
        .job(hid, id)
        .await?
        .filter(|j| j.user_id == user.user.id)
        .ok_or_else(|| ApiError::not_found("job"))?;
    Ok(Json(
        jobs::job_dto(&state, row)
            .await
            .map_err(ApiError::Internal)?,
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/jobs",
    tag = "Jobs",
    summary = "List your recent jobs",
    description = "The jobs you started in this household in the last week, newest first (at \
        most 50).",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses(
        (status = 200, description = "Your jobs", body = List<Job>),
        (status = 404, description = "No such household", body = ErrorBody),
    ),
)]
async fn list_jobs(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<Job>>> {
    auth::member(&state, &user, hid).await?;
    let rows = state.store.jobs_of(hid, user.user.id, 50).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(
            jobs::job_dto(&state, row)
                .await
                .map_err(ApiError::Internal)?,
        );
    }
    Ok(Json(List { items }))
}

/// Runs a job to its end in this invocation of the jobs function.
async fn run_job(
    State(state): State<AppState>,
    Path(id): Path<JobId>,
    request: Request,
) -> ApiResult<StatusCode> {
    if !jobs::invoke::is_job_event(&request) {
        return Err(ApiError::NotFound("no such API endpoint".into()));
    }
    jobs::run_invoked(&state, id).await;
    Ok(StatusCode::NO_CONTENT)
}

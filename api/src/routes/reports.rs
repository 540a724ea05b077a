//! Reports for insurers: `POST …/reports/insurance` (a PDF) and `POST …/reports/claim-pack`
//! (a zip) start background jobs (`crate::reports`), followed with `GET …/jobs/{id}`.
//! Making a report changes nothing, so viewers and read-only tokens may.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{
    ErrorBody, HouseholdId, ItemId, JobKind, JobStarted, MAX_CLAIM_PACK_ITEMS, StartClaimPack,
    StartInsuranceReport,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::jobs::{self, NewJob};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(start_insurance_report))
        .routes(routes!(start_claim_pack))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/reports/insurance",
    tag = "Reports",
    summary = "Make the insurance report (PDF)",
    description = "Starts a job that makes a PDF of the live items the filters pick (all of \
        them without filters): a cover with the household, the time it was made, the filter \
        in words, the item count, the total purchase price and estimated value (each piece's \
        price times the item's quantity, per currency) and how many items lack a value or a \
        photo; a summary by location whose rows link to each location's section; and every \
        item with its primary photo's thumbnail, brand and model, serial number, quantity, \
        purchase date and shop, price, estimated value, warranty end and the documents on \
        file. Every page ends with \"Page X of Y\". When the job is done, its `download_url` \
        gives the `application/pdf` file. Viewers and read-only tokens may make it.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = StartInsuranceReport,
    responses(
        (status = 202, description = "The job, queued", body = JobStarted),
        (status = 404, description = "No such household", body = ErrorBody),
        (status = 422, description = "A location that is not the household's, or a negative \
            least value", body = ErrorBody),
    ),
)]
async fn start_insurance_report(
    State(state): State<AppState>,
    Reader(user): Reader,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<StartInsuranceReport>,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    auth::member(&state, &user, hid).await?;
    if let Some(location) = body.location_id
        && state.store.location_owner(location).await? != Some(hid)
    {
        return Err(ApiError::field(
            "location_id",
            "is not a location of this household",
        ));
    }
    if body.min_value_minor.is_some_and(|m| m < 0) {
        return Err(ApiError::field("min_value_minor", "must not be negative"));
    }
    let params = serde_json::json!({
        "location_id": body.location_id,
        "tag": body.tag,
        "min_value_minor": body.min_value_minor,
    });
    started(&state, &user, hid, JobKind::InsuranceReport, params).await
}

#[utoipa::path(
    post,
    path = "/households/{hid}/reports/claim-pack",
    tag = "Reports",
    summary = "Make a claim pack (zip) of chosen items",
    description = "Starts a job that makes a zip for an insurance claim: `report.pdf`, the \
        insurance report of exactly these items ending with a printed list of the pack's \
        files and their SHA-256s; `files/<item>/<file name>`, the original of every photo and \
        document of the items, as uploaded; `manifest.json` with the household, the time, the \
        items and `files` (`path`, `sha256`, `size` of every other entry, the report \
        included); and `manifest.sha256`, the SHA-256 of `manifest.json` as `sha256sum -c` \
        reads it. When the job is done, its `download_url` gives the `application/zip` file. \
        Viewers and read-only tokens may make it.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = StartClaimPack,
    responses(
        (status = 202, description = "The job, queued", body = JobStarted),
        (status = 404, description = "No such household", body = ErrorBody),
        (status = 422, description = "No items, more than 10,000, or items that are not the \
            household's", body = ErrorBody),
    ),
)]
async fn start_claim_pack(
    State(state): State<AppState>,
    Reader(user): Reader,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<StartClaimPack>,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    auth::member(&state, &user, hid).await?;
    let mut seen = HashSet::new();
    let ids: Vec<ItemId> = body
        .item_ids
        .into_iter()
        .filter(|id| seen.insert(*id))
        .collect();
    if ids.is_empty() {
        return Err(ApiError::field("item_ids", "name at least one item"));
    }
    if ids.len() > MAX_CLAIM_PACK_ITEMS {
        return Err(ApiError::field(
            "item_ids",
            format!("a claim pack holds at most {MAX_CLAIM_PACK_ITEMS} items"),
        ));
    }
    let mut found = 0;
    for chunk in ids.chunks(500) {
        found += state.store.items_by_ids(hid, chunk).await?.len();
    }
    if found < ids.len() {
        let missing = ids.len() - found;
        return Err(ApiError::field(
            "item_ids",
            format!(
                "{missing} of these item{} {} not in this household",
                if missing == 1 { "" } else { "s" },
                if missing == 1 { "is" } else { "are" }
            ),
        ));
    }
    let params = serde_json::json!({ "item_ids": ids });
    started(&state, &user, hid, JobKind::ClaimPack, params).await
}

async fn started(
    state: &AppState,
    user: &auth::CurrentUser,
    hid: HouseholdId,
    kind: JobKind,
    params: serde_json::Value,
) -> ApiResult<(StatusCode, Json<JobStarted>)> {
    let row = jobs::start(
        state,
        NewJob {
            household_id: hid,
            user_id: user.user.id,
            kind,
            params,
            input_key: None,
        },
    )
    .await
    .map_err(ApiError::Internal)?;
    let job = jobs::job_dto(state, row)
        .await
        .map_err(ApiError::Internal)?;
    Ok((StatusCode::ACCEPTED, Json(JobStarted { job })))
}

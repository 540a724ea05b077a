//! Items' maintenance: schedules, the log, "Mark done", and the household's Maintenance and
//! Warranties overviews.
//!
//! Every change is written to the item's history in the same transaction, as an entry of
//! action `maintained` whose one field reads `maintenance: <title>` (logged),
//! `maintenance changed: <title>`, `maintenance removed: <title>`, `maintenance schedule:
//! <title>` (made), `maintenance schedule changed: <title>` or `maintenance schedule
//! removed: <title>`.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shared::{
    Action, AttachmentId, CreateEntry, CreateSchedule, DEFAULT_DONE_WITHIN_DAYS,
    DEFAULT_DUE_WITHIN_DAYS, Day, DoneEntry, DueSchedule, ErrorBody, FieldErrors, HouseholdId,
    ItemId, List, MAX_ENTRY_ATTACHMENTS, MAX_WINDOW_DAYS, MaintenanceEntry, MaintenanceEntryId,
    MaintenanceOverview, MaintenanceSchedule, MaintenanceScheduleId, MarkDone, MarkedDone, Money,
    ScheduleAnchor, UpdateEntry, UpdateSchedule, WarrantyItem, WarrantyList, parse_every,
    parse_maintenance_notes, parse_maintenance_title,
};
use time::{Date, Duration};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::items::live_item;
use super::locations::Tree;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, AppQuery, IfMatch, Tagged};
use crate::store::{
    ActivityRow, EntryRow, HouseholdRow, ScheduleRow, StoreError, WithItem, backoff, now,
};

/// Tries of an edit without `If-Match` that keeps meeting concurrent changes.
const EDIT_ATTEMPTS: u32 = 5;
/// The most rows of each list of the overviews.
const OVERVIEW_ROWS: usize = 200;
/// How far back the Warranties page lists warranties that have ended.
const ENDED_RECENTLY_DAYS: i64 = 30;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_schedules, create_schedule))
        .routes(routes!(update_schedule, delete_schedule))
        .routes(routes!(mark_done))
        .routes(routes!(list_entries, create_entry))
        .routes(routes!(update_entry, delete_entry))
        .routes(routes!(maintenance_overview))
        .routes(routes!(list_warranties))
}

fn schedule_dto(row: ScheduleRow) -> MaintenanceSchedule {
    MaintenanceSchedule {
        id: row.id,
        item_id: row.item_id,
        title: row.title,
        every: row.every,
        unit: row.unit,
        anchor: row.anchor,
        start_date: Day(row.start_date),
        last_done: row.last_done.map(Day),
        next_due: Day(row.next_due),
        notes: row.notes,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn entry_dto(row: EntryRow) -> MaintenanceEntry {
    MaintenanceEntry {
        id: row.id,
        item_id: row.item_id,
        schedule_id: row.schedule_id,
        date: Day(row.done_on),
        title: row.title,
        cost: row.cost,
        notes: row.notes,
        attachment_ids: row.attachment_ids,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    }
}

/// The history entry of a maintenance change: `maintenance: Replace the filter`.
fn activity(
    user: &CurrentUser,
    hid: HouseholdId,
    item: ItemId,
    what: &str,
    title: &str,
) -> ActivityRow {
    ActivityRow::new(
        hid,
        item,
        user.user.id,
        Action::Maintained,
        vec![format!("{what}: {title}")],
        now(),
    )
    .via(user.via_token())
}

/// Today in UTC, the day the server goes by when the request does not say its own.
fn utc_today() -> Date {
    now().date()
}

fn check_cost(cost: Option<&Money>, household: &HouseholdRow, errors: &mut FieldErrors) {
    let Some(cost) = cost else {
        return;
    };
    if let Err(e) = cost.check() {
        errors.insert("cost".into(), e);
    } else if cost.currency != household.currency {
        errors.insert(
            "cost".into(),
            format!(
                "must be in the household's currency, {}",
                household.currency
            ),
        );
    }
}

/// The files an entry names: each a file of the same item, at most 20, without repeats.
async fn check_attachments(
    state: &AppState,
    hid: HouseholdId,
    item: ItemId,
    ids: &[AttachmentId],
    errors: &mut FieldErrors,
) -> ApiResult<Vec<AttachmentId>> {
    let mut seen = HashSet::new();
    let ids: Vec<AttachmentId> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
    if ids.is_empty() {
        return Ok(ids);
    }
    if ids.len() > MAX_ENTRY_ATTACHMENTS {
        errors.insert(
            "attachment_ids".into(),
            format!("may name at most {MAX_ENTRY_ATTACHMENTS} files"),
        );
        return Ok(ids);
    }
    let files: HashSet<AttachmentId> = state
        .store
        .attachments(hid, item)
        .await?
        .into_iter()
        .map(|a| a.id)
        .collect();
    if ids.iter().any(|id| !files.contains(id)) {
        errors.insert("attachment_ids".into(), "must be files of this item".into());
    }
    Ok(ids)
}

/// A schedule of the item, else 404.
async fn schedule_of(
    state: &AppState,
    hid: HouseholdId,
    item: ItemId,
    sid: MaintenanceScheduleId,
) -> ApiResult<ScheduleRow> {
    match state.store.schedule(hid, sid).await? {
        Some(s) if s.item_id == item => Ok(s),
        _ => Err(ApiError::not_found("maintenance schedule")),
    }
}

/// A log entry of the item, else 404.
async fn entry_of(
    state: &AppState,
    hid: HouseholdId,
    item: ItemId,
    eid: MaintenanceEntryId,
) -> ApiResult<EntryRow> {
    match state.store.entry(hid, eid).await? {
        Some(e) if e.item_id == item => Ok(e),
        _ => Err(ApiError::not_found("maintenance entry")),
    }
}

fn is_retry(result: &Result<(), StoreError>, if_match: Option<i64>, attempt: u32) -> bool {
    matches!(result, Err(StoreError::Stale)) && if_match.is_none() && attempt < EDIT_ATTEMPTS
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}/maintenance/schedules",
    tag = "Maintenance",
    summary = "An item's maintenance schedules",
    description = "Soonest due first.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses(
        (status = 200, description = "The schedules", body = List<MaintenanceSchedule>),
        (status = 404, description = "No such item", body = ErrorBody),
    ),
)]
async fn list_schedules(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Json<List<MaintenanceSchedule>>> {
    auth::member(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let rows = state.store.schedules_of(hid, id).await?;
    Ok(Json(List {
        items: rows.into_iter().map(schedule_dto).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/maintenance/schedules",
    tag = "Maintenance",
    summary = "Make a maintenance schedule",
    description = "Every `every` days, weeks, months or years, counted from `start_date` \
        (`anchor: start`) or from the last time it was done (`anchor: last_done`). Months \
        and years end on the month's last day when it is shorter (Jan 31, Feb 28, Mar 31). \
        It is first due on `start_date`.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    request_body = CreateSchedule,
    responses(
        (status = 201, description = "Made", body = MaintenanceSchedule, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 422, description = "An empty or long title, `every` outside 1 to 999, \
            an unknown `unit` or `anchor`, or a date that is not one", body = ErrorBody),
    ),
)]
async fn create_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
    AppJson(body): AppJson<CreateSchedule>,
) -> ApiResult<Tagged<MaintenanceSchedule>> {
    auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let mut errors = FieldErrors::new();
    let title = parse_maintenance_title(&body.title)
        .map_err(|e| errors.insert("title".into(), e))
        .ok();
    let every = parse_every(body.every)
        .map_err(|e| errors.insert("every".into(), e))
        .ok();
    let notes = parse_maintenance_notes(body.notes.as_deref().unwrap_or_default())
        .map_err(|e| errors.insert("notes".into(), e))
        .ok();
    let (Some(title), Some(every), Some(notes), true) = (title, every, notes, errors.is_empty())
    else {
        return Err(ApiError::Validation(errors));
    };
    let at = now();
    let start = body.start_date.map_or_else(utc_today, |d| d.0);
    let row = ScheduleRow {
        id: MaintenanceScheduleId::new(),
        household_id: hid,
        item_id: id,
        title,
        every,
        unit: body.unit,
        anchor: body.anchor.unwrap_or(ScheduleAnchor::Start),
        start_date: start,
        last_done: None,
        next_due: start,
        notes,
        version: 1,
        created_by: user.user.id,
        created_at: at,
        updated_at: at,
    };
    let log = activity(&user, hid, id, "maintenance schedule", &row.title);
    state.store.insert_schedule(&row, &log).await?;
    Ok(Tagged::created(row.version, schedule_dto(row)))
}

/// The schedule with the patch applied and its next due date worked out again.
fn patched_schedule(current: &ScheduleRow, patch: &UpdateSchedule) -> ApiResult<ScheduleRow> {
    let mut errors = FieldErrors::new();
    let mut next = current.clone();
    if let Some(title) = &patch.title {
        match parse_maintenance_title(title) {
            Ok(t) => next.title = t,
            Err(e) => {
                errors.insert("title".into(), e);
            }
        }
    }
    if let Some(every) = patch.every {
        match parse_every(every) {
            Ok(n) => next.every = n,
            Err(e) => {
                errors.insert("every".into(), e);
            }
        }
    }
    if let Some(notes) = patch.notes.clone().into_change() {
        match parse_maintenance_notes(notes.as_deref().unwrap_or_default()) {
            Ok(n) => next.notes = n,
            Err(e) => {
                errors.insert("notes".into(), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    next.unit = patch.unit.unwrap_or(current.unit);
    next.anchor = patch.anchor.unwrap_or(current.anchor);
    next.start_date = patch.start_date.map_or(current.start_date, |d| d.0);
    next.next_due = next.computed_next_due()?;
    Ok(next)
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/items/{id}/maintenance/schedules/{sid}",
    tag = "Maintenance",
    summary = "Edit a maintenance schedule",
    description = "Changes the fields the body names; the next due date follows.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("sid" = MaintenanceScheduleId, Path, description = "The schedule"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on (`\"3\"`): a stale one answers 412"),
    ),
    request_body = UpdateSchedule,
    responses(
        (status = 200, description = "The schedule as it is now", body = MaintenanceSchedule, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item or schedule", body = ErrorBody),
        (status = 412, description = "Changed since the version in `If-Match`", body = ErrorBody),
        (status = 422, description = "An empty or long title, `every` outside 1 to 999, \
            an unknown `unit` or `anchor`, or a date that is not one", body = ErrorBody),
    ),
)]
async fn update_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id, sid)): AppPath<(HouseholdId, ItemId, MaintenanceScheduleId)>,
    IfMatch(if_match): IfMatch,
    AppJson(patch): AppJson<UpdateSchedule>,
) -> ApiResult<Tagged<MaintenanceSchedule>> {
    auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = schedule_of(&state, hid, id, sid).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        let mut next = patched_schedule(&current, &patch)?;
        if next == current {
            return Ok(Tagged::ok(current.version, schedule_dto(current)));
        }
        next.version = current.version + 1;
        next.updated_at = now();
        let log = activity(&user, hid, id, "maintenance schedule changed", &next.title);
        let result = state
            .store
            .update_schedule(&next, current.version, &log)
            .await;
        if is_retry(&result, if_match, attempt) {
            tokio::time::sleep(backoff(attempt)).await;
            continue;
        }
        result?;
        return Ok(Tagged::ok(next.version, schedule_dto(next)));
    }
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/items/{id}/maintenance/schedules/{sid}",
    tag = "Maintenance",
    summary = "Delete a maintenance schedule",
    description = "What was logged for it stays in the item's log.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("sid" = MaintenanceScheduleId, Path, description = "The schedule"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the deletion was decided on: a stale one answers 412"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item or schedule", body = ErrorBody),
        (status = 412, description = "Changed since the version in `If-Match`", body = ErrorBody),
    ),
)]
async fn delete_schedule(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id, sid)): AppPath<(HouseholdId, ItemId, MaintenanceScheduleId)>,
    IfMatch(if_match): IfMatch,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let current = schedule_of(&state, hid, id, sid).await?;
    let log = activity(
        &user,
        hid,
        id,
        "maintenance schedule removed",
        &current.title,
    );
    match state.store.delete_schedule(hid, sid, if_match, &log).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found("maintenance schedule")),
        Err(e) => Err(e.into()),
    }
}

/// A new entry's fields, checked: title, date, cost, notes, files.
struct EntryFields {
    title: String,
    date: Date,
    cost: Option<Money>,
    notes: Option<String>,
    attachment_ids: Vec<AttachmentId>,
}

#[allow(clippy::too_many_arguments)]
async fn entry_fields(
    state: &AppState,
    household: &HouseholdRow,
    item: ItemId,
    title: &str,
    date: Option<Day>,
    cost: Option<&Money>,
    notes: Option<&str>,
    attachment_ids: &[AttachmentId],
) -> ApiResult<EntryFields> {
    let mut errors = FieldErrors::new();
    let title = parse_maintenance_title(title)
        .map_err(|e| errors.insert("title".into(), e))
        .ok();
    let notes = parse_maintenance_notes(notes.unwrap_or_default())
        .map_err(|e| errors.insert("notes".into(), e))
        .ok();
    check_cost(cost, household, &mut errors);
    let attachment_ids =
        check_attachments(state, household.id, item, attachment_ids, &mut errors).await?;
    let (Some(title), Some(notes), true) = (title, notes, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    Ok(EntryFields {
        title,
        date: date.map_or_else(utc_today, |d| d.0),
        cost: cost.cloned(),
        notes,
        attachment_ids,
    })
}

fn new_entry(
    user: &CurrentUser,
    hid: HouseholdId,
    item: ItemId,
    schedule: Option<MaintenanceScheduleId>,
    fields: EntryFields,
) -> EntryRow {
    let at = now();
    EntryRow {
        id: MaintenanceEntryId::new(),
        household_id: hid,
        item_id: item,
        schedule_id: schedule,
        done_on: fields.date,
        title: fields.title,
        cost: fields.cost,
        notes: fields.notes,
        attachment_ids: fields.attachment_ids,
        version: 1,
        created_by: user.user.id,
        created_at: at,
        updated_at: at,
    }
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/maintenance/schedules/{sid}/done",
    tag = "Maintenance",
    summary = "Mark a scheduled task done",
    description = "Logs an entry with the schedule's title (dated today in UTC unless \
        `date` says otherwise) and moves the schedule on to its next due date, in one write.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("sid" = MaintenanceScheduleId, Path, description = "The schedule"),
    ),
    request_body = MarkDone,
    responses(
        (status = 201, description = "Logged; the schedule moved on", body = MarkedDone),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item or schedule", body = ErrorBody),
        (status = 422, description = "A cost in another currency than the household's or \
            negative, long notes, or files that are not this item's", body = ErrorBody),
    ),
)]
async fn mark_done(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id, sid)): AppPath<(HouseholdId, ItemId, MaintenanceScheduleId)>,
    AppJson(body): AppJson<MarkDone>,
) -> ApiResult<(StatusCode, Json<MarkedDone>)> {
    let household = auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let schedule = schedule_of(&state, hid, id, sid).await?;
    let fields = entry_fields(
        &state,
        &household,
        id,
        &schedule.title,
        body.date,
        body.cost.as_ref(),
        body.notes.as_deref(),
        &body.attachment_ids,
    )
    .await?;
    let entry = new_entry(&user, hid, id, Some(sid), fields);
    let log = activity(&user, hid, id, "maintenance", &entry.title);
    let schedule = match state.store.insert_entry(&entry, &log).await {
        Ok(Some(schedule)) => schedule,
        Ok(None) | Err(StoreError::NotFound) => {
            return Err(ApiError::not_found("maintenance schedule"));
        }
        Err(e) => return Err(e.into()),
    };
    Ok((
        StatusCode::CREATED,
        Json(MarkedDone {
            entry: entry_dto(entry),
            schedule: schedule_dto(schedule),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}/maintenance/entries",
    tag = "Maintenance",
    summary = "An item's maintenance log",
    description = "Newest first.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses(
        (status = 200, description = "The log", body = List<MaintenanceEntry>),
        (status = 404, description = "No such item", body = ErrorBody),
    ),
)]
async fn list_entries(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Json<List<MaintenanceEntry>>> {
    auth::member(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let rows = state.store.entries_of(hid, id).await?;
    Ok(Json(List {
        items: rows.into_iter().map(entry_dto).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/maintenance/entries",
    tag = "Maintenance",
    summary = "Log maintenance",
    description = "Something done to the item, with no schedule: a repair, a service.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    request_body = CreateEntry,
    responses(
        (status = 201, description = "Logged", body = MaintenanceEntry, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 422, description = "An empty or long title, a date that is not one, a cost \
            in another currency than the household's or negative, long notes, or files that \
            are not this item's", body = ErrorBody),
    ),
)]
async fn create_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
    AppJson(body): AppJson<CreateEntry>,
) -> ApiResult<Tagged<MaintenanceEntry>> {
    let household = auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let fields = entry_fields(
        &state,
        &household,
        id,
        &body.title,
        body.date,
        body.cost.as_ref(),
        body.notes.as_deref(),
        &body.attachment_ids,
    )
    .await?;
    let entry = new_entry(&user, hid, id, None, fields);
    let log = activity(&user, hid, id, "maintenance", &entry.title);
    state.store.insert_entry(&entry, &log).await?;
    Ok(Tagged::created(entry.version, entry_dto(entry)))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/items/{id}/maintenance/entries/{eid}",
    tag = "Maintenance",
    summary = "Edit a maintenance log entry",
    description = "Changes the fields the body names: `null` clears `cost` or `notes`. A \
        changed date moves the entry's schedule with it.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("eid" = MaintenanceEntryId, Path, description = "The entry"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on (`\"3\"`): a stale one answers 412"),
    ),
    request_body = UpdateEntry,
    responses(
        (status = 200, description = "The entry as it is now", body = MaintenanceEntry, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item or entry", body = ErrorBody),
        (status = 412, description = "Changed since the version in `If-Match`", body = ErrorBody),
        (status = 422, description = "An empty or long title, a date that is not one, a cost \
            in another currency than the household's or negative, long notes, or files that \
            are not this item's", body = ErrorBody),
    ),
)]
async fn update_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id, eid)): AppPath<(HouseholdId, ItemId, MaintenanceEntryId)>,
    IfMatch(if_match): IfMatch,
    AppJson(patch): AppJson<UpdateEntry>,
) -> ApiResult<Tagged<MaintenanceEntry>> {
    let household = auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let current = entry_of(&state, hid, id, eid).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        let cost = match patch.cost.clone().into_change() {
            None => current.cost.clone(),
            Some(change) => change,
        };
        let notes = match patch.notes.clone().into_change() {
            None => current.notes.clone(),
            Some(change) => change,
        };
        let fields = entry_fields(
            &state,
            &household,
            id,
            patch.title.as_deref().unwrap_or(&current.title),
            Some(patch.date.unwrap_or(Day(current.done_on))),
            cost.as_ref(),
            notes.as_deref(),
            patch
                .attachment_ids
                .as_deref()
                .unwrap_or(&current.attachment_ids),
        )
        .await?;
        let next = EntryRow {
            done_on: fields.date,
            title: fields.title,
            cost: fields.cost,
            notes: fields.notes,
            attachment_ids: fields.attachment_ids,
            ..current.clone()
        };
        if next == current {
            return Ok(Tagged::ok(current.version, entry_dto(current)));
        }
        let next = EntryRow {
            version: current.version + 1,
            updated_at: now(),
            ..next
        };
        let log = activity(&user, hid, id, "maintenance changed", &next.title);
        let result = state.store.update_entry(&next, current.version, &log).await;
        if is_retry(&result, if_match, attempt) {
            tokio::time::sleep(backoff(attempt)).await;
            continue;
        }
        result?;
        return Ok(Tagged::ok(next.version, entry_dto(next)));
    }
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/items/{id}/maintenance/entries/{eid}",
    tag = "Maintenance",
    summary = "Delete a maintenance log entry",
    description = "Its schedule, if any, goes back to what the rest of the log says.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("eid" = MaintenanceEntryId, Path, description = "The entry"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the deletion was decided on: a stale one answers 412"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Viewers can't change maintenance", body = ErrorBody),
        (status = 404, description = "No such item or entry", body = ErrorBody),
        (status = 412, description = "Changed since the version in `If-Match`", body = ErrorBody),
    ),
)]
async fn delete_entry(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id, eid)): AppPath<(HouseholdId, ItemId, MaintenanceEntryId)>,
    IfMatch(if_match): IfMatch,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    live_item(&state, hid, id).await?;
    let current = entry_of(&state, hid, id, eid).await?;
    let log = activity(&user, hid, id, "maintenance removed", &current.title);
    match state.store.delete_entry(hid, eid, if_match, &log).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found("maintenance entry")),
        Err(e) => Err(e.into()),
    }
}

/// A window of days from a query: `default` when absent, else 0 to 366.
fn window(raw: Option<i64>, default: i64, field: &str, errors: &mut FieldErrors) -> Option<i64> {
    match raw {
        None => Some(default),
        Some(n @ 0..=MAX_WINDOW_DAYS) => Some(n),
        Some(_) => {
            errors.insert(
                field.into(),
                format!("must be a whole number of days from 0 to {MAX_WINDOW_DAYS}"),
            );
            None
        }
    }
}

#[derive(Debug, Deserialize)]
struct OverviewParams {
    due_within_days: Option<i64>,
    done_within_days: Option<i64>,
    today: Option<Day>,
}

/// `days` after `day` (before it when negative), kept within the calendar.
fn days_after(day: Date, days: i64) -> Date {
    day.checked_add(Duration::days(days))
        .unwrap_or(if days < 0 { Date::MIN } else { Date::MAX })
}

fn days_between(from: Date, to: Date) -> i64 {
    (to - from).whole_days()
}

#[utoipa::path(
    get,
    path = "/households/{hid}/maintenance",
    tag = "Maintenance",
    summary = "What maintenance is overdue, due soon and done recently",
    description = "Schedules of items in the trash are left out. `today` is the person's own \
        date (late evening in UTC is already tomorrow in Tokyo); the server's UTC date when \
        absent.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("due_within_days" = Option<i64>, Query, minimum = 0, maximum = 366,
            description = "Due soon: due today or within this many days; 14 when absent"),
        ("done_within_days" = Option<i64>, Query, minimum = 0, maximum = 366,
            description = "Done recently: logged within this many days; 30 when absent"),
        ("today" = Option<Day>, Query,
            description = "The person's date, `2026-12-08`"),
    ),
    responses(
        (status = 200, description = "The three lists", body = MaintenanceOverview),
        (status = 400, description = "A query value that is not a number or a date", body = ErrorBody),
        (status = 422, description = "A window outside 0 to 366 days", body = ErrorBody),
    ),
)]
async fn maintenance_overview(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<OverviewParams>,
) -> ApiResult<Json<MaintenanceOverview>> {
    auth::member(&state, &user, hid).await?;
    let mut errors = FieldErrors::new();
    let due = window(
        params.due_within_days,
        DEFAULT_DUE_WITHIN_DAYS,
        "due_within_days",
        &mut errors,
    );
    let done = window(
        params.done_within_days,
        DEFAULT_DONE_WITHIN_DAYS,
        "done_within_days",
        &mut errors,
    );
    let (Some(due), Some(done), true) = (due, done, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let today = params.today.map_or_else(utc_today, |d| d.0);
    let (scheduled, logged, tree) = tokio::try_join!(
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .due_schedules(hid, days_after(today, due), OVERVIEW_ROWS)
                    .await?,
            )
        },
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .done_since(hid, days_after(today, -done), OVERVIEW_ROWS)
                    .await?,
            )
        },
        Tree::cached(&state, hid)
    )?;
    let path = |l: Option<shared::LocationId>| l.map(|l| tree.path(l)).unwrap_or_default();
    let (mut overdue, mut due_soon) = (Vec::new(), Vec::new());
    for WithItem {
        row,
        item_name,
        location_id,
    } in scheduled
    {
        let days_left = days_between(today, row.next_due);
        let listed = DueSchedule {
            schedule: schedule_dto(row),
            item_name,
            location_path: path(location_id),
            days_left,
        };
        if days_left < 0 {
            overdue.push(listed);
        } else {
            due_soon.push(listed);
        }
    }
    let done_recently = logged
        .into_iter()
        .filter(|e| e.row.done_on <= today)
        .map(|e| DoneEntry {
            location_path: path(e.location_id),
            entry: entry_dto(e.row),
            item_name: e.item_name,
        })
        .collect();
    Ok(Json(MaintenanceOverview {
        today: Day(today),
        overdue,
        due_soon,
        done_recently,
    }))
}

#[derive(Debug, Deserialize)]
struct WarrantyParams {
    within_days: Option<i64>,
    today: Option<Day>,
}

#[utoipa::path(
    get,
    path = "/households/{hid}/warranties",
    tag = "Maintenance",
    summary = "Warranties ending soon",
    description = "Items (not in the trash) whose warranty ends from today to `within_days` \
        days from today, soonest first, and those whose warranty ended in the last 30 days. \
        `today` is the person's own date; the server's UTC date when absent.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("within_days" = Option<i64>, Query, minimum = 0, maximum = 366,
            description = "How far ahead: 30, 60 and 90 are what the web app offers; 30 when absent"),
        ("today" = Option<Day>, Query,
            description = "The person's date, `2026-12-08`"),
    ),
    responses(
        (status = 200, description = "The items", body = WarrantyList),
        (status = 400, description = "A query value that is not a number or a date", body = ErrorBody),
        (status = 422, description = "A window outside 0 to 366 days", body = ErrorBody),
    ),
)]
async fn list_warranties(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<WarrantyParams>,
) -> ApiResult<Json<WarrantyList>> {
    auth::member(&state, &user, hid).await?;
    let mut errors = FieldErrors::new();
    let Some(within) = window(params.within_days, 30, "within_days", &mut errors) else {
        return Err(ApiError::Validation(errors));
    };
    let today = params.today.map_or_else(utc_today, |d| d.0);
    let (rows, tree) = tokio::try_join!(
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .warranties_between(
                        hid,
                        days_after(today, -ENDED_RECENTLY_DAYS),
                        days_after(today, within),
                        OVERVIEW_ROWS * 2,
                    )
                    .await?,
            )
        },
        Tree::cached(&state, hid)
    )?;
    let (mut ending, mut ended_recently) = (Vec::new(), Vec::new());
    for row in rows {
        let listed = WarrantyItem {
            item_id: row.item_id,
            name: row.name,
            warranty_expires: Day(row.warranty_expires),
            days_left: days_between(today, row.warranty_expires),
            location_path: row.location_id.map(|l| tree.path(l)).unwrap_or_default(),
        };
        if listed.days_left < 0 {
            ended_recently.push(listed);
        } else {
            ending.push(listed);
        }
    }
    ended_recently.reverse();
    Ok(Json(WarrantyList {
        today: Day(today),
        within_days: within,
        ending,
        ended_recently,
    }))
}

//! Bulk edits: `POST …/items/bulk` applies one change (fields set or cleared, tags added or
//! removed, the trash) to many items, picked by id or by the item list's filters.
//!
//! Each item is changed as `PATCH …/items/{id}` would change it: the same checks, a new
//! version, `updated_at`, an entry in its history, and the search index told at once; an
//! item the change makes no difference to is left alone (`unchanged`), so repeating a bulk
//! edit changes nothing more. Items are written in batches of at most 500 items and 2,500
//! rows, one transaction each (Aurora DSQL allows 3,000 rows a transaction), each item only
//! if nobody changed it since it was read; those that were changed meanwhile are read again
//! and the change applied to what they are now, a few times, before they are reported as
//! `conflict`. Selections of more than 1,000 items are edited by a background job (202).

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::{
    Action, BULK_INLINE_ITEMS, BulkChange, BulkEdit, BulkFailure, BulkOps, BulkResult, Currency,
    ErrorBody, ErrorCode, FieldErrors, HouseholdId, ItemId, JobKind, JobStarted, MAX_BULK_ITEMS,
    Patch, UserId,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::items::{BadLocation, check_location, filtered_query, search_ids};
use super::locations::Tree;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::jobs::{self, NewJob};
use crate::portability::Progress;
use crate::store::{
    ActivityRow, BULK_BATCH_ITEMS, IMPORT_ROWS, ItemRow, ItemUpdate, StoreResult, backoff, now,
};

/// Tries of an item that keeps being changed by others while the edit writes it.
const ATTEMPTS: u32 = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(bulk_edit))
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/bulk",
    tag = "Items",
    summary = "Change many items at once",
    description = "Picks items by `ids` (at most 10,000), or by the filters of the item list \
        (`q`, `location_id`, `tag`: exactly the live items `GET …/items` lists with them) \
        together with `expected_count`, the number of items the filter matched when the \
        person looked: if it matches another number now, nothing changes and the answer is \
        409. `ops.set` sets fields (checked as `PATCH …/items/{id}` checks them), `clear` \
        empties optional ones, `add_tags` and `remove_tags` change tags; `trash` moves the \
        items to the trash and `restore` brings trashed ones (picked by `ids`) back, each \
        alone. Each item changed gets a new version and an entry in its history; items the \
        change makes no difference to are `unchanged`, so a repeated request changes \
        nothing more. Items of other households, unknown ids, and trashed items (unless \
        restoring) are reported in `failed` as `not_found` and left alone. Up to 1,000 \
        items are changed before the answer (200); more start a job (202) whose `result` \
        is the same report.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = BulkEdit,
    responses(
        (status = 200, description = "What was changed, left unchanged, or refused, item by \
            item", body = BulkResult),
        (status = 202, description = "More than 1,000 items: a job makes the change; its \
            `result` is the report", body = JobStarted),
        (status = 403, description = "Viewers and read-only tokens can't change items",
            body = ErrorBody),
        (status = 409, description = "The filter matches another number of items than \
            `expected_count`; nothing was changed", body = ErrorBody),
        (status = 422, description = "Invalid values (named in `details` as a PATCH names \
            them), a `location_id` that is not a location of this household, no change or no \
            selection, more than 10,000 items, or `restore` with a filter; nothing was \
            changed", body = ErrorBody),
    ),
)]
async fn bulk_edit(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(raw): AppJson<serde_json::Value>,
) -> ApiResult<Response> {
    let household = auth::editor(&state, &user, hid).await?;
    let body = parse(raw)?;
    let change = body
        .ops
        .check(&household.currency)
        .map_err(ApiError::Validation)?;
    let tree = Tree::load(&state, hid).await?;
    if let Patch::Value(location) = &change.patch.location_id {
        check_location(&tree, Some(*location))?;
    }
    let ids = select(&state, hid, &body, &change, &tree).await?;
    if ids.len() > BULK_INLINE_ITEMS {
        let params = JobParams {
            ids,
            ops: body.ops,
            via_token: user.via_token(),
        };
        let row = jobs::start(
            &state,
            NewJob {
                household_id: hid,
                user_id: user.user.id,
                kind: JobKind::BulkEdit,
                params: serde_json::to_value(&params).map_err(|e| ApiError::Internal(e.into()))?,
                input_key: None,
            },
        )
        .await
        .map_err(ApiError::Internal)?;
        let job = jobs::job_dto(&state, row)
            .await
            .map_err(ApiError::Internal)?;
        return Ok((StatusCode::ACCEPTED, Json(JobStarted { job })).into_response());
    }
    let editor = Editor {
        state: &state,
        hid,
        currency: household.currency,
        actor: user.user.id,
        via_token: user.via_token(),
        change,
        tree,
    };
    let result = editor.run(&ids, None).await?;
    Ok((StatusCode::OK, Json(result)).into_response())
}

/// What a bulk edit job is given: the items the request resolved (not its filter, so the
/// job changes exactly the items that were counted) and the ops, checked again when it runs.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct JobParams {
    pub ids: Vec<ItemId>,
    pub ops: BulkOps,
    #[serde(default)]
    pub via_token: Option<String>,
}

/// Reads the body, naming each wrong value after its item field (`quantity`, not
/// `ops.set.quantity`), as a PATCH names it.
fn parse(raw: serde_json::Value) -> ApiResult<BulkEdit> {
    if let Some(set) = raw
        .get("ops")
        .and_then(|ops| ops.get("set"))
        .and_then(|set| set.as_object())
    {
        let refused = shared::refused_set_fields(set.keys().map(String::as_str));
        if !refused.is_empty() {
            return Err(ApiError::Validation(refused));
        }
    }
    serde_path_to_error::deserialize::<_, BulkEdit>(raw).map_err(|e| {
        let path = e.path().to_string();
        let names: Vec<&str> = path
            .split('.')
            .map(|segment| segment.split('[').next().unwrap_or_default())
            .filter(|segment| !segment.is_empty() && *segment != "?")
            .collect();
        let field = match names.as_slice() {
            ["ops", "set", field, ..] => field,
            [.., last] => last,
            [] => "body",
        };
        let message = e.into_inner().to_string();
        let message = match message.rfind(" at line ") {
            Some(i) => message[..i].to_string(),
            None => message,
        };
        ApiError::field(field, message)
    })
}

/// The items the selection picks, each once, in its order.
async fn select(
    state: &AppState,
    hid: HouseholdId,
    body: &BulkEdit,
    change: &BulkChange,
    tree: &Tree,
) -> ApiResult<Vec<ItemId>> {
    let selection = &body.selection;
    match (&selection.ids, &selection.filter) {
        (Some(_), Some(_)) => Err(ApiError::field(
            "selection",
            "pick the items either by ids or by a filter, not both",
        )),
        (None, None) => Err(ApiError::field(
            "selection",
            "pick the items: ids, or a filter with expected_count",
        )),
        (Some(ids), None) => {
            let mut seen = HashSet::with_capacity(ids.len());
            let ids: Vec<ItemId> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
            if ids.len() > MAX_BULK_ITEMS {
                return Err(ApiError::field(
                    "ids",
                    format!("at most {MAX_BULK_ITEMS} items at once"),
                ));
            }
            Ok(ids)
        }
        (None, Some(filter)) => {
            if change.restore {
                return Err(ApiError::field(
                    "filter",
                    "restoring picks trashed items by their ids",
                ));
            }
            let Some(expected) = selection.expected_count else {
                return Err(ApiError::field(
                    "expected_count",
                    "is required with a filter: how many items it matched when you looked",
                ));
            };
            let location = filter.location_id.as_deref();
            if location.is_some_and(|l| l.trim() != l) {
                return Err(ApiError::field(
                    "location_id",
                    "must be a location id or \"none\"",
                ));
            }
            let query = filtered_query(filter.q.as_deref(), location, filter.tag.as_deref(), tree)
                .map_err(|bad| match bad {
                    BadLocation::Malformed => {
                        ApiError::field("location_id", "must be a location id or \"none\"")
                    }
                    BadLocation::Unknown => {
                        ApiError::field("location_id", "is not a location of this household")
                    }
                })?;
            let ids = search_ids(state, hid, &query, MAX_BULK_ITEMS + 1).await?;
            if ids.len() > MAX_BULK_ITEMS {
                return Err(ApiError::field(
                    "filter",
                    format!(
                        "matches more than {MAX_BULK_ITEMS} items, more than one bulk edit \
                         changes; narrow it"
                    ),
                ));
            }
            if ids.len() as u64 != expected {
                return Err(ApiError::Conflict(format!(
                    "the filter matches {} items now, not {expected}: the list changed since \
                     you looked; look again",
                    ids.len()
                )));
            }
            Ok(ids)
        }
    }
}

/// Applies one checked change to items of one household.
pub(crate) struct Editor<'a> {
    pub state: &'a AppState,
    pub hid: HouseholdId,
    pub currency: Currency,
    pub actor: UserId,
    pub via_token: Option<String>,
    pub change: BulkChange,
    /// The household's locations, for items restored into a location deleted meanwhile.
    pub tree: Tree,
}

/// What the change does to one item.
enum Outcome {
    Unchanged,
    Failed(BulkFailure),
    Update(Box<ItemUpdate>),
}

impl Editor<'_> {
    /// Changes the items (each id once), `BULK_BATCH_ITEMS` at a time, counting them in
    /// `progress`.
    pub async fn run(
        &self,
        ids: &[ItemId],
        progress: Option<&Progress>,
    ) -> StoreResult<BulkResult> {
        let mut result = BulkResult {
            matched: ids.len() as u64,
            ..Default::default()
        };
        if let Some(progress) = progress {
            progress.set_total(ids.len() as u64);
        }
        for chunk in ids.chunks(BULK_BATCH_ITEMS) {
            self.chunk(chunk, &mut result).await?;
            if let Some(progress) = progress {
                progress.add(chunk.len() as u64);
            }
        }
        Ok(result)
    }

    async fn chunk(&self, ids: &[ItemId], result: &mut BulkResult) -> StoreResult<()> {
        let mut pending: Vec<ItemId> = ids.to_vec();
        let mut attempt = 0;
        while !pending.is_empty() {
            attempt += 1;
            let rows = self.state.store.items_by_ids(self.hid, &pending).await?;
            let found: HashSet<ItemId> = rows.iter().map(|r| r.id).collect();
            for id in pending.iter().filter(|id| !found.contains(id)) {
                result.failed.push(not_found(*id, "no such item here"));
            }
            let at = now();
            let mut updates = Vec::new();
            for row in rows {
                match self.outcome(row, at) {
                    Outcome::Unchanged => result.unchanged += 1,
                    Outcome::Failed(failure) => result.failed.push(failure),
                    Outcome::Update(update) => updates.push(*update),
                }
            }
            let mut stale = Vec::new();
            for batch in batches(updates) {
                let missed = self.state.store.update_items(&batch).await?;
                for update in &batch {
                    if missed.contains(&update.item.id) {
                        stale.push(update.item.id);
                    } else {
                        self.state.search.note(&update.item);
                        result.updated += 1;
                    }
                }
            }
            if stale.is_empty() {
                break;
            }
            if attempt >= ATTEMPTS {
                result
                    .failed
                    .extend(stale.into_iter().map(|id| BulkFailure {
                        id,
                        code: code(ErrorCode::Conflict),
                        message: "it kept being changed by someone else; try again".into(),
                    }));
                break;
            }
            // Changed by someone else since it was read: apply the change to what it is now.
            tokio::time::sleep(backoff(attempt)).await;
            pending = stale;
        }
        Ok(())
    }

    fn outcome(&self, row: ItemRow, at: time::OffsetDateTime) -> Outcome {
        let change = &self.change;
        let trashed = row.deleted_at.is_some();
        let (next, action, fields) = if change.trash {
            if trashed {
                return Outcome::Unchanged;
            }
            let next = ItemRow {
                deleted_at: Some(at),
                ..row.clone()
            };
            (next, Action::Deleted, vec![])
        } else if change.restore {
            if !trashed {
                return Outcome::Unchanged;
            }
            let mut next = ItemRow {
                deleted_at: None,
                ..row.clone()
            };
            // Its location may have been deleted while it was in the trash.
            if next
                .fields
                .location_id
                .is_some_and(|l| self.tree.get(l).is_none())
            {
                next.fields.location_id = None;
            }
            (next, Action::Restored, vec![])
        } else {
            if trashed {
                return Outcome::Failed(not_found(row.id, "the item is in the trash"));
            }
            match change.apply(&row.fields, &self.currency) {
                Err(errors) => return Outcome::Failed(invalid(row.id, &errors)),
                Ok((_, changed)) if changed.is_empty() => return Outcome::Unchanged,
                Ok((fields, changed)) => (
                    ItemRow {
                        fields,
                        ..row.clone()
                    },
                    Action::Updated,
                    changed.iter().map(|f| f.to_string()).collect(),
                ),
            }
        };
        let item = ItemRow {
            version: row.version + 1,
            updated_at: at,
            ..next
        };
        let activity = ActivityRow::new(self.hid, row.id, self.actor, action, fields, at)
            .via(self.via_token.clone());
        Outcome::Update(Box::new(ItemUpdate {
            item,
            activity,
            old_tags: row.fields.tags.len(),
        }))
    }
}

/// The updates in batches that each fit one transaction.
fn batches(updates: Vec<ItemUpdate>) -> Vec<Vec<ItemUpdate>> {
    let mut out: Vec<Vec<ItemUpdate>> = Vec::new();
    let mut rows = 0;
    for update in updates {
        let n = update.rows();
        match out.last_mut() {
            Some(batch) if batch.len() < BULK_BATCH_ITEMS && rows + n <= IMPORT_ROWS => {
                rows += n;
                batch.push(update);
            }
            _ => {
                rows = n;
                out.push(vec![update]);
            }
        }
    }
    out
}

fn code(code: ErrorCode) -> String {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(s)) => s,
        _ => "internal".into(),
    }
}

fn not_found(id: ItemId, message: &str) -> BulkFailure {
    BulkFailure {
        id,
        code: code(ErrorCode::NotFound),
        message: message.into(),
    }
}

fn invalid(id: ItemId, errors: &FieldErrors) -> BulkFailure {
    let message = errors
        .iter()
        .map(|(field, message)| format!("{field} {message}"))
        .collect::<Vec<_>>()
        .join("; ");
    BulkFailure {
        id,
        code: code(ErrorCode::ValidationFailed),
        message,
    }
}

//! Printable labels: `GET …/labels/templates` lists the label stocks, `POST …/labels`
//! answers the PDF of the chosen items' and locations' labels (`crate::labels`). Printing
//! changes nothing, so viewers and read-only tokens may.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use shared::{
    AssetId, AssetKind, AssetRange, ErrorBody, HouseholdId, ItemId, LabelField, LabelRequest,
    LabelTemplates, LocationId, MAX_CUSTOM_LINE_CHARS, MAX_LABELS,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, CurrentUser, Reader};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::labels::{Label, Line, TEMPLATES, Template};
use crate::routes::items::search_ids;
use crate::routes::locations::Tree;
use crate::store::{ItemQuery, ItemRow, ItemSort, stored_asset_id};

/// Names a location's label lists at most under `contents` (the rest are counted).
const CONTENT_NAMES: usize = 12;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_label_templates))
        .routes(routes!(print_labels))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/labels/templates",
    tag = "Labels",
    summary = "List the label stocks",
    description = "The sheets and rolls labels can be printed on, with their page and label \
        sizes and where each label sits on the page, in millimetres.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses(
        (status = 200, description = "Every label stock", body = LabelTemplates),
        (status = 404, description = "No such household", body = ErrorBody),
    ),
)]
async fn list_label_templates(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<LabelTemplates>> {
    auth::member(&state, &user, hid).await?;
    Ok(Json(LabelTemplates {
        items: TEMPLATES.iter().map(Template::dto).collect(),
    }))
}

/// The PDF's bytes, for the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct PdfFile(Vec<u8>);

#[utoipa::path(
    post,
    path = "/households/{hid}/labels",
    tag = "Labels",
    summary = "Print labels (PDF)",
    description = "A PDF of one label for each item and location the request picks, on the \
        chosen stock: `item_ids`, `location_ids`, `items_in_location` (every live item in that \
        location and the locations below it, by name) and `asset_range` (the live items and \
        the locations whose asset ids are in the range, in number order), in that order, each \
        printed once; at most 1,000 labels. Each label has a QR code leading to \
        `<PUBLIC_URL>/q/<asset id digits>` and beside it the `fields`, in their order: `name` \
        (bold), `asset_id` (`000-123`), `location` (where it is; for a location, the ones \
        above it), `custom` (`custom_line`) and `contents` (on a location's label, the names \
        of the items directly in it, then \"+ N more\"); text too long for the label is set \
        smaller, then cut with \"…\". `skip` leaves the first positions of the first sheet \
        blank, for a sheet already partly used. Viewers and read-only tokens may print.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = LabelRequest,
    responses(
        (status = 200, description = "The labels, as an attachment named \
            `labels-<template>.pdf`", body = inline(PdfFile), content_type = "application/pdf"),
        (status = 404, description = "No such household", body = ErrorBody),
        (status = 422, description = "An unknown template, nothing to print, a `skip` outside \
            the first sheet, an item or location that is not the household's, an unreadable \
            asset range, a `custom_line` longer than 80 characters, or more than 1,000 labels",
            body = ErrorBody),
    ),
)]
async fn print_labels(
    State(state): State<AppState>,
    Reader(user): Reader,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<LabelRequest>,
) -> ApiResult<Response> {
    auth::member(&state, &user, hid).await?;
    let request = checked(&body)?;
    let tree = Arc::new(Tree::load(&state, hid).await?);
    let subjects = select(&state, hid, &body, &tree).await?;
    let labels = make_labels(&state, hid, &request, &tree, subjects).await?;
    let template = request.template;
    let public_url = state.config.public_url.clone();
    let skip = request.skip;
    let bytes = tokio::task::spawn_blocking(move || {
        crate::labels::render(template, &labels, skip, &public_url)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("drawing the labels stopped: {e}")))?
    .map_err(ApiError::Internal)?;
    Ok((
        [
            (CONTENT_TYPE, "application/pdf".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"labels-{}.pdf\"", template.id),
            ),
            (CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

/// The request's settings, checked.
struct Checked {
    template: &'static Template,
    skip: u32,
    fields: Vec<LabelField>,
    custom_line: String,
}

fn checked(body: &LabelRequest) -> ApiResult<Checked> {
    let known = || {
        TEMPLATES
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let id = body.template.trim();
    if id.is_empty() {
        return Err(ApiError::field(
            "template",
            format!("choose the label stock: one of {}", known()),
        ));
    }
    let template = Template::find(id).ok_or_else(|| {
        ApiError::field(
            "template",
            format!(
                "is not a label stock this server knows; choose one of {}",
                known()
            ),
        )
    })?;
    let per_page = template.labels_per_page();
    let skip = match body.skip {
        None => 0,
        Some(n) if (0..i64::from(per_page)).contains(&n) => n as u32,
        Some(_) if per_page == 1 => {
            return Err(ApiError::field(
                "skip",
                format!("must be 0: {} prints one label per page", template.id),
            ));
        }
        Some(_) => {
            return Err(ApiError::field(
                "skip",
                format!(
                    "must be from 0 to {}: the labels already used on the first sheet of {}",
                    per_page - 1,
                    template.id
                ),
            ));
        }
    };
    let mut fields = Vec::new();
    for field in body.fields.as_deref().unwrap_or(&LabelField::DEFAULT) {
        if !fields.contains(field) {
            fields.push(*field);
        }
    }
    let custom_line = crate::reports::layout::printable(body.custom_line.as_deref().unwrap_or(""))
        .trim()
        .to_string();
    if custom_line.chars().count() > MAX_CUSTOM_LINE_CHARS {
        return Err(ApiError::field(
            "custom_line",
            format!("must be at most {MAX_CUSTOM_LINE_CHARS} characters"),
        ));
    }
    if fields.contains(&LabelField::Custom) && custom_line.is_empty() {
        return Err(ApiError::field(
            "custom_line",
            "write the line the custom field prints",
        ));
    }
    Ok(Checked {
        template,
        skip,
        fields,
        custom_line,
    })
}

/// What a label is of.
enum Subject {
    Item(Box<ItemRow>),
    Location(LocationId),
}

/// The items and locations the request picks, in its order, each once; every selection
/// refused with its own field when it names something outside the household, picks nothing
/// or takes the count past `MAX_LABELS`.
async fn select(
    state: &AppState,
    hid: HouseholdId,
    body: &LabelRequest,
    tree: &Tree,
) -> ApiResult<Vec<Subject>> {
    let mut picked = Picked::default();
    let mut asked = false;
    if let Some(ids) = &body.item_ids {
        asked |= !ids.is_empty();
        let ids = unique(ids);
        picked.room("item_ids", ids.len())?;
        let rows = items(state, hid, &ids).await?;
        let missing = ids.len() - rows.len();
        if missing > 0 {
            return Err(ApiError::field(
                "item_ids",
                format!(
                    "{missing} of these item{} {} not in this household",
                    if missing == 1 { "" } else { "s" },
                    if missing == 1 { "is" } else { "are" }
                ),
            ));
        }
        if rows.iter().any(|r| r.deleted_at.is_some()) {
            return Err(ApiError::field(
                "item_ids",
                "names an item in the trash; restore it to print its label",
            ));
        }
        picked.items("item_ids", rows)?;
    }
    if let Some(ids) = &body.location_ids {
        asked |= !ids.is_empty();
        let ids = unique(ids);
        picked.room("location_ids", ids.len())?;
        let missing = ids.iter().filter(|id| tree.get(**id).is_none()).count();
        if missing > 0 {
            return Err(ApiError::field(
                "location_ids",
                format!(
                    "{missing} of these location{} {} not in this household",
                    if missing == 1 { "" } else { "s" },
                    if missing == 1 { "is" } else { "are" }
                ),
            ));
        }
        for id in ids {
            picked.location("location_ids", id)?;
        }
    }
    if let Some(location) = body.items_in_location {
        asked = true;
        if tree.get(location).is_none() {
            return Err(ApiError::field(
                "items_in_location",
                "is not a location of this household",
            ));
        }
        let query = ItemQuery {
            location_ids: Some(tree.subtree(location)),
            sort: ItemSort::Name,
            ..Default::default()
        };
        let ids = search_ids(state, hid, &query, MAX_LABELS + 1).await?;
        if ids.is_empty() {
            return Err(ApiError::field(
                "items_in_location",
                "holds no items, here or in the locations inside it",
            ));
        }
        picked.room("items_in_location", ids.len())?;
        let mut rows = items(state, hid, &ids).await?;
        let order: HashMap<ItemId, usize> =
            ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        rows.sort_by_key(|r| order.get(&r.id).copied().unwrap_or(usize::MAX));
        picked.items("items_in_location", rows)?;
    }
    if let Some(range) = &body.asset_range {
        asked = true;
        let (from, to) = asset_range(range)?;
        let found = state
            .store
            .assets_in_range(hid, from, to, MAX_LABELS + 1)
            .await?;
        if found.is_empty() {
            return Err(ApiError::field(
                "asset_range",
                format!("no item or location has an asset id from {from} to {to}"),
            ));
        }
        picked.room("asset_range", found.len())?;
        let item_ids: Vec<ItemId> = found
            .iter()
            .filter(|(kind, _)| *kind == AssetKind::Item)
            .map(|(_, id)| ItemId::from(*id))
            .collect();
        let mut rows: HashMap<ItemId, ItemRow> = items(state, hid, &item_ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        for (kind, id) in found {
            match kind {
                AssetKind::Item => {
                    // An item trashed since the range was read is left out.
                    if let Some(row) = rows.remove(&ItemId::from(id))
                        && row.deleted_at.is_none()
                    {
                        picked.items("asset_range", vec![row])?;
                    }
                }
                AssetKind::Location => {
                    let id = LocationId::from(id);
                    if tree.get(id).is_some() {
                        picked.location("asset_range", id)?;
                    }
                }
            }
        }
    }
    if !asked {
        return Err(ApiError::field(
            "item_ids",
            "choose what to label: item_ids, location_ids, items_in_location or asset_range",
        ));
    }
    Ok(picked.subjects)
}

/// The subjects picked so far, each once.
#[derive(Default)]
struct Picked {
    subjects: Vec<Subject>,
    seen: HashSet<uuid::Uuid>,
}

impl Picked {
    /// Refuses a selection that would take the labels past `MAX_LABELS` even before the
    /// repeats among them are dropped.
    fn room(&self, field: &str, more: usize) -> ApiResult<()> {
        if more > MAX_LABELS {
            return Err(too_many(field));
        }
        Ok(())
    }

    fn push(&mut self, field: &str, id: uuid::Uuid, subject: Subject) -> ApiResult<()> {
        if self.seen.insert(id) {
            if self.subjects.len() == MAX_LABELS {
                return Err(too_many(field));
            }
            self.subjects.push(subject);
        }
        Ok(())
    }

    fn items(&mut self, field: &str, rows: Vec<ItemRow>) -> ApiResult<()> {
        for row in rows {
            self.push(field, row.id.as_uuid(), Subject::Item(Box::new(row)))?;
        }
        Ok(())
    }

    fn location(&mut self, field: &str, id: LocationId) -> ApiResult<()> {
        self.push(field, id.as_uuid(), Subject::Location(id))
    }
}

fn too_many(field: &str) -> ApiError {
    ApiError::field(
        field,
        format!("picks more than {MAX_LABELS} labels, more than one request prints; pick fewer"),
    )
}

fn unique<T: Copy + Eq + std::hash::Hash>(ids: &[T]) -> Vec<T> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// The household's items with these ids (live or trashed), read 500 at a time.
async fn items(state: &AppState, hid: HouseholdId, ids: &[ItemId]) -> ApiResult<Vec<ItemRow>> {
    let mut rows = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        rows.extend(state.store.items_by_ids(hid, chunk).await?);
    }
    Ok(rows)
}

/// The range's ends, read as asset ids, in order.
fn asset_range(range: &AssetRange) -> ApiResult<(AssetId, AssetId)> {
    let end = |name: &str, raw: &str| {
        raw.parse::<AssetId>()
            .map_err(|e| ApiError::field("asset_range", format!("{name} {e}")))
    };
    let from = end("from", &range.from)?;
    let to = end("to", &range.to)?;
    if from > to {
        return Err(ApiError::field(
            "asset_range",
            format!("from ({from}) comes after to ({to})"),
        ));
    }
    Ok((from, to))
}

/// One label per subject, with the request's fields.
async fn make_labels(
    state: &AppState,
    hid: HouseholdId,
    request: &Checked,
    tree: &Tree,
    subjects: Vec<Subject>,
) -> ApiResult<Vec<Label>> {
    let contents = if request.fields.contains(&LabelField::Contents) {
        let locations: Vec<LocationId> = subjects
            .iter()
            .filter_map(|s| match s {
                Subject::Location(id) => Some(*id),
                Subject::Item(_) => None,
            })
            .collect();
        contents_of(state, hid, &locations).await?
    } else {
        HashMap::new()
    };
    let mut labels = Vec::with_capacity(subjects.len());
    for subject in subjects {
        let (name, asset_id, place, inside) = match &subject {
            Subject::Item(row) => (
                row.fields.name.clone(),
                stored_asset_id(row.fields.asset_id, row.id.as_uuid()),
                row.fields
                    .location_id
                    .map(|l| tree.path(l))
                    .unwrap_or_default(),
                None,
            ),
            Subject::Location(id) => {
                let Some(location) = tree.get(*id) else {
                    continue;
                };
                let mut above = tree.path(*id);
                above.pop();
                (
                    location.name.clone(),
                    stored_asset_id(location.asset_id, id.as_uuid()),
                    above,
                    contents.get(id),
                )
            }
        };
        let mut lines = Vec::new();
        for field in &request.fields {
            match field {
                LabelField::Name => lines.push(Line::Title(name.clone())),
                LabelField::AssetId => lines.push(Line::Text(asset_id.to_string())),
                LabelField::Location if !place.is_empty() => {
                    lines.push(Line::Text(place.join(" › ")));
                }
                LabelField::Location => {}
                LabelField::Custom => lines.push(Line::Text(request.custom_line.clone())),
                LabelField::Contents => {
                    if let Some((names, more)) = inside {
                        lines.push(Line::Contents {
                            names: names.clone(),
                            more: *more,
                        });
                    }
                }
            }
        }
        labels.push(Label {
            code: asset_id.code(),
            lines,
        });
    }
    Ok(labels)
}

/// For each location, the names of the first live items directly in it (by name) and how
/// many more there are.
async fn contents_of(
    state: &AppState,
    hid: HouseholdId,
    locations: &[LocationId],
) -> ApiResult<HashMap<LocationId, (Vec<String>, usize)>> {
    if locations.is_empty() {
        return Ok(HashMap::new());
    }
    let counts = state.store.location_item_counts(hid).await?;
    let mut first: HashMap<LocationId, Vec<ItemId>> = HashMap::new();
    for id in locations {
        let count = counts.get(id).copied().unwrap_or(0);
        if count == 0 {
            continue;
        }
        let query = ItemQuery {
            location_ids: Some(vec![*id]),
            sort: ItemSort::Name,
            ..Default::default()
        };
        first.insert(*id, search_ids(state, hid, &query, CONTENT_NAMES).await?);
    }
    let all: Vec<ItemId> = first.values().flatten().copied().collect();
    let names: HashMap<ItemId, String> = items(state, hid, &all)
        .await?
        .into_iter()
        .map(|r| (r.id, r.fields.name))
        .collect();
    Ok(locations
        .iter()
        .map(|id| {
            let shown: Vec<String> = first
                .get(id)
                .into_iter()
                .flatten()
                .filter_map(|item| names.get(item).cloned())
                .collect();
            let count = usize::try_from(counts.get(id).copied().unwrap_or(0)).unwrap_or(0);
            let more = count.saturating_sub(shown.len());
            (*id, (shown, more))
        })
        .collect())
}

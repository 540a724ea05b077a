//! Locations: a tree per household (House › Garage › Shelf 2).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{
    AssetId, CreateLocation, ErrorBody, FieldErrors, HouseholdId, List, Location, LocationId,
    MAX_LONG_TEXT_CHARS, Patch, UpdateLocation, parse_asset_id_patch, parse_name,
    parse_optional_text,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, IfMatch, Tagged};
use crate::store::tree::Links;
use crate::store::{LocationRow, StoreError, now};

pub const MAX_LOCATION_NAME: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_locations, create_location))
        .routes(routes!(get_location, update_location, delete_location))
}

/// A household's locations, indexed for walking up and down the tree. Every walk is
/// iterative and ends on a cycle (`store::tree::Links`).
pub struct Tree {
    by_id: HashMap<LocationId, LocationRow>,
    links: Links,
}

impl Tree {
    pub fn new(rows: Vec<LocationRow>) -> Self {
        Self {
            links: Links::new(rows.iter().map(|r| (r.id, r.parent_id))),
            by_id: rows.into_iter().map(|r| (r.id, r)).collect(),
        }
    }

    pub async fn load(state: &AppState, household: HouseholdId) -> ApiResult<Self> {
        Ok(Self::new(state.store.locations(household).await?))
    }

    /// The tree as this process last read it, at most `access::FRESH_FOR` ago, for showing
    /// items: their location paths, and filters by location. A location missing from it
    /// may just be new: the item routes read the tree again before refusing one.
    pub async fn cached(state: &AppState, household: HouseholdId) -> ApiResult<Arc<Self>> {
        Ok(state.access.tree(&state.store, household).await?)
    }

    pub fn get(&self, id: LocationId) -> Option<&LocationRow> {
        self.by_id.get(&id)
    }

    /// Names from the root down to `id`, ending with its own. A location whose parent is
    /// missing, or the last one reached before a cycle closes, is taken as the root.
    pub fn path(&self, id: LocationId) -> Vec<String> {
        let mut path: Vec<String> = self
            .links
            .ancestors(id)
            .into_iter()
            .filter_map(|at| self.by_id.get(&at).map(|r| r.name.clone()))
            .collect();
        path.reverse();
        path
    }

    /// `id` and every location below it.
    pub fn subtree(&self, id: LocationId) -> Vec<LocationId> {
        self.links.subtree(id)
    }

    /// How many levels hang below `id`.
    pub fn depth_below(&self, id: LocationId) -> usize {
        self.links.depth_below(id)
    }

    pub fn rows(&self) -> impl Iterator<Item = &LocationRow> {
        self.by_id.values()
    }
}

pub(crate) fn location_dto(
    tree: &Tree,
    row: &LocationRow,
    counts: &HashMap<LocationId, i64>,
) -> Location {
    Location {
        id: row.id,
        parent_id: row.parent_id,
        name: row.name.clone(),
        description: row.description.clone(),
        asset_id: crate::store::stored_asset_id(row.asset_id, row.id.as_uuid()),
        path: tree.path(row.id),
        item_count: counts.get(&row.id).copied().unwrap_or(0),
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

#[utoipa::path(
    get,
    path = "/households/{hid}/locations",
    tag = "Locations",
    summary = "List locations",
    description = "Every location of the household, flat, in the order of their paths.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses((status = 200, description = "The locations", body = List<Location>)),
)]
async fn list_locations(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<Location>>> {
    auth::member(&state, &user, hid).await?;
    let (tree, counts) = tokio::try_join!(Tree::load(&state, hid), async {
        Ok::<_, ApiError>(state.store.location_item_counts(hid).await?)
    })?;
    let mut items: Vec<Location> = tree
        .rows()
        .map(|r| location_dto(&tree, r, &counts))
        .collect();
    items.sort_by(|a, b| {
        let key = |l: &Location| l.path.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>();
        key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
    });
    Ok(Json(List { items }))
}

/// Checks that `parent` exists and that putting `id` under it keeps the tree a tree, on the
/// tree as loaded; the store checks again inside its write.
fn check_parent(tree: &Tree, id: LocationId, parent: Option<LocationId>, errors: &mut FieldErrors) {
    if let Err(message) = tree.links.check_parent(id, parent) {
        errors.insert("parent_id".into(), message);
    }
}

#[utoipa::path(
    post,
    path = "/households/{hid}/locations",
    tag = "Locations",
    summary = "Create a location",
    description = "With a client-made `id`, repeating the request answers 200 with the \
        location made the first time instead of making another.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = CreateLocation,
    responses(
        (status = 201, description = "Created", body = Location, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`")),
            links(
                ("GetLocation" = (operation_id = "get_location",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
                ("UpdateLocation" = (operation_id = "update_location",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
                ("DeleteLocation" = (operation_id = "delete_location",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
            )),
        (status = 200, description = "A location with this client-made `id` exists already: \
            this is it", body = Location, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't add locations", body = ErrorBody),
        (status = 409, description = "The `id` is taken by something else, or the \
            `asset_id` by another item or location of the household", body = ErrorBody),
        (status = 422, description = "Invalid fields (an `asset_id` that is not one), or a \
            `parent_id` that is not a location \
            of this household", body = ErrorBody),
    ),
)]
async fn create_location(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<CreateLocation>,
) -> ApiResult<(StatusCode, Tagged<Location>)> {
    auth::editor(&state, &user, hid).await?;
    let id = body.id.unwrap_or_default();
    // An invalid body is refused even when it repeats an existing location's id.
    let mut errors = FieldErrors::new();
    let name = parse_name(&body.name, MAX_LOCATION_NAME)
        .map_err(|e| errors.insert("name".into(), e))
        .ok();
    let description = parse_optional_text(
        body.description.as_deref().unwrap_or_default(),
        MAX_LONG_TEXT_CHARS,
    )
    .map_err(|e| errors.insert("description".into(), e))
    .ok()
    .flatten();
    let asset_id = body
        .asset_id
        .as_deref()
        .map(str::parse::<AssetId>)
        .transpose()
        .map_err(|e| errors.insert("asset_id".into(), e))
        .ok()
        .flatten();
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if body.id.is_some() {
        match state.store.location_owner(id).await? {
            Some(owner) if owner == hid => {
                let tree = Tree::load(&state, hid).await?;
                let counts = state.store.location_item_counts(hid).await?;
                let row = tree
                    .get(id)
                    .ok_or_else(|| ApiError::not_found("location"))?;
                let dto = location_dto(&tree, row, &counts);
                return Ok((StatusCode::OK, Tagged::ok(dto.version, dto)));
            }
            Some(_) => {
                return Err(ApiError::Conflict(
                    "that id is already used by something else".into(),
                ));
            }
            None => {}
        }
    }
    let tree = Tree::load(&state, hid).await?;
    check_parent(&tree, id, body.parent_id, &mut errors);
    let (Some(name), true) = (name, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let at = now();
    let mut row = LocationRow {
        id,
        household_id: hid,
        parent_id: body.parent_id,
        name,
        description,
        asset_id,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    match state.store.insert_location(&row).await {
        Ok(asset_id) => {
            row.asset_id = Some(asset_id);
            state.access.forget_tree(hid);
        }
        // A retry that raced the first attempt: answer with what is stored.
        Err(StoreError::Conflict(_)) if body.id.is_some() => {
            let tree = Tree::load(&state, hid).await?;
            let existing = tree.get(id).ok_or_else(|| {
                ApiError::Conflict("that id is already used by something else".into())
            })?;
            let dto = location_dto(&tree, existing, &HashMap::new());
            return Ok((StatusCode::OK, Tagged::ok(dto.version, dto)));
        }
        Err(e) => return Err(e.into()),
    }
    let mut rows: Vec<LocationRow> = tree.rows().cloned().collect();
    rows.push(row.clone());
    let tree = Tree::new(rows);
    let dto = location_dto(&tree, &row, &HashMap::new());
    Ok((StatusCode::CREATED, Tagged::created(dto.version, dto)))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/locations/{id}",
    tag = "Locations",
    summary = "Get a location",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = LocationId, Path, description = "The location"),
    ),
    responses((status = 200, description = "The location", body = Location, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`")))),
)]
async fn get_location(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, LocationId)>,
) -> ApiResult<Tagged<Location>> {
    auth::member(&state, &user, hid).await?;
    let tree = Tree::load(&state, hid).await?;
    let row = tree
        .get(id)
        .ok_or_else(|| ApiError::not_found("location"))?;
    let counts = state.store.location_item_counts(hid).await?;
    let dto = location_dto(&tree, row, &counts);
    Ok(Tagged::ok(dto.version, dto))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/locations/{id}",
    tag = "Locations",
    summary = "Rename or move a location",
    description = "Changes the fields the body names; `parent_id: null` makes it a top-level \
        location.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = LocationId, Path, description = "The location"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on, as the `ETag` gave it \
            (`\"3\"`): a stale one answers 412"),
    ),
    request_body = UpdateLocation,
    responses(
        (status = 200, description = "The location as it is now", body = Location,
            headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change locations", body = ErrorBody),
        (status = 409, description = "The `asset_id` is another item's or location's of the \
            household: the message says whose", body = ErrorBody),
        (status = 422, description = "Invalid fields (an `asset_id` that is not one, or \
            `null`), a `parent_id` that is not a location of \
            this household, or one that would put the location inside itself",
            body = ErrorBody),
    ),
)]
async fn update_location(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, LocationId)>,
    IfMatch(if_match): IfMatch,
    AppJson(body): AppJson<UpdateLocation>,
) -> ApiResult<Tagged<Location>> {
    auth::editor(&state, &user, hid).await?;
    let tree = Tree::load(&state, hid).await?;
    let current = tree
        .get(id)
        .ok_or_else(|| ApiError::not_found("location"))?
        .clone();
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let mut errors = FieldErrors::new();
    let mut next = current.clone();
    match &body.name {
        Patch::Missing => {}
        Patch::Null => {
            errors.insert("name".into(), "is required".into());
        }
        Patch::Value(raw) => match parse_name(raw, MAX_LOCATION_NAME) {
            Ok(name) => next.name = name,
            Err(e) => {
                errors.insert("name".into(), e);
            }
        },
    }
    match &body.description {
        Patch::Missing => {}
        Patch::Null => next.description = None,
        Patch::Value(raw) => match parse_optional_text(raw, MAX_LONG_TEXT_CHARS) {
            Ok(d) => next.description = d,
            Err(e) => {
                errors.insert("description".into(), e);
            }
        },
    }
    match parse_asset_id_patch(&body.asset_id) {
        Ok(Some(asset_id)) => next.asset_id = Some(asset_id),
        Ok(None) => {}
        Err(e) => {
            errors.insert("asset_id".into(), e);
        }
    }
    if let Some(parent) = body.parent_id.clone().into_change() {
        if parent != current.parent_id {
            check_parent(&tree, id, parent, &mut errors);
        }
        next.parent_id = parent;
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let counts = state.store.location_item_counts(hid).await?;
    if next == current {
        let dto = location_dto(&tree, &current, &counts);
        return Ok(Tagged::ok(dto.version, dto));
    }
    next.version = current.version + 1;
    next.updated_at = now();
    state.store.update_location(&next, current.version).await?;
    state.access.forget_tree(hid);
    let mut rows: Vec<LocationRow> = tree.rows().filter(|r| r.id != id).cloned().collect();
    rows.push(next.clone());
    let tree = Tree::new(rows);
    let dto = location_dto(&tree, &next, &counts);
    Ok(Tagged::ok(dto.version, dto))
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/locations/{id}",
    tag = "Locations",
    summary = "Delete a location",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = LocationId, Path, description = "The location"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Viewers can't delete locations", body = ErrorBody),
        (status = 409, description = "It still holds items or other locations: the message \
            says what", body = ErrorBody),
    ),
)]
async fn delete_location(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, LocationId)>,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    match state.store.delete_location(hid, id).await {
        Ok(()) => {
            state.access.forget_tree(hid);
            super::changes::prune_removals(&state, hid).await;
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found("location")),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, id: LocationId, parent: Option<LocationId>) -> LocationRow {
        let at = now();
        LocationRow {
            id,
            household_id: HouseholdId::new(),
            parent_id: parent,
            name: name.into(),
            description: None,
            asset_id: None,
            version: 1,
            created_at: at,
            updated_at: at,
        }
    }

    /// A cycle already in the database (Garage ↔ Shelf, Box inside it) and a location whose
    /// parent is gone: every walk ends, and each location is still shown with a path.
    /// Before the walks were iterative, `depth_below` recursed around the cycle until the
    /// stack overflowed and the process aborted.
    #[test]
    fn every_walk_of_a_tree_with_a_cycle_ends() {
        let [garage, shelf, bin, orphan, gone, house] = std::array::from_fn(|_| LocationId::new());
        let tree = Tree::new(vec![
            row("Garage", garage, Some(shelf)),
            row("Shelf", shelf, Some(garage)),
            row("Box", bin, Some(shelf)),
            row("Orphan", orphan, Some(gone)),
            row("House", house, None),
        ]);
        assert_eq!(tree.path(garage), ["Shelf", "Garage"]);
        assert_eq!(tree.path(bin), ["Garage", "Shelf", "Box"]);
        assert_eq!(tree.path(orphan), ["Orphan"]);
        assert!(tree.path(gone).is_empty());
        assert_eq!(tree.subtree(garage).len(), 3);
        assert_eq!(tree.subtree(orphan), [orphan]);
        assert_eq!(tree.depth_below(garage), 2);
        assert_eq!(tree.depth_below(house), 0);
        assert_eq!(tree.rows().count(), 5);
        let counts = HashMap::new();
        for r in tree.rows() {
            assert!(!location_dto(&tree, r, &counts).path.is_empty());
        }
        // The checks a move runs: into the cycle is refused, out of it is allowed.
        let mut errors = FieldErrors::new();
        check_parent(&tree, house, Some(bin), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        check_parent(&tree, garage, Some(bin), &mut errors);
        assert_eq!(errors["parent_id"], "would put the location inside itself");
        let mut errors = FieldErrors::new();
        check_parent(&tree, garage, Some(house), &mut errors);
        check_parent(&tree, orphan, Some(shelf), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }
}

//! Items: create, list with search and filters, read, edit with optimistic concurrency,
//! the trash, and each item's history.

use std::collections::HashSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shared::{
    Action, Activity, AssetId, CreateItem, ErrorBody, HouseholdId, Item, ItemId, List, LocationId,
    Page, UpdateItem,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::locations::Tree;
use super::page_limit;
use super::{attachments, changes};
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, AppQuery, IfMatch, Tagged};
use crate::search;
use crate::store::{
    ActivityRow, Cursor, ItemQuery, ItemRow, ItemSort, Shown, StoreError, backoff, now,
};

/// Trashed items deleted for good per transaction (Aurora DSQL: ≤ 3,000 rows a transaction,
/// and each item takes its tags and history along).
const PURGE_CHUNK: usize = 50;
/// Tries of an edit without `If-Match` that keeps meeting concurrent edits.
const EDIT_ATTEMPTS: u32 = 10;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_items, create_item))
        .routes(routes!(get_item, update_item, delete_item))
        .routes(routes!(restore_item))
        .routes(routes!(item_history))
        .routes(routes!(list_trash, empty_trash))
        .routes(routes!(purge_item))
}

pub fn item_dto(row: ItemRow, tree: &Tree) -> Item {
    let f = row.fields;
    Item {
        id: row.id,
        household_id: row.household_id,
        asset_id: crate::store::stored_asset_id(f.asset_id, row.id.as_uuid()),
        location_path: f.location_id.map(|l| tree.path(l)).unwrap_or_default(),
        name: f.name,
        description: f.description,
        location_id: f.location_id,
        quantity: f.quantity,
        tags: f.tags,
        brand: f.brand,
        model: f.model,
        serial_number: f.serial_number,
        barcode: f.barcode,
        purchase_date: f.purchase_date,
        purchase_price: f.purchase_price,
        purchased_from: f.purchased_from,
        estimated_value: f.estimated_value,
        warranty_expires: f.warranty_expires,
        notes: f.notes,
        custom_fields: f.custom_fields,
        insured: f.insured,
        lifetime_warranty: f.lifetime_warranty,
        sold_to: f.sold_to,
        sold_date: f.sold_date,
        sold_price: f.sold_price,
        sold_notes: f.sold_notes,
        thumbnail_url: None,
        version: row.version,
        created_at: row.created_at,
        updated_at: row.updated_at,
        deleted_at: row.deleted_at,
    }
}

/// An item as answered on its own: with its primary photo's thumbnail.
async fn shown(state: &AppState, shown: Shown, tree: &Tree) -> ApiResult<Item> {
    let hid = shown.row.household_id;
    let mut items = [item_dto(shown.row, tree)];
    attachments::set_thumbnails(state, hid, &mut items, &[shown.photo]).await?;
    let [item] = items;
    Ok(item)
}

/// A live (not trashed) item of the household, else 404.
pub(crate) async fn live_item(
    state: &AppState,
    hid: HouseholdId,
    id: ItemId,
) -> ApiResult<ItemRow> {
    match state.store.item(hid, id).await? {
        Some(row) if row.deleted_at.is_none() => Ok(row),
        _ => Err(ApiError::not_found("item")),
    }
}

/// An item of the household, live or trashed, with its primary photo: one query.
async fn item_shown(state: &AppState, hid: HouseholdId, id: ItemId) -> ApiResult<Option<Shown>> {
    Ok(state.store.items_shown(hid, &[id]).await?.pop())
}

/// A live item with its primary photo, else 404.
async fn live_shown(state: &AppState, hid: HouseholdId, id: ItemId) -> ApiResult<Shown> {
    match item_shown(state, hid, id).await? {
        Some(shown) if shown.row.deleted_at.is_none() => Ok(shown),
        _ => Err(ApiError::not_found("item")),
    }
}

pub(crate) fn check_location(tree: &Tree, location: Option<LocationId>) -> ApiResult<()> {
    match location {
        Some(id) if tree.get(id).is_none() => Err(ApiError::field(
            "location_id",
            "is not a location of this household",
        )),
        _ => Ok(()),
    }
}

/// `tree` (this process's recent copy) when it knows `location`; else the tree read again,
/// which knows a location made meanwhile by another process; else 422.
async fn known_location(
    state: &AppState,
    hid: HouseholdId,
    tree: Arc<Tree>,
    location: Option<LocationId>,
) -> ApiResult<Arc<Tree>> {
    if check_location(&tree, location).is_ok() {
        return Ok(tree);
    }
    let tree = state.access.load_tree(&state.store, hid).await?;
    check_location(&tree, location)?;
    Ok(tree)
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items",
    tag = "Items",
    summary = "Create an item",
    description = "With a client-made `id`, repeating the request answers 200 with the item \
        made the first time instead of making another.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = CreateItem,
    responses(
        (status = 201, description = "Created", body = Item, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`")),
            links(
                ("GetItem" = (operation_id = "get_item",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
                ("UpdateItem" = (operation_id = "update_item",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
                ("DeleteItem" = (operation_id = "delete_item",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
                ("ItemHistory" = (operation_id = "item_history",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))),
            )),
        (status = 200, description = "An item with this client-made `id` exists already: \
            this is it", body = Item, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't add items", body = ErrorBody),
        (status = 409, description = "The `id` is taken by something else, or the \
            `asset_id` by another item or location of the household", body = ErrorBody),
        (status = 422, description = "Invalid fields (an `asset_id` that is not one), a \
            `location_id` that is not a location of this household, or money in another \
            currency than the household's",
            body = ErrorBody),
    ),
)]
async fn create_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<CreateItem>,
) -> ApiResult<(StatusCode, Tagged<Item>)> {
    let household = auth::editor(&state, &user, hid).await?;
    // An invalid body is refused even when it repeats an existing item's id.
    let fields = body
        .validate(&household.currency)
        .map_err(ApiError::Validation)?;
    if let Some(id) = body.id {
        match state.store.item_owner(id).await? {
            Some(owner) if owner == hid => return existing_item(&state, hid, id).await,
            Some(_) => {
                return Err(ApiError::Conflict(
                    "that id is already used by something else".into(),
                ));
            }
            None => {}
        }
    }
    let tree = Tree::cached(&state, hid).await?;
    let tree = known_location(&state, hid, tree, fields.location_id).await?;
    let at = now();
    let mut row = ItemRow {
        id: body.id.unwrap_or_default(),
        household_id: hid,
        fields,
        version: 1,
        created_at: at,
        updated_at: at,
        deleted_at: None,
    };
    let activity = ActivityRow::new(hid, row.id, user.user.id, Action::Created, vec![], at)
        .via(user.via_token());
    match state.store.insert_item(&row, &activity).await {
        // New: no photo yet.
        Ok(asset_id) => {
            row.fields.asset_id = Some(asset_id);
            state.search.note(&row);
            Ok((
                StatusCode::CREATED,
                Tagged::created(1, item_dto(row, &tree)),
            ))
        }
        // Two copies of one retried create raced: the first one won.
        Err(StoreError::Conflict(_)) if body.id.is_some() => {
            existing_item(&state, hid, row.id).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn existing_item(
    state: &AppState,
    hid: HouseholdId,
    id: ItemId,
) -> ApiResult<(StatusCode, Tagged<Item>)> {
    let item = item_shown(state, hid, id)
        .await?
        .ok_or_else(|| ApiError::Conflict("that id is already used by something else".into()))?;
    let tree = Tree::cached(state, hid).await?;
    Ok((
        StatusCode::OK,
        Tagged::ok(item.row.version, shown(state, item, &tree).await?),
    ))
}

/// The filters, order and page of `GET …/items`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// Case-insensitive text found in the name, description, brand, model, serial number,
    /// barcode, notes or a tag; or an asset id, `#000123` or `000-123`: the item with that
    /// number.
    q: Option<String>,
    /// Items in this location and every location below it; `none`: items without one
    /// (empty: any).
    #[param(
        value_type = Option<String>,
        pattern = "^(|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
    )]
    location_id: Option<String>,
    /// Items with this tag (without regard to case).
    tag: Option<String>,
    /// The order: `newest` first (the default), `oldest`, `name` or `updated` (last
    /// changed first).
    #[param(inline, value_type = Option<crate::openapi::ItemOrder>)]
    sort: Option<String>,
    /// Items per page, 1 to 200; 50 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Where the page starts: the `next_cursor` of the page before.
    cursor: Option<String>,
}

pub(crate) fn parse_sort(raw: Option<&str>) -> ApiResult<ItemSort> {
    match raw.unwrap_or("newest") {
        "newest" => Ok(ItemSort::Newest),
        "oldest" => Ok(ItemSort::Oldest),
        "name" => Ok(ItemSort::Name),
        "updated" => Ok(ItemSort::Updated),
        other => Err(ApiError::BadRequest(format!(
            "sort must be newest, oldest, name or updated, not {other:?}"
        ))),
    }
}

pub(crate) fn parse_limit(raw: Option<&str>) -> ApiResult<usize> {
    let limit = raw
        .map(|l| {
            l.trim()
                .parse::<i64>()
                .map_err(|_| ApiError::BadRequest("limit must be a whole number".into()))
        })
        .transpose()?;
    page_limit(limit)
}

pub(crate) fn parse_cursor(raw: Option<&str>, sort: ItemSort) -> ApiResult<Option<Cursor>> {
    let Some(raw) = raw.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    match Cursor::decode(raw) {
        Some(cursor) if cursor.sort == sort => Ok(Some(cursor)),
        Some(_) => Err(ApiError::BadRequest(
            "the cursor belongs to a list in another order; start again without it".into(),
        )),
        None => Err(ApiError::BadRequest("the cursor is not valid".into())),
    }
}

async fn page_of(
    state: &AppState,
    hid: HouseholdId,
    mut query: ItemQuery,
    tree: &Tree,
) -> ApiResult<Page<Item>> {
    let limit = query.limit;
    query.limit = limit + 1;
    let rows = state.store.list_shown(hid, &query).await?;
    let more = rows.len() > limit;
    page(state, hid, rows, more, limit, query.sort, tree).await
}

/// A page of at most `limit` rows, with a cursor after the last when there are `more`.
async fn page(
    state: &AppState,
    hid: HouseholdId,
    mut rows: Vec<Shown>,
    more: bool,
    limit: usize,
    sort: ItemSort,
    tree: &Tree,
) -> ApiResult<Page<Item>> {
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|r| Cursor::after(&r.row, sort).encode())
    } else {
        None
    };
    let photos: Vec<_> = rows.iter().map(|r| r.photo).collect();
    let mut items: Vec<Item> = rows.into_iter().map(|r| item_dto(r.row, tree)).collect();
    attachments::set_thumbnails(state, hid, &mut items, &photos).await?;
    Ok(Page { items, next_cursor })
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items",
    tag = "Items",
    summary = "List items",
    description = "Newest first unless `sort` says otherwise, a page at a time; `q`, \
        `location_id` and `tag` filter.",
    params(("hid" = HouseholdId, Path, description = "The household"), ListParams),
    responses(
        (status = 200, description = "A page of items", body = Page<Item>),
        (status = 400, description = "A malformed `limit`, `sort`, `location_id` or `cursor`, \
            or a cursor of a list in another order", body = ErrorBody),
        (status = 404, description = "No such household, or no such location", body = ErrorBody),
    ),
)]
async fn list_items(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<ListParams>,
) -> ApiResult<Json<Page<Item>>> {
    auth::member(&state, &user, hid).await?;
    let sort = parse_sort(params.sort.as_deref())?;
    let limit = parse_limit(params.limit.as_deref())?;
    let after = parse_cursor(params.cursor.as_deref(), sort)?;
    let filters = |tree: &Tree| {
        filtered_query(
            params.q.as_deref(),
            params.location_id.as_deref(),
            params.tag.as_deref(),
            tree,
        )
    };
    let mut tree = Tree::cached(&state, hid).await?;
    let mut found = filters(&tree);
    if let Err(BadLocation::Unknown) = found {
        // Perhaps a location made by another process since this one read the tree.
        tree = state.access.load_tree(&state.store, hid).await?;
        found = filters(&tree);
    }
    let mut query = found.map_err(|bad| match bad {
        BadLocation::Malformed => {
            ApiError::BadRequest("location_id must be a location id or \"none\"".into())
        }
        BadLocation::Unknown => ApiError::not_found("location"),
    })?;
    query.sort = sort;
    query.after = after;
    query.limit = limit;
    // Filtered lists come from the index; the plain list, and the search for an asset id,
    // are one index range in SQL.
    if query.asset_id.is_none()
        && (query.search.is_some()
            || query.location_ids.is_some()
            || query.unplaced
            || query.tag.is_some())
    {
        return Ok(Json(search_page(&state, hid, query, &tree).await?));
    }
    Ok(Json(page_of(&state, hid, query, &tree).await?))
}

/// A `location_id` filter that names no location of the household.
pub(crate) enum BadLocation {
    /// Neither a location id nor `none`.
    Malformed,
    /// Not a location of this household.
    Unknown,
}

/// The store query of the item list's filters (`q`, `location_id`, `tag`), newest first.
pub(crate) fn filtered_query(
    q: Option<&str>,
    location_id: Option<&str>,
    tag: Option<&str>,
    tree: &Tree,
) -> Result<ItemQuery, BadLocation> {
    let (search, asset_id) = search_terms(q);
    let mut query = ItemQuery {
        search,
        asset_id,
        tag: tag_key(tag),
        ..Default::default()
    };
    match location_id.map(str::trim) {
        None | Some("") => {}
        Some("none") => query.unplaced = true,
        Some(raw) => {
            let id: LocationId = raw.parse().map_err(|_| BadLocation::Malformed)?;
            if tree.get(id).is_none() {
                return Err(BadLocation::Unknown);
            }
            query.location_ids = Some(tree.subtree(id));
        }
    }
    Ok(query)
}

/// What `q` looks for: an asset id (`#000123`, `000-123`: exactly that item), else text
/// (`search_needle`). `#` and digits that are no asset id (`#0`) are looked for as text.
pub(crate) fn search_terms(q: Option<&str>) -> (Option<String>, Option<AssetId>) {
    match q.and_then(AssetId::from_search) {
        Some(Ok(asset_id)) => (None, Some(asset_id)),
        _ => (search_needle(q), None),
    }
}

/// What `q` looks for: trimmed and lower-cased; `None` when empty.
pub(crate) fn search_needle(q: Option<&str>) -> Option<String> {
    q.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty())
}

/// The tag `tag` filters by: white space collapsed, lower-cased; `None` when empty.
pub(crate) fn tag_key(tag: Option<&str>) -> Option<String> {
    tag.map(|t| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    })
    .filter(|t| !t.is_empty())
}

/// A page of a searched or filtered list, found by the in-memory index and read from the
/// store.
async fn search_page(
    state: &AppState,
    hid: HouseholdId,
    query: ItemQuery,
    tree: &Tree,
) -> ApiResult<Page<Item>> {
    let locations = location_set(&query);
    let (rows, found) = state
        .search
        .search_shown(
            &state.store,
            hid,
            &index_query(&query, locations.as_ref(), query.limit + 1),
        )
        .await?;
    let more = found > query.limit;
    page(state, hid, rows, more, query.limit, query.sort, tree).await
}

/// The rows of one page of the item list and whether more follow: from the in-memory
/// index when filtered, else (the plain list, or an asset id) one index range in SQL.
pub(crate) async fn page_rows(
    state: &AppState,
    hid: HouseholdId,
    query: &ItemQuery,
) -> ApiResult<(Vec<Shown>, bool)> {
    let limit = query.limit;
    if query.asset_id.is_none()
        && (query.search.is_some()
            || query.location_ids.is_some()
            || query.unplaced
            || query.tag.is_some())
    {
        let locations = location_set(query);
        let (rows, found) = state
            .search
            .search_shown(
                &state.store,
                hid,
                &index_query(query, locations.as_ref(), limit + 1),
            )
            .await?;
        return Ok((rows, found > limit));
    }
    let query = ItemQuery {
        limit: limit + 1,
        ..query.clone()
    };
    let rows = state.store.list_shown(hid, &query).await?;
    let more = rows.len() > limit;
    Ok((rows, more))
}

/// The locations a filter by location covers, as a set.
fn location_set(query: &ItemQuery) -> Option<HashSet<LocationId>> {
    query
        .location_ids
        .as_ref()
        .map(|ids| ids.iter().copied().collect())
}

/// The item list's filters as a question to the search index.
fn index_query<'a>(
    query: &'a ItemQuery,
    locations: Option<&'a HashSet<LocationId>>,
    limit: usize,
) -> search::Query<'a> {
    search::Query {
        needle: query.search.as_deref().unwrap_or_default(),
        locations,
        unplaced: query.unplaced,
        tag: query.tag.as_deref(),
        sort: query.sort,
        after: query.after.as_ref(),
        limit,
    }
}

/// Ids of the live items a filtered list shows, in its order and from its cursor on: at
/// most `limit`. Found by the in-memory index.
pub(crate) async fn search_ids(
    state: &AppState,
    hid: HouseholdId,
    query: &ItemQuery,
    limit: usize,
) -> ApiResult<Vec<ItemId>> {
    // The index knows no asset ids: one look-up of the `items_asset_id` index instead.
    if query.asset_id.is_some() {
        let query = ItemQuery {
            limit,
            ..query.clone()
        };
        let rows = state.store.list_items(hid, &query).await?;
        return Ok(rows.into_iter().map(|r| r.id).collect());
    }
    let locations = location_set(query);
    Ok(state
        .search
        .search(
            &state.store,
            hid,
            &index_query(query, locations.as_ref(), limit),
        )
        .await?)
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}",
    tag = "Items",
    summary = "Get an item",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses(
        (status = 200, description = "The item", body = Item, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 404, description = "No such item (a trashed item is in the trash)",
            body = ErrorBody),
    ),
)]
async fn get_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Tagged<Item>> {
    auth::member(&state, &user, hid).await?;
    let (item, tree) = tokio::try_join!(live_shown(&state, hid, id), Tree::cached(&state, hid))?;
    Ok(Tagged::ok(
        item.row.version,
        shown(&state, item, &tree).await?,
    ))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/items/{id}",
    tag = "Items",
    summary = "Edit an item",
    description = "Changes the fields the body names: `null` clears a field, an absent field \
        stays as it is. Without `If-Match`, the change applies to the item as it is when it \
        arrives, however many others edit it at the same time.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on, as the `ETag` gave it \
            (`\"3\"`): a stale one answers 412"),
    ),
    request_body = UpdateItem,
    responses(
        (status = 200, description = "The item as it is now", body = Item, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't change items", body = ErrorBody),
        (status = 409, description = "The `asset_id` is another item's or location's of the \
            household: the message says whose", body = ErrorBody),
        (status = 422, description = "Invalid fields (an `asset_id` that is not one, or \
            `null`), a `location_id` that is not a location of this household, or money in \
            another currency than the household's",
            body = ErrorBody),
    ),
)]
async fn update_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
    IfMatch(if_match): IfMatch,
    AppJson(patch): AppJson<UpdateItem>,
) -> ApiResult<Tagged<Item>> {
    let household = auth::editor(&state, &user, hid).await?;
    let mut tree = Tree::cached(&state, hid).await?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let Shown {
            row: current,
            photo,
        } = live_shown(&state, hid, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(ApiError::PreconditionFailed);
        }
        let (fields, changed) = patch
            .apply(&current.fields, &household.currency)
            .map_err(ApiError::Validation)?;
        if changed.contains(&"location_id") {
            tree = known_location(&state, hid, tree, fields.location_id).await?;
        }
        if changed.is_empty() {
            let item = Shown {
                row: current,
                photo,
            };
            return Ok(Tagged::ok(
                item.row.version,
                shown(&state, item, &tree).await?,
            ));
        }
        let at = now();
        let next = ItemRow {
            fields,
            version: current.version + 1,
            updated_at: at,
            ..current.clone()
        };
        let activity = ActivityRow::new(
            hid,
            id,
            user.user.id,
            Action::Updated,
            changed.iter().map(|f| f.to_string()).collect(),
            at,
        )
        .via(user.via_token());
        match state
            .store
            .update_item(&next, current.version, &activity)
            .await
        {
            Ok(()) => {
                state.search.note(&next);
                let item = Shown { row: next, photo };
                return Ok(Tagged::ok(
                    item.row.version,
                    shown(&state, item, &tree).await?,
                ));
            }
            // Without If-Match the caller asked to change these fields whatever else
            // changed: read again and reapply.
            Err(StoreError::Stale) if if_match.is_none() && attempt < EDIT_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Moves an item in or out of the trash, logging it.
async fn set_trashed(
    state: &AppState,
    user: &CurrentUser,
    row: ItemRow,
    trashed: bool,
) -> ApiResult<ItemRow> {
    let at = now();
    let mut next = ItemRow {
        version: row.version + 1,
        updated_at: at,
        deleted_at: trashed.then_some(at),
        ..row.clone()
    };
    if !trashed {
        // Its location may have been deleted while it was in the trash.
        let tree = Tree::load(state, row.household_id).await?;
        if next
            .fields
            .location_id
            .is_some_and(|l| tree.get(l).is_none())
        {
            next.fields.location_id = None;
        }
    }
    let action = if trashed {
        Action::Deleted
    } else {
        Action::Restored
    };
    let activity = ActivityRow::new(row.household_id, row.id, user.user.id, action, vec![], at)
        .via(user.via_token());
    state
        .store
        .update_item(&next, row.version, &activity)
        .await?;
    state.search.note(&next);
    Ok(next)
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/items/{id}",
    tag = "Items",
    summary = "Move an item to the trash",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on, as the `ETag` gave it \
            (`\"3\"`): a stale one answers 412"),
    ),
    responses(
        (status = 204, description = "In the trash: restore it, or purge it for good",
            links(
                ("RestoreItem" = (operation_id = "restore_item",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$request.path.id")))),
                ("PurgeItem" = (operation_id = "purge_item",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$request.path.id")))),
            )),
        (status = 403, description = "Viewers can't delete items", body = ErrorBody),
    ),
)]
async fn delete_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
    IfMatch(if_match): IfMatch,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    let row = live_item(&state, hid, id).await?;
    if if_match.is_some_and(|v| v != row.version) {
        return Err(ApiError::PreconditionFailed);
    }
    set_trashed(&state, &user, row, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/restore",
    tag = "Items",
    summary = "Restore an item from the trash",
    description = "Restoring an item that is not in the trash changes nothing.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses(
        (status = 200, description = "The item, out of the trash", body = Item, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Viewers can't restore items", body = ErrorBody),
    ),
)]
async fn restore_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Tagged<Item>> {
    auth::editor(&state, &user, hid).await?;
    let Shown { row, photo } = item_shown(&state, hid, id)
        .await?
        .ok_or_else(|| ApiError::not_found("item"))?;
    let tree = Tree::cached(&state, hid).await?;
    if row.deleted_at.is_none() {
        // Restoring twice is harmless.
        let item = Shown { row, photo };
        return Ok(Tagged::ok(
            item.row.version,
            shown(&state, item, &tree).await?,
        ));
    }
    let row = set_trashed(&state, &user, row, false).await?;
    let item = Shown { row, photo };
    Ok(Tagged::ok(
        item.row.version,
        shown(&state, item, &tree).await?,
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}/history",
    tag = "Items",
    summary = "An item's history",
    description = "Who created, changed (which fields), deleted or restored it, oldest first.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item (trashed ones too)"),
    ),
    responses((status = 200, description = "What happened to the item", body = List<Activity>)),
)]
async fn item_history(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Json<List<Activity>>> {
    auth::member(&state, &user, hid).await?;
    if state.store.item(hid, id).await?.is_none() {
        return Err(ApiError::not_found("item"));
    }
    let items = state.store.history(hid, id).await?;
    Ok(Json(List { items }))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/trash",
    tag = "Items",
    summary = "List the trash",
    description = "Trashed items, the most recently deleted first.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 200,
            description = "Items per page, 1 to 200; 50 when absent"),
        ("cursor" = Option<String>, Query,
            description = "Where the page starts: the `next_cursor` of the page before"),
    ),
    responses(
        (status = 200, description = "A page of trashed items", body = Page<Item>),
        (status = 400, description = "A malformed `limit` or `cursor`", body = ErrorBody),
    ),
)]
async fn list_trash(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<ListParams>,
) -> ApiResult<Json<Page<Item>>> {
    auth::member(&state, &user, hid).await?;
    let limit = parse_limit(params.limit.as_deref())?;
    let after = parse_cursor(params.cursor.as_deref(), ItemSort::Deleted)?;
    let tree = Tree::cached(&state, hid).await?;
    let query = ItemQuery {
        trashed: true,
        sort: ItemSort::Deleted,
        after,
        limit,
        ..Default::default()
    };
    Ok(Json(page_of(&state, hid, query, &tree).await?))
}

/// Deletes one trashed item for good.
#[utoipa::path(
    delete,
    path = "/households/{hid}/trash/{id}",
    tag = "Items",
    summary = "Delete a trashed item for good",
    description = "The item, its history and its files are gone for good.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The trashed item"),
    ),
    responses(
        (status = 204, description = "Deleted for good"),
        (status = 403, description = "Viewers can't purge items", body = ErrorBody),
        (status = 404, description = "No such item in the trash", body = ErrorBody),
    ),
)]
async fn purge_item(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    let purged = state.store.purge_trash(hid, Some(id), 1).await?;
    if purged.items == 0 {
        return Err(ApiError::not_found("item in the trash"));
    }
    state.search.forget(hid, Some(id));
    attachments::delete_files(&state, hid, &purged.attachments).await;
    changes::prune_removals(&state, hid).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Empties the trash, in chunks small enough for one transaction each.
#[utoipa::path(
    delete,
    path = "/households/{hid}/trash",
    tag = "Items",
    summary = "Empty the trash",
    description = "Every trashed item, its history and its files are gone for good.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses(
        (status = 204, description = "The trash is empty"),
        (status = 403, description = "Viewers can't empty the trash", body = ErrorBody),
    ),
)]
async fn empty_trash(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    loop {
        let purged = state.store.purge_trash(hid, None, PURGE_CHUNK).await?;
        attachments::delete_files(&state, hid, &purged.attachments).await;
        if purged.items < PURGE_CHUNK {
            break;
        }
    }
    state.search.forget(hid, None);
    changes::prune_removals(&state, hid).await;
    Ok(StatusCode::NO_CONTENT)
}

//! What a share link shows, to whoever holds it, without an account: its household's name
//! and scope, the locations in scope, the items in scope (searched and filtered like the
//! household's own list), an item with its photos and documents, and their files. Read
//! only: there is nothing to write here.
//!
//! The secret in the path is looked up by its SHA-256 hash (the database compares hashes,
//! so how long a lookup takes says nothing about the secret). An unknown secret is a plain
//! 404; a revoked or expired one a 404 that says so. Anything outside the link's scope
//! (another location, another household, the trash, receipts when prices are hidden) is a
//! 404 like anything that does not exist. These routes never read nor set the session
//! cookie, so they work the same signed in as anyone, or signed out. Every request is
//! logged for the household's owners with one insert, an item or file asked for outside
//! the link too (a thumbnail, loaded with every list, is part of the list's use and is not
//! logged again).

use std::collections::HashSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::{
    Attachment, AttachmentId, AttachmentKind, AttachmentStatus, ErrorBody, Item, ItemId, List,
    Location, LocationId, Page, ShareLinkStatus, ShareUseId, SharedInfo, SharedItem, SharedScope,
};
use time::OffsetDateTime;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::attachments::{UNFILED, content_disposition, thumbnail_url_of};
use super::items::{
    BadLocation, filtered_query, item_dto, page_rows, parse_cursor, parse_limit, parse_sort,
};
use super::locations::{Tree, location_dto};
use super::share_links::status;
use crate::AppState;
use crate::auth::{ClientAddress, token_hash};
use crate::blob::{UrlWindow, keys};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppPath, AppQuery};
use crate::store::{AttachmentRow, Cursor, ItemRow, ShareLinkRow, ShareUseRow, now};

/// Characters of a link's secret: 32 random bytes in unpadded base64url.
const SECRET_CHARS: usize = 43;
/// Longest `User-Agent` kept in the log.
const MAX_USER_AGENT_CHARS: usize = 300;
/// Longest search text quoted in the log.
const MAX_LOGGED_SEARCH_CHARS: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(shared_info))
        .routes(routes!(shared_locations))
        .routes(routes!(shared_items))
        .routes(routes!(shared_item))
        .routes(routes!(shared_file))
}

fn unknown_link() -> ApiError {
    ApiError::NotFound("share link not found; check that the link was copied whole".into())
}

fn closed_link() -> ApiError {
    ApiError::NotFound("This share link has expired or was revoked.".into())
}

/// A request through a link: the link, if it is open, and what it covers.
struct Visit {
    link: ShareLinkRow,
    household_name: String,
    secret: String,
    tree: Arc<Tree>,
    /// The locations in scope; `None`: the whole household.
    scope: Option<HashSet<LocationId>>,
    address: String,
    user_agent: Option<String>,
}

impl Visit {
    async fn open(
        state: &AppState,
        secret: String,
        address: String,
        headers: &HeaderMap,
    ) -> ApiResult<Self> {
        let well_formed = secret.len() == SECRET_CHARS
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !well_formed {
            return Err(unknown_link());
        }
        let (link, household_name) = state
            .store
            .share_link_by_hash(&token_hash(&secret))
            .await?
            .ok_or_else(unknown_link)?;
        if status(&link, now()) != ShareLinkStatus::Active {
            return Err(closed_link());
        }
        let tree = Tree::cached(state, link.household_id).await?;
        let scope = match link.location_id {
            None => None,
            Some(root) if tree.get(root).is_some() => {
                Some(tree.subtree(root).into_iter().collect())
            }
            Some(_) => {
                return Err(ApiError::NotFound(
                    "the location this share link showed no longer exists".into(),
                ));
            }
        };
        let user_agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(MAX_USER_AGENT_CHARS).collect());
        Ok(Self {
            link,
            household_name,
            secret,
            tree,
            scope,
            address,
            user_agent,
        })
    }

    /// Whether an item in `location` is in scope.
    fn covers(&self, location: Option<LocationId>) -> bool {
        match &self.scope {
            None => true,
            Some(scope) => location.is_some_and(|l| scope.contains(&l)),
        }
    }

    /// Logs this request: one insert.
    async fn log(&self, state: &AppState, what: String) -> ApiResult<()> {
        state
            .store
            .log_share_use(&ShareUseRow {
                id: ShareUseId::new(),
                household_id: self.link.household_id,
                link_id: self.link.id,
                at: now(),
                what,
                address: self.address.clone(),
                user_agent: self.user_agent.clone(),
            })
            .await?;
        Ok(())
    }

    /// Where a file of the household is fetched through the link.
    fn file_url(&self, id: AttachmentId, variant: &str) -> String {
        format!("/api/v1/shared/{}/attachments/{id}/{variant}", self.secret)
    }

    /// An item as the link shows it: without money when prices are hidden, its photo
    /// through the link.
    fn item(&self, row: ItemRow, photo: Option<AttachmentId>) -> Item {
        let mut item = item_dto(row, &self.tree);
        if self.link.hide_prices {
            item.purchase_price = None;
            item.estimated_value = None;
            item.sold_price = None;
        }
        item.thumbnail_url = photo.map(|p| self.file_url(p, "thumbnail"));
        item
    }

    /// Whether the link shows this file: a ready file of a live item in scope, and no
    /// receipt when prices are hidden.
    async fn shows(&self, state: &AppState, row: &AttachmentRow) -> ApiResult<bool> {
        if row.status != AttachmentStatus::Ready
            || row.item_id == UNFILED
            || (self.link.hide_prices && row.kind == AttachmentKind::Receipt)
        {
            return Ok(false);
        }
        Ok(
            match state
                .store
                .item(self.link.household_id, row.item_id)
                .await?
            {
                Some(item) => item.deleted_at.is_none() && self.covers(item.fields.location_id),
                None => false,
            },
        )
    }
}

/// What `hide_prices` leaves out, as `SharedInfo::hidden` names it.
fn hidden(link: &ShareLinkRow) -> Vec<String> {
    if link.hide_prices {
        vec!["prices".into(), "receipts".into()]
    } else {
        Vec::new()
    }
}

#[utoipa::path(
    get,
    path = "/shared/{secret}",
    security(),
    tag = "Shared",
    summary = "What a share link shows",
    description = "No account needed: the secret in the path is the credential. The \
        household's name, the link's name, its scope (one location and everything below it, \
        or `null` for the whole household), whether prices are hidden and until when it \
        works.",
    params(("secret" = String, Path, description = "The secret of the link's URL (`/s/<secret>`)")),
    responses(
        (status = 200, description = "The link is open", body = SharedInfo),
        (status = 404, description = "No such link, or it expired or was revoked", body = ErrorBody),
    ),
)]
async fn shared_info(
    State(state): State<AppState>,
    AppPath(secret): AppPath<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<Json<SharedInfo>> {
    let visit = Visit::open(&state, secret, address, &headers).await?;
    visit.log(&state, "opened the link".into()).await?;
    let link = &visit.link;
    Ok(Json(SharedInfo {
        household_name: visit.household_name.clone(),
        name: link.name.clone(),
        scope: link.location_id.map(|l| SharedScope {
            location_id: l,
            location_path: visit.tree.path(l),
        }),
        hide_prices: link.hide_prices,
        hidden: hidden(link),
        expires_at: link.expires_at,
    }))
}

#[utoipa::path(
    get,
    path = "/shared/{secret}/locations",
    security(),
    tag = "Shared",
    summary = "The locations a share link shows",
    description = "The link's location and every location below it (every location of the \
        household for a link to all of it), in the order of their paths.",
    params(("secret" = String, Path, description = "The secret of the link's URL")),
    responses(
        (status = 200, description = "The locations in scope", body = List<Location>),
        (status = 404, description = "No such link, or it expired or was revoked", body = ErrorBody),
    ),
)]
async fn shared_locations(
    State(state): State<AppState>,
    AppPath(secret): AppPath<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<Json<List<Location>>> {
    let visit = Visit::open(&state, secret, address, &headers).await?;
    let (counts, ()) = tokio::try_join!(
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .location_item_counts(visit.link.household_id)
                    .await?,
            )
        },
        visit.log(&state, "locations".into())
    )?;
    let tree = &visit.tree;
    let mut items: Vec<Location> = tree
        .rows()
        .filter(|r| visit.covers(Some(r.id)))
        .map(|r| location_dto(tree, r, &counts))
        .collect();
    items.sort_by(|a, b| {
        let key = |l: &Location| l.path.iter().map(|p| p.to_lowercase()).collect::<Vec<_>>();
        key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
    });
    Ok(Json(List { items }))
}

/// The filters and page of `GET /shared/{secret}/items`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct SharedListParams {
    /// Case-insensitive text found in the name, description, brand, model, serial number,
    /// barcode, notes or a tag; or an asset id.
    q: Option<String>,
    /// Items in this location (which must be in the link's scope) and every location below
    /// it; `none`, for a link to the whole household: items without one.
    #[param(value_type = Option<String>)]
    location_id: Option<String>,
    /// Items with this tag (without regard to case).
    tag: Option<String>,
    /// `newest` first (the default), `oldest`, `name` or `updated`.
    #[param(inline, value_type = Option<crate::openapi::ItemOrder>)]
    sort: Option<String>,
    /// Items per page, 1 to 200; 50 when absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 200)]
    limit: Option<String>,
    /// Where the page starts: the `next_cursor` of the page before.
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/shared/{secret}/items",
    security(),
    tag = "Shared",
    summary = "The items a share link shows",
    description = "The live items in the link's scope, a page at a time, filtered like the \
        household's own list. Without prices when the link hides them; `thumbnail_url` \
        leads through the link.",
    params(("secret" = String, Path, description = "The secret of the link's URL"), SharedListParams),
    responses(
        (status = 200, description = "A page of items", body = Page<Item>),
        (status = 400, description = "A malformed `limit`, `sort`, `location_id` or `cursor`",
            body = ErrorBody),
        (status = 404, description = "No such link, it expired or was revoked, or a \
            `location_id` outside its scope", body = ErrorBody),
    ),
)]
async fn shared_items(
    State(state): State<AppState>,
    AppPath(secret): AppPath<String>,
    AppQuery(params): AppQuery<SharedListParams>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<Json<Page<Item>>> {
    let sort = parse_sort(params.sort.as_deref())?;
    let limit = parse_limit(params.limit.as_deref())?;
    let after = parse_cursor(params.cursor.as_deref(), sort)?;
    let visit = Visit::open(&state, secret, address, &headers).await?;
    let location = params.location_id.as_deref().map(str::trim);
    let mut query = filtered_query(
        params.q.as_deref(),
        location,
        params.tag.as_deref(),
        &visit.tree,
    )
    .map_err(|bad| match bad {
        BadLocation::Malformed => {
            ApiError::BadRequest("location_id must be a location id or \"none\"".into())
        }
        BadLocation::Unknown => ApiError::not_found("location"),
    })?;
    if let Some(scope) = &visit.scope {
        let asked: Option<LocationId> = location.and_then(|l| l.parse().ok());
        match asked {
            Some(id) if !scope.contains(&id) => return Err(ApiError::not_found("location")),
            Some(_) => {}
            None if query.unplaced => return Err(ApiError::not_found("location")),
            None => query.location_ids = Some(scope.iter().copied().collect()),
        }
    }
    query.sort = sort;
    query.after = after;
    query.limit = limit;
    let what = match params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => format!(
            "search “{}”",
            q.chars().take(MAX_LOGGED_SEARCH_CHARS).collect::<String>()
        ),
        None => "list".into(),
    };
    let hid = visit.link.household_id;
    let ((mut rows, more), ()) =
        tokio::try_join!(page_rows(&state, hid, &query), visit.log(&state, what))?;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|r| Cursor::after(&r.row, sort).encode())
    } else {
        None
    };
    // The query asked for the scope only; checked again, so no change to the index or the
    // tree between the two can show more.
    let items = rows
        .into_iter()
        .filter(|r| r.row.deleted_at.is_none() && visit.covers(r.row.fields.location_id))
        .map(|r| visit.item(r.row, r.photo))
        .collect();
    Ok(Json(Page { items, next_cursor }))
}

#[utoipa::path(
    get,
    path = "/shared/{secret}/items/{id}",
    security(),
    tag = "Shared",
    summary = "An item a share link shows",
    description = "The item with its photos and documents (their `url`s lead through the \
        link); without prices and receipts when the link hides them. No history.",
    params(
        ("secret" = String, Path, description = "The secret of the link's URL"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses(
        (status = 200, description = "The item", body = SharedItem),
        (status = 404, description = "No such link (or it expired or was revoked), or no \
            such item in its scope", body = ErrorBody),
    ),
)]
async fn shared_item(
    State(state): State<AppState>,
    AppPath((secret, id)): AppPath<(String, ItemId)>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<Json<SharedItem>> {
    let visit = Visit::open(&state, secret, address, &headers).await?;
    let hid = visit.link.household_id;
    let (found, files) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.store.items_shown(hid, &[id]).await?) },
        async { Ok::<_, ApiError>(state.store.attachments(hid, id).await?) },
    )?;
    let Some(shown) = found
        .into_iter()
        .next()
        .filter(|s| s.row.deleted_at.is_none() && visit.covers(s.row.fields.location_id))
    else {
        // Owners see what was asked for and refused, too.
        visit
            .log(&state, "refused: an item outside the link".into())
            .await?;
        return Err(ApiError::not_found("item"));
    };
    visit
        .log(&state, format!("item “{}”", shown.row.fields.name))
        .await?;
    let attachments = files
        .into_iter()
        .filter(|f| f.status == AttachmentStatus::Ready)
        .filter(|f| !(visit.link.hide_prices && f.kind == AttachmentKind::Receipt))
        .map(|f| Attachment {
            url: Some(visit.file_url(f.id, "file")),
            thumbnail_url: f.width.map(|_| visit.file_url(f.id, "thumbnail")),
            id: f.id,
            item_id: Some(f.item_id),
            kind: f.kind,
            filename: f.filename,
            content_type: f.content_type,
            size: f.size,
            status: f.status,
            width: f.width,
            height: f.height,
            primary: f.primary,
            created_at: f.created_at,
        })
        .collect();
    Ok(Json(SharedItem {
        item: visit.item(shown.row, shown.photo),
        attachments,
    }))
}

#[utoipa::path(
    get,
    path = "/shared/{secret}/attachments/{id}/{variant}",
    security(),
    tag = "Shared",
    summary = "A file a share link shows",
    description = "`file`: the photo or document itself; `thumbnail`: a small JPEG preview \
        of a photo. Answers with a redirect to a short-lived signed address of the file, as \
        the app does for its own files.",
    params(
        ("secret" = String, Path, description = "The secret of the link's URL"),
        ("id" = AttachmentId, Path, description = "The attachment"),
        ("variant" = String, Path, description = "`file` or `thumbnail`"),
    ),
    responses(
        (status = 303, description = "Where the file is, for a short while",
            headers(("Location" = String, description = "The signed address"))),
        (status = 404, description = "No such link (or it expired or was revoked), or no \
            such file in its scope", body = ErrorBody),
    ),
)]
async fn shared_file(
    State(state): State<AppState>,
    AppPath((secret, id, variant)): AppPath<(String, AttachmentId, String)>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let visit = Visit::open(&state, secret, address, &headers).await?;
    let hid = visit.link.household_id;
    let row = match state.store.attachment(hid, id).await? {
        Some(row) if visit.shows(&state, &row).await? => row,
        _ => {
            visit
                .log(&state, "refused: a file outside the link".into())
                .await?;
            return Err(ApiError::not_found("file"));
        }
    };
    let window = UrlWindow::around(OffsetDateTime::now_utc());
    let url = match variant.as_str() {
        "file" => {
            visit
                .log(&state, format!("file “{}”", row.filename))
                .await?;
            let disposition = content_disposition(&row.filename, &row.content_type);
            state
                .blobs
                .download_url(
                    &keys::file(hid, id),
                    &row.content_type,
                    &disposition,
                    window,
                )
                .await?
        }
        "thumbnail" if row.width.is_some() => thumbnail_url_of(&state, hid, id, window).await?,
        _ => return Err(ApiError::not_found("file")),
    };
    let location =
        HeaderValue::from_str(&url).map_err(|e| ApiError::Internal(anyhow::anyhow!(e)))?;
    Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

//! Read-only share links, as a household's owners manage them: made (the secret shown
//! once, in the link's URL), listed with their uses, revoked, and the log of their uses.
//! What a link shows is in `shared.rs`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use shared::{
    CreateShareLink, ErrorBody, FieldErrors, HouseholdId, List, NewShareLink, Page, SHARE_PATH,
    ShareLink, ShareLinkId, ShareLinkStatus, ShareUse, ShareUseId, parse_share_link_days,
    parse_share_link_name,
};
use time::{Duration, OffsetDateTime};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::locations::Tree;
use super::page_limit;
use crate::AppState;
use crate::auth::{self, CurrentUser, new_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::{
    ShareLinkListed, ShareLinkRow, ShareUseRow, StoreError, from_micros, micros, now,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_share_links, create_share_link))
        .routes(routes!(revoke_share_link))
        .routes(routes!(share_link_uses))
}

/// Only owners manage share links; editors and viewers are refused with 403.
async fn owner(state: &AppState, user: &CurrentUser, hid: HouseholdId) -> ApiResult<()> {
    let (_, role) = auth::member(state, user, hid).await?;
    if role.is_owner() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an owner can make, see or revoke share links".into(),
        ))
    }
}

/// Whether the link opens at `at`.
pub fn status(link: &ShareLinkRow, at: OffsetDateTime) -> ShareLinkStatus {
    if link.revoked_at.is_some() {
        ShareLinkStatus::Revoked
    } else if link.expires_at <= at {
        ShareLinkStatus::Expired
    } else {
        ShareLinkStatus::Active
    }
}

fn link_dto(listed: ShareLinkListed, tree: &Tree, at: OffsetDateTime) -> ShareLink {
    let link = listed.link;
    ShareLink {
        id: link.id,
        status: status(&link, at),
        location_path: link.location_id.map(|l| tree.path(l)).unwrap_or_default(),
        name: link.name,
        location_id: link.location_id,
        hide_prices: link.hide_prices,
        created_at: link.created_at,
        expires_at: link.expires_at,
        revoked_at: link.revoked_at,
        uses: listed.uses,
        last_used_at: listed.last_used_at,
    }
}

#[utoipa::path(
    post,
    path = "/households/{hid}/share-links",
    tag = "Share links",
    summary = "Make a share link",
    description = "Owners only. A read-only link to the whole household or to one location \
        and everything below it, for someone without an account. The secret is in `url` in \
        this answer only: only its hash is kept.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = CreateShareLink,
    responses(
        (status = 201, description = "Made; give `url` to whoever should look", body = NewShareLink),
        (status = 403, description = "Only owners make share links", body = ErrorBody),
        (status = 422, description = "An empty or long name, a lifetime outside 1 to 365 days, \
            or a `location_id` that is not a location of this household", body = ErrorBody),
    ),
)]
async fn create_share_link(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<CreateShareLink>,
) -> ApiResult<(StatusCode, Json<NewShareLink>)> {
    owner(&state, &user, hid).await?;
    let mut errors = FieldErrors::new();
    let name = parse_share_link_name(&body.name)
        .map_err(|e| errors.insert("name".into(), e))
        .ok();
    let days = parse_share_link_days(body.expires_in_days)
        .map_err(|e| errors.insert("expires_in_days".into(), e))
        .ok();
    let mut tree = Tree::cached(&state, hid).await?;
    if let Some(location) = body.location_id
        && tree.get(location).is_none()
    {
        // Perhaps made by another process since this one read the tree.
        tree = state.access.load_tree(&state.store, hid).await?;
        if tree.get(location).is_none() {
            errors.insert(
                "location_id".into(),
                "is not a location of this household".into(),
            );
        }
    }
    let (Some(name), Some(days), true) = (name, days, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let (secret, hash) = new_token()?;
    let at = now();
    let link = ShareLinkRow {
        id: ShareLinkId::new(),
        household_id: hid,
        token_hash: hash,
        name,
        location_id: body.location_id,
        hide_prices: body.hide_prices,
        created_by: user.user.id,
        created_at: at,
        expires_at: at + Duration::days(days),
        revoked_at: None,
    };
    state.store.insert_share_link(&link).await?;
    let url = format!(
        "{}{SHARE_PATH}{secret}",
        state.config.public_url.trim_end_matches('/')
    );
    let listed = ShareLinkListed {
        link,
        uses: 0,
        last_used_at: None,
    };
    Ok((
        StatusCode::CREATED,
        Json(NewShareLink {
            url,
            link: link_dto(listed, &tree, at),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/share-links",
    tag = "Share links",
    summary = "List share links",
    description = "Owners only. Every link of the household, newest first, expired and \
        revoked ones too, with how often each was used; never their secrets.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses(
        (status = 200, description = "The links", body = List<ShareLink>),
        (status = 403, description = "Only owners see share links", body = ErrorBody),
    ),
)]
async fn list_share_links(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<ShareLink>>> {
    owner(&state, &user, hid).await?;
    let (links, tree) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.store.share_links(hid).await?) },
        Tree::cached(&state, hid)
    )?;
    let at = now();
    let items = links.into_iter().map(|l| link_dto(l, &tree, at)).collect();
    Ok(Json(List { items }))
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/share-links/{id}",
    tag = "Share links",
    summary = "Revoke a share link",
    description = "Owners only. At once: the link's next request answers 404. The link stays \
        in the list, revoked, with its log.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ShareLinkId, Path, description = "The link's id (not its secret)"),
    ),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Only owners revoke share links", body = ErrorBody),
        (status = 404, description = "No such link in this household", body = ErrorBody),
    ),
)]
async fn revoke_share_link(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ShareLinkId)>,
) -> ApiResult<StatusCode> {
    owner(&state, &user, hid).await?;
    match state.store.revoke_share_link(hid, id, now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found("share link")),
        Err(e) => Err(e.into()),
    }
}

/// The page of `GET …/share-links/{id}/uses`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct UsesParams {
    /// Uses per page, 1 to 200; 50 when absent.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// Where the page starts: the `next_cursor` of the page before.
    cursor: Option<String>,
}

fn use_cursor(row: &ShareUseRow) -> String {
    format!("{}.{}", micros(row.at), row.id)
}

fn parse_use_cursor(raw: &str) -> ApiResult<(OffsetDateTime, ShareUseId)> {
    let bad = || ApiError::BadRequest("the cursor is not valid".into());
    let (at, id) = raw.trim().split_once('.').ok_or_else(bad)?;
    let at = at.parse().ok().and_then(from_micros).ok_or_else(bad)?;
    Ok((at, id.parse().map_err(|_| bad())?))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/share-links/{id}/uses",
    tag = "Share links",
    summary = "A share link's log",
    description = "Owners only. Every request made through the link, newest first: when, what \
        it opened, the client's address and its browser (`User-Agent`).",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ShareLinkId, Path, description = "The link's id"),
        UsesParams,
    ),
    responses(
        (status = 200, description = "A page of uses", body = Page<ShareUse>),
        (status = 400, description = "A malformed `limit` or `cursor`", body = ErrorBody),
        (status = 403, description = "Only owners see the log", body = ErrorBody),
        (status = 404, description = "No such link in this household", body = ErrorBody),
    ),
)]
async fn share_link_uses(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, ShareLinkId)>,
    AppQuery(params): AppQuery<UsesParams>,
) -> ApiResult<Json<Page<ShareUse>>> {
    owner(&state, &user, hid).await?;
    let limit = page_limit(params.limit)?;
    let before = params
        .cursor
        .as_deref()
        .filter(|c| !c.is_empty())
        .map(parse_use_cursor)
        .transpose()?;
    if state.store.share_link(hid, id).await?.is_none() {
        return Err(ApiError::not_found("share link"));
    }
    let mut rows = state.store.share_uses(hid, id, before, limit + 1).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(use_cursor)
    } else {
        None
    };
    let items = rows
        .into_iter()
        .map(|r| ShareUse {
            at: r.at,
            what: r.what,
            address: r.address,
            user_agent: r.user_agent,
        })
        .collect();
    Ok(Json(Page { items, next_cursor }))
}

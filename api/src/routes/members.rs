//! Sharing a household: its members and their roles, and invitation links.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shared::{
    CreateInvite, ErrorBody, HouseholdId, Invite, InviteId, InvitePreview, Joined, List, Member,
    UpdateMember, UserId,
};
use time::Duration;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::households::household_dto;
use crate::AppState;
use crate::auth::{self, CurrentUser, SessionUser, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::store::{InviteRow, StoreError, check_invite, now};

const DEFAULT_INVITE_SECONDS: i64 = 7 * 86_400;
const MAX_INVITE_SECONDS: i64 = 30 * 86_400;
const MAX_INVITE_USES: i64 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(list_invites, create_invite))
        .routes(routes!(revoke_invite))
        .routes(routes!(preview_invite))
        .routes(routes!(accept_invite))
}

/// Only owners manage members and invitations, and only signed in (`SessionUser`): an API
/// token may list the members but not change who belongs.
async fn owner(state: &AppState, user: &CurrentUser, hid: HouseholdId) -> ApiResult<()> {
    let (_, role) = auth::member(state, user, hid).await?;
    if role.is_owner() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "only an owner can manage who belongs to the household".into(),
        ))
    }
}

#[utoipa::path(
    get,
    path = "/households/{hid}/members",
    tag = "Members",
    summary = "List members",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses((status = 200, description = "Who belongs to the household, and their roles",
        body = List<Member>)),
)]
async fn list_members(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<Member>>> {
    auth::member(&state, &user, hid).await?;
    let items = state
        .store
        .members(hid)
        .await?
        .into_iter()
        .map(|m| Member {
            user_id: m.user.id,
            name: m.user.name,
            email: m.user.email,
            role: m.role,
            joined_at: m.joined_at,
        })
        .collect();
    Ok(Json(List { items }))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/members/{uid}",
    security(("session" = [])),
    tag = "Members",
    summary = "Change a member's role",
    description = "Owners only. The last owner can't be made an editor or a viewer.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("uid" = UserId, Path, description = "The member"),
    ),
    request_body = UpdateMember,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "Only owners change roles", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "That would leave the household without an owner",
            body = ErrorBody),
    ),
)]
async fn update_member(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath((hid, uid)): AppPath<(HouseholdId, UserId)>,
    AppJson(body): AppJson<UpdateMember>,
) -> ApiResult<StatusCode> {
    owner(&state, &user, hid).await?;
    match state.store.change_role(hid, uid, body.role).await {
        Ok(()) => {
            state.access.forget_memberships();
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found("member")),
        Err(e) => Err(e.into()),
    }
}

/// Owners remove anyone; everyone may leave.
#[utoipa::path(
    delete,
    path = "/households/{hid}/members/{uid}",
    security(("session" = [])),
    tag = "Members",
    summary = "Remove a member, or leave",
    description = "Owners remove anyone; everyone may remove themselves. The last owner can't \
        leave.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("uid" = UserId, Path, description = "The member (your own id to leave)"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Only owners remove others", body = ErrorBody),
        (status = 404, description = "No such member", body = ErrorBody),
        (status = 409, description = "That would leave the household without an owner",
            body = ErrorBody),
    ),
)]
async fn remove_member(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath((hid, uid)): AppPath<(HouseholdId, UserId)>,
) -> ApiResult<StatusCode> {
    if uid == user.user.id {
        auth::member(&state, &user, hid).await?;
    } else {
        owner(&state, &user, hid).await?;
    }
    match state.store.remove_member(hid, uid).await {
        Ok(()) => {
            state.access.forget_memberships();
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found("member")),
        Err(e) => Err(e.into()),
    }
}

fn invite_dto(row: InviteRow, code: Option<String>, public_url: &str) -> Invite {
    Invite {
        id: row.id,
        role: row.role,
        url: code.as_ref().map(|c| format!("{public_url}/invite/{c}")),
        code,
        expires_at: row.expires_at,
        max_uses: row.max_uses,
        uses: row.uses,
        created_at: row.created_at,
    }
}

#[utoipa::path(
    post,
    path = "/households/{hid}/invites",
    security(("session" = [])),
    tag = "Members",
    summary = "Make an invitation link",
    description = "Owners only. Whoever opens the link and signs in joins with its role. The \
        code and the link are in this answer only.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    request_body = CreateInvite,
    responses(
        (status = 201, description = "Made: `code` and `url` are shown this once",
            body = Invite,
            links(("RevokeInvite" = (operation_id = "revoke_invite",
                parameters(("hid" = "$request.path.hid"), ("id" = "$response.body#/id")))))),
        (status = 403, description = "Only owners invite", body = ErrorBody),
    ),
)]
async fn create_invite(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<CreateInvite>,
) -> ApiResult<(StatusCode, Json<Invite>)> {
    owner(&state, &user, hid).await?;
    let seconds = body.expires_in.unwrap_or(DEFAULT_INVITE_SECONDS);
    if !(60..=MAX_INVITE_SECONDS).contains(&seconds) {
        return Err(ApiError::field(
            "expires_in",
            format!("must be between 60 and {MAX_INVITE_SECONDS} seconds (30 days)"),
        ));
    }
    if body
        .max_uses
        .is_some_and(|n| !(1..=MAX_INVITE_USES).contains(&n))
    {
        return Err(ApiError::field(
            "max_uses",
            format!("must be between 1 and {MAX_INVITE_USES}"),
        ));
    }
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let code = URL_SAFE_NO_PAD.encode(bytes);
    let at = now();
    let row = InviteRow {
        id: InviteId::new(),
        household_id: hid,
        code_hash: token_hash(&code),
        role: body.role,
        created_by: user.user.id,
        created_at: at,
        expires_at: at + Duration::seconds(seconds),
        max_uses: body.max_uses,
        uses: 0,
    };
    state.store.create_invite(&row).await?;
    Ok((
        StatusCode::CREATED,
        Json(invite_dto(row, Some(code), &state.config.public_url)),
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/invites",
    security(("session" = [])),
    tag = "Members",
    summary = "List invitation links",
    description = "Owners only; the codes are not shown again.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses(
        (status = 200, description = "The links made and not revoked", body = List<Invite>),
        (status = 403, description = "Only owners see invitations", body = ErrorBody),
    ),
)]
async fn list_invites(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<Invite>>> {
    owner(&state, &user, hid).await?;
    let items = state
        .store
        .invites(hid)
        .await?
        .into_iter()
        .map(|row| invite_dto(row, None, &state.config.public_url))
        .collect();
    Ok(Json(List { items }))
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/invites/{id}",
    security(("session" = [])),
    tag = "Members",
    summary = "Revoke an invitation link",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = InviteId, Path, description = "The invitation"),
    ),
    responses(
        (status = 204, description = "Revoked: the link no longer works"),
        (status = 403, description = "Only owners revoke invitations", body = ErrorBody),
    ),
)]
async fn revoke_invite(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath((hid, id)): AppPath<(HouseholdId, InviteId)>,
) -> ApiResult<StatusCode> {
    owner(&state, &user, hid).await?;
    match state.store.revoke_invite(hid, id, now()).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(ApiError::not_found("invitation")),
        Err(e) => Err(e.into()),
    }
}

/// What a link offers, for anyone holding it: the code is the secret.
#[utoipa::path(
    get,
    path = "/invites/{code}",
    tag = "Members",
    summary = "What an invitation link offers",
    description = "For anyone holding the link: the code is the secret.",
    security(),
    params(("code" = String, Path, description = "The code of the link")),
    responses(
        (status = 200, description = "The household, the role and who invites",
            body = InvitePreview),
        (status = 404, description = "No such invitation, or it was revoked", body = ErrorBody),
        (status = 409, description = "It has expired, or has been used as often as it allows",
            body = ErrorBody),
    ),
)]
async fn preview_invite(
    State(state): State<AppState>,
    AppPath(code): AppPath<String>,
) -> ApiResult<Json<InvitePreview>> {
    let (invite, household_name, invited_by) = state
        .store
        .invite_by_code(&token_hash(code.trim()))
        .await?
        .ok_or_else(|| {
            ApiError::NotFound("this invitation is not valid; it may have been revoked".into())
        })?;
    check_invite(&invite, now())?;
    Ok(Json(InvitePreview {
        household_name,
        role: invite.role,
        invited_by,
        expires_at: invite.expires_at,
    }))
}

#[utoipa::path(
    post,
    path = "/invites/{code}/accept",
    security(("session" = [])),
    tag = "Members",
    summary = "Join a household with an invitation link",
    description = "Joining a household you belong to already changes nothing.",
    params(("code" = String, Path, description = "The code of the link")),
    responses(
        (status = 200, description = "Joined", body = Joined),
        (status = 404, description = "No such invitation, or it was revoked", body = ErrorBody),
        (status = 409, description = "It has expired, or has been used as often as it allows",
            body = ErrorBody),
    ),
)]
async fn accept_invite(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(code): AppPath<String>,
) -> ApiResult<Json<Joined>> {
    let household = match state
        .store
        .accept_invite(&token_hash(code.trim()), user.user.id, now())
        .await
    {
        Ok(household) => household,
        Err(StoreError::NotFound) => {
            return Err(ApiError::NotFound(
                "this invitation is not valid; it may have been revoked".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    let (row, role) = auth::member(&state, &user, household).await?;
    Ok(Json(Joined {
        household: household_dto(row, role),
    }))
}

//! The signed-in devices of the caller's account: listed, and signed out one at a time or
//! all but the caller's own. Each change takes effect at once in this process and within
//! `access::FRESH_FOR` in the others.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::{ErrorBody, List, RevokedSessions, Session};
use time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{self, SessionUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppPath;
use crate::store::{SessionRow, now};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_sessions))
        .routes(routes!(end_session))
        .routes(routes!(end_other_sessions))
}

fn session_dto(state: &AppState, row: SessionRow, current: &[u8]) -> Session {
    // A session from before uses were recorded: its last extension is the best guess.
    let last_used_at = row.last_used_at.unwrap_or_else(|| {
        (row.expires_at - Duration::days(state.config.session_days)).max(row.created_at)
    });
    Session {
        id: row.id,
        browser: auth::browser::label(row.user_agent.as_deref()),
        current: row.token_hash == current,
        user_agent: row.user_agent,
        created_at: row.created_at,
        last_used_at,
        expires_at: row.expires_at,
    }
}

#[utoipa::path(
    get,
    path = "/me/sessions",
    security(("session" = [])),
    tag = "Accounts",
    summary = "List your signed-in devices",
    description = "Every live session of the account, the most recently used first; \
        `current` marks the one that asks. `last_used_at` is to the hour.",
    responses(
        (status = 200, description = "The sessions", body = List<Session>),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn list_sessions(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<List<Session>>> {
    let mut items: Vec<Session> = state
        .store
        .sessions_of(user.user.id, now())
        .await?
        .into_iter()
        .map(|row| session_dto(&state, row, user.session_hash()))
        .collect();
    items.sort_by(|a, b| {
        (b.last_used_at, b.created_at, b.id).cmp(&(a.last_used_at, a.created_at, a.id))
    });
    Ok(Json(List { items }))
}

#[utoipa::path(
    delete,
    path = "/me/sessions/{id}",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Sign out a device",
    description = "Ends one session of the account at once: its next request is refused \
        with 401. Ending the caller's own session signs out (and clears its cookie).",
    params(("id" = Uuid, Path, description = "The session's id, from the list")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 404, description = "No such session of yours", body = ErrorBody),
    ),
)]
async fn end_session(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(id): AppPath<Uuid>,
) -> ApiResult<Response> {
    let session = state
        .store
        .sessions_of(user.user.id, now())
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| ApiError::not_found("session"))?;
    state.store.delete_session(&session.token_hash).await?;
    state.access.forget_credentials();
    let mut response = StatusCode::NO_CONTENT.into_response();
    if session.token_hash == user.session_hash()
        && let Ok(value) = auth::expired_cookie(&state).parse()
    {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, value);
    }
    Ok(response)
}

#[utoipa::path(
    post,
    path = "/me/sessions/revoke-others",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Sign out everywhere else",
    description = "Ends every session of the account but the caller's.",
    responses(
        (status = 200, description = "How many sessions ended", body = RevokedSessions),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn end_other_sessions(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<RevokedSessions>> {
    let revoked = state
        .store
        .end_other_sessions(user.user.id, user.session_hash(), now())
        .await?;
    state.access.forget_credentials();
    Ok(Json(RevokedSessions { revoked }))
}

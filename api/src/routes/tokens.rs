//! Personal API tokens: made, listed and revoked by a signed-in person (never by a token).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{
    ApiToken, CreateToken, ErrorBody, FieldErrors, List, NewToken, TokenId, parse_token_days,
    parse_token_name,
};
use time::Duration;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{SessionUser, token_hash, tokens};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::store::{ApiTokenRow, StoreError, now};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

pub fn token_dto(row: ApiTokenRow) -> ApiToken {
    ApiToken {
        id: row.id,
        name: row.name,
        scope: row.scope,
        household_id: row.household_id,
        hint: row.hint,
        created_at: row.created_at,
        expires_at: row.expires_at,
        last_used_at: row.last_used_at,
    }
}

#[utoipa::path(
    post,
    path = "/tokens",
    security(("session" = [])),
    tag = "Tokens",
    summary = "Make an API token",
    description = "The secret (`token`) is in this answer only: only its hash is kept. Needs a \
        signed-in person: an API token can't make tokens (403).",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Made; copy `token` now", body = NewToken),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn create_token(
    State(state): State<AppState>,
    user: SessionUser,
    AppJson(body): AppJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<NewToken>)> {
    let mut errors = FieldErrors::new();
    let name = parse_token_name(&body.name)
        .map_err(|e| errors.insert("name".into(), e))
        .ok();
    let days = parse_token_days(body.expires_in_days)
        .map_err(|e| errors.insert("expires_in_days".into(), e))
        .ok();
    if let Some(household) = body.household_id
        && state
            .store
            .membership(household, user.user.id)
            .await?
            .is_none()
    {
        errors.insert(
            "household_id".into(),
            "is not one of your households".into(),
        );
    }
    let (Some(name), Some(days), true) = (name, days, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let secret = tokens::generate()?;
    let at = now();
    let row = ApiTokenRow {
        id: TokenId::new(),
        user_id: user.user.id,
        secret_hash: token_hash(&secret),
        name,
        scope: body.scope,
        household_id: body.household_id,
        hint: tokens::hint(&secret),
        created_at: at,
        expires_at: at + Duration::days(days),
        last_used_at: None,
    };
    state.store.create_api_token(&row).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewToken {
            token: secret,
            token_info: token_dto(row),
        }),
    ))
}

#[utoipa::path(
    get,
    path = "/tokens",
    security(("session" = [])),
    tag = "Tokens",
    summary = "List your API tokens",
    description = "Every token of the signed-in person, expired ones too, without secrets.",
    responses(
        (status = 200, description = "The tokens", body = List<ApiToken>),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn list_tokens(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<List<ApiToken>>> {
    let items = state
        .store
        .api_tokens(user.user.id)
        .await?
        .into_iter()
        .map(token_dto)
        .collect();
    Ok(Json(List { items }))
}

/// Revokes at once: the next request with the token is refused with 401.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    security(("session" = [])),
    tag = "Tokens",
    summary = "Revoke an API token",
    description = "At once: the next request with it is refused with 401.",
    params(("id" = TokenId, Path, description = "The token's id (not its secret)")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn revoke_token(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(id): AppPath<TokenId>,
) -> ApiResult<StatusCode> {
    match state.store.delete_api_token(user.user.id, id).await {
        Ok(()) => {
            state.access.forget_credentials();
            Ok(StatusCode::NO_CONTENT)
        }
        Err(StoreError::NotFound) => Err(ApiError::not_found("API token")),
        Err(e) => Err(e.into()),
    }
}

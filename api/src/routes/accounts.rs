//! Local accounts and sessions.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use shared::{
    Currency, Email, FieldErrors, HouseholdId, LoginRequest, Me, Membership, RegisterRequest, User,
    UserId, UserResponse, check_password, parse_name,
};

use crate::AppState;
use crate::auth::{self, ClientAddress, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppJson;
use crate::store::{HouseholdRow, StoreError, UserRow, now};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
}

fn local_auth_enabled(state: &AppState) -> ApiResult<()> {
    if state.config.local_auth {
        Ok(())
    } else {
        Err(ApiError::Unavailable(
            "email and password accounts are turned off here; use another sign-in method".into(),
        ))
    }
}

fn with_cookie(status: StatusCode, cookie: String, body: impl serde::Serialize) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn register(
    State(state): State<AppState>,
    AppJson(body): AppJson<RegisterRequest>,
) -> ApiResult<Response> {
    local_auth_enabled(&state)?;
    let mut errors = FieldErrors::new();
    let email = Email::parse(&body.email)
        .map_err(|e| errors.insert("email".into(), e))
        .ok();
    let name = parse_name(&body.name, 100)
        .map_err(|e| errors.insert("name".into(), e))
        .ok();
    if let Err(e) = check_password(&body.password) {
        errors.insert("password".into(), e);
    }
    let (Some(email), Some(name), true) = (email, name, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let password_hash = auth::hash_password(body.password).await?;
    let created_at = now();
    let user = User {
        id: UserId::new(),
        email: email.as_str().to_string(),
        name,
        created_at,
    };
    let household = HouseholdRow {
        id: HouseholdId::new(),
        name: "My Home".into(),
        currency: Currency::default(),
        version: 1,
        created_at,
    };
    let row = UserRow {
        user: user.clone(),
        password_hash: Some(password_hash),
    };
    match state.store.create_user(&row, &household).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(
                "an account with this email already exists; sign in instead".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let cookie = auth::start_session(&state, &user).await?;
    Ok(with_cookie(
        StatusCode::CREATED,
        cookie,
        UserResponse { user },
    ))
}

async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    AppJson(body): AppJson<LoginRequest>,
) -> ApiResult<Response> {
    local_auth_enabled(&state)?;
    let email = body.email.trim().to_lowercase();
    if email.is_empty() || body.password.is_empty() {
        let mut errors = FieldErrors::new();
        if email.is_empty() {
            errors.insert("email".into(), "is required".into());
        }
        if body.password.is_empty() {
            errors.insert("password".into(), "is required".into());
        }
        return Err(ApiError::Validation(errors));
    }
    auth::check_login_rate(&state, &email, &address).await?;
    let row = state.store.user_by_email(&email).await?;
    let hash = row.as_ref().and_then(|r| r.password_hash.clone());
    if !auth::verify_password(body.password, hash).await {
        auth::record_login_failure(&state, &email, &address).await?;
        return Err(ApiError::Unauthenticated(
            "the email or password is not right".into(),
        ));
    }
    let Some(row) = row else {
        return Err(ApiError::Unauthenticated(
            "the email or password is not right".into(),
        ));
    };
    auth::clear_login_failures(&state, &email).await?;
    let cookie = auth::start_session(&state, &row.user).await?;
    Ok(with_cookie(
        StatusCode::OK,
        cookie,
        UserResponse { user: row.user },
    ))
}

async fn logout(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Response> {
    state.store.delete_session(&user.token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(value) = auth::expired_cookie(&state).parse() {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Me>> {
    let households = state
        .store
        .households_of(user.user.id)
        .await?
        .into_iter()
        .map(|(h, role)| Membership {
            id: h.id,
            name: h.name,
            role,
        })
        .collect();
    Ok(Json(Me {
        user: user.user,
        households,
    }))
}

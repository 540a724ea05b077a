//! Local accounts and sessions.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use shared::{
    Currency, Email, FieldErrors, HouseholdId, LoginRequest, Me, Membership, Providers,
    RegisterRequest, User, UserId, UserResponse, check_password, parse_name,
};

use crate::AppState;
use crate::auth::{self, ClientAddress, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery};
use crate::google;
use crate::store::{HouseholdRow, StoreError, UserRow, now};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/me", get(me))
        .route("/auth/providers", get(providers))
        .route("/auth/google/start", get(google_start))
        .route("/auth/google/callback", get(google_callback))
}

/// Which sign-in methods the web app should offer.
async fn providers(State(state): State<AppState>) -> Json<Providers> {
    Json(Providers {
        local: state.config.local_auth,
        google: state.google.is_some(),
    })
}

#[derive(serde::Deserialize)]
struct StartParams {
    return_to: Option<String>,
}

fn flow_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/api/v1/auth/google; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        google::FLOW_COOKIE
    )
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    set_cookies(&mut response, cookies);
    response
}

fn set_cookies(response: &mut Response, cookies: &[String]) {
    for cookie in cookies {
        if let Ok(value) = cookie.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

async fn google_start(
    State(state): State<AppState>,
    AppQuery(params): AppQuery<StartParams>,
) -> ApiResult<Response> {
    let google = state.google.clone().ok_or_else(|| {
        ApiError::Unavailable("Google sign-in is not set up on this server".into())
    })?;
    let return_to = google::safe_return_to(params.return_to.as_deref());
    let (url, flow) = google
        .start(return_to, now().unix_timestamp())
        .await
        .map_err(|e| {
            tracing::error!(error = ?e, "starting Google sign-in");
            ApiError::Upstream(e.to_string())
        })?;
    let cookie = flow_cookie(&state, &google.seal(&flow), 600);
    Ok(redirect(&url, &[cookie]))
}

#[derive(serde::Deserialize)]
struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
}

/// Back from Google: signs the person in and returns them where they started, or to the
/// sign-in page with the reason.
async fn google_callback(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    AppQuery(params): AppQuery<CallbackParams>,
) -> ApiResult<Response> {
    let google = state.google.clone().ok_or_else(|| {
        ApiError::Unavailable("Google sign-in is not set up on this server".into())
    })?;
    let clear = flow_cookie(&state, "", 0);
    let flow = auth::cookie(&headers, google::FLOW_COOKIE)
        .and_then(|c| google.open(&c, now().unix_timestamp()))
        .filter(|flow| params.state.as_deref() == Some(flow.state.as_str()));
    let result = match (flow, params.code) {
        (Some(flow), Some(code)) => {
            let return_to = flow.return_to.clone();
            google.finish(flow, code).await.map(|id| (id, return_to))
        }
        _ => Err(google::SignInError::State),
    };
    let (identity, return_to) = match result {
        Ok(ok) => ok,
        Err(e) => {
            tracing::warn!(error = ?e, "Google sign-in refused");
            return Ok(redirect(&format!("/signin?error={}", e.code()), &[clear]));
        }
    };
    let user = google_user(&state, &identity).await?;
    let session = auth::start_session(&state, &user).await?;
    Ok(redirect(&return_to, &[clear, session]))
}

/// The account for a Google identity: the one linked to it; else the account with the same
/// (Google-verified) email, which gets linked; else a new account with a first household.
async fn google_user(state: &AppState, identity: &google::Identity) -> ApiResult<User> {
    const PROVIDER: &str = "google";
    if let Some(user) = state
        .store
        .user_by_identity(PROVIDER, &identity.subject)
        .await?
    {
        return Ok(user);
    }
    let email = Email::parse(&identity.email)
        .map_err(|_| ApiError::Upstream("Google sent an email address we can't use".into()))?;
    let user = match state.store.user_by_email(email.as_str()).await? {
        Some(row) => row.user,
        None => {
            let name = parse_name(&identity.name, 100).unwrap_or_else(|_| "Friend".into());
            let (row, household) = new_account(&email, name, None);
            match state.store.create_user(&row, &household).await {
                Ok(()) => row.user,
                // Signed up at the same moment by another request: use that account.
                Err(StoreError::Conflict(_)) => state
                    .store
                    .user_by_email(email.as_str())
                    .await?
                    .map(|r| r.user)
                    .ok_or_else(|| ApiError::Conflict("try signing in again".into()))?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    state
        .store
        .link_identity(PROVIDER, &identity.subject, user.id)
        .await?;
    Ok(user)
}

/// A new account and its first household, "My Home".
fn new_account(
    email: &Email,
    name: String,
    password_hash: Option<String>,
) -> (UserRow, HouseholdRow) {
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
    (
        UserRow {
            user,
            password_hash,
        },
        household,
    )
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
    set_cookies(&mut response, &[cookie]);
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
    let (row, household) = new_account(&email, name, Some(password_hash));
    let user = row.user.clone();
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
    set_cookies(&mut response, &[auth::expired_cookie(&state)]);
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

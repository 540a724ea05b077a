//! Local accounts and sessions.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::{
    ChangePasswordRequest, Currency, Email, ErrorBody, FieldErrors, HouseholdId, LoginRequest, Me,
    Membership, Providers, RegisterRequest, User, UserId, UserResponse, check_password, parse_name,
};
use time::OffsetDateTime;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::auth::two_factor;
use crate::auth::{self, ClientAddress, CurrentUser, SessionUser, UserAgent};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery};
use crate::google;
use crate::store::{HouseholdRow, StoreError, UserRow, now};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(providers))
        .routes(routes!(google_start))
        .routes(routes!(google_callback))
}

/// Which sign-in methods the web app should offer.
#[utoipa::path(
    get,
    path = "/auth/providers",
    tag = "Accounts",
    operation_id = "list_providers",
    summary = "Sign-in methods on offer",
    security(),
    responses((status = 200, description = "Which ways of signing in this server offers",
        body = Providers)),
)]
async fn providers(State(state): State<AppState>) -> Json<Providers> {
    Json(Providers {
        local: state.config.local_auth,
        google: state.google.is_some(),
    })
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct StartParams {
    /// Where in the app to go once signed in: a path on this site (anything else is
    /// ignored).
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

#[utoipa::path(
    get,
    path = "/auth/google/start",
    tag = "Accounts",
    summary = "Sign in with Google",
    description = "For a browser: redirects to Google, which sends the person back to \
        `/auth/google/callback`.",
    security(),
    params(StartParams),
    responses(
        (status = 302, description = "To Google's sign-in page",
            headers(("Location" = String, description = "Google's sign-in page"))),
        (status = 502, description = "Google could not be reached", body = ErrorBody),
        (status = 503, description = "Google sign-in is not set up on this server",
            body = ErrorBody),
    ),
)]
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

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackParams {
    /// The authorization code Google sends.
    code: Option<String>,
    /// The state the sign-in started with.
    state: Option<String>,
}

/// Back from Google: signs the person in and returns them where they started, or to the
/// sign-in page with the reason.
#[utoipa::path(
    get,
    path = "/auth/google/callback",
    tag = "Accounts",
    summary = "Back from Google",
    description = "Where Google sends the browser back: signs the person in and returns them \
        where they started, or to the sign-in page with `?error=state|token|email_unverified|\
        provider`.",
    security(),
    params(CallbackParams),
    responses(
        (status = 302, description = "Signed in, back where the sign-in started; or to the \
            sign-in page with the reason",
            headers(
                ("Location" = String, description = "Where the browser goes next"),
                ("Set-Cookie" = String, description = "The session cookie, when signed in"),
            )),
        (status = 409, description = "A sign-in of the same account raced this one: try again",
            body = ErrorBody),
        (status = 502, description = "Google sent an email address that can't be used",
            body = ErrorBody),
        (status = 503, description = "Google sign-in is not set up on this server",
            body = ErrorBody),
    ),
)]
async fn google_callback(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    user_agent: UserAgent,
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
    let session = auth::start_session(&state, &user, &user_agent).await?;
    Ok(redirect(&return_to, &[clear, session]))
}

/// The account for a Google identity: the one linked to it; else the account with the
/// same (Google-verified) email; else a new account with a first household.
///
/// An existing account is linked as it is only when its email was verified. One made with
/// a password for that email was made by someone nobody checked — perhaps not the email's
/// owner, who is the person Google vouches for now — so the sign-in takes it over: the
/// password, the sessions and the invitations of whoever made it stop working
/// (`AccountStore::claim_account`). The same goes for an account linked by email before
/// emails were verified: its first Google sign-in since then claims it.
async fn google_user(state: &AppState, identity: &google::Identity) -> ApiResult<User> {
    const PROVIDER: &str = "google";
    if let Some(row) = state
        .store
        .user_by_identity(PROVIDER, &identity.subject)
        .await?
    {
        if row.email_verified_at.is_none() {
            state
                .store
                .claim_account(row.user.id, PROVIDER, &identity.subject, now())
                .await?;
            state.access.forget_credentials();
        }
        return Ok(row.user);
    }
    let email = Email::parse(&identity.email)
        .map_err(|_| ApiError::Upstream("Google sent an email address we can't use".into()))?;
    // A new account can lose a race with a registration of the same email; that account
    // is then claimed like any other, on the second pass.
    for _ in 0..2 {
        match state.store.user_by_email(email.as_str()).await? {
            Some(row) if row.email_verified_at.is_some() => {
                state
                    .store
                    .link_identity(PROVIDER, &identity.subject, row.user.id)
                    .await?;
                return Ok(row.user);
            }
            Some(row) => {
                state
                    .store
                    .claim_account(row.user.id, PROVIDER, &identity.subject, now())
                    .await?;
                state.access.forget_credentials();
                return Ok(row.user);
            }
            None => {
                let name = parse_name(&identity.name, 100).unwrap_or_else(|_| "Friend".into());
                let (row, household) = new_account(&email, name, None, Some(now()));
                match state.store.create_user(&row, &household).await {
                    Ok(()) => {
                        state
                            .store
                            .link_identity(PROVIDER, &identity.subject, row.user.id)
                            .await?;
                        return Ok(row.user);
                    }
                    Err(StoreError::Conflict(_)) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Err(ApiError::Conflict("try signing in again".into()))
}

/// A new account and its first household, "My Home".
fn new_account(
    email: &Email,
    name: String,
    password_hash: Option<String>,
    email_verified_at: Option<OffsetDateTime>,
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
            email_verified_at,
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

#[utoipa::path(
    post,
    path = "/auth/register",
    tag = "Accounts",
    summary = "Create an account",
    description = "Makes the account and its first household, \"My Home\", and signs in.",
    security(),
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in", body = UserResponse,
            headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 409, description = "An account with this email exists", body = ErrorBody),
        (status = 429, description = "Too many new accounts from this network in the last hour",
            body = ErrorBody),
        (status = 503, description = "Email and password accounts are turned off here, the \
            server is too busy to hash the password, or the database is unavailable",
            body = ErrorBody),
    ),
)]
async fn register(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    user_agent: UserAgent,
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
    let reserved = auth::reserve_registration(&state, &address).await?;
    let password_hash = match auth::hash_password(&state, body.password).await {
        Ok(hash) => hash,
        Err(e) => {
            state.store.delete_login_attempts(&[reserved]).await?;
            return Err(e);
        }
    };
    // Nobody has confirmed that the email is the registrant's: the account stays
    // unverified, and its email's owner can claim it by signing in with Google.
    let (row, household) = new_account(&email, name, Some(password_hash.clone()), None);
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
    let cookie = auth::start_password_session(&state, &user, &password_hash, &user_agent).await?;
    Ok(with_cookie(
        StatusCode::CREATED,
        cookie,
        UserResponse { user },
    ))
}

#[utoipa::path(
    post,
    path = "/auth/login",
    tag = "Accounts",
    summary = "Sign in",
    security(),
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = UserResponse,
            headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "The email or the password is not right (the same answer \
            for both); or, with two-factor sign-in on, the `code` is missing (`details: \
            {\"code\": \"is required\"}`) or not right (`details: {\"code\": \"is not right\"}`)",
            body = ErrorBody),
        (status = 429, description = "Too many attempts for this account or from this network \
            in the last 15 minutes", body = ErrorBody),
        (status = 503, description = "Email and password accounts are turned off here, the \
            server is too busy to check the password, or the database is unavailable",
            body = ErrorBody),
    ),
)]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    user_agent: UserAgent,
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
    let attempt = auth::reserve_sign_in(&state, &email, &address).await?;
    let row = state.store.user_by_email(&email).await?;
    let hash = row.as_ref().and_then(|r| r.password_hash.clone());
    let right = match auth::verify_password(&state, body.password, hash.clone()).await {
        Ok(right) => right,
        Err(e) => {
            attempt.withdrawn(&state).await?;
            return Err(e);
        }
    };
    let (true, Some(row), Some(hash)) = (right, row, hash) else {
        return Err(auth::wrong_password());
    };
    // With two-factor sign-in on, the password alone is not enough; a missing or wrong
    // code leaves the attempt counted, like a wrong password.
    if let Some(two_factor) = state.store.two_factor(row.user.id).await?
        && two_factor.enabled_secret().is_some()
    {
        let code = body.code.as_deref().map(str::trim).unwrap_or_default();
        if code.is_empty() {
            return Err(ApiError::SignInField {
                field: "code",
                problem: "is required",
                message: "Enter the 6-digit code from your authenticator app, or a recovery code."
                    .into(),
            });
        }
        if !two_factor::check_sign_in_code(&state, &two_factor, code, now()).await? {
            return Err(ApiError::SignInField {
                field: "code",
                problem: "is not right",
                message: "That code is not right, or was used already; enter the current code \
                    from your authenticator app, or an unused recovery code."
                    .into(),
            });
        }
    }
    let cookie = auth::start_password_session(&state, &row.user, &hash, &user_agent).await?;
    attempt.succeeded(&state).await?;
    Ok(with_cookie(
        StatusCode::OK,
        cookie,
        UserResponse { user: row.user },
    ))
}

/// Changes the caller's password and signs out every other session of the account.
///
/// A wrong current password answers 422 naming the field, not 401: the caller's session is
/// fine, and a 401 would make the web app sign them out. It counts against the sign-in
/// limits like a failed sign-in, or a stolen session could guess the password at leisure.
///
/// An account without a password (made by Google sign-in, or claimed by it) is refused
/// with 409 rather than given one: the password would be a second way in that nobody
/// asked for, set on the strength of a session alone (a stolen one would do), and
/// nothing in the account needs it, since Google sign-in works.
#[utoipa::path(
    post,
    path = "/me/password",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Change your password",
    description = "Every other session of the account ends.",
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Changed"),
        (status = 409, description = "The account signs in with Google and has no password, or \
            the password was changed meanwhile", body = ErrorBody),
        (status = 422, description = "A field is invalid, or `current_password` is not right \
            (counted like a failed sign-in)", body = ErrorBody),
        (status = 429, description = "Too many attempts in the last 15 minutes",
            body = ErrorBody),
        (status = 503, description = "Email and password accounts are turned off here, the \
            server is too busy to check the password, or the database is unavailable",
            body = ErrorBody),
    ),
)]
async fn change_password(
    State(state): State<AppState>,
    user: SessionUser,
    ClientAddress(address): ClientAddress,
    AppJson(body): AppJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    local_auth_enabled(&state)?;
    let row = state
        .store
        .user_by_email(&user.user.email)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("your session has ended; sign in again".into()))?;
    let Some(current_hash) = row.password_hash else {
        return Err(ApiError::Conflict(
            "this account signs in with Google; it has no password to change".into(),
        ));
    };
    let mut errors = FieldErrors::new();
    if body.current_password.is_empty() {
        errors.insert("current_password".into(), "is required".into());
    }
    if let Err(e) = check_password(&body.new_password) {
        errors.insert("new_password".into(), e);
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let attempt = auth::reserve_sign_in(&state, &user.user.email, &address).await?;
    let right = match auth::verify_password(
        &state,
        body.current_password,
        Some(current_hash.clone()),
    )
    .await
    {
        Ok(right) => right,
        Err(e) => {
            attempt.withdrawn(&state).await?;
            return Err(e);
        }
    };
    if !right {
        return Err(ApiError::field("current_password", "is not right"));
    }
    attempt.succeeded(&state).await?;
    let new_hash = auth::hash_password(&state, body.new_password).await?;
    match state
        .store
        .change_password(user.user.id, &current_hash, &new_hash, user.session_hash())
        .await
    {
        // The account's other sessions ended.
        Ok(()) => state.access.forget_credentials(),
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::Conflict(
                "the password was changed meanwhile; sign in again with the new one".into(),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/auth/logout",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Sign out",
    description = "Ends the session of the cookie sent.",
    responses((status = 204, description = "Signed out",
        headers(("Set-Cookie" = String, description = "Clears the session cookie")))),
)]
async fn logout(State(state): State<AppState>, user: SessionUser) -> ApiResult<Response> {
    state.store.delete_session(user.session_hash()).await?;
    state.access.forget_credentials();
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookies(&mut response, &[auth::expired_cookie(&state)]);
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/me",
    tag = "Accounts",
    summary = "Who you are",
    responses((status = 200, description = "Your account and your households", body = Me,
        links(
            ("GetHousehold" = (operation_id = "get_household",
                parameters(("hid" = "$response.body#/households/0/id")))),
            ("UpdateMember" = (operation_id = "update_member", parameters(
                ("hid" = "$response.body#/households/0/id"), ("uid" = "$response.body#/user/id")))),
            ("RemoveMember" = (operation_id = "remove_member", parameters(
                ("hid" = "$response.body#/households/0/id"), ("uid" = "$response.body#/user/id")))),
        ))),
)]
async fn me(State(state): State<AppState>, user: CurrentUser) -> ApiResult<Json<Me>> {
    let households = state
        .store
        .households_of(user.user.id)
        .await?
        .into_iter()
        .filter(|(h, _)| user.reaches(h.id))
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

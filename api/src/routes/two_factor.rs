//! Two-factor sign-in for the caller's account: set up with an authenticator app, turned
//! on with a code from it, recovery codes made again, turned off. Every change needs the
//! account's password (turning off: the password or a passkey), checked and counted like
//! a sign-in, so a stolen session alone can't change it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{
    DisableTwoFactor, EnableTwoFactor, ErrorBody, PasswordConfirmation, RecoveryCodes,
    TwoFactorSetup, TwoFactorStatus,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, ClientAddress, SessionUser, two_factor};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppJson;
use crate::store::{StoreError, now};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(two_factor_status))
        .routes(routes!(set_up_two_factor))
        .routes(routes!(enable_two_factor))
        .routes(routes!(disable_two_factor))
        .routes(routes!(new_recovery_codes))
}

/// Checks the account's password, counted against the sign-in limits like a sign-in: 422
/// on `password` when it is missing or wrong (not 401: the session is fine), 409 when the
/// account has none (it signs in with Google).
async fn confirm_password(
    state: &AppState,
    user: &SessionUser,
    address: &str,
    password: &str,
) -> ApiResult<()> {
    let row = state
        .store
        .user_by_email(&user.user.email)
        .await?
        .ok_or_else(|| ApiError::Unauthenticated("your session has ended; sign in again".into()))?;
    let Some(hash) = row.password_hash else {
        return Err(ApiError::Conflict(
            "this account signs in with Google and has no password; two-factor sign-in \
             protects signing in with a password"
                .into(),
        ));
    };
    if password.is_empty() {
        return Err(ApiError::field("password", "is required"));
    }
    let attempt = auth::reserve_sign_in(state, &user.user.email, address).await?;
    let right = match auth::verify_password(state, password.to_string(), Some(hash)).await {
        Ok(right) => right,
        Err(e) => {
            attempt.withdrawn(state).await?;
            return Err(e);
        }
    };
    if !right {
        return Err(ApiError::field("password", "is not right"));
    }
    attempt.succeeded(state).await
}

#[utoipa::path(
    get,
    path = "/me/two-factor",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Whether two-factor sign-in is on",
    responses(
        (status = 200, description = "On or off, and the recovery codes left",
            body = TwoFactorStatus),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn two_factor_status(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<TwoFactorStatus>> {
    let row = state.store.two_factor(user.user.id).await?;
    let enabled = row.as_ref().is_some_and(|r| r.enabled_secret().is_some());
    let left = row
        .filter(|_| enabled)
        .map_or(0, |r| u32::try_from(r.recovery_codes_left).unwrap_or(0));
    Ok(Json(TwoFactorStatus {
        enabled,
        recovery_codes_left: left,
    }))
}

#[utoipa::path(
    post,
    path = "/me/two-factor/setup",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Set up two-factor sign-in",
    description = "Makes a new secret for an authenticator app (as text, as an `otpauth://` \
        address and as its QR code). Nothing changes at sign-in until a code from the app \
        turns it on (`/me/two-factor/enable`).",
    request_body = PasswordConfirmation,
    responses(
        (status = 200, description = "The new secret, not in use yet", body = TwoFactorSetup),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "Two-factor sign-in is on already, or the account signs \
            in with Google and has no password", body = ErrorBody),
        (status = 422, description = "`password` is missing or not right (counted like a \
            failed sign-in)", body = ErrorBody),
        (status = 429, description = "Too many attempts in the last 15 minutes",
            body = ErrorBody),
    ),
)]
async fn set_up_two_factor(
    State(state): State<AppState>,
    user: SessionUser,
    ClientAddress(address): ClientAddress,
    AppJson(body): AppJson<PasswordConfirmation>,
) -> ApiResult<Json<TwoFactorSetup>> {
    if let Some(row) = state.store.two_factor(user.user.id).await?
        && row.enabled_secret().is_some()
    {
        return Err(already_on());
    }
    confirm_password(&state, &user, &address, &body.password).await?;
    let secret = two_factor::new_secret()?;
    match state
        .store
        .start_two_factor(user.user.id, &secret, now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(already_on()),
        Err(e) => return Err(e.into()),
    }
    let otpauth_url = two_factor::otpauth_url(&secret, &user.user.email);
    Ok(Json(TwoFactorSetup {
        secret: two_factor::base32(&secret),
        qr_svg: two_factor::qr_svg(&otpauth_url)?,
        otpauth_url,
    }))
}

fn already_on() -> ApiError {
    ApiError::Conflict(
        "two-factor sign-in is on already; turn it off first to set it up again".into(),
    )
}

#[utoipa::path(
    post,
    path = "/me/two-factor/enable",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Turn on two-factor sign-in",
    description = "With a code from the app just set up. Answers the ten recovery codes: \
        they are shown this once.",
    request_body = EnableTwoFactor,
    responses(
        (status = 200, description = "On; save the recovery codes now", body = RecoveryCodes),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "No setup was started, it is on already, or another \
            setup replaced this one", body = ErrorBody),
        (status = 422, description = "`code` is missing or not the app's current code",
            body = ErrorBody),
    ),
)]
async fn enable_two_factor(
    State(state): State<AppState>,
    user: SessionUser,
    AppJson(body): AppJson<EnableTwoFactor>,
) -> ApiResult<Json<RecoveryCodes>> {
    let row = state.store.two_factor(user.user.id).await?;
    if row.as_ref().is_some_and(|r| r.enabled_secret().is_some()) {
        return Err(ApiError::Conflict(
            "two-factor sign-in is on already".into(),
        ));
    }
    let Some(pending) = row.and_then(|r| r.pending_secret) else {
        return Err(ApiError::Conflict(
            "set up two-factor sign-in first: nothing is waiting for a code".into(),
        ));
    };
    let code = body.code.trim();
    if code.is_empty() {
        return Err(ApiError::field("code", "is required"));
    }
    let at = now();
    let Some(step) = two_factor::matching_step(&pending, code, at)? else {
        return Err(ApiError::field(
            "code",
            "is not right; enter the 6-digit code the app shows now",
        ));
    };
    let (codes, rows) = two_factor::new_recovery_codes()?;
    state
        .store
        .enable_two_factor(user.user.id, &pending, step, &rows, at)
        .await?;
    tracing::info!(user = %user.user.id, "two-factor sign-in turned on");
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

#[utoipa::path(
    post,
    path = "/me/two-factor/disable",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Turn off two-factor sign-in",
    description = "Needs the account's `password`, or a `passkey` assertion from a passkey \
        confirmation. The secret and the recovery codes are deleted.",
    request_body = DisableTwoFactor,
    responses(
        (status = 204, description = "Off"),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "The account has no password: confirm with a passkey",
            body = ErrorBody),
        (status = 422, description = "`password` is missing or not right (counted like a \
            failed sign-in), or `passkey` is not a valid assertion", body = ErrorBody),
        (status = 429, description = "Too many attempts in the last 15 minutes",
            body = ErrorBody),
    ),
)]
async fn disable_two_factor(
    State(state): State<AppState>,
    user: SessionUser,
    ClientAddress(address): ClientAddress,
    AppJson(body): AppJson<DisableTwoFactor>,
) -> ApiResult<StatusCode> {
    match (&body.passkey, &body.password) {
        (Some(proof), _) => auth::passkeys::confirm(&state, user.user.id, proof).await?,
        (None, password) => {
            let password = password.as_deref().unwrap_or_default();
            confirm_password(&state, &user, &address, password).await?;
        }
    }
    state.store.disable_two_factor(user.user.id).await?;
    tracing::info!(user = %user.user.id, "two-factor sign-in turned off");
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/me/two-factor/recovery-codes",
    security(("session" = [])),
    tag = "Accounts",
    summary = "Make new recovery codes",
    description = "Ten new codes, shown this once; the old ones stop working.",
    request_body = PasswordConfirmation,
    responses(
        (status = 200, description = "The new codes", body = RecoveryCodes),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "Two-factor sign-in is off", body = ErrorBody),
        (status = 422, description = "`password` is missing or not right (counted like a \
            failed sign-in)", body = ErrorBody),
        (status = 429, description = "Too many attempts in the last 15 minutes",
            body = ErrorBody),
    ),
)]
async fn new_recovery_codes(
    State(state): State<AppState>,
    user: SessionUser,
    ClientAddress(address): ClientAddress,
    AppJson(body): AppJson<PasswordConfirmation>,
) -> ApiResult<Json<RecoveryCodes>> {
    let off = || ApiError::Conflict("two-factor sign-in is off; turn it on first".into());
    let on = state
        .store
        .two_factor(user.user.id)
        .await?
        .is_some_and(|r| r.enabled_secret().is_some());
    if !on {
        return Err(off());
    }
    confirm_password(&state, &user, &address, &body.password).await?;
    let (codes, rows) = two_factor::new_recovery_codes()?;
    match state
        .store
        .replace_recovery_codes(user.user.id, &rows, now())
        .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(off()),
        Err(e) => return Err(e.into()),
    }
    Ok(Json(RecoveryCodes {
        recovery_codes: codes,
    }))
}

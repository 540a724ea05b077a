//! Passkeys: registered, listed, renamed and removed by a signed-in person (never by an API
//! token), and signing in with one.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::{
    ErrorBody, FinishPasskeyRegistration, Passkey, PasskeyAssertion, PasskeyChallenge, PasskeyId,
    PasskeyList, RenamePasskey, UserResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{self, ClientAddress, SessionUser, passkeys};
use crate::error::ApiResult;
use crate::extract::{AppJson, AppPath};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_passkeys))
        .routes(routes!(start_passkey_registration))
        .routes(routes!(finish_passkey_registration))
        .routes(routes!(rename_passkey, remove_passkey))
        .routes(routes!(start_passkey_confirmation))
        .routes(routes!(start_passkey_sign_in))
        .routes(routes!(finish_passkey_sign_in))
}

#[utoipa::path(
    get,
    path = "/me/passkeys",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "List your passkeys",
    responses(
        (status = 200, description = "Your passkeys, oldest first", body = PasskeyList),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn list_passkeys(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<PasskeyList>> {
    let items = passkeys::list(&state, user.user.id).await?;
    Ok(Json(PasskeyList { items }))
}

#[utoipa::path(
    post,
    path = "/me/passkeys/register/start",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "Start registering a passkey",
    description = "`options` is for `PublicKeyCredential.parseCreationOptionsFromJSON`: a \
        discoverable credential with user verification, none of your passkeys again. \
        `challenge_id` is good once, for 5 minutes.",
    responses(
        (status = 200, description = "The ceremony started", body = PasskeyChallenge),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
    ),
)]
async fn start_passkey_registration(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<PasskeyChallenge>> {
    Ok(Json(
        passkeys::start_registration(&state, &user.user).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/me/passkeys/register/finish",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "Finish registering a passkey",
    description = "`credential` is the new credential's `toJSON()`.",
    request_body = FinishPasskeyRegistration,
    responses(
        (status = 201, description = "Registered", body = Passkey),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "This passkey is registered already", body = ErrorBody),
        (status = 422, description = "The name is empty or longer than 60 characters; the \
            challenge expired, was used or is not yours; or the credential was made for another \
            site, another challenge, or cannot be verified. Nothing is stored.",
            body = ErrorBody),
    ),
)]
async fn finish_passkey_registration(
    State(state): State<AppState>,
    user: SessionUser,
    AppJson(body): AppJson<FinishPasskeyRegistration>,
) -> ApiResult<(StatusCode, Json<Passkey>)> {
    let passkey = passkeys::finish_registration(&state, user.user.id, &body).await?;
    Ok((StatusCode::CREATED, Json(passkey)))
}

#[utoipa::path(
    patch,
    path = "/me/passkeys/{id}",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "Rename a passkey",
    params(("id" = PasskeyId, Path, description = "The passkey")),
    request_body = RenamePasskey,
    responses(
        (status = 200, description = "Renamed", body = Passkey),
        (status = 404, description = "You have no such passkey", body = ErrorBody),
        (status = 422, description = "The name is empty or longer than 60 characters",
            body = ErrorBody),
    ),
)]
async fn rename_passkey(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(id): AppPath<PasskeyId>,
    AppJson(body): AppJson<RenamePasskey>,
) -> ApiResult<Json<Passkey>> {
    Ok(Json(
        passkeys::rename(&state, user.user.id, id, &body.name).await?,
    ))
}

#[utoipa::path(
    delete,
    path = "/me/passkeys/{id}",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "Remove a passkey",
    description = "It can no longer sign in. The last passkey of an account with no password \
        and no Google sign-in can't be removed (409): nothing else would let its owner in.",
    params(("id" = PasskeyId, Path, description = "The passkey")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "You have no such passkey", body = ErrorBody),
        (status = 409, description = "It is the account's only way to sign in",
            body = ErrorBody),
    ),
)]
async fn remove_passkey(
    State(state): State<AppState>,
    user: SessionUser,
    AppPath(id): AppPath<PasskeyId>,
) -> ApiResult<StatusCode> {
    passkeys::remove(&state, user.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/me/passkeys/confirm/start",
    security(("session" = [])),
    tag = "Passkeys",
    summary = "Start confirming it is you with a passkey",
    description = "For sensitive changes (turning two-factor sign-in off): `options` is for \
        `PublicKeyCredential.parseRequestOptionsFromJSON` and allows only your passkeys. Send \
        `{\"challenge_id\", \"credential\"}` (the assertion's `toJSON()`) as the change's \
        `passkey` proof.",
    responses(
        (status = 200, description = "The ceremony started", body = PasskeyChallenge),
        (status = 403, description = "Sent with an API token: this needs a signed-in person",
            body = ErrorBody),
        (status = 409, description = "You have no passkey", body = ErrorBody),
    ),
)]
async fn start_passkey_confirmation(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<Json<PasskeyChallenge>> {
    Ok(Json(
        passkeys::start_confirmation(&state, user.user.id).await?,
    ))
}

#[utoipa::path(
    post,
    path = "/auth/passkey/start",
    tag = "Passkeys",
    summary = "Start signing in with a passkey",
    description = "`options` is for `PublicKeyCredential.parseRequestOptionsFromJSON`, with no \
        `allowCredentials`: the browser offers the passkeys it has for this site, no email \
        needed. `challenge_id` is good once, for 5 minutes.",
    security(),
    responses(
        (status = 200, description = "The ceremony started", body = PasskeyChallenge),
    ),
)]
async fn start_passkey_sign_in(State(state): State<AppState>) -> ApiResult<Json<PasskeyChallenge>> {
    Ok(Json(passkeys::start_sign_in(&state).await?))
}

#[utoipa::path(
    post,
    path = "/auth/passkey/finish",
    tag = "Passkeys",
    summary = "Sign in with a passkey",
    description = "`credential` is the assertion's `toJSON()`. A user-verified passkey is two \
        factors already: no authenticator-app code is asked.",
    security(),
    request_body = PasskeyAssertion,
    responses(
        (status = 200, description = "Signed in", body = UserResponse,
            headers(("Set-Cookie" = String, description = "The session cookie"))),
        (status = 401, description = "The passkey could not sign in: unknown, removed, a bad \
            signature, another site's, or a challenge expired or used (the same answer for \
            all)", body = ErrorBody),
        (status = 429, description = "Too many failed sign-ins from this network in the last \
            15 minutes", body = ErrorBody),
    ),
)]
async fn finish_passkey_sign_in(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    user_agent: auth::UserAgent,
    AppJson(body): AppJson<PasskeyAssertion>,
) -> ApiResult<Response> {
    let user = passkeys::finish_sign_in(&state, &body, &address).await?;
    let cookie = auth::start_session(&state, &user, &user_agent).await?;
    let mut response = (StatusCode::OK, Json(UserResponse { user })).into_response();
    if let Ok(value) = cookie.parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

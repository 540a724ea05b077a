//! Passkeys (WebAuthn): registering them, signing in with one, and confirming with one that
//! the person at the keyboard is the account's owner.
//!
//! The relying party is `webauthn_rp` (pure Rust, RustCrypto): its ceremony state is
//! encoded and kept in the database (`passkey_ceremonies`), since the request that finishes
//! a ceremony may reach another process or Lambda than the one that started it. A ceremony
//! is taken (deleted) by the request that answers it, so a challenge is good once, and
//! expires after 5 minutes.
//!
//! The RP id is the host of `PUBLIC_URL`, the only origin accepted is `PUBLIC_URL`'s.
//! The user handle is the account's id (16 bytes).

use http::Uri;
use shared::{
    FieldErrors, FinishPasskeyRegistration, Passkey, PasskeyAssertion, PasskeyChallenge, PasskeyId,
    User, UserId, parse_passkey_name,
};
use time::Duration;
use uuid::Uuid;
use webauthn_rp::bin::{Decode, Encode};
use webauthn_rp::request::auth::{
    AllowedCredential, AllowedCredentials, AuthenticationVerificationOptions,
};
use webauthn_rp::request::register::{
    CredProtect, Nickname, PublicKeyCredentialUserEntity, RegistrationVerificationOptions,
    UserHandle, Username,
};
use webauthn_rp::request::{
    AsciiDomain, Credentials as _, ExtensionInfo, PublicKeyCredentialDescriptor, RpId,
    UserVerificationRequirement,
};
use webauthn_rp::response::auth::error::AuthCeremonyErr;
use webauthn_rp::response::auth::ser_relaxed::AuthenticationRelaxed;
use webauthn_rp::response::register::error::RegCeremonyErr;
use webauthn_rp::response::register::ser_relaxed::RegistrationRelaxed;
use webauthn_rp::response::register::{DynamicState, StaticState};
use webauthn_rp::response::{AuthTransports, CredentialId};
use webauthn_rp::{
    AuthenticatedCredential, DiscoverableAuthenticationServerState,
    DiscoverableCredentialRequestOptions, NonDiscoverableAuthenticationServerState,
    NonDiscoverableCredentialRequestOptions, PublicKeyCredentialCreationOptions,
    RegistrationServerState,
};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::store::{CeremonyRow, PasskeyRow, StoreError, now};

/// Bytes of a user handle: the account's UUID.
const HANDLE_LEN: usize = 16;
/// How long a ceremony waits for its answer (the options ask the browser for as long).
const CEREMONY_LIFETIME: Duration = Duration::minutes(5);

const REGISTER: &str = "register";
const SIGN_IN: &str = "sign_in";
const CONFIRM: &str = "confirm";

/// The one answer to every failed passkey sign-in, whatever the reason.
fn sign_in_failed() -> ApiError {
    ApiError::Unauthenticated(
        "that passkey could not sign you in; try again or use another way to sign in".into(),
    )
}

fn expired(field: &str) -> ApiError {
    ApiError::field(
        field,
        "this passkey request has expired or was used already; start again",
    )
}

/// The relying party this server is: `PUBLIC_URL`'s host and origin.
struct RelyingParty {
    id: RpId,
    origin: String,
}

fn relying_party(state: &AppState) -> ApiResult<RelyingParty> {
    let url: Uri = state
        .config
        .public_url
        .parse()
        .map_err(|e| anyhow::anyhow!("PUBLIC_URL is not a URL: {e}"))?;
    let (Some(scheme), Some(authority)) = (url.scheme_str(), url.authority()) else {
        return Err(anyhow::anyhow!("PUBLIC_URL has no scheme or host").into());
    };
    let id = AsciiDomain::try_from(authority.host().to_owned())
        .map_err(|e| anyhow::anyhow!("PUBLIC_URL's host is no RP id: {e}"))?;
    Ok(RelyingParty {
        id: RpId::Domain(id),
        origin: format!("{scheme}://{authority}"),
    })
}

fn handle_of(user: UserId) -> UserHandle<HANDLE_LEN> {
    match UserHandle::<HANDLE_LEN>::decode(*user.as_uuid().as_bytes()) {
        Ok(handle) => handle,
        Err(never) => match never {},
    }
}

fn internal(what: &str, e: impl std::fmt::Display) -> ApiError {
    anyhow::anyhow!("{what}: {e}").into()
}

/// The browser's JSON for a ceremony's options.
fn options_json(options: &impl serde::Serialize) -> ApiResult<serde_json::Value> {
    serde_json::to_value(options).map_err(|e| internal("passkey options", e))
}

async fn save_ceremony(
    state: &AppState,
    user: Option<UserId>,
    kind: &str,
    encoded: Vec<u8>,
    options: serde_json::Value,
) -> ApiResult<PasskeyChallenge> {
    let at = now();
    let ceremony = CeremonyRow {
        id: Uuid::now_v7(),
        user_id: user,
        kind: kind.into(),
        state: encoded,
        expires_at: at + CEREMONY_LIFETIME,
    };
    state.store.create_ceremony(&ceremony, at).await?;
    Ok(PasskeyChallenge {
        challenge_id: ceremony.id,
        options,
    })
}

/// Takes the ceremony `id` of `kind`, if it is `user`'s (for a sign-in: nobody's).
async fn take_ceremony(
    state: &AppState,
    id: Uuid,
    kind: &str,
    user: Option<UserId>,
) -> ApiResult<Option<CeremonyRow>> {
    let ceremony = state.store.take_ceremony(id, kind, now()).await?;
    Ok(ceremony.filter(|c| c.user_id == user))
}

/// `user`'s passkeys as credential descriptors (to exclude when registering, or to allow
/// when confirming).
fn descriptors(rows: &[PasskeyRow]) -> Vec<PublicKeyCredentialDescriptor<Vec<u8>>> {
    rows.iter()
        .filter_map(|row| {
            let id = CredentialId::<Vec<u8>>::decode(row.credential_id.clone()).ok()?;
            let transports = u8::try_from(row.transports)
                .ok()
                .and_then(|t| AuthTransports::decode(t).ok())
                .or_else(|| AuthTransports::decode(0).ok())?;
            Some(PublicKeyCredentialDescriptor { id, transports })
        })
        .collect()
}

/// `user`'s passkeys, oldest first.
pub async fn list(state: &AppState, user: UserId) -> ApiResult<Vec<Passkey>> {
    let rows = state.store.passkeys(user).await?;
    Ok(rows.iter().map(PasskeyRow::to_passkey).collect())
}

/// Starts registering a passkey for `user`: a discoverable credential, user verification
/// required, none of the user's passkeys again.
pub async fn start_registration(state: &AppState, user: &User) -> ApiResult<PasskeyChallenge> {
    let rp = relying_party(state)?;
    let existing = state.store.passkeys(user.id).await?;
    let handle = handle_of(user.id);
    let name = Username::try_from(user.email.as_str())
        .or_else(|_| Username::try_from(user.id.to_string()))
        .map_err(|e| internal("user name for a passkey", e))?;
    let entity = PublicKeyCredentialUserEntity {
        name,
        id: &handle,
        display_name: Nickname::try_from(user.name.as_str()).ok(),
    };
    let mut options =
        PublicKeyCredentialCreationOptions::passkey(&rp.id, entity, descriptors(&existing));
    // Ask authenticators to refuse the passkey without user verification, but don't make
    // browsers turn away those that can't promise it (`enforce…: true` fails the ceremony
    // on authenticators without credProtect): every ceremony here requires user
    // verification anyway.
    options.extensions.cred_protect =
        CredProtect::UserVerificationRequired(ExtensionInfo::AllowDontEnforceValue);
    let (server, client) = options
        .start_ceremony()
        .map_err(|e| internal("passkey creation options", e))?;
    let encoded = server
        .encode()
        .map_err(|e| internal("passkey registration state", e))?;
    let options = options_json(&client)?;
    save_ceremony(state, Some(user.id), REGISTER, encoded, options).await
}

fn registration_refused(e: &RegCeremonyErr) -> ApiError {
    let message = match e {
        RegCeremonyErr::OriginMismatch | RegCeremonyErr::RpIdHashMismatch => {
            "was made for another site"
        }
        RegCeremonyErr::ChallengeMismatch => "answers another passkey request",
        RegCeremonyErr::Timeout => "came too late; start again",
        RegCeremonyErr::UserNotVerified => "was made without verifying you (PIN or biometrics)",
        _ => "could not be verified",
    };
    ApiError::field("credential", format!("this passkey {message}"))
}

/// Finishes registering: checks the new credential against the ceremony and stores it.
pub async fn finish_registration(
    state: &AppState,
    user: UserId,
    body: &FinishPasskeyRegistration,
) -> ApiResult<Passkey> {
    let name = parse_passkey_name(&body.name).map_err(|e| ApiError::field("name", e))?;
    let Ok(RegistrationRelaxed(registration)) =
        serde_json::from_value::<RegistrationRelaxed>(body.credential.clone())
    else {
        // The ceremony stays: the browser's answer may be sent again, right this time.
        return Err(ApiError::field(
            "credential",
            "is not a new passkey's answer (the JSON of credential.toJSON())",
        ));
    };
    let ceremony = take_ceremony(state, body.challenge_id, REGISTER, Some(user))
        .await?
        .ok_or_else(|| expired("challenge_id"))?;
    let server = RegistrationServerState::<HANDLE_LEN>::decode(&ceremony.state)
        .map_err(|e| internal("stored passkey registration state", e))?;
    let rp = relying_party(state)?;
    let origins = [rp.origin.as_str()];
    let options = RegistrationVerificationOptions::<&str, &str> {
        allowed_origins: &origins,
        ..Default::default()
    };
    let credential = server
        .verify(&rp.id, &registration, &options)
        .map_err(|e| registration_refused(&e))?;
    let (id, transports, _, static_state, dynamic_state, _) = credential.into_parts();
    let Ok(public_key) = static_state.encode();
    let Ok(counter_state) = dynamic_state.encode();
    let Ok(transports) = transports.encode();
    let row = PasskeyRow {
        id: PasskeyId::new(),
        user_id: user,
        credential_id: id.as_ref().to_vec(),
        name,
        public_key,
        counter_state: counter_state.to_vec(),
        transports: i32::from(transports),
        created_at: now(),
        last_used_at: None,
    };
    match state.store.create_passkey(&row).await {
        Ok(()) => Ok(row.to_passkey()),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict(
            "this passkey is registered already".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Renames one of `user`'s passkeys.
pub async fn rename(
    state: &AppState,
    user: UserId,
    id: PasskeyId,
    name: &str,
) -> ApiResult<Passkey> {
    let name = parse_passkey_name(name).map_err(|e| ApiError::field("name", e))?;
    match state.store.rename_passkey(user, id, &name).await {
        Ok(row) => Ok(row.to_passkey()),
        Err(StoreError::NotFound) => Err(ApiError::not_found("passkey")),
        Err(e) => Err(e.into()),
    }
}

/// Removes one of `user`'s passkeys, unless it is the account's only way in.
pub async fn remove(state: &AppState, user: UserId, id: PasskeyId) -> ApiResult<()> {
    match state.store.delete_passkey(user, id).await {
        Ok(()) => Ok(()),
        Err(StoreError::NotFound) => Err(ApiError::not_found("passkey")),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict(
            "this is your account's only way to sign in: add another passkey, or sign in \
             with Google once, before removing it"
                .into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Starts a username-less sign-in: any passkey of this site may answer.
pub async fn start_sign_in(state: &AppState) -> ApiResult<PasskeyChallenge> {
    let rp = relying_party(state)?;
    let (server, client) = DiscoverableCredentialRequestOptions::passkey(&rp.id)
        .start_ceremony()
        .map_err(|e| internal("passkey request options", e))?;
    let encoded = server
        .encode()
        .map_err(|e| internal("passkey sign-in state", e))?;
    let options = options_json(&client)?;
    save_ceremony(state, None, SIGN_IN, encoded, options).await
}

/// A stored passkey in the form the library checks assertions against.
type StoredKey =
    webauthn_rp::response::register::CompressedPubKey<[u8; 32], [u8; 32], [u8; 48], Vec<u8>>;

fn stored_state(row: &PasskeyRow) -> ApiResult<(StaticState<StoredKey>, DynamicState)> {
    let static_state = StaticState::<StoredKey>::decode(row.public_key.as_slice())
        .map_err(|e| internal("stored passkey public key", e))?;
    let counter: [u8; 7] = row
        .counter_state
        .as_slice()
        .try_into()
        .map_err(|e| internal("stored passkey counter", e))?;
    let dynamic_state =
        DynamicState::decode(counter).map_err(|e| internal("stored passkey counter", e))?;
    Ok((static_state, dynamic_state))
}

fn verification_options<'a>(
    origins: &'a [&'a str],
) -> AuthenticationVerificationOptions<'a, 'a, &'a str, &'a str> {
    AuthenticationVerificationOptions {
        allowed_origins: origins,
        ..Default::default()
    }
}

/// Finishes a passkey sign-in: the user whose passkey made the assertion, or 401 with one
/// message whatever went wrong. A signature counter that does not move forward (where the
/// authenticator counts) is refused: the passkey was likely cloned.
///
/// Every attempt is counted against the client address's sign-in limit (the one password
/// sign-ins count against) before anything is checked, and forgotten when it succeeds: 429
/// once an address has failed too often.
pub async fn finish_sign_in(
    state: &AppState,
    body: &PasskeyAssertion,
    address: &str,
) -> ApiResult<User> {
    let attempt = super::reserve(
        state,
        &[(format!("address:{address}"), super::ADDRESS_ATTEMPTS)],
        super::ATTEMPT_WINDOW,
        "too many sign-in attempts; wait 15 minutes and try again",
    )
    .await?;
    let user = check_sign_in(state, body).await?;
    state.store.delete_login_attempts(&attempt).await?;
    Ok(user)
}

async fn check_sign_in(state: &AppState, body: &PasskeyAssertion) -> ApiResult<User> {
    let Ok(AuthenticationRelaxed(assertion)) =
        serde_json::from_value::<AuthenticationRelaxed<HANDLE_LEN, true>>(body.credential.clone())
    else {
        return Err(sign_in_failed());
    };
    let Some(ceremony) = take_ceremony(state, body.challenge_id, SIGN_IN, None).await? else {
        return Err(sign_in_failed());
    };
    let server = DiscoverableAuthenticationServerState::decode(&ceremony.state)
        .map_err(|e| internal("stored passkey sign-in state", e))?;
    let Some((row, user)) = state
        .store
        .passkey_by_credential(assertion.raw_id().as_ref())
        .await?
    else {
        return Err(sign_in_failed());
    };
    let (static_state, dynamic_state) = stored_state(&row)?;
    let handle = handle_of(row.user_id);
    let mut credential =
        AuthenticatedCredential::new(assertion.raw_id(), &handle, static_state, dynamic_state)
            .map_err(|e| internal("stored passkey", e))?;
    let rp = relying_party(state)?;
    let origins = [rp.origin.as_str()];
    if let Err(e) = server.verify(
        &rp.id,
        &assertion,
        &mut credential,
        &verification_options(&origins),
    ) {
        tracing::info!(error = %e, "a passkey sign-in was refused");
        return Err(sign_in_failed());
    }
    let Ok(counter_state) = credential.dynamic_state().encode();
    state
        .store
        .passkey_used(row.id, &counter_state, now())
        .await?;
    Ok(user)
}

/// Starts a confirmation: one of `user`'s own passkeys must answer. 409 when `user` has
/// none.
pub async fn start_confirmation(state: &AppState, user: UserId) -> ApiResult<PasskeyChallenge> {
    let rows = state.store.passkeys(user).await?;
    let mut allowed = AllowedCredentials::with_capacity(rows.len());
    for descriptor in descriptors(&rows) {
        allowed.push(AllowedCredential::from(descriptor));
    }
    let rp = relying_party(state)?;
    let Ok(mut request) = NonDiscoverableCredentialRequestOptions::second_factor(&rp.id, allowed)
    else {
        return Err(ApiError::Conflict(
            "you have no passkey to confirm with; add one first".into(),
        ));
    };
    request.options().user_verification = UserVerificationRequirement::Required;
    let (server, client) = request
        .start_ceremony()
        .map_err(|e| internal("passkey request options", e))?;
    let encoded = server
        .encode()
        .map_err(|e| internal("passkey confirmation state", e))?;
    let options = options_json(&client)?;
    save_ceremony(state, Some(user), CONFIRM, encoded, options).await
}

fn confirmation_refused(e: &AuthCeremonyErr) -> ApiError {
    let message = match e {
        AuthCeremonyErr::OriginMismatch | AuthCeremonyErr::RpIdHashMismatch => {
            "was made for another site"
        }
        AuthCeremonyErr::ChallengeMismatch => "answers another passkey request",
        AuthCeremonyErr::UserNotVerified => "did not verify you (PIN or biometrics)",
        AuthCeremonyErr::NoMatchingAllowedCredential => "is not one of your passkeys",
        AuthCeremonyErr::SignatureCounter => "looks cloned: its signature counter went back",
        _ => "could not be verified",
    };
    ApiError::field("passkey", format!("this passkey {message}"))
}

/// Checks a passkey assertion (`{"challenge_id", "credential"}`, from the confirmation
/// ceremony's start) made by one of `user`'s passkeys: how a person without a password, or
/// who prefers not to type it, confirms something sensitive (turning two-factor sign-in off).
/// A bad proof is a 422 on the field `passkey`.
pub async fn confirm(state: &AppState, user: UserId, proof: &serde_json::Value) -> ApiResult<()> {
    let Ok(proof) = serde_json::from_value::<PasskeyAssertion>(proof.clone()) else {
        let mut errors = FieldErrors::new();
        errors.insert(
            "passkey".into(),
            "must be {\"challenge_id\", \"credential\"} from a passkey confirmation".into(),
        );
        return Err(ApiError::Validation(errors));
    };
    let Ok(AuthenticationRelaxed(assertion)) = serde_json::from_value::<
        AuthenticationRelaxed<HANDLE_LEN, false>,
    >(proof.credential.clone()) else {
        return Err(ApiError::field(
            "passkey",
            "is not a passkey's answer (the JSON of credential.toJSON())",
        ));
    };
    let ceremony = take_ceremony(state, proof.challenge_id, CONFIRM, Some(user))
        .await?
        .ok_or_else(|| expired("passkey"))?;
    let server = NonDiscoverableAuthenticationServerState::decode(&ceremony.state)
        .map_err(|e| internal("stored passkey confirmation state", e))?;
    let Some((row, _)) = state
        .store
        .passkey_by_credential(assertion.raw_id().as_ref())
        .await?
        .filter(|(row, _)| row.user_id == user)
    else {
        return Err(ApiError::field(
            "passkey",
            "this passkey is not one of yours",
        ));
    };
    let (static_state, dynamic_state) = stored_state(&row)?;
    let handle = handle_of(user);
    let mut credential =
        AuthenticatedCredential::new(assertion.raw_id(), &handle, static_state, dynamic_state)
            .map_err(|e| internal("stored passkey", e))?;
    let rp = relying_party(state)?;
    let origins = [rp.origin.as_str()];
    server
        .verify(
            &rp.id,
            &assertion,
            &mut credential,
            &verification_options(&origins),
        )
        .map_err(|e| confirmation_refused(&e))?;
    let Ok(counter_state) = credential.dynamic_state().encode();
    state
        .store
        .passkey_used(row.id, &counter_state, now())
        .await?;
    Ok(())
}

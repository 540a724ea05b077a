//! Sign-in: argon2id password hashes, random session tokens stored only as hashes, the
//! session cookie, login rate limits, and the extractors that tell who is asking.

use std::net::SocketAddr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use shared::{HouseholdId, Role, User};
use time::Duration;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::store::{HouseholdRow, SessionRow, now};

pub const SESSION_COOKIE: &str = "hi_session";

/// Failed sign-ins allowed per account, and per client address, within the window.
const ACCOUNT_FAILURES: i64 = 5;
const ADDRESS_FAILURES: i64 = 30;
const FAILURE_WINDOW: Duration = Duration::minutes(15);

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id settings: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("{e}"))?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}").into())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
}

/// A hash of no one's password, checked when the email is unknown so that an unknown email
/// takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::encode_b64(b"home-inventory-dummy").unwrap_or_else(|_| {
            SaltString::from_b64("aG9tZWludmVudG9yeQ").expect("a valid constant salt")
        });
        argon2()
            .hash_password(b"not anyone's password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Checks a password against a stored hash (or the dummy one when there is none).
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    })
    .await
    .unwrap_or(false)
}

/// A new session token (256 random bits) and the hash that is stored.
pub fn new_token() -> ApiResult<(String, Vec<u8>)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    Ok((token, hash))
}

pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Starts a session for `user`; returns the `Set-Cookie` value.
pub async fn start_session(state: &AppState, user: &User) -> ApiResult<String> {
    let (token, hash) = new_token()?;
    let created_at = now();
    let session = SessionRow {
        token_hash: hash,
        user_id: user.id,
        created_at,
        expires_at: created_at + Duration::days(state.config.session_days),
    };
    state.store.create_session(&session).await?;
    Ok(session_cookie(
        state,
        &token,
        state.config.session_days * 86_400,
    ))
}

pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
}

/// A cookie's value from the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

pub fn session_token(headers: &HeaderMap) -> Option<String> {
    if let Some(bearer) = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        return Some(bearer.trim().to_string());
    }
    cookie(headers, SESSION_COOKIE)
}

/// The signed-in user. Rejects with 401 when there is no live session.
pub struct CurrentUser {
    pub user: User,
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = session_token(&parts.headers).ok_or(ApiError::Unauthorized)?;
        let hash = token_hash(&token);
        let now = now();
        let (session, user) = state.store.session(&hash, now).await?.ok_or_else(|| {
            ApiError::Unauthenticated("your session has ended; sign in again".into())
        })?;
        // Sliding expiry, written at most once a day per session.
        let full = now + Duration::days(state.config.session_days);
        if full - session.expires_at > Duration::days(1) {
            state.store.extend_session(&hash, full).await?;
        }
        Ok(Self {
            user,
            token_hash: hash,
        })
    }
}

/// The caller's membership of the household in the path; 404 when not a member.
pub async fn member(
    state: &AppState,
    user: &CurrentUser,
    household: HouseholdId,
) -> ApiResult<(HouseholdRow, Role)> {
    state
        .store
        .membership(household, user.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("household"))
}

/// Like `member`, but viewers are refused with 403.
pub async fn editor(
    state: &AppState,
    user: &CurrentUser,
    household: HouseholdId,
) -> ApiResult<HouseholdRow> {
    let (household, role) = member(state, user, household).await?;
    if role.can_write() {
        Ok(household)
    } else {
        Err(ApiError::Forbidden(
            "viewers can look but not change anything; ask an owner for editor access".into(),
        ))
    }
}

/// The client's address: the socket peer when served directly, else the first hop a proxy
/// (API Gateway, CloudFront) reports.
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> ApiResult<Self> {
        if let Some(ConnectInfo(addr)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return Ok(Self(addr.ip().to_string()));
        }
        Ok(Self(
            forwarded_for(&parts.headers).unwrap_or_else(|| "unknown".into()),
        ))
    }
}

fn forwarded_for(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Refuses a sign-in attempt when the account or the address failed too often lately.
pub async fn check_login_rate(state: &AppState, email: &str, address: &str) -> ApiResult<()> {
    let since = now() - FAILURE_WINDOW;
    let account = state
        .store
        .login_failures_since(&format!("account:{email}"), since)
        .await?;
    let from_address = state
        .store
        .login_failures_since(&format!("address:{address}"), since)
        .await?;
    if account >= ACCOUNT_FAILURES || from_address >= ADDRESS_FAILURES {
        return Err(ApiError::RateLimited(
            "too many failed sign-ins; wait 15 minutes and try again".into(),
        ));
    }
    Ok(())
}

pub async fn record_login_failure(state: &AppState, email: &str, address: &str) -> ApiResult<()> {
    let at = now();
    state
        .store
        .record_login_failure(&format!("account:{email}"), at)
        .await?;
    state
        .store
        .record_login_failure(&format!("address:{address}"), at)
        .await?;
    Ok(())
}

pub async fn clear_login_failures(state: &AppState, email: &str) -> ApiResult<()> {
    state
        .store
        .clear_login_failures(&format!("account:{email}"))
        .await?;
    Ok(())
}

pub fn expired_cookie(state: &AppState) -> String {
    session_cookie(state, "", 0)
}

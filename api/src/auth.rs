//! Sign-in: argon2id password hashes (a few at a time), random session tokens stored only
//! as hashes, the session cookie, sign-in and sign-up limits, and the extractors that tell
//! who is asking: a person signed in with the session cookie, or a program with a personal
//! API token (`tokens.rs`) in `Authorization: Bearer …`.

use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{self, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use shared::{HouseholdId, Role, TokenId, TokenScope, User};
use time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::store::{HouseholdRow, SessionRow, StoreError, now};

pub use crate::edge::ClientAddress;

pub mod browser;
pub mod passkeys;
pub mod tokens;
pub mod two_factor;

/// Password checks allowed per account, and per client address, within the window.
const ACCOUNT_ATTEMPTS: i64 = 5;
const ADDRESS_ATTEMPTS: i64 = 30;
const ATTEMPT_WINDOW: Duration = Duration::minutes(15);

/// A session's last use is written at most this often (with its sliding expiry): the
/// "Signed-in devices" list shows it to the hour.
pub const SESSION_USE_EVERY: Duration = Duration::hours(1);

/// Accounts one client address may create per hour. A constant, not a setting: a household
/// makes a handful of accounts once, so ten an hour never stands in anyone's way, while a
/// script making accounts by the thousand (each costing a password hash and a household)
/// is stopped; whoever needs many accounts at once is provisioning, which is not a job for
/// the public sign-up form.
const REGISTRATIONS_PER_ADDRESS: i64 = 10;
const REGISTRATION_WINDOW: Duration = Duration::hours(1);

/// How long a request waits for a turn at hashing before it is told the server is busy.
const HASH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Hashes running at once: one per core. Each takes 19 MiB and tens of milliseconds of a
/// core, so more at once would only make every one of them slower (and a flood of
/// sign-ins could exhaust memory); the rest queue for `HASH_WAIT`.
pub fn hashing_permits() -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    Arc::new(Semaphore::new(cores))
}

async fn hashing_turn(state: &AppState) -> ApiResult<OwnedSemaphorePermit> {
    match tokio::time::timeout(HASH_WAIT, state.hashing.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) | Err(_) => Err(busy()),
    }
}

fn busy() -> ApiError {
    ApiError::Unavailable("the server is busy; try again".into())
}

fn argon2() -> Argon2<'static> {
    // OWASP's recommended argon2id settings: 19 MiB, 2 passes, 1 lane.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub async fn hash_password(state: &AppState, password: String) -> ApiResult<String> {
    let permit = hashing_turn(state).await?;
    tokio::task::spawn_blocking(move || {
        // Held until the hash is done, even if the request is dropped meanwhile.
        let _permit = permit;
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
/// `Unavailable` when no hashing turn comes up in time.
pub async fn verify_password(
    state: &AppState,
    password: String,
    hash: Option<String>,
) -> ApiResult<bool> {
    let permit = hashing_turn(state).await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
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
    .map_err(|e| ApiError::Internal(e.into()))
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

/// The longest `User-Agent` kept with a session, in bytes.
const MAX_USER_AGENT: usize = 512;

/// The request's `User-Agent`, to remember with a session it starts (cut to 512 bytes).
pub struct UserAgent(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for UserAgent {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                let mut end = v.len().min(MAX_USER_AGENT);
                while !v.is_char_boundary(end) {
                    end -= 1;
                }
                v[..end].to_string()
            });
        Ok(Self(agent))
    }
}

/// A new session for `user`, to live `session_days` (at most `session_max_days`).
fn new_session(
    state: &AppState,
    user: &User,
    user_agent: &UserAgent,
) -> ApiResult<(String, SessionRow)> {
    let (token, hash) = new_token()?;
    let created_at = now();
    let days = state.config.session_days.min(state.config.session_max_days);
    let session = SessionRow {
        token_hash: hash,
        id: Uuid::now_v7(),
        user_id: user.id,
        user_agent: user_agent.0.clone(),
        created_at,
        last_used_at: Some(created_at),
        expires_at: created_at + Duration::days(days),
    };
    Ok((token, session))
}

fn cookie_for(state: &AppState, token: &str, session: &SessionRow) -> String {
    let max_age = (session.expires_at - session.created_at).whole_seconds();
    session_cookie(state, token, max_age)
}

/// Starts a session for `user`, who proved who they are some other way than a password
/// (Google); returns the `Set-Cookie` value.
pub async fn start_session(
    state: &AppState,
    user: &User,
    user_agent: &UserAgent,
) -> ApiResult<String> {
    let (token, session) = new_session(state, user, user_agent)?;
    state.store.create_session(&session).await?;
    Ok(cookie_for(state, &token, &session))
}

/// Starts a session for `user`, who just showed the password whose hash is
/// `password_hash`, unless that password stopped being theirs meanwhile (the account was
/// taken over by its email's owner, or the password changed): then 401, as for a wrong
/// password.
pub async fn start_password_session(
    state: &AppState,
    user: &User,
    password_hash: &str,
    user_agent: &UserAgent,
) -> ApiResult<String> {
    let (token, session) = new_session(state, user, user_agent)?;
    match state
        .store
        .create_password_session(&session, password_hash)
        .await
    {
        Ok(()) => Ok(cookie_for(state, &token, &session)),
        Err(StoreError::Conflict(_)) => Err(wrong_password()),
        Err(e) => Err(e.into()),
    }
}

pub fn wrong_password() -> ApiError {
    ApiError::Unauthenticated("the email or password is not right".into())
}

/// The session cookie. Behind HTTPS it is `__Host-hi_session`: `Secure`, `Path=/` and no
/// `Domain`, as the prefix demands.
pub fn session_cookie(state: &AppState, token: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        state.config.session_cookie_name()
    )
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

/// How the caller showed who they are.
pub enum Credential {
    /// The session cookie; the hash of its token.
    Session(Vec<u8>),
    /// A personal API token.
    Token(TokenGrant),
}

/// What an API token may do, besides what its owner's role allows.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub id: TokenId,
    pub name: String,
    pub scope: TokenScope,
    /// The one household it may use; `None`: all of its owner's.
    pub household: Option<HouseholdId>,
}

/// Where a request's session cookie, sent again with a later `Max-Age`, waits for the
/// response: set when the sliding expiry moves the session's end, so the browser does not
/// drop the cookie of a session that is still alive. See [`refresh_session_cookie`].
#[derive(Clone, Default)]
pub struct CookieRefresh(Arc<Mutex<Option<String>>>);

impl CookieRefresh {
    fn set(&self, cookie: String) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(cookie);
    }

    fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

/// Middleware: sends the session cookie again when the request extended its session,
/// unless the answer sets the session cookie itself (signing in, signing out).
pub async fn refresh_session_cookie(mut request: Request, next: Next) -> Response {
    let refresh = CookieRefresh::default();
    request.extensions_mut().insert(refresh.clone());
    let mut response = next.run(request).await;
    if let Some(cookie) = refresh.take() {
        let name = cookie.split('=').next().unwrap_or_default().to_string();
        let sets_its_own = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&format!("{name}="))));
        if !sets_its_own && let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// Who is asking: a signed-in person, or a program with one of their API tokens. Rejects
/// with 401 without either; 403 when a read-only token asks to change something.
pub struct CurrentUser {
    pub user: User,
    pub credential: Credential,
}

impl CurrentUser {
    /// The API token the request came with, if it came with one.
    pub fn token(&self) -> Option<&TokenGrant> {
        match &self.credential {
            Credential::Token(grant) => Some(grant),
            Credential::Session(_) => None,
        }
    }

    /// The name of the API token the request came with, for the activity log.
    pub fn via_token(&self) -> Option<String> {
        self.token().map(|t| t.name.clone())
    }

    /// Whether the credential reaches `household` at all (a token may be limited to one);
    /// whether the person belongs to it is a separate question.
    pub fn reaches(&self, household: HouseholdId) -> bool {
        self.token()
            .and_then(|t| t.household)
            .is_none_or(|only| only == household)
    }
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let user = authenticate(parts, state).await?;
        // The intersection with the token's scope: a read-only token changes nothing,
        // whatever its owner's role.
        if user.token().is_some_and(|t| t.scope == TokenScope::Read) && !parts.method.is_safe() {
            return Err(read_only_token());
        }
        Ok(user)
    }
}

/// Someone signed in, for a `POST` that changes nothing a household holds (a report
/// made from it): read-only API tokens may send it too.
pub struct Reader(pub CurrentUser);

impl FromRequestParts<AppState> for Reader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        Ok(Self(authenticate(parts, state).await?))
    }
}

fn read_only_token() -> ApiError {
    ApiError::Forbidden(
        "this API token may only read; make a token with the write scope to change things".into(),
    )
}

/// A person signed in with a session, for what an API token may not do: managing tokens,
/// members, invitations, households and the account, and signing out. A token → 403.
pub struct SessionUser(CurrentUser);

impl SessionUser {
    /// The hash of the session's token.
    pub fn session_hash(&self) -> &[u8] {
        match &self.0.credential {
            Credential::Session(hash) => hash,
            Credential::Token(_) => &[],
        }
    }
}

impl Deref for SessionUser {
    type Target = CurrentUser;
    fn deref(&self) -> &CurrentUser {
        &self.0
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let user = authenticate(parts, state).await?;
        if user.token().is_some() {
            return Err(ApiError::Forbidden(
                "this needs a signed-in person, not an API token; do it in the web app".into(),
            ));
        }
        Ok(Self(user))
    }
}

/// The caller by their API token (`Authorization: Bearer …`), else by their session cookie.
async fn authenticate(parts: &Parts, state: &AppState) -> ApiResult<CurrentUser> {
    if let Some(token) = tokens::bearer(&parts.headers) {
        return tokens::authenticate(state, &token).await;
    }
    let token =
        cookie(&parts.headers, state.config.session_cookie_name()).ok_or(ApiError::Unauthorized)?;
    let hash = token_hash(&token);
    let now = now();
    let ended = || ApiError::Unauthenticated("your session has ended; sign in again".into());
    let (session, user) = state
        .access
        .session(&state.store, &hash, now)
        .await?
        .ok_or_else(ended)?;
    // However active, a session ends `session_max_days` after its sign-in.
    let last_day = session.created_at + Duration::days(state.config.session_max_days);
    if now >= last_day {
        state.store.delete_session(&hash).await?;
        state.access.forget_credentials();
        return Err(ended());
    }
    // Sliding expiry and the last use, written together at most once an hour per session
    // (the cookie is sent again only when the end moved by more than a day).
    let full = (now + Duration::days(state.config.session_days)).min(last_day);
    let moved = full - session.expires_at > Duration::days(1);
    let last_used = session.last_used_at.unwrap_or(session.created_at);
    if moved || now - last_used >= SESSION_USE_EVERY {
        state.store.extend_session(&hash, full, now).await?;
        state.access.session_extended(&hash, full, now);
        // The browser keeps the cookie as long as the session now lives.
        if moved && let Some(refresh) = parts.extensions.get::<CookieRefresh>() {
            refresh.set(session_cookie(state, &token, (full - now).whole_seconds()));
        }
    }
    Ok(CurrentUser {
        user,
        credential: Credential::Session(hash),
    })
}

/// The caller's membership of the household in the path; 404 when not a member, or when
/// the caller's API token is limited to another household.
pub async fn member(
    state: &AppState,
    user: &CurrentUser,
    household: HouseholdId,
) -> ApiResult<(HouseholdRow, Role)> {
    if !user.reaches(household) {
        return Err(ApiError::not_found("household"));
    }
    state
        .access
        .membership(&state.store, household, user.user.id)
        .await?
        .ok_or_else(|| ApiError::not_found("household"))
}

/// `member` as the database has it at this moment, for a change that must start from the
/// household's current version (editing the household).
pub async fn member_now(
    state: &AppState,
    user: &CurrentUser,
    household: HouseholdId,
) -> ApiResult<(HouseholdRow, Role)> {
    if !user.reaches(household) {
        return Err(ApiError::not_found("household"));
    }
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
    if user.token().is_some_and(|t| t.scope == TokenScope::Read) {
        Err(read_only_token())
    } else if role.can_write() {
        Ok(household)
    } else {
        Err(ApiError::Forbidden(
            "viewers can look but not change anything; ask an owner for editor access".into(),
        ))
    }
}

/// A password check that has been counted against the limits and may go ahead.
#[must_use = "a successful sign-in must be reported with `succeeded`"]
pub struct SignInAttempt {
    account_key: String,
    ids: Vec<Uuid>,
    address_row: Uuid,
}

/// Counts a password check for `email` from `address` against the limits before it runs:
/// 429 when the account or the address has had too many lately, without hashing anything.
///
/// The attempt is recorded (committed) first and counted after, its own row included.
/// Concurrent attempts therefore can't all see the same low count: order them by when
/// their rows were committed; the (N+1)-th one's count runs after its own commit, so it
/// sees its row and the N committed before it, more than N, and so does every later one.
/// At most N attempts in a window ever see a count of N or less and go on to the hash
/// (until the right password clears the account's count).
/// That takes no more isolation than reading what is committed: no locks and no
/// serializable transactions, the same on SQLite, PostgreSQL and Aurora DSQL. (Checking
/// first and recording failures after the slow hash, as before, let every concurrent
/// guess see zero failures.) Refused attempts stay recorded, so a burst of guesses keeps
/// the account closed for the window.
pub async fn reserve_sign_in(
    state: &AppState,
    email: &str,
    address: &str,
) -> ApiResult<SignInAttempt> {
    let account_key = format!("account:{email}");
    let address_key = format!("address:{address}");
    let ids = reserve(
        state,
        &[
            (account_key.clone(), ACCOUNT_ATTEMPTS),
            (address_key, ADDRESS_ATTEMPTS),
        ],
        ATTEMPT_WINDOW,
        "too many sign-in attempts; wait 15 minutes and try again",
    )
    .await?;
    Ok(SignInAttempt {
        account_key,
        address_row: ids[1],
        ids,
    })
}

impl SignInAttempt {
    /// The password was right: the account's count starts again, and this attempt does not
    /// count against the address.
    pub async fn succeeded(self, state: &AppState) -> ApiResult<()> {
        state.store.clear_login_failures(&self.account_key).await?;
        state
            .store
            .delete_login_attempts(&[self.address_row])
            .await?;
        Ok(())
    }

    /// No password was checked (no hashing turn came up): the attempt does not count.
    pub async fn withdrawn(self, state: &AppState) -> ApiResult<()> {
        state.store.delete_login_attempts(&self.ids).await?;
        Ok(())
    }
}

/// Counts a new account from `address` against the hourly limit, the same way (and before
/// its password is hashed). Returns the row, to withdraw when no hash was made.
pub async fn reserve_registration(state: &AppState, address: &str) -> ApiResult<Uuid> {
    let ids = reserve(
        state,
        &[(format!("register:{address}"), REGISTRATIONS_PER_ADDRESS)],
        REGISTRATION_WINDOW,
        "too many new accounts from your network; try again in an hour",
    )
    .await?;
    Ok(ids[0])
}

/// Attempts this process has recorded; every `PURGE_EVERY`th also purges old ones.
static ATTEMPTS_SEEN: AtomicU64 = AtomicU64::new(0);
const PURGE_EVERY: u64 = 50;
/// At most this many old rows a purge deletes (more than `PURGE_EVERY` attempts write).
const PURGE_ROWS: i64 = 1000;
/// Longer than the longest window (an hour, for registrations).
const ATTEMPTS_KEPT: Duration = Duration::days(1);

/// Records one attempt under each key, then refuses if any key has more than its limit
/// within `window`. The ids of the rows written, in the order of `limits`.
async fn reserve(
    state: &AppState,
    limits: &[(String, i64)],
    window: Duration,
    refusal: &str,
) -> ApiResult<Vec<Uuid>> {
    let at = now();
    let rows: Vec<(Uuid, String)> = limits
        .iter()
        .map(|(key, _)| (Uuid::now_v7(), key.clone()))
        .collect();
    state.store.record_login_attempts(&rows, at).await?;
    // Every so often, attempts older than any window are forgotten.
    if ATTEMPTS_SEEN
        .fetch_add(1, Ordering::Relaxed)
        .is_multiple_of(PURGE_EVERY)
    {
        state
            .store
            .purge_login_attempts(at - ATTEMPTS_KEPT, PURGE_ROWS)
            .await?;
    }
    let since = at - window;
    for (key, limit) in limits {
        let seen = state
            .store
            .login_attempts_since(key, since, limit + 1)
            .await?;
        if seen > *limit {
            return Err(ApiError::RateLimited(refusal.into()));
        }
    }
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

pub fn expired_cookie(state: &AppState) -> String {
    session_cookie(state, "", 0)
}

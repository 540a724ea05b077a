//! Personal API tokens: their format, letting a request in with one, and how many requests
//! each may make.
//!
//! A token is `hinv_`, 30 random base62 characters and a 6-character base62 checksum (the
//! CRC32 of the 30): `hinv_` followed by 36 letters and digits, which secret scanners can
//! match, and whose checksum tells a mistyped or truncated token from a real one without
//! asking the database. Only the token's SHA-256 hash is stored.

use std::num::NonZeroU32;
use std::time::Duration as StdDuration;

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use shared::{TOKEN_PREFIX, TokenId};
use time::Duration;

use super::{Credential, CurrentUser, TokenGrant, token_hash};
use crate::AppState;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::store::now;

/// Random characters in a token.
const RANDOM_CHARS: usize = 30;
/// Checksum characters after them: base62 needs 6 for any 32-bit number.
const CHECK_CHARS: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Characters of the secret shown in lists, to tell tokens apart.
const HINT_CHARS: usize = 4;
/// `last_used_at` is written at most this often per token.
pub const LAST_USED_EVERY: Duration = Duration::hours(1);

/// A new token: `hinv_` + 30 random base62 characters + their checksum.
pub fn generate() -> ApiResult<String> {
    let mut random = String::with_capacity(RANDOM_CHARS);
    while random.len() < RANDOM_CHARS {
        let mut bytes = [0u8; 48];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        // 248 = 4 × 62: bytes above it are dropped, so every character is equally likely.
        for b in bytes.into_iter().filter(|b| *b < 248) {
            if random.len() == RANDOM_CHARS {
                break;
            }
            random.push(char::from(BASE62[usize::from(b % 62)]));
        }
    }
    let check = checksum(&random);
    Ok(format!("{TOKEN_PREFIX}{random}{check}"))
}

/// The CRC32 of the random part, as 6 base62 characters (most significant first).
fn checksum(random: &str) -> String {
    let mut n = crc32fast::hash(random.as_bytes());
    let mut out = [b'0'; CHECK_CHARS];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|b| char::from(*b)).collect()
}

/// Whether `token` has the shape of a token and its checksum adds up.
pub fn well_formed(token: &str) -> bool {
    let Some(body) = token.strip_prefix(TOKEN_PREFIX) else {
        return false;
    };
    body.len() == RANDOM_CHARS + CHECK_CHARS
        && body.bytes().all(|b| b.is_ascii_alphanumeric())
        && checksum(&body[..RANDOM_CHARS]) == body[RANDOM_CHARS..]
}

/// The last characters of a token, shown in lists.
pub fn hint(token: &str) -> String {
    token[token.len().saturating_sub(HINT_CHARS)..].to_string()
}

/// The credentials of an `Authorization: Bearer …` header. `None` without one, or when the
/// header has another scheme (a proxy's `Basic` sign-in, say), which is left to the proxy.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        // Not text at all: certainly not a token, but meant as one.
        return Some(String::new());
    };
    let (scheme, credentials) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim().to_string())
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::InvalidToken(message.into())
}

/// The person a token belongs to, and what it may do; 401 `invalid_token` for a malformed,
/// unknown (revoked) or expired token, 429 when it is over its request rate.
pub async fn authenticate(state: &AppState, token: &str) -> ApiResult<CurrentUser> {
    if !well_formed(token) {
        // Refused here, without a trip to the database.
        return Err(invalid(
            "this is not a Home Inventory API token (hinv_ and 36 letters and digits); \
             check that it was copied whole",
        ));
    }
    let hash = token_hash(token);
    let found = state.access.token(&state.store, &hash).await?;
    let Some((row, user)) = found else {
        return Err(invalid(
            "this API token is not valid: it was revoked, or never existed",
        ));
    };
    let at = now();
    if row.expires_at <= at {
        return Err(invalid(format!(
            "this API token expired on {}; make a new one",
            row.expires_at.date()
        )));
    }
    state.token_limits.check(row.id)?;
    if row
        .last_used_at
        .is_none_or(|last| at - last >= LAST_USED_EVERY)
    {
        state
            .store
            .touch_api_token(row.id, at, at - LAST_USED_EVERY)
            .await?;
        state.access.token_used(&hash, at);
    }
    Ok(CurrentUser {
        user,
        credential: Credential::Token(TokenGrant {
            id: row.id,
            name: row.name,
            scope: row.scope,
            household: row.household_id,
        }),
    })
}

/// Requests per token: a token bucket per token id (GCRA, which behaves the same), holding
/// `API_TOKEN_BURST` requests and refilled at `API_TOKEN_RATE` a second. Kept in the server
/// process: each process (each Lambda instance) counts on its own.
pub struct TokenLimits {
    limiter: DefaultKeyedRateLimiter<TokenId>,
}

/// Tokens whose state is kept before the ones that are full again are forgotten.
const TRACKED_TOKENS: usize = 10_000;

impl TokenLimits {
    pub fn new(config: &Config) -> Self {
        let period = StdDuration::from_secs_f64(1.0 / config.api_token_rate.max(0.000_001));
        let burst = NonZeroU32::new(config.api_token_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
        }
    }

    /// Counts one request of `token`; 429 with the seconds to wait when it has none left.
    pub fn check(&self, token: TokenId) -> ApiResult<()> {
        if self.limiter.len() > TRACKED_TOKENS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(&token).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            ApiError::RetryLater {
                message: format!(
                    "this API token made too many requests; wait {seconds} s and slow down"
                ),
                seconds: seconds.max(1),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tokens_have_the_published_shape_and_a_checksum_that_adds_up() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        for token in [&a, &b] {
            assert_eq!(token.len(), 5 + 36, "{token}");
            assert!(token.starts_with("hinv_"));
            assert!(token[5..].bytes().all(|c| c.is_ascii_alphanumeric()));
            assert!(well_formed(token), "{token}");
        }
    }

    #[test]
    fn a_mistyped_or_cut_token_is_not_well_formed() {
        let token = generate().unwrap();
        // One character changed anywhere in the random part breaks the checksum.
        for i in 5..5 + RANDOM_CHARS {
            let mut typo = token.clone().into_bytes();
            typo[i] = if typo[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(typo).unwrap();
            assert!(!well_formed(&typo), "{typo}");
        }
        assert!(!well_formed(&token[..token.len() - 1]));
        assert!(!well_formed(&format!("{token}x")));
        assert!(!well_formed(&token.replace("hinv_", "hinx_")));
        assert!(!well_formed(&token.replace("hinv_", "")));
        assert!(!well_formed(""));
        assert!(!well_formed(&format!("hinv_{}", "é".repeat(18))));
    }

    #[test]
    fn the_checksum_is_six_base62_digits_of_the_crc32() {
        assert_eq!(checksum(""), "000000");
        let n = crc32fast::hash(b"a");
        let digits = checksum("a");
        let back = digits.bytes().fold(0u64, |acc, c| {
            acc * 62 + BASE62.iter().position(|b| *b == c).unwrap() as u64
        });
        assert_eq!(back, u64::from(n));
    }

    #[test]
    fn only_the_bearer_scheme_carries_a_token() {
        let headers = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(AUTHORIZATION, value.parse().unwrap());
            h
        };
        assert_eq!(bearer(&HeaderMap::new()), None);
        assert_eq!(bearer(&headers("Bearer hinv_x")), Some("hinv_x".into()));
        assert_eq!(bearer(&headers("bearer  hinv_x ")), Some("hinv_x".into()));
        assert_eq!(bearer(&headers("Bearer")), Some(String::new()));
        assert_eq!(bearer(&headers("Basic dXNlcjpwYXNz")), None);
    }

    #[test]
    fn a_token_gets_its_burst_then_waits_for_the_rate() {
        let mut config = Config::from_lookup(|_| None).unwrap();
        config.api_token_rate = 0.01; // one request every 100 s
        config.api_token_burst = 3;
        let limits = TokenLimits::new(&config);
        let (busy, other) = (TokenId::new(), TokenId::new());
        for _ in 0..3 {
            limits.check(busy).unwrap();
        }
        match limits.check(busy) {
            Err(ApiError::RetryLater { seconds, .. }) => {
                assert!((90..=100).contains(&seconds), "{seconds}")
            }
            other => panic!("not limited: {other:?}"),
        }
        // Each token has a bucket of its own.
        limits.check(other).unwrap();
    }
}

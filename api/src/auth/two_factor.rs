//! Two-factor sign-in with an authenticator app (RFC 6238 TOTP: HMAC-SHA-1, 6 digits,
//! 30-second steps, one step of drift either way) and one-time recovery codes.
//!
//! - A code is accepted once: the step it belongs to is recorded, and a code of that step
//!   or an earlier one is refused after (`SecurityStore::accept_totp_step` does it in one
//!   conditional write, so two requests racing with the same code can't both pass).
//! - Recovery codes are 60 random bits each, shown once, stored only as SHA-256 hashes,
//!   and deleted when used.
//! - Every check takes the time as an argument, so tests run it on a clock they control.
//! - Nothing secret is logged: not the secret, not a code.

use qrcode::{Color, EcLevel, QrCode};
use sha2::{Digest, Sha256};
use shared::{RECOVERY_CODES, TOTP_DIGITS, is_app_code};
use time::OffsetDateTime;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::store::{RecoveryCodeRow, TwoFactorRow};

/// Seconds in a time step.
pub const STEP_SECONDS: u64 = 30;
/// A new secret's size: 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// The name authenticator apps show above the account.
const ISSUER: &str = "Home Inventory";
/// Letters of recovery codes: lower-case letters and digits without the ones that are
/// easily mistaken for another (0/o, 1/l/i), 32 of them: 5 bits a character.
const CODE_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Characters of a recovery code, written in groups of four: `abcd-efgh-jkmn`.
const CODE_CHARS: usize = 12;

fn totp_with(secret: &[u8], digits: u8) -> ApiResult<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP_SECONDS)
        .with_secret(Secret::from(secret.to_vec()))
        .build()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a two-factor secret is unusable: {e}")))
}

fn seconds(at: OffsetDateTime) -> u64 {
    u64::try_from(at.unix_timestamp()).unwrap_or(0)
}

/// The 6-digit code for `secret` at `at`.
pub fn code_at(secret: &[u8], at: OffsetDateTime) -> ApiResult<String> {
    Ok(totp_with(secret, TOTP_DIGITS as u8)?
        .generate(seconds(at))
        .to_string())
}

/// The time step `code` belongs to, if it is the code of the step of `at`, the one before
/// or the one after (clocks drift, and people type slowly). Spaces in the code are ignored.
pub fn matching_step(secret: &[u8], code: &str, at: OffsetDateTime) -> ApiResult<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let step = totp_with(secret, TOTP_DIGITS as u8)?.check(&code, seconds(at));
    Ok(step.and_then(|s| i64::try_from(s).ok()))
}

/// A new random secret.
pub fn new_secret() -> ApiResult<Vec<u8>> {
    let mut secret = vec![0u8; SECRET_BYTES];
    getrandom::fill(&mut secret).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(secret)
}

/// The secret as people type it into an app: base32, without padding.
pub fn base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec())
        .to_base32()
        .trim_end_matches('=')
        .to_string()
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_url(secret: &[u8], account: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const LABEL: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    let enc = |s: &str| utf8_percent_encode(s, LABEL).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={STEP_SECONDS}",
        enc(ISSUER),
        enc(account),
        base32(secret),
        enc(ISSUER),
    )
}

/// The QR code of `data` as an SVG document: its dark modules as one path (runs along a
/// row merged into one rectangle) on a white square with a 4-module quiet zone.
pub fn qr_svg(data: &str) -> ApiResult<String> {
    const QUIET: usize = 4;
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("a QR code could not be made: {e}")))?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = modules + 2 * QUIET;
    let mut path = String::new();
    for row in 0..modules {
        let mut column = 0;
        while column < modules {
            if colors[row * modules + column] != Color::Dark {
                column += 1;
                continue;
            }
            let start = column;
            while column < modules && colors[row * modules + column] == Color::Dark {
                column += 1;
            }
            path.push_str(&format!(
                "M{} {}h{}v1h-{}z",
                start + QUIET,
                row + QUIET,
                column - start,
                column - start
            ));
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"{w}\" height=\"{w}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>",
        w = side * 6,
    ))
}

/// A recovery code as typed, in the form its hash is made of: lower case, without spaces
/// or dashes.
fn normalized(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The SHA-256 hash a recovery code is stored as.
pub fn recovery_code_hash(code: &str) -> Vec<u8> {
    Sha256::digest(normalized(code).as_bytes()).to_vec()
}

/// Ten new recovery codes, and the rows that store their hashes.
pub fn new_recovery_codes() -> ApiResult<(Vec<String>, Vec<RecoveryCodeRow>)> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut rows = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let mut bytes = [0u8; CODE_CHARS];
        getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        let mut code = String::with_capacity(CODE_CHARS + 2);
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 && i % 4 == 0 {
                code.push('-');
            }
            // 256 is a multiple of 32: every letter equally likely.
            code.push(char::from(
                CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()],
            ));
        }
        rows.push((Uuid::now_v7(), recovery_code_hash(&code)));
        codes.push(code);
    }
    Ok((codes, rows))
}

/// Whether `code` (an app's code or a recovery code) completes a password sign-in of the
/// account whose two-factor row is `row`, at `at`. An app's code is used up with its time
/// step, a recovery code for good.
pub async fn check_sign_in_code(
    state: &AppState,
    row: &TwoFactorRow,
    code: &str,
    at: OffsetDateTime,
) -> ApiResult<bool> {
    let Some(secret) = row.enabled_secret() else {
        return Ok(true);
    };
    if is_app_code(code) {
        let Some(step) = matching_step(secret, code, at)? else {
            return Ok(false);
        };
        return Ok(state.store.accept_totp_step(row.user_id, step).await?);
    }
    if normalized(code).len() != CODE_CHARS {
        return Ok(false);
    }
    Ok(state
        .store
        .use_recovery_code(row.user_id, &recovery_code_hash(code))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(seconds).unwrap()
    }

    /// RFC 6238, appendix B: the SHA-1 vectors (8 digits, the seed "12345678901234567890").
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        let totp = totp_with(seed, 8).unwrap();
        for (time, expected) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), expected, "at {time}");
        }
        // The six-digit code is the last six of the same number.
        assert_eq!(code_at(seed, at(59)).unwrap(), "287082");
    }

    #[test]
    fn a_code_is_good_from_one_step_before_to_one_step_after() {
        let secret = new_secret().unwrap();
        let now = at(1_700_000_000);
        let step = 1_700_000_000 / 30;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now).unwrap(), Some(step));
        // Typed with a space, as apps show it.
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(&secret, &spaced, now).unwrap(), Some(step));
        // Half a minute late, or the phone's clock half a minute early: still good.
        let late = now + time::Duration::seconds(30);
        assert_eq!(matching_step(&secret, &code, late).unwrap(), Some(step));
        let early = now - time::Duration::seconds(30);
        assert_eq!(matching_step(&secret, &code, early).unwrap(), Some(step));
        // Two steps later: refused.
        let stale = now + time::Duration::seconds(60);
        assert_eq!(matching_step(&secret, &code, stale).unwrap(), None);
        // Another secret's code: refused.
        let other = code_at(&new_secret().unwrap(), now).unwrap();
        if other != code {
            assert_eq!(matching_step(&secret, &other, now).unwrap(), None);
        }
        assert_eq!(matching_step(&secret, "12345", now).unwrap(), None);
        assert_eq!(matching_step(&secret, "abcdef", now).unwrap(), None);
    }

    #[test]
    fn recovery_codes_are_ten_different_codes_stored_only_as_hashes() {
        let (codes, rows) = new_recovery_codes().unwrap();
        assert_eq!(codes.len(), 10);
        let unique: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(unique.len(), 10);
        for (code, (_, hash)) in codes.iter().zip(&rows) {
            assert_eq!(code.len(), 14, "{code}");
            assert_eq!(code.matches('-').count(), 2, "{code}");
            assert_eq!(hash, &recovery_code_hash(code));
            assert!(!hash.windows(code.len()).any(|w| w == code.as_bytes()));
            // Typed in capitals, without the dashes: the same code.
            assert_eq!(
                recovery_code_hash(&code.replace('-', " ").to_uppercase()),
                *hash
            );
        }
    }

    #[test]
    fn the_setup_address_and_qr_code_carry_the_secret() {
        let secret = b"12345678901234567890";
        assert_eq!(base32(secret), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let url = otpauth_url(secret, "ann@example.com");
        assert_eq!(
            url,
            "otpauth://totp/Home%20Inventory:ann%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Home%20Inventory&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&url).unwrap();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(!svg.contains("style"), "{svg}");
    }
}

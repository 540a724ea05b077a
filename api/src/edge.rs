//! What the edge in front of the server tells it, and how far that is believed: the
//! client's address (`TRUSTED_PROXY`) and the secret header that proves a request came
//! through CloudFront (`ORIGIN_VERIFY_SECRET`).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::config::TrustedProxy;
use crate::error::{ApiError, ApiResult};

/// The header CloudFront adds to every request it forwards (an origin custom header).
pub const ORIGIN_VERIFY_HEADER: &str = "x-origin-verify";
/// The viewer's address as our CloudFront function sets it (a bare IP, overwriting whatever
/// the client sent), and as CloudFront itself sends it when an origin request policy asks
/// for it (`IP:port`).
const VIEWER_HEADER: &str = "x-viewer-address";
const CLOUDFRONT_VIEWER_HEADER: &str = "cloudfront-viewer-address";

/// The client, as a key for per-address limits: an IPv4 address whole, an IPv6 address by
/// its /64 (one subscriber's network: anyone holding one has all 2^64 addresses in it).
/// `unknown` when nothing says (then all such requests share one count).
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip());
        let ip = client_ip(state.config.trusted_proxy, peer, &parts.headers);
        Ok(Self(ip.map_or_else(|| "unknown".into(), address_key)))
    }
}

/// The client's address. `peer` is the socket's peer, or under Lambda the address API
/// Gateway saw (`lambda::from_api_gateway` puts it where a socket's would be).
///
/// - No proxy: `peer`. `X-Forwarded-For` is ignored, since anyone can send it.
/// - `n` proxies, each appending the address it saw to `X-Forwarded-For`: the entry `n`
///   from the right (the one the outermost proxy wrote). Entries further left came from
///   the client and are ignored. Fewer than `n` entries: the request skipped the proxies,
///   so `peer`.
/// - CloudFront: the `X-Viewer-Address` header the deployment's CloudFront function sets
///   from the viewer's address, else `CloudFront-Viewer-Address` (`IP:port`), else `peer`.
///   Only trustworthy when requests that bypass CloudFront are refused
///   (`ORIGIN_VERIFY_SECRET`).
pub fn client_ip(
    trusted: TrustedProxy,
    peer: Option<IpAddr>,
    headers: &HeaderMap,
) -> Option<IpAddr> {
    let told = match trusted {
        TrustedProxy::None => None,
        TrustedProxy::Hops(n) => forwarded_for(headers)
            .into_iter()
            .rev()
            .nth(n.saturating_sub(1))
            .and_then(|entry| parse_ip(&entry)),
        TrustedProxy::CloudFront => headers
            .get(VIEWER_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_ip(v.trim()))
            .or_else(|| {
                headers
                    .get(CLOUDFRONT_VIEWER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(viewer_address)
            }),
    };
    told.or(peer)
}

/// Every `X-Forwarded-For` entry in order, over all of the header's lines.
fn forwarded_for(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|entry| entry.trim().to_string())
        .filter(|entry| !entry.is_empty())
        .collect()
}

/// An address, with or without a port (`192.0.2.1`, `192.0.2.1:80`, `[2001:db8::1]:443`).
fn parse_ip(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
}

/// CloudFront's `IP:port`; an IPv6 address comes without brackets (`2001:db8::1:443`), so
/// the port is what follows the last colon.
fn viewer_address(value: &str) -> Option<IpAddr> {
    let (ip, port) = value.trim().rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    ip.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// The per-address key: IPv4 (including IPv4 mapped into IPv6) whole, IPv6 by its /64.
pub fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let [a, b, c, d, ..] = v6.segments();
            format!("{}/64", Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0))
        }
    }
}

/// With `ORIGIN_VERIFY_SECRET` set, refuses (403) every request but the health check that
/// lacks the secret in `X-Origin-Verify`: CloudFront adds it, so a request sent straight to
/// API Gateway, which could forge `CloudFront-Viewer-Address`, never gets further.
pub async fn origin_verified(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(secret) = &state.config.origin_verify_secret
        && request.uri().path() != "/api/health"
        && !crate::jobs::invoke::is_job_event(&request)
        && !secret_matches(
            request
                .headers()
                .get(ORIGIN_VERIFY_HEADER)
                .map(|v| v.as_bytes()),
            secret.expose_secret(),
        )
    {
        return ApiError::Forbidden("requests must come through the site's own address".into())
            .into_response();
    }
    next.run(request).await
}

/// Compares digests in constant time, so neither the secret's bytes nor its length can be
/// learnt from how long a refusal takes.
fn secret_matches(given: Option<&[u8]>, secret: &str) -> bool {
    let Some(given) = given else {
        return false;
    };
    Sha256::digest(given)
        .ct_eq(&Sha256::digest(secret.as_bytes()))
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_a_proxy_forwarded_headers_are_ignored() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.50"),
            ("cloudfront-viewer-address", "203.0.113.51:443"),
        ]);
        assert_eq!(
            client_ip(TrustedProxy::None, Some(ip("198.51.100.1")), &h),
            Some(ip("198.51.100.1"))
        );
        assert_eq!(client_ip(TrustedProxy::None, None, &h), None);
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        let h = headers(&[
            ("x-forwarded-for", "10.9.9.9, 203.0.113.7"),
            ("x-forwarded-for", "192.0.2.10"),
        ]);
        let peer = Some(ip("192.0.2.20"));
        assert_eq!(
            client_ip(TrustedProxy::Hops(1), peer, &h),
            Some(ip("192.0.2.10"))
        );
        assert_eq!(
            client_ip(TrustedProxy::Hops(2), peer, &h),
            Some(ip("203.0.113.7"))
        );
        // Fewer entries than proxies: the request did not come through them.
        assert_eq!(client_ip(TrustedProxy::Hops(4), peer, &h), peer);
        assert_eq!(
            client_ip(TrustedProxy::Hops(1), peer, &HeaderMap::new()),
            peer
        );
        let ported = headers(&[("x-forwarded-for", "[2001:db8::5]:4711, 192.0.2.9:80")]);
        assert_eq!(
            client_ip(TrustedProxy::Hops(2), None, &ported),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client_ip(TrustedProxy::Hops(1), None, &ported),
            Some(ip("192.0.2.9"))
        );
    }

    #[test]
    fn cloudfront_viewer_addresses_carry_a_port_after_the_last_colon() {
        let v4 = headers(&[("cloudfront-viewer-address", "198.51.100.7:51234")]);
        assert_eq!(
            client_ip(TrustedProxy::CloudFront, None, &v4),
            Some(ip("198.51.100.7"))
        );
        let v6 = headers(&[("cloudfront-viewer-address", "2001:db8::1:443")]);
        assert_eq!(
            client_ip(TrustedProxy::CloudFront, None, &v6),
            Some(ip("2001:db8::1"))
        );
        let ours = headers(&[
            ("x-viewer-address", "203.0.113.9"),
            ("cloudfront-viewer-address", "198.51.100.7:51234"),
        ]);
        assert_eq!(
            client_ip(TrustedProxy::CloudFront, None, &ours),
            Some(ip("203.0.113.9")),
            "the function's header comes first"
        );
        let ours_v6 = headers(&[("x-viewer-address", "2001:db8::7")]);
        assert_eq!(
            client_ip(TrustedProxy::CloudFront, None, &ours_v6),
            Some(ip("2001:db8::7"))
        );
        let junk = headers(&[
            ("x-viewer-address", "garbage"),
            ("cloudfront-viewer-address", "not an address"),
        ]);
        let peer = Some(ip("192.0.2.1"));
        assert_eq!(client_ip(TrustedProxy::CloudFront, peer, &junk), peer);
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64_and_ipv4_by_the_address() {
        assert_eq!(address_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(address_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            address_key(ip("2001:db8:1:2:aaaa::1")),
            address_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(address_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_ne!(
            address_key(ip("2001:db8:1:2::1")),
            address_key(ip("2001:db8:1:3::1"))
        );
    }

    #[test]
    fn only_the_exact_secret_matches() {
        let secret = "a-long-random-origin-secret";
        assert!(secret_matches(Some(secret.as_bytes()), secret));
        assert!(!secret_matches(
            Some(b"a-long-random-origin-secreT"),
            secret
        ));
        assert!(!secret_matches(Some(b""), secret));
        assert!(!secret_matches(None, secret));
    }
}

//! Google sign-in: OpenID Connect's authorization-code flow with PKCE, `state` and `nonce`.
//!
//! Nothing is kept in memory between the start and the callback (a deployment runs many
//! processes in two regions): the state, nonce, PKCE verifier and where to go afterwards
//! travel in a short-lived cookie signed with a key derived from the client secret. The
//! provider's metadata and signing keys are cached, and fetched again when an ID token is
//! signed by a key the cache doesn't know.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, SignatureVerificationError,
    TokenResponse as _, reqwest,
};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::Config;

pub const FLOW_COOKIE: &str = "hi_google";
/// How long someone has to finish signing in at Google.
const FLOW_SECONDS: i64 = 600;
/// How long provider metadata and keys are trusted before they are fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);

/// Why a sign-in did not complete; its code goes back to the web app.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in took too long or was started elsewhere; try again")]
    State,
    #[error("Google did not confirm who you are; try again")]
    Token(String),
    #[error("your Google account's email address is not verified")]
    EmailUnverified,
    #[error("Google sign-in is unavailable right now; try again shortly")]
    Provider(String),
}

impl SignInError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::State => "state",
            Self::Token(_) => "token",
            Self::EmailUnverified => "email_unverified",
            Self::Provider(_) => "provider",
        }
    }
}

/// What the start of a sign-in hands to its callback.
#[derive(Serialize, Deserialize)]
pub struct Flow {
    pub state: String,
    nonce: String,
    verifier: String,
    pub return_to: String,
    expires: i64,
}

/// The person Google vouched for.
pub struct Identity {
    pub subject: String,
    pub email: String,
    pub name: String,
}

pub struct Google {
    client_id: String,
    client_secret: String,
    issuer: String,
    redirect_uri: String,
    http: reqwest::Client,
    metadata: RwLock<Option<(CoreProviderMetadata, Instant)>>,
}

type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

impl Google {
    /// `None` when Google sign-in is not configured.
    pub fn from_config(config: &Config) -> Option<Self> {
        let client_id = config.google_client_id.clone()?;
        let client_secret = config
            .google_client_secret
            .as_ref()?
            .expose_secret()
            .to_string();
        let http = reqwest::ClientBuilder::new()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .ok()?;
        Some(Self {
            client_id,
            client_secret,
            issuer: config.google_issuer.trim_end_matches('/').to_string(),
            redirect_uri: format!("{}/api/v1/auth/google/callback", config.public_url),
            http,
            metadata: RwLock::new(None),
        })
    }

    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, SignInError> {
        if !refresh
            && let Some((metadata, at)) = self.metadata.read().await.as_ref()
            && at.elapsed() < METADATA_TTL
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.issuer.clone())
            .map_err(|e| SignInError::Provider(format!("GOOGLE_ISSUER: {e}")))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| SignInError::Provider(format!("discovery: {e}")))?;
        *self.metadata.write().await = Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Result<Client, SignInError> {
        let redirect = RedirectUrl::new(self.redirect_uri.clone())
            .map_err(|e| SignInError::Provider(format!("redirect URI: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.client_id.clone()),
            Some(ClientSecret::new(self.client_secret.clone())),
        )
        .set_redirect_uri(redirect))
    }

    /// Where to send the browser, and the flow to keep in the signed cookie.
    pub async fn start(&self, return_to: String, now: i64) -> Result<(String, Flow), SignInError> {
        let client = self.client(self.metadata(false).await?)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok((
            url.to_string(),
            Flow {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                verifier: verifier.secret().clone(),
                return_to,
                expires: now + FLOW_SECONDS,
            },
        ))
    }

    /// Exchanges the code and checks the ID token: signature, issuer, audience, expiry,
    /// nonce, and a verified email.
    pub async fn finish(&self, flow: Flow, code: String) -> Result<Identity, SignInError> {
        let client = self.client(self.metadata(false).await?)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| SignInError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier))
            .request_async(&self.http)
            .await
            .map_err(|e| SignInError::Token(format!("code exchange: {e}")))?;
        let token = response
            .id_token()
            .ok_or_else(|| SignInError::Token("no ID token in the answer".into()))?;
        let nonce = Nonce::new(flow.nonce);
        let claims = match token.claims(&client.id_token_verifier(), &nonce) {
            Ok(claims) => claims.clone(),
            // Signed with a key we haven't seen: the provider rotated its keys.
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => {
                let client = self.client(self.metadata(true).await?)?;
                token
                    .claims(&client.id_token_verifier(), &nonce)
                    .map_err(|e| SignInError::Token(e.to_string()))?
                    .clone()
            }
            Err(e) => return Err(SignInError::Token(e.to_string())),
        };
        if claims.email_verified() != Some(true) {
            return Err(SignInError::EmailUnverified);
        }
        let email = claims
            .email()
            .map(|e| e.as_str().to_string())
            .ok_or_else(|| SignInError::Token("the ID token has no email".into()))?;
        let name = claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_string())
            .unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
        Ok(Identity {
            subject: claims.subject().as_str().to_string(),
            email,
            name,
        })
    }

    fn key(&self) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(b"home-inventory google sign-in cookie\0");
        hasher.update(self.client_secret.as_bytes());
        hasher.finalize().to_vec()
    }

    /// The flow as a cookie value: its JSON, and an HMAC of it.
    pub fn seal(&self, flow: &Flow) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(flow).unwrap_or_default());
        format!("{payload}.{}", self.sign(&payload))
    }

    /// The flow a cookie carries, if it is ours, intact and not expired.
    pub fn open(&self, cookie: &str, now: i64) -> Option<Flow> {
        let (payload, signature) = cookie.split_once('.')?;
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key()).ok()?;
        mac.update(payload.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).ok()?)
            .ok()?;
        let flow: Flow = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        (flow.expires > now).then_some(flow)
    }

    fn sign(&self, payload: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key()) else {
            return String::new();
        };
        mac.update(payload.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

/// A path on this site to return to: relative, and not one that leaves it.
pub fn safe_return_to(raw: Option<&str>) -> String {
    match raw.map(str::trim) {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_paths_on_this_site_are_returned_to() {
        assert_eq!(safe_return_to(Some("/items?q=drill")), "/items?q=drill");
        assert_eq!(safe_return_to(Some("//evil.example/x")), "/");
        assert_eq!(safe_return_to(Some("https://evil.example")), "/");
        assert_eq!(safe_return_to(Some("/\\evil.example")), "/");
        assert_eq!(safe_return_to(None), "/");
    }

    #[test]
    fn a_tampered_or_expired_flow_cookie_is_refused() {
        let config = Config::from_lookup(|name| match name {
            "GOOGLE_CLIENT_ID" => Some("id".into()),
            "GOOGLE_CLIENT_SECRET" => Some("secret".into()),
            _ => None,
        })
        .unwrap();
        let google = Google::from_config(&config).unwrap();
        let flow = Flow {
            state: "s".into(),
            nonce: "n".into(),
            verifier: "v".into(),
            return_to: "/items".into(),
            expires: 1_000,
        };
        let sealed = google.seal(&flow);
        assert_eq!(google.open(&sealed, 999).unwrap().return_to, "/items");
        assert!(google.open(&sealed, 1_000).is_none());
        let (payload, signature) = sealed.split_once('.').unwrap();
        let forged = URL_SAFE_NO_PAD.encode(
            String::from_utf8(URL_SAFE_NO_PAD.decode(payload).unwrap())
                .unwrap()
                .replace("/items", "//evil"),
        );
        assert!(google.open(&format!("{forged}.{signature}"), 999).is_none());
    }
}

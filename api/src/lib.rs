//! The Home Inventory API: one Axum router for every target (the local server, AWS Lambda,
//! and the tests).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;

pub mod access;
pub mod access_log;
pub mod ai;
pub mod auth;
pub mod blob;
pub mod config;
pub mod decode;
pub mod edge;
pub mod error;
pub mod extract;
pub mod google;
pub mod jobs;
pub mod labels;
pub mod lambda;
pub mod media;
pub mod openapi;
pub mod portability;
pub mod reminders;
pub mod reports;
pub mod routes;
pub mod search;
pub mod security_headers;
pub mod store;
pub mod web;

pub use config::Config;
use error::ApiError;
use store::DynStore;

/// Everything a request handler needs.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: DynStore,
    pub search: Arc<search::SearchIndex>,
    /// Google sign-in, when configured.
    pub google: Option<Arc<google::Google>>,
    /// Photo recognition, when configured.
    pub recognizer: Option<Arc<ai::Recognizer>>,
    /// Where attachment bytes live.
    pub blobs: blob::DynBlobs,
    /// The same store when it is the local folder, which serves its own signed URLs.
    pub local_blobs: Option<Arc<blob::local::LocalBlobs>>,
    /// Turns at password hashing, so a flood of sign-ins queues instead of piling up.
    pub hashing: Arc<tokio::sync::Semaphore>,
    /// Permits to decode an image; a few at a time.
    pub decodes: decode::Decodes,
    /// Requests each API token may still make.
    pub token_limits: Arc<auth::tokens::TokenLimits>,
    /// Starts background jobs (`jobs`).
    pub jobs: Arc<jobs::Runner>,
    /// Sessions, tokens, memberships and location trees kept for a few seconds (`access`).
    pub access: Arc<access::Access>,
    /// Sends reminder mail, when mail is configured (`reminders`).
    pub mailer: Option<reminders::DynMailer>,
}

impl AppState {
    /// The state the configuration describes; fails when the attachment store can't be
    /// opened (an unwritable `DATA_DIR`, or `PHOTOS_BUCKET` without credentials).
    pub fn new(config: Config, store: DynStore) -> anyhow::Result<Self> {
        let google = google::Google::from_config(&config).map(Arc::new);
        let recognizer = ai::Recognizer::from_config(&config).map(Arc::new);
        let (blobs, local_blobs) = match &config.photos_bucket {
            Some(bucket) => {
                let settings = blob::s3::S3Settings::from_env(bucket, config.s3_force_path_style)?;
                let blobs: blob::DynBlobs = Arc::new(blob::s3::S3Blobs::new(settings));
                (blobs, None)
            }
            None => {
                let local = Arc::new(blob::local::LocalBlobs::open(
                    config.data_dir.join("attachments"),
                    &config.public_url,
                )?);
                (local.clone() as blob::DynBlobs, Some(local))
            }
        };
        let mailer = reminders::mailer_from_config(&config)?;
        Ok(Self {
            mailer,
            decodes: decode::Decodes::new(config.max_image_decodes),
            token_limits: Arc::new(auth::tokens::TokenLimits::new(&config)),
            config: Arc::new(config),
            store,
            search: Arc::default(),
            google,
            recognizer,
            blobs,
            local_blobs,
            hashing: auth::hashing_permits(),
            jobs: Arc::new(jobs::Runner::from_env()?),
            access: Arc::default(),
        })
    }

    /// The same state with attachments kept in `blobs` instead.
    pub fn with_blobs(mut self, blobs: blob::DynBlobs) -> Self {
        self.blobs = blobs;
        self.local_blobs = None;
        self
    }
}

/// JSON bodies larger than this are refused (attachments never pass through the API).
const MAX_JSON_BYTES: usize = 1024 * 1024;

pub fn app(state: AppState) -> Router {
    let bucket_origin = state
        .config
        .photos_bucket
        .as_deref()
        .map(|bucket| blob::s3::browser_origin(bucket, state.config.s3_force_path_style));
    let headers = Arc::new(security_headers::SecurityHeaders::new(
        &state.config,
        bucket_origin.as_deref(),
    ));
    let api = Router::from(routes::router())
        .merge(routes::jobs::internal())
        .merge(routes::reminders::internal())
        .fallback(|| async { ApiError::NotFound("no such API endpoint".into()) })
        .layer(middleware::from_fn_with_state(
            state.clone(),
            same_origin_only,
        ))
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            blob::local::with_request_origin,
        ))
        .layer(middleware::from_fn(auth::refresh_session_cookie))
        .layer(middleware::from_fn(no_store));
    Router::new()
        .nest("/api", api)
        .merge(web::router(&state.config))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            edge::origin_verified,
        ))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .layer(middleware::from_fn(move |request, next| {
            security_headers::add(headers.clone(), request, next)
        }))
        .layer(TraceLayer::new_for_http().make_span_with(access_log::RedactedSpan))
        .with_state(state)
}

/// Refuses unsafe requests sent from another site: an `Origin` header that is neither the
/// configured `PUBLIC_URL` nor the host the request was sent to. The one exception is a
/// mail's one-click unsubscribe (RFC 8058), which mail clients post from their own site; it
/// needs no cookie and turns off only the reminder mail of the person its secret names.
async fn same_origin_only(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || (*request.method() == Method::POST
        && request
            .uri()
            .path()
            .starts_with(routes::reminders::UNSUBSCRIBE_API_PATH));
    if !safe && !origin_allowed(&state.config.public_url, request.headers()) {
        return ApiError::Forbidden("requests from other sites are refused".into()).into_response();
    }
    next.run(request).await
}

fn origin_allowed(public_url: &str, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if origin.eq_ignore_ascii_case(public_url) {
        return true;
    }
    let host = headers
        .get("x-forwarded-host")
        .or_else(|| headers.get(header::HOST))
        .and_then(|v| v.to_str().ok());
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!((host, origin_host), (Some(h), Some(o)) if h.eq_ignore_ascii_case(o))
}

/// API answers are private and never cached by the browser or a CDN.
async fn no_store(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(header::HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_of_this_site_are_allowed_and_others_refused() {
        let site = "https://inventory.example.com";
        assert!(origin_allowed(site, &headers(&[])));
        assert!(origin_allowed(
            site,
            &headers(&[("origin", "https://inventory.example.com")])
        ));
        assert!(origin_allowed(
            site,
            &headers(&[
                ("origin", "http://localhost:8080"),
                ("host", "localhost:8080")
            ])
        ));
        assert!(!origin_allowed(
            site,
            &headers(&[
                ("origin", "https://evil.example"),
                ("host", "inventory.example.com")
            ])
        ));
    }
}

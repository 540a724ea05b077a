//! Photo recognition through the Anthropic Messages API: photos in, suggestions for new
//! items out.
//!
//! [`prepare_photo`] makes the copy of a photo that is sent; [`Recognizer::recognize`] sends
//! one or more of them with the household's currency, tags and locations, makes the model
//! answer through the `record_items` tool, retries what is worth retrying, and turns the
//! answer into [`Suggestion`]s checked field by field.

mod parse;
mod photo;
mod prompt;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret as _, SecretString};
use shared::{AttachmentId, Currency, LocationId, Suggestion};

use crate::Config;

pub use photo::{MAX_EDGE, prepare_photo};

/// The Messages API version this client speaks.
pub const API_VERSION: &str = "2023-06-01";

/// How long one request may take, answer included, unless the constructor says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Requests in all for one recognition, when the service is busy or failing.
const MAX_ATTEMPTS: u32 = 3;

/// Extra requests after a connection failure or a timeout.
const MAX_TRANSPORT_RETRIES: u32 = 1;

/// The longest `retry-after` waited for; a longer one gives up at once, since the person is
/// waiting and the service won't answer sooner.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// First wait between tries when the service says nothing; doubled each time, plus jitter.
const BACKOFF: Duration = Duration::from_millis(500);

/// Characters of an error answer kept in the log.
const LOGGED_BODY_CHARS: usize = 500;

/// A photo to recognise: the attachment it came from and its prepared JPEG copy
/// (see [`prepare_photo`]).
#[derive(Clone, Debug)]
pub struct Photo {
    pub attachment_id: AttachmentId,
    pub jpeg: Vec<u8>,
}

/// What the model is told about the household, so its suggestions fit in.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// Values are estimated in this currency.
    pub currency: Currency,
    /// The household's existing tags, reused where one fits.
    pub tags: Vec<String>,
    /// The household's locations, each with its path from the top ("House › Garage"); a
    /// suggested location is always one of these.
    pub locations: Vec<(LocationId, String)>,
}

/// Why recognition failed. `Display` is a message for the person who asked.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// The service is busy, failing, or refused the request; the message says which and
    /// what to do.
    #[error("{0}")]
    Upstream(String),
    /// The service answered, but not with something that could be read. The text is for
    /// the logs.
    #[error("The photo recognition service gave an answer that couldn't be read; try again.")]
    Malformed(String),
    #[error("The photo recognition service took too long to answer; try again.")]
    Timeout,
}

/// A client for the Messages API, cheap to clone.
#[derive(Clone, Debug)]
pub struct Recognizer {
    http: reqwest::Client,
    endpoint: String,
    /// Marked sensitive, so it never shows in `Debug` output.
    api_key: HeaderValue,
    model: String,
}

impl Recognizer {
    /// `None` when no `ANTHROPIC_API_KEY` is configured.
    pub fn from_config(config: &Config) -> Option<Self> {
        let key = config.anthropic_api_key.clone()?;
        Self::new(
            &config.anthropic_base_url,
            key,
            &config.anthropic_model,
            DEFAULT_TIMEOUT,
        )
        .inspect_err(|e| tracing::error!("photo recognition is off: {e:#}"))
        .ok()
    }

    /// A client for the Messages API at `base_url` (`https://api.anthropic.com`), giving each
    /// request `timeout` to finish, answer included.
    pub fn new(
        base_url: &str,
        api_key: SecretString,
        model: &str,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut api_key = HeaderValue::from_str(api_key.expose_secret().trim())
            .ok()
            .filter(|v| !v.is_empty())
            .context("ANTHROPIC_API_KEY must be printable text")?;
        api_key.set_sensitive(true);
        let http = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .build()
            .context("building the HTTP client for photo recognition")?;
        Ok(Self {
            http,
            endpoint: format!("{}/v1/messages", base_url.trim_end_matches('/')),
            api_key,
            model: model.to_string(),
        })
    }

    /// The model asked.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Asks what objects the photos show. Entries are in the order the model gave them,
    /// each tied to the photo it was seen in. No photos, no request.
    #[tracing::instrument(skip_all, fields(photos = photos.len(), model = %self.model))]
    pub async fn recognize(
        &self,
        photos: &[Photo],
        ctx: &Context,
    ) -> Result<Vec<Suggestion>, AiError> {
        if photos.is_empty() {
            return Ok(Vec::new());
        }
        let body = bytes::Bytes::from(
            serde_json::to_vec(&prompt::request_body(&self.model, photos, ctx))
                .map_err(|e| AiError::Malformed(format!("encoding the request: {e}")))?,
        );
        let started = Instant::now();
        let mut transport_retries = 0;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let wait = match self.send(body.clone()).await {
                Ok(reply) if reply.status.is_success() => {
                    let answer = parse::parse_response(&reply.body, photos, ctx)
                        .inspect_err(|e| log_unreadable(e, &reply))?;
                    tracing::info!(
                        suggestions = answer.suggestions.len(),
                        input_tokens = answer.usage.input_tokens,
                        output_tokens = answer.usage.output_tokens,
                        attempts = attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "photos recognised"
                    );
                    return Ok(answer.suggestions);
                }
                Ok(reply) => {
                    tracing::warn!(
                        status = reply.status.as_u16(),
                        request_id = reply.request_id.as_deref().unwrap_or(""),
                        body = %snippet(&reply.body),
                        attempt,
                        "photo recognition service refused the request"
                    );
                    if attempt >= MAX_ATTEMPTS || !retryable(&reply) {
                        return Err(upstream_error(reply.status));
                    }
                    match retry_after(&reply.headers) {
                        Some(wait) if wait <= MAX_RETRY_AFTER => wait,
                        Some(_) => return Err(upstream_error(reply.status)),
                        None => backoff(attempt),
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "photo recognition request failed");
                    if attempt >= MAX_ATTEMPTS || transport_retries >= MAX_TRANSPORT_RETRIES {
                        return Err(if e.is_timeout() {
                            AiError::Timeout
                        } else {
                            AiError::Upstream(
                                "The photo recognition service can't be reached; try again \
                                 later."
                                    .into(),
                            )
                        });
                    }
                    transport_retries += 1;
                    backoff(attempt)
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// One request; an `Err` only when no complete answer arrived.
    async fn send(&self, body: bytes::Bytes) -> Result<Reply, reqwest::Error> {
        let response = self
            .http
            .post(&self.endpoint)
            .header("x-api-key", self.api_key.clone())
            .header("anthropic-version", API_VERSION)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let headers = response.headers().clone();
        let request_id = headers
            .get("request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.text().await?;
        Ok(Reply {
            status,
            headers,
            request_id,
            body,
        })
    }
}

/// A complete HTTP answer from the service.
struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    request_id: Option<String>,
    body: String,
}

fn log_unreadable(error: &AiError, reply: &Reply) {
    if let AiError::Malformed(detail) = error {
        tracing::warn!(
            detail = %detail,
            request_id = reply.request_id.as_deref().unwrap_or(""),
            body = %snippet(&reply.body),
            "photo recognition answer could not be read"
        );
    }
}

/// Busy (429), overloaded (529) and other server errors are worth another try, unless the
/// service says otherwise.
fn retryable(reply: &Reply) -> bool {
    let told = reply
        .headers
        .get("x-should-retry")
        .and_then(|v| v.to_str().ok());
    if told == Some("false") {
        return false;
    }
    reply.status == StatusCode::TOO_MANY_REQUESTS || reply.status.is_server_error()
}

/// `retry-after` in whole or decimal seconds; an HTTP date or nonsense counts as absent.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(3600.0)))
}

/// 0.5–1 s after the first try, 1–1.5 s after the second.
fn backoff(attempt: u32) -> Duration {
    let base = BACKOFF * 2_u32.saturating_pow(attempt.saturating_sub(1));
    let jitter = f64::from(getrandom::u32().unwrap_or(0)) / f64::from(u32::MAX);
    base + BACKOFF.mul_f64(jitter)
}

/// What the person is told when the service keeps refusing.
fn upstream_error(status: StatusCode) -> AiError {
    let message = match status.as_u16() {
        429 => "The photo recognition service is busy; try again in a minute.",
        503 | 529 => "The photo recognition service is overloaded; try again in a few minutes.",
        401 | 403 => {
            "The photo recognition service refused this server's API key; ask whoever runs \
             the server to check ANTHROPIC_API_KEY."
        }
        404 => {
            "The photo recognition model set on this server is not available; ask whoever \
             runs the server to check ANTHROPIC_MODEL."
        }
        413 => "These photos are too large to recognise together; try fewer at a time.",
        400 | 422 => "The photo recognition service could not process these photos.",
        s if s >= 500 => "The photo recognition service is having trouble; try again later.",
        _ => "The photo recognition service refused the request; try again later.",
    };
    AiError::Upstream(message.into())
}

fn snippet(body: &str) -> String {
    let one_line = body.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(LOGGED_BODY_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
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
    fn recognition_is_on_only_with_an_api_key() {
        let off = Config::from_lookup(|_| None).unwrap();
        assert!(Recognizer::from_config(&off).is_none());
        let on = Config::from_lookup(|name| match name {
            "ANTHROPIC_API_KEY" => Some("sk-ant-secret-key".into()),
            "ANTHROPIC_BASE_URL" => Some("http://127.0.0.1:9/".into()),
            _ => None,
        })
        .unwrap();
        let recognizer = Recognizer::from_config(&on).unwrap();
        assert_eq!(recognizer.model(), "claude-sonnet-4-5");
        assert_eq!(recognizer.endpoint, "http://127.0.0.1:9/v1/messages");
        assert!(!format!("{recognizer:?}").contains("sk-ant-secret-key"));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "3")])),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after", "0.5")])),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            retry_after(&headers(&[(
                "retry-after",
                "Wed, 21 Oct 2015 07:28:00 GMT"
            )])),
            None
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(retry_after(&headers(&[])), None);
    }

    #[test]
    fn backoff_grows_and_stays_short() {
        for _ in 0..20 {
            let first = backoff(1);
            let second = backoff(2);
            assert!(first >= BACKOFF && first <= BACKOFF * 2, "{first:?}");
            assert!(second >= BACKOFF * 2 && second <= BACKOFF * 3, "{second:?}");
        }
    }

    #[test]
    fn people_are_told_what_went_wrong_in_plain_words() {
        assert_eq!(
            upstream_error(StatusCode::TOO_MANY_REQUESTS).to_string(),
            "The photo recognition service is busy; try again in a minute."
        );
        assert!(
            upstream_error(StatusCode::UNAUTHORIZED)
                .to_string()
                .contains("ANTHROPIC_API_KEY")
        );
        let malformed = AiError::Malformed("items[0].photo: invalid type".into());
        assert!(!malformed.to_string().contains("items[0]"));
        assert!(AiError::Timeout.to_string().contains("took too long"));
    }

    #[test]
    fn logged_bodies_are_cut_short_on_one_line() {
        let long = format!("{{\n  \"error\": \"{}\"\n}}", "é".repeat(1000));
        let cut = snippet(&long);
        assert_eq!(cut.chars().count(), LOGGED_BODY_CHARS + 1);
        assert!(!cut.contains('\n'));
        assert_eq!(snippet("short"), "short");
    }
}

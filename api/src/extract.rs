//! Extractors whose rejections are `ApiError`s, so a malformed request gets the same error
//! body as everything else.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON body: an object. Malformed JSON, or JSON that is not an object → 400, a missing
/// or wrong content type → 415, a value of the wrong type → 422 naming the field.
pub struct AppJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AppJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || mime.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "send the body as JSON with Content-Type: application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge("the request body is too large".into())
            } else {
                ApiError::BadRequest(format!("could not read the request body: {e}"))
            }
        })?;
        // serde would read a struct from an array of its fields in order, too.
        if bytes.trim_ascii_start().first() != Some(&b'{') {
            return Err(ApiError::BadRequest(
                "the body must be a JSON object".into(),
            ));
        }
        parse_json(&bytes).map(Self)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => {
            de.end()
                .map_err(|e| ApiError::BadRequest(format!("the body is not valid JSON: {e}")))?;
            Ok(value)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Data if path != "." && !path.is_empty() => {
                    let field = path.split(['.', '[']).next().unwrap_or(&path).to_string();
                    Err(ApiError::field(&field, data_message(&inner)))
                }
                serde_json::error::Category::Data => Err(ApiError::BadRequest(format!(
                    "the body is not the expected JSON: {}",
                    data_message(&inner)
                ))),
                _ => Err(ApiError::BadRequest(format!(
                    "the body is not valid JSON: {inner}"
                ))),
            }
        }
    }
}

/// serde's message without its " at line 1 column 12" suffix.
fn data_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// A query string. Anything malformed → 400.
pub struct AppQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for AppQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded_from_str(query).map(Self)
    }
}

fn serde_urlencoded_from_str<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::BadRequest("the query string is malformed".into()))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::BadRequest(format!("the query string is invalid: {}", e.body_text())))
}

/// The version an `If-Match: "<version>"` header names, if any.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(IF_MATCH) else {
            return Ok(Self(None));
        };
        let raw = value.to_str().unwrap_or_default().trim();
        if raw == "*" {
            return Ok(Self(None));
        }
        raw.trim_start_matches("W/")
            .trim_matches('"')
            .parse()
            .map(|v| Self(Some(v)))
            .map_err(|_| ApiError::BadRequest("If-Match must be an ETag like \"3\"".into()))
    }
}

/// A JSON answer with an `ETag` of the resource's version.
pub struct Tagged<T> {
    pub status: StatusCode,
    pub version: i64,
    pub body: T,
}

impl<T> Tagged<T> {
    pub fn ok(version: i64, body: T) -> Self {
        Self {
            status: StatusCode::OK,
            version,
            body,
        }
    }

    pub fn created(version: i64, body: T) -> Self {
        Self {
            status: StatusCode::CREATED,
            version,
            body,
        }
    }
}

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", self.version)) {
            response.headers_mut().insert(ETAG, value);
        }
        response
    }
}

/// Path parameters. An id that is not a UUID names nothing: 404.
pub struct AppPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for AppPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Self(p.0))
            .map_err(|_| ApiError::NotFound("nothing has that id".into()))
    }
}

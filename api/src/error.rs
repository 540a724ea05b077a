//! The one error type of the API, answered as the one JSON error body.

use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use shared::{ErrorBody, ErrorCode, FieldErrors};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("sign in first")]
    Unauthorized,
    #[error("{0}")]
    Unauthenticated(String),
    /// 401 that names what a sign-in lacks or got wrong: `details: {field: problem}`
    /// (the second factor's `"code": "is required"`).
    #[error("{message}")]
    SignInField {
        field: &'static str,
        problem: &'static str,
        message: String,
    },
    /// A bearer token that is malformed, unknown, revoked or expired: 401 with
    /// `WWW-Authenticate: Bearer error="invalid_token"`.
    #[error("{0}")]
    InvalidToken(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("this was changed by someone else since you loaded it; reload and try again")]
    PreconditionFailed,
    /// 410: what the request asks to continue from is older than the server keeps.
    #[error("{0}")]
    ResyncRequired(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("some fields are invalid")]
    Validation(FieldErrors),
    #[error("{0}")]
    RateLimited(String),
    /// 429 with `Retry-After: <seconds>`.
    #[error("{message}")]
    RetryLater { message: String, seconds: u64 },
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Upstream(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut fields = FieldErrors::new();
        fields.insert(field.to_string(), message.into());
        Self::Validation(fields)
    }

    pub fn not_found(what: &str) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    fn code(&self) -> ErrorCode {
        match self {
            Self::BadRequest(_) => ErrorCode::BadRequest,
            Self::Unauthorized
            | Self::Unauthenticated(_)
            | Self::InvalidToken(_)
            | Self::SignInField { .. } => ErrorCode::Unauthorized,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PreconditionFailed => ErrorCode::PreconditionFailed,
            Self::ResyncRequired(_) => ErrorCode::ResyncRequired,
            Self::PayloadTooLarge(_) => ErrorCode::PayloadTooLarge,
            Self::UnsupportedMediaType(_) => ErrorCode::UnsupportedMediaType,
            Self::Validation(_) => ErrorCode::ValidationFailed,
            Self::RateLimited(_) | Self::RetryLater { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Upstream(_) => ErrorCode::UpstreamFailed,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::not_found("that"),
            StoreError::Conflict(message) | StoreError::AssetIdTaken(message) => {
                Self::Conflict(message)
            }
            StoreError::Stale => Self::PreconditionFailed,
            StoreError::Invalid { field, message } => Self::field(field, message),
            StoreError::Unavailable(cause) => {
                tracing::error!(%cause, "database unavailable");
                Self::Unavailable("the database is unavailable; try again shortly".into())
            }
            StoreError::Other(e) => Self::Internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = self.code();
        let body = match &self {
            Self::Validation(fields) => ErrorBody::validation(fields),
            Self::SignInField {
                field,
                problem,
                message,
            } => {
                let mut body = ErrorBody::new(code, message.clone());
                body.error.details = Some(serde_json::json!({ *field: problem }));
                body
            }
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                ErrorBody::new(code, "something went wrong on our side; it has been logged")
            }
            other => ErrorBody::new(code, other.to_string()),
        };
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(body)).into_response();
        match &self {
            Self::InvalidToken(_) => {
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static(r#"Bearer error="invalid_token""#),
                );
            }
            Self::RetryLater { seconds, .. } => {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(*seconds));
            }
            _ => {}
        }
        response
    }
}

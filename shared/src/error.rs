//! The one error body every 4xx and 5xx answer carries:
//! `{"error": {"code": "not_found", "message": "…", "details": {…}}}`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Field name → what is wrong with it, for `validation_failed`.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    RateLimited,
    Internal,
    UpstreamFailed,
    Unavailable,
    /// 410: a changes-feed cursor older than the server keeps removals for; sync again
    /// from scratch.
    ResyncRequired,
    /// Only ever made by clients: the server could not be reached.
    Network,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::PreconditionFailed => 412,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::ResyncRequired => 410,
            Self::ValidationFailed => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::UpstreamFailed => 502,
            Self::Unavailable | Self::Network => 503,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error: ErrorDetail {
                code,
                message: message.into(),
                details: None,
            },
        }
    }

    pub fn validation(fields: &FieldErrors) -> Self {
        let mut body = Self::new(ErrorCode::ValidationFailed, summarize(fields));
        body.error.details = serde_json::to_value(fields).ok();
        body
    }

    /// Field errors of a `validation_failed` answer, empty for any other.
    pub fn field_errors(&self) -> FieldErrors {
        match (&self.error.code, &self.error.details) {
            (ErrorCode::ValidationFailed, Some(details)) => {
                serde_json::from_value(details.clone()).unwrap_or_default()
            }
            _ => FieldErrors::new(),
        }
    }
}

impl fmt::Display for ErrorBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.message)
    }
}

fn summarize(fields: &FieldErrors) -> String {
    match fields.iter().next() {
        Some((field, message)) if fields.len() == 1 => format!("{field}: {message}"),
        _ => format!("{} fields are invalid", fields.len()),
    }
}

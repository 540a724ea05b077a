//! One module per resource, each with its own `router()`, merged here.

use axum::Router;

use crate::AppState;

pub mod accounts;
pub mod attachments;
pub mod health;
pub mod households;
pub mod items;
pub mod locations;
pub mod members;
pub mod recognize;
pub mod tags;
pub mod tokens;

pub fn router() -> Router<AppState> {
    Router::new().merge(health::router()).nest(
        "/v1",
        Router::new()
            .merge(accounts::router())
            .merge(attachments::router())
            .merge(households::router())
            .merge(locations::router())
            .merge(members::router())
            .merge(recognize::router())
            .merge(items::router())
            .merge(tags::router())
            .merge(tokens::router()),
    )
}

/// A list's `limit`: 1 to 200, 50 when absent.
pub fn page_limit(limit: Option<i64>) -> Result<usize, crate::error::ApiError> {
    match limit {
        None => Ok(50),
        Some(n @ 1..=200) => Ok(n as usize),
        Some(_) => Err(crate::error::ApiError::BadRequest(
            "limit must be between 1 and 200".into(),
        )),
    }
}

//! One module per resource, each with its own `router()`, merged here.

use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;

pub mod accounts;
pub mod assets;
pub mod attachments;
pub mod bulk;
pub mod changes;
pub mod docs;
pub mod email_confirmation;
pub mod health;
pub mod households;
pub mod items;
pub mod jobs;
pub mod labels;
pub mod locations;
pub mod maintenance;
pub mod members;
pub mod passkeys;
pub mod portability;
pub mod recognize;
pub mod reminders;
pub mod reports;
pub mod sessions;
pub mod share_links;
pub mod shared;
pub mod tags;
pub mod tokens;
pub mod two_factor;

/// Every route under `/api`, with its OpenAPI description (`crate::openapi`).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .merge(health::router())
        .merge(docs::router())
        .nest(
            "/v1",
            OpenApiRouter::default()
                .routes(routes!(crate::openapi::serve_document))
                .merge(accounts::router())
                .merge(assets::router())
                .merge(attachments::router())
                .merge(bulk::router())
                .merge(changes::router())
                .merge(email_confirmation::router())
                .merge(households::router())
                .merge(locations::router())
                .merge(maintenance::router())
                .merge(members::router())
                .merge(passkeys::router())
                .merge(recognize::router())
                .merge(reminders::router())
                .merge(reports::router())
                .merge(share_links::router())
                .merge(shared::router())
                .merge(items::router())
                .merge(jobs::router())
                .merge(labels::router())
                .merge(portability::router())
                .merge(tags::router())
                .merge(tokens::router())
                .merge(sessions::router())
                .merge(two_factor::router()),
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

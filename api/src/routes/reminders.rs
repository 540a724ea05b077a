//! A person's reminder settings, their private calendar feed, turning reminder mail off from
//! a mail's link, and the scheduled reminder pass on AWS.

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
}

/// Routes only the deployment's own events reach (see `crate::jobs::invoke`).
pub fn internal() -> axum::Router<AppState> {
    axum::Router::new()
}

//! Items' maintenance: schedules, the log, "Mark done", and the household's Maintenance and
//! Warranties overviews.

use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
}

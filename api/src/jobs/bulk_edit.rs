//! The bulk edit job: one change to more items than a request edits itself
//! (`crate::routes::bulk`).

use std::sync::Arc;

use super::Finished;
use crate::AppState;
use crate::portability::{PortError, Progress};
use crate::store::JobRow;

pub async fn run(
    state: &AppState,
    job: &JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let _ = (state, job, params, progress);
    Err(PortError::Refused("bulk edits are not ready yet".into()))
}

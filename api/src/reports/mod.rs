//! Reports for insurers: the insurance report (a PDF of the items a filter picks) and the
//! claim pack (a zip of chosen items' report, their original files and a manifest).

use std::sync::Arc;

use crate::AppState;
use crate::jobs::Finished;
use crate::portability::{PortError, Progress};
use crate::store::JobRow;

/// The insurance report job.
pub async fn insurance_report(
    _state: &AppState,
    _job: &JobRow,
    _params: &serde_json::Value,
    _progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    Err(PortError::Refused("reports are not ready yet".into()))
}

/// The claim pack job.
pub async fn claim_pack(
    _state: &AppState,
    _job: &JobRow,
    _params: &serde_json::Value,
    _progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    Err(PortError::Refused("reports are not ready yet".into()))
}

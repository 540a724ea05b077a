//! The bulk edit job: one change to more items than a request changes before it answers
//! (`crate::routes::bulk`). It is given the ids the request resolved, so it changes exactly
//! the items that were counted; the change is checked again, and the person's role too, in
//! case either changed while the job waited.

use std::sync::Arc;

use super::Finished;
use crate::AppState;
use crate::portability::{PortError, Progress};
use crate::routes::bulk::{Editor, JobParams};
use crate::routes::locations::Tree;
use crate::store::JobRow;

pub async fn run(
    state: &AppState,
    job: &JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let params: JobParams = super::params(params)?;
    let hid = job.household_id;
    let (household, role) = super::starter(state, job).await?;
    if !role.can_write() {
        return Err(PortError::Refused(
            "viewers can look but not change anything".into(),
        ));
    }
    let change = params.ops.check(&household.currency).map_err(|errors| {
        PortError::Refused(
            errors
                .iter()
                .map(|(field, message)| format!("{field} {message}"))
                .collect::<Vec<_>>()
                .join("; "),
        )
    })?;
    let editor = Editor {
        state,
        hid,
        currency: household.currency,
        actor: job.user_id,
        via_token: params.via_token,
        change,
        tree: Tree::new(state.store.locations(hid).await?),
    };
    let result = editor.run(&params.ids, Some(progress)).await?;
    Ok(Finished {
        result: serde_json::to_value(result).map_err(|e| PortError::Internal(e.into()))?,
        output: None,
    })
}

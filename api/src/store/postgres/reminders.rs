//! PostgreSQL: what people have coming up, and the reminders sent.

use time::Date;

use super::*;
use crate::store::reminders::UpcomingRow;

#[async_trait]
impl ReminderStore for PgStore {
    async fn upcoming(
        &self,
        _user: UserId,
        _from: Date,
        _until: Date,
    ) -> StoreResult<Vec<UpcomingRow>> {
        Ok(Vec::new())
    }
}

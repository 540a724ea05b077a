//! SQLite: items' maintenance schedules and logs.

use super::*;

#[async_trait]
impl MaintenanceStore for SqliteStore {}

//! SQLite: reminder settings, calendar feed and unsubscribe secrets.

use super::*;

#[async_trait]
impl ReminderSettingsStore for SqliteStore {}

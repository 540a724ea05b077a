//! Reminder settings in the stores: each person's digest settings, the secret of their
//! calendar feed and of the unsubscribe link in their mail.

use async_trait::async_trait;

#[async_trait]
pub trait ReminderSettingsStore: Send + Sync {}

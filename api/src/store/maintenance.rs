//! Maintenance in the stores: items' schedules and their maintenance logs, and what a
//! household has due, overdue or done recently.

use async_trait::async_trait;

#[async_trait]
pub trait MaintenanceStore: Send + Sync {}

//! PostgreSQL and Aurora DSQL: many items changed at once, in one transaction within DSQL's
//! limits (the caller's batches stay under 3,000 rows), retried as a whole on conflicts.

use super::*;

#[async_trait]
impl BulkStore for PgStore {
    async fn update_items(&self, updates: &[ItemUpdate]) -> StoreResult<Vec<ItemId>> {
        check_bulk_batch(updates)?;
        write_tx!(self, |tx| {
            let mut stale = Vec::new();
            for update in updates {
                let expected = update.item.version - 1;
                if write_item(&tx, &update.item, Some(expected)).await? == 0 {
                    stale.push(update.item.id);
                } else {
                    write_activity(&tx, &update.activity).await?;
                }
            }
            Ok(stale)
        })
    }
}

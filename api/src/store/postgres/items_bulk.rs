//! PostgreSQL and Aurora DSQL: many items changed at once, in one transaction within DSQL's
//! limits (the caller's batches stay under 3,000 rows), retried as a whole on conflicts.
//! The items' statements are pipelined on the connection, a few items at a time, so a
//! batch waits for a handful of round trips instead of four per item.

use futures_util::StreamExt as _;

use super::*;

/// Items whose statements are in flight at once.
const IN_FLIGHT: usize = 32;

#[async_trait]
impl BulkStore for PgStore {
    async fn update_items(&self, updates: &[ItemUpdate]) -> StoreResult<Vec<ItemId>> {
        check_bulk_batch(updates)?;
        write_tx!(self, |tx| {
            let writes: Vec<_> = updates.iter().map(|u| write_one(&tx, u)).collect();
            let results: Vec<StoreResult<Option<ItemId>>> = futures_util::stream::iter(writes)
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            let mut stale = Vec::new();
            let mut failure = None;
            for result in results {
                match result {
                    Ok(id) => stale.extend(id),
                    // After one statement fails, the others in the pipeline report an aborted
                    // transaction: keep the error that says why (a conflict is retried).
                    Err(e) if failure.is_none() || is_retryable(&e) => failure = Some(e),
                    Err(_) => {}
                }
            }
            match failure {
                Some(e) => Err(e),
                None => Ok(stale),
            }
        })
    }
}

/// Writes one item if its stored version is the one before; its id when it is not.
async fn write_one(tx: &impl GenericClient, update: &ItemUpdate) -> StoreResult<Option<ItemId>> {
    let expected = update.item.version - 1;
    if write_item(tx, &update.item, Some(expected), Tags::IfWritten, false)
        .await?
        .0
        == 0
    {
        return Ok(Some(update.item.id));
    }
    write_activity(tx, &update.activity).await?;
    Ok(None)
}

//! SQLite: many items changed at once.

use super::*;

#[async_trait]
impl BulkStore for SqliteStore {
    async fn update_items(&self, updates: &[ItemUpdate]) -> StoreResult<Vec<ItemId>> {
        check_bulk_batch(updates)?;
        let updates = updates.to_vec();
        self.write(move |tx| {
            let mut stale = Vec::new();
            for update in &updates {
                if write_item(tx, &update.item, false, false)?.0 == 0 {
                    stale.push(update.item.id);
                } else {
                    write_activity(tx, &update.activity)?;
                }
            }
            Ok(stale)
        })
        .await
    }
}

//! PostgreSQL and Aurora DSQL: items, search entries, the trash, tags, stats and history.

use super::*;

#[async_trait]
impl ItemStore for PgStore {
    async fn item_owner(&self, id: ItemId) -> StoreResult<Option<HouseholdId>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT household_id FROM items WHERE id = $1",
                &[&id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(row.map(|r| r.get::<_, Uuid>(0).into()))
    }

    async fn insert_item(&self, item: &ItemRow, activity: &ActivityRow) -> StoreResult<AssetId> {
        // The household's counter, the item, its tags and its activity entry in one round
        // trip.
        write_tx!(self, |tx| {
            let (written, logged) = tokio::join!(
                write_item(&tx, item, None, Tags::Pipelined, true),
                write_activity(&tx, activity),
            );
            let ((_, asset_id), ()) = settle(written, logged)?;
            asset_id.ok_or_else(|| anyhow::anyhow!("a new item got no asset id").into())
        })
    }

    async fn import_items(&self, items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()> {
        check_batch(items, activities)?;
        let wanted: Vec<(Option<AssetId>, Uuid)> = items
            .iter()
            .map(|i| (i.fields.asset_id, i.id.as_uuid()))
            .collect();
        write_tx!(self, |tx| {
            let numbers = match items.first() {
                Some(first) => assets::import_asset_ids(&tx, first.household_id, &wanted).await?,
                None => Vec::new(),
            };
            for (item, asset_id) in items.iter().zip(numbers) {
                let mut item = item.clone();
                item.fields.asset_id = Some(asset_id);
                write_item(&tx, &item, None, Tags::Pipelined, false).await?;
            }
            for activity in activities {
                write_activity(&tx, activity).await?;
            }
            Ok(())
        })
    }

    async fn item(&self, household: HouseholdId, id: ItemId) -> StoreResult<Option<ItemRow>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = $1 AND id = $2"
            ))
            .await
            .map_err(pg)?;
        let row = client
            .query_opt(&stmt, &[&household.as_uuid(), &id.as_uuid()])
            .await
            .map_err(pg)?;
        row.as_ref().map(item_from).transpose()
    }

    async fn update_item(
        &self,
        item: &ItemRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        if item.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        // The item, its tags and its activity entry in one round trip; when the item turns
        // out changed meanwhile, nothing is committed.
        let claim = claims_asset_id(activity);
        write_tx!(self, |tx| {
            let (written, logged) = tokio::join!(
                write_item(&tx, item, Some(expected_version), Tags::Pipelined, claim),
                write_activity(&tx, activity),
            );
            let ((changed, _), ()) = settle(written, logged)?;
            if changed == 0 {
                return Err(StoreError::Stale);
            }
            Ok(())
        })
    }

    async fn list_items(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<ItemRow>> {
        let rows = self.list_rows(household, q, false).await?;
        rows.iter().map(item_from).collect()
    }

    async fn list_shown(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<Shown>> {
        let rows = self.list_rows(household, q, true).await?;
        rows.iter().map(shown_from).collect()
    }

    async fn search_entries(
        &self,
        household: HouseholdId,
        since: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<SearchEntry>> {
        let client = self.client().await?;
        let since = since.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let stmt = client.prepare_cached(SEARCH_ENTRIES).await.map_err(pg)?;
        let rows = client
            .query(&stmt, &[&household.as_uuid(), &since])
            .await
            .map_err(pg)?;
        rows.iter().map(search_entry_from).collect()
    }

    async fn items_by_ids(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<ItemRow>> {
        let client = self.client().await?;
        let ids: Vec<Uuid> = ids.iter().map(ItemId::as_uuid).collect();
        let stmt = client
            .prepare_cached(&by_ids_sql(false))
            .await
            .map_err(pg)?;
        let rows = client
            .query(&stmt, &[&household.as_uuid(), &ids])
            .await
            .map_err(pg)?;
        rows.iter().map(item_from).collect()
    }

    async fn items_shown(&self, household: HouseholdId, ids: &[ItemId]) -> StoreResult<Vec<Shown>> {
        let client = self.client().await?;
        let ids: Vec<Uuid> = ids.iter().map(ItemId::as_uuid).collect();
        let stmt = client.prepare_cached(&by_ids_sql(true)).await.map_err(pg)?;
        let rows = client
            .query(&stmt, &[&household.as_uuid(), &ids])
            .await
            .map_err(pg)?;
        rows.iter().map(shown_from).collect()
    }

    async fn search_refresh(
        &self,
        household: HouseholdId,
        since: OffsetDateTime,
        ids: &[ItemId],
    ) -> StoreResult<(Vec<(ItemId, OffsetDateTime)>, Vec<Shown>)> {
        let client = self.client().await?;
        let hid = household.as_uuid();
        let ids: Vec<Uuid> = ids.iter().map(ItemId::as_uuid).collect();
        let by_ids = by_ids_sql(true);
        // Both statements go out before either answer is awaited: one round trip (once the
        // connection has prepared them).
        let (stamps, shown) = tokio::try_join!(
            async {
                let stmt = client.prepare_cached(CHANGED_SINCE).await?;
                client.query(&stmt, &[&hid, &since]).await
            },
            async {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let stmt = client.prepare_cached(&by_ids).await?;
                client.query(&stmt, &[&hid, &ids]).await
            },
        )
        .map_err(pg)?;
        Ok((
            stamps
                .iter()
                .map(|r| (r.get::<_, Uuid>(0).into(), r.get(1)))
                .collect(),
            shown.iter().map(shown_from).collect::<StoreResult<_>>()?,
        ))
    }

    async fn search_entries_of(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<SearchEntry>> {
        let client = self.client().await?;
        let ids: Vec<Uuid> = ids.iter().map(ItemId::as_uuid).collect();
        let stmt = client.prepare_cached(SEARCH_ENTRIES_OF).await.map_err(pg)?;
        let rows = client
            .query(&stmt, &[&household.as_uuid(), &ids])
            .await
            .map_err(pg)?;
        rows.iter().map(search_entry_from).collect()
    }

    async fn purge_trash(
        &self,
        household: HouseholdId,
        only: Option<ItemId>,
        limit: usize,
    ) -> StoreResult<Purged> {
        let hid = household.as_uuid();
        let only = only.map(|i| i.as_uuid());
        // Bounded by `limit`, which callers keep well under DSQL's 3,000 rows a transaction.
        let limit = limit as i64;
        write_tx!(self, |tx| {
            let ids: Vec<Uuid> = tx
                .query(
                    "SELECT id FROM items WHERE household_id = $1 AND deleted_at IS NOT NULL \
                     AND ($2::uuid IS NULL OR id = $2) LIMIT $3",
                    &[&hid, &only, &limit],
                )
                .await
                .map_err(pg)?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let mut attachments = Vec::new();
            if !ids.is_empty() {
                attachments = tx
                    .query(
                        "DELETE FROM attachments WHERE household_id = $1 AND item_id = ANY($2) \
                         RETURNING id",
                        &[&hid, &ids],
                    )
                    .await
                    .map_err(pg)?
                    .iter()
                    .map(|r| AttachmentId::from(r.get::<_, Uuid>(0)))
                    .collect();
                tx.execute("DELETE FROM item_tags WHERE item_id = ANY($1)", &[&ids])
                    .await
                    .map_err(pg)?;
                tx.execute(
                    "DELETE FROM activity WHERE household_id = $1 AND item_id = ANY($2)",
                    &[&hid, &ids],
                )
                .await
                .map_err(pg)?;
                super::maintenance::purge_items(&tx, hid, &ids).await?;
                tx.execute(
                    "DELETE FROM items WHERE household_id = $1 AND id = ANY($2)",
                    &[&hid, &ids],
                )
                .await
                .map_err(pg)?;
                super::changes::record_removals(&tx, hid, RemovalKind::Item, &ids).await?;
            }
            Ok(Purged {
                items: ids.len(),
                attachments,
            })
        })
    }

    async fn tags(&self, household: HouseholdId) -> StoreResult<Vec<TagCount>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT min(name), count(*) FROM item_tags WHERE household_id = $1 AND NOT trashed \
                 GROUP BY name_lower ORDER BY name_lower COLLATE \"C\"",
                &[&household.as_uuid()],
            )
            .await
            .map_err(pg)?;
        Ok(rows
            .iter()
            .map(|r| TagCount {
                name: r.get(0),
                item_count: r.get(1),
            })
            .collect())
    }

    async fn stats(&self, household: HouseholdId) -> StoreResult<StatsRow> {
        let client = self.client().await?;
        let hid = household.as_uuid();
        let totals = client
            .query_one(
                "SELECT count(*) FILTER (WHERE deleted_at IS NULL), \
                 coalesce(sum(quantity) FILTER (WHERE deleted_at IS NULL), 0)::bigint, \
                 coalesce(sum(estimated_value_minor) FILTER (WHERE deleted_at IS NULL), 0)::bigint, \
                 count(*) FILTER (WHERE deleted_at IS NOT NULL) \
                 FROM items WHERE household_id = $1",
                &[&hid],
            )
            .await
            .map_err(pg)?;
        let by_location = client
            .query(
                "SELECT location_id, count(*), coalesce(sum(estimated_value_minor), 0)::bigint FROM items \
                 WHERE household_id = $1 AND deleted_at IS NULL GROUP BY location_id",
                &[&hid],
            )
            .await
            .map_err(pg)?
            .iter()
            .map(|r| (r.get::<_, Option<Uuid>>(0).map(Into::into), r.get(1), r.get(2)))
            .collect();
        let by_tag = client
            .query(
                "SELECT min(name), count(*), coalesce(sum(value_minor), 0)::bigint FROM item_tags \
                 WHERE household_id = $1 AND NOT trashed GROUP BY name_lower",
                &[&hid],
            )
            .await
            .map_err(pg)?
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2)))
            .collect();
        let files = client
            .query_one(
                "SELECT count(*), coalesce(sum(stored_bytes), 0)::bigint FROM attachments \
                 WHERE household_id = $1 AND status = 'ready'",
                &[&hid],
            )
            .await
            .map_err(pg)?;
        Ok(StatsRow {
            item_count: totals.get(0),
            total_quantity: totals.get(1),
            total_value_minor: totals.get(2),
            trashed_count: totals.get(3),
            by_location,
            by_tag,
            attachment_count: files.get(0),
            storage_bytes: files.get(1),
        })
    }

    async fn history(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<Activity>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT a.id, a.action, a.actor_id, coalesce(u.name, '') AS actor_name, a.fields, a.at, \
                 a.via_token \
                 FROM activity a LEFT JOIN users u ON u.id = a.actor_id \
                 WHERE a.household_id = $1 AND a.item_id = $2 ORDER BY a.at DESC, a.id DESC",
                &[&household.as_uuid(), &item.as_uuid()],
            )
            .await
            .map_err(pg)?;
        rows.iter()
            .map(|r| {
                Ok(Activity {
                    id: r.get::<_, Uuid>("id").into(),
                    action: parse_action(r.get("action"))?,
                    actor: Actor {
                        id: r.get::<_, Uuid>("actor_id").into(),
                        name: r.get("actor_name"),
                    },
                    fields: serde_json::from_str(r.get("fields")).map_err(anyhow::Error::from)?,
                    at: r.get("at"),
                    via_token: r.get("via_token"),
                })
            })
            .collect()
    }
}

const SEARCH_ENTRIES: &str = "SELECT id, search_text, name_lower, location_id, tags, created_at, \
     updated_at, deleted_at FROM items WHERE household_id = $1 AND updated_at > $2";

const SEARCH_ENTRIES_OF: &str = "SELECT id, search_text, name_lower, location_id, tags, created_at, \
     updated_at, deleted_at FROM items WHERE household_id = $1 AND id = ANY($2)";

const CHANGED_SINCE: &str =
    "SELECT id, updated_at FROM items WHERE household_id = $1 AND updated_at > $2";

/// The primary photo of the row's item, as one more column: an index look-up per row.
const PHOTO_COLUMN: &str = ", (SELECT a.id FROM attachments a WHERE a.household_id = items.household_id \
     AND a.item_id = items.id AND a.is_primary LIMIT 1) AS primary_photo";

fn by_ids_sql(photo: bool) -> String {
    let photo = if photo { PHOTO_COLUMN } else { "" };
    format!("SELECT {ITEM_COLUMNS}{photo} FROM items WHERE household_id = $1 AND id = ANY($2)")
}

fn shown_from(r: &Row) -> StoreResult<Shown> {
    Ok(Shown {
        row: item_from(r)?,
        photo: r.get::<_, Option<Uuid>>("primary_photo").map(Into::into),
    })
}

fn search_entry_from(r: &Row) -> StoreResult<SearchEntry> {
    SearchEntry::new(
        r.get::<_, Uuid>(0).into(),
        r.get(1),
        r.get(2),
        r.get::<_, Option<Uuid>>(3).map(Into::into),
        r.get(4),
        (r.get(5), r.get(6), r.get(7)),
    )
}

impl PgStore {
    /// A page of the item list; with each item's primary photo when `photo`.
    async fn list_rows(
        &self,
        household: HouseholdId,
        q: &ItemQuery,
        photo: bool,
    ) -> StoreResult<Vec<Row>> {
        let hid = household.as_uuid();
        let photo = if photo { PHOTO_COLUMN } else { "" };
        let mut sql = format!("SELECT {ITEM_COLUMNS}{photo} FROM items WHERE household_id = $1");
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(hid)];
        sql.push_str(if q.trashed {
            " AND deleted_at IS NOT NULL"
        } else {
            " AND deleted_at IS NULL"
        });
        if let Some(search) = &q.search {
            params.push(Box::new(search.clone()));
            sql.push_str(&format!(" AND strpos(search_text, ${}) > 0", params.len()));
        }
        if let Some(asset_id) = q.asset_id {
            params.push(Box::new(asset_id.as_i64()));
            sql.push_str(&format!(" AND asset_id = ${}", params.len()));
        }
        if q.unplaced {
            sql.push_str(" AND location_id IS NULL");
        } else if let Some(ids) = &q.location_ids {
            let ids: Vec<Uuid> = ids.iter().map(LocationId::as_uuid).collect();
            params.push(Box::new(ids));
            sql.push_str(&format!(" AND location_id = ANY(${})", params.len()));
        }
        if let Some(tag) = &q.tag {
            params.push(Box::new(tag.clone()));
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = items.id AND t.name_lower = ${})",
                params.len()
            ));
        }
        let (column, desc) = sort_column(q.sort);
        let collate = if q.sort == ItemSort::Name {
            " COLLATE \"C\""
        } else {
            ""
        };
        let cmp = if desc { "<" } else { ">" };
        if let Some(cursor) = &q.after {
            match cursor.text_key() {
                Some(key) => params.push(Box::new(key.to_string())),
                None => params.push(Box::new(
                    cursor.time_key().unwrap_or(OffsetDateTime::UNIX_EPOCH),
                )),
            }
            let key = params.len();
            params.push(Box::new(cursor.id.as_uuid()));
            let id = params.len();
            sql.push_str(&format!(
                " AND ({column}{collate} {cmp} ${key} OR ({column} = ${key} AND id {cmp} ${id}))"
            ));
        }
        let dir = if desc { "DESC" } else { "ASC" };
        sql.push_str(&format!(
            " ORDER BY {column}{collate} {dir}, id {dir} LIMIT {}",
            q.limit
        ));
        let client = self.client().await?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let stmt = client.prepare_cached(&sql).await.map_err(pg)?;
        client.query(&stmt, &refs).await.map_err(pg)
    }
}

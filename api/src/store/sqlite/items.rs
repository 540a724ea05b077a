//! SQLite: items, search entries, the trash, tags, stats and history.

use super::*;

#[async_trait]
impl ItemStore for SqliteStore {
    async fn item_owner(&self, id: ItemId) -> StoreResult<Option<HouseholdId>> {
        self.read(move |c| {
            c.query_row(
                "SELECT household_id FROM items WHERE id = ?1",
                [id.to_string()],
                |r| Ok(HouseholdId::from(uuid_of(r.get(0)?)?)),
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn insert_item(&self, item: &ItemRow, activity: &ActivityRow) -> StoreResult<AssetId> {
        let (item, activity) = (item.clone(), activity.clone());
        self.write(move |tx| {
            let (_, asset_id) = write_item(tx, &item, true, true)?;
            write_activity(tx, &activity)?;
            asset_id.ok_or_else(|| anyhow::anyhow!("a new item got no asset id").into())
        })
        .await
    }

    async fn import_items(&self, items: &[ItemRow], activities: &[ActivityRow]) -> StoreResult<()> {
        check_batch(items, activities)?;
        let (items, activities) = (items.to_vec(), activities.to_vec());
        self.write(move |tx| {
            let household = items.first().map(|i| i.household_id);
            let numbers = match household {
                Some(household) => assets::import_asset_ids(
                    tx,
                    household,
                    &items
                        .iter()
                        .map(|i| (i.fields.asset_id, i.id.as_uuid()))
                        .collect::<Vec<_>>(),
                )?,
                None => Vec::new(),
            };
            for (item, asset_id) in items.iter().zip(numbers) {
                let mut item = item.clone();
                item.fields.asset_id = Some(asset_id);
                write_item(tx, &item, true, false)?;
            }
            for activity in &activities {
                write_activity(tx, activity)?;
            }
            // Many rows at once can change the best plans.
            tx.execute_batch("PRAGMA optimize").map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn item(&self, household: HouseholdId, id: ItemId) -> StoreResult<Option<ItemRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE household_id = ?1 AND id = ?2"
            ))
            .map_err(db)?
            .query_row([household.to_string(), id.to_string()], item_from)
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn update_item(
        &self,
        item: &ItemRow,
        expected_version: i64,
        activity: &ActivityRow,
    ) -> StoreResult<()> {
        let (item, activity) = (item.clone(), activity.clone());
        if item.version != expected_version + 1 {
            return Err(anyhow::anyhow!("an update must bump the version by one").into());
        }
        let claim = claims_asset_id(&activity);
        self.write(move |tx| {
            if write_item(tx, &item, false, claim)?.0 == 0 {
                return Err(StoreError::Stale);
            }
            write_activity(tx, &activity)
        })
        .await
    }

    async fn list_items(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<ItemRow>> {
        let q = q.clone();
        self.read(move |c| list_on(c, household, &q, false, item_from))
            .await
    }

    async fn list_shown(&self, household: HouseholdId, q: &ItemQuery) -> StoreResult<Vec<Shown>> {
        let q = q.clone();
        self.read(move |c| list_on(c, household, &q, true, shown_from))
            .await
    }

    async fn search_entries(
        &self,
        household: HouseholdId,
        since: Option<OffsetDateTime>,
    ) -> StoreResult<Vec<SearchEntry>> {
        self.read(move |c| search_entries_on(c, household, Filter::Since(since)))
            .await
    }

    async fn items_by_ids(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<ItemRow>> {
        let ids = serde_json::to_string(ids).map_err(anyhow::Error::from)?;
        self.read(move |c| by_ids_on(c, household, &ids, false, item_from))
            .await
    }

    async fn items_shown(&self, household: HouseholdId, ids: &[ItemId]) -> StoreResult<Vec<Shown>> {
        let ids = serde_json::to_string(ids).map_err(anyhow::Error::from)?;
        self.read(move |c| by_ids_on(c, household, &ids, true, shown_from))
            .await
    }

    async fn search_refresh(
        &self,
        household: HouseholdId,
        since: OffsetDateTime,
        ids: &[ItemId],
    ) -> StoreResult<(Vec<(ItemId, OffsetDateTime)>, Vec<Shown>)> {
        let wanted = (!ids.is_empty())
            .then(|| serde_json::to_string(ids))
            .transpose()
            .map_err(anyhow::Error::from)?;
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, updated_at FROM items WHERE household_id = ?1 AND updated_at > ?2",
                )
                .map_err(db)?;
            let stamps = stmt
                .query_map(params![household.to_string(), micros(since)], |r| {
                    Ok((ItemId::from(uuid_of(r.get(0)?)?), from_micros(r.get(1)?)?))
                })
                .map_err(db)?
                .collect::<rusqlite::Result<_>>()
                .map_err(db)?;
            let shown = match wanted {
                Some(ids) => by_ids_on(c, household, &ids, true, shown_from)?,
                None => Vec::new(),
            };
            Ok((stamps, shown))
        })
        .await
    }

    async fn search_entries_of(
        &self,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<Vec<SearchEntry>> {
        let ids = serde_json::to_string(ids).map_err(anyhow::Error::from)?;
        self.read(move |c| search_entries_on(c, household, Filter::Ids(&ids)))
            .await
    }

    async fn purge_trash(
        &self,
        household: HouseholdId,
        only: Option<ItemId>,
        limit: usize,
    ) -> StoreResult<Purged> {
        self.write(move |tx| {
            let hid = household.to_string();
            let ids: Vec<String> = {
                let mut stmt = tx
                    .prepare(
                        "SELECT id FROM items WHERE household_id = ?1 AND deleted_at IS NOT NULL \
                         AND (?2 IS NULL OR id = ?2) LIMIT ?3",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map(
                        params![hid, only.map(|i| i.to_string()), limit as i64],
                        |r| r.get(0),
                    )
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let mut attachments = Vec::new();
            for id in &ids {
                {
                    let mut stmt = tx
                        .prepare(
                            "SELECT id FROM attachments WHERE household_id = ?1 AND item_id = ?2",
                        )
                        .map_err(db)?;
                    let rows = stmt
                        .query_map([&hid, id], |r| Ok(AttachmentId::from(uuid_of(r.get(0)?)?)))
                        .map_err(db)?;
                    for row in rows {
                        attachments.push(row.map_err(db)?);
                    }
                }
                tx.execute(
                    "DELETE FROM attachments WHERE household_id = ?1 AND item_id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
                tx.execute("DELETE FROM item_tags WHERE item_id = ?1", [id])
                    .map_err(db)?;
                tx.execute(
                    "DELETE FROM activity WHERE household_id = ?1 AND item_id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
                super::maintenance::purge_item(tx, &hid, id)?;
                tx.execute(
                    "DELETE FROM items WHERE household_id = ?1 AND id = ?2",
                    [&hid, id],
                )
                .map_err(db)?;
            }
            super::changes::record_removals(tx, household, RemovalKind::Item, &ids)?;
            Ok(Purged {
                items: ids.len(),
                attachments,
            })
        })
        .await
    }

    async fn tags(&self, household: HouseholdId) -> StoreResult<Vec<TagCount>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT min(name), count(*) FROM item_tags WHERE household_id = ?1 AND trashed = 0 \
                     GROUP BY name_lower ORDER BY name_lower",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string()], |r| {
                    Ok(TagCount {
                        name: r.get(0)?,
                        item_count: r.get(1)?,
                    })
                })
                .map_err(db)?;
            rows.collect::<rusqlite::Result<_>>().map_err(db)
        })
        .await
    }

    async fn stats(&self, household: HouseholdId) -> StoreResult<StatsRow> {
        self.read(move |c| {
            let hid = household.to_string();
            let (item_count, total_quantity, total_value_minor, trashed_count) = c
                .query_row(
                    "SELECT count(*) FILTER (WHERE deleted_at IS NULL), \
                     coalesce(sum(quantity) FILTER (WHERE deleted_at IS NULL), 0), \
                     coalesce(sum(estimated_value_minor) FILTER (WHERE deleted_at IS NULL), 0), \
                     count(*) FILTER (WHERE deleted_at IS NOT NULL) \
                     FROM items WHERE household_id = ?1",
                    [&hid],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .map_err(db)?;
            let by_location = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT location_id, count(*), coalesce(sum(estimated_value_minor), 0) FROM items \
                         WHERE household_id = ?1 AND deleted_at IS NULL GROUP BY location_id",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([&hid], |r| {
                        Ok((opt_uuid(r.get(0)?)?.map(LocationId::from), r.get(1)?, r.get(2)?))
                    })
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let by_tag = {
                let mut stmt = c
                    .prepare_cached(
                        "SELECT min(name), count(*), coalesce(sum(value_minor), 0) FROM item_tags \
                         WHERE household_id = ?1 AND trashed = 0 GROUP BY name_lower",
                    )
                    .map_err(db)?;
                let rows = stmt
                    .query_map([&hid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .map_err(db)?;
                rows.collect::<rusqlite::Result<_>>().map_err(db)?
            };
            let (attachment_count, storage_bytes) = c
                .query_row(
                    "SELECT count(*), coalesce(sum(stored_bytes), 0) FROM attachments \
                     WHERE household_id = ?1 AND status = 'ready'",
                    [&hid],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(db)?;
            Ok(StatsRow {
                item_count,
                total_quantity,
                trashed_count,
                total_value_minor,
                by_location,
                by_tag,
                attachment_count,
                storage_bytes,
            })
        })
        .await
    }

    async fn history(&self, household: HouseholdId, item: ItemId) -> StoreResult<Vec<Activity>> {
        self.read(move |c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT a.id, a.action, a.actor_id, coalesce(u.name, ''), a.fields, a.at, a.via_token \
                     FROM activity a LEFT JOIN users u ON u.id = a.actor_id \
                     WHERE a.household_id = ?1 AND a.item_id = ?2 ORDER BY a.at DESC, a.id DESC",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([household.to_string(), item.to_string()], |r| {
                    let fields: String = r.get(4)?;
                    Ok((
                        uuid_of(r.get(0)?)?,
                        r.get::<_, String>(1)?,
                        uuid_of(r.get(2)?)?,
                        r.get::<_, String>(3)?,
                        fields,
                        from_micros(r.get(5)?)?,
                        r.get::<_, Option<String>>(6)?,
                    ))
                })
                .map_err(db)?;
            let mut out = Vec::new();
            for row in rows {
                let (id, action, actor_id, actor_name, fields, at, via_token) = row.map_err(db)?;
                out.push(Activity {
                    id: id.into(),
                    action: parse_action(&action)?,
                    actor: Actor {
                        id: actor_id.into(),
                        name: actor_name,
                    },
                    fields: serde_json::from_str(&fields).map_err(anyhow::Error::from)?,
                    at,
                    via_token,
                });
            }
            Ok(out)
        })
        .await
    }
}

/// The primary photo of the row's item, as one more column (after the item's own): an
/// index look-up per row.
fn photo_column(alias: &str) -> String {
    format!(
        ", (SELECT a.id FROM attachments a WHERE a.household_id = {alias}.household_id \
         AND a.item_id = {alias}.id AND a.is_primary = 1 LIMIT 1)"
    )
}

fn shown_from(row: &Row<'_>) -> rusqlite::Result<Shown> {
    Ok(Shown {
        row: item_from(row)?,
        photo: opt_uuid(row.get(ITEM_COLUMN_COUNT)?)?.map(Into::into),
    })
}

const ITEM_COLUMN_COUNT: usize = 32;

/// Which search entries to read.
enum Filter<'a> {
    /// Changed after this (all of them for `None`).
    Since(Option<OffsetDateTime>),
    /// These ids, as a JSON array.
    Ids(&'a str),
}

fn search_entries_on(
    c: &Connection,
    household: HouseholdId,
    filter: Filter<'_>,
) -> StoreResult<Vec<SearchEntry>> {
    const COLUMNS: &str = "i.id, i.search_text, i.name_lower, i.location_id, i.tags, i.created_at, i.updated_at, i.deleted_at";
    let (sql, arg): (String, Box<dyn rusqlite::ToSql>) = match filter {
        Filter::Since(since) => (
            format!(
                "SELECT {COLUMNS} FROM items i WHERE i.household_id = ?1 AND i.updated_at > ?2"
            ),
            Box::new(since.map(micros).unwrap_or(i64::MIN)),
        ),
        Filter::Ids(ids) => (
            format!(
                "SELECT {COLUMNS} FROM json_each(?2) AS wanted CROSS JOIN items i \
                 ON i.id = wanted.value WHERE i.household_id = ?1"
            ),
            Box::new(ids.to_string()),
        ),
    };
    let mut stmt = c.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(params![household.to_string(), arg], |r| {
            Ok((
                uuid_of(r.get(0)?)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                opt_uuid(r.get(3)?)?,
                r.get::<_, String>(4)?,
                (
                    from_micros(r.get(5)?)?,
                    from_micros(r.get(6)?)?,
                    r.get::<_, Option<i64>>(7)?.map(from_micros).transpose()?,
                ),
            ))
        })
        .map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, text, name, location, tags, times) = row.map_err(db)?;
        out.push(SearchEntry::new(
            id.into(),
            text,
            name,
            location.map(Into::into),
            &tags,
            times,
        )?);
    }
    Ok(out)
}

/// The items whose ids the JSON array `ids` holds; with each one's primary photo when
/// `photo` (read by `from`).
fn by_ids_on<T>(
    c: &Connection,
    household: HouseholdId,
    ids: &str,
    photo: bool,
    from: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let columns = ITEM_COLUMNS
        .split(", ")
        .map(|c| format!("i.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let photo = if photo {
        photo_column("i")
    } else {
        String::new()
    };
    let mut stmt = c
        // CROSS JOIN keeps the ids as the outer loop: one key lookup per id, rather than a
        // walk over the household.
        .prepare_cached(&format!(
            "SELECT {columns}{photo} FROM json_each(?2) AS wanted CROSS JOIN items i \
             ON i.id = wanted.value WHERE i.household_id = ?1"
        ))
        .map_err(db)?;
    let rows = stmt
        .query_map(params![household.to_string(), ids], from)
        .map_err(db)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db)
}

/// A page of the item list; with each item's primary photo when `photo` (read by `from`).
fn list_on<T>(
    c: &Connection,
    household: HouseholdId,
    q: &ItemQuery,
    photo: bool,
    from: fn(&Row<'_>) -> rusqlite::Result<T>,
) -> StoreResult<Vec<T>> {
    let photo = if photo {
        photo_column("items")
    } else {
        String::new()
    };
    let mut sql = format!("SELECT {ITEM_COLUMNS}{photo} FROM items WHERE household_id = ?");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![Box::new(household.to_string())];
    sql.push_str(if q.trashed {
        " AND deleted_at IS NOT NULL"
    } else {
        " AND deleted_at IS NULL"
    });
    if let Some(search) = &q.search {
        sql.push_str(" AND instr(search_text, ?) > 0");
        args.push(Box::new(search.clone()));
    }
    if let Some(asset_id) = q.asset_id {
        sql.push_str(" AND asset_id = ?");
        args.push(Box::new(asset_id.as_i64()));
    }
    if q.unplaced {
        sql.push_str(" AND location_id IS NULL");
    } else if let Some(ids) = &q.location_ids {
        sql.push_str(" AND location_id IN (SELECT value FROM json_each(?))");
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        args.push(Box::new(
            serde_json::to_string(&ids).map_err(anyhow::Error::from)?,
        ));
    }
    if let Some(tag) = &q.tag {
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM item_tags t WHERE t.item_id = items.id AND t.name_lower = ?)",
        );
        args.push(Box::new(tag.clone()));
    }
    let (column, desc) = sort_column(q.sort);
    let cmp = if desc { "<" } else { ">" };
    if let Some(cursor) = &q.after {
        match cursor.text_key() {
            Some(key) => args.push(Box::new(key.to_string())),
            None => args.push(Box::new(cursor.time_key().map(micros).unwrap_or_default())),
        }
        sql.push_str(&format!(
            " AND ({column} {cmp} ?{n} OR ({column} = ?{n} AND id {cmp} ?{m}))",
            n = args.len(),
            m = args.len() + 1
        ));
        args.push(Box::new(cursor.id.to_string()));
    }
    let dir = if desc { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY {column} {dir}, id {dir} LIMIT {}",
        q.limit
    ));
    // Positional `?` and numbered `?N` can't be mixed: number them all.
    let sql = number_placeholders(&sql);
    let mut stmt = c.prepare_cached(&sql).map_err(db)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), from)
        .map_err(db)?;
    rows.collect::<rusqlite::Result<_>>().map_err(db)
}

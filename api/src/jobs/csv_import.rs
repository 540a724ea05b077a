//! The CSV import job: reads the file a chunk of rows at a time (`crate::portability::csv`),
//! decides row by row what happens — create, update, unchanged or refuse, with the line and
//! the reason — and, unless it is a dry run, writes each chunk's new items in one
//! transaction (within Aurora DSQL's limits, retried on conflicts by the store).
//!
//! `HB.import_ref` names the item a row updates: our own export writes the item's id there,
//! so re-importing an export updates those items; any other reference (Homebox's own, a
//! spreadsheet's) becomes an id derived from the household and the reference (UUIDv5), so
//! importing the same file twice finds the items the first import made and changes nothing.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;
use shared::{
    Action, Currency, HouseholdId, ImportError, ImportResult, ImportRowReport, ItemFields, ItemId,
    LocationId, MAX_REPORTED_ROWS, RowAction, UserId, parse_name,
};
use uuid::Uuid;

use super::{Finished, fetch_input};
use crate::AppState;
use crate::portability::csv::{CsvImport, ImportRow};
use crate::portability::{PortError, Progress};
use crate::routes::locations::MAX_LOCATION_NAME;
use crate::store::tree::MAX_DEPTH;
use crate::store::{
    ActivityRow, IMPORT_ROWS, ItemRow, JobRow, LocationRow, StoreError, import_rows, now,
};

/// Rows decided and written together.
const CHUNK: usize = 500;
/// Bytes of items one transaction writes at most, well inside Aurora DSQL's 10 MiB.
const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

/// Roughly the bytes writing an item takes: its fields, and their search text beside them.
fn approximate_bytes(item: &ItemRow) -> usize {
    serde_json::to_string(&item.fields).map_or(64 * 1024, |s| 2 * s.len() + 256)
}

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    #[serde(default)]
    pub dry_run: bool,
}

pub async fn run(
    state: &AppState,
    job: &JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let params: Params = super::params(params)?;
    let hid = job.household_id;
    let (household, role) = super::starter(state, job).await?;
    if !params.dry_run && !role.can_write() {
        return Err(PortError::Refused("viewers can't import items".into()));
    }
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("import.csv");
    fetch_input(state, job, &path).await?;

    let currency = household.currency.clone();
    let open = |path: &std::path::Path| -> Result<CsvImport<std::io::BufReader<std::fs::File>>, PortError> {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        CsvImport::open(file, &currency).map_err(PortError::Refused)
    };
    // A first pass counts the rows, for the progress.
    progress.set_total(open(&path)?.count() as u64);

    let mut import = Import::new(state, hid, job.user_id, currency.clone(), params.dry_run).await?;
    let mut rows = open(&path)?;
    loop {
        let chunk: Vec<ImportRow> = rows.by_ref().take(CHUNK).collect();
        if chunk.is_empty() {
            break;
        }
        let n = chunk.len() as u64;
        import.chunk(chunk).await?;
        progress.add(n);
    }
    Ok(Finished {
        result: serde_json::to_value(import.result).map_err(|e| PortError::Internal(e.into()))?,
        output: None,
    })
}

/// A location path's key: each name lower-cased.
fn path_key(path: &[String]) -> Vec<String> {
    path.iter().map(|p| p.to_lowercase()).collect()
}

struct Import<'a> {
    state: &'a AppState,
    hid: HouseholdId,
    user: UserId,
    currency: Currency,
    dry_run: bool,
    /// Every location by its path's key: those there were and those this import makes.
    locations: HashMap<Vec<String>, LocationId>,
    /// Items rows of this file named, with the line that named them.
    seen: HashMap<ItemId, u64>,
    result: ImportResult,
}

/// What one row comes to.
enum Decision {
    Create(ItemRow),
    Update {
        row: ItemRow,
        expected: i64,
        changed: Vec<String>,
    },
    Unchanged,
    Refuse(String),
}

impl<'a> Import<'a> {
    async fn new(
        state: &'a AppState,
        hid: HouseholdId,
        user: UserId,
        currency: Currency,
        dry_run: bool,
    ) -> Result<Self, PortError> {
        let rows = state.store.locations(hid).await?;
        let tree = crate::routes::locations::Tree::new(rows.clone());
        let locations = rows
            .iter()
            .map(|r| (path_key(&tree.path(r.id)), r.id))
            .collect();
        Ok(Self {
            state,
            hid,
            user,
            currency,
            dry_run,
            locations,
            seen: HashMap::new(),
            result: ImportResult {
                dry_run,
                ..Default::default()
            },
        })
    }

    /// The id a row's reference names: an item of this household, or one derived from the
    /// reference.
    fn target(&self, reference: &str, existing: &HashMap<ItemId, ItemRow>) -> ItemId {
        if let Ok(id) = reference.parse::<ItemId>()
            && existing.contains_key(&id)
        {
            return id;
        }
        ItemId::from(Uuid::new_v5(&self.hid.as_uuid(), reference.as_bytes()))
    }

    async fn chunk(&mut self, chunk: Vec<ImportRow>) -> Result<(), PortError> {
        // The items the chunk's references could name.
        let mut candidates: Vec<ItemId> = Vec::new();
        for row in &chunk {
            if let Some(reference) = row
                .import_ref
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
            {
                if let Ok(id) = reference.parse::<ItemId>() {
                    candidates.push(id);
                }
                candidates.push(ItemId::from(Uuid::new_v5(
                    &self.hid.as_uuid(),
                    reference.as_bytes(),
                )));
            }
        }
        let existing: HashMap<ItemId, ItemRow> = if candidates.is_empty() {
            HashMap::new()
        } else {
            self.state
                .store
                .items_by_ids(self.hid, &candidates)
                .await?
                .into_iter()
                .map(|r| (r.id, r))
                .collect()
        };
        let at = now();
        let mut new_locations: Vec<LocationRow> = Vec::new();
        let mut creates: Vec<ItemRow> = Vec::new();
        let mut updates: Vec<(u64, ItemRow, i64, Vec<String>)> = Vec::new();
        let mut decided: Vec<(u64, String, RowAction, Option<String>)> = Vec::new();
        for (n, row) in chunk.into_iter().enumerate() {
            // New items keep the file's order in "oldest first".
            let at = at + time::Duration::microseconds(n as i64);
            let line = row.line;
            let name = row
                .item
                .as_ref()
                .ok()
                .and_then(|i| i.name.clone())
                .unwrap_or_default();
            let decision = self.decide(row, &existing, &mut new_locations, at);
            match decision {
                Decision::Create(item) => {
                    creates.push(item);
                    decided.push((line, name, RowAction::Create, None));
                }
                Decision::Update {
                    row,
                    expected,
                    changed,
                } => {
                    updates.push((line, row, expected, changed));
                    decided.push((line, name, RowAction::Update, None));
                }
                Decision::Unchanged => decided.push((line, name, RowAction::Unchanged, None)),
                Decision::Refuse(message) => {
                    decided.push((line, name, RowAction::Refuse, Some(message)))
                }
            }
        }
        if !self.dry_run {
            self.write(&new_locations, &creates, &mut updates, &mut decided, at)
                .await?;
        }
        for (line, name, action, message) in decided {
            self.report(line, name, action, message);
        }
        Ok(())
    }

    fn decide(
        &mut self,
        row: ImportRow,
        existing: &HashMap<ItemId, ItemRow>,
        new_locations: &mut Vec<LocationRow>,
        at: time::OffsetDateTime,
    ) -> Decision {
        let input = match row.item {
            Ok(input) => input,
            Err(message) => return Decision::Refuse(message),
        };
        let mut fields: ItemFields = match input.validate(&self.currency) {
            Ok(fields) => fields,
            Err(errors) => {
                let message = errors
                    .iter()
                    .map(|(field, message)| format!("{field} {message}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Decision::Refuse(message);
            }
        };
        let reference = row
            .import_ref
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        let id = match reference {
            Some(reference) => self.target(reference, existing),
            None => ItemId::new(),
        };
        if let Some(first) = self.seen.get(&id) {
            return Decision::Refuse(format!(
                "HB.import_ref is the same as on line {first}; each item can be imported once per file"
            ));
        }
        match self.location(&row.location_path, new_locations, at) {
            Ok(location) => fields.location_id = location,
            Err(message) => return Decision::Refuse(message),
        }
        self.seen.insert(id, row.line);
        // A new item keeps the file's asset id when the household has it free (the store
        // decides, in the write), else gets the next; an item updated keeps its own.
        fields.asset_id = row.asset_id.as_deref().and_then(|a| a.parse().ok());
        match existing.get(&id) {
            Some(current) => {
                fields.asset_id = current.fields.asset_id;
                if current.fields == fields {
                    return Decision::Unchanged;
                }
                let changed = match current
                    .fields
                    .patch_to(&fields)
                    .apply(&current.fields, &self.currency)
                {
                    Ok((_, changed)) => changed.into_iter().map(str::to_string).collect(),
                    Err(_) => Vec::new(),
                };
                Decision::Update {
                    row: ItemRow {
                        fields,
                        version: current.version + 1,
                        updated_at: at,
                        ..current.clone()
                    },
                    expected: current.version,
                    changed,
                }
            }
            None => Decision::Create(ItemRow {
                id,
                household_id: self.hid,
                fields,
                version: 1,
                created_at: at,
                updated_at: at,
                deleted_at: None,
            }),
        }
    }

    /// The location a path names, made (in `new_locations`) where missing.
    fn location(
        &mut self,
        path: &[String],
        new_locations: &mut Vec<LocationRow>,
        at: time::OffsetDateTime,
    ) -> Result<Option<LocationId>, String> {
        if path.is_empty() {
            return Ok(None);
        }
        if path.len() > MAX_DEPTH {
            return Err(format!("HB.location is nested more than {MAX_DEPTH} deep"));
        }
        let mut parent: Option<LocationId> = None;
        for depth in 1..=path.len() {
            let key = path_key(&path[..depth]);
            if let Some(id) = self.locations.get(&key) {
                parent = Some(*id);
                continue;
            }
            let name = parse_name(&path[depth - 1], MAX_LOCATION_NAME)
                .map_err(|e| format!("HB.location: the name \"{}\" {e}", path[depth - 1]))?;
            let row = LocationRow {
                id: LocationId::new(),
                household_id: self.hid,
                parent_id: parent,
                name,
                description: None,
                asset_id: None,
                version: 1,
                created_at: at,
                updated_at: at,
            };
            self.locations.insert(key, row.id);
            if self.result.new_locations.len() < MAX_REPORTED_ROWS {
                self.result.new_locations.push(path[..depth].join(" / "));
            }
            parent = Some(row.id);
            new_locations.push(row);
        }
        Ok(parent)
    }

    /// Writes a chunk: its new locations (parents first), its new items in transactions of
    /// at most `IMPORT_ROWS` rows, then its updates one by one.
    async fn write(
        &mut self,
        new_locations: &[LocationRow],
        creates: &[ItemRow],
        updates: &mut [(u64, ItemRow, i64, Vec<String>)],
        decided: &mut [(u64, String, RowAction, Option<String>)],
        at: time::OffsetDateTime,
    ) -> Result<(), PortError> {
        for location in new_locations {
            self.state.store.insert_location(location).await?;
        }
        let mut batch: Vec<ItemRow> = Vec::new();
        let mut bytes = 0usize;
        for item in creates {
            // Rows: the items, their tags and one history entry each.
            let rows = import_rows(&batch) + batch.len() + 2 + item.fields.tags.len();
            let size = approximate_bytes(item);
            if !batch.is_empty() && (rows > IMPORT_ROWS || bytes + size > MAX_BATCH_BYTES) {
                self.insert_batch(&batch, at).await?;
                batch.clear();
                bytes = 0;
            }
            bytes += size;
            batch.push(item.clone());
        }
        if !batch.is_empty() {
            self.insert_batch(&batch, at).await?;
        }
        for (line, row, expected, changed) in updates.iter_mut() {
            let activity = ActivityRow::new(
                self.hid,
                row.id,
                self.user,
                Action::Updated,
                std::mem::take(changed),
                at,
            );
            match self
                .state
                .store
                .update_item(row, *expected, &activity)
                .await
            {
                Ok(()) => {}
                Err(StoreError::Stale) => {
                    if let Some(d) = decided.iter_mut().find(|d| d.0 == *line) {
                        d.2 = RowAction::Refuse;
                        d.3 = Some(
                            "the item was changed by someone else during the import; import again"
                                .into(),
                        );
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    async fn insert_batch(
        &self,
        batch: &[ItemRow],
        at: time::OffsetDateTime,
    ) -> Result<(), PortError> {
        let activities: Vec<ActivityRow> = batch
            .iter()
            .map(|i| ActivityRow::new(self.hid, i.id, self.user, Action::Created, vec![], at))
            .collect();
        self.state.store.import_items(batch, &activities).await?;
        Ok(())
    }

    fn report(&mut self, line: u64, name: String, action: RowAction, message: Option<String>) {
        let r = &mut self.result;
        match action {
            RowAction::Create => r.created += 1,
            RowAction::Update => r.updated += 1,
            RowAction::Unchanged => r.unchanged += 1,
            RowAction::Refuse => {
                r.refused += 1;
                if r.errors.len() < MAX_REPORTED_ROWS {
                    r.errors.push(ImportError {
                        line,
                        message: message.clone().unwrap_or_default(),
                    });
                }
            }
        }
        if r.rows.len() < MAX_REPORTED_ROWS {
            r.rows.push(ImportRowReport {
                line,
                action,
                name,
                message,
            });
        }
    }
}

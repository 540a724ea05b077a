//! The CSV export job: the household's live items (or those the item list's filters pick)
//! as Homebox-compatible CSV (`crate::portability::csv`), read a page at a time and written
//! to a file, so memory stays flat whatever the size.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::sync::Arc;

use serde::Deserialize;
use shared::LocationId;

use super::{Finished, save_output};
use crate::AppState;
use crate::portability::csv::{CsvExport, ExportItem};
use crate::portability::{PortError, Progress};
use crate::routes::items::{search_terms, tag_key};
use crate::routes::locations::Tree;
use crate::store::{Cursor, ItemQuery, ItemRow, ItemSort};

/// Items read from the store at a time.
const PAGE: usize = 500;

/// The filters of `POST …/exports`, as the item list takes them.
#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub location_id: Option<LocationId>,
    #[serde(default)]
    pub tag: Option<String>,
}

pub async fn run(
    state: &AppState,
    job: &crate::store::JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let filters: Filters = super::params(params)?;
    let hid = job.household_id;
    let rows = state.store.locations(hid).await?;
    let tree = Tree::new(rows);
    let base = query(&filters, &tree)?;

    // First pass: how many, and which custom fields need a column.
    let mut names = BTreeSet::new();
    let mut total = 0u64;
    each_page(state, hid, &base, |page| {
        total += page.len() as u64;
        for row in page {
            names.extend(row.fields.custom_fields.keys().cloned());
        }
        Ok(())
    })
    .await?;
    progress.set_total(total);

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("export.csv");
    let file = std::io::BufWriter::with_capacity(256 * 1024, std::fs::File::create(&path)?);
    let names: Vec<String> = names.into_iter().collect();
    let mut csv = CsvExport::new(file, &names)?;
    let mut written = 0u64;
    each_page(state, hid, &base, |page| {
        for row in page {
            let location_path = row
                .fields
                .location_id
                .map(|l| tree.path(l))
                .unwrap_or_default();
            let asset_id = row.fields.asset_id.map(|a| a.to_string());
            csv.write(&ExportItem {
                id: row.id,
                fields: &row.fields,
                location_path: &location_path,
                asset_id: asset_id.as_deref(),
                created_at: row.created_at,
                updated_at: row.updated_at,
            })?;
        }
        written += page.len() as u64;
        progress.set_done(written);
        Ok(())
    })
    .await?;
    let mut file = csv.finish()?;
    file.flush()?;
    drop(file);
    let bytes = std::fs::metadata(&path)?.len();
    let output = save_output(
        state,
        job,
        &path,
        "home-inventory.csv",
        "text/csv; charset=utf-8",
    )
    .await?;
    Ok(Finished {
        result: serde_json::json!({"items": written, "bytes": bytes}),
        output: Some(output),
    })
}

/// The store query the filters mean: live items, oldest first, as the item list filters.
pub fn query(filters: &Filters, tree: &Tree) -> Result<ItemQuery, PortError> {
    let (search, asset_id) = search_terms(filters.q.as_deref());
    let mut query = ItemQuery {
        search,
        asset_id,
        tag: tag_key(filters.tag.as_deref()),
        sort: ItemSort::Oldest,
        limit: PAGE,
        ..Default::default()
    };
    if let Some(id) = filters.location_id {
        if tree.get(id).is_none() {
            return Err(PortError::Refused("that location no longer exists".into()));
        }
        query.location_ids = Some(tree.subtree(id));
    }
    Ok(query)
}

/// Calls `f` with each page of the query's items, in order.
async fn each_page(
    state: &AppState,
    hid: shared::HouseholdId,
    base: &ItemQuery,
    mut f: impl FnMut(&[ItemRow]) -> Result<(), PortError>,
) -> Result<(), PortError> {
    let mut query = base.clone();
    loop {
        let page = state.store.list_items(hid, &query).await?;
        f(&page)?;
        match page.last() {
            Some(last) if page.len() == query.limit => {
                query.after = Some(Cursor::after(last, ItemSort::Oldest));
            }
            _ => return Ok(()),
        }
    }
}

//! Reports for insurers, made as background jobs (`crate::jobs`):
//!
//! - the insurance report: a PDF of the live items a filter picks (a location and all below
//!   it, a tag, a least value), with a cover of totals, a summary by location whose rows
//!   link to the location's section, and each item with its thumbnail and details
//!   (`insurance`);
//! - the claim pack: a zip with the report of exactly the chosen items, the original file
//!   of each of their photos and documents, `manifest.json` with every file's SHA-256, and
//!   `manifest.sha256` with the manifest's own (`claim_pack`).
//!
//! Memory: item records are read whole (a few hundred bytes each), but no photo is: each
//! thumbnail is fetched when its page is drawn, and the claim pack streams each original
//! from the attachment store into the zip a buffer at a time. The PDF itself is built in
//! memory by krilla before it is written out, so a report takes about three times the size
//! of its thumbnails on top of the records: 1,000 items with photos (a 38 MB PDF) grow the
//! process by about 110 MB. A report shows at most `insurance::MAX_THUMBNAILS` (2,000)
//! thumbnails, which bounds that part whatever the size of the household (about 250 MB,
//! within the jobs function's 1 GB).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use shared::{AttachmentId, AttachmentKind, Currency, HouseholdId, ItemId, LocationId};
use time::OffsetDateTime;

use crate::AppState;
use crate::jobs::{Finished, save_output};
use crate::portability::backup::{Worker, on_blocking_thread};
use crate::portability::{PortError, Progress};
use crate::routes::items::tag_key;
use crate::routes::locations::Tree;
use crate::store::{Cursor, HouseholdRow, ItemQuery, ItemRow, ItemSort, JobRow, LocationRow, now};

mod claim_pack;
mod insurance;
pub mod layout;
mod render;

/// Items read from the store at a time.
const PAGE: usize = 500;
/// The largest thumbnail read into a report.
const MAX_THUMBNAIL: u64 = 4 << 20;

/// The parameters of an insurance report job (`POST …/reports/insurance`).
#[derive(Debug, Default, Deserialize)]
pub struct InsuranceFilters {
    #[serde(default)]
    pub location_id: Option<LocationId>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub min_value_minor: Option<i64>,
}

/// The parameters of a claim pack job (`POST …/reports/claim-pack`).
#[derive(Debug, Default, Deserialize)]
pub struct ClaimItems {
    pub item_ids: Vec<ItemId>,
}

/// An item as the report shows it, with what is on file for it.
pub struct ReportItem {
    pub row: ItemRow,
    /// The primary photo (or the first photo) whose thumbnail is shown.
    pub photo: Option<AttachmentId>,
    pub photos: usize,
    /// The names of its documents (receipts, manuals, warranties, others), with their kind.
    pub documents: Vec<(String, AttachmentKind)>,
    /// Every photo and document: its id and file name.
    pub files: Vec<(AttachmentId, String)>,
}

/// The items of one location (or of none), as the report groups them.
pub struct Section {
    /// `House / Garage / Shelf`, or empty for items without a location.
    pub path: String,
    pub items: Vec<ReportItem>,
}

impl Section {
    pub fn title(&self) -> &str {
        if self.path.is_empty() {
            "No location"
        } else {
            &self.path
        }
    }
}

/// Everything a report shows, sections in the location tree's order.
pub struct Report {
    pub household: String,
    pub currency: Currency,
    pub generated_at: OffsetDateTime,
    /// The filter, in words.
    pub filter: String,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn items(&self) -> impl Iterator<Item = &ReportItem> {
        self.sections.iter().flat_map(|s| s.items.iter())
    }

    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for item in self.items() {
            totals.add(item);
        }
        totals
    }
}

/// Sums of a set of items. Prices and values are for one piece, so each counts times the
/// item's quantity; amounts in different currencies are summed apart.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Totals {
    pub items: u64,
    pub pieces: i64,
    pub purchase: BTreeMap<String, i128>,
    pub value: BTreeMap<String, i128>,
    pub without_value: u64,
    pub without_photo: u64,
}

impl Totals {
    pub fn add(&mut self, item: &ReportItem) {
        let fields = &item.row.fields;
        let quantity = i128::from(fields.quantity.max(0));
        self.items += 1;
        self.pieces = self.pieces.saturating_add(fields.quantity.max(0));
        if let Some(price) = &fields.purchase_price {
            *self
                .purchase
                .entry(price.currency.as_str().to_string())
                .or_default() += i128::from(price.amount_minor) * quantity;
        }
        match &fields.estimated_value {
            Some(value) => {
                *self
                    .value
                    .entry(value.currency.as_str().to_string())
                    .or_default() += i128::from(value.amount_minor) * quantity;
            }
            None => self.without_value += 1,
        }
        if item.photo.is_none() {
            self.without_photo += 1;
        }
    }
}

/// Money summed per currency, as text: `1,299.99 USD + 40.00 EUR`, or "none".
pub fn sums(by_currency: &BTreeMap<String, i128>) -> String {
    if by_currency.is_empty() {
        return "none".into();
    }
    by_currency
        .iter()
        .map(|(code, minor)| amount(*minor, code))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// `1,299.99 USD` for an amount in minor units.
pub fn amount(minor: i128, code: &str) -> String {
    let currency = Currency::parse(code).unwrap_or_default();
    let minor = i64::try_from(minor).unwrap_or(i64::MAX);
    shared::format_amount(minor, &currency)
}

/// The insurance report job: the live items the filters pick, as a PDF.
pub async fn insurance_report(
    state: &AppState,
    job: &JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let filters: InsuranceFilters = crate::jobs::params(params)?;
    let hid = job.household_id;
    let tree = Tree::new(state.store.locations(hid).await?);
    let household = household(state, hid).await?;
    let mut query = ItemQuery {
        tag: tag_key(filters.tag.as_deref()),
        sort: ItemSort::Oldest,
        limit: PAGE,
        ..Default::default()
    };
    let mut words = Vec::new();
    if let Some(id) = filters.location_id {
        if tree.get(id).is_none() {
            return Err(PortError::Refused("that location no longer exists".into()));
        }
        query.location_ids = Some(tree.subtree(id));
        words.push(format!(
            "in {} and every location inside it",
            tree.path(id).join(" / ")
        ));
    }
    if let Some(tag) = filters.tag.as_deref().filter(|t| !t.trim().is_empty()) {
        words.push(format!("tagged “{}”", tag.trim()));
    }
    if let Some(min) = filters.min_value_minor.filter(|m| *m > 0) {
        words.push(format!(
            "worth at least {} apiece (the estimated value, or the purchase price where \
             there is no estimate)",
            shared::format_amount(min, &household.currency)
        ));
    }
    let filter = if words.is_empty() {
        "every item of the household".to_string()
    } else {
        format!("the items {}", words.join(", "))
    };
    let mut items = Vec::new();
    loop {
        let page = state.store.list_items(hid, &query).await?;
        let full = page.len() == query.limit;
        if let Some(last) = page.last() {
            query.after = Some(Cursor::after(last, ItemSort::Oldest));
        }
        items.extend(
            page.into_iter()
                .filter(|item| worth_at_least(item, filters.min_value_minor)),
        );
        if !full {
            break;
        }
    }
    progress.set_total(2 * items.len() as u64);
    let report = gather(
        state,
        hid,
        household.name,
        household.currency,
        &tree,
        items,
        filter,
        progress,
    )
    .await?;
    let count = report.items().count();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("insurance-report.pdf");
    let (blobs, out) = (state.blobs.clone(), path.clone());
    let drawn = on_blocking_thread(progress, move |worker| {
        worker.progress.set_total(2 * count as u64);
        worker.progress.set_done(count as u64);
        insurance::write_pdf(worker, &blobs, hid, &report, None, &out)
    })
    .await?;
    let output = save_output(state, job, &path, "insurance-report.pdf", "application/pdf").await?;
    Ok(Finished {
        result: serde_json::json!({
            "items": count, "pages": drawn.pages, "photos": drawn.photos, "bytes": drawn.bytes,
        }),
        output: Some(output),
    })
}

/// The claim pack job: the chosen items' report, files and manifest, as a zip.
pub async fn claim_pack(
    state: &AppState,
    job: &JobRow,
    params: &serde_json::Value,
    progress: &Arc<Progress>,
) -> Result<Finished, PortError> {
    let chosen: ClaimItems = crate::jobs::params(params)?;
    let hid = job.household_id;
    let household = household(state, hid).await?;
    let tree = Tree::new(state.store.locations(hid).await?);
    let mut items = Vec::new();
    for ids in chosen.item_ids.chunks(PAGE) {
        items.extend(state.store.items_by_ids(hid, ids).await?);
    }
    if items.len() < chosen.item_ids.len() {
        return Err(PortError::Refused(format!(
            "{} of the chosen items no longer exist",
            chosen.item_ids.len() - items.len()
        )));
    }
    progress.set_total(3 * items.len() as u64);
    let count = items.len();
    let report = gather(
        state,
        hid,
        household.name,
        household.currency,
        &tree,
        items,
        format!(
            "the {count} item{} chosen for this claim",
            if count == 1 { "" } else { "s" }
        ),
        progress,
    )
    .await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("claim-pack.zip");
    let (blobs, out) = (state.blobs.clone(), path.clone());
    let summary = on_blocking_thread(progress, move |worker| {
        worker.progress.set_total(3 * count as u64);
        worker.progress.set_done(count as u64);
        claim_pack::write(worker, &blobs, hid, &report, &out)
    })
    .await?;
    let output = save_output(state, job, &path, "claim-pack.zip", "application/zip").await?;
    Ok(Finished {
        result: serde_json::to_value(summary).map_err(|e| PortError::Internal(e.into()))?,
        output: Some(output),
    })
}

/// The household a report is of; it may have been deleted since the job was asked for.
async fn household(state: &AppState, hid: HouseholdId) -> Result<HouseholdRow, PortError> {
    state
        .store
        .household(hid)
        .await?
        .ok_or_else(|| PortError::Conflict("This household no longer exists.".into()))
}

/// Whether the item is worth at least `min` minor units apiece: its estimated value, or
/// its purchase price when it has no estimate. No minimum (or 0) takes every item.
fn worth_at_least(item: &ItemRow, min: Option<i64>) -> bool {
    let Some(min) = min.filter(|m| *m > 0) else {
        return true;
    };
    let fields = &item.fields;
    fields
        .estimated_value
        .as_ref()
        .or(fields.purchase_price.as_ref())
        .is_some_and(|m| m.amount_minor >= min)
}

/// Groups the items by location in the tree's order (siblings by name, items by name,
/// items without a location last) and reads what is on file for each.
#[allow(clippy::too_many_arguments)]
async fn gather(
    state: &AppState,
    hid: HouseholdId,
    household: String,
    currency: Currency,
    tree: &Tree,
    items: Vec<ItemRow>,
    filter: String,
    progress: &Progress,
) -> Result<Report, PortError> {
    let mut by_location: HashMap<Option<LocationId>, Vec<ItemRow>> = HashMap::new();
    for item in items {
        let place = item.fields.location_id.filter(|l| tree.get(*l).is_some());
        by_location.entry(place).or_default().push(item);
    }
    let mut order: Vec<Option<LocationId>> = tree_order(tree).into_iter().map(Some).collect();
    order.push(None);
    let mut sections = Vec::new();
    for place in order {
        let Some(mut rows) = by_location.remove(&place) else {
            continue;
        };
        rows.sort_by_cached_key(|r| (r.fields.name.to_lowercase(), r.id));
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            let attachments = state.store.attachments(hid, row.id).await?;
            let photos: Vec<_> = attachments
                .iter()
                .filter(|a| a.kind == AttachmentKind::Photo)
                .collect();
            let photo = photos
                .iter()
                .find(|a| a.primary)
                .or(photos.first())
                .map(|a| a.id);
            let documents = attachments
                .iter()
                .filter(|a| a.kind != AttachmentKind::Photo)
                .map(|a| (a.filename.clone(), a.kind))
                .collect();
            let files = attachments
                .iter()
                .map(|a| (a.id, a.filename.clone()))
                .collect();
            items.push(ReportItem {
                files,
                photo,
                photos: photos.len(),
                documents,
                row,
            });
            progress.add(1);
        }
        sections.push(Section {
            path: place.map(|l| tree.path(l).join(" / ")).unwrap_or_default(),
            items,
        });
    }
    Ok(Report {
        household,
        currency,
        generated_at: now(),
        filter,
        sections,
    })
}

/// Every location, depth first, siblings by name (a cycle is walked once).
fn tree_order(tree: &Tree) -> Vec<LocationId> {
    let mut children: HashMap<Option<LocationId>, Vec<&LocationRow>> = HashMap::new();
    for row in tree.rows() {
        let parent = row.parent_id.filter(|p| tree.get(*p).is_some());
        children.entry(parent).or_default().push(row);
    }
    for list in children.values_mut() {
        list.sort_by_cached_key(|r| (r.name.to_lowercase(), r.id));
    }
    let mut order = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<LocationId> = children
        .get(&None)
        .map(|roots| roots.iter().rev().map(|r| r.id).collect())
        .unwrap_or_default();
    loop {
        let Some(id) = stack.pop() else {
            // Locations only reachable through a cycle: each as a root of its own.
            let mut left: Vec<&LocationRow> =
                tree.rows().filter(|r| !seen.contains(&r.id)).collect();
            left.sort_by_cached_key(|r| (r.name.to_lowercase(), r.id));
            match left.first() {
                Some(row) => stack.push(row.id),
                None => break,
            }
            continue;
        };
        if !seen.insert(id) {
            continue;
        }
        order.push(id);
        if let Some(kids) = children.get(&Some(id)) {
            stack.extend(kids.iter().rev().map(|r| r.id));
        }
    }
    order
}

/// A thumbnail from the attachment store, or `None` (missing, unreadable, too large).
fn thumbnail(
    worker: &Worker,
    blobs: &crate::blob::DynBlobs,
    hid: HouseholdId,
    id: AttachmentId,
) -> Option<Vec<u8>> {
    let key = crate::blob::keys::thumbnail(hid, id);
    match worker.block_on(blobs.get(&key, MAX_THUMBNAIL)) {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(attachment = %id, "a thumbnail could not be read: {e:#}");
            None
        }
    }
}

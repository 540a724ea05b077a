//! An in-memory index for searching and filtering. Aurora DSQL has no trigram or full-text
//! indexes, so a substring search in SQL reads every item of the household, and no single
//! SQL plan is fast both for a location holding a tenth of the house and for one shelf;
//! this index keeps what lists filter on (text, location, tags, order) in memory and
//! answers in a few milliseconds at 100,000 items.
//!
//! The database stays the truth. This process's own writes go into the index as they
//! happen. Before each search the index fetches the rows changed since the newest change
//! it has read; every ten seconds it looks a minute further back, for writes of other
//! processes (other Lambdas) that committed after later ones. The ids it finds are read
//! back from the database, so an answer never shows stale or deleted data.

use std::cmp::Reverse;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use memchr::memmem;
use shared::{HouseholdId, ItemId, LocationId};
use time::{Duration, OffsetDateTime};

use crate::store::{
    Cursor, CursorKey, DynStore, ItemRow, ItemSort, SearchEntry, Shown, StoreResult, micros,
};

/// How far back a sweep looks before the newest change read: longer than any write
/// transaction takes from choosing its `updated_at` to committing.
pub(crate) const LOOKBACK: Duration = Duration::seconds(60);
/// Changes of other processes up to this many are read as whole rows (which the answer
/// may show); more, as search entries only.
const READ_WHOLE: usize = 200;
/// How often a search sweeps.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Default)]
pub struct SearchIndex {
    households: Mutex<HashMap<HouseholdId, Arc<Household>>>,
}

#[derive(Default)]
struct Household {
    /// Serializes first loads, so two searches don't both load everything.
    loading: tokio::sync::Mutex<()>,
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    loaded: bool,
    /// The newest `updated_at` read from the database.
    watermark: Option<OffsetDateTime>,
    last_sweep: Option<std::time::Instant>,
    /// Sorted newest first by (created_at, id), which never change.
    entries: Vec<Entry>,
    /// Every entry's text, in `entries` order, each followed by a NUL: one pass of a
    /// vectorized substring search covers the whole household.
    texts: Vec<u8>,
    /// Where each entry's text starts in `texts`, and one past the end.
    starts: Vec<usize>,
    /// `texts` no longer matches `entries`.
    stale: bool,
}

struct Entry {
    created: i64,
    id: ItemId,
    updated: i64,
    text: Box<str>,
    name: Box<str>,
    location: Option<LocationId>,
    tags: Box<[Box<str>]>,
    trashed: bool,
}

impl Entry {
    fn key(&self) -> Reverse<(i64, ItemId)> {
        Reverse((self.created, self.id))
    }
}

impl From<SearchEntry> for Entry {
    fn from(e: SearchEntry) -> Self {
        Self {
            created: micros(e.created_at),
            id: e.id,
            updated: micros(e.updated_at),
            text: e.text.into(),
            name: e.name_lower.into(),
            location: e.location_id,
            tags: e.tags_lower.into_iter().map(Into::into).collect(),
            trashed: e.trashed,
        }
    }
}

impl State {
    /// Puts in an entry unless the index holds the same or a newer change of its item
    /// (refreshes may overlap, and finish in any order).
    fn upsert(&mut self, entry: Entry) {
        match self.entries.binary_search_by_key(&entry.key(), Entry::key) {
            Ok(i) if self.entries[i].updated >= entry.updated => return,
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
        self.stale = true;
    }

    /// Of these changes (item, `updated_at`), the items whose change the index does not
    /// hold yet.
    fn unseen(&self, stamps: Vec<(ItemId, OffsetDateTime)>) -> Vec<ItemId> {
        if stamps.is_empty() {
            return Vec::new();
        }
        let mut stamps: HashMap<ItemId, i64> = stamps
            .into_iter()
            .map(|(id, at)| (id, micros(at)))
            .collect();
        for entry in &self.entries {
            if stamps.get(&entry.id).is_some_and(|at| entry.updated >= *at) {
                stamps.remove(&entry.id);
                if stamps.is_empty() {
                    break;
                }
            }
        }
        stamps.into_keys().collect()
    }

    /// Many entries at once: replaced in place where newer, the new ones added and the
    /// whole sorted once.
    fn merge(&mut self, changed: Vec<SearchEntry>) {
        if self.entries.is_empty() {
            // The first load: nothing to replace, and no map of every entry at once.
            self.entries = changed.into_iter().map(Entry::from).collect();
            self.entries.sort_unstable_by_key(Entry::key);
            self.stale = true;
            return;
        }
        let mut changed: HashMap<ItemId, Entry> = changed
            .into_iter()
            .map(|e| (e.id, Entry::from(e)))
            .collect();
        for entry in &mut self.entries {
            if let Some(next) = changed.remove(&entry.id)
                && next.updated > entry.updated
            {
                *entry = next;
                self.stale = true;
            }
        }
        if !changed.is_empty() {
            self.entries.extend(changed.into_values());
            self.entries.sort_unstable_by_key(Entry::key);
            self.stale = true;
        }
    }

    fn remove(&mut self, id: ItemId) {
        self.entries.retain(|e| e.id != id);
        self.stale = true;
    }

    fn rebuild_texts(&mut self) {
        self.texts.clear();
        self.starts.clear();
        for entry in &self.entries {
            self.starts.push(self.texts.len());
            self.texts.extend_from_slice(entry.text.as_bytes());
            self.texts.push(0);
        }
        self.starts.push(self.texts.len());
        self.stale = false;
    }

    /// The entry whose text holds byte `offset`, if the `len` bytes from there stay in it.
    fn entry_at(&self, offset: usize, len: usize) -> Option<usize> {
        let i = self
            .starts
            .partition_point(|s| *s <= offset)
            .checked_sub(1)?;
        (offset + len < self.starts[i + 1]).then_some(i)
    }

    /// Indices of the entries whose text contains `needle`, in `entries` order (newest
    /// first) or reversed.
    fn containing(&self, needle: &[u8], reverse: bool) -> Vec<usize> {
        let mut found = Vec::new();
        if reverse {
            let finder = memmem::FinderRev::new(needle);
            let mut end = self.texts.len();
            while let Some(at) = finder.rfind(&self.texts[..end]) {
                match self.entry_at(at, needle.len()) {
                    Some(i) => {
                        found.push(i);
                        end = self.starts[i];
                    }
                    None => end = at + needle.len() - 1,
                }
            }
        } else {
            let finder = memmem::Finder::new(needle);
            let mut from = 0;
            while let Some(at) = finder.find(&self.texts[from..]) {
                let at = from + at;
                match self.entry_at(at, needle.len()) {
                    Some(i) => {
                        found.push(i);
                        from = self.starts[i + 1];
                    }
                    None => from = at + 1,
                }
            }
        }
        found
    }
}

/// What to look for.
pub struct Query<'a> {
    /// Lower-cased; empty to match every item that passes the filters.
    pub needle: &'a str,
    pub locations: Option<&'a HashSet<LocationId>>,
    pub unplaced: bool,
    /// Lower-cased.
    pub tag: Option<&'a str>,
    pub sort: ItemSort,
    pub after: Option<&'a Cursor>,
    pub limit: usize,
}

impl Query<'_> {
    /// Everything but the text, which the buffer search has checked.
    fn matches(&self, e: &Entry) -> bool {
        !e.trashed
            && (!self.unplaced || e.location.is_none())
            && self
                .locations
                .is_none_or(|set| e.location.is_some_and(|l| set.contains(&l)))
            && self
                .tag
                .is_none_or(|tag| e.tags.iter().any(|t| &**t == tag))
    }

    /// Whether `e` comes after the cursor in this query's order.
    fn after_cursor(&self, e: &Entry) -> bool {
        let Some(cursor) = self.after else {
            return true;
        };
        match (&self.sort, &cursor.key) {
            (ItemSort::Newest, CursorKey::Time(t)) => (e.created, e.id) < (*t, cursor.id),
            (ItemSort::Oldest, CursorKey::Time(t)) => (e.created, e.id) > (*t, cursor.id),
            (ItemSort::Updated, CursorKey::Time(t)) => (e.updated, e.id) < (*t, cursor.id),
            (ItemSort::Name, CursorKey::Text(n)) => (&*e.name, e.id) > (n.as_str(), cursor.id),
            _ => true,
        }
    }
}

impl SearchIndex {
    /// Ids of the live items that match, in the query's order: at most `limit`.
    pub async fn search(
        &self,
        store: &DynStore,
        household: HouseholdId,
        query: &Query<'_>,
    ) -> StoreResult<Vec<ItemId>> {
        let index = self.household(household);
        Self::refresh(&index, store, household, &[]).await?;
        Self::find(&index, query)
    }

    /// The live items that match, in the query's order, at most `limit`, read from the
    /// database with their primary photos; and how many the index found (some may have
    /// gone from the database meanwhile).
    ///
    /// Once the household's index is loaded this takes one round trip: the index answers
    /// first from what it holds, and the rows it found are read in the same trip as its
    /// refresh. When the refresh brought changes, the index answers again, and only rows
    /// it now finds that were not read yet cost a second trip.
    pub async fn search_shown(
        &self,
        store: &DynStore,
        household: HouseholdId,
        query: &Query<'_>,
    ) -> StoreResult<(Vec<Shown>, usize)> {
        let index = self.household(household);
        let loaded = index.state.read().map_err(poisoned)?.loaded;
        let guess = if loaded {
            Self::find(&index, query)?
        } else {
            Vec::new()
        };
        let (changed, read) = Self::refresh(&index, store, household, &guess).await?;
        let ids = if changed || !loaded {
            Self::find(&index, query)?
        } else {
            guess
        };
        let mut rows: HashMap<ItemId, Shown> = read.into_iter().map(|s| (s.row.id, s)).collect();
        let missing: Vec<ItemId> = ids
            .iter()
            .filter(|id| !rows.contains_key(id))
            .copied()
            .collect();
        if !missing.is_empty() {
            rows.extend(
                store
                    .items_shown(household, &missing)
                    .await?
                    .into_iter()
                    .map(|s| (s.row.id, s)),
            );
        }
        let found = ids.len();
        let mut out = Vec::with_capacity(found);
        for id in ids {
            match rows.remove(&id) {
                Some(shown) if shown.row.deleted_at.is_none() => out.push(shown),
                Some(_) => {}
                None => index.state.write().map_err(poisoned)?.remove(id),
            }
        }
        Ok((out, found))
    }

    /// What the index holds that matches, in the query's order.
    fn find(index: &Household, query: &Query<'_>) -> StoreResult<Vec<ItemId>> {
        if index.state.read().map_err(poisoned)?.stale {
            let mut state = index.state.write().map_err(poisoned)?;
            if state.stale {
                state.rebuild_texts();
            }
        }
        let state = index.state.read().map_err(poisoned)?;
        if query.needle.contains('\0') {
            return Ok(Vec::new());
        }
        let reverse = query.sort == ItemSort::Oldest;
        let candidates: Box<dyn Iterator<Item = &Entry>> = match (query.needle.is_empty(), reverse)
        {
            (true, false) => Box::new(state.entries.iter()),
            (true, true) => Box::new(state.entries.iter().rev()),
            (false, _) => Box::new(
                state
                    .containing(query.needle.as_bytes(), reverse)
                    .into_iter()
                    .map(|i| &state.entries[i]),
            ),
        };
        let hits = candidates.filter(|e| query.after_cursor(e) && query.matches(e));
        let ids = match query.sort {
            ItemSort::Newest | ItemSort::Oldest => hits.take(query.limit).map(|e| e.id).collect(),
            ItemSort::Updated | ItemSort::Name | ItemSort::Deleted => {
                let mut found: Vec<&Entry> = hits.collect();
                let order = |a: &&Entry, b: &&Entry| match query.sort {
                    ItemSort::Name => (&a.name, a.id).cmp(&(&b.name, b.id)),
                    _ => (b.updated, b.id).cmp(&(a.updated, a.id)),
                };
                if found.len() > query.limit {
                    found.select_nth_unstable_by(query.limit, order);
                    found.truncate(query.limit);
                }
                found.sort_unstable_by(order);
                found.into_iter().map(|e| e.id).collect()
            }
        };
        Ok(ids)
    }

    /// Puts an item this process just wrote into the index (when the household's is
    /// loaded), so its next search shows it without waiting for a refresh.
    pub fn note(&self, row: &ItemRow) {
        let Some(index) = self.loaded(row.household_id) else {
            return;
        };
        if let Ok(mut state) = index.state.write() {
            state.upsert(Entry::from(search_entry(row)));
        }
    }

    /// Drops items deleted for good: one, or every trashed one.
    pub fn forget(&self, household: HouseholdId, id: Option<ItemId>) {
        let Some(index) = self.loaded(household) else {
            return;
        };
        if let Ok(mut state) = index.state.write() {
            match id {
                Some(id) => state.remove(id),
                None => {
                    state.entries.retain(|e| !e.trashed);
                    state.stale = true;
                }
            }
        }
    }

    fn loaded(&self, household: HouseholdId) -> Option<Arc<Household>> {
        let map = self.households.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&household).cloned()
    }

    fn household(&self, household: HouseholdId) -> Arc<Household> {
        let mut map = self.households.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(household).or_default().clone()
    }

    /// Reads the rows changed since the newest change the index has read (all of them the
    /// first time) into it, and in the same round trip, once it is loaded, the items `ids`
    /// with their photos. Whether any change came.
    async fn refresh(
        index: &Household,
        store: &DynStore,
        household: HouseholdId,
        ids: &[ItemId],
    ) -> StoreResult<(bool, Vec<Shown>)> {
        // Only the first load waits for another; later refreshes may overlap, since each
        // change is put in only over an older one.
        let _loading = if index.state.read().map_err(poisoned)?.loaded {
            None
        } else {
            Some(index.loading.lock().await)
        };
        let since = {
            let mut state = index.state.write().map_err(poisoned)?;
            let watermark = state.watermark.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            if !state.loaded {
                state.last_sweep = Some(std::time::Instant::now());
                None
            } else if state.last_sweep.is_none_or(|t| t.elapsed() > SWEEP_EVERY) {
                state.last_sweep = Some(std::time::Instant::now());
                Some(watermark - LOOKBACK)
            } else {
                Some(watermark)
            }
        };
        let (changed, read, newest) = match since {
            None => {
                let all = store.search_entries(household, None).await?;
                let newest = all.iter().map(|e| e.updated_at).max();
                (all, Vec::new(), newest)
            }
            Some(since) => {
                // Which items changed, by id and time only: after this process's own
                // writes (already in the index) that is all there is to read.
                let (stamps, read) = store.search_refresh(household, since, ids).await?;
                let newest = stamps.iter().map(|(_, at)| *at).max();
                let unseen = index.state.read().map_err(poisoned)?.unseen(stamps);
                let mut read = read;
                let changed = if unseen.is_empty() {
                    Vec::new()
                } else if unseen.len() <= READ_WHOLE {
                    // A few changes of other processes: read whole, they serve this answer
                    // too if it shows them.
                    let rows = store.items_shown(household, &unseen).await?;
                    let entries = rows.iter().map(|s| search_entry(&s.row)).collect();
                    read.extend(rows);
                    entries
                } else {
                    store.search_entries_of(household, &unseen).await?
                };
                (changed, read, newest)
            }
        };
        let any = !changed.is_empty();
        let mut state = index.state.write().map_err(poisoned)?;
        if let Some(newest) = newest {
            state.watermark = Some(state.watermark.map_or(newest, |w| w.max(newest)));
        }
        if !state.loaded || changed.len() > 256 {
            state.merge(changed);
        } else {
            for entry in changed {
                state.upsert(entry.into());
            }
        }
        state.loaded = true;
        Ok((any, read))
    }
}

/// What the index keeps of an item.
fn search_entry(row: &ItemRow) -> SearchEntry {
    SearchEntry {
        id: row.id,
        text: row.search_text(),
        name_lower: row.fields.name.to_lowercase(),
        location_id: row.fields.location_id,
        tags_lower: row.fields.tags.iter().map(|t| t.to_lowercase()).collect(),
        created_at: row.created_at,
        updated_at: row.updated_at,
        trashed: row.deleted_at.is_some(),
    }
}

fn poisoned<T>(_: T) -> crate::store::StoreError {
    anyhow::anyhow!("the search index lock was poisoned").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(texts: &[&str]) -> State {
        let mut state = State::default();
        for (i, text) in texts.iter().enumerate() {
            state.upsert(Entry {
                created: 1_000 - i as i64,
                id: ItemId::new(),
                updated: 0,
                text: (*text).into(),
                name: "".into(),
                location: None,
                tags: Box::new([]),
                trashed: false,
            });
        }
        state.rebuild_texts();
        state
    }

    #[test]
    fn only_changes_the_index_lacks_are_read_and_older_ones_never_win() {
        let mut s = state(&["red lamp", "blue lamp"]);
        let (a, b) = (s.entries[0].id, s.entries[1].id);
        let at = |micros: i64| OffsetDateTime::UNIX_EPOCH + Duration::microseconds(micros);
        // Both entries were written at 0: a stamp at 0 is known, a later one is not, nor is
        // an item the index has never seen.
        let stranger = ItemId::new();
        let mut unseen = s.unseen(vec![(a, at(0)), (b, at(5)), (stranger, at(1))]);
        unseen.sort();
        let mut expected = vec![b, stranger];
        expected.sort();
        assert_eq!(unseen, expected);
        // A refresh that read an older change finishes after one that read a newer one.
        let entry = |id, text: &str, updated| Entry {
            created: 1_000,
            id,
            updated,
            text: text.into(),
            name: "".into(),
            location: None,
            tags: Box::new([]),
            trashed: false,
        };
        s.upsert(entry(a, "green lamp", 9));
        s.upsert(entry(a, "purple lamp", 4));
        s.rebuild_texts();
        assert_eq!(s.containing(b"green", false).len(), 1);
        assert!(s.containing(b"purple", false).is_empty());
    }

    #[test]
    fn matches_stay_inside_one_item_and_come_in_either_order() {
        let s = state(&["red lamp", "lamp\nblue", "green", "amp"]);
        assert_eq!(s.containing(b"amp", false), vec![0, 1, 3]);
        assert_eq!(s.containing(b"amp", true), vec![3, 1, 0]);
        // "lamp" + "lamp": the end of one text and the start of the next never join.
        assert!(s.containing(b"lamplamp", false).is_empty());
        assert!(s.containing(b"pgreen", false).is_empty());
        assert_eq!(s.containing(b"green", true), vec![2]);
        assert_eq!(s.containing(b"lamp\nblue", false), vec![1]);
    }
}

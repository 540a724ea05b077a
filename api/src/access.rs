//! What nearly every request asks the database before its own question (whose session or
//! API token it carries, the caller's role in the household, the household's location tree)
//! kept in the process for a few seconds, so that a simple request costs one round trip.
//! Where the database is across a network (Aurora DSQL from a Lambda), each trip saved is a
//! millisecond or more.
//!
//! - This process's own changes take effect at once: every write that could change a kept
//!   answer forgets it (signing out, changing the password, revoking a token, changing a
//!   member's role, removing a member, editing the household, any change to its locations).
//! - Another process's changes (another Lambda instance, a second server on the same
//!   database) take effect here within [`FRESH_FOR`]: a session signed out or a token revoked
//!   elsewhere is refused here at most that long after, and likewise a member removed or
//!   demoted, and a location renamed, moved or added (an item given a location this process
//!   does not know yet makes it read the tree again rather than refuse it).
//! - Only what exists is kept: an unknown session or token, or someone who is not a member,
//!   asks the database every time, so a new session, token or membership works at once
//!   everywhere.
//! - An answer read from the database while a write in this process forgets it is not kept
//!   (each map has a generation the write moves on), so a sign-out can't be undone by a
//!   request that was reading the session at the same moment.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::{HouseholdId, Role, User, UserId};
use time::OffsetDateTime;

use crate::routes::locations::Tree;
use crate::store::{ApiTokenRow, DynStore, HouseholdRow, SessionRow, StoreResult};

/// How long another process's change may go unseen here.
pub const FRESH_FOR: Duration = Duration::from_secs(5);
/// Entries a map holds before the stale ones are dropped (and, if all are fresh, all): a
/// few hundred bytes each, so a few MiB at most.
const MAX_ENTRIES: usize = 10_000;
/// Location trees kept: up to a few hundred KiB each (500 locations), 256 of them.
const MAX_TREES: usize = 256;

pub struct Access {
    sessions: Fresh<Vec<u8>, (SessionRow, User)>,
    tokens: Fresh<Vec<u8>, (ApiTokenRow, User)>,
    memberships: Fresh<(UserId, HouseholdId), (HouseholdRow, Role)>,
    trees: Fresh<HouseholdId, Arc<Tree>>,
}

impl Default for Access {
    fn default() -> Self {
        Self {
            sessions: Fresh::new(MAX_ENTRIES),
            tokens: Fresh::new(MAX_ENTRIES),
            memberships: Fresh::new(MAX_ENTRIES),
            trees: Fresh::new(MAX_TREES),
        }
    }
}

impl Access {
    /// The live session with that token hash and its user.
    pub async fn session(
        &self,
        store: &DynStore,
        hash: &[u8],
        now: OffsetDateTime,
    ) -> StoreResult<Option<(SessionRow, User)>> {
        if let Some(found) = self.sessions.get(hash)
            && found.0.expires_at > now
        {
            return Ok(Some(found));
        }
        let generation = self.sessions.generation();
        let members = self.memberships.generation();
        let Some((session, user, households)) = store.session_access(hash, now).await? else {
            return Ok(None);
        };
        for (household, role) in households {
            self.memberships
                .put((user.id, household.id), (household, role), members);
        }
        let found = (session, user);
        self.sessions.put(hash.to_vec(), found.clone(), generation);
        Ok(Some(found))
    }

    /// The session now ends at `expires_at`, and was used at `used_at`.
    pub fn session_extended(
        &self,
        hash: &[u8],
        expires_at: OffsetDateTime,
        used_at: OffsetDateTime,
    ) {
        self.sessions.update(hash, |(session, _)| {
            session.expires_at = expires_at;
            session.last_used_at = Some(used_at);
        });
    }

    /// The API token with that secret hash and its owner.
    pub async fn token(
        &self,
        store: &DynStore,
        hash: &[u8],
    ) -> StoreResult<Option<(ApiTokenRow, User)>> {
        if let Some(found) = self.tokens.get(hash) {
            return Ok(Some(found));
        }
        let generation = self.tokens.generation();
        let found = store.api_token_by_hash(hash).await?;
        if let Some(found) = &found {
            self.tokens.put(hash.to_vec(), found.clone(), generation);
        }
        Ok(found)
    }

    /// The token's last use was recorded at `at`.
    pub fn token_used(&self, hash: &[u8], at: OffsetDateTime) {
        self.tokens
            .update(hash, |(token, _)| token.last_used_at = Some(at));
    }

    /// Forgets every session and token: one was ended, a password changed, a token revoked.
    pub fn forget_credentials(&self) {
        self.sessions.clear();
        self.tokens.clear();
    }

    /// The household and the user's role in it, if they are a member.
    pub async fn membership(
        &self,
        store: &DynStore,
        household: HouseholdId,
        user: UserId,
    ) -> StoreResult<Option<(HouseholdRow, Role)>> {
        let key = (user, household);
        if let Some(found) = self.memberships.get(&key) {
            return Ok(Some(found));
        }
        let generation = self.memberships.generation();
        let found = store.membership(household, user).await?;
        if let Some(found) = &found {
            self.memberships.put(key, found.clone(), generation);
        }
        Ok(found)
    }

    /// Forgets every membership: a role changed, a member left, a household was edited.
    pub fn forget_memberships(&self) {
        self.memberships.clear();
    }

    /// The household's location tree.
    pub async fn tree(&self, store: &DynStore, household: HouseholdId) -> StoreResult<Arc<Tree>> {
        if let Some(tree) = self.trees.get(&household) {
            return Ok(tree);
        }
        self.load_tree(store, household).await
    }

    /// The household's location tree as the database has it now.
    pub async fn load_tree(
        &self,
        store: &DynStore,
        household: HouseholdId,
    ) -> StoreResult<Arc<Tree>> {
        let generation = self.trees.generation();
        let tree = Arc::new(Tree::new(store.locations(household).await?));
        self.trees.put(household, tree.clone(), generation);
        Ok(tree)
    }

    /// Forgets the household's tree: one of its locations changed.
    pub fn forget_tree(&self, household: HouseholdId) {
        self.trees.remove(&household);
    }
}

/// A map whose entries are good for `FRESH_FOR`.
struct Fresh<K, V> {
    inner: Mutex<Entries<K, V>>,
}

struct Entries<K, V> {
    map: HashMap<K, (Instant, V)>,
    /// Moved on by every removal, so an answer read before it is not kept after it.
    generation: u64,
    /// Entries held before the stale ones are dropped.
    cap: usize,
}

impl<K, V> Fresh<K, V> {
    fn new(cap: usize) -> Self {
        Self {
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                generation: 0,
                cap,
            }),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Fresh<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.lock();
        match entries.map.get(key) {
            Some((at, value)) if at.elapsed() < FRESH_FOR => Some(value.clone()),
            Some(_) => {
                entries.map.remove(key);
                None
            }
            None => None,
        }
    }

    /// The generation to hand to `put` for an answer about to be read.
    fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Keeps `value`, read when the generation was `generation`, unless something was
    /// forgotten since.
    fn put(&self, key: K, value: V, generation: u64) {
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.map.len() >= entries.cap {
            entries.map.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
            if entries.map.len() >= entries.cap {
                entries.map.clear();
            }
        }
        entries.map.insert(key, (Instant::now(), value));
    }

    /// Changes a kept value without making it any fresher.
    fn update<Q>(&self, key: &Q, change: impl FnOnce(&mut V))
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some((_, value)) = self.lock().map.get_mut(key) {
            change(value);
        }
    }

    fn remove(&self, key: &K) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.remove(key);
    }

    fn clear(&self) {
        let mut entries = self.lock();
        entries.generation += 1;
        entries.map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_read_before_a_removal_is_not_kept() {
        let fresh: Fresh<u8, &str> = Fresh::new(MAX_ENTRIES);
        let before = fresh.generation();
        fresh.clear();
        fresh.put(1, "signed in", before);
        assert_eq!(fresh.get(&1), None);
        let now = fresh.generation();
        fresh.put(1, "signed in", now);
        assert_eq!(fresh.get(&1), Some("signed in"));
        fresh.remove(&1);
        assert_eq!(fresh.get(&1), None);
    }

    #[test]
    fn a_full_map_drops_what_it_holds_rather_than_grow() {
        let fresh: Fresh<usize, ()> = Fresh::new(MAX_TREES);
        for i in 0..=MAX_TREES {
            fresh.put(i, (), 0);
        }
        assert!(fresh.lock().map.len() <= MAX_TREES);
        assert_eq!(fresh.get(&MAX_TREES), Some(()));
    }
}

//! The rules of a household's location tree, over parent links alone.
//!
//! Every walk is a loop with a set of the locations it has passed, never a recursion, so a
//! cycle already in the data (written before these checks ran inside the write, or by hand)
//! can neither hang a request nor overflow the stack. The routes check a change against
//! the tree they loaded, for a quick answer; each backend checks it again inside its write
//! transaction on the household's current links, so two concurrent moves (A under B, B
//! under A) can't both pass.

use std::collections::{HashMap, HashSet};

use shared::LocationId;

use super::{StoreError, StoreResult};

/// Deeper than any house needs; keeps paths readable and walks cheap.
pub const MAX_DEPTH: usize = 32;

/// A household's locations as parent links, indexed both ways.
#[derive(Clone, Debug, Default)]
pub struct Links {
    parent: HashMap<LocationId, Option<LocationId>>,
    children: HashMap<LocationId, Vec<LocationId>>,
}

impl Links {
    pub fn new(links: impl IntoIterator<Item = (LocationId, Option<LocationId>)>) -> Self {
        let mut out = Self::default();
        for (id, parent) in links {
            out.parent.insert(id, parent);
            if let Some(parent) = parent {
                out.children.entry(parent).or_default().push(id);
            }
        }
        out
    }

    pub fn contains(&self, id: LocationId) -> bool {
        self.parent.contains_key(&id)
    }

    /// `id`, its parent, its grandparent… up to a root; empty for an unknown `id`. The walk
    /// ends at a location whose parent is missing, and before a location it has already
    /// passed (a cycle): such a location counts as a root.
    pub fn ancestors(&self, id: LocationId) -> Vec<LocationId> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut next = Some(id);
        while let Some(at) = next {
            let Some(parent) = self.parent.get(&at) else {
                break;
            };
            if !seen.insert(at) {
                break;
            }
            out.push(at);
            next = *parent;
        }
        out
    }

    /// `id` and every location below it, each once.
    pub fn subtree(&self, id: LocationId) -> Vec<LocationId> {
        let mut out = vec![id];
        let mut seen = HashSet::from([id]);
        let mut i = 0;
        while let Some(at) = out.get(i).copied() {
            for kid in self.children.get(&at).into_iter().flatten() {
                if seen.insert(*kid) {
                    out.push(*kid);
                }
            }
            i += 1;
        }
        out
    }

    /// How many levels hang below `id`: 0 for a location with nothing inside.
    pub fn depth_below(&self, id: LocationId) -> usize {
        let mut seen = HashSet::from([id]);
        let mut level = vec![id];
        let mut depth = 0;
        loop {
            let next: Vec<LocationId> = level
                .iter()
                .flat_map(|at| self.children.get(at).into_iter().flatten())
                .copied()
                .filter(|kid| seen.insert(*kid))
                .collect();
            if next.is_empty() {
                return depth;
            }
            depth += 1;
            level = next;
        }
    }

    /// Whether `id` may hang under `parent`, as a message for the `parent_id` field.
    pub fn check_parent(&self, id: LocationId, parent: Option<LocationId>) -> Result<(), String> {
        let Some(parent) = parent else {
            return Ok(());
        };
        if !self.contains(parent) {
            return Err("is not a location of this household".into());
        }
        let above = self.ancestors(parent);
        if above.contains(&id) {
            return Err("would put the location inside itself".into());
        }
        if above.len() + 1 + self.depth_below(id) > MAX_DEPTH {
            return Err(format!("locations can be nested at most {MAX_DEPTH} deep"));
        }
        Ok(())
    }

    /// The check a backend runs inside its write transaction before it stores `id` under
    /// `parent`. A location that keeps its parent passes whatever the data holds, so a
    /// rename is never refused for an old cycle.
    pub fn check_write(&self, id: LocationId, parent: Option<LocationId>) -> StoreResult<()> {
        if self.parent.get(&id) == Some(&parent) {
            return Ok(());
        }
        self.check_parent(id, parent)
            .map_err(|message| StoreError::Invalid {
                field: "parent_id",
                message,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids<const N: usize>() -> [LocationId; N] {
        std::array::from_fn(|_| LocationId::new())
    }

    #[test]
    fn a_tree_walks_up_and_down() {
        let [house, garage, shelf, attic] = ids();
        let links = Links::new([
            (house, None),
            (garage, Some(house)),
            (shelf, Some(garage)),
            (attic, Some(house)),
        ]);
        assert_eq!(links.ancestors(shelf), vec![shelf, garage, house]);
        let mut below = links.subtree(house);
        below.sort();
        let mut all = vec![house, garage, shelf, attic];
        all.sort();
        assert_eq!(below, all);
        assert_eq!(links.depth_below(house), 2);
        assert_eq!(links.depth_below(shelf), 0);
        assert!(links.check_parent(attic, Some(shelf)).is_ok());
        assert!(links.check_parent(house, Some(shelf)).is_err());
        assert!(links.check_parent(garage, Some(garage)).is_err());
        assert!(links.check_parent(garage, Some(LocationId::new())).is_err());
        assert!(links.check_write(shelf, Some(garage)).is_ok());
    }

    #[test]
    fn nesting_deeper_than_the_limit_is_refused() {
        let chain: Vec<LocationId> = (0..MAX_DEPTH).map(|_| LocationId::new()).collect();
        let mut pairs = vec![(chain[0], None)];
        pairs.extend(chain.windows(2).map(|w| (w[1], Some(w[0]))));
        let [loose] = ids();
        pairs.push((loose, None));
        let links = Links::new(pairs);
        assert_eq!(links.ancestors(chain[MAX_DEPTH - 1]).len(), MAX_DEPTH);
        let refused = links
            .check_parent(loose, chain.last().copied())
            .unwrap_err();
        assert!(refused.contains("at most 32"), "{refused}");
        assert!(
            links
                .check_parent(loose, Some(chain[MAX_DEPTH - 2]))
                .is_ok()
        );
    }

    #[test]
    fn every_walk_ends_on_a_cycle_and_on_a_missing_parent() {
        // a → b → c → a, d under c, e under a location that is gone.
        let [a, b, c, d, e, gone] = ids();
        let links = Links::new([
            (a, Some(c)),
            (b, Some(a)),
            (c, Some(b)),
            (d, Some(c)),
            (e, Some(gone)),
        ]);
        assert_eq!(links.ancestors(a), vec![a, c, b]);
        assert_eq!(links.ancestors(d), vec![d, c, b, a]);
        assert_eq!(links.ancestors(e), vec![e]);
        assert_eq!(links.ancestors(gone), Vec::<LocationId>::new());
        assert_eq!(links.subtree(a).len(), 4);
        assert_eq!(links.depth_below(a), 3);
        assert_eq!(links.depth_below(e), 0);
        // Nothing may join the cycle, a rename inside it passes, and a move out of it is
        // how it gets mended.
        assert!(links.check_parent(e, Some(d)).is_ok());
        assert!(links.check_parent(a, Some(d)).is_err());
        assert!(links.check_write(a, Some(c)).is_ok());
        assert!(links.check_write(a, None).is_ok());
        assert!(links.check_write(a, Some(e)).is_ok());
    }
}

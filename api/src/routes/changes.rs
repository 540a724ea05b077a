//! The changes feed (`GET …/changes`): what changed in a household since a cursor, so the
//! offline app keeps its local copy current without reading everything again.
//!
//! A sync is a run of pages, a pass. Each page holds the `limit` oldest changes after the
//! cursor across items, locations and removals; each kind goes on by keyset from where it
//! stopped, with one read per page: items in the `items_updated` index, locations from the
//! household's tree (which the items' paths need anyway), removals in their table's key.
//!
//! The last page of a pass (`more: false`) hands out a caught-up cursor. On PostgreSQL and
//! Aurora DSQL a write can commit after one stamped later, up to `search::LOOKBACK` later,
//! so a keyset that has gone past a time can still miss a row stamped before it. The
//! caught-up cursor therefore re-reads items and locations from `LOOKBACK` before the
//! newest change the pass saw, or before the pass began if that is earlier (a long first
//! sync goes past rows that commit while it runs), and removals from `LOOKBACK` before the
//! pass began. Whatever was stamped earlier than that had committed when the pass began and
//! was read by it. Clients keep the copy with the highest `version`.
//!
//! Removals are kept `RETENTION`: a cursor whose removals position is older answers 410,
//! and the client syncs from scratch.

use std::collections::HashSet;

use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use shared::{Changes, ErrorBody, HouseholdId, ItemId, Removed};
use time::{Duration, OffsetDateTime};
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::attachments;
use super::items::item_dto;
use super::locations::{Tree, location_dto};
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppPath, AppQuery};
use crate::search::LOOKBACK;
use crate::store::{
    ItemRow, LocationRow, RemovalKey, RemovalKind, RemovalRow, from_micros, micros, now,
};

/// Changes per page when `limit` is absent, and the most a page may ask for.
const DEFAULT_LIMIT: usize = 500;
const MAX_LIMIT: usize = 1_000;
/// How long removals are kept: a cursor older than this can't be continued.
pub const RETENTION: Duration = Duration::days(90);
/// Removals are deleted a day after a cursor stops reaching them, so a clock a little
/// ahead in one process never prunes what another still promises.
const PRUNE_AFTER: Duration = Duration::days(91);
/// Removals pruned per transaction (Aurora DSQL: ≤ 3,000 rows a transaction).
const PRUNE_CHUNK: usize = 1_000;
/// The cursor's format; another one is refused as malformed.
const CURSOR_VERSION: u8 = 1;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(list_changes))
}

/// Deletes removals older than the feed keeps, a chunk at a time, after something was
/// deleted for good. A failure only leaves them for the next time.
pub(crate) async fn prune_removals(state: &AppState, household: HouseholdId) {
    let before = now() - PRUNE_AFTER;
    if let Err(e) = state
        .store
        .prune_removals(household, before, PRUNE_CHUNK)
        .await
    {
        tracing::warn!(error = %e, "pruning old removals failed; the next deletion tries again");
    }
}

/// The cursor as sent: base64url of this JSON. Short names keep it short.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireCursor {
    v: u8,
    /// The household it was handed out for.
    h: Uuid,
    /// When the pass began (µs); absent in a caught-up cursor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    p: Option<i64>,
    /// Items go on after `(updated_at µs, id)`; absent: from the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    i: Option<(i64, Uuid)>,
    /// Locations, the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    l: Option<(i64, Uuid)>,
    /// Removals go on after `(removed_at µs, kind, id)`.
    r: (i64, String, Uuid),
    /// The newest item and location change the pass has seen (µs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ni: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nl: Option<i64>,
}

/// Where a sync stands.
#[derive(Clone, Debug, PartialEq)]
struct Position {
    /// When the pass began; `None` in a caught-up cursor, whose next call begins one.
    pass: Option<OffsetDateTime>,
    items: Option<(OffsetDateTime, Uuid)>,
    locations: Option<(OffsetDateTime, Uuid)>,
    removed: RemovalKey,
    newest_item: Option<OffsetDateTime>,
    newest_location: Option<OffsetDateTime>,
}

impl Position {
    /// A first sync beginning at `at`: every item and location, and what is removed while
    /// it runs (a copy made from nothing needs no earlier removals).
    fn first(at: OffsetDateTime) -> Self {
        Self {
            pass: Some(at),
            items: None,
            locations: None,
            removed: RemovalKey {
                at: at - LOOKBACK,
                kind: String::new(),
                id: Uuid::nil(),
            },
            newest_item: None,
            newest_location: None,
        }
    }

    /// The cursor that re-reads the overlap after a pass that began at `pass` ended.
    fn caught_up(&self, pass: OffsetDateTime) -> Self {
        let overlap = |newest: Option<OffsetDateTime>, at: Option<(OffsetDateTime, Uuid)>| {
            newest.map(|n| (n.min(pass) - LOOKBACK, Uuid::nil())).or(at)
        };
        Self {
            pass: None,
            items: overlap(self.newest_item, self.items),
            locations: overlap(self.newest_location, self.locations),
            removed: RemovalKey {
                at: pass - LOOKBACK,
                kind: String::new(),
                id: Uuid::nil(),
            },
            newest_item: None,
            newest_location: None,
        }
    }

    fn encode(&self, household: HouseholdId) -> String {
        let wire = WireCursor {
            v: CURSOR_VERSION,
            h: household.as_uuid(),
            p: self.pass.map(micros),
            i: self.items.map(|(t, id)| (micros(t), id)),
            l: self.locations.map(|(t, id)| (micros(t), id)),
            r: (
                micros(self.removed.at),
                self.removed.kind.clone(),
                self.removed.id,
            ),
            ni: self.newest_item.map(micros),
            nl: self.newest_location.map(micros),
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    fn decode(raw: &str, household: HouseholdId) -> ApiResult<Self> {
        let malformed = || {
            ApiError::BadRequest(
                "since is not a cursor this feed handed out; sync from scratch without it".into(),
            )
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| malformed())?;
        let wire: WireCursor = serde_json::from_slice(&bytes).map_err(|_| malformed())?;
        if wire.v != CURSOR_VERSION {
            return Err(malformed());
        }
        if wire.h != household.as_uuid() {
            return Err(ApiError::BadRequest(
                "since is a cursor of another household's feed; sync this one from scratch \
                 without it"
                    .into(),
            ));
        }
        let time = |v: i64| from_micros(v).ok_or_else(malformed);
        let key = |k: Option<(i64, Uuid)>| {
            k.map(|(t, id)| Ok::<_, ApiError>((time(t)?, id)))
                .transpose()
        };
        let (removed_at, kind, id) = wire.r;
        if ![
            "",
            RemovalKind::Item.as_str(),
            RemovalKind::Location.as_str(),
        ]
        .contains(&kind.as_str())
        {
            return Err(malformed());
        }
        Ok(Self {
            pass: wire.p.map(time).transpose()?,
            items: key(wire.i)?,
            locations: key(wire.l)?,
            removed: RemovalKey {
                at: time(removed_at)?,
                kind,
                id,
            },
            newest_item: wire.ni.map(time).transpose()?,
            newest_location: wire.nl.map(time).transpose()?,
        })
    }
}

/// The kinds of change, in the order a page puts those of one time.
const ITEM: u8 = 0;
const LOCATION: u8 = 1;
const REMOVAL: u8 = 2;

/// How many of each kind (items, locations, removals; each oldest first) the `limit` oldest
/// changes of all of them hold. Each kind's share is where it goes on from.
fn page_shares(
    items: &[ItemRow],
    locations: &[&LocationRow],
    removals: &[RemovalRow],
    limit: usize,
) -> [usize; 3] {
    // Each kind keeps its own order (its place in its list breaks ties of time).
    let mut keys: Vec<(OffsetDateTime, u8, usize)> = items
        .iter()
        .enumerate()
        .map(|(n, r)| (r.updated_at, ITEM, n))
        .chain(
            locations
                .iter()
                .enumerate()
                .map(|(n, r)| (r.updated_at, LOCATION, n)),
        )
        .chain(
            removals
                .iter()
                .enumerate()
                .map(|(n, r)| (r.removed_at, REMOVAL, n)),
        )
        .collect();
    keys.sort_unstable();
    let mut shares = [0; 3];
    for (_, kind, _) in keys.iter().take(limit) {
        shares[usize::from(*kind)] += 1;
    }
    shares
}

/// The household's locations changed after `after`, oldest change first: at most `limit`.
fn changed_locations(
    tree: &Tree,
    after: Option<(OffsetDateTime, Uuid)>,
    limit: usize,
) -> Vec<&LocationRow> {
    let mut rows: Vec<&LocationRow> = tree
        .rows()
        .filter(|r| after.is_none_or(|a| (r.updated_at, r.id.as_uuid()) > a))
        .collect();
    rows.sort_by_key(|r| (r.updated_at, r.id.as_uuid()));
    rows.truncate(limit);
    rows
}

/// `limit`: 1 to 1,000, 500 when absent.
fn parse_limit(raw: Option<&str>) -> ApiResult<usize> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=MAX_LIMIT as i64).contains(&n) => Ok(n as usize),
        Ok(_) => Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        ))),
        Err(_) => Err(ApiError::BadRequest("limit must be a whole number".into())),
    }
}

/// Where `GET …/changes` starts and how much it answers.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ChangesParams {
    /// Where to go on from: the `next_cursor` of the answer before. Absent: a first sync,
    /// from scratch.
    since: Option<String>,
    /// Changes per page (items, locations and removed ids together), 1 to 1,000; 500 when
    /// absent.
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
}

#[utoipa::path(
    get,
    path = "/households/{hid}/changes",
    tag = "Sync",
    summary = "What changed since a cursor",
    description = "Keeps a local copy of the household (the offline app's) current: \
        items (trashed ones too, with `deleted_at`), locations, and the ids of what was \
        deleted for good, oldest change first, `limit` changes a page counting items, \
        locations and removed ids together.\n\n\
        **First sync:** call without `since`; every item and location comes once. While \
        `more` is true, call again at once with `next_cursor`: it goes on exactly where \
        the page ended.\n\n\
        **Caught up:** with `more: false`, `next_cursor` is a caught-up cursor: keep it and \
        call with it later. That call re-reads an overlap: items and locations changed from \
        60 s before the newest change seen (or before that sync began, if earlier), and \
        removals from 60 s before that sync began, because on PostgreSQL and Aurora DSQL a \
        write can commit after a later-stamped one. So an item or location can come again: \
        keep the copy with the highest `version`.\n\n\
        **Removals:** `removed` lists items purged from the trash and locations deleted \
        since the cursor: drop them, after applying the answer's `items` and `locations`. \
        Each is gone when the answer is made (an id made again since is not listed). Moving an item to the trash is a change like any \
        other: the item comes with `deleted_at` set, and without it when restored.\n\n\
        **Retention:** removals are kept 90 days. A cursor older than that answers 410 \
        `resync_required`: drop the copy and sync again without `since`.\n\n\
        **Derived fields** (`path` and `item_count` of a location, `location_path` of an \
        item) are as of the answer: renaming a location or moving an item does not send \
        again the rows whose derived fields it changes, so compute them from `parent_id` \
        and `location_id` in the copy. `thumbnail_url` is signed and short-lived, as in \
        the item list: fetch the thumbnails to keep soon after.\n\n\
        The cursor is opaque; one this feed did not hand out for this household answers \
        400.",
    params(("hid" = HouseholdId, Path, description = "The household"), ChangesParams),
    responses(
        (status = 200, description = "A page of changes", body = Changes),
        (status = 400, description = "A malformed `limit`, or a `since` that is not a cursor \
            this feed handed out for this household", body = ErrorBody),
        (status = 410, description = "`since` is older than removals are kept (90 days): \
            `resync_required`; drop the local copy and sync again without `since`",
            body = ErrorBody),
    ),
)]
async fn list_changes(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppQuery(params): AppQuery<ChangesParams>,
) -> ApiResult<Json<Changes>> {
    auth::member(&state, &user, hid).await?;
    let limit = parse_limit(params.limit.as_deref())?;
    let at = now();
    let mut position = match params.since.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Position::decode(raw, hid)?,
        None => Position::first(at),
    };
    if position.removed.at < at - RETENTION {
        return Err(ApiError::ResyncRequired(
            "this cursor is older than the 90 days removals are kept; drop the local copy \
             and sync from scratch without since"
                .into(),
        ));
    }
    let pass = position.pass.unwrap_or(at);
    if position.pass.is_none() {
        // A caught-up cursor: a new pass begins now.
        position.pass = Some(pass);
        position.newest_item = None;
        position.newest_location = None;
    }

    // One more of each kind than a page holds tells whether more are waiting.
    let after_item = position.items.map(|(t, id)| (t, ItemId::from(id)));
    let (tree, items, removals) = tokio::try_join!(
        Tree::load(&state, hid),
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .changed_items(hid, after_item, limit + 1)
                    .await?,
            )
        },
        async {
            Ok::<_, ApiError>(
                state
                    .store
                    .removals(hid, &position.removed, limit + 1)
                    .await?,
            )
        },
    )?;
    let locations = changed_locations(&tree, position.locations, limit + 1);

    // Each kind read up to `limit + 1`: when all of them fit in the page, each kind is done.
    let (mut items, mut locations, mut removals) = (items, locations, removals);
    let more = items.len() + locations.len() + removals.len() > limit;
    let [n_items, n_locations, n_removals] = page_shares(&items, &locations, &removals, limit);
    items.truncate(n_items);
    locations.truncate(n_locations);
    removals.truncate(n_removals);
    if let Some(last) = items.last() {
        position.items = Some((last.updated_at, last.id.as_uuid()));
        position.newest_item = position.newest_item.max(Some(last.updated_at));
    }
    if let Some(last) = locations.last() {
        position.locations = Some((last.updated_at, last.id.as_uuid()));
        position.newest_location = position.newest_location.max(Some(last.updated_at));
    }
    if let Some(last) = removals.last() {
        position.removed = RemovalKey {
            at: last.removed_at,
            kind: last.kind.as_str().to_string(),
            id: last.id,
        };
    }

    let removed = gone(&state, hid, &tree, removals).await?;
    let mut items: Vec<_> = items.into_iter().map(|r| item_dto(r, &tree)).collect();
    if !items.is_empty() {
        attachments::add_thumbnails(&state, hid, &mut items).await?;
    }
    let locations = if locations.is_empty() {
        Vec::new()
    } else {
        let counts = state.store.location_item_counts(hid).await?;
        locations
            .into_iter()
            .map(|r| location_dto(&tree, r, &counts))
            .collect()
    };
    let next = if more {
        position
    } else {
        position.caught_up(pass)
    };
    Ok(Json(Changes {
        items,
        locations,
        removed,
        next_cursor: next.encode(hid),
        more,
    }))
}

/// The removals of a page whose ids are still gone: an id made again since (a client-made
/// id sent again) is live, and its row comes as a change instead.
async fn gone(
    state: &AppState,
    household: HouseholdId,
    tree: &Tree,
    removals: Vec<RemovalRow>,
) -> ApiResult<Removed> {
    let item_ids: Vec<ItemId> = removals
        .iter()
        .filter(|r| r.kind == RemovalKind::Item)
        .map(|r| ItemId::from(r.id))
        .collect();
    let live: HashSet<ItemId> = if item_ids.is_empty() {
        HashSet::new()
    } else {
        state
            .store
            .items_by_ids(household, &item_ids)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect()
    };
    let mut removed = Removed::default();
    for row in removals {
        match row.kind {
            RemovalKind::Item if !live.contains(&ItemId::from(row.id)) => {
                removed.items.push(row.id.into());
            }
            RemovalKind::Location if tree.get(row.id.into()).is_none() => {
                removed.locations.push(row.id.into());
            }
            _ => {}
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000 + seconds)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    #[test]
    fn a_cursor_survives_its_round_trip_and_belongs_to_one_household() {
        let household = HouseholdId::new();
        let position = Position {
            pass: Some(at(100)),
            items: Some((at(5), Uuid::now_v7())),
            locations: None,
            removed: RemovalKey {
                at: at(40),
                kind: "item".into(),
                id: Uuid::now_v7(),
            },
            newest_item: Some(at(5)),
            newest_location: None,
        };
        let raw = position.encode(household);
        assert_eq!(Position::decode(&raw, household).ok(), Some(position));
        assert!(Position::decode(&raw, HouseholdId::new()).is_err());
        for bad in ["", "not a cursor", "e30", &raw[1..]] {
            assert!(Position::decode(bad, household).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_caught_up_cursor_reaches_back_from_the_newest_change_or_the_pass_start() {
        let mut position = Position::first(at(1_000));
        position.newest_item = Some(at(500));
        position.items = Some((at(500), Uuid::now_v7()));
        position.newest_location = Some(at(2_000));
        position.locations = Some((at(2_000), Uuid::now_v7()));
        let next = position.caught_up(at(1_000));
        assert_eq!(next.pass, None);
        assert_eq!(next.items, Some((at(440), Uuid::nil())));
        // Newer than the pass start: a write that began before the pass may commit late.
        assert_eq!(next.locations, Some((at(940), Uuid::nil())));
        assert_eq!(next.removed.at, at(940));
        // Nothing seen of a kind: it goes on from where it was.
        let empty = Position::first(at(1_000)).caught_up(at(1_000));
        assert_eq!(empty.items, None);
    }

    #[test]
    fn limits_outside_1_to_1000_are_refused() {
        assert_eq!(parse_limit(None).ok(), Some(500));
        assert_eq!(parse_limit(Some("1000")).ok(), Some(1000));
        for bad in ["0", "1001", "-1", "ten", ""] {
            assert!(parse_limit(Some(bad)).is_err(), "{bad:?}");
        }
    }
}

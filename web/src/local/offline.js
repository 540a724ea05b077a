// This device's copy of each household opened here, and the outbox of changes the server
// does not have yet: the layer beneath the app's `api.rs`.
//
// Plain JavaScript rather than Rust: records stay the browser's own objects from the
// network to IndexedDB and back (no decoding of 100,000 items into wasm memory), and the
// app's gzipped wasm budget has no room for a second copy of its JSON, map and sort code.
// Rust calls the exported functions (bindings in `local/mod.rs`) with JSON text, and reads
// JSON text back in the API's own shapes.
//
// One IndexedDB database per person (`home-inventory-<user id>`), deleted on signing out:
//   items, locations   key "<household>/<id>", the server's record as it answered it
//   meta               "cursor/<household>": where the changes feed goes on from
//   outbox             auto-numbered: the changes, oldest first
//   thumbs             "<household>/<item id>": the primary photo's thumbnail, within a
//                      budget, so lists show pictures offline
//   shots              "<household>/<shot id>": the capture page's shots and their bytes,
//                      until each is added to an item or thrown away
//
// The copy holds what the server said. The outbox's waiting changes are put on top
// whenever something is read, so a change made offline shows at once and the server's
// answer replaces it once sent.

const API = "/api/v1";
const VERSION = 3;
const SYNC_PAGE = 1000;
// Thumbnails kept for offline lists: the newest items' first, up to either limit.
const THUMB_COUNT = 3000;
const THUMB_BYTES = 64 * 1024 * 1024;
// How long a page waits for the server before showing its change as kept for later.
const WAIT_MS = 15000;

let user = null;
let dbPromise = null;
const copies = new Map(); // household -> { items: Map(id -> Entry), locations: Map, synced }
let entries = []; // the outbox, oldest first
let sending = "idle"; // idle | busy | retrying | signin
let progress = null; // [household, changes downloaded] during a first download
let notice = null;
let failures = 0;
let retryTimer = null;
let running = false;
let again = false;
const waiters = new Map(); // outbox key -> resolve
const syncing = new Map(); // household -> its sync under way
const listeners = new Map();
let nextListener = 1;

// ---------------------------------------------------------------- small helpers

const key = (hid, id) => `${hid}/${id}`;
const range = (hid) => IDBKeyRange.bound(`${hid}/`, `${hid}/\uffff`);
const now = () => new Date().toISOString();
const time = (iso) => (iso ? Date.parse(iso) : 0);
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

function changed() {
  for (const callback of listeners.values()) {
    try {
      callback();
    } catch {
      // A listener that fails must not stop the others.
    }
  }
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

function open() {
  if (!user || typeof indexedDB === "undefined") return Promise.resolve(null);
  if (!dbPromise) {
    const name = `home-inventory-${user}`;
    dbPromise = new Promise((resolve) => {
      const req = indexedDB.open(name, VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const store of ["items", "locations", "meta", "thumbs", "shots"]) {
          if (!db.objectStoreNames.contains(store)) db.createObjectStore(store);
        }
        if (!db.objectStoreNames.contains("outbox")) {
          db.createObjectStore("outbox", { autoIncrement: true });
        }
      };
      req.onsuccess = () => {
        const db = req.result;
        // Another tab deleting it (signing out) must not wait on this one; iOS closes
        // connections of an app sent to the background: the next use opens it again.
        db.onversionchange = () => {
          db.close();
          dbPromise = null;
        };
        db.onclose = () => {
          dbPromise = null;
        };
        resolve(db);
      };
      // Private windows of some browsers have no IndexedDB: the app works online only.
      req.onerror = () => {
        dbPromise = null;
        resolve(null);
      };
    });
  }
  return dbPromise;
}

/** Runs `work(db)`, opening the database again once if it was closed underneath. */
async function withDb(work) {
  for (let attempt = 0; attempt < 2; attempt++) {
    const db = await open();
    if (!db) return null;
    try {
      return await work(db);
    } catch (error) {
      if (error?.name !== "InvalidStateError" || attempt === 1) throw error;
      dbPromise = null;
    }
  }
  return null;
}

// ---------------------------------------------------------------- who, and the session

/** The person whose data this is; `null` before sign-in. */
export function setUser(id) {
  if (id === user) return;
  user = id;
  dbPromise = null;
  copies.clear();
  thumbsChecked.clear();
  for (const { url } of thumbUrls.values()) URL.revokeObjectURL(url);
  thumbUrls.clear();
  entries = [];
  sending = "idle";
  changed();
}

/** The server has just accepted the session: sending may go on where it was paused. */
export function signedIn() {
  if (sending === "signin") {
    sending = "idle";
    changed();
  }
}

/** Deletes the person's data from the device: on signing out. */
export async function erase() {
  const name = user && `home-inventory-${user}`;
  const db = await dbPromise?.catch(() => null);
  db?.close();
  setUser(null);
  if (name) await request(indexedDB.deleteDatabase(name)).catch(() => {});
  try {
    localStorage.removeItem("home-inventory.session");
  } catch {
    // Storage refused: nothing was kept there either.
  }
}

export function offline() {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}

// ---------------------------------------------------------------- the copy

/** A record and what a search looks in: the same fields and rule as the server. */
export function searchText(item) {
  const parts = [item.name];
  for (const field of ["description", "brand", "model", "serial_number", "barcode", "notes", "sold_to", "sold_notes"]) {
    if (item[field] != null) parts.push(item[field]);
  }
  parts.push(...(item.tags || []));
  return parts.join("\n").toLowerCase();
}

function entry(item) {
  return {
    item,
    text: searchText(item),
    created: time(item.created_at),
    updated: time(item.updated_at),
    deleted: time(item.deleted_at),
    name: item.name.toLowerCase(),
  };
}

async function load(hid) {
  if (copies.has(hid)) return copies.get(hid);
  const read = await withDb(async (db) => {
    const tx = db.transaction(["items", "locations", "meta"]);
    const items = request(tx.objectStore("items").getAll(range(hid)));
    const locations = request(tx.objectStore("locations").getAll(range(hid)));
    const cursor = request(tx.objectStore("meta").get(`cursor/${hid}`));
    return [await items, await locations, await cursor];
  }).catch(() => null);
  if (!read) return null;
  if (copies.has(hid)) return copies.get(hid);
  const [items, locations, cursor] = read;
  const copy = {
    items: new Map(items.map((i) => [i.id, entry(i)])),
    locations: new Map(locations.map((l) => [l.id, l])),
    synced: cursor !== undefined,
  };
  copies.set(hid, copy);
  return copy;
}

/**
 * Keeps whichever version is newer, adding the writes that make it so on the device; a
 * version the copy has already (the feed re-reads an overlap) is not written again.
 */
function keepNewer(copy, hid, items, locations, writes) {
  for (const item of items) {
    const had = copy.items.get(item.id);
    if (had && had.item.version >= item.version) continue;
    copy.items.set(item.id, entry(item));
    writes.push(["items", key(hid, item.id), item]);
  }
  for (const location of locations) {
    const had = copy.locations.get(location.id);
    if (had && had.version >= location.version) continue;
    copy.locations.set(location.id, location);
    writes.push(["locations", key(hid, location.id), location]);
  }
}

async function write(writes, deletes = []) {
  if (!writes.length && !deletes.length) return;
  await withDb(async (db) => {
    const stores = [...new Set([...writes, ...deletes].map((w) => w[0]))];
    const tx = db.transaction(stores, "readwrite");
    for (const [store, k, value] of writes) tx.objectStore(store).put(value, k);
    for (const [store, k] of deletes) tx.objectStore(store).delete(k);
    await done(tx);
  });
}

/** Puts records the server answered into the copy. */
async function store(hid, items, locations) {
  const copy = await load(hid);
  if (!copy) return;
  const writes = [];
  keepNewer(copy, hid, items, locations, writes);
  await write(writes).catch(() => {});
  changed();
}

const SYNCED_KEY = "home-inventory.synced";

function syncedBefore(hid) {
  try {
    return (localStorage.getItem(SYNCED_KEY) || "").split(",").includes(hid);
  } catch {
    return false;
  }
}

function rememberSynced(hid) {
  try {
    const list = (localStorage.getItem(SYNCED_KEY) || "").split(",").filter(Boolean);
    if (!list.includes(hid)) localStorage.setItem(SYNCED_KEY, [...list, hid].join(","));
  } catch {
    // Only the notice after an eviction depends on it.
  }
}

/**
 * Brings the household's copy up to date: everything the first time, then what changed
 * since. One run per household at a time: asked again meanwhile, it answers when that run
 * ends. Answers the HTTP status that stopped it, or 0.
 */
export function sync(hid) {
  if (offline()) return Promise.resolve(0);
  if (!syncing.has(hid)) syncing.set(hid, syncOnce(hid));
  return syncing.get(hid);
}

async function syncOnce(hid) {
  try {
    return await syncPass(hid);
  } catch (error) {
    console.warn("The offline copy could not be brought up to date:", error);
    return 0;
  } finally {
    syncing.delete(hid);
    progress = null;
    changed();
  }
}

async function syncPass(hid) {
  const copy = await load(hid);
  if (!copy) return 0;
  let cursor = await withDb((db) => request(db.transaction("meta").objectStore("meta").get(`cursor/${hid}`)));
  if (cursor === undefined && syncedBefore(hid) && !copy.synced) {
    notice = "This device's offline copy was cleared by the browser. Downloading it again…";
  }
  const first = cursor === undefined;
  let seen = 0;
  let itemsChanged = false;
  for (;;) {
    const qs = new URLSearchParams({ limit: String(SYNC_PAGE) });
    if (cursor !== undefined) qs.set("since", cursor);
    const response = await fetch(`${API}/households/${hid}/changes?${qs}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.status === 410) {
      // Too old to go on from: start again from nothing.
      await withDb(async (db) => {
        const tx = db.transaction(["items", "locations"], "readwrite");
        tx.objectStore("items").delete(range(hid));
        tx.objectStore("locations").delete(range(hid));
        await done(tx);
      });
      copy.items.clear();
      copy.locations.clear();
      cursor = undefined;
      continue;
    }
    if (!response.ok) return response.status;
    const page = await response.json();
    seen += page.items.length + page.locations.length;
    if (first) {
      progress = [hid, seen];
      changed();
    }
    const writes = [];
    const deletes = [];
    keepNewer(copy, hid, page.items, page.locations, writes);
    itemsChanged ||= writes.some((w) => w[0] === "items") || page.removed.items.length > 0;
    for (const id of page.removed.items) {
      copy.items.delete(id);
      deletes.push(["items", key(hid, id)]);
    }
    for (const id of page.removed.locations) {
      copy.locations.delete(id);
      deletes.push(["locations", key(hid, id)]);
    }
    writes.push(["meta", `cursor/${hid}`, page.next_cursor]);
    await write(writes, deletes);
    cursor = page.next_cursor;
    if (!page.more) break;
  }
  copy.synced = true;
  rememberSynced(hid);
  // Thumbnails follow the items: looked at again when items changed, or once a visit.
  if (itemsChanged || !thumbsChecked.has(hid)) {
    thumbsChecked.add(hid);
    keepThumbs(hid);
  }
  return 0;
}

// ---------------------------------------------------------------- thumbnails

const thumbing = new Set();
const thumbsChecked = new Set();
const thumbUrls = new Map(); // "<household>/<item id>" -> { src, url }

/** The address without its signature: the same picture whatever the signature. */
const plain = (url) => url.split("?")[0];

/**
 * Keeps the thumbnails of the newest items' primary photos on the device, within the
 * budget; drops those of items no longer among them. In the background, after a sync.
 */
async function keepThumbs(hid) {
  if (thumbing.has(hid) || offline()) return;
  thumbing.add(hid);
  try {
    const copy = await load(hid);
    if (!copy) return;
    const had = await withDb(async (db) => {
      const tx = db.transaction("thumbs");
      const keys = request(tx.objectStore("thumbs").getAllKeys(range(hid)));
      const values = request(tx.objectStore("thumbs").getAll(range(hid)));
      const [k, v] = [await keys, await values];
      return new Map(k.map((key, i) => [key, v[i]]));
    });
    if (!had) return;
    const wanted = [...copy.items.values()]
      .filter((e) => !e.item.deleted_at && e.item.thumbnail_url)
      .sort(ORDERS.newest)
      .slice(0, THUMB_COUNT);
    const keep = new Set(wanted.map((e) => key(hid, e.item.id)));
    const stale = [...had.keys()].filter((k) => !keep.has(k)).map((k) => ["thumbs", k]);
    await write([], stale);
    let bytes = 0;
    for (const e of wanted) {
      const k = key(hid, e.item.id);
      const kept = had.get(k);
      if (kept && kept.src === plain(e.item.thumbnail_url)) {
        bytes += kept.size;
        continue;
      }
      if (bytes > THUMB_BYTES || offline() || user === null) break;
      try {
        const response = await fetch(e.item.thumbnail_url, { credentials: "omit" });
        if (!response.ok) continue;
        const blob = await response.blob();
        bytes += blob.size;
        await write([["thumbs", k, { src: plain(e.item.thumbnail_url), blob, size: blob.size }]]);
      } catch {
        // Not reachable now: the next sync tries again.
      }
    }
  } catch {
    // Storage refused: lists show no pictures offline.
  } finally {
    thumbing.delete(hid);
  }
}

/** The items with their thumbnails' addresses pointing at the copies kept here. */
async function withThumbs(hid, items) {
  const wanted = items.filter((i) => i.thumbnail_url);
  if (!wanted.length) return items;
  const found = await withDb(async (db) => {
    const store = db.transaction("thumbs").objectStore("thumbs");
    const requests = wanted.map((i) => request(store.get(key(hid, i.id))));
    return Promise.all(requests);
  }).catch(() => null);
  if (!found) return items;
  const urls = new Map();
  wanted.forEach((item, n) => {
    const kept = found[n];
    if (!kept) return;
    const k = key(hid, item.id);
    let shown = thumbUrls.get(k);
    if (!shown || shown.src !== kept.src) {
      if (shown) URL.revokeObjectURL(shown.url);
      shown = { src: kept.src, url: URL.createObjectURL(kept.blob) };
      thumbUrls.set(k, shown);
    }
    urls.set(item.id, shown.url);
  });
  return items.map((i) => (urls.has(i.id) ? { ...i, thumbnail_url: urls.get(i.id) } : i));
}

// ---------------------------------------------------------------- reading, changes on top

function pathOf(locations, id) {
  const path = [];
  let at = id;
  while (at && locations.has(at) && path.length <= locations.size) {
    const l = locations.get(at);
    path.unshift(l.name);
    at = l.parent_id;
  }
  return path;
}

/** An asset id's number: `000-123` → 123 (0 when there is none). */
function assetNumber(id) {
  const n = parseInt(String(id ?? "").replace(/^#/, "").replace("-", ""), 10);
  return Number.isFinite(n) && n > 0 ? n : 0;
}

/** A number as an asset id: 123 → `000-123`. */
export function assetId(n) {
  const digits = String(n).padStart(6, "0");
  return `${digits.slice(0, -3)}-${digits.slice(-3)}`;
}

/**
 * The asset ids the server will most likely give things added here: the numbers after the
 * highest the copy knows, in order (the server's counter only goes up). Shown until the
 * server has the thing and says its own number.
 */
function provisionalAssetIds(copy) {
  let last = 0;
  for (const e of copy.items.values()) last = Math.max(last, assetNumber(e.item?.asset_id));
  for (const l of copy.locations.values()) last = Math.max(last, assetNumber(l.asset_id));
  return (typed) => (assetNumber(typed) > 0 ? assetId(assetNumber(typed)) : assetId((last += 1)));
}

/** The household as the waiting changes will make it: `null` when the device has no copy. */
async function view(hid) {
  const copy = await load(hid);
  if (!copy || (!copy.synced && copy.items.size === 0)) return null;
  const locations = new Map(copy.locations);
  const changedItems = new Map();
  const nextAssetId = provisionalAssetIds(copy);
  const current = (id) => (changedItems.has(id) ? changedItems.get(id)?.item : copy.items.get(id)?.item);
  for (const e of entries) {
    if (e.household !== hid || e.state !== "waiting") continue;
    const op = e.op;
    if (op.kind === "create_item") {
      const body = op.body;
      changedItems.set(
        op.id,
        entry({
          ...body,
          id: op.id,
          household_id: hid,
          asset_id: nextAssetId(body.asset_id),
          quantity: body.quantity ?? 1,
          tags: body.tags ?? [],
          custom_fields: body.custom_fields ?? {},
          location_path: pathOf(locations, body.location_id),
          thumbnail_url: null,
          version: 0,
          created_at: e.at,
          updated_at: e.at,
        }),
      );
    } else if (op.kind === "edit_item") {
      const item = current(op.id);
      if (item) {
        const next = { ...item, ...op.mine, updated_at: e.at };
        // An edit that leaves the number alone keeps it.
        next.asset_id = op.mine.asset_id ?? item.asset_id;
        next.location_path = pathOf(locations, next.location_id);
        changedItems.set(op.id, entry(next));
      }
    } else if (op.kind === "delete_item" || op.kind === "restore_item") {
      const item = current(op.id);
      if (item) {
        const next = { ...item };
        if (op.kind === "delete_item") next.deleted_at = e.at;
        else delete next.deleted_at;
        changedItems.set(op.id, entry(next));
      }
    } else if (op.kind === "create_location") {
      locations.set(op.id, {
        id: op.id,
        parent_id: op.body.parent_id ?? null,
        name: op.body.name,
        description: op.body.description ?? null,
        asset_id: nextAssetId(op.body.asset_id),
        path: [],
        item_count: 0,
        version: 0,
        created_at: e.at,
        updated_at: e.at,
      });
    } else if (op.kind === "edit_location") {
      const l = locations.get(op.id);
      if (l) locations.set(op.id, { ...l, ...op.body, asset_id: op.body.asset_id ?? l.asset_id });
    } else if (op.kind === "delete_location") {
      locations.delete(op.id);
    }
  }
  for (const [id, l] of locations) locations.set(id, { ...l, path: pathOf(locations, id) });
  const all = [];
  for (const [id, e] of copy.items) if (!changedItems.has(id)) all.push(e);
  for (const e of changedItems.values()) all.push(e);
  return { all, locations, byId: (id) => current(id) };
}

function subtree(locations, root) {
  const set = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const l of locations.values()) {
      if (l.parent_id && set.has(l.parent_id) && !set.has(l.id)) {
        set.add(l.id);
        grew = true;
      }
    }
  }
  return set;
}

const ORDERS = {
  newest: (a, b) => b.created - a.created || (b.item.id < a.item.id ? -1 : 1),
  oldest: (a, b) => a.created - b.created || (a.item.id < b.item.id ? -1 : 1),
  updated: (a, b) => b.updated - a.updated || (b.item.id < a.item.id ? -1 : 1),
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.item.id < b.item.id ? -1 : 1),
  deleted: (a, b) => b.deleted - a.deleted || (b.item.id < a.item.id ? -1 : 1),
};

/**
 * A page of items as `GET …/items` answers it (or `…/trash` when `trash`): the same
 * substring search over the same fields, location subtree, tag and orders.
 */
export function query(all, locations, q, trash) {
  const found = matching(all, locations, q, trash);
  found.sort(ORDERS[trash ? "deleted" : q.sort] || ORDERS.newest);
  const start = /^local:\d+$/.test(q.cursor || "") ? Number(q.cursor.slice(6)) : 0;
  const end = Math.min(start + (q.limit || 50), found.length);
  return {
    items: found.slice(start, end).map((e) => e.item),
    next_cursor: end < found.length ? `local:${end}` : null,
  };
}

/**
 * The number a search for an asset id names (`#000123`, `#123`, `000-123`), as the server
 * reads it: then only the item with that number matches. `null` for any other search.
 */
export function assetSearch(needle) {
  return /^#[0-9]+(-[0-9]{3})?$|^[0-9]+-[0-9]{3}$/.test(needle) ? assetNumber(needle) : null;
}

/** The entries `q` picks (its search, location and tag), in no order. */
export function matching(all, locations, q, trash) {
  const needle = (q.q || "").trim().toLowerCase();
  const asset = assetSearch(needle);
  const tag = q.tag ? q.tag.toLowerCase() : null;
  const within = q.location && q.location !== "none" ? subtree(locations, q.location) : null;
  return all.filter(
    (e) =>
      !!e.item.deleted_at === trash &&
      (!needle || (asset !== null ? assetNumber(e.item.asset_id) === asset : e.text.includes(needle))) &&
      (q.location !== "none" || !e.item.location_id) &&
      (!within || within.has(e.item.location_id)) &&
      (!tag || (e.item.tags || []).some((t) => t.toLowerCase() === tag)),
  );
}

function tagCounts(all) {
  const counts = new Map();
  for (const { item } of all) {
    if (item.deleted_at) continue;
    for (const tag of item.tags || []) {
      const k = tag.toLowerCase();
      const c = counts.get(k) || { name: tag, item_count: 0 };
      c.item_count++;
      counts.set(k, c);
    }
  }
  return [...counts.values()].sort((a, b) => b.item_count - a.item_count || (a.name < b.name ? -1 : 1));
}

function locationList(all, locations) {
  const counts = new Map();
  for (const { item } of all) {
    if (!item.deleted_at && item.location_id) counts.set(item.location_id, (counts.get(item.location_id) || 0) + 1);
  }
  return [...locations.values()]
    .map((l) => ({ ...l, item_count: counts.get(l.id) || 0 }))
    .sort((a, b) => (a.path.join("\u0000") < b.path.join("\u0000") ? -1 : 1));
}

function stats(all, locations, currency, files) {
  const money = (amount_minor) => ({ amount_minor, currency });
  let items = 0;
  let quantity = 0;
  let value = 0;
  let trashed = 0;
  const byLocation = new Map();
  const byTag = new Map();
  for (const { item } of all) {
    if (item.deleted_at) {
      trashed++;
      continue;
    }
    const v = item.estimated_value?.amount_minor || 0;
    items++;
    quantity += item.quantity;
    value += v;
    const l = byLocation.get(item.location_id ?? null) || [0, 0];
    byLocation.set(item.location_id ?? null, [l[0] + 1, l[1] + v]);
    for (const tag of item.tags || []) {
      const t = byTag.get(tag.toLowerCase()) || [tag, 0, 0];
      byTag.set(tag.toLowerCase(), [t[0], t[1] + 1, t[2] + v]);
    }
  }
  const order = (a, b) => b.total_value.amount_minor - a.total_value.amount_minor || (a.name < b.name ? -1 : 1);
  return {
    item_count: items,
    total_quantity: quantity,
    location_count: locations.size,
    trashed_count: trashed,
    total_value: money(value),
    value_by_location: [...byLocation]
      .map(([id, [count, v]]) => ({
        id,
        name: id && locations.has(id) ? pathOf(locations, id).join(" › ") : "No location",
        item_count: count,
        total_value: money(v),
      }))
      .sort(order),
    value_by_tag: [...byTag.values()]
      .map(([name, count, v]) => ({ id: null, name, item_count: count, total_value: money(v) }))
      .sort(order),
    attachment_count: files?.[0] || 0,
    storage_bytes: files?.[1] || 0,
  };
}

/**
 * Answers a read of the household from the device, as JSON text in the API's shape, or
 * `null` when the device has no copy. `what`: items, trash, item, locations, tags, stats,
 * or count (how many live items `params` picks, a number).
 */
export async function read(hid, what, params) {
  const v = await view(hid);
  if (!v) return null;
  const p = params || {};
  let answer;
  if (what === "items" || what === "trash") {
    answer = query(v.all, v.locations, p, what === "trash");
    answer.items = await withThumbs(hid, answer.items);
  } else if (what === "item") {
    const item = v.byId(p.id);
    answer = item ? (await withThumbs(hid, [item]))[0] : null;
  }
  else if (what === "count") answer = matching(v.all, v.locations, p, false).length;
  else if (what === "locations") answer = { items: locationList(v.all, v.locations) };
  else if (what === "tags") answer = { items: tagCounts(v.all) };
  else if (what === "stats") answer = stats(v.all, v.locations, p.currency, p.files);
  return answer === null ? null : JSON.stringify(answer);
}

// How long a read waits for the server before the device's copy answers instead.
const READ_PATIENCE_MS = 1500;

/**
 * A read of the household: the server's answer, or the copy's when the browser is offline,
 * changes made here are still waiting (so they show), the server can't be reached, or it
 * takes longer than a moment (a weak signal: the copy answers at once, and the sync keeps
 * it current). Answers `{status, text}`; status 0 when neither could answer.
 */
export async function fetchOrCopy(hid, url, what, params) {
  const local = async () => {
    const text = await read(hid, what, params);
    return text == null ? { status: 0 } : { status: 200, text };
  };
  if (offline() || hasWaiting(hid)) return local();
  const network = fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(async (r) => ({ status: r.status, text: await r.text() }))
    .catch(() => ({ status: 0 }));
  let first = await Promise.race([network, new Promise((r) => setTimeout(() => r(null), READ_PATIENCE_MS))]);
  if (first === null) {
    const copy = await local();
    if (copy.status) return copy;
    first = await network;
  }
  return first.status ? first : local();
}

/** Whether the household has changes the server does not have: its reads come from here. */
export function hasWaiting(hid) {
  return entries.some((e) => e.household === hid);
}

// ---------------------------------------------------------------- the outbox

/** Reads the outbox from the device (another tab may have sent or added changes). */
export async function reload() {
  const list = await withDb(async (db) => {
    const tx = db.transaction("outbox");
    const keys = request(tx.objectStore("outbox").getAllKeys());
    const values = request(tx.objectStore("outbox").getAll());
    const [k, v] = [await keys, await values];
    return v.map((e, i) => ({ ...e, key: k[i] }));
  }).catch(() => null);
  if (list) {
    entries = list;
    changed();
  }
}

async function save(e) {
  const { key: k, ...value } = e;
  await write([["outbox", k, value]]).catch(() => {});
  entries = entries.map((x) => (x.key === k ? e : x));
  changed();
}

async function drop(k) {
  await write([], [["outbox", k]]).catch(() => {});
  entries = entries.filter((x) => x.key !== k);
  changed();
}

/**
 * The waiting changes of a household, oldest first. A conflict carries the item as the
 * server has it, as the edit started from and as edited here, as JSON text.
 */
export function list(hid) {
  return entries
    .filter((e) => e.household === hid)
    .map((e) => {
      const shown = { key: e.key, kind: e.op.kind, id: e.op.id, label: e.op.label, state: e.state, message: e.message };
      if (e.state === "conflict" && e.server) {
        shown.server = JSON.stringify(e.server);
        shown.base = JSON.stringify({ ...e.server, ...e.op.base });
        shown.mine = JSON.stringify({ ...e.server, ...e.op.mine });
      }
      return shown;
    });
}

const changes = (n) => (n === 1 ? "1 change" : `${n} changes`);

/**
 * Where the outbox stands, and the badge that says so for household `hid`: its words and
 * its tone (ok, busy, warn).
 */
export function status(hid) {
  const waiting = entries.filter((e) => e.state === "waiting").length;
  const stuck = entries.length - waiting;
  let badge = ["All changes saved", "ok"];
  if (stuck) badge = [`${changes(stuck)} need you`, "warn"];
  else if (sending === "signin" && waiting) badge = [`Sign in to send ${changes(waiting)}`, "warn"];
  else if (sending === "busy") badge = ["Sending…", "busy"];
  else if (waiting) badge = [`${changes(waiting)} waiting`, "busy"];
  else if (progress && progress[0] === hid) badge = [`Saving for offline use… ${progress[1]}`, "busy"];
  const all = changes(entries.length);
  let summary = `${all} not on the server yet.`;
  if (!entries.length) summary = "Every change made here is on the server.";
  else if (sending === "signin") summary = `Your session has ended. Sign in to send ${all}.`;
  else if (offline()) summary = `You're offline. ${all} will be sent when the connection returns.`;
  return { waiting, stuck, sending, offline: offline(), text: badge[0], tone: badge[1], summary };
}

export function listen(callback) {
  const id = nextListener++;
  listeners.set(id, callback);
  return id;
}

export function unlisten(id) {
  listeners.delete(id);
}

/** A notice for the person about their offline copy, once. */
export function takeNotice() {
  const text = notice;
  notice = null;
  return text;
}

export async function discard(k) {
  await drop(k);
}

/**
 * Sends a refused or conflicting change again; a conflict with the edits made here put on
 * top of the server's version ("keep mine"); an edit of an item deleted meanwhile after
 * restoring it from the trash.
 */
export async function retry(k) {
  const e = entries.find((x) => x.key === k);
  if (!e) return;
  const next = { ...e, state: "waiting", message: null };
  if (e.state === "gone" && e.op.kind === "edit_item") {
    const restored = await fetchText("POST", `/households/${e.household}/items/${e.op.id}/restore`);
    if (restored.status === 404) {
      await save({ ...e, state: "refused", message: "It was deleted for good, so it can't be restored." });
      return;
    }
    if (restored.status < 200 || restored.status >= 300) return;
    await store(e.household, [restored.json], []);
  }
  if (e.state === "conflict" && e.op.kind === "edit_item") {
    const server = fieldsOf(e.server);
    const mine = { ...server };
    for (const f of changedFields(e.op.base, e.op.mine)) mine[f] = e.op.mine[f];
    next.op = { ...e.op, version: e.server.version, base: server, mine };
    next.server = null;
  }
  await save(next);
  failures = 0;
  flush();
}

const FIELDS = [
  "name",
  "description",
  "location_id",
  "quantity",
  "tags",
  "brand",
  "model",
  "serial_number",
  "barcode",
  "purchase_date",
  "purchase_price",
  "purchased_from",
  "estimated_value",
  "warranty_expires",
  "notes",
  "custom_fields",
  "insured",
  "lifetime_warranty",
  "sold_to",
  "sold_date",
  "sold_price",
  "sold_notes",
  "asset_id",
];

/** What a field is when a record has none (one kept from before the field existed). */
const EMPTY = { tags: [], custom_fields: {}, insured: false, lifetime_warranty: false };

export function fieldsOf(item) {
  return Object.fromEntries(FIELDS.map((f) => [f, item[f] ?? EMPTY[f] ?? null]));
}

export function changedFields(before, after) {
  // An asset id left out (`null`: a form that doesn't show it) is kept: it can't be cleared.
  return FIELDS.filter((f) => !same(before[f], after[f]) && !(f === "asset_id" && after[f] == null));
}

/** The PATCH body that turns `before` into `after`: changed fields only, `null` to clear. */
export function patch(before, after) {
  return Object.fromEntries(changedFields(before, after).map((f) => [f, after[f] ?? null]));
}

/**
 * Puts the edits that turned `base` into `mine` on top of `theirs`: the merged fields, or
 * `null` when both changed a field to different values.
 */
export function rebase(base, mine, theirs) {
  const ours = changedFields(base, mine);
  const clash = changedFields(base, theirs).some((f) => ours.includes(f) && !same(mine[f], theirs[f]));
  if (clash) return null;
  const merged = { ...theirs };
  for (const f of ours) merged[f] = mine[f];
  return merged;
}

/**
 * Adds a change and sends it. Answers `{sent: <the server's answer as JSON text>}`,
 * `{kept: true}` (to be sent later; read it back from the copy) or `{refused: <the API's
 * error body as JSON text>}`.
 */
export async function submit(hid, opJson, bodyJson, file) {
  const op = JSON.parse(opJson);
  if (bodyJson) op.body = JSON.parse(bodyJson);
  const e = { household: hid, op, state: "waiting", at: now() };
  // A photo or document: its bytes wait on the device with the change.
  if (file) e.file = file;
  const k = await withDb(async (db) => {
    const tx = db.transaction("outbox", "readwrite");
    const added = request(tx.objectStore("outbox").add(e));
    await done(tx);
    return added;
  }).catch(() => null);
  if (k == null) {
    // No IndexedDB here: the change is sent as it is, or not at all.
    const step = await send(e);
    if (step.done) return { sent: JSON.stringify(step.body ?? null) };
    return { refused: JSON.stringify(step.error ?? networkError()) };
  }
  entries.push({ ...e, key: k });
  changed();
  if (offline()) return { kept: true };
  const outcome = new Promise((resolve) => {
    waiters.set(k, resolve);
    setTimeout(() => resolve({ kept: true }), WAIT_MS);
  });
  flush();
  const result = await outcome;
  waiters.delete(k);
  if (result.sent !== undefined) return { sent: JSON.stringify(result.sent) };
  if (result.refused) return { refused: JSON.stringify(result.refused) };
  return { kept: true };
}

function answer(k, outcome) {
  const resolve = waiters.get(k);
  if (!resolve) return false;
  waiters.delete(k);
  resolve(outcome);
  return true;
}

function networkError() {
  return {
    error: { code: "network", message: "Can't reach the server. Check your connection and try again." },
  };
}

/** Starts sending, unless this tab already is. */
export function flush() {
  if (running) {
    again = true;
    return;
  }
  running = true;
  (async () => {
    do {
      again = false;
      try {
        if (typeof navigator !== "undefined" && navigator.locks) {
          // One tab sends at a time; the others wait their turn and find nothing left.
          await navigator.locks.request(`home-inventory-outbox-${user}`, run);
        } else {
          await run();
        }
      } catch {
        // Storage failed; the next trigger tries again.
      }
    } while (again);
    running = false;
    // Pages waiting on a change another tab sends.
    for (const k of [...waiters.keys()]) answer(k, { kept: true });
  })();
}

async function run() {
  await reload();
  for (;;) {
    const e = entries.find((x) => x.state === "waiting");
    if (!e) {
      sending = "idle";
      changed();
      return;
    }
    if (offline()) {
      sending = "retrying";
      changed();
      return;
    }
    sending = "busy";
    changed();
    const step = await send(e);
    if (step.done) {
      await drop(e.key);
      await applyAnswer(e, step.body);
      failures = 0;
      answer(e.key, { sent: step.body ?? null });
    } else if (step.again) {
      await save({ ...e, op: step.again });
    } else if (step.retry) {
      answer(e.key, { kept: true });
      scheduleRetry();
      sending = "retrying";
      changed();
      return;
    } else if (step.signin) {
      answer(e.key, { kept: true });
      sending = "signin";
      changed();
      return;
    } else if (step.conflict) {
      if (waiters.has(e.key)) {
        // The form that made the edit shows the conflict itself.
        await drop(e.key);
        answer(e.key, {
          refused: { error: { code: "precondition_failed", message: "Someone else changed this item." } },
        });
      } else {
        await store(e.household, [step.conflict], []);
        await save({ ...e, state: "conflict", server: step.conflict });
      }
    } else if (step.gone) {
      const error = { error: { code: "not_found", message: "This item no longer exists." } };
      if (answer(e.key, { refused: error })) await drop(e.key);
      else await save({ ...e, state: "gone" });
    } else {
      if (answer(e.key, { refused: step.error })) await drop(e.key);
      else await save({ ...e, state: "refused", message: step.error.error.message });
    }
  }
}

/** Tries again after 2, 4, 8 … seconds, at most five minutes apart. */
function scheduleRetry() {
  failures++;
  clearTimeout(retryTimer);
  retryTimer = setTimeout(flush, Math.min(1000 * 2 ** Math.min(failures, 9), 300000));
}

async function fetchText(method, path, body, ifMatch) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
  try {
    const response = await fetch(API + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: response.status, json };
  } catch {
    return { status: 0, json: null };
  }
}

/** One send of a change: what it came to. */
async function send(e) {
  const hid = e.household;
  const op = e.op;
  const items = `/households/${hid}/items`;
  const locations = `/households/${hid}/locations`;
  let call;
  if (op.kind === "create_item") call = ["POST", items, { ...op.body, id: op.id }];
  else if (op.kind === "edit_item") {
    const body = patch(op.base, op.mine);
    if (Object.keys(body).length === 0) return { done: true };
    call = ["PATCH", `${items}/${op.id}`, body, op.version];
  } else if (op.kind === "delete_item") call = ["DELETE", `${items}/${op.id}`];
  else if (op.kind === "restore_item") call = ["POST", `${items}/${op.id}/restore`];
  else if (op.kind === "create_location") call = ["POST", locations, { ...op.body, id: op.id }];
  else if (op.kind === "edit_location") call = ["PATCH", `${locations}/${op.id}`, op.body];
  else if (op.kind === "add_file") return sendFile(`${items}/${op.item}/attachments`, op, e.file);
  else call = ["DELETE", `${locations}/${op.id}`];
  const { status, json } = await fetchText(...call);
  if (status >= 200 && status < 300) return { done: true, body: json };
  const deleting = op.kind === "delete_item" || op.kind === "delete_location";
  // Already deleted: a reply lost after the server did it, or someone else did.
  if (status === 404 && deleting) return { done: true };
  if (status === 404 && (op.kind === "edit_item" || op.kind === "restore_item")) return { gone: true };
  if (status === 412 && op.kind === "edit_item") return rebaseEdit(`${items}/${op.id}`, op);
  return stepFor(status, json);
}

/**
 * A photo or document kept on the device: announced (again: the id is the client's, so a
 * repeat is the same attachment), its bytes sent where the answer says, then checked.
 */
async function sendFile(path, op, file) {
  if (!file) return { error: { error: { code: "bad_request", message: "The file is no longer on this device." } } };
  const announced = await fetchText("POST", path, { ...op.body, id: op.id });
  if (announced.status === 404) return { gone: true };
  if (announced.status < 200 || announced.status >= 300) return stepFor(announced.status, announced.json);
  // Already checked (a reply lost after it was done): nothing more to send.
  if (announced.json.status === "ready") return { done: true, body: announced.json };
  const { url, method, headers } = announced.json.upload;
  try {
    const sent = await fetch(url, { method, headers, body: file, credentials: "omit" });
    if (!sent.ok) return stepFor(sent.status, null);
  } catch {
    return { retry: true };
  }
  const checked = await fetchText("POST", `${path}/${op.id}/complete`);
  // 409: the bytes have not reached every region yet; the next try checks again.
  if (checked.status === 409) return { retry: true };
  if (checked.status >= 200 && checked.status < 300) return { done: true, body: checked.json };
  return stepFor(checked.status, checked.json);
}

function stepFor(status, json) {
  if (status === 0 || status >= 500 || status === 429) return { retry: true };
  if (status === 401) return { signin: true };
  return {
    error:
      json && json.error
        ? json
        : { error: { code: "bad_request", message: `The server refused the change (HTTP ${status}).` } },
  };
}

/** After 412: the item is read again, and the edit goes on its new version or clashes. */
async function rebaseEdit(path, op) {
  const { status, json } = await fetchText("GET", path);
  if (status === 404) return { gone: true };
  if (status !== 200) return stepFor(status, json);
  const theirs = fieldsOf(json);
  const merged = rebase(op.base, op.mine, theirs);
  if (!merged) return { conflict: json };
  // Everything asked is there already (a reply lost after the server saved it).
  if (changedFields(theirs, merged).length === 0) return { done: true, body: json };
  return { again: { ...op, version: json.version, base: theirs, mine: merged } };
}

/** Puts the server's answer into the copy, so it shows before the next sync. */
async function applyAnswer(e, body) {
  const hid = e.household;
  const kind = e.op.kind;
  if (body && (kind === "create_item" || kind === "edit_item" || kind === "restore_item")) {
    await store(hid, [body], []);
  } else if (body && (kind === "create_location" || kind === "edit_location")) {
    await store(hid, [], [body]);
  } else if (kind === "delete_item") {
    // Shown trashed until the sync below brings the server's record (a newer version).
    const copy = await load(hid);
    const had = copy?.items.get(e.op.id)?.item;
    if (had) {
      const trashed = { ...had, deleted_at: now() };
      copy.items.set(had.id, entry(trashed));
      await write([["items", key(hid, had.id), trashed]]).catch(() => {});
    }
  } else if (kind === "delete_location") {
    const copy = await load(hid);
    copy?.locations.delete(e.op.id);
    await write([], [["locations", key(hid, e.op.id)]]).catch(() => {});
  }
  // The rest of what the server did (paths, counts, versions) comes with the next sync.
  sync(hid);
}

// ---------------------------------------------------------------- the capture page's shots

/** Keeps a shot's bytes (and, later, its stored photo's id) until it is dealt with. */
export async function keepShot(hid, id, blob, contentType, location, photo) {
  await write([["shots", key(hid, id), { id, blob, content_type: contentType, location, photo, at: now() }]]).catch(() => {});
}

/** The shot's photo is stored on the server: a restored shot goes on from there. */
export async function shotPhoto(hid, id, photo) {
  await withDb(async (db) => {
    const tx = db.transaction("shots", "readwrite");
    const store = tx.objectStore("shots");
    const shot = await request(store.get(key(hid, id)));
    if (shot) store.put({ ...shot, photo }, key(hid, id));
    await done(tx);
  }).catch(() => {});
}

export async function dropShot(hid, id) {
  await write([], [["shots", key(hid, id)]]).catch(() => {});
}

/** The household's kept shots, oldest first. */
export async function keptShots(hid) {
  const shots = await withDb((db) => request(db.transaction("shots").objectStore("shots").getAll(range(hid)))).catch(
    () => null,
  );
  return (shots || []).sort((a, b) => (a.at < b.at ? -1 : 1));
}

// ---------------------------------------------------------------- storage

/** Asks the browser to keep this site's data under storage pressure. */
export function persist() {
  navigator.storage?.persist?.().catch(() => {});
}

/** How much this site keeps on the device, and whether the browser promised to keep it. */
export async function storageInfo() {
  try {
    const estimate = await navigator.storage.estimate();
    const persisted = await navigator.storage.persisted();
    return { used: estimate.usage || 0, persisted };
  } catch {
    return null;
  }
}

//! The queue outlives the page: shots keep uploading and stay listed while the person looks
//! at an item just added, and they are all there on coming back. One household's queue at
//! a time; switching household starts an empty one (the other's unfiled photos stay on the
//! server, unfiled).
//!
//! Each shot's bytes are also kept on the device ([`crate::local::keep_shot`]) until an
//! item gets its photo or it is thrown away, so a reload, a closed browser or a day without
//! signal loses none: the page puts them back in the queue ([`restore`]).

use std::cell::RefCell;
use std::collections::HashMap;

use shared::{AttachmentId, HouseholdId, LocationId};
use yew::Callback;

use crate::local::{self, KeptShot};

use super::flow::Bytes;
use super::shot::{Action, Key, Queue};

#[derive(Default)]
struct Store {
    household: Option<HouseholdId>,
    queue: Queue,
    /// The bytes of each shot, to send again or give a second item.
    bytes: HashMap<Key, Bytes>,
    /// Which object of a shot took its photo: one photo belongs to one item.
    claims: HashMap<Key, usize>,
    /// The last shot's number.
    counter: u32,
    /// The id each shot is kept on the device under.
    saved: HashMap<Key, String>,
    /// Whether the shots kept on the device were put back in the queue.
    restored: bool,
    /// The page showing the queue, told of every change.
    listener: Option<Callback<()>>,
}

thread_local! {
    static STORE: RefCell<Store> = RefCell::new(Store::default());
}

/// Shows the queue of `hid` to a page (starting an empty one for another household) and
/// tells it of every change until [`unlisten`].
pub fn listen(hid: HouseholdId, listener: Callback<()>) {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        if store.household != Some(hid) {
            for shot in &store.queue.shots {
                revoke(&shot.preview);
            }
            *store = Store {
                household: Some(hid),
                ..Store::default()
            };
        }
        store.listener = Some(listener);
    });
}

/// The page is gone; the queue stays.
pub fn unlisten() {
    STORE.with(|store| store.borrow_mut().listener = None);
}

/// The queue of `hid` as it is now.
pub fn queue(hid: HouseholdId) -> Queue {
    STORE.with(|store| {
        let store = store.borrow();
        if store.household == Some(hid) {
            store.queue.clone()
        } else {
            Queue::default()
        }
    })
}

/// How many shots are being sent or worked on right now, whichever household: a reload
/// would lose them.
pub fn shots_in_flight() -> usize {
    STORE.with(|store| {
        store
            .borrow()
            .queue
            .shots
            .iter()
            .filter(|s| s.busy())
            .count()
    })
}

/// Changes the queue of `hid`, and tells the page. News about another household's shots
/// is dropped.
pub fn dispatch(hid: HouseholdId, action: Action) {
    let listener = STORE.with(|store| {
        let mut store = store.borrow_mut();
        if store.household != Some(hid) {
            return None;
        }
        match &action {
            Action::Announced(key, photo) => {
                if let Some(id) = store.saved.get(key) {
                    local::shot_photo(hid, id.clone(), photo.to_string());
                }
            }
            // An item has the photo now: the device need not keep it.
            Action::PickAdded(key, ..) => {
                if let Some(id) = store.saved.remove(key) {
                    local::drop_shot(hid, id);
                }
            }
            _ => {}
        }
        store.queue.apply(action);
        store.listener.clone()
    });
    if let Some(listener) = listener {
        listener.emit(());
    }
}

/// The number of the next shot.
pub fn next_number() -> u32 {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        store.counter += 1;
        store.counter
    })
}

/// Keeps a shot's bytes for the queue and, under `saved` (a new id when `None`), on the
/// device.
pub fn keep_bytes(
    key: Key,
    bytes: Bytes,
    location: Option<LocationId>,
    saved: Option<(String, Option<AttachmentId>)>,
) {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        let Some(hid) = store.household else { return };
        let id = match saved {
            Some((id, _)) => id,
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                local::keep_shot(
                    hid,
                    KeptShot {
                        id: id.clone(),
                        blob: bytes.blob.clone(),
                        content_type: bytes.content_type.clone(),
                        location: location.map(|l| l.to_string()),
                        photo: None,
                    },
                );
                id
            }
        };
        store.saved.insert(key, id);
        store.bytes.insert(key, bytes);
    });
}

/// Whether the shots kept on the device still have to be put back in the queue (once per
/// household and visit).
pub fn to_restore(hid: HouseholdId) -> bool {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        store.household == Some(hid) && !std::mem::replace(&mut store.restored, true)
    })
}

pub fn bytes(key: Key) -> Option<Bytes> {
    STORE.with(|store| store.borrow().bytes.get(&key).cloned())
}

/// Whether the server said photos aren't recognised here (or not today).
pub fn ai_off() -> bool {
    STORE.with(|store| store.borrow().queue.ai_off.is_some())
}

/// Lets go of a shot's bytes and its local picture.
pub fn forget(key: Key, preview: &str) {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        store.bytes.remove(&key);
        store.claims.remove(&key);
        if let (Some(hid), Some(id)) = (store.household, store.saved.remove(&key)) {
            local::drop_shot(hid, id);
        }
    });
    revoke(preview);
}

/// Whether object `index` of shot `key` gets the shot's own photo: the first one to ask
/// does, and keeps it until it lets go ([`release`]).
pub fn claim(key: Key, index: usize) -> bool {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        *store.claims.entry(key).or_insert(index) == index
    })
}

/// Object `index` didn't get the photo into an item after all.
pub fn release(key: Key, index: usize) {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        if store.claims.get(&key) == Some(&index) {
            store.claims.remove(&key);
        }
    });
}

fn revoke(preview: &str) {
    if !preview.is_empty() {
        let _ = web_sys::Url::revoke_object_url(preview);
    }
}

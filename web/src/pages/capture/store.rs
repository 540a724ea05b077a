//! The queue outlives the page: shots keep uploading and stay listed while the person looks
//! at an item just added, and they are all there on coming back. One household's queue at
//! a time; switching household starts an empty one (the other's unfiled photos stay on the
//! server, unfiled).

use std::cell::RefCell;
use std::collections::HashMap;

use shared::HouseholdId;
use yew::Callback;

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

pub fn keep_bytes(key: Key, bytes: Bytes) {
    STORE.with(|store| store.borrow_mut().bytes.insert(key, bytes));
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

//! This device's copy of what the person may look at offline, and the changes waiting to
//! be sent: the layer beneath [`crate::api`], in `offline.js`.
//!
//! Each signed-in person gets their own IndexedDB database, deleted on signing out, so
//! someone else signing in on the same browser never sees it. The copy of each household
//! opened here (items, trashed ones too, and locations) is kept current through the changes
//! feed and answers lists, searches and item pages when the server can't be reached. The
//! outbox holds every write of items and locations until the server has it.
//!
//! The functions here pass JSON text in the API's own shapes both ways, so the app decodes
//! what the device answers with the same code as what the server answers.

use serde::Serialize;
use shared::{ErrorBody, ErrorCode, HouseholdId, Item, ItemFields, UserId};
use wasm_bindgen::prelude::*;
use yew::Callback;

#[wasm_bindgen(module = "/src/local/offline.js")]
extern "C" {
    #[wasm_bindgen(js_name = setUser)]
    fn js_set_user(id: Option<String>);
    #[wasm_bindgen(js_name = signedIn)]
    fn js_signed_in();
    #[wasm_bindgen(js_name = erase)]
    async fn js_erase() -> JsValue;
    #[wasm_bindgen(js_name = offline)]
    fn js_offline() -> bool;
    #[wasm_bindgen(js_name = sync)]
    async fn js_sync(hid: String) -> JsValue;
    #[wasm_bindgen(js_name = read)]
    async fn js_read(hid: String, what: &str, params: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = fetchOrCopy)]
    async fn js_fetch_or_copy(hid: String, url: &str, what: &str, params: JsValue) -> JsValue;
    #[wasm_bindgen(js_name = hasWaiting)]
    fn js_has_waiting(hid: String) -> bool;
    #[wasm_bindgen(js_name = reload)]
    async fn js_reload() -> JsValue;
    #[wasm_bindgen(js_name = list)]
    fn js_list(hid: String) -> js_sys::Array;
    #[wasm_bindgen(js_name = status)]
    fn js_status(hid: Option<String>) -> JsValue;
    #[wasm_bindgen(js_name = listen)]
    fn js_listen(callback: &Closure<dyn FnMut()>) -> u32;
    #[wasm_bindgen(js_name = unlisten)]
    fn js_unlisten(id: u32);
    #[wasm_bindgen(js_name = takeNotice)]
    fn js_take_notice() -> Option<String>;
    #[wasm_bindgen(js_name = discard)]
    async fn js_discard(key: f64) -> JsValue;
    #[wasm_bindgen(js_name = retry)]
    async fn js_retry(key: f64) -> JsValue;
    #[wasm_bindgen(js_name = submit)]
    async fn js_submit(
        hid: String,
        op: String,
        body: Option<String>,
        file: Option<web_sys::Blob>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = flush)]
    fn js_flush();
    #[wasm_bindgen(js_name = persist)]
    fn js_persist();
    #[wasm_bindgen(js_name = storageInfo)]
    async fn js_storage_info() -> JsValue;
    #[wasm_bindgen(js_name = keepShot)]
    async fn js_keep_shot(
        hid: String,
        id: String,
        blob: web_sys::Blob,
        content_type: String,
        location: Option<String>,
        photo: Option<String>,
    ) -> JsValue;
    #[wasm_bindgen(js_name = shotPhoto)]
    async fn js_shot_photo(hid: String, id: String, photo: String) -> JsValue;
    #[wasm_bindgen(js_name = dropShot)]
    async fn js_drop_shot(hid: String, id: String) -> JsValue;
    #[wasm_bindgen(js_name = keptShots)]
    async fn js_kept_shots(hid: String) -> JsValue;
}

/// A shot of the capture page kept on the device.
pub struct KeptShot {
    pub id: String,
    pub blob: web_sys::Blob,
    pub content_type: String,
    pub location: Option<String>,
    /// Its photo on the server, once stored there.
    pub photo: Option<String>,
}

/// Keeps a shot's bytes until [`drop_shot`], so a reload or a closed browser loses none.
pub fn keep_shot(hid: HouseholdId, shot: KeptShot) {
    wasm_bindgen_futures::spawn_local(async move {
        js_keep_shot(
            hid.to_string(),
            shot.id,
            shot.blob,
            shot.content_type,
            shot.location,
            shot.photo,
        )
        .await;
    });
}

pub fn shot_photo(hid: HouseholdId, id: String, photo: String) {
    wasm_bindgen_futures::spawn_local(async move {
        js_shot_photo(hid.to_string(), id, photo).await;
    });
}

pub fn drop_shot(hid: HouseholdId, id: String) {
    wasm_bindgen_futures::spawn_local(async move {
        js_drop_shot(hid.to_string(), id).await;
    });
}

/// The household's kept shots, oldest first.
pub async fn kept_shots(hid: HouseholdId) -> Vec<KeptShot> {
    let text = |e: &JsValue, name| field(e, name).as_string();
    js_sys::Array::from(&js_kept_shots(hid.to_string()).await)
        .iter()
        .filter_map(|e| {
            Some(KeptShot {
                id: text(&e, "id")?,
                blob: field(&e, "blob").dyn_into().ok()?,
                content_type: text(&e, "content_type")?,
                location: text(&e, "location"),
                photo: text(&e, "photo"),
            })
        })
        .collect()
}

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Whether the browser knows it has no network: then nothing is asked of the server.
pub fn offline() -> bool {
    js_offline()
}

/// The person whose data this is, once the server (or, offline, this device) says who is
/// signed in. `confirmed`: the server said so, and changes paused for signing in go on.
pub fn set_user(user: UserId, confirmed: bool) {
    js_set_user(Some(user.to_string()));
    if confirmed {
        js_signed_in();
    }
}

const SESSION_KEY: &str = "home-inventory.session";

/// Keeps the answers of `/me` and `/households` (as their JSON text), so the app opens
/// offline as the person last saw it.
pub fn save_session(me: &str, households: &str) {
    if let Some(storage) = local_storage() {
        let _ = storage.set_item(SESSION_KEY, &format!("{me}\n{households}"));
    }
}

/// The texts [`save_session`] kept.
pub fn saved_session() -> Option<(String, String)> {
    let text = local_storage()?.get_item(SESSION_KEY).ok()??;
    let (me, households) = text.split_once('\n')?;
    Some((me.to_string(), households.to_string()))
}

/// Deletes this person's data from the device: on signing out.
pub async fn erase() {
    js_erase().await;
}

/// Brings the household's copy up to date with the server.
pub async fn sync(hid: HouseholdId) {
    js_sync(hid.to_string()).await;
}

/// What the device answers for a read of the household, as the API's JSON; `None` when it
/// has no copy. `what`: items, trash, item, locations, tags, stats, count.
pub async fn read(hid: HouseholdId, what: &str, params: Params) -> Option<String> {
    js_read(hid.to_string(), what, params.0.into())
        .await
        .as_string()
}

/// Reads `url` of the household from the server, or from the device's copy when the browser
/// is offline, changes are waiting, the server can't be reached or is slow: the HTTP status
/// (0 when neither answered) and the text.
pub async fn fetch_or_copy(
    hid: HouseholdId,
    url: &str,
    what: &str,
    params: Params,
) -> (u16, String) {
    let answer = js_fetch_or_copy(hid.to_string(), url, what, params.0.into()).await;
    let status = field(&answer, "status").as_f64().unwrap_or(0.0) as u16;
    (
        status,
        field(&answer, "text").as_string().unwrap_or_default(),
    )
}

/// What a read of the device's copy asks: `{"q": …, "sort": …}`.
#[derive(Default)]
pub struct Params(js_sys::Object);

impl Params {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field, when it has a value.
    pub fn with(self, name: &str, value: Option<impl Into<JsValue>>) -> Self {
        if let Some(value) = value {
            let _ = js_sys::Reflect::set(&self.0, &JsValue::from_str(name), &value.into());
        }
        self
    }
}

/// Whether the household has changes the server does not have yet.
pub fn has_waiting(hid: HouseholdId) -> bool {
    js_has_waiting(hid.to_string())
}

/// Reads the outbox from the device again and starts sending.
pub async fn send_waiting() {
    js_reload().await;
    js_flush();
}

/// Starts sending what waits.
pub fn flush() {
    js_flush();
}

/// Asks the browser to keep this site's data under storage pressure.
pub fn persist() {
    js_persist();
}

pub fn take_notice() -> Option<String> {
    js_take_notice()
}

/// A field of an object `offline.js` answered.
fn field(object: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(object, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Where the outbox stands.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Changes to be sent.
    pub waiting: usize,
    /// Changes that wait for the person: a conflict, a refusal, an item gone.
    pub stuck: usize,
    /// idle, busy, retrying or signin (the session ended).
    pub sending: String,
    pub offline: bool,
    /// The badge for the household asked about: its words, and its tone (ok, busy, warn).
    pub badge: (String, String),
    /// Where the changes stand, in a sentence.
    pub summary: String,
}

/// Where the outbox stands; the badge as `hid`'s pages show it.
pub fn status(hid: Option<HouseholdId>) -> Status {
    let s = js_status(hid.map(|h| h.to_string()));
    let count = |name| field(&s, name).as_f64().unwrap_or(0.0) as usize;
    let text = |name| field(&s, name).as_string().unwrap_or_default();
    Status {
        waiting: count("waiting"),
        stuck: count("stuck"),
        sending: text("sending"),
        offline: field(&s, "offline").is_truthy(),
        badge: (text("text"), text("tone")),
        summary: text("summary"),
    }
}

/// One waiting change, as the list of waiting changes shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub key: f64,
    /// create_item, edit_item, delete_item, …
    pub kind: String,
    pub id: String,
    /// The change in words: "Edit “Drill”".
    pub label: String,
    /// waiting, conflict, gone or refused.
    pub state: String,
    pub message: Option<String>,
    /// In a conflict: the item as the server has it, as the edit started from it and as
    /// edited here.
    pub conflict: Option<(Item, Item, Item)>,
}

/// The household's waiting changes, oldest first.
pub fn waiting(hid: HouseholdId) -> Vec<Waiting> {
    let item = |e: &JsValue, name| {
        field(e, name)
            .as_string()
            .and_then(|t| serde_json::from_str::<Item>(&t).ok())
    };
    js_list(hid.to_string())
        .iter()
        .map(|e| Waiting {
            key: field(&e, "key").as_f64().unwrap_or_default(),
            kind: field(&e, "kind").as_string().unwrap_or_default(),
            id: field(&e, "id").as_string().unwrap_or_default(),
            label: field(&e, "label").as_string().unwrap_or_default(),
            state: field(&e, "state").as_string().unwrap_or_default(),
            message: field(&e, "message").as_string(),
            conflict: item(&e, "server")
                .zip(item(&e, "base"))
                .zip(item(&e, "mine"))
                .map(|((s, b), m)| (s, b, m)),
        })
        .collect()
}

pub async fn discard(key: f64) {
    js_discard(key).await;
}

/// Sends a refused change again; a conflict with the edits made here on top ("keep mine").
pub async fn retry(key: f64) {
    js_retry(key).await;
}

/// How much this site keeps on the device (bytes), and whether the browser promised to
/// keep it.
pub async fn storage_info() -> Option<(f64, bool)> {
    let info = js_storage_info().await;
    let used = field(&info, "used").as_f64()?;
    Some((used, field(&info, "persisted").is_truthy()))
}

/// A change for the outbox, as `offline.js` reads it.
#[derive(Serialize)]
pub struct Op<'a> {
    pub kind: &'static str,
    pub id: String,
    pub label: String,
    /// The request's body, as JSON text.
    #[serde(skip)]
    pub body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<&'a ItemFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<&'a ItemFields>,
    /// For a file: the item it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

impl Op<'_> {
    pub fn new(kind: &'static str, id: impl ToString, label: String) -> Self {
        Self {
            kind,
            id: id.to_string(),
            label,
            body: None,
            version: None,
            base: None,
            mine: None,
            item: None,
        }
    }
}

/// What became of a change: the server's answer (JSON text), or `None` when it was kept to
/// be sent later; or the server's refusal.
pub async fn submit(
    hid: HouseholdId,
    op: &Op<'_>,
    file: Option<web_sys::Blob>,
) -> Result<Option<String>, ErrorBody> {
    let network = || ErrorBody::new(ErrorCode::Network, crate::api::NETWORK_MESSAGE);
    let text = serde_json::to_string(op).map_err(|_| network())?;
    let outcome = js_submit(hid.to_string(), text, op.body.clone(), file).await;
    let field = |name: &str| {
        js_sys::Reflect::get(&outcome, &JsValue::from_str(name))
            .ok()
            .and_then(|v| v.as_string())
    };
    if let Some(sent) = field("sent") {
        return Ok(Some(sent));
    }
    if let Some(refused) = field("refused") {
        return Err(serde_json::from_str(&refused).unwrap_or_else(|_| network()));
    }
    Ok(None)
}

/// Calls `callback` whenever the copy or the outbox changes, until dropped.
pub struct Listening {
    id: u32,
    _closure: Closure<dyn FnMut()>,
}

pub fn listen(callback: Callback<()>) -> Listening {
    let closure = Closure::<dyn FnMut()>::new(move || callback.emit(()));
    let id = js_listen(&closure);
    Listening {
        id,
        _closure: closure,
    }
}

impl Drop for Listening {
    fn drop(&mut self) {
        js_unlisten(self.id);
    }
}

//! The one door to the server. Every page reads and writes through the functions here.
//!
//! Reads of a household (items, locations, tags, totals, the trash) go to the server and,
//! when it can't be reached or the household has changes still waiting to be sent, are
//! answered from this device's copy ([`crate::local::copy`]). Writes of items and locations
//! go through the outbox ([`crate::local::outbox`]), which keeps them until the server has
//! them.
//!
//! [`request`] sends one JSON request and decodes either the answer or the API's one error
//! body ([`ErrorBody`]); a request that never reached the server becomes
//! [`ErrorCode::Network`]. The functions below it are thin, one per endpoint.

use std::cell::RefCell;

use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::{
    Activity, AnnounceImport, ApiToken, Attachment, AttachmentId, CreateAttachment,
    CreateHousehold, CreateInvite, CreateItem, CreateLocation, CreateToken, ErrorBody, ErrorCode,
    Household, HouseholdId, ImportSource, ImportUpload, Invite, InviteId, InvitePreview, Item,
    ItemFields, ItemId, Job, JobError, JobId, JobKind, JobProgress, JobStatus, Joined, List,
    Location, LocationId, LoginRequest, Me, Member, NewToken, Page, Providers, Recognition,
    RecognizeRequest, RegisterRequest, StartClaimPack, StartExport, StartInsuranceReport, Stats,
    TagCount, TokenId, UpdateAttachment, UpdateLocation, UpdateMember, UploadTarget, UserId,
    UserResponse,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, Headers, ProgressEvent, Request, RequestCredentials, RequestInit, Response,
    XmlHttpRequest,
};
use yew::Callback;

use crate::local;

mod labels;
mod maintenance;
mod reminders;
mod security;
pub use labels::{assets, label_templates, labels_pdf};
pub use maintenance::*;
pub use reminders::*;
mod share_links;
pub use security::*;
pub use share_links::{
    create_share_link, revoke_share_link, share_links, share_uses, shared_info, shared_item,
    shared_items, shared_locations,
};

pub type ApiResult<T> = Result<T, ErrorBody>;

const BASE: &str = "/api/v1";

/// What a person reads when the server could not be reached at all.
pub const NETWORK_MESSAGE: &str = "Can't reach the server. Check your connection and try again.";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Patch,
    Put,
    Delete,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
            Self::Put => "PUT",
            Self::Delete => "DELETE",
        }
    }
}

thread_local! {
    static ON_SIGNED_OUT: RefCell<Option<Callback<()>>> = const { RefCell::new(None) };
}

/// Called whenever the server answers 401 to a request made with a session: the session
/// has ended (signed out elsewhere, or expired).
pub fn on_signed_out(callback: Callback<()>) {
    ON_SIGNED_OUT.with(|cell| *cell.borrow_mut() = Some(callback));
}

/// The session ended while changes were being sent from this device.
pub fn session_ended() {
    if let Some(callback) = ON_SIGNED_OUT.with(|cell| cell.borrow().clone()) {
        callback.emit(());
    }
}

thread_local! {
    static SENDING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A change on its way to the server, counted while it lives (see [`changes_in_flight`]).
pub struct Sending(());

impl Sending {
    pub fn start() -> Self {
        SENDING.with(|n| n.set(n.get() + 1));
        Self(())
    }
}

impl Drop for Sending {
    fn drop(&mut self) {
        SENDING.with(|n| n.set(n.get().saturating_sub(1)));
    }
}

/// How many changes (writes and uploads) are on their way to the server right now: a
/// reload waits for them.
pub fn changes_in_flight() -> usize {
    SENDING.with(std::cell::Cell::get)
}

/// Sends one request to the API and decodes its answer.
///
/// `path` is below `/api/v1`. `if_match` sends `If-Match: "<version>"` so that a stale edit
/// is refused with `precondition_failed` instead of overwriting someone else's change.
pub async fn request<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<String>,
    if_match: Option<i64>,
) -> ApiResult<T> {
    decode(&answer(method, path, body, if_match).await?)
}

/// Decodes a successful answer; an empty one reads as `null`. The only part of a request
/// that depends on what it returns, so each endpoint adds little to the bundle.
fn decode<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    let text = if text.trim().is_empty() { "null" } else { text };
    serde_json::from_str(text).map_err(|_| not_understood())
}

fn not_understood() -> ErrorBody {
    ErrorBody::new(
        ErrorCode::Internal,
        "The server sent an answer this app does not understand. Try reloading the page.",
    )
}

/// The text of a successful answer, or the error the server (or the network) gave.
async fn answer(
    method: Method,
    path: &str,
    body: Option<String>,
    if_match: Option<i64>,
) -> ApiResult<String> {
    let (status, text) = send(method, path, body.map(json_text), if_match).await?;
    respond(status, text, path)
}

/// The text of an answer, or the error it says (`status` 0: none came).
fn respond(status: u16, text: String, path: &str) -> ApiResult<String> {
    if status == 0 {
        return Err(ErrorBody::new(ErrorCode::Network, NETWORK_MESSAGE));
    }
    if (200..300).contains(&status) {
        return Ok(text);
    }
    let error = serde_json::from_str::<ErrorBody>(&text)
        .unwrap_or_else(|_| ErrorBody::new(code_for(status), fallback_message(status)));
    if error.error.code == ErrorCode::Unauthorized
        && !path.starts_with("/auth/")
        && path != "/me"
        && let Some(callback) = ON_SIGNED_OUT.with(|cell| cell.borrow().clone())
    {
        callback.emit(());
    }
    Err(error)
}

/// `body` is what to send and its `Content-Type`: JSON text, or a file.
async fn send(
    method: Method,
    path: &str,
    body: Option<(wasm_bindgen::JsValue, &str)>,
    if_match: Option<i64>,
) -> ApiResult<(u16, String)> {
    let _sending = (method != Method::Get).then(Sending::start);
    let network = |_| ErrorBody::new(ErrorCode::Network, NETWORK_MESSAGE);
    let init = RequestInit::new();
    init.set_method(method.as_str());
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(network)?;
    headers.set("Accept", "application/json").map_err(network)?;
    if let Some((body, content_type)) = &body {
        headers.set("Content-Type", content_type).map_err(network)?;
        init.set_body(body);
    }
    if let Some(version) = if_match {
        headers
            .set("If-Match", &format!("\"{version}\""))
            .map_err(network)?;
    }
    init.set_headers(&headers);
    let request =
        Request::new_with_str_and_init(&format!("{BASE}{path}"), &init).map_err(network)?;
    let window = web_sys::window().ok_or_else(|| network(wasm_bindgen::JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let status = response.status();
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    Ok((status, text))
}

fn code_for(status: u16) -> ErrorCode {
    match status {
        400 => ErrorCode::BadRequest,
        401 => ErrorCode::Unauthorized,
        403 => ErrorCode::Forbidden,
        404 => ErrorCode::NotFound,
        409 => ErrorCode::Conflict,
        412 => ErrorCode::PreconditionFailed,
        413 => ErrorCode::PayloadTooLarge,
        415 => ErrorCode::UnsupportedMediaType,
        422 => ErrorCode::ValidationFailed,
        429 => ErrorCode::RateLimited,
        502 => ErrorCode::UpstreamFailed,
        503 | 504 => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    }
}

fn fallback_message(status: u16) -> String {
    match status {
        502..=504 => "The server is not available right now. Try again in a moment.".into(),
        _ => format!("Something went wrong on the server (HTTP {status}). Try again."),
    }
}

fn json(body: &impl Serialize) -> Option<String> {
    serde_json::to_string(body).ok()
}

async fn get<T: DeserializeOwned>(path: &str) -> ApiResult<T> {
    request(Method::Get, path, None, None).await
}

/// A query string from pairs, leaving out empty values.
fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(key, value)| {
            value
                .filter(|v| !v.is_empty())
                .map(|v| format!("{key}={}", String::from(js_sys::encode_uri_component(v))))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

// ---------------------------------------------------------------- accounts

pub async fn register(body: &RegisterRequest) -> ApiResult<UserResponse> {
    request(Method::Post, "/auth/register", json(body), None).await
}

pub async fn login(body: &LoginRequest) -> ApiResult<UserResponse> {
    request(Method::Post, "/auth/login", json(body), None).await
}

pub async fn logout() -> ApiResult<()> {
    request(Method::Post, "/auth/logout", None, None).await
}

/// Who is signed in and their households, as the server says; without a network, as this
/// device last saw them.
pub async fn session() -> ApiResult<(Me, Vec<Household>)> {
    let asked = async {
        let me = answer(Method::Get, "/me", None, None).await?;
        let households = answer(Method::Get, "/households", None, None).await?;
        Ok::<_, ErrorBody>((me, households))
    };
    let (me, households, confirmed) = match asked.await {
        Ok((me, households)) => {
            local::save_session(&me, &households);
            (me, households, true)
        }
        Err(e) if e.error.code == ErrorCode::Network => {
            let (me, households) = local::saved_session().ok_or(e)?;
            (me, households, false)
        }
        Err(e) => return Err(e),
    };
    let me: Me = decode(&me)?;
    let households: List<Household> = decode(&households)?;
    local::set_user(me.user.id, confirmed);
    Ok((me, households.items))
}

/// Reads a household's `path` from the server or, when it can't be reached, is slow, or
/// changes made here are still on their way, from this device's copy (`what` and `params`
/// say what to read there); the server's error when the device has no copy.
async fn read(
    hid: HouseholdId,
    path: &str,
    what: &str,
    params: local::Params,
) -> ApiResult<String> {
    let (status, text) = local::fetch_or_copy(hid, &format!("{BASE}{path}"), what, params).await;
    respond(status, text, path)
}

/// Reads the device's copy of an item.
async fn local_item(hid: HouseholdId, id: ItemId) -> ApiResult<Item> {
    let params = local::Params::new().with("id", Some(id.to_string()));
    let text = local::read(hid, "item", params)
        .await
        .ok_or_else(|| ErrorBody::new(ErrorCode::Network, NETWORK_MESSAGE))?;
    decode(&text)
}

/// A change through the outbox: the server's answer (JSON text), or `None` once it was kept
/// to be sent later (the copy shows it).
async fn change(hid: HouseholdId, op: &local::Op<'_>) -> ApiResult<Option<String>> {
    local::submit(hid, op, None).await
}

pub async fn providers() -> ApiResult<Providers> {
    get("/auth/providers").await
}

/// Where "Sign in with Google" goes: the server sends the browser on to Google and, once
/// signed in, back to `return_to`.
pub fn google_sign_in_url(return_to: Option<&str>) -> String {
    let back = return_to.unwrap_or("/");
    format!(
        "/api/v1/auth/google/start?return_to={}",
        js_sys::encode_uri_component(back)
    )
}

// ---------------------------------------------------------------- API tokens

pub async fn tokens() -> ApiResult<List<ApiToken>> {
    get("/tokens").await
}

/// The answer carries the token's secret, which can't be read again later.
pub async fn create_token(body: &CreateToken) -> ApiResult<NewToken> {
    request(Method::Post, "/tokens", json(body), None).await
}

pub async fn revoke_token(id: TokenId) -> ApiResult<()> {
    request(Method::Delete, &format!("/tokens/{id}"), None, None).await
}

// ---------------------------------------------------------------- households

pub async fn create_household(body: &CreateHousehold) -> ApiResult<Household> {
    request(Method::Post, "/households", json(body), None).await
}

// ---------------------------------------------------------------- members and invitations

pub async fn members(hid: HouseholdId) -> ApiResult<List<Member>> {
    get(&format!("/households/{hid}/members")).await
}

/// Owners only; refused with `conflict` when it would leave the household without an owner.
pub async fn update_member(hid: HouseholdId, uid: UserId, body: &UpdateMember) -> ApiResult<()> {
    request(
        Method::Patch,
        &format!("/households/{hid}/members/{uid}"),
        json(body),
        None,
    )
    .await
}

/// Owners remove anyone; removing yourself is leaving.
pub async fn remove_member(hid: HouseholdId, uid: UserId) -> ApiResult<()> {
    request(
        Method::Delete,
        &format!("/households/{hid}/members/{uid}"),
        None,
        None,
    )
    .await
}

/// The answer carries the link, which can't be read again later.
pub async fn create_invite(hid: HouseholdId, body: &CreateInvite) -> ApiResult<Invite> {
    request(
        Method::Post,
        &format!("/households/{hid}/invites"),
        json(body),
        None,
    )
    .await
}

pub async fn invites(hid: HouseholdId) -> ApiResult<List<Invite>> {
    get(&format!("/households/{hid}/invites")).await
}

pub async fn revoke_invite(hid: HouseholdId, id: InviteId) -> ApiResult<()> {
    request(
        Method::Delete,
        &format!("/households/{hid}/invites/{id}"),
        None,
        None,
    )
    .await
}

pub async fn invite_preview(code: &str) -> ApiResult<InvitePreview> {
    get(&format!("/invites/{}", js_sys::encode_uri_component(code))).await
}

pub async fn accept_invite(code: &str) -> ApiResult<Joined> {
    let code = String::from(js_sys::encode_uri_component(code));
    request(Method::Post, &format!("/invites/{code}/accept"), None, None).await
}

// ---------------------------------------------------------------- locations

pub async fn locations(hid: HouseholdId) -> ApiResult<List<Location>> {
    let path = format!("/households/{hid}/locations");
    decode(&read(hid, &path, "locations", local::Params::new()).await?)
}

async fn local_location(hid: HouseholdId, id: LocationId) -> ApiResult<Location> {
    locations(hid)
        .await?
        .items
        .into_iter()
        .find(|l| l.id == id)
        .ok_or_else(|| ErrorBody::new(ErrorCode::Network, NETWORK_MESSAGE))
}

pub async fn create_location(hid: HouseholdId, body: &CreateLocation) -> ApiResult<Location> {
    let mut body = body.clone();
    let id = *body.id.get_or_insert_with(LocationId::new);
    let mut op = local::Op::new(
        "create_location",
        id,
        format!("Add location “{}”", body.name),
    );
    op.body = json(&body);
    match change(hid, &op).await? {
        Some(text) => decode(&text),
        None => local_location(hid, id).await,
    }
}

/// `name` is the location's name before the change, for the list of waiting changes.
pub async fn update_location(
    hid: HouseholdId,
    id: LocationId,
    name: &str,
    body: &UpdateLocation,
) -> ApiResult<Location> {
    let mut op = local::Op::new("edit_location", id, format!("Change location “{name}”"));
    op.body = json(body);
    match change(hid, &op).await? {
        Some(text) => decode(&text),
        None => local_location(hid, id).await,
    }
}

pub async fn delete_location(hid: HouseholdId, id: LocationId, name: &str) -> ApiResult<()> {
    let op = local::Op::new("delete_location", id, format!("Delete location “{name}”"));
    change(hid, &op).await.map(drop)
}

// ---------------------------------------------------------------- items

/// How the item list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Name,
    Updated,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Newest, Sort::Oldest, Sort::Name, Sort::Updated];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Newest => "newest",
            Self::Oldest => "oldest",
            Self::Name => "name",
            Self::Updated => "updated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Newest => "Newest first",
            Self::Oldest => "Oldest first",
            Self::Name => "Name (A–Z)",
            Self::Updated => "Recently updated",
        }
    }

    pub fn parse(raw: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .unwrap_or_default()
    }
}

/// Which location the item list is narrowed to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LocationFilter {
    #[default]
    Any,
    /// Items without a location.
    Unplaced,
    /// Items in this location or anywhere below it.
    In(LocationId),
}

/// One request for a page of items.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemQuery {
    pub q: String,
    pub location: LocationFilter,
    pub tag: Option<String>,
    pub sort: Sort,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

pub async fn items(hid: HouseholdId, params: &ItemQuery) -> ApiResult<Page<Item>> {
    let location = match params.location {
        LocationFilter::Any => None,
        LocationFilter::Unplaced => Some("none".to_string()),
        LocationFilter::In(id) => Some(id.to_string()),
    };
    let limit = params.limit.map(|l| l.to_string());
    let qs = query(&[
        ("q", Some(params.q.trim())),
        ("location_id", location.as_deref()),
        ("tag", params.tag.as_deref()),
        ("sort", Some(params.sort.as_str())),
        ("limit", limit.as_deref()),
        ("cursor", params.cursor.as_deref()),
    ]);
    let local = local::Params::new()
        .with("q", Some(params.q.as_str()))
        .with("location", location)
        .with("tag", params.tag.as_deref())
        .with("sort", Some(params.sort.as_str()))
        .with("limit", params.limit)
        .with("cursor", params.cursor.as_deref());
    let path = format!("/households/{hid}/items{qs}");
    decode(&read(hid, &path, "items", local).await?)
}

/// How many live items the search and filters of `params` pick: counted in this device's
/// copy once it is up to date (it searches by the server's rules, and the server checks the
/// count again when it is used); through the server's pages when the device has no copy.
pub async fn count_items(hid: HouseholdId, params: &ItemQuery) -> ApiResult<u64> {
    local::sync(hid).await;
    let location = match params.location {
        LocationFilter::In(id) => Some(id.to_string()),
        _ => None,
    };
    let local = local::Params::new()
        .with("q", Some(params.q.as_str()))
        .with("location", location)
        .with("tag", params.tag.as_deref());
    if let Some(n) = local::read(hid, "count", local)
        .await
        .and_then(|n| n.parse().ok())
    {
        return Ok(n);
    }
    let mut query = ItemQuery {
        limit: Some(200),
        cursor: None,
        ..params.clone()
    };
    let mut n = 0;
    loop {
        let page = items(hid, &query).await?;
        n += page.items.len() as u64;
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => return Ok(n),
        }
    }
}

pub async fn item(hid: HouseholdId, id: ItemId) -> ApiResult<Item> {
    let path = format!("/households/{hid}/items/{id}");
    let params = local::Params::new().with("id", Some(id.to_string()));
    decode(&read(hid, &path, "item", params).await?)
}

pub async fn create_item(hid: HouseholdId, body: &CreateItem) -> ApiResult<Item> {
    let mut body = body.clone();
    let id = *body.id.get_or_insert_with(ItemId::new);
    let label = format!("Add “{}”", body.name.as_deref().unwrap_or_default());
    let mut op = local::Op::new("create_item", id, label);
    op.body = json(&body);
    match change(hid, &op).await? {
        Some(text) => decode(&text),
        None => local_item(hid, id).await,
    }
}

/// Edits `before` (as it was read) into `mine`. While the page waits, a newer version on
/// the server is refused with `precondition_failed`; an edit sent later is merged with it,
/// or waits as a conflict for the person to settle.
pub async fn update_item(hid: HouseholdId, before: &Item, mine: ItemFields) -> ApiResult<Item> {
    let base = before.fields();
    let mut op = local::Op::new("edit_item", before.id, format!("Edit “{}”", mine.name));
    op.version = Some(before.version);
    op.base = Some(&base);
    op.mine = Some(&mine);
    match change(hid, &op).await? {
        Some(text) => decode(&text),
        None => local_item(hid, before.id).await,
    }
}

/// `name` is the item's, for the list of waiting changes.
pub async fn delete_item(hid: HouseholdId, id: ItemId, name: &str) -> ApiResult<()> {
    let label = format!("Move “{name}” to the trash");
    let op = local::Op::new("delete_item", id, label);
    change(hid, &op).await.map(drop)
}

pub async fn restore_item(hid: HouseholdId, id: ItemId, name: &str) -> ApiResult<Item> {
    let label = if name.is_empty() {
        "Restore an item from the trash".to_string()
    } else {
        format!("Restore “{name}”")
    };
    let op = local::Op::new("restore_item", id, label);
    match change(hid, &op).await? {
        Some(text) => decode(&text),
        None => local_item(hid, id).await,
    }
}

pub async fn item_history(hid: HouseholdId, id: ItemId) -> ApiResult<List<Activity>> {
    get(&format!("/households/{hid}/items/{id}/history")).await
}

// ---------------------------------------------------------------- photos and documents

fn attachments_path(hid: HouseholdId, item: ItemId) -> String {
    format!("/households/{hid}/items/{item}/attachments")
}

/// Ready files first by what they are: the primary photo, the other photos, the documents.
pub async fn attachments(hid: HouseholdId, item: ItemId) -> ApiResult<List<Attachment>> {
    get(&attachments_path(hid, item)).await
}

/// What this app reads of the answer to announcing a file ([`shared::NewAttachment`]): the
/// pending attachment's id and where to send the bytes. Read without `#[serde(flatten)]`,
/// which would add its general-purpose decoding to the bundle.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct Announced {
    pub id: AttachmentId,
    pub upload: UploadTarget,
}

/// Announces a file; the answer says where to send its bytes ([`upload`]), after which
/// [`complete_attachment`] has the server check it.
pub async fn create_attachment(
    hid: HouseholdId,
    item: ItemId,
    body: &CreateAttachment,
) -> ApiResult<Announced> {
    request(Method::Post, &attachments_path(hid, item), json(body), None).await
}

/// The bytes have arrived: the server checks them and makes the thumbnail. A refused file
/// (`payload_too_large`, `unsupported_media_type`, `validation_failed`) is gone afterwards.
pub async fn complete_attachment(
    hid: HouseholdId,
    item: ItemId,
    id: AttachmentId,
) -> ApiResult<Attachment> {
    let path = format!("{}/{id}/complete", attachments_path(hid, item));
    request(Method::Post, &path, None, None).await
}

/// Makes a photo the primary one, or changes a file's kind or name.
pub async fn update_attachment(
    hid: HouseholdId,
    item: ItemId,
    id: AttachmentId,
    body: &UpdateAttachment,
) -> ApiResult<Attachment> {
    let path = format!("{}/{id}", attachments_path(hid, item));
    request(Method::Patch, &path, json(body), None).await
}

pub async fn delete_attachment(hid: HouseholdId, item: ItemId, id: AttachmentId) -> ApiResult<()> {
    let path = format!("{}/{id}", attachments_path(hid, item));
    request(Method::Delete, &path, None, None).await
}

/// What a person reads when an upload never got an answer.
pub const UPLOAD_NETWORK_MESSAGE: &str =
    "The upload did not get through. Check your connection and try again.";

/// Sends a file's bytes where [`create_attachment`] said, with exactly the headers it gave.
///
/// The address may be this server or a signed one on another origin (object storage), so
/// no cookies go along, and `XMLHttpRequest` is used because it reports upload progress:
/// `on_progress` hears the fraction sent, 0 to 1. A refusal is decoded from the API's error
/// body when it sent one; otherwise (object storage answers XML) it is said in plain words.
pub async fn upload(
    target: &UploadTarget,
    file: &Blob,
    on_progress: Callback<f64>,
) -> ApiResult<()> {
    let _sending = Sending::start();
    let network = |_| ErrorBody::new(ErrorCode::Network, UPLOAD_NETWORK_MESSAGE);
    let xhr = XmlHttpRequest::new().map_err(network)?;
    xhr.open_with_async(&target.method, &target.url, true)
        .map_err(network)?;
    xhr.set_with_credentials(false);
    for (name, value) in &target.headers {
        // The browser sets a few headers itself (Content-Length, Host) and ignores them here.
        xhr.set_request_header(name, value).map_err(network)?;
    }
    let progress = Closure::<dyn FnMut(ProgressEvent)>::new(move |event: ProgressEvent| {
        if event.length_computable() && event.total() > 0.0 {
            on_progress.emit((event.loaded() / event.total()).clamp(0.0, 1.0));
        }
    });
    xhr.upload()
        .map_err(network)?
        .set_onprogress(Some(progress.as_ref().unchecked_ref()));
    // `loadend` follows every ending: done, failed, aborted or timed out.
    let mut resolve = None;
    let ended = js_sys::Promise::new(&mut |res, _rej| resolve = Some(res));
    let resolve = resolve.ok_or_else(|| network(wasm_bindgen::JsValue::NULL))?;
    let on_end = Closure::<dyn FnMut()>::new(move || {
        let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
    });
    xhr.set_onloadend(Some(on_end.as_ref().unchecked_ref()));
    xhr.send_with_opt_blob(Some(file)).map_err(network)?;
    let _ = JsFuture::from(ended).await;
    xhr.set_onloadend(None);
    if let Ok(target) = xhr.upload() {
        target.set_onprogress(None);
    }
    drop((progress, on_end));

    let status = xhr.status().unwrap_or(0);
    upload_outcome(status, xhr.response_text().ok().flatten().as_deref())
}

/// What an upload's answer means: nothing to say, or why it failed.
fn upload_outcome(status: u16, body: Option<&str>) -> ApiResult<()> {
    match status {
        0 => Err(ErrorBody::new(ErrorCode::Network, UPLOAD_NETWORK_MESSAGE)),
        200..=299 => Ok(()),
        _ => Err(body
            .and_then(|text| serde_json::from_str::<ErrorBody>(text).ok())
            .unwrap_or_else(|| {
                ErrorBody::new(
                    code_for(status),
                    format!("The upload failed (status {status})."),
                )
            })),
    }
}

// ---------------------------------------------------------------- trash

pub async fn trash(hid: HouseholdId, cursor: Option<&str>) -> ApiResult<Page<Item>> {
    let qs = query(&[("cursor", cursor)]);
    let local = local::Params::new().with("cursor", cursor);
    decode(&read(hid, &format!("/households/{hid}/trash{qs}"), "trash", local).await?)
}

pub async fn purge_item(hid: HouseholdId, id: ItemId) -> ApiResult<()> {
    request(
        Method::Delete,
        &format!("/households/{hid}/trash/{id}"),
        None,
        None,
    )
    .await
}

pub async fn empty_trash(hid: HouseholdId) -> ApiResult<()> {
    request(
        Method::Delete,
        &format!("/households/{hid}/trash"),
        None,
        None,
    )
    .await
}

// ---------------------------------------------------------------- tags and totals

pub async fn tags(hid: HouseholdId) -> ApiResult<List<TagCount>> {
    let path = format!("/households/{hid}/tags");
    decode(&read(hid, &path, "tags", local::Params::new()).await?)
}

thread_local! {
    /// The files' count and bytes in each household's last totals from the server: the
    /// device keeps no copy of the files to count.
    static FILES: RefCell<Vec<(HouseholdId, i64, i64)>> = const { RefCell::new(Vec::new()) };
}

/// The household's totals; `currency` is the household's, for totals counted offline.
pub async fn stats(hid: HouseholdId, currency: &shared::Currency) -> ApiResult<Stats> {
    let currency = Some(currency.to_string());
    let files = FILES.with(|f| {
        f.borrow()
            .iter()
            .find(|f| f.0 == hid)
            .map_or((0, 0), |f| (f.1, f.2))
    });
    let params = local::Params::new().with("currency", currency).with(
        "files",
        Some(js_sys::Array::of2(
            &(files.0 as f64).into(),
            &(files.1 as f64).into(),
        )),
    );
    let path = format!("/households/{hid}/stats");
    let stats: Stats = decode(&read(hid, &path, "stats", params).await?)?;
    FILES.with(|f| {
        let mut f = f.borrow_mut();
        f.retain(|f| f.0 != hid);
        f.push((hid, stats.attachment_count, stats.storage_bytes));
    });
    Ok(stats)
}

// ---------------------------------------------------------------- capture: photos, recognition

/// Where a photo's attachment lives: an item's attachments, or (`None`) the household's
/// photos not filed into any item yet (shots on the capture page).
fn photos_path(hid: HouseholdId, item: Option<ItemId>) -> String {
    match item {
        Some(item) => attachments_path(hid, item),
        None => format!("/households/{hid}/attachments"),
    }
}

/// Keeps a photo or document of `item` on the device, to be announced, sent and checked
/// when the server can be reached: `true` once it is kept (`false` when the server took it
/// at once); the server's refusal otherwise.
pub async fn keep_file(
    hid: HouseholdId,
    item: ItemId,
    body: &CreateAttachment,
    file: &Blob,
) -> ApiResult<bool> {
    let id = body.id.unwrap_or_default();
    let name = body.filename.as_deref().unwrap_or_default();
    let mut op = local::Op::new("add_file", id, format!("Add “{name}”"));
    op.body = json(body);
    op.item = Some(item.to_string());
    Ok(local::submit(hid, &op, Some(file.clone())).await?.is_none())
}

/// Whether a new file should wait on the device: the browser is offline, or changes made
/// here (perhaps the item itself) are not on the server yet.
pub fn files_wait(hid: HouseholdId) -> bool {
    local::offline() || local::has_waiting(hid)
}

/// What the capture page reads of a stored photo ([`Attachment`]).
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct StoredPhoto {
    pub id: AttachmentId,
    #[serde(default)]
    pub thumbnail_url: Option<String>,
}

/// Announces a photo of `item`, or an unfiled one; the answer says where to send its bytes
/// ([`upload`]).
pub async fn announce_photo(
    hid: HouseholdId,
    item: Option<ItemId>,
    body: &CreateAttachment,
) -> ApiResult<Announced> {
    request(Method::Post, &photos_path(hid, item), json(body), None).await
}

/// The bytes have arrived: the server checks them. `conflict` means they are not there yet
/// (an upload can take a moment to reach every region): ask again shortly.
pub async fn complete_photo(
    hid: HouseholdId,
    item: Option<ItemId>,
    id: AttachmentId,
) -> ApiResult<StoredPhoto> {
    let path = format!("{}/{id}/complete", photos_path(hid, item));
    request(Method::Post, &path, None, None).await
}

/// Deletes a photo: a shot thrown away, or an announcement whose bytes never came.
pub async fn delete_photo(
    hid: HouseholdId,
    item: Option<ItemId>,
    id: AttachmentId,
) -> ApiResult<()> {
    let path = format!("{}/{id}", photos_path(hid, item));
    request(Method::Delete, &path, None, None).await
}

/// Files an unfiled photo into an item; it becomes the item's primary photo when it has
/// none.
pub async fn file_photo(
    hid: HouseholdId,
    id: AttachmentId,
    item: ItemId,
) -> ApiResult<StoredPhoto> {
    #[derive(Serialize)]
    struct FileInto {
        item_id: ItemId,
    }
    let path = format!("{}/{id}", photos_path(hid, None));
    request(
        Method::Patch,
        &path,
        json(&FileInto { item_id: item }),
        None,
    )
    .await
}

/// What the photos show, as suggestions; nothing is saved. `unavailable` when the server
/// has no recognition set up, `rate_limited` past the household's daily limit.
pub async fn recognize(hid: HouseholdId, ids: &[AttachmentId]) -> ApiResult<Recognition> {
    let body = RecognizeRequest {
        attachment_ids: ids.to_vec(),
    };
    request(
        Method::Post,
        &format!("/households/{hid}/recognize"),
        json(&body),
        None,
    )
    .await
}

// ---------------------------------------------------------------- import, export and jobs

/// Starts a job: `POST path` answers 202 `{"job": Job}`, of which only the id is read here;
/// the job itself is read with [`job`], so that its decoding is in the bundle once.
async fn start_job(path: &str, body: Option<(wasm_bindgen::JsValue, &str)>) -> ApiResult<JobId> {
    let (status, text) = send(Method::Post, path, body, None).await?;
    let answer: serde_json::Value = decode(&respond(status, text, path)?)?;
    answer["job"]["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or_else(not_understood)
}

/// JSON text as a request body, with its type.
fn json_text(body: String) -> (wasm_bindgen::JsValue, &'static str) {
    (wasm_bindgen::JsValue::from_str(&body), "application/json")
}

/// Starts an export: a CSV file of the items `body` picks, or the whole household's backup.
pub async fn start_export(hid: HouseholdId, body: &StartExport) -> ApiResult<JobId> {
    start_job(
        &format!("/households/{hid}/exports"),
        json(body).map(json_text),
    )
    .await
}

fn imports_path(hid: HouseholdId, dry_run: bool) -> String {
    format!("/households/{hid}/imports?dry_run={dry_run}")
}

/// Starts an import of a file of up to [`shared::MAX_IMPORT_BODY_BYTES`], sent as the
/// request body; `dry_run` reports what would happen and writes nothing.
pub async fn import_file(
    hid: HouseholdId,
    dry_run: bool,
    file: &Blob,
    content_type: &str,
) -> ApiResult<JobId> {
    start_job(
        &imports_path(hid, dry_run),
        Some((file.into(), content_type)),
    )
    .await
}

/// Starts an import of a file sent before: an earlier dry run's, or an announced upload's.
pub async fn import_from(
    hid: HouseholdId,
    dry_run: bool,
    source: &ImportSource,
) -> ApiResult<JobId> {
    start_job(&imports_path(hid, dry_run), json(source).map(json_text)).await
}

/// Announces an import file too large to be a request body; the answer says where to send
/// its bytes ([`upload`]).
pub async fn announce_import(hid: HouseholdId, body: &AnnounceImport) -> ApiResult<ImportUpload> {
    let path = format!("/households/{hid}/imports/uploads");
    request(Method::Post, &path, json(body), None).await
}

// ---------------------------------------------------------------- bulk edits and reports

/// What a bulk change did: `{"matched", "updated", "unchanged", "failed": [{"id", "code",
/// "message"}]}`, read where it is shown; or, for a large selection, the job doing it, whose
/// `result` says the same when it is done.
pub enum BulkAnswer {
    Done(serde_json::Value),
    Job(JobId),
}

/// Changes many items at once: those `body`'s selection picks (by id, or by a filter and the
/// number of items it is expected to match, refused with `conflict` when that changed).
pub async fn bulk_edit(hid: HouseholdId, body: &impl Serialize) -> ApiResult<BulkAnswer> {
    let path = format!("/households/{hid}/items/bulk");
    let answer: serde_json::Value = request(Method::Post, &path, json(body), None).await?;
    Ok(match answer["job"]["id"].as_str() {
        Some(id) => BulkAnswer::Job(id.parse().map_err(|_| not_understood())?),
        None => BulkAnswer::Done(answer),
    })
}

/// Starts the insurance report (a PDF) of the items `body` picks.
pub async fn start_insurance_report(
    hid: HouseholdId,
    body: &StartInsuranceReport,
) -> ApiResult<JobId> {
    let path = format!("/households/{hid}/reports/insurance");
    start_job(&path, json(body).map(json_text)).await
}

/// Starts a claim pack (a zip: the items' report, every file of theirs, a manifest).
pub async fn start_claim_pack(hid: HouseholdId, body: &StartClaimPack) -> ApiResult<JobId> {
    let path = format!("/households/{hid}/reports/claim-pack");
    start_job(&path, json(body).map(json_text)).await
}

pub async fn job(hid: HouseholdId, id: JobId) -> ApiResult<Job> {
    let job: serde_json::Value = get(&format!("/households/{hid}/jobs/{id}")).await?;
    read_job(&job).ok_or_else(not_understood)
}

/// A [`Job`] read from its JSON by hand: `Job`'s derived decoding, with its nested types and
/// dates, would add about 3 KiB to the bundle; this reuses what the bundle has.
fn read_job(job: &serde_json::Value) -> Option<Job> {
    use time::format_description::well_known::Rfc3339;
    let text = |key: &str| job.get(key).and_then(serde_json::Value::as_str);
    let at = |key: &str| text(key).and_then(|t| time::OffsetDateTime::parse(t, &Rfc3339).ok());
    let progress = |key: &str| job["progress"][key].as_u64().unwrap_or(0);
    Some(Job {
        id: text("id")?.parse().ok()?,
        kind: JobKind::parse(text("kind")?)?,
        status: JobStatus::parse(text("status")?)?,
        progress: JobProgress {
            done: progress("done"),
            total: progress("total"),
        },
        result: job.get("result").filter(|r| !r.is_null()).cloned(),
        error: job["error"]["message"].as_str().map(|message| JobError {
            code: job["error"]["code"].as_str().unwrap_or("internal").into(),
            message: message.into(),
        }),
        download_url: text("download_url").map(Into::into),
        created_at: at("created_at")?,
        finished_at: at("finished_at"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_to_announcing_a_file_gives_its_id_and_where_to_send_it() {
        let answer = r#"{"id":"0192f0c4-5b1a-7cc0-8000-000000000001","item_id":"0192f0c4-5b1a-7cc0-8000-000000000002",
            "kind":"photo","filename":"a.png","content_type":"image/png","size":10,"status":"pending",
            "width":null,"height":null,"primary":false,"created_at":"2025-01-01T10:00:00Z","url":null,
            "thumbnail_url":null,"upload":{"url":"https://bucket.example/a?sig=1","method":"PUT",
            "headers":{"Content-Type":"image/png"},"expires_at":"2025-01-01T10:15:00Z"}}"#;
        let announced: Announced = serde_json::from_str(answer).unwrap();
        let full: shared::NewAttachment = serde_json::from_str(answer).unwrap();
        assert_eq!(announced.id, full.attachment.id);
        assert_eq!(announced.upload, full.upload);
        assert_eq!(announced.upload.headers["Content-Type"], "image/png");
    }

    #[test]
    fn a_job_is_read_as_its_type_decodes_it() {
        let running = r#"{"id":"0192f0c4-5b1a-7cc0-8000-000000000003","kind":"import_csv",
            "status":"running","progress":{"done":120,"total":500},"result":null,"error":null,
            "download_url":null,"created_at":"2025-01-01T10:00:00Z","finished_at":null}"#;
        let done = r#"{"id":"0192f0c4-5b1a-7cc0-8000-000000000004","kind":"export_csv",
            "status":"done","progress":{"done":2,"total":2},"result":{"items":2,"bytes":310},
            "error":null,"download_url":"http://127.0.0.1:8080/files/x?sig=1",
            "created_at":"2025-01-01T10:00:00Z","finished_at":"2025-01-01T10:00:02.5Z"}"#;
        let failed = r#"{"id":"0192f0c4-5b1a-7cc0-8000-000000000005","kind":"restore",
            "status":"failed","progress":{"done":0,"total":0},"result":null,
            "error":{"code":"conflict","message":"the household is not empty"},
            "download_url":null,"created_at":"2025-01-01T10:00:00Z",
            "finished_at":"2025-01-01T10:00:01Z"}"#;
        for answer in [running, done, failed] {
            let value: serde_json::Value = serde_json::from_str(answer).unwrap();
            let decoded: Job = serde_json::from_str(answer).unwrap();
            assert_eq!(read_job(&value), Some(decoded));
        }
    }

    #[test]
    fn a_job_without_its_id_or_status_is_not_understood() {
        let value = serde_json::json!({"id": "nope", "kind": "backup", "status": "done"});
        assert_eq!(read_job(&value), None);
    }

    #[test]
    fn an_upload_answered_with_2xx_succeeded() {
        assert_eq!(upload_outcome(200, Some("")), Ok(()));
        assert_eq!(upload_outcome(204, None), Ok(()));
    }

    #[test]
    fn an_upload_without_an_answer_is_a_network_failure() {
        let error = upload_outcome(0, None).unwrap_err();
        assert_eq!(error.error.code, ErrorCode::Network);
        assert_eq!(error.error.message, UPLOAD_NETWORK_MESSAGE);
    }

    #[test]
    fn an_upload_refused_by_the_api_carries_its_message() {
        let body =
            r#"{"error":{"code":"payload_too_large","message":"Files can be at most 20 MB."}}"#;
        let error = upload_outcome(413, Some(body)).unwrap_err();
        assert_eq!(error.error.code, ErrorCode::PayloadTooLarge);
        assert_eq!(error.error.message, "Files can be at most 20 MB.");
    }

    #[test]
    fn an_upload_refused_by_object_storage_says_the_status() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code></Error>";
        let error = upload_outcome(403, Some(xml)).unwrap_err();
        assert_eq!(error.error.code, ErrorCode::Forbidden);
        assert_eq!(error.error.message, "The upload failed (status 403).");
    }
}

//! What happens in the background: a shot is announced, sent and checked, then
//! recognised; an object of a shot becomes an item (or goes to an existing one) with the
//! photo filed into it. Each step tells the queue how it went.

use gloo_timers::callback::Timeout;
use shared::{
    AttachmentId, AttachmentKind, CreateAttachment, CreateItem, ErrorBody, ErrorCode, HouseholdId,
    ItemId,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Blob;
use yew::Callback;

use super::shot::{
    Action, Key, RecognizeFailure, Resume, Shot, Stage, fill_empty, recognize_failure, refused,
};
use super::store;
use crate::api;
use crate::components::alert_text;

/// How often a check is asked again while the bytes are still on their way.
const CHECK_RETRIES: u32 = 5;
/// The first wait before asking again, doubled each time.
const CHECK_BACKOFF_MS: u32 = 250;

/// The household whose queue every step reports to.
#[derive(Clone, Copy)]
pub struct Ctx {
    pub hid: HouseholdId,
}

impl Ctx {
    fn emit(&self, action: Action) {
        store::dispatch(self.hid, action);
    }
}

/// The bytes of a shot and how to name them.
#[derive(Clone)]
pub struct Bytes {
    pub blob: Blob,
    pub filename: String,
    pub content_type: String,
}

impl Bytes {
    fn announcement(&self) -> CreateAttachment {
        CreateAttachment {
            id: Some(AttachmentId::new()),
            kind: Some(AttachmentKind::Photo.as_str().to_string()),
            filename: Some(self.filename.clone()),
            content_type: Some(self.content_type.clone()),
            size: Some(self.blob.size() as i64),
        }
    }
}

/// Which copy of the photo an item gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PhotoUse {
    /// The shot's own unfiled photo, filed into the item.
    File(AttachmentId),
    /// The same bytes sent again as a photo of the item (the shot's photo went to another).
    Copy,
}

async fn sleep(ms: u32) {
    let wait = js_sys::Promise::new(&mut |resolve, _| {
        Timeout::new(ms, move || {
            let _ = resolve.call0(&JsValue::NULL);
        })
        .forget();
    });
    let _ = JsFuture::from(wait).await;
}

/// Sends a photo: announced (as a photo of `item`, or unfiled), its bytes PUT, then
/// checked. With `shot`, the queue hears how it goes. The error says where to pick up.
async fn send_photo(
    hid: HouseholdId,
    item: Option<ItemId>,
    bytes: &Bytes,
    shot: Option<Key>,
) -> Result<AttachmentId, (ErrorBody, Resume)> {
    let announced = api::announce_photo(hid, item, &bytes.announcement())
        .await
        .map_err(|e| (e, Resume::Upload))?;
    let id = announced.id;
    let progress = match shot {
        Some(key) => {
            store::dispatch(hid, Action::Announced(key, id));
            Callback::from(move |fraction| store::dispatch(hid, Action::Progress(key, fraction)))
        }
        None => Callback::noop(),
    };
    if let Err(e) = api::upload(&announced.upload, &bytes.blob, progress).await {
        // The bytes never arrived: take the announcement back.
        let _ = api::delete_photo(hid, item, id).await;
        if let Some(key) = shot {
            store::dispatch(hid, Action::PhotoGone(key));
        }
        return Err((e, Resume::Upload));
    }
    check(hid, item, id, shot).await
}

/// Has the server check a photo whose bytes were sent, again after a short wait while it
/// answers `conflict` (the bytes haven't reached it yet).
async fn check(
    hid: HouseholdId,
    item: Option<ItemId>,
    id: AttachmentId,
    shot: Option<Key>,
) -> Result<AttachmentId, (ErrorBody, Resume)> {
    if let Some(key) = shot {
        store::dispatch(hid, Action::Checking(key));
    }
    let mut attempt = 0;
    loop {
        match api::complete_photo(hid, item, id).await {
            Ok(_) => return Ok(id),
            Err(e) if e.error.code == ErrorCode::Conflict && attempt < CHECK_RETRIES => {
                sleep(CHECK_BACKOFF_MS << attempt).await;
                attempt += 1;
            }
            Err(e) => {
                if let Some(key) = shot.filter(|_| refused(e.error.code)) {
                    // A refused file is gone from the server.
                    store::dispatch(hid, Action::PhotoGone(key));
                }
                return Err((e, Resume::Complete(id)));
            }
        }
    }
}

/// Takes a shot from `from` to ready (or failed).
pub async fn process(ctx: Ctx, key: Key, bytes: Bytes, from: Resume) {
    let stored = match from {
        Resume::Upload => send_photo(ctx.hid, None, &bytes, Some(key)).await,
        Resume::Complete(id) => check(ctx.hid, None, id, Some(key)).await,
        Resume::Recognize(id) => Ok(id),
    };
    match stored {
        Ok(id) => recognize(&ctx, key, id).await,
        Err((e, resume)) => fail(&ctx, key, &e, Some(resume)),
    }
}

fn fail(ctx: &Ctx, key: Key, error: &ErrorBody, resume: Option<Resume>) {
    let resume = resume.filter(|_| !refused(error.error.code));
    ctx.emit(Action::Failed(key, alert_text(error), resume));
}

async fn recognize(ctx: &Ctx, key: Key, id: AttachmentId) {
    if store::ai_off() {
        ctx.emit(Action::Manual(key, None));
        return;
    }
    ctx.emit(Action::Recognizing(key));
    match api::recognize(ctx.hid, &[id]).await {
        Ok(answer) => ctx.emit(Action::Suggested(key, answer.suggestions)),
        Err(e) => match recognize_failure(e.error.code) {
            RecognizeFailure::Off => {
                ctx.emit(Action::AiOff(alert_text(&e)));
                ctx.emit(Action::Manual(key, None));
            }
            RecognizeFailure::Retry => fail(ctx, key, &e, Some(Resume::Recognize(id))),
        },
    }
}

/// Puts the shots kept on the device back in the queue (a reload, a closed browser) and
/// sends each on from where it was.
pub async fn restore(ctx: Ctx) {
    for kept in crate::local::kept_shots(ctx.hid).await {
        let number = store::next_number();
        let photo = kept
            .photo
            .as_deref()
            .and_then(|p| p.parse::<AttachmentId>().ok());
        let shot = Shot {
            key: number,
            number,
            content_type: kept.content_type.clone(),
            preview: web_sys::Url::create_object_url_with_blob(&kept.blob).unwrap_or_default(),
            location: kept.location.as_deref().and_then(|l| l.parse().ok()),
            photo,
            stage: Stage::Uploading(0.0),
        };
        let bytes = Bytes {
            blob: kept.blob,
            filename: shot.filename(),
            content_type: kept.content_type,
        };
        store::keep_bytes(number, bytes.clone(), shot.location, Some((kept.id, photo)));
        store::dispatch(ctx.hid, Action::Add(shot));
        let from = photo.map_or(Resume::Upload, Resume::Complete);
        wasm_bindgen_futures::spawn_local(process(ctx, number, bytes, from));
    }
}

/// Sends again every shot that failed in a way a retry can help.
pub fn retry_all(ctx: Ctx) {
    for shot in store::queue(ctx.hid).shots {
        if let (
            Stage::Failed {
                resume: Some(resume),
                ..
            },
            Some(bytes),
        ) = (&shot.stage, store::bytes(shot.key))
        {
            let resume = *resume;
            ctx.emit(Action::Retrying(shot.key, resume));
            wasm_bindgen_futures::spawn_local(process(ctx, shot.key, bytes, resume));
        }
    }
}

/// Deletes a shot's unfiled photo and takes the shot off the list.
pub async fn discard(ctx: Ctx, key: Key, photo: Option<AttachmentId>) -> Result<(), ErrorBody> {
    if let Some(id) = photo {
        match api::delete_photo(ctx.hid, None, id).await {
            Ok(()) => {}
            Err(e) if e.error.code == ErrorCode::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    ctx.emit(Action::Remove(key));
    Ok(())
}

/// Puts the photo on `item`.
async fn attach(ctx: &Ctx, item: ItemId, photo: PhotoUse, bytes: &Bytes) -> api::ApiResult<()> {
    match photo {
        PhotoUse::File(id) => api::file_photo(ctx.hid, id, item).await.map(drop),
        PhotoUse::Copy => send_photo(ctx.hid, Some(item), bytes, None)
            .await
            .map(drop)
            .map_err(|(e, _)| e),
    }
}

/// Lets another object of the shot take its photo after this one failed to.
fn release(key: Key, index: usize, photo: PhotoUse) {
    if matches!(photo, PhotoUse::File(_)) {
        store::release(key, index);
    }
}

/// Adds the object as a new item and files the photo into it.
pub async fn add(
    ctx: Ctx,
    key: Key,
    index: usize,
    body: CreateItem,
    photo: PhotoUse,
    bytes: Bytes,
) {
    ctx.emit(Action::PickWorking(key, index));
    let item = match api::create_item(ctx.hid, &body).await {
        Ok(item) => item,
        Err(e) => {
            release(key, index, photo);
            return ctx.emit(Action::PickFailed(key, index, alert_text(&e)));
        }
    };
    match attach(&ctx, item.id, photo, &bytes).await {
        Ok(()) => ctx.emit(Action::PickAdded(key, index, item.id, item.name, false)),
        Err(e) => {
            release(key, index, photo);
            ctx.emit(Action::PickFailed(
                key,
                index,
                format!(
                    "“{}” was added, but its photo was not. {} Try again.",
                    item.name,
                    alert_text(&e)
                ),
            ));
        }
    }
}

/// Files the photo into an existing item, and fills the fields it leaves empty with what
/// `fill` says.
pub async fn add_to(
    ctx: Ctx,
    key: Key,
    index: usize,
    target: ItemId,
    fill: Option<CreateItem>,
    photo: PhotoUse,
    bytes: Bytes,
) {
    ctx.emit(Action::PickWorking(key, index));
    if let Err(e) = attach(&ctx, target, photo, &bytes).await {
        release(key, index, photo);
        return ctx.emit(Action::PickFailed(key, index, alert_text(&e)));
    }
    // Read fresh, and once more when someone saved it in between.
    let mut outcome = Err(ErrorBody::new(ErrorCode::Internal, ""));
    for _ in 0..2 {
        outcome = fill_in(&ctx, target, fill.as_ref()).await;
        if !matches!(&outcome, Err(e) if e.error.code == ErrorCode::PreconditionFailed) {
            break;
        }
    }
    match outcome {
        Ok(name) => ctx.emit(Action::PickAdded(key, index, target, name, true)),
        Err(e) => ctx.emit(Action::PickFailed(
            key,
            index,
            format!(
                "The photo was added, but the item's details were not filled in. {}",
                alert_text(&e)
            ),
        )),
    }
}

/// Fills the item's empty fields; its name.
async fn fill_in(ctx: &Ctx, id: ItemId, fill: Option<&CreateItem>) -> api::ApiResult<String> {
    let item = api::item(ctx.hid, id).await?;
    let mine = match fill {
        Some(body) => fill_empty(&item, body),
        None => return Ok(item.name),
    };
    if mine == item.fields() {
        return Ok(item.name);
    }
    api::update_item(ctx.hid, &item, mine)
        .await
        .map(|item| item.name)
}

//! An item's photos and documents: the photo shown large (the primary one first), the
//! others as thumbnails, the documents in a list, and uploads of several files at once,
//! picked or dropped, each with its own progress.
//!
//! An upload is three steps: announce the file (the server answers where to send it), send
//! its bytes there with progress, then ask the server to check it. A refused file is said
//! in the server's words on its row, with Retry and Dismiss.

use gloo_timers::callback::Timeout;
use shared::{
    ACCEPTED_TYPES, Attachment, AttachmentId, AttachmentKind, AttachmentStatus, CreateAttachment,
    ErrorBody, HouseholdId, ItemId, UpdateAttachment,
};
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, FileList, HtmlInputElement};
use yew::prelude::*;

use crate::api;
use crate::components::{ErrorAlert, SelectField, alert_text};
use crate::format;

/// How long a finished upload's row stays before the file itself takes its place.
const DONE_LINGER_MS: u32 = 3_000;

/// The kinds a document can be given when it is added.
const DOCUMENT_KINDS: [AttachmentKind; 4] = [
    AttachmentKind::Receipt,
    AttachmentKind::Manual,
    AttachmentKind::Warranty,
    AttachmentKind::Other,
];

// ---------------------------------------------------------------- pure parts

/// The type to announce for a file, or why it can't be added, in words for people.
///
/// Browsers leave the type out for some files (HEIC on many systems); then the name's
/// ending decides. The server looks at the bytes and has the last word.
pub fn check_file(
    name: &str,
    browser_type: &str,
    size: f64,
    kind: AttachmentKind,
) -> Result<&'static str, String> {
    let declared = match browser_type.trim().to_ascii_lowercase().as_str() {
        "image/jpg" | "image/pjpeg" => "image/jpeg".to_string(),
        "image/heif" => "image/heic".to_string(),
        "" | "application/octet-stream" => type_from_name(name).unwrap_or_default().to_string(),
        other => other.to_string(),
    };
    let Some(content_type) = ACCEPTED_TYPES.into_iter().find(|t| *t == declared) else {
        return Err(format!(
            "“{name}” can't be added: photos can be JPEG, PNG, WebP, GIF or HEIC, and documents PDF too."
        ));
    };
    if kind == AttachmentKind::Photo && !content_type.starts_with("image/") {
        return Err(format!(
            "“{name}” is not a photo; add it under Documents instead."
        ));
    }
    if size <= 0.0 {
        return Err(format!("“{name}” is empty."));
    }
    Ok(content_type)
}

fn type_from_name(name: &str) -> Option<&'static str> {
    let (_, ending) = name.rsplit_once('.')?;
    Some(match ending.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" | "jfif" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" | "heif" => "image/heic",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// What a dropped file becomes: images are photos, anything else a document of the kind
/// chosen for documents.
pub fn kind_for_drop(name: &str, browser_type: &str, documents: AttachmentKind) -> AttachmentKind {
    let image = browser_type.starts_with("image/")
        || type_from_name(name).is_some_and(|t| t.starts_with("image/"));
    if image {
        AttachmentKind::Photo
    } else {
        documents
    }
}

/// The order the server lists files in: the primary photo, the other photos, then the
/// documents, each oldest first.
pub fn order(files: &mut [Attachment]) {
    let rank = |a: &Attachment| match (a.kind, a.primary) {
        (AttachmentKind::Photo, true) => 0,
        (AttachmentKind::Photo, false) => 1,
        _ => 2,
    };
    files.sort_by(|a, b| {
        rank(a)
            .cmp(&rank(b))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.id.cmp(&b.id))
    });
}

/// The list with one file added or changed as the server now has it; a photo made primary
/// takes the place of the one before.
pub fn with_file(files: &[Attachment], file: Attachment) -> Vec<Attachment> {
    let mut next: Vec<Attachment> = files.iter().filter(|f| f.id != file.id).cloned().collect();
    if file.primary {
        for other in &mut next {
            other.primary = false;
        }
    }
    next.push(file);
    order(&mut next);
    next
}

// ---------------------------------------------------------------- state

#[derive(Clone, Debug, PartialEq)]
pub enum UploadState {
    /// Bytes on their way; the fraction sent so far.
    Uploading(f64),
    /// Sent; the server is checking the file and making its thumbnail.
    Processing,
    Done,
    Failed(String),
    /// Kept on this device, to be sent when the server can be reached.
    Kept,
}

/// One file being added, with its own row.
#[derive(Clone, Debug, PartialEq)]
struct Upload {
    key: u32,
    file: File,
    name: String,
    kind: AttachmentKind,
    /// `None` when the file was refused here, before anything was sent: retrying can't help.
    content_type: Option<&'static str>,
    state: UploadState,
}

#[derive(Clone, Debug, Default, PartialEq)]
struct Gallery {
    /// Ready files in the server's order; `None` until loaded.
    files: Option<Vec<Attachment>>,
    uploads: Vec<Upload>,
}

enum Action {
    Loaded(Vec<Attachment>),
    Queued(Upload),
    Progress(u32, f64),
    Processing(u32),
    Finished(u32, Attachment),
    Failed(u32, String),
    Kept(u32),
    Retrying(u32),
    Forget(u32),
    Changed(Attachment),
    Deleted(AttachmentId),
}

impl Reducible for Gallery {
    type Action = Action;

    fn reduce(self: std::rc::Rc<Self>, action: Action) -> std::rc::Rc<Self> {
        let mut next = (*self).clone();
        let set = |next: &mut Gallery, key: u32, state: UploadState| {
            if let Some(upload) = next.uploads.iter_mut().find(|u| u.key == key) {
                upload.state = state;
            }
        };
        match action {
            Action::Loaded(mut files) => {
                files.retain(|f| f.status == AttachmentStatus::Ready);
                order(&mut files);
                next.files = Some(files);
            }
            Action::Queued(upload) => next.uploads.push(upload),
            Action::Progress(key, fraction) => {
                set(&mut next, key, UploadState::Uploading(fraction))
            }
            Action::Processing(key) => set(&mut next, key, UploadState::Processing),
            Action::Finished(key, file) => {
                set(&mut next, key, UploadState::Done);
                next.files = Some(with_file(next.files.as_deref().unwrap_or_default(), file));
            }
            Action::Failed(key, message) => set(&mut next, key, UploadState::Failed(message)),
            Action::Kept(key) => set(&mut next, key, UploadState::Kept),
            Action::Retrying(key) => set(&mut next, key, UploadState::Uploading(0.0)),
            Action::Forget(key) => next.uploads.retain(|u| u.key != key),
            Action::Changed(file) => {
                next.files = Some(with_file(next.files.as_deref().unwrap_or_default(), file));
            }
            Action::Deleted(id) => {
                if let Some(files) = &mut next.files {
                    files.retain(|f| f.id != id);
                }
            }
        }
        std::rc::Rc::new(next)
    }
}

/// Announces, sends and completes one file, telling the row how it goes.
async fn send(hid: HouseholdId, item: ItemId, upload: Upload, dispatch: Callback<Action>) {
    let key = upload.key;
    let Some(content_type) = upload.content_type else {
        return;
    };
    let fail = |e: ErrorBody| Action::Failed(key, alert_text(&e));
    let body = CreateAttachment {
        id: Some(AttachmentId::new()),
        kind: Some(upload.kind.as_str().to_string()),
        filename: Some(upload.name.clone()),
        content_type: Some(content_type.to_string()),
        size: Some(upload.file.size() as i64),
    };
    let keep = |dispatch: Callback<Action>, body: CreateAttachment, file: File| async move {
        match api::keep_file(hid, item, &body, &file).await {
            Ok(true) => dispatch.emit(Action::Kept(key)),
            Ok(false) => dispatch.emit(Action::Processing(key)),
            Err(e) => dispatch.emit(Action::Failed(key, alert_text(&e))),
        }
    };
    if api::files_wait(hid) {
        return keep(dispatch, body, upload.file).await;
    }
    let created = match api::create_attachment(hid, item, &body).await {
        Ok(created) => created,
        Err(e) if e.error.code == shared::ErrorCode::Network => {
            return keep(dispatch, body, upload.file).await;
        }
        Err(e) => return dispatch.emit(fail(e)),
    };
    let id = created.id;
    let progress = dispatch.reform(move |fraction| Action::Progress(key, fraction));
    if let Err(e) = api::upload(&created.upload, &upload.file, progress).await {
        // The announced file never arrived: take the announcement back.
        let _ = api::delete_attachment(hid, item, id).await;
        return dispatch.emit(fail(e));
    }
    dispatch.emit(Action::Processing(key));
    match api::complete_attachment(hid, item, id).await {
        Ok(file) => {
            dispatch.emit(Action::Finished(key, file));
            Timeout::new(DONE_LINGER_MS, move || dispatch.emit(Action::Forget(key))).forget();
        }
        Err(e) => dispatch.emit(fail(e)),
    }
}

/// Puts the keyboard focus on an element (a heading with `tabindex="-1"`), so that it is not
/// lost when the control that had it goes away.
fn focus(id: &str) {
    if let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

fn files_of(list: &FileList) -> Vec<File> {
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

// ---------------------------------------------------------------- the component

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    pub household: HouseholdId,
    pub item: ItemId,
    /// Said in the photos' descriptions.
    pub item_name: AttrValue,
    /// Editors and owners add, change and delete; viewers only look.
    pub can_write: bool,
    /// Shown between the photos and the documents (the item's details); files dropped on
    /// them are added too.
    #[prop_or_default]
    pub children: Html,
}

/// The Photos and Documents of an item, as two cards, with whatever goes between them.
#[function_component(Attachments)]
pub fn attachments(props: &AttachmentsProps) -> Html {
    let (hid, item) = (props.household, props.item);
    let gallery = use_reducer(Gallery::default);
    let error = use_state(|| None::<ErrorBody>);
    let shown = use_state(|| None::<AttachmentId>);
    let confirm = use_state(|| None::<AttachmentId>);
    let busy = use_state(|| None::<AttachmentId>);
    let document_kind = use_state(|| AttachmentKind::Receipt);
    let dragging = use_state(|| false);
    let drag_depth = use_mut_ref(|| 0i32);
    let next_key = use_mut_ref(|| 0u32);
    let dispatch = {
        let gallery = gallery.clone();
        Callback::from(move |action: Action| gallery.dispatch(action))
    };

    let reload = {
        let (dispatch, error) = (dispatch.clone(), error.clone());
        move || {
            let (dispatch, error) = (dispatch.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::attachments(hid, item).await {
                    Ok(list) => dispatch.emit(Action::Loaded(list.items)),
                    Err(e) => error.set(Some(e)),
                }
            });
        }
    };
    {
        let reload = reload.clone();
        use_effect_with((hid, item), move |_| reload());
    }

    // Queues files and starts sending them, all at once.
    let add = {
        let dispatch = dispatch.clone();
        Callback::from(move |files: Vec<(File, AttachmentKind)>| {
            for (file, kind) in files {
                let key = {
                    let mut next = next_key.borrow_mut();
                    *next += 1;
                    *next
                };
                let name = file.name();
                let checked = check_file(&name, &file.type_(), file.size(), kind);
                let upload = Upload {
                    key,
                    file,
                    name,
                    kind,
                    content_type: checked.as_ref().ok().copied(),
                    state: match checked {
                        Ok(_) => UploadState::Uploading(0.0),
                        Err(message) => UploadState::Failed(message),
                    },
                };
                dispatch.emit(Action::Queued(upload.clone()));
                wasm_bindgen_futures::spawn_local(send(hid, item, upload, dispatch.clone()));
            }
        })
    };
    let on_pick = |kind: Option<AttachmentKind>| {
        let (add, document_kind) = (add.clone(), document_kind.clone());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let kind = kind.unwrap_or(*document_kind);
            if let Some(list) = input.files() {
                add.emit(files_of(&list).into_iter().map(|f| (f, kind)).collect());
            }
            // The same file can be picked again (after a failure, say).
            input.set_value("");
        })
    };
    let on_document_kind = {
        let document_kind = document_kind.clone();
        Callback::from(move |value: String| {
            document_kind.set(value.parse().unwrap_or(AttachmentKind::Receipt));
        })
    };

    // Dragging files over the cards; only files are welcome.
    let carries_files = |e: &DragEvent| {
        e.data_transfer()
            .is_some_and(|t| t.types().includes(&"Files".into(), 0))
    };
    let on_drag_enter = {
        let (dragging, depth) = (dragging.clone(), drag_depth.clone());
        Callback::from(move |e: DragEvent| {
            if carries_files(&e) {
                e.prevent_default();
                *depth.borrow_mut() += 1;
                dragging.set(true);
            }
        })
    };
    let on_drag_over = Callback::from(move |e: DragEvent| {
        if carries_files(&e) {
            e.prevent_default();
            if let Some(transfer) = e.data_transfer() {
                transfer.set_drop_effect("copy");
            }
        }
    });
    let on_drag_leave = {
        let (dragging, depth) = (dragging.clone(), drag_depth.clone());
        Callback::from(move |_: DragEvent| {
            let mut depth = depth.borrow_mut();
            *depth = (*depth - 1).max(0);
            if *depth == 0 {
                dragging.set(false);
            }
        })
    };
    let on_drop = {
        let (dragging, depth, add, document_kind) = (
            dragging.clone(),
            drag_depth.clone(),
            add.clone(),
            document_kind.clone(),
        );
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            *depth.borrow_mut() = 0;
            dragging.set(false);
            if let Some(list) = e.data_transfer().and_then(|t| t.files()) {
                let files = files_of(&list)
                    .into_iter()
                    .map(|f| {
                        let kind = kind_for_drop(&f.name(), &f.type_(), *document_kind);
                        (f, kind)
                    })
                    .collect();
                add.emit(files);
            }
        })
    };

    let retry = |upload: &Upload| {
        let (dispatch, upload) = (dispatch.clone(), upload.clone());
        Callback::from(move |_: MouseEvent| {
            dispatch.emit(Action::Retrying(upload.key));
            wasm_bindgen_futures::spawn_local(send(hid, item, upload.clone(), dispatch.clone()));
        })
    };
    let forget = |key: u32| dispatch.reform(move |_: MouseEvent| Action::Forget(key));

    let make_primary = |file: &Attachment| {
        let (dispatch, error, busy, id) = (dispatch.clone(), error.clone(), busy.clone(), file.id);
        Callback::from(move |_: MouseEvent| {
            let (dispatch, error, busy) = (dispatch.clone(), error.clone(), busy.clone());
            busy.set(Some(id));
            wasm_bindgen_futures::spawn_local(async move {
                let body = UpdateAttachment {
                    primary: Some(true),
                    ..UpdateAttachment::default()
                };
                match api::update_attachment(hid, item, id, &body).await {
                    Ok(file) => {
                        error.set(None);
                        dispatch.emit(Action::Changed(file));
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(None);
            });
        })
    };
    let ask_delete = |id: Option<AttachmentId>| {
        let confirm = confirm.clone();
        Callback::from(move |_: MouseEvent| confirm.set(id))
    };
    let delete = |file: &Attachment| {
        let (dispatch, error, busy, confirm, shown, reload) = (
            dispatch.clone(),
            error.clone(),
            busy.clone(),
            confirm.clone(),
            shown.clone(),
            reload.clone(),
        );
        let (id, was_primary) = (file.id, file.primary);
        let heading = if file.kind == AttachmentKind::Photo {
            "photos-heading"
        } else {
            "documents-heading"
        };
        Callback::from(move |_: MouseEvent| {
            let (dispatch, error, busy, confirm, shown, reload) = (
                dispatch.clone(),
                error.clone(),
                busy.clone(),
                confirm.clone(),
                shown.clone(),
                reload.clone(),
            );
            busy.set(Some(id));
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_attachment(hid, item, id).await {
                    Ok(()) => {
                        error.set(None);
                        confirm.set(None);
                        if *shown == Some(id) {
                            shown.set(None);
                        }
                        dispatch.emit(Action::Deleted(id));
                        focus(heading);
                        // Another photo became primary on the server.
                        if was_primary {
                            reload();
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
                busy.set(None);
            });
        })
    };

    let files = gallery.files.clone();
    let photos: Vec<&Attachment> = files
        .iter()
        .flatten()
        .filter(|f| f.kind == AttachmentKind::Photo)
        .collect();
    let documents: Vec<&Attachment> = files
        .iter()
        .flatten()
        .filter(|f| f.kind != AttachmentKind::Photo)
        .collect();
    let current = shown
        .and_then(|id| photos.iter().position(|p| p.id == id))
        .unwrap_or(0);
    let can_write = props.can_write;
    let photo_uploads: Vec<&Upload> = gallery
        .uploads
        .iter()
        .filter(|u| u.kind == AttachmentKind::Photo)
        .collect();
    let document_uploads: Vec<&Upload> = gallery
        .uploads
        .iter()
        .filter(|u| u.kind != AttachmentKind::Photo)
        .collect();

    let confirm_delete = |file: &Attachment, what: &str| {
        let label = format!("confirm-delete-{}", file.id);
        let working = *busy == Some(file.id);
        html! {
            <div class="confirm attachment-confirm" role="group" aria-labelledby={label.clone()}>
                <p id={label}>
                    <strong>{ format!("Delete {what} “{}”?", file.filename) }</strong>
                    { " This can't be undone." }
                </p>
                <div class="row-actions">
                    <button type="button" class="button button-ghost button-small" onclick={ask_delete(None)}>{ "Keep it" }</button>
                    <button type="button" class="button button-danger button-small" disabled={working}
                        onclick={delete(file)}>{ "Yes, delete" }</button>
                </div>
            </div>
        }
    };

    let viewer = photos.get(current).map(|photo| {
        let n = current + 1;
        let total = photos.len();
        // Browsers show HEIC poorly or not at all; its thumbnail is a JPEG.
        let src = if photo.content_type == "image/heic" {
            photo.thumbnail_url.clone().or_else(|| photo.url.clone())
        } else {
            photo.url.clone().or_else(|| photo.thumbnail_url.clone())
        };
        let alt = if total == 1 {
            format!("Photo of {}", props.item_name)
        } else {
            format!("Photo {n} of {total} of {}", props.item_name)
        };
        let caption_id = format!("caption-{}", photo.id);
        let working = *busy == Some(photo.id);
        let confirming = *confirm == Some(photo.id);
        html! {
            <figure class="photo-viewer">
                <div class="photo-frame">
                    <img src={src} {alt}
                        width={photo.width.map(|w| w.to_string())}
                        height={photo.height.map(|h| h.to_string())}
                        decoding="async" />
                </div>
                <figcaption class="photo-caption">
                    <div class="photo-caption-text" id={caption_id.clone()}>
                        <span class="photo-name">{ photo.filename.clone() }</span>
                        if photo.primary {
                            <span class="badge badge-primary">{ "Primary photo" }</span>
                        }
                        <span class="photo-meta">
                            { format::bytes(photo.size) }
                            if let (Some(w), Some(h)) = (photo.width, photo.height) {
                                { format!(" · {w} × {h}") }
                            }
                        </span>
                    </div>
                    <div class="row-actions">
                        if let Some(url) = &photo.url {
                            <a class="button button-ghost button-small" href={url.clone()} target="_blank"
                                rel="noopener" aria-describedby={caption_id.clone()}>{ "Open original" }</a>
                        }
                        if can_write && !photo.primary {
                            <button type="button" class="button button-secondary button-small" disabled={working}
                                onclick={make_primary(photo)} aria-describedby={caption_id.clone()}>{ "Make primary" }</button>
                        }
                        if can_write {
                            <button type="button" class="button button-danger-ghost button-small"
                                aria-expanded={confirming.to_string()} disabled={working}
                                onclick={ask_delete((!confirming).then_some(photo.id))}
                                aria-describedby={caption_id}>{ "Delete photo" }</button>
                        }
                    </div>
                </figcaption>
                if confirming { { confirm_delete(photo, "photo") } }
            </figure>
        }
    });
    let thumbnails = (photos.len() > 1).then(|| {
        html! {
            <ul class="photo-thumbs" aria-label="Photos">
                { for photos.iter().enumerate().map(|(i, photo)| {
                    let pick = {
                        let (shown, confirm, id) = (shown.clone(), confirm.clone(), photo.id);
                        Callback::from(move |_: MouseEvent| {
                            shown.set(Some(id));
                            confirm.set(None);
                        })
                    };
                    let label = if photo.primary {
                        format!("Show {} (primary photo)", photo.filename)
                    } else {
                        format!("Show {}", photo.filename)
                    };
                    html! {
                        <li key={photo.id.to_string()}>
                            <button type="button" class={classes!("thumb-button", (i == current).then_some("is-current"))}
                                aria-label={label} aria-pressed={(i == current).to_string()} onclick={pick}>
                                <img src={photo.thumbnail_url.clone().or_else(|| photo.url.clone())} alt=""
                                    loading="lazy" width="72" height="72" />
                                if photo.primary {
                                    <span class="thumb-star" aria-hidden="true">{ "★" }</span>
                                }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        }
    });

    let document_options: Vec<(String, String)> = DOCUMENT_KINDS
        .iter()
        .map(|k| (k.as_str().to_string(), k.label().to_string()))
        .collect();
    let loaded = files.is_some();

    html! {
        <div class={classes!("attachments", dragging.then_some("is-dragging"))}
            ondragenter={can_write.then_some(on_drag_enter)}
            ondragover={can_write.then_some(on_drag_over)}
            ondragleave={can_write.then_some(on_drag_leave)}
            ondrop={can_write.then_some(on_drop)}>
            <ErrorAlert error={(*error).clone()} />
            <section class="card gallery" aria-labelledby="photos-heading">
                <div class="card-header">
                    <h2 id="photos-heading" tabindex="-1">{ "Photos" }</h2>
                    if can_write {
                        <div class="file-button">
                            <input id="add-photos" class="file-input" type="file" multiple=true accept="image/*"
                                onchange={on_pick(Some(AttachmentKind::Photo))} />
                            <label for="add-photos" class="button button-secondary button-small">
                                { icon_plus() }{ "Add photos" }
                            </label>
                        </div>
                    }
                </div>
                if !loaded && error.is_none() {
                    <p class="muted">{ "Loading…" }</p>
                } else if photos.is_empty() && photo_uploads.is_empty() {
                    <div class="photo-empty">
                        { icon_camera() }
                        <p>{ "No photos yet" }</p>
                        if can_write {
                            <p class="muted small">{ "Add photos of the item, its serial number plate or where it is kept." }</p>
                        }
                    </div>
                }
                { viewer.unwrap_or_default() }
                { thumbnails.unwrap_or_default() }
                { upload_list(&photo_uploads, "Photo uploads", &retry, &forget) }
                if can_write {
                    <p class="drop-hint muted small">{ "You can also drop photos and PDFs here." }</p>
                }
            </section>
            { props.children.clone() }
            <section class="card documents" aria-labelledby="documents-heading">
                <h2 id="documents-heading" tabindex="-1">{ "Documents" }</h2>
                if loaded && documents.is_empty() && document_uploads.is_empty() {
                    <p class="muted small">
                        { if can_write { "No receipts, manuals or warranties yet." } else { "No documents." } }
                    </p>
                }
                if !documents.is_empty() {
                    <ul class="doc-list" aria-label="Documents">
                        { for documents.iter().map(|doc| {
                            let confirming = *confirm == Some(doc.id);
                            let working = *busy == Some(doc.id);
                            html! {
                                <li class="doc-row" key={doc.id.to_string()}>
                                    <span class={classes!("doc-icon", (doc.content_type == "application/pdf").then_some("doc-pdf"))} aria-hidden="true">
                                        { if doc.content_type == "application/pdf" { "PDF" } else { "IMG" } }
                                    </span>
                                    <div class="doc-main">
                                        if let Some(url) = &doc.url {
                                            <a class="doc-name" href={url.clone()} target="_blank" rel="noopener">{ doc.filename.clone() }</a>
                                        } else {
                                            <span class="doc-name">{ doc.filename.clone() }</span>
                                        }
                                        <span class="doc-meta">
                                            <span class="doc-kind">{ doc.kind.label() }</span>
                                            { format!(" · {} · added {}", format::bytes(doc.size), format::relative(doc.created_at)) }
                                        </span>
                                    </div>
                                    if can_write {
                                        <button type="button" class="button button-danger-ghost button-small doc-delete"
                                            aria-label={format!("Delete {}", doc.filename)} aria-expanded={confirming.to_string()}
                                            disabled={working} onclick={ask_delete((!confirming).then_some(doc.id))}>{ "Delete" }</button>
                                    }
                                    if confirming { { confirm_delete(doc, shared::lowercase(doc.kind.label()).as_str()) } }
                                </li>
                            }
                        }) }
                    </ul>
                }
                { upload_list(&document_uploads, "Document uploads", &retry, &forget) }
                if can_write {
                    <div class="doc-add">
                        <SelectField id="document-kind" label="Document type" options={document_options}
                            value={document_kind.as_str()} onchange={on_document_kind} class="doc-kind-field" />
                        <div class="file-button">
                            <input id="add-documents" class="file-input" type="file" multiple=true
                                accept="application/pdf,.pdf,image/*" onchange={on_pick(None)} />
                            <label for="add-documents" class="button button-secondary">
                                { icon_plus() }{ "Add documents" }
                            </label>
                        </div>
                    </div>
                }
            </section>
            if *dragging {
                <div class="drop-overlay" aria-hidden="true"><p>{ "Drop to add to this item" }</p></div>
            }
        </div>
    }
}

fn upload_list(
    uploads: &[&Upload],
    label: &str,
    retry: &dyn Fn(&Upload) -> Callback<MouseEvent>,
    forget: &dyn Fn(u32) -> Callback<MouseEvent>,
) -> Html {
    if uploads.is_empty() {
        return html! {};
    }
    html! {
        <ul class="upload-list" aria-label={label.to_string()}>
            { for uploads.iter().map(|upload| {
                let (state, class) = match &upload.state {
                    UploadState::Uploading(_) => ("Uploading", "upload-uploading"),
                    UploadState::Processing => ("Processing", "upload-processing"),
                    UploadState::Done => ("Done", "upload-done"),
                    UploadState::Failed(_) => ("Failed", "upload-failed"),
                    UploadState::Kept => ("Saved on this device, sent when online", "upload-kept"),
                };
                let value = match upload.state {
                    UploadState::Uploading(fraction) => Some(format!("{fraction:.3}")),
                    UploadState::Done => Some("1".to_string()),
                    UploadState::Processing | UploadState::Failed(_) | UploadState::Kept => None,
                };
                html! {
                    <li class={classes!("upload-row", class)} key={upload.key}>
                        <div class="upload-head">
                            <span class="upload-name">{ upload.name.clone() }</span>
                            <span class="upload-state" aria-live="polite">{ state }</span>
                        </div>
                        if let UploadState::Failed(message) = &upload.state {
                            <p class="upload-error" role="alert">{ message.clone() }</p>
                            <div class="row-actions">
                                if upload.content_type.is_some() {
                                    <button type="button" class="button button-secondary button-small"
                                        aria-label={format!("Retry {}", upload.name)} onclick={retry(upload)}>{ "Retry" }</button>
                                }
                                <button type="button" class="button button-ghost button-small"
                                    aria-label={format!("Dismiss {}", upload.name)} onclick={forget(upload.key)}>{ "Dismiss" }</button>
                            </div>
                        } else {
                            <div class="upload-progress">
                                <progress max="1" value={value.clone()} aria-label={format!("Upload of {}", upload.name)} />
                                <span class="upload-percent" aria-hidden="true">
                                    { match upload.state {
                                        UploadState::Uploading(fraction) => format!("{}%", (fraction * 100.0).round() as u32),
                                        _ => String::new(),
                                    } }
                                </span>
                            </div>
                        }
                    </li>
                }
            }) }
        </ul>
    }
}

fn icon_plus() -> Html {
    html! {
        <svg class="button-icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
            <path d="M10 4v12M4 10h12" stroke="currentColor" stroke-width="2" stroke-linecap="round"/>
        </svg>
    }
}

fn icon_camera() -> Html {
    html! {
        <svg class="photo-empty-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d="M4 8h3l1.6-2.2h6.8L17 8h3v11H4z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/>
            <circle cx="12" cy="13.2" r="3.6" fill="none" stroke="currentColor" stroke-width="1.6"/>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn file(kind: AttachmentKind, primary: bool, minute: u8) -> Attachment {
        Attachment {
            id: AttachmentId::new(),
            item_id: Some(ItemId::new()),
            kind,
            filename: format!("{kind}-{minute}"),
            content_type: "image/png".into(),
            size: 10,
            status: AttachmentStatus::Ready,
            width: None,
            height: None,
            primary,
            created_at: datetime!(2025-01-01 10:00 UTC) + time::Duration::minutes(minute.into()),
            url: None,
            thumbnail_url: None,
        }
    }

    #[test]
    fn files_are_announced_with_an_accepted_type() {
        let photo = AttachmentKind::Photo;
        assert_eq!(
            check_file("a.jpg", "image/jpeg", 10.0, photo),
            Ok("image/jpeg")
        );
        assert_eq!(
            check_file("a.jpg", "image/jpg", 10.0, photo),
            Ok("image/jpeg")
        );
        // No type from the browser: the name's ending tells.
        assert_eq!(check_file("IMG_1.HEIC", "", 10.0, photo), Ok("image/heic"));
        assert_eq!(
            check_file("bill.pdf", "", 10.0, AttachmentKind::Receipt),
            Ok("application/pdf")
        );
        assert_eq!(
            check_file("scan.png", "image/png", 10.0, AttachmentKind::Manual),
            Ok("image/png")
        );
    }

    #[test]
    fn files_that_cannot_be_added_are_refused_before_sending() {
        let photo = AttachmentKind::Photo;
        let err = check_file("notes.txt", "text/plain", 10.0, photo).unwrap_err();
        assert!(err.starts_with("“notes.txt” can't be added"), "{err}");
        let err = check_file("bill.pdf", "application/pdf", 10.0, photo).unwrap_err();
        assert_eq!(
            err,
            "“bill.pdf” is not a photo; add it under Documents instead."
        );
        let err = check_file("empty.png", "image/png", 0.0, photo).unwrap_err();
        assert_eq!(err, "“empty.png” is empty.");
        assert!(check_file("clip.mov", "", 10.0, AttachmentKind::Other).is_err());
    }

    #[test]
    fn dropped_images_become_photos_and_other_files_documents() {
        let receipt = AttachmentKind::Receipt;
        assert_eq!(
            kind_for_drop("a.png", "image/png", receipt),
            AttachmentKind::Photo
        );
        assert_eq!(kind_for_drop("a.heic", "", receipt), AttachmentKind::Photo);
        assert_eq!(
            kind_for_drop("bill.pdf", "application/pdf", receipt),
            receipt
        );
        assert_eq!(
            kind_for_drop("guide.pdf", "application/pdf", AttachmentKind::Manual),
            AttachmentKind::Manual
        );
    }

    #[test]
    fn the_primary_photo_comes_first_then_photos_then_documents_oldest_first() {
        let receipt = file(AttachmentKind::Receipt, false, 0);
        let old_photo = file(AttachmentKind::Photo, false, 1);
        let primary = file(AttachmentKind::Photo, true, 2);
        let new_photo = file(AttachmentKind::Photo, false, 3);
        let mut files = vec![
            receipt.clone(),
            new_photo.clone(),
            primary.clone(),
            old_photo.clone(),
        ];
        order(&mut files);
        assert_eq!(files, vec![primary, old_photo, new_photo, receipt]);
    }

    #[test]
    fn a_photo_made_primary_takes_the_place_of_the_one_before() {
        let first = file(AttachmentKind::Photo, true, 1);
        let second = file(AttachmentKind::Photo, false, 2);
        let files = vec![first.clone(), second.clone()];
        let promoted = Attachment {
            primary: true,
            ..second.clone()
        };
        let next = with_file(&files, promoted.clone());
        assert_eq!(next.len(), 2);
        assert_eq!(next[0], promoted);
        assert_eq!(next[1].id, first.id);
        assert!(!next[1].primary);
    }
}

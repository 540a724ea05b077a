//! Photos and documents of an item. The bytes never pass through here on their way in:
//! `POST …/attachments` answers with a signed upload URL, the browser PUTs the file there,
//! and `POST …/attachments/{aid}/complete` checks it, cleans it, thumbnails it and makes it
//! visible. A refused file is deleted and its item and other attachments stay as they were.

use std::collections::HashMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use shared::{
    Attachment, AttachmentId, AttachmentKind, AttachmentStatus, CreateAttachment, ErrorBody,
    FieldErrors, HouseholdId, Item, ItemId, List, NewAttachment, UpdateAttachment, UploadTarget,
};
use time::{Duration, OffsetDateTime};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::items::live_item;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::blob::{BlobError, UrlWindow, keys, local::Grant};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::media::{self, FileType, Refusal};
use crate::store::{AttachmentRow, StoreError, now};

/// How long an upload URL stays good.
const UPLOAD_MINUTES: i64 = 15;
/// Uploads a household may have announced and not finished at once, so announcements
/// can't hold on to unbounded room.
pub const MAX_PENDING_UPLOADS: i64 = 50;
/// How long a check may hold its claim on an upload: one left longer was left by a process
/// that stopped, and another request may take it over.
const CLAIM_MINUTES: i64 = 2;
/// Longest file name kept.
const MAX_FILENAME_CHARS: usize = 200;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_attachments, create_attachment))
        .routes(routes!(
            get_attachment,
            update_attachment,
            delete_attachment
        ))
        .routes(routes!(complete_attachment))
        .routes(routes!(list_unfiled, create_unfiled))
        .routes(routes!(get_any, update_any, delete_any))
        .routes(routes!(complete_any))
        // The signed addresses the API hands out for the bytes themselves (`upload.url`,
        // `url`, `thumbnail_url`) when files are kept in the local folder. They are not
        // in the OpenAPI document: programs use the addresses they are given, which on
        // AWS lead to S3 instead.
        .route("/blobs/{*key}", get(serve_blob).put(receive_blob))
}

/// The item of photos not filed into any item yet (taken on the capture page).
pub const UNFILED: ItemId = ItemId(uuid::Uuid::nil());

fn filed(item: ItemId) -> Option<ItemId> {
    (item != UNFILED).then_some(item)
}

/// The short-lived addresses of a ready attachment, and the rest of what it shows.
pub async fn attachment_dto(state: &AppState, row: AttachmentRow) -> ApiResult<Attachment> {
    let window = UrlWindow::around(OffsetDateTime::now_utc());
    let (mut url, mut thumbnail_url) = (None, None);
    if row.status == AttachmentStatus::Ready {
        let disposition = content_disposition(&row.filename, &row.content_type);
        url = Some(
            state
                .blobs
                .download_url(
                    &keys::file(row.household_id, row.id),
                    &row.content_type,
                    &disposition,
                    window,
                )
                .await?,
        );
        if row.width.is_some() {
            thumbnail_url = Some(thumbnail_url_of(state, row.household_id, row.id, window).await?);
        }
    }
    Ok(Attachment {
        id: row.id,
        item_id: filed(row.item_id),
        kind: row.kind,
        filename: row.filename,
        content_type: row.content_type,
        size: row.size,
        status: row.status,
        width: row.width,
        height: row.height,
        primary: row.primary,
        created_at: row.created_at,
        url,
        thumbnail_url,
    })
}

pub(crate) async fn thumbnail_url_of(
    state: &AppState,
    household: HouseholdId,
    id: AttachmentId,
    window: UrlWindow,
) -> ApiResult<String> {
    Ok(state
        .blobs
        .download_url(
            &keys::thumbnail(household, id),
            "image/jpeg",
            "inline",
            window,
        )
        .await?)
}

/// Sets `thumbnail_url` on items that have a primary photo.
pub async fn add_thumbnails(
    state: &AppState,
    household: HouseholdId,
    items: &mut [Item],
) -> ApiResult<()> {
    let ids: Vec<ItemId> = items.iter().map(|i| i.id).collect();
    let photos: HashMap<ItemId, AttachmentId> = state.store.primary_photos(household, &ids).await?;
    let photos: Vec<Option<AttachmentId>> = ids.iter().map(|id| photos.get(id).copied()).collect();
    set_thumbnails(state, household, items, &photos).await
}

/// Sets each item's thumbnail address from its primary photo, read with it
/// (`Store::items_shown`): `photos` in the order of `items`.
pub async fn set_thumbnails(
    state: &AppState,
    household: HouseholdId,
    items: &mut [Item],
    photos: &[Option<AttachmentId>],
) -> ApiResult<()> {
    if photos.iter().all(Option::is_none) {
        return Ok(());
    }
    let window = UrlWindow::around(OffsetDateTime::now_utc());
    for (item, photo) in items.iter_mut().zip(photos) {
        if let Some(photo) = photo {
            item.thumbnail_url = Some(thumbnail_url_of(state, household, *photo, window).await?);
        }
    }
    Ok(())
}

/// How a ready file is served: images `inline`, shown in the page; everything else
/// (PDFs and whatever else is accepted later) as an `attachment`, saved rather than
/// opened by the browser. The name people gave it keeps its stem but takes the extension
/// of the type its bytes were found to be, so a PDF announced as `invoice.html` downloads
/// as `invoice.pdf`. In the form every browser reads (RFC 6266, RFC 5987 for the UTF-8
/// name).
pub(crate) fn content_disposition(filename: &str, content_type: &str) -> String {
    let file_type = FileType::from_content_type(content_type);
    let how = match file_type {
        Some(t) if t.is_image() => "inline",
        _ => "attachment",
    };
    let name = match file_type {
        Some(t) => with_extension(filename, t.extension()),
        None => filename.to_string(),
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded = crate::blob::percent_encode(&name);
    format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// `name` with its extension (if it has one) replaced by `extension`.
fn with_extension(name: &str, extension: &str) -> String {
    let stem = match name.rfind('.') {
        Some(dot) if dot > 0 => &name[..dot],
        _ => name,
    };
    format!("{stem}.{extension}")
}

/// A file name as people gave it, without folders or control characters.
fn clean_filename(raw: &str) -> Result<String, &'static str> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let name: String = base.chars().filter(|c| !c.is_control()).collect();
    let name = name.trim();
    if name.is_empty() {
        return Err("is required");
    }
    if name.chars().count() > MAX_FILENAME_CHARS {
        return Err("must be at most 200 characters");
    }
    Ok(name.to_string())
}

/// A size for people: "12 MB", "9.5 GB".
fn size_text(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.1} GB", bytes as f64 / 1_000_000_000.0)
    } else {
        megabytes(bytes)
    }
}

fn megabytes(bytes: u64) -> String {
    let mb = bytes as f64 / 1_000_000.0;
    if mb >= 10.0 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// An attachment of the household; with `scope`, only one of that item.
async fn attachment_of(
    state: &AppState,
    hid: HouseholdId,
    scope: Option<ItemId>,
    id: AttachmentId,
) -> ApiResult<AttachmentRow> {
    match state.store.attachment(hid, id).await? {
        Some(row) if scope.is_none_or(|item| row.item_id == item) => Ok(row),
        _ => Err(ApiError::not_found("attachment")),
    }
}

/// Checks the item of an item-scoped request is live.
async fn check_scope(state: &AppState, hid: HouseholdId, scope: Option<ItemId>) -> ApiResult<()> {
    match scope {
        Some(item) => live_item(state, hid, item).await.map(drop),
        None => Ok(()),
    }
}

struct Announced {
    kind: AttachmentKind,
    filename: String,
    file_type: FileType,
    size: u64,
}

/// Checks an announcement: every missing or malformed field at once (422), then the
/// type (415) and the size (413).
fn check_announcement(body: &CreateAttachment, max_bytes: u64) -> ApiResult<Announced> {
    let mut errors = FieldErrors::new();
    let kind = match body.kind.as_deref().map(str::parse::<AttachmentKind>) {
        None => AttachmentKind::Photo,
        Some(Ok(kind)) => kind,
        Some(Err(message)) => {
            errors.insert("kind".into(), message);
            AttachmentKind::Photo
        }
    };
    let filename = match clean_filename(body.filename.as_deref().unwrap_or_default()) {
        Ok(name) => name,
        Err(message) => {
            errors.insert("filename".into(), message.into());
            String::new()
        }
    };
    let content_type = body.content_type.as_deref().unwrap_or_default().trim();
    if content_type.is_empty() {
        errors.insert("content_type".into(), "is required".into());
    }
    let size = match body.size {
        None => {
            errors.insert("size".into(), "is required".into());
            0
        }
        Some(size) if size <= 0 => {
            errors.insert("size".into(), "must be at least 1 byte".into());
            0
        }
        Some(size) => size as u64,
    };
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let Some(file_type) = FileType::from_content_type(content_type) else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "{content_type} files can't be attached; send a JPEG, PNG, WebP, GIF or HEIC image or a PDF."
        )));
    };
    if kind == AttachmentKind::Photo && !file_type.is_image() {
        return Err(ApiError::UnsupportedMediaType(
            "A photo must be an image; add PDF files as a receipt, manual, warranty or other document."
                .into(),
        ));
    }
    if size > max_bytes {
        return Err(ApiError::PayloadTooLarge(format!(
            "The file is {}; the largest accepted is {}.",
            megabytes(size),
            megabytes(max_bytes)
        )));
    }
    Ok(Announced {
        kind,
        filename,
        file_type,
        size,
    })
}

/// Refuses an announcement when the household has too many uploads under way (429) or
/// when the file would take it over its storage quota (413). Uploads under way count
/// against the quota as announced, until their upload URL expires.
async fn check_room(state: &AppState, hid: HouseholdId, size: u64) -> ApiResult<()> {
    let since = now() - Duration::minutes(UPLOAD_MINUTES);
    let usage = state.store.upload_usage(hid, since).await?;
    if usage.pending >= MAX_PENDING_UPLOADS {
        return Err(ApiError::RateLimited(format!(
            "This household has {MAX_PENDING_UPLOADS} uploads under way, the most at once; \
             add more when they have finished."
        )));
    }
    let used = (usage.ready_bytes + usage.pending_bytes).max(0) as u64;
    check_quota(state, used, size)
}

/// 413 when `size` more bytes would take a household that uses `used` over its quota.
fn check_quota(state: &AppState, used: u64, size: u64) -> ApiResult<()> {
    match state.config.household_storage_quota {
        Some(quota) if used.saturating_add(size) > quota => {
            Err(ApiError::PayloadTooLarge(format!(
                "This household keeps {} of files (uploads under way included) and may keep \
                 {}, so this {} file doesn't fit. Delete files it no longer needs, or ask \
                 the server's operator for more room.",
                size_text(used),
                size_text(quota),
                size_text(size)
            )))
        }
        _ => Ok(()),
    }
}

async fn upload_target(state: &AppState, row: &AttachmentRow) -> ApiResult<UploadTarget> {
    let expires_at = now() + Duration::minutes(UPLOAD_MINUTES);
    let upload = state
        .blobs
        .upload(
            &keys::upload(row.household_id, row.id),
            &row.content_type,
            row.size as u64,
            expires_at,
        )
        .await?;
    Ok(UploadTarget {
        url: upload.url,
        method: "PUT".into(),
        headers: upload.headers,
        expires_at: expires_at.replace_nanosecond(0).unwrap_or(expires_at),
    })
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/attachments",
    tag = "Attachments",
    operation_id = "create_attachment",
    summary = "Add a file to an item",
    description = "Announces a photo or a document of the item before its bytes are sent. Repeating the announcement with the same client-made `id` \
        answers 200 with the same attachment and a fresh upload URL.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    request_body = CreateAttachment,
    responses(
        (status = 201, description = "Announced: PUT the bytes to `upload.url` with \
            `upload.headers`, then complete it", body = NewAttachment,
            links(
                ("GetAttachment" = (operation_id = "get_attachment",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$request.path.id"), ("aid" = "$response.body#/id")))),
                ("CompleteAttachment" = (operation_id = "complete_attachment",
                    parameters(("hid" = "$request.path.hid"), ("id" = "$request.path.id"), ("aid" = "$response.body#/id")))),
            )),
        (status = 200, description = "An attachment with this client-made `id` exists \
            already: this is it, with a fresh upload URL", body = NewAttachment),
        (status = 403, description = "Viewers can't add files", body = ErrorBody),
        (status = 409, description = "The `id` is taken by something else", body = ErrorBody),
        (status = 413, description = "The file is larger than the largest accepted, or would \
            take the household over its storage quota", body = ErrorBody),
        (status = 415, description = "Not an accepted type, or a photo that is not an image",
            body = ErrorBody),
        (status = 429, description = "The household has 50 uploads under way, the most at once",
            body = ErrorBody),
    ),
)]
async fn create_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item)): AppPath<(HouseholdId, ItemId)>,
    AppJson(body): AppJson<CreateAttachment>,
) -> ApiResult<(StatusCode, Json<NewAttachment>)> {
    create(state, user, hid, Some(item), body).await
}

/// A photo that belongs to no item yet; `PATCH` with an `item_id` files it.
#[utoipa::path(
    post,
    path = "/households/{hid}/attachments",
    tag = "Attachments",
    operation_id = "create_unfiled_attachment",
    summary = "Add a photo filed into no item yet",
    description = "Announces a photo (taken on the capture page) that belongs to no item yet; `PATCH` with an `item_id` files it. Repeating the announcement with the same client-made `id` \
        answers 200 with the same attachment and a fresh upload URL.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
    ),
    request_body = CreateAttachment,
    responses(
        (status = 201, description = "Announced: PUT the bytes to `upload.url` with \
            `upload.headers`, then complete it", body = NewAttachment,
            links(
                ("GetAttachment" = (operation_id = "get_household_attachment",
                    parameters(("hid" = "$request.path.hid"), ("aid" = "$response.body#/id")))),
                ("CompleteAttachment" = (operation_id = "complete_household_attachment",
                    parameters(("hid" = "$request.path.hid"), ("aid" = "$response.body#/id")))),
            )),
        (status = 200, description = "An attachment with this client-made `id` exists \
            already: this is it, with a fresh upload URL", body = NewAttachment),
        (status = 403, description = "Viewers can't add files", body = ErrorBody),
        (status = 409, description = "The `id` is taken by something else", body = ErrorBody),
        (status = 413, description = "The file is larger than the largest accepted, or would \
            take the household over its storage quota", body = ErrorBody),
        (status = 415, description = "Not an accepted type, or a photo that is not an image",
            body = ErrorBody),
        (status = 429, description = "The household has 50 uploads under way, the most at once",
            body = ErrorBody),
    ),
)]
async fn create_unfiled(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    AppJson(body): AppJson<CreateAttachment>,
) -> ApiResult<(StatusCode, Json<NewAttachment>)> {
    create(state, user, hid, None, body).await
}

async fn create(
    state: AppState,
    user: CurrentUser,
    hid: HouseholdId,
    scope: Option<ItemId>,
    body: CreateAttachment,
) -> ApiResult<(StatusCode, Json<NewAttachment>)> {
    auth::editor(&state, &user, hid).await?;
    check_scope(&state, hid, scope).await?;
    let item = scope.unwrap_or(UNFILED);
    // An invalid announcement is refused even when it repeats an existing attachment's id.
    let announced = check_announcement(&body, state.config.max_upload_bytes)?;
    if let Some(id) = body.id {
        match state.store.attachment_owner(id).await? {
            Some(owner) if owner == hid => {
                let row = attachment_of(&state, hid, scope, id).await?;
                return answer_new(&state, row, StatusCode::OK).await;
            }
            Some(_) => {
                return Err(ApiError::Conflict(
                    "that id is already used by something else".into(),
                ));
            }
            None => {}
        }
    }
    check_room(&state, hid, announced.size).await?;
    let row = AttachmentRow {
        id: body.id.unwrap_or_default(),
        household_id: hid,
        item_id: item,
        kind: announced.kind,
        filename: announced.filename,
        content_type: announced.file_type.content_type().into(),
        size: announced.size as i64,
        stored_bytes: 0,
        status: AttachmentStatus::Pending,
        width: None,
        height: None,
        primary: false,
        created_by: user.user.id,
        created_at: now(),
    };
    match state.store.insert_attachment(&row).await {
        Ok(()) => answer_new(&state, row, StatusCode::CREATED).await,
        // The same id sent twice at once: the other request made it.
        Err(StoreError::Conflict(_)) if body.id.is_some() => {
            let row = attachment_of(&state, hid, scope, row.id).await?;
            answer_new(&state, row, StatusCode::OK).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn answer_new(
    state: &AppState,
    row: AttachmentRow,
    status: StatusCode,
) -> ApiResult<(StatusCode, Json<NewAttachment>)> {
    let upload = upload_target(state, &row).await?;
    let attachment = attachment_dto(state, row).await?;
    Ok((status, Json(NewAttachment { attachment, upload })))
}

/// Forgets a refused upload: its bytes and its row.
async fn discard(state: &AppState, row: &AttachmentRow) {
    if let Err(e) = state
        .blobs
        .delete(&keys::all(row.household_id, row.id))
        .await
    {
        tracing::warn!(error = %e, attachment = %row.id, "deleting a refused upload failed");
    }
    if let Err(e) = state
        .store
        .delete_attachment(row.household_id, row.id)
        .await
    {
        tracing::warn!(error = %e, attachment = %row.id, "forgetting a refused upload failed");
    }
}

#[utoipa::path(
    post,
    path = "/households/{hid}/items/{id}/attachments/{aid}/complete",
    tag = "Attachments",
    operation_id = "complete_attachment",
    summary = "Complete an item's upload",
    description = "Checks the uploaded bytes (their type by their content, a pixel limit), \
        removes metadata, makes a thumbnail and makes the file visible. A refused file is \
        deleted. Completing a ready attachment again answers it as it is.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses(
        (status = 200, description = "Ready: `url` and `thumbnail_url` are filled in",
            body = Attachment),
        (status = 403, description = "Viewers can't add files", body = ErrorBody),
        (status = 409, description = "The bytes haven't arrived yet, or another request is \
            checking them: try again shortly", body = ErrorBody),
        (status = 413, description = "Larger than the largest file accepted, over 50 \
            megapixels, or over the household's storage quota", body = ErrorBody),
        (status = 415, description = "Not an accepted type, or not the type announced",
            body = ErrorBody),
        (status = 422, description = "Damaged, or not the size announced", body = ErrorBody),
    ),
)]
async fn complete_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item, id)): AppPath<(HouseholdId, ItemId, AttachmentId)>,
) -> ApiResult<Json<Attachment>> {
    complete(state, user, hid, Some(item), id).await
}

#[utoipa::path(
    post,
    path = "/households/{hid}/attachments/{aid}/complete",
    tag = "Attachments",
    operation_id = "complete_household_attachment",
    summary = "Complete an upload",
    description = "Checks the uploaded bytes (their type by their content, a pixel limit), \
        removes metadata, makes a thumbnail and makes the file visible. A refused file is \
        deleted. Completing a ready attachment again answers it as it is.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses(
        (status = 200, description = "Ready: `url` and `thumbnail_url` are filled in",
            body = Attachment),
        (status = 403, description = "Viewers can't add files", body = ErrorBody),
        (status = 409, description = "The bytes haven't arrived yet, or another request is \
            checking them: try again shortly", body = ErrorBody),
        (status = 413, description = "Larger than the largest file accepted, over 50 \
            megapixels, or over the household's storage quota", body = ErrorBody),
        (status = 415, description = "Not an accepted type, or not the type announced",
            body = ErrorBody),
        (status = 422, description = "Damaged, or not the size announced", body = ErrorBody),
    ),
)]
async fn complete_any(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, AttachmentId)>,
) -> ApiResult<Json<Attachment>> {
    complete(state, user, hid, None, id).await
}

async fn complete(
    state: AppState,
    user: CurrentUser,
    hid: HouseholdId,
    scope: Option<ItemId>,
    id: AttachmentId,
) -> ApiResult<Json<Attachment>> {
    auth::editor(&state, &user, hid).await?;
    check_scope(&state, hid, scope).await?;
    let row = attachment_of(&state, hid, scope, id).await?;
    if row.status == AttachmentStatus::Ready {
        return Ok(Json(attachment_dto(&state, row).await?));
    }
    // Only the request that claims the upload reads and decodes it.
    let at = now();
    let stale = at - Duration::minutes(CLAIM_MINUTES);
    if !state.store.claim_attachment(hid, id, at, stale).await? {
        // Another request is checking it, or has just finished.
        let row = attachment_of(&state, hid, scope, id).await?;
        if row.status == AttachmentStatus::Ready {
            return Ok(Json(attachment_dto(&state, row).await?));
        }
        return Err(ApiError::Conflict(
            "This file is being checked; ask again in a moment.".into(),
        ));
    }
    // The check runs to its end even if the person stops waiting, so that it never leaves
    // its claim behind.
    let checked = tokio::spawn({
        let state = state.clone();
        async move {
            let checked = check_upload(&state, row).await;
            if checked.is_err()
                && let Err(e) = state.store.release_attachment(hid, id, at).await
            {
                tracing::warn!(error = %e, attachment = %id, "giving back a claim failed");
            }
            checked
        }
    })
    .await
    .map_err(|e| anyhow::anyhow!("checking an upload stopped: {e}"))??;
    Ok(Json(attachment_dto(&state, checked).await?))
}

/// Checks, cleans and keeps a claimed upload; the row as stored. A refused file is deleted
/// with its row; after any other failure the caller gives the claim back.
async fn check_upload(state: &AppState, row: AttachmentRow) -> ApiResult<AttachmentRow> {
    let (hid, id) = (row.household_id, row.id);
    let max = state.config.max_upload_bytes;
    // The bytes are read once a decode permit is free, so checks waiting for one hold no
    // file in memory.
    let permit = state.decodes.permit().await?;
    let bytes = match state.blobs.get(&keys::upload(hid, id), max).await {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(ApiError::Conflict(
                "The file hasn't arrived yet: upload it to the upload URL first, then complete it."
                    .into(),
            ));
        }
        Err(BlobError::TooLarge(_)) => {
            discard(state, &row).await;
            return Err(ApiError::PayloadTooLarge(format!(
                "The file is larger than {}, the largest accepted.",
                megabytes(max)
            )));
        }
        Err(BlobError::Other(e)) => return Err(ApiError::Internal(e)),
    };
    if bytes.len() as u64 != row.size as u64 {
        discard(state, &row).await;
        return Err(ApiError::field(
            "size",
            format!(
                "the upload was {} bytes, not the {} announced; add the file again",
                bytes.len(),
                row.size
            ),
        ));
    }
    let declared = FileType::from_content_type(&row.content_type)
        .ok_or_else(|| anyhow::anyhow!("a stored attachment has an unknown type"))?;
    let kind = row.kind;
    let processed = permit
        .run(move || media::process(bytes, declared, kind))
        .await?;
    let processed = match processed {
        Ok(p) => p,
        Err(refusal) => {
            discard(state, &row).await;
            return Err(match refusal {
                Refusal::UnsupportedType(m) => ApiError::UnsupportedMediaType(m),
                Refusal::TooLarge(m) => ApiError::PayloadTooLarge(m),
                Refusal::Invalid(m) => ApiError::field("file", m),
            });
        }
    };
    // The announcement fitted; the file must still fit now that other uploads may have
    // finished (or an old announcement was given a new upload URL). Its thumbnail, a few
    // kilobytes, is not held against it.
    let kept = state.store.upload_usage(hid, now()).await?.ready_bytes;
    if let Err(e) = check_quota(state, kept.max(0) as u64, row.size as u64) {
        discard(state, &row).await;
        return Err(e);
    }
    let content_type = processed.file_type.content_type();
    let size = processed.bytes.len() as i64;
    let stored = size + processed.thumbnail.as_ref().map_or(0, |t| t.len() as i64);
    state
        .blobs
        .put(&keys::file(hid, id), processed.bytes, content_type)
        .await?;
    if let Some(thumbnail) = processed.thumbnail {
        state
            .blobs
            .put(&keys::thumbnail(hid, id), thumbnail, "image/jpeg")
            .await?;
    }
    let done = AttachmentRow {
        size,
        stored_bytes: stored,
        content_type: content_type.into(),
        width: processed.width.map(i64::from),
        height: processed.height.map(i64::from),
        ..row
    };
    let stored_row = match state.store.complete_attachment(&done).await {
        Ok(row) => row,
        // Completed by a request that took over this one's claim, or deleted meanwhile
        // (then the files just kept go too).
        Err(StoreError::NotFound) => match state.store.attachment(hid, id).await? {
            Some(row) => row,
            None => {
                delete_files(state, hid, &[id]).await;
                return Err(ApiError::not_found("attachment"));
            }
        },
        Err(e) => return Err(e.into()),
    };
    if let Err(e) = state.blobs.delete(&[keys::upload(hid, id)]).await {
        tracing::warn!(error = %e, attachment = %id, "deleting an upload after completion failed");
    }
    Ok(stored_row)
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}/attachments",
    tag = "Attachments",
    summary = "List an item's files",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
    ),
    responses((status = 200, description = "The item's photos and documents",
        body = List<Attachment>)),
)]
async fn list_attachments(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item)): AppPath<(HouseholdId, ItemId)>,
) -> ApiResult<Json<List<Attachment>>> {
    auth::member(&state, &user, hid).await?;
    live_item(&state, hid, item).await?;
    list_of(&state, state.store.attachments(hid, item).await?).await
}

/// Photos taken but not filed into any item yet.
#[utoipa::path(
    get,
    path = "/households/{hid}/attachments",
    tag = "Attachments",
    operation_id = "list_unfiled_attachments",
    summary = "List photos filed into no item",
    description = "Photos taken (on the capture page) and not filed into any item yet.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
    ),
    responses((status = 200, description = "The unfiled photos", body = List<Attachment>)),
)]
async fn list_unfiled(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<Attachment>>> {
    auth::member(&state, &user, hid).await?;
    list_of(&state, state.store.attachments(hid, UNFILED).await?).await
}

async fn list_of(state: &AppState, rows: Vec<AttachmentRow>) -> ApiResult<Json<List<Attachment>>> {
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        items.push(attachment_dto(state, row).await?);
    }
    Ok(Json(List { items }))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/items/{id}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "get_attachment",
    summary = "Get an item's file",
    description = "One photo or document of the item.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses((status = 200, description = "The attachment; `url` and `thumbnail_url` are \
        short-lived signed addresses", body = Attachment)),
)]
async fn get_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item, id)): AppPath<(HouseholdId, ItemId, AttachmentId)>,
) -> ApiResult<Json<Attachment>> {
    auth::member(&state, &user, hid).await?;
    live_item(&state, hid, item).await?;
    let row = attachment_of(&state, hid, Some(item), id).await?;
    Ok(Json(attachment_dto(&state, row).await?))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "get_household_attachment",
    summary = "Get a file",
    description = "Any attachment of the household, filed into an item or not.",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses((status = 200, description = "The attachment; `url` and `thumbnail_url` are \
        short-lived signed addresses", body = Attachment)),
)]
async fn get_any(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, AttachmentId)>,
) -> ApiResult<Json<Attachment>> {
    auth::member(&state, &user, hid).await?;
    let row = attachment_of(&state, hid, None, id).await?;
    Ok(Json(attachment_dto(&state, row).await?))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/items/{id}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "update_attachment",
    summary = "Change an item's file",
    description = "Renames it, changes its kind, makes a photo the item's primary photo, or \
        files it into another item (`item_id`).",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    request_body = UpdateAttachment,
    responses(
        (status = 200, description = "The attachment as it is now", body = Attachment),
        (status = 403, description = "Viewers can't change files", body = ErrorBody),
        (status = 422, description = "Invalid fields, an `item_id` that is not an item of this \
            household, a document made a photo, or a photo made primary before it is ready",
            body = ErrorBody),
    ),
)]
async fn update_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item, id)): AppPath<(HouseholdId, ItemId, AttachmentId)>,
    AppJson(body): AppJson<UpdateAttachment>,
) -> ApiResult<Json<Attachment>> {
    update(state, user, hid, Some(item), id, body).await
}

#[utoipa::path(
    patch,
    path = "/households/{hid}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "update_household_attachment",
    summary = "Change or file an attachment",
    description = "Renames it, changes its kind, makes a photo the item's primary photo, or \
        files it into another item (`item_id`).",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    request_body = UpdateAttachment,
    responses(
        (status = 200, description = "The attachment as it is now", body = Attachment),
        (status = 403, description = "Viewers can't change files", body = ErrorBody),
        (status = 422, description = "Invalid fields, an `item_id` that is not an item of this \
            household, a document made a photo, or a photo made primary before it is ready",
            body = ErrorBody),
    ),
)]
async fn update_any(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, AttachmentId)>,
    AppJson(body): AppJson<UpdateAttachment>,
) -> ApiResult<Json<Attachment>> {
    update(state, user, hid, None, id, body).await
}

async fn update(
    state: AppState,
    user: CurrentUser,
    hid: HouseholdId,
    scope: Option<ItemId>,
    id: AttachmentId,
    body: UpdateAttachment,
) -> ApiResult<Json<Attachment>> {
    auth::editor(&state, &user, hid).await?;
    check_scope(&state, hid, scope).await?;
    let mut row = attachment_of(&state, hid, scope, id).await?;
    let mut errors = FieldErrors::new();
    if let Some(target) = body.item_id
        && target != row.item_id
    {
        match state.store.item(hid, target).await? {
            Some(item) if item.deleted_at.is_none() => {
                row.item_id = target;
                // It joins the other item's photos; primary only if asked (or the first).
                row.primary = false;
            }
            _ => {
                errors.insert("item_id".into(), "is not an item of this household".into());
            }
        }
    }
    if let Some(kind) = body.kind.as_deref() {
        match kind.parse::<AttachmentKind>() {
            Ok(AttachmentKind::Photo) if row.width.is_none() => {
                errors.insert("kind".into(), "only images can be photos".into());
            }
            Ok(kind) => {
                if kind != AttachmentKind::Photo {
                    row.primary = false;
                }
                row.kind = kind;
            }
            Err(message) => {
                errors.insert("kind".into(), message);
            }
        }
    }
    if let Some(name) = body.filename.as_deref() {
        match clean_filename(name) {
            Ok(name) => row.filename = name,
            Err(message) => {
                errors.insert("filename".into(), message.into());
            }
        }
    }
    match body.primary {
        Some(true) if row.kind != AttachmentKind::Photo => {
            errors.insert(
                "primary".into(),
                "only a photo can be the primary photo".into(),
            );
        }
        Some(true) if row.status != AttachmentStatus::Ready => {
            errors.insert(
                "primary".into(),
                "the photo hasn't finished uploading".into(),
            );
        }
        Some(true) => row.primary = true,
        Some(false) if row.primary => {
            errors.insert(
                "primary".into(),
                "make another photo primary instead".into(),
            );
        }
        _ => {}
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let stored = state.store.update_attachment(&row).await?;
    Ok(Json(attachment_dto(&state, stored).await?))
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/items/{id}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "delete_attachment",
    summary = "Delete an item's file",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("id" = ItemId, Path, description = "The item"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses(
        (status = 204, description = "Deleted, with its file"),
        (status = 403, description = "Viewers can't delete files", body = ErrorBody),
    ),
)]
async fn delete_attachment(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, item, id)): AppPath<(HouseholdId, ItemId, AttachmentId)>,
) -> ApiResult<StatusCode> {
    delete(state, user, hid, Some(item), id).await
}

#[utoipa::path(
    delete,
    path = "/households/{hid}/attachments/{aid}",
    tag = "Attachments",
    operation_id = "delete_household_attachment",
    summary = "Delete an attachment",
    params(
        ("hid" = HouseholdId, Path, description = "The household"),
        ("aid" = AttachmentId, Path, description = "The attachment"),
    ),
    responses(
        (status = 204, description = "Deleted, with its file"),
        (status = 403, description = "Viewers can't delete files", body = ErrorBody),
    ),
)]
async fn delete_any(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath((hid, id)): AppPath<(HouseholdId, AttachmentId)>,
) -> ApiResult<StatusCode> {
    delete(state, user, hid, None, id).await
}

async fn delete(
    state: AppState,
    user: CurrentUser,
    hid: HouseholdId,
    scope: Option<ItemId>,
    id: AttachmentId,
) -> ApiResult<StatusCode> {
    auth::editor(&state, &user, hid).await?;
    check_scope(&state, hid, scope).await?;
    attachment_of(&state, hid, scope, id).await?;
    state.store.delete_attachment(hid, id).await?;
    delete_files(&state, hid, &[id]).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Deletes the files of attachments whose rows are gone. A failure leaves files nobody
/// can reach any more; it is logged.
pub async fn delete_files(state: &AppState, household: HouseholdId, ids: &[AttachmentId]) {
    let keys: Vec<String> = ids
        .iter()
        .flat_map(|id| keys::all(household, *id))
        .collect();
    if keys.is_empty() {
        return;
    }
    if let Err(e) = state.blobs.delete(&keys).await {
        tracing::warn!(error = %e, files = keys.len(), "deleting attachment files failed");
    }
}

// ---------------------------------------------------------------- local uploads and downloads

fn local_only(state: &AppState) -> ApiResult<&crate::blob::local::LocalBlobs> {
    state
        .local_blobs
        .as_deref()
        .ok_or_else(|| ApiError::not_found("file"))
}

fn expired_link() -> ApiError {
    ApiError::Forbidden(
        "This link is not valid or has expired; ask for the attachment again.".into(),
    )
}

/// Receives one upload at a URL `LocalBlobs` signed: exactly the announced type and length.
async fn receive_blob(
    State(state): State<AppState>,
    axum::extract::Path(key): axum::extract::Path<String>,
    Query(grant): Query<Grant>,
    request: Request,
) -> ApiResult<StatusCode> {
    use tokio::io::AsyncWriteExt as _;
    let blobs = local_only(&state)?;
    // Attachments' uploads, and files announced for an import.
    let uploadable = key.starts_with("uploads/") || key.starts_with("imports/");
    if !uploadable || !blobs.verify(&key, "put", &grant, OffsetDateTime::now_utc()) {
        return Err(expired_link());
    }
    let size = grant.size.unwrap_or_default();
    let headers = request.headers();
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type != grant.content_type {
        return Err(ApiError::UnsupportedMediaType(format!(
            "This upload must be sent with Content-Type: {}.",
            grant.content_type
        )));
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match length {
        Some(n) if n > size => {
            return Err(ApiError::PayloadTooLarge(format!(
                "This upload must be exactly {size} bytes, as announced."
            )));
        }
        Some(n) if n == size => {}
        _ => {
            return Err(ApiError::BadRequest(format!(
                "This upload must be sent with Content-Length: {size}, as announced."
            )));
        }
    }
    let partial = blobs.partial_path(&key)?;
    if let Some(dir) = partial.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(anyhow::Error::from)?;
    }
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(anyhow::Error::from)?;
    let mut received = 0u64;
    let mut body = request.into_body().into_data_stream();
    let outcome: ApiResult<()> = async {
        use futures_util::StreamExt as _;
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|_| ApiError::BadRequest("The upload was cut off.".into()))?;
            received += chunk.len() as u64;
            if received > size {
                return Err(ApiError::PayloadTooLarge(format!(
                    "This upload must be exactly {size} bytes, as announced."
                )));
            }
            file.write_all(&chunk).await.map_err(anyhow::Error::from)?;
        }
        if received != size {
            return Err(ApiError::BadRequest("The upload was cut off.".into()));
        }
        file.flush().await.map_err(anyhow::Error::from)?;
        Ok(())
    }
    .await;
    drop(file);
    if let Err(e) = outcome {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(e);
    }
    blobs.finish_upload(&key).await?;
    Ok(StatusCode::OK)
}

/// Serves a file at a URL `LocalBlobs` signed.
async fn serve_blob(
    State(state): State<AppState>,
    axum::extract::Path(key): axum::extract::Path<String>,
    Query(grant): Query<Grant>,
) -> ApiResult<Response> {
    let blobs = local_only(&state)?;
    let now = OffsetDateTime::now_utc();
    // Attachments, and the files jobs make (exports and backups).
    let servable = key.starts_with("files/") || key.starts_with("jobs/");
    if !servable || !blobs.verify(&key, "get", &grant, now) {
        return Err(expired_link());
    }
    // Streamed: a backup can be gigabytes.
    let file = match tokio::fs::File::open(blobs.file_path(&key)?).await {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::not_found("file"));
        }
        Err(e) => return Err(ApiError::Internal(e.into())),
    };
    let length = file
        .metadata()
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .len();
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    let value = |s: &str| HeaderValue::from_str(s).map_err(|e| ApiError::Internal(e.into()));
    headers.insert(header::CONTENT_TYPE, value(&grant.content_type)?);
    // Every download link names its disposition; one that doesn't is saved, not shown.
    let disposition = grant.disposition.as_deref().unwrap_or("attachment");
    headers.insert(header::CONTENT_DISPOSITION, value(disposition)?);
    let max_age = (grant.expires - now.unix_timestamp()).clamp(0, 7200);
    headers.insert(
        header::CACHE_CONTROL,
        value(&format!("private, max-age={max_age}, immutable"))?,
    );
    // Like every API answer (`security_headers`): not sniffed, and opened on its own in a
    // tab, a sandbox that runs nothing.
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    Ok((headers, body).into_response())
}

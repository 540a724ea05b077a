//! A person's reminder settings, their private calendar feed, turning reminder mail off from
//! a mail's link, and the scheduled reminder pass on AWS.
//!
//! Credentials: the settings take a session or an API token (a read-only token only reads
//! them). The calendar feed's address covers every household of its owner, so it is handed
//! out to a session or to a token not limited to one household; resetting it takes the same.
//! The feed itself and the unsubscribe link need no credential: their secret is one.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use shared::{
    CalendarFeed, ErrorBody, FieldErrors, ReminderSettings, ReminderSettingsInput, UserId,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{CurrentUser, new_token};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath};
use crate::reminders::calendar;
use crate::store::now;
use crate::store::reminder_settings::ReminderSettingsRow;

/// Where the feed is served, under `/api/v1`.
pub const CALENDAR_PATH: &str = "/calendar/";

/// The path of the unsubscribe link's one-click POST, under `/api`: it is sent from mail
/// clients on other sites, so the same-origin check lets it through (it changes nothing
/// but the one setting of the person whose secret it carries).
pub const UNSUBSCRIBE_API_PATH: &str = "/v1/reminders/unsubscribe/";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(get_reminder_settings, put_reminder_settings))
        .routes(routes!(get_calendar))
        .routes(routes!(reset_calendar))
        .routes(routes!(calendar_feed))
        .routes(routes!(unsubscribe))
}

/// Routes only the deployment's own events reach (see `crate::jobs::invoke`).
pub fn internal() -> axum::Router<AppState> {
    axum::Router::new().route("/internal/reminders/run", post(run_pass))
}

/// A new secret: 32 random bytes, base64url.
fn new_secret() -> ApiResult<String> {
    Ok(new_token()?.0)
}

/// Whether `name` is a time zone of the bundled IANA database.
pub fn known_time_zone(name: &str) -> bool {
    !name.is_empty() && jiff::tz::TimeZone::get(name).is_ok()
}

/// Whether the person's address is confirmed for reminder mail (by a confirmation mail's
/// link, or by Google sign-in): digests go only to one that is.
pub(crate) async fn email_confirmed(state: &AppState, user: &CurrentUser) -> ApiResult<bool> {
    let me = &user.user;
    let verified = state
        .store
        .user_by_email(&me.email)
        .await?
        .is_some_and(|r| r.user.id == me.id && r.email_verified_at.is_some());
    if verified {
        return Ok(true);
    }
    let mailed = state.store.email_confirmation(me.id).await?;
    Ok(mailed.is_some_and(|c| c.confirms(&me.email)))
}

fn settings_dto(
    state: &AppState,
    user: &CurrentUser,
    row: Option<ReminderSettingsRow>,
    email_confirmed: bool,
) -> ReminderSettings {
    let saved = row.as_ref().is_some_and(|r| r.saved_at.is_some());
    let row =
        row.unwrap_or_else(|| ReminderSettingsRow::defaults(user.user.id, String::new(), now()));
    ReminderSettings {
        digest_enabled: row.digest_enabled,
        frequency: row.frequency,
        weekday: row.weekday,
        hour: row.hour,
        time_zone: row.time_zone,
        email: user.user.email.clone(),
        email_confirmed,
        mail_configured: state.mailer.is_some(),
        saved,
    }
}

#[utoipa::path(
    get,
    path = "/me/reminders",
    tag = "Reminders",
    summary = "Your reminder settings",
    description = "Whether the digest of warranties ending and maintenance due is mailed to \
        you, daily or weekly, at which local hour in which time zone. Someone who never saved \
        them has the defaults: on, daily, at 8 in UTC (`saved` is false). `mail_configured` \
        says whether this server sends mail at all, and `email_confirmed` whether your \
        address is confirmed: no digest goes to an address until it is (see \
        `POST /me/email/confirmation`).",
    responses((status = 200, description = "Your settings", body = ReminderSettings)),
)]
async fn get_reminder_settings(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<ReminderSettings>> {
    let row = state.store.reminder_settings(user.user.id).await?;
    let confirmed = email_confirmed(&state, &user).await?;
    Ok(Json(settings_dto(&state, &user, row, confirmed)))
}

#[utoipa::path(
    put,
    path = "/me/reminders",
    tag = "Reminders",
    summary = "Save your reminder settings",
    description = "Every setting at once. `hour` is 0–23 and `time_zone` an IANA name \
        (`Europe/Paris`); anything else answers 422 naming the field, and nothing is saved.",
    request_body = ReminderSettingsInput,
    responses(
        (status = 200, description = "Saved", body = ReminderSettings),
        (status = 403, description = "Sent with a read-only API token", body = ErrorBody),
    ),
)]
async fn put_reminder_settings(
    State(state): State<AppState>,
    user: CurrentUser,
    AppJson(body): AppJson<ReminderSettingsInput>,
) -> ApiResult<Json<ReminderSettings>> {
    let mut errors = FieldErrors::new();
    if body.hour > 23 {
        errors.insert("hour".into(), "must be an hour from 0 to 23".into());
    }
    let time_zone = body.time_zone.trim();
    if !known_time_zone(time_zone) {
        errors.insert(
            "time_zone".into(),
            "must be a time zone name like Europe/Paris or America/New_York".into(),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let at = now();
    let row = ReminderSettingsRow {
        digest_enabled: body.digest_enabled,
        frequency: body.frequency,
        weekday: body.weekday,
        hour: body.hour,
        time_zone: time_zone.to_string(),
        saved_at: Some(at),
        ..ReminderSettingsRow::defaults(user.user.id, new_secret()?, at)
    };
    let saved = state.store.save_reminder_settings(&row).await?;
    let confirmed = email_confirmed(&state, &user).await?;
    Ok(Json(settings_dto(&state, &user, Some(saved), confirmed)))
}

/// The feed's address covers all the person's households: not for a token limited to one.
fn whole_person(user: &CurrentUser) -> ApiResult<()> {
    if user.token().is_some_and(|t| t.household.is_some()) {
        return Err(ApiError::Forbidden(
            "the calendar feed covers all your households; this API token is limited to one".into(),
        ));
    }
    Ok(())
}

fn feed_url(state: &AppState, secret: &str) -> CalendarFeed {
    CalendarFeed {
        url: format!(
            "{}/api/v1{CALENDAR_PATH}{secret}.ics",
            state.config.public_url.trim_end_matches('/')
        ),
    }
}

#[utoipa::path(
    get,
    path = "/me/calendar",
    tag = "Reminders",
    summary = "Your calendar feed's address",
    description = "The private address of an iCalendar feed of your warranty ends and \
        maintenance due dates, across your households, for a calendar app to subscribe to. \
        Whoever has the address can read the feed: reset it if it leaked. An API token \
        limited to one household can't have it (403).",
    responses(
        (status = 200, description = "The address", body = CalendarFeed),
        (status = 403, description = "An API token limited to one household", body = ErrorBody),
    ),
)]
async fn get_calendar(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<CalendarFeed>> {
    whole_person(&user)?;
    let secret = state
        .store
        .ensure_calendar_secret(user.user.id, &new_secret()?, &new_secret()?, now())
        .await?;
    Ok(Json(feed_url(&state, &secret)))
}

#[utoipa::path(
    post,
    path = "/me/calendar/reset",
    tag = "Reminders",
    summary = "Give your calendar feed a new address",
    description = "The old address answers 404 from now on; calendars subscribed to it need \
        the new one.",
    responses(
        (status = 200, description = "The new address", body = CalendarFeed),
        (status = 403, description = "A read-only API token, or one limited to one household",
            body = ErrorBody),
    ),
)]
async fn reset_calendar(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<CalendarFeed>> {
    whole_person(&user)?;
    let secret = new_secret()?;
    state
        .store
        .reset_calendar_secret(user.user.id, &secret, &new_secret()?, now())
        .await?;
    Ok(Json(feed_url(&state, &secret)))
}

/// A secret as this server makes them: 43 base64url characters.
pub(crate) fn well_formed(secret: &str) -> bool {
    secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn unknown_feed() -> ApiError {
    ApiError::NotFound(
        "no calendar feed at this address; it may have been reset (see Settings for the new one)"
            .into(),
    )
}

#[utoipa::path(
    get,
    path = "/calendar/{file}",
    security(),
    tag = "Reminders",
    summary = "A calendar feed (iCalendar)",
    description = "No account needed: the secret in the address is the credential. An \
        all-day event on the day each warranty ends (from a year back to two years ahead) \
        and on the day each maintenance schedule is due (overdue ones on their due date), \
        with stable UIDs, so calendar apps update events instead of duplicating them.",
    params(("file" = String, Path, description = "`<secret>.ics`")),
    responses(
        (status = 200, description = "The feed", content_type = "text/calendar", body = String),
        (status = 404, description = "No feed at this address (or it was reset)",
            body = ErrorBody),
    ),
)]
async fn calendar_feed(
    State(state): State<AppState>,
    AppPath(file): AppPath<String>,
) -> ApiResult<Response> {
    let secret = file.strip_suffix(".ics").unwrap_or(&file);
    if !well_formed(secret) {
        return Err(unknown_feed());
    }
    let user: UserId = state
        .store
        .user_by_calendar_secret(secret)
        .await?
        .ok_or_else(unknown_feed)?;
    let at = now();
    let (from, until) = calendar::window(at.date());
    let rows = state.store.upcoming(user, from, until).await?;
    let body = calendar::feed(&rows, &state.config.public_url, at);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/calendar; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"home-inventory.ics\""),
            ),
        ],
        body,
    )
        .into_response())
}

fn unknown_unsubscribe() -> ApiError {
    ApiError::NotFound(
        "this unsubscribe link is not known; turn reminder mail off in Settings instead".into(),
    )
}

#[utoipa::path(
    post,
    path = "/reminders/unsubscribe/{secret}",
    security(),
    tag = "Reminders",
    summary = "Turn reminder mail off from a mail's link",
    description = "No account needed: the secret from the mail's link is the credential. \
        Turns the digest off and nothing else. Mail clients send it from elsewhere as \
        RFC 8058's one-click unsubscribe (`List-Unsubscribe=One-Click`, form-encoded); any \
        body, or none, is accepted. Opening the link (`GET`) changes nothing: it is the \
        web app's page with a button.",
    params(("secret" = String, Path, description = "The secret of the mail's unsubscribe link")),
    responses(
        (status = 204, description = "Reminder mail is off"),
        (status = 404, description = "No such link", body = ErrorBody),
    ),
)]
async fn unsubscribe(
    State(state): State<AppState>,
    AppPath(secret): AppPath<String>,
) -> ApiResult<StatusCode> {
    if !well_formed(&secret) || !state.store.unsubscribe(&secret, now()).await? {
        return Err(unknown_unsubscribe());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What a scheduled pass did.
#[derive(Serialize)]
struct PassDone {
    sent: usize,
    skipped: usize,
    failed: usize,
}

/// One reminder pass, from the hourly scheduled event on AWS (never from outside: the
/// route answers 404 to anything but the deployment's own event).
async fn run_pass(State(state): State<AppState>, request: Request) -> ApiResult<Json<PassDone>> {
    if !crate::jobs::invoke::is_job_event(&request) {
        return Err(ApiError::NotFound("no such API endpoint".into()));
    }
    // The deployment's alarm watches for this line (infrastructure/src/monitoring.ts).
    let report = crate::reminders::pass(&state, now(), false)
        .await
        .map_err(|e| {
            tracing::error!("the reminder pass failed: {e:#}");
            ApiError::Internal(e)
        })?;
    tracing::info!(
        sent = report.sent,
        skipped = report.skipped,
        failed = report.failed,
        "reminder pass"
    );
    Ok(Json(PassDone {
        sent: report.sent,
        skipped: report.skipped,
        failed: report.failed,
    }))
}

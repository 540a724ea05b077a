//! Confirming a person's address for reminder mail: digests go only to an address its owner
//! said yes to, so an account made with somebody else's address can't send them mail.
//! Signing in with Google confirms the address too. A link confirms it for mail only: it
//! does not mark the account's email as verified, which would let a Google sign-in of the
//! address's owner link to an account somebody else made (see `store::email_confirmations`).
//!
//! Sending the mail takes a signed-in person (not an API token), at most once a minute and
//! five times a day. The link leads to the web app's page, whose button confirms: no
//! credential but the link's secret, so it works on whichever device the mail is read.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::{ConfirmEmailInput, ConfirmationSent, EmailConfirmed, ErrorBody};
use time::{Duration, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{SessionUser, new_token, token_hash};
use crate::error::{ApiError, ApiResult};
use crate::extract::AppJson;
use crate::reminders::confirm::{self, Confirmation, LINK_LIFETIME};
use crate::reminders::smtp;
use crate::store::email_confirmations::EmailConfirmationRow;
use crate::store::now;

/// The least time between two confirmation mails to one person.
pub const RESEND_AFTER: Duration = Duration::minutes(1);
/// The most confirmation mails to one person in a day.
pub const MAILS_A_DAY: i64 = 5;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(send_confirmation))
        .routes(routes!(confirm_email))
}

/// Whether another confirmation mail may go to `email` at `at`: the window of the day's
/// mails it counts in, and its number there; 429 with how long to wait when not.
fn allowance(
    previous: Option<&EmailConfirmationRow>,
    email: &str,
    at: OffsetDateTime,
) -> ApiResult<(OffsetDateTime, i64)> {
    let Some(previous) = previous else {
        return Ok((at, 1));
    };
    let refuse = |until: OffsetDateTime, message: &dyn Fn(u64) -> String| {
        let seconds = (until - at).whole_seconds().max(1).unsigned_abs();
        ApiError::RetryLater {
            message: message(seconds),
            seconds,
        }
    };
    if at - previous.sent_at < RESEND_AFTER {
        return Err(refuse(previous.sent_at + RESEND_AFTER, &|seconds| {
            format!(
                "a confirmation mail went to {email} less than a minute ago; check your inbox, \
                 or ask again in {seconds} seconds"
            )
        }));
    }
    let day_ends = previous.window_started_at + Duration::DAY;
    if at >= day_ends {
        return Ok((at, 1));
    }
    if previous.mails_in_window >= MAILS_A_DAY {
        return Err(refuse(day_ends, &|_| {
            format!(
                "{MAILS_A_DAY} confirmation mails went to {email} today, the most a day; check \
                 your inbox and spam folder, or ask again tomorrow"
            )
        }));
    }
    Ok((previous.window_started_at, previous.mails_in_window + 1))
}

#[utoipa::path(
    post,
    path = "/me/email/confirmation",
    security(("session" = [])),
    tag = "Reminders",
    summary = "Mail a link that confirms your address",
    description = "Reminder digests go only to a confirmed address. This mails your account's \
        address a link that confirms it, working for 24 hours; a new mail replaces the link \
        of an earlier one. At most one a minute and five a day (429 with `Retry-After`). \
        Needs a signed-in person, not an API token.",
    responses(
        (status = 202, description = "The mail is on its way", body = ConfirmationSent),
        (status = 403, description = "Sent with an API token", body = ErrorBody),
        (status = 409, description = "The address is confirmed already", body = ErrorBody),
        (status = 429, description = "A mail was sent less than a minute ago, or five today",
            body = ErrorBody),
        (status = 502, description = "The mail server did not take the mail", body = ErrorBody),
        (status = 503, description = "This server sends no mail", body = ErrorBody),
    ),
)]
async fn send_confirmation(
    State(state): State<AppState>,
    user: SessionUser,
) -> ApiResult<(StatusCode, Json<ConfirmationSent>)> {
    let Some(mailer) = state.mailer.clone() else {
        return Err(ApiError::Unavailable(
            "this server is not set up to send email, so it can't send a confirmation either"
                .into(),
        ));
    };
    let me = &user.user;
    if super::reminders::email_confirmed(&state, &user).await? {
        return Err(ApiError::Conflict(format!(
            "{} is confirmed already",
            me.email
        )));
    }
    let at = now();
    let previous = state.store.email_confirmation(me.id).await?;
    let (window_started_at, mails_in_window) = allowance(previous.as_ref(), &me.email, at)?;
    let from = smtp::sender(&state.config).map_err(ApiError::Internal)?;
    let to = crate::reminders::mailbox(&me.name, &me.email).map_err(|_| {
        ApiError::Conflict(format!("{:?} is not an address mail can go to", me.email))
    })?;
    let (token, hash) = new_token()?;
    let expires_at = at + LINK_LIFETIME;
    state
        .store
        .save_email_confirmation(&EmailConfirmationRow {
            user_id: me.id,
            email: me.email.clone(),
            token_hash: Some(hash.clone()),
            sent_at: at,
            expires_at,
            confirmed_at: None,
            window_started_at,
            mails_in_window,
        })
        .await?;
    let message = confirm::message(&Confirmation {
        from,
        to,
        name: &me.name,
        public_url: &state.config.public_url,
        token: &token,
    })
    .map_err(ApiError::Internal)?;
    if let Err(e) = mailer.send(message).await {
        tracing::warn!(user = %me.id, "a confirmation mail could not be sent: {e:#}");
        // As it was: the mail that went nowhere is not counted.
        match previous {
            Some(previous) => state.store.save_email_confirmation(&previous).await?,
            None => state.store.drop_email_confirmation(me.id, &hash).await?,
        }
        return Err(ApiError::Upstream(
            "the mail server did not take the confirmation mail; try again in a moment".into(),
        ));
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(ConfirmationSent {
            email: me.email.clone(),
            expires_at,
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/email/confirm",
    security(),
    tag = "Reminders",
    summary = "Confirm an address with a confirmation mail's link",
    description = "No account needed: the secret from the mail's link is the credential. A \
        link works once, for 24 hours, and only while the account still has the address it \
        was sent to; anything else answers 404.",
    request_body = ConfirmEmailInput,
    responses(
        (status = 200, description = "The address is confirmed", body = EmailConfirmed),
        (status = 404, description = "Unknown, used or expired link", body = ErrorBody),
    ),
)]
async fn confirm_email(
    State(state): State<AppState>,
    AppJson(body): AppJson<ConfirmEmailInput>,
) -> ApiResult<Json<EmailConfirmed>> {
    let token = body.token.trim();
    let unknown = || {
        ApiError::NotFound(
            "this confirmation link is not known, was used already or has expired; send a new \
             one from Settings"
                .into(),
        )
    };
    if !super::reminders::well_formed(token) {
        return Err(unknown());
    }
    let (user, email) = state
        .store
        .confirm_email(&token_hash(token), now())
        .await?
        .ok_or_else(unknown)?;
    tracing::info!(%user, "an email address was confirmed");
    Ok(Json(EmailConfirmed { email }))
}

//! Reminders: the person's digest settings, their calendar feed's address, confirming
//! their address, and turning reminder mail off from a mail's link (no sign-in needed).

use shared::{
    CalendarFeed, ConfirmEmailInput, ConfirmationSent, EmailConfirmed, ReminderSettings,
    ReminderSettingsInput,
};

use super::{ApiResult, Method, get, json, request};

pub async fn reminder_settings() -> ApiResult<ReminderSettings> {
    get("/me/reminders").await
}

pub async fn save_reminder_settings(body: &ReminderSettingsInput) -> ApiResult<ReminderSettings> {
    request(Method::Put, "/me/reminders", json(body), None).await
}

pub async fn calendar_feed() -> ApiResult<CalendarFeed> {
    get("/me/calendar").await
}

pub async fn reset_calendar_feed() -> ApiResult<CalendarFeed> {
    request(Method::Post, "/me/calendar/reset", None, None).await
}

/// Turns reminder mail off for the person whose unsubscribe link has `token`.
pub async fn unsubscribe(token: &str) -> ApiResult<()> {
    let token: String = token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    request(
        Method::Post,
        &format!("/reminders/unsubscribe/{token}"),
        None,
        None,
    )
    .await
}

/// Mails the person a link that confirms their address.
pub async fn send_email_confirmation() -> ApiResult<ConfirmationSent> {
    request(Method::Post, "/me/email/confirmation", None, None).await
}

/// Confirms the address whose confirmation link has `token` (no sign-in needed).
pub async fn confirm_email(token: &str) -> ApiResult<EmailConfirmed> {
    let body = ConfirmEmailInput {
        token: token.to_string(),
    };
    request(Method::Post, "/email/confirm", json(&body), None).await
}

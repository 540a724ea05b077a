use shared::{ErrorBody, ErrorCode};
use yew::prelude::*;

use crate::format;

#[derive(Properties, PartialEq)]
pub struct ErrorAlertProps {
    pub error: Option<ErrorBody>,
}

/// What went wrong, in words for the person who was trying to do it.
pub fn alert_text(error: &ErrorBody) -> String {
    let message = error.error.message.trim_end_matches('.');
    let message = format::capitalize(message);
    match error.error.code {
        ErrorCode::ValidationFailed => {
            let fields = error.field_errors();
            if fields.is_empty() {
                return format!("{message}.");
            }
            let problems: Vec<String> = fields
                .iter()
                .map(|(field, problem)| format!("{} {problem}", field_name(field)))
                .collect();
            format!("Please check: {}.", problems.join("; "))
        }
        ErrorCode::Forbidden => format!("You can't do that here: {message}."),
        ErrorCode::Internal => {
            format!("Something went wrong on the server. {message}.")
        }
        _ => format!("{message}."),
    }
}

/// "serial_number" → "Serial number", with the form's own names for item fields.
fn field_name(field: &str) -> String {
    match format::field_label(field) {
        same if same == field => format::capitalize(&field.replace('_', " ")),
        label => label.to_string(),
    }
}

/// An error from the server (or from not reaching it), announced to screen readers.
#[function_component(ErrorAlert)]
pub fn error_alert(props: &ErrorAlertProps) -> Html {
    let Some(error) = &props.error else {
        return html! {};
    };
    let network = error.error.code == ErrorCode::Network;
    html! {
        <div class={classes!("alert", "alert-error", network.then_some("alert-network"))} role="alert">
            <svg class="alert-icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
                <circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="1.6"/>
                <path d="M10 5.5v5.5M10 13.6v.9" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
            </svg>
            <p>{ alert_text(error) }</p>
        </div>
    }
}

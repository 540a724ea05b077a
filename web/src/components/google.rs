//! "Sign in with Google", when the server offers it, and why a Google sign-in failed.

use shared::Providers;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;

/// The sign-in methods the server offers; local accounts until it has answered.
#[hook]
pub fn use_providers() -> Providers {
    let providers = use_state(|| Providers {
        local: true,
        google: false,
    });
    {
        let providers = providers.clone();
        use_effect_with((), move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(offered) = api::providers().await {
                    providers.set(offered);
                }
            });
        });
    }
    *providers
}

#[derive(Properties, PartialEq)]
pub struct GoogleButtonProps {
    /// Where to come back to once signed in.
    pub return_to: Option<String>,
    /// Whether the email and password form follows.
    pub divider: bool,
}

#[function_component(GoogleButton)]
pub fn google_button(props: &GoogleButtonProps) -> Html {
    let href = api::google_sign_in_url(props.return_to.as_deref());
    html! {
        <>
            <a class="button button-google button-block" {href}>
                <svg class="google-mark" viewBox="0 0 18 18" width="18" height="18" aria-hidden="true">
                    <path fill="#4285F4" d="M17.64 9.2c0-.64-.06-1.25-.16-1.84H9v3.48h4.84a4.14 4.14 0 0 1-1.8 2.72v2.26h2.92c1.7-1.57 2.68-3.88 2.68-6.62z"/>
                    <path fill="#34A853" d="M9 18c2.43 0 4.47-.8 5.96-2.18l-2.92-2.26c-.8.54-1.84.86-3.04.86-2.34 0-4.32-1.58-5.03-3.7H.96v2.33A9 9 0 0 0 9 18z"/>
                    <path fill="#FBBC05" d="M3.97 10.72A5.4 5.4 0 0 1 3.68 9c0-.6.1-1.18.29-1.72V4.95H.96A9 9 0 0 0 0 9c0 1.45.35 2.83.96 4.05l3.01-2.33z"/>
                    <path fill="#EA4335" d="M9 3.58c1.32 0 2.5.45 3.44 1.35l2.58-2.58A9 9 0 0 0 .96 4.95l3.01 2.33C4.68 5.16 6.66 3.58 9 3.58z"/>
                </svg>
                { "Sign in with Google" }
            </a>
            if props.divider {
                <p class="auth-divider"><span>{ "or" }</span></p>
            }
        </>
    }
}

#[derive(Clone, PartialEq, serde::Deserialize)]
struct ErrorQuery {
    error: String,
}

/// Why the last Google sign-in did not complete, from `?error=` on the sign-in page.
#[hook]
pub fn use_google_error() -> Option<String> {
    let reason = use_location()
        .and_then(|l| l.query::<ErrorQuery>().ok())
        .map(|q| q.error)?;
    Some(
        match reason.as_str() {
            "email_unverified" => {
                "Google hasn't verified this account's email address, so it can't be used to sign in."
            }
            "state" => "That sign-in took too long or was started in another window. Please try again.",
            "provider" => "Google sign-in is unavailable right now. Please try again in a moment.",
            _ => "Google couldn't confirm who you are. Please try again.",
        }
        .to_string(),
    )
}

//! Confirming the person's address, so reminder digests may go to it: the Settings notice
//! that mails the link, and the page the link leads to (signed in or not). Opening the page
//! confirms nothing (mail scanners open links); its button does.

use shared::ErrorBody;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, Splash};
use crate::hooks::use_title;

#[derive(Properties, PartialEq)]
pub struct ConfirmAddressProps {
    pub email: AttrValue,
}

/// The Settings notice of an address not confirmed yet, with the button that mails the link.
#[function_component(ConfirmAddress)]
pub fn confirm_address(props: &ConfirmAddressProps) -> Html {
    let busy = use_state(|| false);
    let sent = use_state(|| None::<String>);
    let error = use_state(|| None::<ErrorBody>);
    let onclick = {
        let (busy, sent, error) = (busy.clone(), sent.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (busy, sent, error) = (busy.clone(), sent.clone(), error.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::send_email_confirmation().await;
                busy.set(false);
                match result {
                    Ok(done) => {
                        error.set(None);
                        sent.set(Some(format!(
                            "We sent a link to {}. Open it within 24 hours to confirm.",
                            done.email
                        )));
                    }
                    Err(e) => {
                        sent.set(None);
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <div class="notice" role="note">
            <p>
                { format!("Confirm that {} is your address before the first digest: reminders only go to an address its owner confirmed.", props.email) }
            </p>
            <ErrorAlert error={(*error).clone()} />
            <p class="copy-status" role="status">{ (*sent).clone().unwrap_or_default() }</p>
            <button type="button" class="button button-secondary" {onclick} disabled={*busy}>
                { if sent.is_some() { "Send the email again" } else { "Send confirmation email" } }
            </button>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ConfirmEmailProps {
    pub token: String,
}

/// Where a confirmation mail's link leads.
#[function_component(ConfirmEmail)]
pub fn confirm_email(props: &ConfirmEmailProps) -> Html {
    use_title("Confirm your address");
    let confirmed = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ErrorBody>);

    let onclick = {
        let (confirmed, busy, error, token) = (
            confirmed.clone(),
            busy.clone(),
            error.clone(),
            props.token.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (confirmed, busy, error, token) = (
                confirmed.clone(),
                busy.clone(),
                error.clone(),
                token.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::confirm_email(&token).await;
                busy.set(false);
                match result {
                    Ok(done) => {
                        error.set(None);
                        confirmed.set(Some(done.email));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };

    html! {
        <Splash>
            <h1>{ "Confirm your address" }</h1>
            if let Some(email) = &*confirmed {
                <p role="status">
                    { format!("{email} is confirmed: your reminder digest will go there. Choose when in ") }
                    <Link<Route> to={Route::Settings}>{ "Settings" }</Link<Route>>
                    { "." }
                </p>
            } else {
                <p>{ "Confirm that this address is yours, and Home Inventory will email you its digest of warranties ending and maintenance due." }</p>
                <ErrorAlert error={(*error).clone()} />
                <button type="button" class="button button-primary" {onclick} disabled={*busy}>
                    { "Confirm my address" }
                </button>
            }
        </Splash>
    }
}

//! Where a reminder mail's unsubscribe link leads: turning reminder mail off, signed in or not.
//! Opening the page changes nothing (mail scanners open links); the button does.

use shared::ErrorBody;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, Splash};
use crate::hooks::use_title;

#[derive(Properties, PartialEq)]
pub struct UnsubscribeProps {
    pub token: String,
}

#[function_component(Unsubscribe)]
pub fn unsubscribe(props: &UnsubscribeProps) -> Html {
    use_title("Reminder emails");
    let done = use_state(|| false);
    let busy = use_state(|| false);
    let error = use_state(|| None::<ErrorBody>);

    let turn_off = {
        let (done, busy, error, token) = (
            done.clone(),
            busy.clone(),
            error.clone(),
            props.token.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (done, busy, error, token) =
                (done.clone(), busy.clone(), error.clone(), token.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::unsubscribe(&token).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        error.set(None);
                        done.set(true);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };

    html! {
        <Splash>
            <h1>{ "Reminder emails" }</h1>
            if *done {
                <p role="status">
                    { "Reminder emails are off. You can turn them back on in " }
                    <Link<Route> to={Route::Settings}>{ "Settings" }</Link<Route>>
                    { "." }
                </p>
            } else {
                <p>{ "Stop the digest of warranties ending and maintenance due that Home Inventory emails you? Your calendar feed keeps working." }</p>
                <ErrorAlert error={(*error).clone()} />
                <button type="button" class="button button-primary" onclick={turn_off} disabled={*busy}>
                    { "Turn off reminder emails" }
                </button>
            }
        </Splash>
    }
}

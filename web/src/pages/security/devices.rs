//! "Signed-in devices": every session of the account, with its browser and last use, each
//! one signed out from here, or all but this one.

use shared::{ErrorBody, Session};
use yew::prelude::*;

use crate::api;
use crate::components::ErrorAlert;
use crate::format;
use crate::hooks::{SessionAction, use_session};

#[function_component(Devices)]
pub fn devices() -> Html {
    let session = use_session();
    let sessions = use_state(|| None::<Vec<Session>>);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let reload = use_state(|| 0u32);

    {
        let (sessions, error) = (sessions.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::sessions().await {
                    Ok(list) => sessions.set(Some(list.items)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let sign_out = |device: &Session| {
        let (error, busy, reload, session) =
            (error.clone(), busy.clone(), reload.clone(), session.clone());
        let (id, browser) = (device.id, device.browser.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, busy, reload, session, browser) = (
                error.clone(),
                busy.clone(),
                reload.clone(),
                session.clone(),
                browser.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::end_session(id).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        error.set(None);
                        session.dispatch(SessionAction::Notify {
                            text: format!("Signed out {browser}"),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
                reload.set(*reload + 1);
            });
        })
    };
    let sign_out_others = {
        let (error, busy, reload, session) =
            (error.clone(), busy.clone(), reload.clone(), session.clone());
        Callback::from(move |_: MouseEvent| {
            let (error, busy, reload, session) =
                (error.clone(), busy.clone(), reload.clone(), session.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::end_other_sessions().await;
                busy.set(false);
                match result {
                    Ok(done) => {
                        error.set(None);
                        session.dispatch(SessionAction::Notify {
                            text: format!(
                                "Signed out {}",
                                format::count(done.revoked as i64, "other device", "other devices")
                            ),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
                reload.set(*reload + 1);
            });
        })
    };

    let others = sessions
        .as_ref()
        .map_or(0, |list| list.iter().filter(|s| !s.current).count());
    html! {
        <section class="card" aria-labelledby="devices-heading">
            <div class="card-header">
                <h2 id="devices-heading">{ "Signed-in devices" }</h2>
            </div>
            <p class="muted">
                { "Where your account is signed in now. Sign out a device you don't recognise, then change your password." }
            </p>
            <ErrorAlert error={(*error).clone()} />
            { match &*sessions {
                None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                None => html! {},
                Some(list) => html! {
                    <ul class="token-list" aria-label="Signed-in devices">
                        { for list.iter().map(|device| {
                            let about = format!("device-{}", device.id);
                            html! {
                                <li class="token-row" key={device.id.to_string()}>
                                    <div class="token-main" id={about.clone()}>
                                        <span class="token-name">
                                            { device.browser.clone() }
                                            if device.current {
                                                <span class="badge badge-primary">{ "This device" }</span>
                                            }
                                        </span>
                                        <span class="member-meta">
                                            { format!("Signed in {} · last used {}",
                                                format::relative(device.created_at),
                                                format::relative(device.last_used_at)) }
                                        </span>
                                    </div>
                                    if !device.current {
                                        <button type="button" class="button button-danger-ghost button-small"
                                            aria-label={format!("Sign out {}", device.browser)}
                                            aria-describedby={about}
                                            disabled={*busy} onclick={sign_out(device)}>
                                            { "Sign out" }
                                        </button>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                },
            } }
            if others > 0 {
                <div class="row-actions">
                    <button type="button" class="button button-secondary" disabled={*busy}
                        onclick={sign_out_others}>
                        { "Sign out everywhere else" }
                    </button>
                </div>
            }
        </section>
    }
}

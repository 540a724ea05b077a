//! The changes made on this device that the server does not have yet: what each is, where
//! it stands, and what the person can do about the ones that need them.

use shared::{ErrorBody, ItemId};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use super::item_form::{ConflictView, conflict_view};
use crate::api;
use crate::app::Route;
use crate::hooks::use_title;
use crate::local;

#[function_component(Waiting)]
pub fn waiting(props: &HouseholdProps) -> Html {
    use_title("Waiting changes");
    let hid = props.household.id;
    let redraw = use_force_update();
    let storage = use_state(|| None::<(f64, bool)>);
    let locations = use_state(Vec::new);
    {
        let (storage, locations) = (storage.clone(), locations.clone());
        use_effect_with(hid, move |hid| {
            let hid = *hid;
            let listening = local::listen(Callback::from(move |()| redraw.force_update()));
            wasm_bindgen_futures::spawn_local(async move {
                storage.set(local::storage_info().await);
                if let Ok(list) = api::locations(hid).await {
                    locations.set(list.items);
                }
            });
            move || drop(listening)
        });
    }
    let entries = local::waiting(hid);
    let status = local::status(None);
    let send_now = Callback::from(|_: MouseEvent| local::flush());
    let act = |key: f64, keep: bool| {
        Callback::from(move |_: MouseEvent| {
            wasm_bindgen_futures::spawn_local(async move {
                if keep {
                    local::retry(key).await;
                } else {
                    local::discard(key).await;
                }
            });
        })
    };
    html! {
        <section class="page stack">
            <header class="page-header"><h1>{ "Waiting changes" }</h1></header>
            <p>{ status.summary.clone() }</p>
            if status.waiting > 0 && !status.offline {
                <div><button type="button" class="button" onclick={send_now}>{ "Send now" }</button></div>
            }
            <ol class="waiting-list stack" aria-label="Waiting changes">
                { for entries.iter().map(|entry| {
                    let item = entry.kind.ends_with("_item").then(|| entry.id.parse::<ItemId>().ok()).flatten();
                    // What stands in the way, and what the person can do about it.
                    let (said, again) = match entry.state.as_str() {
                        "gone" => (
                            "This item was deleted elsewhere. Restore it from the trash and apply your change, or discard the change.".to_string(),
                            (entry.kind == "edit_item").then_some("Restore and apply"),
                        ),
                        "refused" => (
                            format!("The server refused it: {}", entry.message.clone().unwrap_or_default()),
                            Some("Retry"),
                        ),
                        _ => ("Waiting to be sent".to_string(), None),
                    };
                    let body = match &entry.conflict {
                        Some((server, base, mine)) => conflict_view(
                            &ConflictView { before: &base.fields(), server: &server.fields(), mine: &mine.fields(), locations: &locations },
                            false,
                            None::<ErrorBody>,
                            act(entry.key, true),
                            act(entry.key, false),
                        ),
                        None => html! {
                            <>
                                <p class={classes!((entry.state != "waiting").then_some("alert alert-error"))}>{ said }</p>
                                <div class="form-actions">
                                    <button type="button" class="button button-ghost" onclick={act(entry.key, false)}>{ "Discard" }</button>
                                    if let Some(label) = again {
                                        <button type="button" class="button" onclick={act(entry.key, true)}>{ label }</button>
                                    }
                                </div>
                            </>
                        },
                    };
                    html! {
                        <li class="card stack">
                            <h2 class="waiting-what">
                                if let Some(id) = item {
                                    <Link<Route> to={Route::Item { id }}>{ entry.label.clone() }</Link<Route>>
                                } else {
                                    { entry.label.clone() }
                                }
                            </h2>
                            { body }
                        </li>
                    }
                }) }
            </ol>
            <section class="card stack" aria-labelledby="device-heading">
                <h2 id="device-heading">{ "On this device" }</h2>
                <p>{ "Your items and locations are kept on this device, so the app opens, lists, searches and edits without a network; changes are sent when the connection returns. Photos, documents, history and recognizing photos need the network." }</p>
                if let Some((used, persisted)) = *storage {
                    <p>
                        { format!("Kept here: {} MB. ", (used / 100_000.0).round() / 10.0) }
                        { if persisted {
                            "The browser keeps it until you sign out."
                        } else {
                            "The browser may clear it when the device runs low on space, and Safari after 7 days without use: install the app to your home screen to keep it."
                        } }
                    </p>
                }
            </section>
        </section>
    }
}

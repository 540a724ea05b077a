//! Warranties ending in the next 30, 60 or 90 days, and those that ended lately.

use shared::{ErrorBody, WARRANTY_WINDOWS, WarrantyItem, WarrantyList};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, local_today};
use crate::hooks::use_title;
use crate::pages::HouseholdProps;

/// "Ends in 20 days", "Ends today", "Ended 3 days ago".
pub fn ends_text(days_left: i64) -> String {
    match days_left {
        ..=-2 => format!("Ended {} days ago", -days_left),
        -1 => "Ended yesterday".into(),
        0 => "Ends today".into(),
        1 => "Ends tomorrow".into(),
        n => format!("Ends in {n} days"),
    }
}

pub fn warranty_row(w: &WarrantyItem) -> Html {
    html! {
        <li key={w.item_id.to_string()} class="maintenance-row">
            <div class="maintenance-main">
                <Link<Route> to={Route::Item { id: w.item_id }} classes="maintenance-title">{ w.name.clone() }</Link<Route>>
                <span class="member-meta">
                    { format!("{} · {}", ends_text(w.days_left), w.warranty_expires) }
                    if !w.location_path.is_empty() { { format!(" · {}", w.location_path.join(" › ")) } }
                </span>
            </div>
        </li>
    }
}

#[function_component(Warranties)]
pub fn page(props: &HouseholdProps) -> Html {
    use_title("Warranties");
    let household = &props.household;
    let hid = household.id;
    let within = use_state(|| WARRANTY_WINDOWS[0]);
    let list = use_state(|| None::<WarrantyList>);
    let error = use_state(|| None::<ErrorBody>);
    {
        let (list, error) = (list.clone(), error.clone());
        use_effect_with((hid, *within), move |(hid, within)| {
            let (hid, within) = (*hid, *within);
            wasm_bindgen_futures::spawn_local(async move {
                match api::warranties(hid, within, local_today()).await {
                    Ok(l) => {
                        error.set(None);
                        list.set(Some(l));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let choose = |days: i64| {
        let within = within.clone();
        Callback::from(move |_: MouseEvent| within.set(days))
    };
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ household.name.clone() }</p>
                    <h1>{ "Warranties" }</h1>
                    <p class="muted">{ "Items whose warranty ends soon. Set the end date on each item." }</p>
                </div>
            </header>
            <div class="row-actions" role="group" aria-label="Ending within">
                { for WARRANTY_WINDOWS.iter().map(|&days| html! {
                    <button type="button"
                        class={classes!("button", "button-small", if *within == days { "button-primary" } else { "button-ghost" })}
                        aria-pressed={(*within == days).to_string()}
                        onclick={choose(days)}>
                        { format!("{days} days") }
                    </button>
                }) }
            </div>
            <ErrorAlert error={(*error).clone()} />
            { match &*list {
                None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                None => html! {},
                Some(l) => html! {
                    <>
                        <section class="card" aria-labelledby="ending-heading">
                            <div class="card-header">
                                <h2 id="ending-heading">{ format!("Ending in the next {} days", l.within_days) }</h2>
                            </div>
                            if l.ending.is_empty() {
                                <p class="muted">{ "No warranty ends in this time." }</p>
                            } else {
                                <ul class="maintenance-list" aria-label="Ending soon">
                                    { for l.ending.iter().map(warranty_row) }
                                </ul>
                            }
                        </section>
                        if !l.ended_recently.is_empty() {
                            <section class="card" aria-labelledby="ended-heading">
                                <div class="card-header">
                                    <h2 id="ended-heading">{ "Ended in the last 30 days" }</h2>
                                </div>
                                <ul class="maintenance-list" aria-label="Ended recently">
                                    { for l.ended_recently.iter().map(warranty_row) }
                                </ul>
                            </section>
                        }
                    </>
                },
            } }
        </section>
    }
}

//! `/q/<code>`, where a label's QR code leads: the item or location with that asset
//! number, in whichever of the person's households has it. Signed out, the app sends
//! people to sign in first and back here after.

use shared::{AssetKind, AssetMatch, ErrorBody, ErrorCode, ItemId, LocationId};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::ErrorAlert;
use crate::hooks::{SessionAction, use_session, use_title};
use crate::pages::label_display;

#[derive(Properties, PartialEq)]
pub struct LabelLookupProps {
    pub code: AttrValue,
}

#[derive(Clone, PartialEq)]
enum Lookup {
    Looking,
    Choose(Vec<AssetMatch>),
    None,
    Failed(ErrorBody),
}

/// The page of a match.
fn route_of(m: &AssetMatch) -> Route {
    match m.kind {
        AssetKind::Item => Route::Item {
            id: ItemId::from(m.id),
        },
        AssetKind::Location => Route::Location {
            id: LocationId::from(m.id),
        },
    }
}

#[function_component(LabelLookup)]
pub fn label_lookup(props: &LabelLookupProps) -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let lookup = use_state(|| Lookup::Looking);
    let shown = label_display_or_raw(&props.code);
    use_title(&format!("Label {shown}"));

    // Opening a match: its household becomes the current one, and the page replaces this
    // one (Back leads to where the person was before scanning).
    let open = {
        let (session, navigator) = (session.clone(), navigator.clone());
        Callback::from(move |m: AssetMatch| {
            if session.current != Some(m.household_id) {
                session.dispatch(SessionAction::Switch(m.household_id));
            }
            if let Some(nav) = &navigator {
                nav.replace(&route_of(&m));
            }
        })
    };
    {
        let (lookup, open) = (lookup.clone(), open.clone());
        use_effect_with(props.code.clone(), move |code| {
            let code = code.to_string();
            lookup.set(Lookup::Looking);
            wasm_bindgen_futures::spawn_local(async move {
                match api::assets(&code).await {
                    Ok(found) => match found.items.as_slice() {
                        [] => lookup.set(Lookup::None),
                        [one] => open.emit(one.clone()),
                        _ => lookup.set(Lookup::Choose(found.items)),
                    },
                    Err(e) => lookup.set(Lookup::Failed(e)),
                }
            });
        });
    }

    let body = match &*lookup {
        Lookup::Looking => {
            html! { <p class="muted" role="status">{ format!("Looking up label {shown}…") }</p> }
        }
        Lookup::None => html! {
            <div class="card empty">
                <p role="alert">{ format!("No item or location has the label {shown}.") }</p>
                <p class="muted">{ "It may be a label of a household you are not a member of, or its item was moved to the trash." }</p>
                <div class="row-actions">
                    <Link<Route> to={Route::Scan} classes="button button-primary">{ "Scan another" }</Link<Route>>
                    <Link<Route> to={Route::Items} classes="button button-ghost">{ "Items" }</Link<Route>>
                </div>
            </div>
        },
        Lookup::Failed(e) if e.error.code == ErrorCode::ValidationFailed => html! {
            <div class="card empty">
                <p role="alert">{ format!("“{}” is not a label's number.", props.code) }</p>
                <Link<Route> to={Route::Scan} classes="button button-primary">{ "Scan a label" }</Link<Route>>
            </div>
        },
        Lookup::Failed(e) => html! { <ErrorAlert error={Some(e.clone())} /> },
        Lookup::Choose(matches) => html! {
            <div class="card">
                <p>{ format!("Label {shown} is in more than one of your households. Which one?") }</p>
                <ul class="label-matches">
                    { for matches.iter().map(|m| {
                        let open = open.clone();
                        let m2 = m.clone();
                        let what = match m.kind { AssetKind::Item => "item", AssetKind::Location => "location" };
                        html! {
                            <li key={m.id.to_string()}>
                                <button type="button" class="button button-secondary" onclick={Callback::from(move |_: MouseEvent| open.emit(m2.clone()))}>
                                    { format!("{} ({what}) in {}", m.name, m.household_name) }
                                </button>
                                if !m.location_path.is_empty() {
                                    <span class="muted">{ format!(" {}", m.location_path.join(" › ")) }</span>
                                }
                            </li>
                        }
                    }) }
                </ul>
            </div>
        },
    };
    html! {
        <section class="page narrow">
            <header class="page-header"><h1>{ format!("Label {shown}") }</h1></header>
            { body }
        </section>
    }
}

/// `000-123` for a number, else the code as it came.
fn label_display_or_raw(code: &str) -> String {
    if !code.is_empty() && code.len() <= 9 && code.bytes().all(|b| b.is_ascii_digit()) {
        label_display(code)
    } else {
        code.to_string()
    }
}

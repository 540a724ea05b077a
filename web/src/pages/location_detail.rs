//! One location: where it is, its asset number (editable, like its name), what is inside
//! it, and its labels to print.

use std::rc::Rc;

use shared::{ErrorBody, FieldErrors, Household, Location, LocationId, Patch, UpdateLocation};
use yew::prelude::*;
use yew_router::prelude::*;

use super::labels::print_link;
use crate::api;
use crate::app::PrintQuery;
use crate::app::Route;
use crate::components::{ErrorAlert, TextInput, field_errors_with_asset_id};
use crate::format;
use crate::hooks::{SessionAction, use_session, use_title};

/// Opens the item list narrowed to one location.
#[derive(Clone, PartialEq, serde::Serialize)]
struct LocationQuery {
    location: String,
}

#[derive(Properties, PartialEq)]
pub struct LocationDetailProps {
    pub household: Household,
    pub id: LocationId,
}

#[derive(Clone, Default, PartialEq)]
struct Draft {
    name: String,
    asset_id: String,
}

#[function_component(LocationDetail)]
pub fn location_detail(props: &LocationDetailProps) -> Html {
    let hid = props.household.id;
    let id = props.id;
    let all = use_state(|| None::<Rc<Vec<Location>>>);
    let error = use_state(|| None::<ErrorBody>);
    let editing = use_state(|| None::<Draft>);
    let errors = use_state(FieldErrors::new);
    let saving = use_state(|| false);
    let session = use_session();
    let reload = {
        let (all, error) = (all.clone(), error.clone());
        Callback::from(move |()| {
            let (all, error) = (all.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::locations(hid).await {
                    Ok(list) => all.set(Some(Rc::new(list.items))),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(id, move |_| reload.emit(()));
    }
    let location = all
        .as_ref()
        .and_then(|list| list.iter().find(|l| l.id == id).cloned());
    use_title(location.as_ref().map_or("Location", |l| l.name.as_str()));

    let Some(location) = location else {
        return html! {
            <section class="page">
                if all.is_some() {
                    <div class="empty card">
                        <h1>{ "This location is not here" }</h1>
                        <p class="muted">{ "It may have been deleted." }</p>
                        <Link<Route> to={Route::Locations} classes="button button-secondary">{ "Back to locations" }</Link<Route>>
                    </div>
                } else {
                    <h1 class="visually-hidden">{ "Location" }</h1>
                    <ErrorAlert error={(*error).clone()} />
                    if error.is_none() { <p class="muted">{ "Loading…" }</p> }
                }
            </section>
        };
    };
    let children: Vec<Location> = all
        .as_ref()
        .map(|list| {
            list.iter()
                .filter(|l| l.parent_id == Some(id))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let can_write = props.household.role.can_write();

    let start_edit = {
        let (editing, errors, location) = (editing.clone(), errors.clone(), location.clone());
        Callback::from(move |_: MouseEvent| {
            errors.set(FieldErrors::new());
            editing.set(Some(Draft {
                name: location.name.clone(),
                asset_id: location.asset_id.to_string(),
            }));
        })
    };
    let cancel = {
        let editing = editing.clone();
        Callback::from(move |_: MouseEvent| editing.set(None))
    };
    let typed = |set: fn(&mut Draft, String)| {
        let (editing, errors) = (editing.clone(), errors.clone());
        Callback::from(move |value: String| {
            if let Some(draft) = &*editing {
                let mut next = draft.clone();
                set(&mut next, value);
                editing.set(Some(next));
                errors.set(FieldErrors::new());
            }
        })
    };
    let save = {
        let (editing, errors, saving, error, reload) = (
            editing.clone(),
            errors.clone(),
            saving.clone(),
            error.clone(),
            reload.clone(),
        );
        let location = location.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(draft) = (*editing).clone() else {
                return;
            };
            let name = draft.name.trim().to_string();
            let asset_id = draft.asset_id.trim().to_string();
            let mut problems = FieldErrors::new();
            if name.is_empty() {
                problems.insert("name".into(), "must not be empty".into());
            }
            if let Err(problem) = asset_id.parse::<shared::AssetId>() {
                problems.insert("asset_id".into(), problem);
            }
            if !problems.is_empty() {
                return errors.set(problems);
            }
            let body = UpdateLocation {
                name: if name != location.name {
                    Patch::Value(name)
                } else {
                    Patch::Missing
                },
                asset_id: if asset_id.parse::<shared::AssetId>().ok() != Some(location.asset_id) {
                    Patch::Value(asset_id)
                } else {
                    Patch::Missing
                },
                ..Default::default()
            };
            let (editing, errors, saving, error, reload, session) = (
                editing.clone(),
                errors.clone(),
                saving.clone(),
                error.clone(),
                reload.clone(),
                session.clone(),
            );
            let before = location.name.clone();
            saving.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::update_location(hid, id, &before, &body).await;
                saving.set(false);
                match result {
                    Ok(saved) => {
                        editing.set(None);
                        error.set(None);
                        session.dispatch(SessionAction::Notify {
                            text: format!("Saved “{}”", saved.name),
                            undo: None,
                        });
                        reload.emit(());
                    }
                    Err(e) => {
                        let fields = field_errors_with_asset_id(&e);
                        if fields.is_empty() {
                            error.set(Some(e));
                        }
                        errors.set(fields);
                    }
                }
            });
        })
    };
    let err = |field: &str| errors.get(field).cloned();
    let above = &location.path[..location.path.len().saturating_sub(1)];

    html! {
        <section class="page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <Link<Route> to={Route::Locations}>{ "Locations" }</Link<Route>>
                { for above.iter().map(|name| html! {
                    <><span aria-hidden="true">{ " / " }</span><span>{ name.clone() }</span></>
                }) }
                <span aria-hidden="true">{ " / " }</span>
                <span aria-current="page">{ location.name.clone() }</span>
            </nav>
            <header class="page-header">
                <div>
                    <h1>{ location.name.clone() }</h1>
                    <p class="muted">
                        <span class="asset-id">{ format!("Asset id {}", location.asset_id) }</span>
                        if !above.is_empty() { { format!(" · in {}", above.join(" › ")) } }
                    </p>
                </div>
                <div class="row-actions">
                    if can_write && editing.is_none() {
                        <button type="button" class="button button-primary" onclick={start_edit}>{ "Edit" }</button>
                    }
                    { print_link("Print this label", PrintQuery::locations(&[id]), "button button-secondary") }
                    if location.item_count > 0 || !children.is_empty() {
                        { print_link("Print labels of everything in it", PrintQuery::inside(id), "button button-secondary") }
                    }
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            if let Some(draft) = &*editing {
                <form class="card" onsubmit={save} novalidate=true aria-label={format!("Edit {}", location.name)}>
                    <TextInput id="location-name" label="Name" value={draft.name.clone()} required=true
                        oninput={typed(|d, v| d.name = v)} error={err("name")} />
                    <TextInput id="location-asset-id" label="Asset id" value={draft.asset_id.clone()}
                        hint="The number on its label, like 000-123. Another one can be chosen if it is free."
                        oninput={typed(|d, v| d.asset_id = v)} error={err("asset_id")} />
                    <div class="row-actions">
                        <button type="submit" class="button button-primary" disabled={*saving}>{ "Save" }</button>
                        <button type="button" class="button button-ghost" onclick={cancel}>{ "Cancel" }</button>
                    </div>
                </form>
            }
            <section class="card" aria-labelledby="inside-heading">
                <h2 id="inside-heading">{ "Inside" }</h2>
                <p>
                    <Link<Route, LocationQuery> to={Route::Items} query={Some(LocationQuery { location: id.to_string() })}>
                        { format!("{} directly here", format::count(location.item_count, "item", "items")) }
                    </Link<Route, LocationQuery>>
                </p>
                if !children.is_empty() {
                    <ul class="location-children" aria-label="Locations inside">
                        { for children.iter().map(|c| html! {
                            <li key={c.id.to_string()}>
                                <Link<Route> to={Route::Location { id: c.id }}>{ c.name.clone() }</Link<Route>>
                                <span class="muted">{ format!(" · #{}", c.asset_id) }</span>
                            </li>
                        }) }
                    </ul>
                }
            </section>
        </section>
    }
}

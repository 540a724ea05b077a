use shared::{Action, Activity, ErrorBody, ErrorCode, Household, Item, ItemId};
use yew::prelude::*;
use yew_router::prelude::*;

use super::labels::print_link;
use crate::api;
use crate::app::{PrintQuery, Route};
use crate::components::{Attachments, ErrorAlert, ItemMaintenance};
use crate::format;
use crate::hooks::{SessionAction, use_session, use_title};

/// Opens the item list filtered by a tag.
#[derive(Clone, PartialEq, serde::Serialize)]
struct TagQuery {
    tag: String,
}

#[derive(Properties, PartialEq)]
pub struct ItemDetailProps {
    pub household: Household,
    pub id: ItemId,
}

#[function_component(ItemDetail)]
pub fn item_detail(props: &ItemDetailProps) -> Html {
    let item = use_state(|| None::<Item>);
    let history = use_state(|| None::<Vec<Activity>>);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let session = use_session();
    let navigator = use_navigator();
    let hid = props.household.id;
    use_title(item.as_ref().map_or("Item", |i| i.name.as_str()));
    {
        let (item, history, error) = (item.clone(), history.clone(), error.clone());
        use_effect_with(props.id, move |id| {
            let id = *id;
            item.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let (i, h) = futures::join!(api::item(hid, id), api::item_history(hid, id));
                match i {
                    Ok(i) => item.set(Some(i)),
                    Err(e) => error.set(Some(e)),
                }
                if let Ok(h) = h {
                    history.set(Some(h.items));
                }
            });
        });
    }
    let reload_history = {
        let history = history.clone();
        let id = props.id;
        Callback::from(move |_: ()| {
            let history = history.clone();
            wasm_bindgen_futures::spawn_local(async move {
                if let Ok(h) = api::item_history(hid, id).await {
                    history.set(Some(h.items));
                }
            });
        })
    };
    let on_delete = {
        let (item, error, busy) = (item.clone(), error.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(current) = (*item).clone() else {
                return;
            };
            let (error, busy, session, navigator) = (
                error.clone(),
                busy.clone(),
                session.clone(),
                navigator.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_item(hid, current.id, &current.name).await {
                    Ok(()) => {
                        session.dispatch(SessionAction::Notify {
                            text: format!("Moved “{}” to the trash", current.name),
                            undo: Some(current.id),
                        });
                        if let Some(nav) = &navigator {
                            nav.push(&Route::Items);
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    let Some(item) = (*item).clone() else {
        let gone = error
            .as_ref()
            .is_some_and(|e| e.error.code == ErrorCode::NotFound);
        return html! {
            <section class="page">
                if gone {
                    <div class="empty card">
                        <h1>{ "This item is not here" }</h1>
                        <p class="muted">{ "It may have been moved to the trash or deleted." }</p>
                        <div class="row-actions">
                            <Link<Route> to={Route::Items} classes="button button-secondary">{ "Back to items" }</Link<Route>>
                            <Link<Route> to={Route::Trash} classes="button button-ghost">{ "Open the trash" }</Link<Route>>
                        </div>
                    </div>
                } else {
                    <h1 class="visually-hidden">{ "Item" }</h1>
                    <ErrorAlert error={(*error).clone()} />
                    if error.is_none() { <p class="muted">{ "Loading…" }</p> }
                }
            </section>
        };
    };

    let row = |label: &str, value: Option<String>| match value {
        Some(value) => html! {
            <div class="detail-row"><dt>{ label.to_string() }</dt><dd>{ value }</dd></div>
        },
        None => html! {},
    };
    html! {
        <section class="page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <Link<Route> to={Route::Items}>{ "Items" }</Link<Route>>
                <span aria-hidden="true">{ " / " }</span>
                <span aria-current="page">{ item.name.clone() }</span>
            </nav>
            <header class="page-header">
                <div>
                    <h1>{ item.name.clone() }</h1>
                    <p class="muted">
                        <span class="asset-id">{ format!("Asset id {}", item.asset_id) }</span>
                        { " · " }
                        <span>{ if item.location_path.is_empty() { "No location".to_string() } else { item.location_path.join(" › ") } }</span>
                    </p>
                </div>
                <div class="row-actions">
                    if props.household.role.can_write() {
                        <Link<Route> to={Route::EditItem { id: item.id }} classes="button button-primary">{ "Edit" }</Link<Route>>
                    }
                    { print_link("Print label", PrintQuery::items(&[item.id]), "button button-secondary") }
                    if props.household.role.can_write() {
                        <button type="button" class="button button-danger-ghost" onclick={on_delete} disabled={*busy}>{ "Move to trash" }</button>
                    }
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            <div class="detail-grid">
                <Attachments household={hid} item={item.id} item_name={item.name.clone()}
                    can_write={props.household.role.can_write()}>
                    if let Some(description) = &item.description {
                        <section class="card"><p class="prose">{ description.clone() }</p></section>
                    }
                    <section class="card" aria-labelledby="facts-heading">
                        <h2 id="facts-heading">{ "Details" }</h2>
                        <dl class="details">
                            { row("Quantity", Some(format::group(item.quantity))) }
                            { row("Estimated value", item.estimated_value.as_ref().map(|m| m.display())) }
                            { row("Purchase price", item.purchase_price.as_ref().map(|m| m.display())) }
                            { row("Purchase date", item.purchase_date.map(|d| d.to_string())) }
                            { row("Purchased from", item.purchased_from.clone()) }
                            { row("Warranty expires", item.warranty_expires.map(|d| d.to_string())) }
                            { row("Warranty", item.lifetime_warranty.then(|| "Lifetime warranty".into())) }
                            { row("Insurance", item.insured.then(|| "Insured".into())) }
                            { row("Sale", sale(&item)) }
                            { row("Sale notes", item.sold_notes.clone()) }
                            { row("Brand", item.brand.clone()) }
                            { row("Model", item.model.clone()) }
                            { row("Serial number", item.serial_number.clone()) }
                            { row("Barcode", item.barcode.clone()) }
                            { for item.custom_fields.iter().map(|(k, v)| row(k, Some(v.clone()))) }
                        </dl>
                        if !item.tags.is_empty() {
                            <div class="detail-tags">
                                <h3 class="visually-hidden">{ "Tags" }</h3>
                                { for item.tags.iter().map(|t| html! {
                                    <Link<Route, TagQuery> to={Route::Items} query={Some(TagQuery { tag: t.clone() })} classes="tag">{ t.clone() }</Link<Route, TagQuery>>
                                }) }
                            </div>
                        }
                    </section>
                    if let Some(notes) = &item.notes {
                        <section class="card" aria-labelledby="notes-heading">
                            <h2 id="notes-heading">{ "Notes" }</h2>
                            <p class="prose">{ notes.clone() }</p>
                        </section>
                    }
                </Attachments>
                <ItemMaintenance household={props.household.clone()} item={item.id} on_change={reload_history} />
                <section class="card" aria-labelledby="history-heading">
                    <h2 id="history-heading">{ "History" }</h2>
                    { match &*history {
                        None => html! { <p class="muted">{ "Loading…" }</p> },
                        Some(entries) => html! {
                            <ol class="history">
                                { for entries.iter().map(history_entry) }
                            </ol>
                        },
                    } }
                    <p class="muted small">{ format!("Version {} · added {}", item.version, format::date_time(item.created_at)) }</p>
                </section>
            </div>
        </section>
    }
}

/// "Sold to Ann on 2025-03-01 for 450.00 USD", with what is known of the sale.
fn sale(item: &Item) -> Option<String> {
    let mut text = String::from("Sold");
    if let Some(to) = &item.sold_to {
        text = format!("{text} to {to}");
    }
    if let Some(date) = item.sold_date {
        text = format!("{text} on {date}");
    }
    if let Some(price) = &item.sold_price {
        text = format!("{text} for {}", price.display());
    }
    (text.len() > 4 || item.sold_notes.is_some()).then_some(text)
}

fn history_entry(entry: &Activity) -> Html {
    let what = match entry.action {
        Action::Created => "Added".to_string(),
        Action::Deleted => "Moved to the trash".to_string(),
        Action::Restored => "Restored from the trash".to_string(),
        Action::Maintained => format::capitalize(&entry.fields.join(", ")),
        Action::Updated if entry.fields.is_empty() => "Edited".to_string(),
        Action::Updated => format!(
            "Changed {}",
            entry
                .fields
                .iter()
                .map(|f| shared::lowercase(format::field_label(f)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    html! {
        <li key={entry.id.to_string()} class={classes!("history-entry", shared::lowercase(&format!("history-{:?}", entry.action)))}>
            <span class="history-what">{ what }</span>
            <span class="history-meta">
                { match &entry.via_token {
                    Some(token) => format!("{} via token «{token}» · ", entry.actor.name),
                    None => format!("{} · ", entry.actor.name),
                } }
                <time datetime={entry.at.unix_timestamp().to_string()} title={format::date_time(entry.at)}>{ format::relative(entry.at) }</time>
            </span>
        </li>
    }
}

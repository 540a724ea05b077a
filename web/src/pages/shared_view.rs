//! What a share link shows: part of a household's inventory, read only, without an account.
//!
//! It stands alone (no account, no household, no navigation of the app) and reads straight
//! from the server: nothing of it goes into this device's offline copy, and the service
//! worker never keeps API answers.

use shared::{
    Attachment, AttachmentKind, ErrorBody, ErrorCode, Item, ItemId, Location, SharedInfo,
    SharedItem,
};
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;

use crate::api;
use crate::components::{ErrorAlert, SelectField, item_thumb};
use crate::format;
use crate::hooks::use_title;

/// What the server says of a link that no longer opens.
const CLOSED: &str = "This share link has expired or was revoked.";

#[derive(Properties, PartialEq)]
pub struct SharedViewProps {
    pub token: String,
}

/// "Garage and everything in it", or everything in the household.
fn scope_title(info: &SharedInfo) -> String {
    match &info.scope {
        Some(scope) => {
            let name = scope.location_path.last().cloned().unwrap_or_default();
            format!("{name} and everything in it")
        }
        None => format!("Everything in {}", info.household_name),
    }
}

/// An item's price as the link shows it: what it is worth, else what it cost.
fn price(item: &Item) -> Option<String> {
    item.estimated_value
        .as_ref()
        .or(item.purchase_price.as_ref())
        .map(|m| m.display())
}

fn path_text(path: &[String]) -> String {
    if path.is_empty() {
        "No location".into()
    } else {
        path.join(" › ")
    }
}

#[function_component(SharedView)]
pub fn shared_view(props: &SharedViewProps) -> Html {
    use_title("Shared inventory");
    let token = props.token.clone();
    let info = use_state(|| None::<Result<SharedInfo, ErrorBody>>);
    let locations = use_state(Vec::<Location>::new);
    let typed = use_state(String::new);
    let search = use_state(String::new);
    let place = use_state(String::new);
    let items = use_state(|| None::<Vec<Item>>);
    let next = use_state(|| None::<String>);
    let error = use_state(|| None::<ErrorBody>);
    let selected = use_state(|| None::<ItemId>);

    {
        let (info, locations) = (info.clone(), locations.clone());
        use_effect_with(token.clone(), move |token| {
            let token = token.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let found = api::shared_info(&token).await;
                let open = found.is_ok();
                info.set(Some(found));
                if open && let Ok(list) = api::shared_locations(&token).await {
                    locations.set(list.items);
                }
            });
        });
    }
    let load = {
        let (info, items, next, error) = (info.clone(), items.clone(), next.clone(), error.clone());
        let (token, search, place) = (token.clone(), search.clone(), place.clone());
        Callback::from(move |cursor: Option<String>| {
            let (info, items, next, error) =
                (info.clone(), items.clone(), next.clone(), error.clone());
            let (token, q, location) = (token.clone(), (*search).clone(), (*place).clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::shared_items(&token, &q, &location, cursor.as_deref()).await {
                    Ok(page) => {
                        let mut all = if cursor.is_some() {
                            (*items).clone().unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        all.extend(page.items);
                        error.set(None);
                        items.set(Some(all));
                        next.set(page.next_cursor);
                    }
                    // Revoked or expired while open: the whole page says so.
                    Err(e) if e.error.message == CLOSED => info.set(Some(Err(e))),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    {
        let load = load.clone();
        let open = matches!(&*info, Some(Ok(_)));
        use_effect_with(
            (open, (*search).clone(), (*place).clone()),
            move |(open, _, _)| {
                if *open {
                    load.emit(None);
                }
            },
        );
    }

    let info = match &*info {
        None => {
            return html! {
                <main class="page shared-page"><p class="muted">{ "Opening the shared inventory…" }</p></main>
            };
        }
        Some(Err(e)) => return closed_page(e),
        Some(Ok(info)) => info.clone(),
    };

    if let Some(id) = *selected {
        let back = {
            let selected = selected.clone();
            Callback::from(move |_: MouseEvent| selected.set(None))
        };
        return html! {
            <main class="page shared-page">
                { shared_header(&info) }
                <button type="button" class="button button-ghost" onclick={back}>{ "Back to the list" }</button>
                <SharedItemView token={token.clone()} {id} hide_prices={info.hide_prices} />
            </main>
        };
    }

    let onsubmit = {
        let (typed, search) = (typed.clone(), search.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            search.set(typed.trim().to_string());
        })
    };
    let oninput = {
        let typed = typed.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            typed.set(input.value());
        })
    };
    let mut options = vec![(String::new(), "Everywhere shared".to_string())];
    options.extend(
        locations
            .iter()
            .map(|l| (l.id.to_string(), l.path.join(" › "))),
    );
    let open_item = |id: ItemId| {
        let selected = selected.clone();
        Callback::from(move |_: MouseEvent| selected.set(Some(id)))
    };
    let more = {
        let (load, next) = (load.clone(), next.clone());
        Callback::from(move |_: MouseEvent| load.emit((*next).clone()))
    };

    html! {
        <main class="page shared-page">
            { shared_header(&info) }
            <form class="shared-search" role="search" {onsubmit}>
                <div class="field">
                    <label for="shared-q">{ "Search" }</label>
                    <input id="shared-q" type="search" value={(*typed).clone()} {oninput}
                        placeholder="Name, brand, serial number…" />
                </div>
                if locations.len() > 1 {
                    <SelectField id="shared-location" label="Location" {options} value={(*place).clone()}
                        onchange={let place = place.clone(); Callback::from(move |v| place.set(v))} />
                }
                <button type="submit" class="button button-secondary">{ "Search" }</button>
            </form>
            <ErrorAlert error={(*error).clone()} />
            { match &*items {
                None => html! { <p class="muted">{ "Loading…" }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted">{ "Nothing found." }</p> },
                Some(list) => html! {
                    <ul class="item-list" aria-label="Items">
                        { for list.iter().map(|item| html! {
                            <li class="item-row" key={item.id.to_string()}>
                                { item_thumb(item.thumbnail_url.as_deref()) }
                                <div class="item-main">
                                    <button type="button" class="item-name" onclick={open_item(item.id)}>
                                        { item.name.clone() }
                                    </button>
                                    <span class="item-location">{ path_text(&item.location_path) }</span>
                                </div>
                                <div class="item-figures">
                                    if item.quantity != 1 { <span class="item-qty">{ format!("×{}", format::group(item.quantity)) }</span> }
                                    if let Some(price) = price(item) { <span class="item-value">{ price }</span> }
                                </div>
                            </li>
                        }) }
                    </ul>
                },
            } }
            if next.is_some() {
                <button type="button" class="button button-ghost" onclick={more}>{ "Show more" }</button>
            }
        </main>
    }
}

fn shared_header(info: &SharedInfo) -> Html {
    html! {
        <header class="page-header shared-header">
            <div>
                <p class="eyebrow">{ info.household_name.clone() }</p>
                <h1>{ scope_title(info) }</h1>
                <p class="muted">
                    { format!("Read only · until {}", format::date_time(info.expires_at)) }
                    if info.hide_prices { { " · prices and receipts are not shown" } }
                </p>
            </div>
        </header>
    }
}

/// The page of a link that does not open: expired, revoked, or never made.
fn closed_page(error: &ErrorBody) -> Html {
    let (title, more) = match error.error.code {
        ErrorCode::NotFound if error.error.message == CLOSED => (
            CLOSED.to_string(),
            "Ask whoever sent it for a new one.".to_string(),
        ),
        ErrorCode::NotFound => (
            "This share link doesn't exist.".to_string(),
            "Check that the whole link was copied.".to_string(),
        ),
        _ => (
            "The shared inventory can't be opened right now.".to_string(),
            format::capitalize(&error.error.message),
        ),
    };
    html! {
        <main class="page shared-page">
            <h1>{ title }</h1>
            <p class="muted" role="alert">{ more }</p>
        </main>
    }
}

#[derive(Properties, PartialEq)]
struct SharedItemProps {
    token: String,
    id: ItemId,
    hide_prices: bool,
}

/// One item with its photos and documents.
#[function_component(SharedItemView)]
fn shared_item_view(props: &SharedItemProps) -> Html {
    let found = use_state(|| None::<Result<SharedItem, ErrorBody>>);
    {
        let found = found.clone();
        use_effect_with((props.token.clone(), props.id), move |(token, id)| {
            let (token, id) = (token.clone(), *id);
            wasm_bindgen_futures::spawn_local(async move {
                found.set(Some(api::shared_item(&token, id).await));
            });
        });
    }
    let shared = match &*found {
        None => return html! { <p class="muted">{ "Loading…" }</p> },
        Some(Err(e)) => return html! { <ErrorAlert error={Some(e.clone())} /> },
        Some(Ok(shared)) => shared,
    };
    let item = &shared.item;
    let row = |label: &str, value: Option<String>| match value {
        Some(value) if !value.is_empty() => html! {
            <div class="detail-row"><dt>{ label.to_string() }</dt><dd>{ value }</dd></div>
        },
        _ => html! {},
    };
    let (photos, documents): (Vec<&Attachment>, Vec<&Attachment>) = shared
        .attachments
        .iter()
        .partition(|a| a.kind == AttachmentKind::Photo);
    html! {
        <article class="card shared-item" aria-labelledby="shared-item-name">
            <h2 id="shared-item-name">{ item.name.clone() }</h2>
            if !photos.is_empty() {
                <div class="shared-photos">
                    { for photos.iter().map(|p| html! {
                        <a href={p.url.clone().unwrap_or_default()} target="_blank" rel="noopener">
                            <img src={p.thumbnail_url.clone().or_else(|| p.url.clone()).unwrap_or_default()}
                                alt={format!("Photo of {}: {}", item.name, p.filename)} loading="lazy" />
                        </a>
                    }) }
                </div>
            }
            <dl class="details">
                { row("Location", Some(path_text(&item.location_path))) }
                { row("Description", item.description.clone()) }
                { row("Quantity", (item.quantity != 1).then(|| format::group(item.quantity))) }
                { row("Brand", item.brand.clone()) }
                { row("Model", item.model.clone()) }
                { row("Serial number", item.serial_number.clone()) }
                { row("Purchase date", item.purchase_date.map(|d| d.to_string())) }
                { row("Purchase price", item.purchase_price.as_ref().map(|m| m.display())) }
                { row("Estimated value", item.estimated_value.as_ref().map(|m| m.display())) }
                { row("Warranty until", item.warranty_expires.map(|d| d.to_string())) }
                { row("Notes", item.notes.clone()) }
                { row("Tags", (!item.tags.is_empty()).then(|| item.tags.join(", "))) }
            </dl>
            if !documents.is_empty() {
                <section aria-labelledby="shared-documents">
                    <h3 id="shared-documents">{ "Documents" }</h3>
                    <ul class="shared-documents">
                        { for documents.iter().map(|d| html! {
                            <li>
                                <a href={d.url.clone().unwrap_or_default()} download={d.filename.clone()}>
                                    { format!("{} ({}, {})", d.filename, d.kind.label(), format::bytes(d.size)) }
                                </a>
                            </li>
                        }) }
                    </ul>
                </section>
            }
            if props.hide_prices {
                <p class="muted">{ "Prices, values and receipts are not shown through this link." }</p>
            }
        </article>
    }
}

//! The household's read-only share links: for an insurer, a house-sitter or an executor to
//! look at part of the inventory without an account. Owners make them here (the link is
//! shown once), see each one's uses, and revoke them.

use std::rc::Rc;

use shared::{
    CreateShareLink, ErrorBody, FieldErrors, Location, LocationId, MAX_SHARE_LINK_DAYS,
    NewShareLink, ShareLink, ShareLinkId, ShareLinkStatus, ShareUse, parse_share_link_days,
    parse_share_link_name,
};
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;

use super::HouseholdProps;
use super::members::copy_or_select;
use crate::api;
use crate::components::{ErrorAlert, LocationPicker, TextInput, labelled_field_errors};
use crate::format;
use crate::hooks::use_title;

/// "Garage and everything in it", or the whole household.
pub fn scope_text(link: &ShareLink) -> String {
    match (link.location_id, link.location_path.is_empty()) {
        (None, _) => "The whole household".into(),
        (Some(_), true) => "A location deleted since: it shows nothing".into(),
        (Some(_), false) => format!("{} and everything in it", link.location_path.join(" › ")),
    }
}

/// The "Expires after" field: a whole number of days, 1 to 365.
fn parse_days(raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| parse_share_link_days(Some(n)).ok())
        .ok_or_else(|| {
            format!("Expiry must be a whole number of days from 1 to {MAX_SHARE_LINK_DAYS}.")
        })
}

#[function_component(ShareLinks)]
pub fn share_links(props: &HouseholdProps) -> Html {
    use_title("Share links");
    let household = &props.household;
    let hid = household.id;
    let is_owner = household.role.is_owner();
    let links = use_state(|| None::<Vec<ShareLink>>);
    let locations = use_state(|| Rc::new(Vec::<Location>::new()));
    let error = use_state(|| None::<ErrorBody>);
    let confirm = use_state(|| None::<ShareLinkId>);
    let open_log = use_state(|| None::<ShareLinkId>);
    let busy = use_state(|| false);

    {
        let (links, locations, error) = (links.clone(), locations.clone(), error.clone());
        use_effect_with((hid, is_owner), move |(hid, is_owner)| {
            let (hid, is_owner) = (*hid, *is_owner);
            if is_owner {
                wasm_bindgen_futures::spawn_local(async move {
                    match api::share_links(hid).await {
                        Ok(list) => links.set(Some(list.items)),
                        Err(e) => error.set(Some(e)),
                    }
                    if let Ok(list) = api::locations(hid).await {
                        locations.set(Rc::new(list.items));
                    }
                });
            }
        });
    }

    let header = html! {
        <header class="page-header">
            <div>
                <p class="eyebrow">{ household.name.clone() }</p>
                <h1>{ "Share links" }</h1>
                <p class="muted">
                    { "A share link lets someone without an account (an insurer, a house-sitter, an executor) look at part of the inventory, read only, until it expires or you revoke it. Every use is logged here." }
                </p>
            </div>
        </header>
    };
    if !is_owner {
        return html! {
            <section class="page">
                { header }
                <p class="muted">
                    { format!("Only owners of {} make share links. Ask an owner if someone needs a look without an account.", household.name) }
                </p>
            </section>
        };
    }

    let ask = |id: Option<ShareLinkId>| {
        let confirm = confirm.clone();
        Callback::from(move |_: MouseEvent| confirm.set(id))
    };
    let toggle_log = |id: ShareLinkId| {
        let open_log = open_log.clone();
        Callback::from(move |_: MouseEvent| {
            open_log.set(if *open_log == Some(id) {
                None
            } else {
                Some(id)
            })
        })
    };
    let revoke = |link: &ShareLink| {
        let (links, error, confirm, busy) =
            (links.clone(), error.clone(), confirm.clone(), busy.clone());
        let id = link.id;
        Callback::from(move |_: MouseEvent| {
            let (links, error, confirm, busy) =
                (links.clone(), error.clone(), confirm.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::revoke_share_link(hid, id).await;
                busy.set(false);
                confirm.set(None);
                match result.and(api::share_links(hid).await) {
                    Ok(list) => {
                        error.set(None);
                        links.set(Some(list.items));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_created = {
        let links = links.clone();
        Callback::from(move |link: ShareLink| {
            let mut list = (*links).clone().unwrap_or_default();
            list.insert(0, link);
            links.set(Some(list));
        })
    };

    html! {
        <section class="page">
            { header }
            <ErrorAlert error={(*error).clone()} />
            <ShareLinkForm {hid} locations={(*locations).clone()} {on_created} />
            <section class="card" aria-labelledby="share-links-heading">
                <div class="card-header">
                    <h2 id="share-links-heading">{ "Links" }</h2>
                </div>
                { match &*links {
                    None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                    None => html! {},
                    Some(list) if list.is_empty() => html! {
                        <p class="muted">{ "No share links yet." }</p>
                    },
                    Some(list) => html! {
                        <ul class="token-list" aria-label="Share links">
                            { for list.iter().map(|link| {
                                let confirming = *confirm == Some(link.id);
                                let logging = *open_log == Some(link.id);
                                let about = format!("share-{}", link.id);
                                let confirm_id = format!("confirm-{}", link.id);
                                let log_id = format!("uses-{}", link.id);
                                let active = link.status == ShareLinkStatus::Active;
                                let last_used = link
                                    .last_used_at
                                    .map_or_else(|| "never used".to_string(), |at| format!("last used {}", format::relative(at)));
                                html! {
                                    <li class="token-row" key={link.id.to_string()}>
                                        <div class="token-main" id={about.clone()}>
                                            <span class="token-name">
                                                { link.name.clone() }
                                                <span class={classes!("badge", (!active).then_some("badge-warn"))}>{ link.status.label() }</span>
                                            </span>
                                            <span class="member-meta">
                                                { scope_text(link) }
                                                if link.hide_prices { { " · prices hidden" } }
                                            </span>
                                            <span class="member-meta">
                                                { format!("{} {} · {} · {last_used}",
                                                    if link.status == ShareLinkStatus::Expired { "Expired" } else { "Until" },
                                                    format::date_time(link.expires_at),
                                                    format::count(link.uses, "use", "uses")) }
                                            </span>
                                        </div>
                                        <div class="row-actions">
                                            <button type="button" class="button button-ghost button-small"
                                                aria-label={format!("Uses of {}", link.name)}
                                                aria-expanded={logging.to_string()} aria-controls={log_id.clone()}
                                                onclick={toggle_log(link.id)}>
                                                { "Uses" }
                                            </button>
                                            if active {
                                                <button type="button" class="button button-danger-ghost button-small"
                                                    aria-label={format!("Revoke {}", link.name)}
                                                    aria-describedby={about}
                                                    aria-expanded={confirming.to_string()}
                                                    onclick={ask((!confirming).then_some(link.id))}>
                                                    { "Revoke" }
                                                </button>
                                            }
                                        </div>
                                        if confirming {
                                            <div class="confirm member-confirm" role="group" aria-labelledby={confirm_id.clone()}>
                                                <p id={confirm_id}>
                                                    <strong>{ format!("Revoke “{}”?", link.name) }</strong>
                                                    { " Whoever has it can't open it any more. This can't be undone." }
                                                </p>
                                                <div class="row-actions">
                                                    <button type="button" class="button button-ghost" onclick={ask(None)}>{ "Cancel" }</button>
                                                    <button type="button" class="button button-danger" onclick={revoke(link)} disabled={*busy}>{ "Revoke link" }</button>
                                                </div>
                                            </div>
                                        }
                                        if logging {
                                            <UsesLog {hid} id={link.id} name={link.name.clone()} dom_id={log_id} />
                                        }
                                    </li>
                                }
                            }) }
                        </ul>
                    },
                } }
            </section>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct UsesLogProps {
    hid: shared::HouseholdId,
    id: ShareLinkId,
    name: String,
    dom_id: String,
}

/// A link's log, newest first, a page at a time.
#[function_component(UsesLog)]
fn uses_log(props: &UsesLogProps) -> Html {
    let uses = use_state(|| None::<Vec<ShareUse>>);
    let next = use_state(|| None::<String>);
    let error = use_state(|| None::<ErrorBody>);
    let load = {
        let (uses, next, error) = (uses.clone(), next.clone(), error.clone());
        let (hid, id) = (props.hid, props.id);
        Callback::from(move |cursor: Option<String>| {
            let (uses, next, error) = (uses.clone(), next.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::share_uses(hid, id, cursor.as_deref()).await {
                    Ok(page) => {
                        let mut all = if cursor.is_some() {
                            (*uses).clone().unwrap_or_default()
                        } else {
                            Vec::new()
                        };
                        all.extend(page.items);
                        uses.set(Some(all));
                        next.set(page.next_cursor);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with(props.id, move |_| load.emit(None));
    }
    let more = {
        let (load, next) = (load.clone(), next.clone());
        Callback::from(move |_: MouseEvent| load.emit((*next).clone()))
    };
    html! {
        <div class="share-uses" id={props.dom_id.clone()}>
            <ErrorAlert error={(*error).clone()} />
            { match &*uses {
                None => html! { <p class="muted">{ "Loading…" }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted">{ "Nobody has opened it yet." }</p> },
                Some(list) => html! {
                    <ul class="share-use-list" aria-label={format!("Uses of {}", props.name)}>
                        { for list.iter().map(|used| html! {
                            <li>
                                <span class="share-use-what">{ used.what.clone() }</span>
                                <span class="member-meta">
                                    { format!("{} · {} · {}",
                                        format::date_time(used.at),
                                        used.address,
                                        used.user_agent.clone().unwrap_or_else(|| "unknown browser".into())) }
                                </span>
                            </li>
                        }) }
                    </ul>
                },
            } }
            if next.is_some() {
                <button type="button" class="button button-ghost button-small" onclick={more}>{ "Show older uses" }</button>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct ShareLinkFormProps {
    hid: shared::HouseholdId,
    locations: Rc<Vec<Location>>,
    on_created: Callback<ShareLink>,
}

/// Makes a link and shows it, once.
#[function_component(ShareLinkForm)]
fn share_link_form(props: &ShareLinkFormProps) -> Html {
    let name = use_state(String::new);
    let location = use_state(|| None::<LocationId>);
    let days = use_state(|| "30".to_string());
    let hide_prices = use_state(|| false);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let created = use_state(|| None::<NewShareLink>);
    let copied = use_state(String::new);
    let url_ref = use_node_ref();

    let onsubmit = {
        let (name, location, days, hide_prices, errors, error, busy, created, copied) = (
            name.clone(),
            location.clone(),
            days.clone(),
            hide_prices.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            created.clone(),
            copied.clone(),
        );
        let (hid, on_created) = (props.hid, props.on_created.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_share_link_name(&name) {
                found.insert("name".into(), format!("Name {m}."));
            }
            let expiry = parse_days(&days);
            if let Err(m) = &expiry {
                found.insert("expires_in_days".into(), m.clone());
            }
            errors.set(found.clone());
            let (true, Ok(expiry)) = (found.is_empty(), expiry) else {
                return;
            };
            let body = CreateShareLink {
                name: name.trim().to_string(),
                location_id: *location,
                expires_in_days: Some(expiry),
                hide_prices: *hide_prices,
            };
            let (name, errors, error, busy, created, copied, on_created) = (
                name.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                created.clone(),
                copied.clone(),
                on_created.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::create_share_link(hid, &body).await;
                busy.set(false);
                match result {
                    Ok(made) => {
                        error.set(None);
                        copied.set(String::new());
                        name.set(String::new());
                        on_created.emit(made.link.clone());
                        created.set(Some(made));
                    }
                    Err(e) => {
                        errors.set(labelled_field_errors(
                            &e,
                            &[
                                ("name", "Name"),
                                ("location_id", "Location"),
                                ("expires_in_days", "Expiry"),
                            ],
                        ));
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let copy = {
        let (created, copied, url_ref) = (created.clone(), copied.clone(), url_ref.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(url) = created.as_ref().map(|l| l.url.clone()) else {
                return;
            };
            copy_or_select(
                url,
                url_ref.clone(),
                copied.clone(),
                "Link copied. Send it to whoever should look.",
                "link",
            );
        })
    };
    let dismiss = {
        let created = created.clone();
        Callback::from(move |_: MouseEvent| created.set(None))
    };
    let select_all = Callback::from(|e: FocusEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.select();
    });
    let toggle_prices = {
        let hide_prices = hide_prices.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            hide_prices.set(input.checked());
        })
    };

    html! {
        <section class="card token-form" aria-labelledby="new-share-link-heading">
            <h2 id="new-share-link-heading">{ "New share link" }</h2>
            <form class="token-fields" {onsubmit} novalidate=true>
                <TextInput id="share-name" label="Name" value={(*name).clone()}
                    hint="Who it is for, like “Insurer” or “House-sitter”."
                    oninput={let name = name.clone(); Callback::from(move |v| name.set(v))}
                    error={errors.get("name").cloned()} required=true />
                <LocationPicker id="share-location" label="What it shows"
                    locations={props.locations.clone()} value={*location}
                    none_label="The whole household"
                    hint="A location shows everything in it, and in the locations below it."
                    onchange={let location = location.clone(); Callback::from(move |v| location.set(v))}
                    error={errors.get("location_id").cloned()} />
                <TextInput id="share-days" label="Expires after (days)" kind="number" inputmode="numeric"
                    value={(*days).clone()} hint={format!("1 to {MAX_SHARE_LINK_DAYS} days.")}
                    oninput={let days = days.clone(); Callback::from(move |v| days.set(v))}
                    error={errors.get("expires_in_days").cloned()} />
                <div class="field-with-hint">
                    <div class="check">
                        <input type="checkbox" id="share-hide-prices" checked={*hide_prices}
                            onchange={toggle_prices} aria-describedby="share-hide-prices-hint" />
                        <label for="share-hide-prices">{ "Hide prices" }</label>
                    </div>
                    <p class="field-hint" id="share-hide-prices-hint">
                        { "Leaves out purchase prices, values and receipts." }
                    </p>
                </div>
                <div class="token-submit">
                    <button type="submit" class="button button-primary" disabled={*busy}>{ "Create link" }</button>
                </div>
            </form>
            <ErrorAlert error={(*error).clone()} />
            if let Some(made) = &*created {
                <div class="invite-link token-secret">
                    <div class="field">
                        <label for="share-url">{ format!("Link for “{}”", made.link.name) }</label>
                        <div class="copy-row">
                            <input id="share-url" type="text" readonly=true value={made.url.clone()}
                                ref={url_ref} onfocus={select_all} aria-describedby="share-url-hint"
                                autocomplete="off" spellcheck="false" />
                            <button type="button" class="button button-secondary" onclick={copy}>{ "Copy" }</button>
                        </div>
                        <p class="field-hint" id="share-url-hint">
                            { format!("{} · until {}. Shown only now: copy it before you leave this page.",
                                scope_text(&made.link),
                                format::date_time(made.link.expires_at)) }
                        </p>
                    </div>
                    if !copied.is_empty() {
                        <p class="muted" role="status">{ (*copied).clone() }</p>
                    }
                    <button type="button" class="button button-ghost" onclick={dismiss}>{ "Done" }</button>
                </div>
            }
        </section>
    }
}

//! The item list: search as you type, filter by location and tag, sort, and page through
//! any number of items (the server pages; only one page is ever held here). People who may
//! edit select items (on any page, or all a search matches) and change them at once.

use std::rc::Rc;

use shared::{ErrorBody, Item, ItemId, Location, LocationId, Page, TagCount};
use web_sys::UrlSearchParams;
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api::{self, ItemQuery, LocationFilter, Sort};
use crate::app::Route;
use crate::components::bulk::{BulkBar, Matching, Outcome, Selection};
use crate::components::{ErrorAlert, LocationPicker, SelectField, item_thumb};
use crate::format;
use crate::hooks::{use_debounced, use_title};

const PAGE_SIZE: u32 = 50;
const SEARCH_DELAY_MS: u32 = 250;

#[derive(Clone, Debug, Default, PartialEq)]
struct Filters {
    q: String,
    location: LocationFilter,
    tag: Option<String>,
    sort: Sort,
}

impl Filters {
    /// Filters from the address bar, so a link (or the back button) can open a filtered list.
    fn from_address() -> Self {
        let search = web_sys::window()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let Ok(params) = UrlSearchParams::new_with_str(&search) else {
            return Self::default();
        };
        let location = match params.get("location").as_deref() {
            Some("none") => LocationFilter::Unplaced,
            Some(raw) => raw
                .parse()
                .map(LocationFilter::In)
                .unwrap_or(LocationFilter::Any),
            None => LocationFilter::Any,
        };
        Self {
            q: params.get("q").unwrap_or_default(),
            location,
            tag: params.get("tag").filter(|t| !t.is_empty()),
            sort: Sort::parse(&params.get("sort").unwrap_or_default()),
        }
    }

    /// Writes the filters to the address bar without adding a history entry.
    fn to_address(&self) {
        let Ok(params) = UrlSearchParams::new() else {
            return;
        };
        if !self.q.trim().is_empty() {
            params.append("q", self.q.trim());
        }
        match self.location {
            LocationFilter::Any => {}
            LocationFilter::Unplaced => params.append("location", "none"),
            LocationFilter::In(id) => params.append("location", &id.to_string()),
        }
        if let Some(tag) = &self.tag {
            params.append("tag", tag);
        }
        if self.sort != Sort::Newest {
            params.append("sort", self.sort.as_str());
        }
        let qs = String::from(params.to_string());
        let url = if qs.is_empty() {
            "/items".to_string()
        } else {
            format!("/items?{qs}")
        };
        if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
        }
    }

    fn is_filtered(&self) -> bool {
        !self.q.trim().is_empty() || self.location != LocationFilter::Any || self.tag.is_some()
    }

    /// Every item the search and filters match, as a bulk change selects them (`count` of
    /// them).
    fn matching(&self, count: u64) -> Matching {
        Matching {
            q: self.q.trim().to_string(),
            location: self.location,
            tag: self.tag.clone(),
            count,
        }
    }
}

/// The same search and filters, whatever the count.
fn same_filter(a: &Matching, b: &Matching) -> bool {
    (&a.q, a.location, &a.tag) == (&b.q, b.location, &b.tag)
}

/// Where in the list we are: the cursor of each page seen so far, for going back.
#[derive(Clone, Debug, PartialEq)]
struct Paging {
    filters: Filters,
    cursors: Vec<Option<String>>,
    page: usize,
}

#[function_component(Items)]
pub fn items(props: &HouseholdProps) -> Html {
    use_title("Items");
    let hid = props.household.id;
    let filters = use_state(Filters::from_address);
    let q = use_debounced(filters.q.clone(), SEARCH_DELAY_MS);
    let applied = Filters {
        q,
        ..(*filters).clone()
    };
    let paging = use_state(|| Paging {
        filters: applied.clone(),
        cursors: vec![None],
        page: 0,
    });
    let (page_index, cursor) = if paging.filters == applied {
        (
            paging.page,
            paging.cursors.get(paging.page).cloned().flatten(),
        )
    } else {
        (0, None)
    };

    let result = use_state(|| None::<Page<Item>>);
    let loading = use_state(|| true);
    let error = use_state(|| None::<ErrorBody>);
    let latest = use_mut_ref(|| 0u32);
    let locations = use_state(|| Rc::new(Vec::<Location>::new()));
    let tags = use_state(|| Rc::new(Vec::<TagCount>::new()));
    let can_write = props.household.role.can_write();
    let selection = use_state(Selection::default);
    // Counts up after a bulk change, to read the list again.
    let reload = use_state(|| 0u32);
    // How many items the search and filters match, when more than a page does.
    let matches = use_state(|| None::<Matching>);
    let report = use_state(|| None::<Outcome>);

    {
        let (locations, tags, error) = (locations.clone(), tags.clone(), error.clone());
        use_effect_with((hid, *reload), move |&(hid, _)| {
            wasm_bindgen_futures::spawn_local(async move {
                let (l, t) = futures::join!(api::locations(hid), api::tags(hid));
                match (l, t) {
                    (Ok(l), Ok(t)) => {
                        locations.set(Rc::new(l.items));
                        tags.set(Rc::new(t.items));
                    }
                    (Err(e), _) | (_, Err(e)) => error.set(Some(e)),
                }
            });
        });
    }
    {
        let (result, loading, error, latest) = (
            result.clone(),
            loading.clone(),
            error.clone(),
            latest.clone(),
        );
        use_effect_with(
            (applied.clone(), cursor.clone(), *reload),
            move |(applied, cursor, _)| {
                applied.to_address();
                let query = ItemQuery {
                    q: applied.q.clone(),
                    location: applied.location,
                    tag: applied.tag.clone(),
                    sort: applied.sort,
                    limit: Some(PAGE_SIZE),
                    cursor: cursor.clone(),
                };
                let ticket = {
                    let mut latest = latest.borrow_mut();
                    *latest += 1;
                    *latest
                };
                loading.set(true);
                wasm_bindgen_futures::spawn_local(async move {
                    let answer = api::items(hid, &query).await;
                    // A newer request was sent while this one was out: its answer wins.
                    if *latest.borrow() != ticket {
                        return;
                    }
                    loading.set(false);
                    match answer {
                        Ok(page) => {
                            error.set(None);
                            result.set(Some(page));
                        }
                        Err(e) => error.set(Some(e)),
                    }
                });
            },
        );
    }

    // The number that "Select all N matching" offers, when more items match than one page
    // shows: counted again for each search and after each change.
    let more_pages = page_index > 0 || result.as_ref().is_some_and(|p| p.next_cursor.is_some());
    let offer = (can_write && more_pages && applied.is_filtered()).then(|| applied.matching(0));
    {
        let matches = matches.clone();
        use_effect_with((offer.clone(), *reload), move |(offer, _)| {
            matches.set(None);
            if let Some(offer) = offer.clone() {
                wasm_bindgen_futures::spawn_local(async move {
                    if let Ok(count) = api::count_items(hid, &offer.query()).await {
                        matches.set(Some(Matching { count, ..offer }));
                    }
                });
            }
        });
    }
    // "All matching" no longer holds once the search or filters change.
    {
        let selection = selection.clone();
        use_effect_with(applied.matching(0), move |now| {
            if let Some(m) = &selection.matching
                && !same_filter(now, m)
            {
                selection.set(Selection::default());
            }
        });
    }

    let on_search = {
        let filters = filters.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            let mut next = (*filters).clone();
            next.q = input.value();
            filters.set(next);
        })
    };
    let on_location = {
        let filters = filters.clone();
        Callback::from(move |id: Option<LocationId>| {
            let mut next = (*filters).clone();
            next.location = id.map_or(LocationFilter::Any, LocationFilter::In);
            filters.set(next);
        })
    };
    let on_unplaced = {
        let filters = filters.clone();
        Callback::from(move |()| {
            let mut next = (*filters).clone();
            next.location = LocationFilter::Unplaced;
            filters.set(next);
        })
    };
    let on_tag = {
        let filters = filters.clone();
        Callback::from(move |tag: String| {
            let mut next = (*filters).clone();
            next.tag = (!tag.is_empty()).then_some(tag);
            filters.set(next);
        })
    };
    let on_sort = {
        let filters = filters.clone();
        Callback::from(move |sort: String| {
            let mut next = (*filters).clone();
            next.sort = Sort::parse(&sort);
            filters.set(next);
        })
    };
    let clear = {
        let filters = filters.clone();
        Callback::from(move |_: MouseEvent| {
            filters.set(Filters {
                sort: filters.sort,
                ..Filters::default()
            });
        })
    };
    let go = |forward: bool| {
        let paging = paging.clone();
        let applied = applied.clone();
        let next_cursor = result.as_ref().and_then(|p| p.next_cursor.clone());
        Callback::from(move |_: MouseEvent| {
            let mut next = if paging.filters == applied {
                (*paging).clone()
            } else {
                Paging {
                    filters: applied.clone(),
                    cursors: vec![None],
                    page: 0,
                }
            };
            if forward {
                next.cursors.truncate(next.page + 1);
                next.cursors.push(next_cursor.clone());
                next.page += 1;
            } else {
                next.page = next.page.saturating_sub(1);
            }
            paging.set(next);
            if let Some(window) = web_sys::window() {
                window.scroll_to_with_x_and_y(0.0, 0.0);
            }
        })
    };

    let location_value = match filters.location {
        LocationFilter::In(id) => Some(id),
        _ => None,
    };
    let mut tag_options = vec![(String::new(), "Any tag".to_string())];
    tag_options.extend(
        tags.iter()
            .map(|t| (t.name.clone(), format!("{} ({})", t.name, t.item_count))),
    );
    if let Some(tag) = &filters.tag
        && !tags.iter().any(|t| &t.name == tag)
    {
        tag_options.push((tag.clone(), tag.clone()));
    }
    let sort_options: Vec<(String, String)> = Sort::ALL
        .iter()
        .map(|s| (s.as_str().to_string(), s.label().to_string()))
        .collect();
    let has_next = result.as_ref().is_some_and(|p| p.next_cursor.is_some());
    let first = page_index * PAGE_SIZE as usize + 1;
    let shown = result.as_ref().map_or(0, |p| p.items.len());
    let page_items = result.as_ref().map(|p| p.items.clone()).unwrap_or_default();

    let page_ids: Vec<ItemId> = page_items.iter().map(|i| i.id).collect();
    let page_selected = !page_ids.is_empty() && page_ids.iter().all(|id| selection.has(*id));
    let toggle = {
        let (selection, page_ids) = (selection.clone(), page_ids.clone());
        Callback::from(move |id: ItemId| {
            let mut next = (*selection).clone();
            if next.matching.take().is_some() {
                // Out of "all matching": this page's items stay selected, less this one.
                next.ids = page_ids.clone();
            }
            match next.ids.iter().position(|x| *x == id) {
                Some(at) => drop(next.ids.remove(at)),
                None => next.ids.push(id),
            }
            selection.set(next);
        })
    };
    let toggle_page = {
        let (selection, page_ids) = (selection.clone(), page_ids.clone());
        Callback::from(move |_: Event| {
            let mut next = (*selection).clone();
            if next.matching.take().is_some() || page_selected {
                next.ids.retain(|id| !page_ids.contains(id));
            } else {
                next.ids.extend(
                    page_ids
                        .iter()
                        .filter(|id| !next.ids.contains(id))
                        .collect::<Vec<_>>(),
                );
            }
            selection.set(next);
        })
    };
    // Offered when more items match than the page shows, and not all are selected already.
    let select_matching = matches
        .as_ref()
        .filter(|m| offer.as_ref().is_some_and(|o| same_filter(o, m)))
        .filter(|m| m.count > shown as u64 && selection.matching.is_none())
        .map(|m| {
            let (selection, m) = (selection.clone(), m.clone());
            let label = format!("Select all {} matching", format::group(m.count as i64));
            let onclick = Callback::from(move |_: MouseEvent| {
                selection.set(Selection {
                    ids: Vec::new(),
                    matching: Some(m.clone()),
                })
            });
            html! { <button type="button" class="button button-ghost button-small" {onclick}>{ label }</button> }
        });
    let clear_selection = {
        let selection = selection.clone();
        Callback::from(move |()| selection.set(Selection::default()))
    };
    let on_bulk = {
        let (selection, reload, report) = (selection.clone(), reload.clone(), report.clone());
        Callback::from(move |outcome: Outcome| {
            let mut next = Selection::default();
            if let (Outcome::Changed(now), Some(m)) = (&outcome, &selection.matching)
                && *now > 0
            {
                // Nothing was changed: the same search stays selected, with its new count.
                next.matching = Some(Matching {
                    count: *now,
                    ..m.clone()
                });
            }
            selection.set(next);
            report.set(Some(outcome));
            reload.set(*reload + 1);
        })
    };
    let name_of = |id: &str| {
        page_items
            .iter()
            .find(|i| i.id.to_string() == id)
            .map(|i| format!("“{}”: ", i.name))
            .unwrap_or_default()
    };

    html! {
        <section class="page">
            <header class="page-header">
                <h1>{ "Items" }</h1>
                if can_write {
                    <Link<Route> to={Route::NewItem} classes="button button-primary">{ "Add item" }</Link<Route>>
                }
            </header>
            <div class="filters card" role="search" aria-label="Items">
                <div class="field search-field">
                    <label for="item-search" class="visually-hidden">{ "Search items" }</label>
                    <svg class="search-icon" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
                        <circle cx="9" cy="9" r="5.5" fill="none" stroke="currentColor" stroke-width="1.8"/>
                        <path d="M13 13l4 4" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/>
                    </svg>
                    <input id="item-search" type="search" placeholder="Search items"
                        value={filters.q.clone()} oninput={on_search} autocomplete="off" />
                </div>
                <LocationPicker id="filter-location" label="Location" locations={(*locations).clone()}
                    value={location_value} onchange={on_location} none_label="Any location"
                    unplaced_label="No location" unplaced={filters.location == LocationFilter::Unplaced}
                    onunplaced={on_unplaced} class="filter-location" />
                <SelectField id="filter-tag" label="Tag" options={tag_options}
                    value={filters.tag.clone().unwrap_or_default()} onchange={on_tag} class="filter-tag" />
                <SelectField id="filter-sort" label="Sort" options={sort_options}
                    value={filters.sort.as_str()} onchange={on_sort} class="filter-sort" />
            </div>
            <ErrorAlert error={(*error).clone()} />
            <div class="list-status" aria-live="polite">
                if *loading {
                    <span class="muted">{ "Loading…" }</span>
                } else if shown > 0 {
                    <span class="muted">{ format!("Showing {}–{}", format::group(first as i64), format::group((first + shown - 1) as i64)) }</span>
                }
                if applied.is_filtered() {
                    <button type="button" class="button button-ghost button-small" onclick={clear.clone()}>{ "Clear filters" }</button>
                }
            </div>
            { match &*report {
                Some(Outcome::Done(text, failed)) => html! {
                    <div class="bulk-report card" role="status">
                        <p><strong>{ text.clone() }</strong></p>
                        if !failed.is_empty() {
                            <p>{ format!("{} could not be changed:", format::group(failed.len() as i64)) }</p>
                            <ul>
                                { for failed.iter().map(|(id, why)| html! { <li>{ format!("{}{why}", name_of(id)) }</li> }) }
                            </ul>
                        }
                    </div>
                },
                Some(Outcome::Changed(now)) => html! {
                    <p class="bulk-report card" role="status">
                        <strong>{ format!("The list changed: {} match now.", format::count(*now as i64, "item", "items")) }</strong>
                        { " Nothing was changed." }
                    </p>
                },
                None => html! {},
            } }
            if can_write && shown > 0 {
                <div class="select-row">
                    <label class="check">
                        <input type="checkbox" checked={page_selected} onchange={toggle_page} />
                        { "Select all" }
                    </label>
                    { for select_matching }
                    if let Some(m) = &selection.matching {
                        <span class="muted">{ format!("All {} matching are selected", format::group(m.count as i64)) }</span>
                    }
                </div>
            }
            { match &*result {
                None => html! {},
                Some(page) if page.items.is_empty() && !*loading => html! {
                    <div class="empty card">
                        if applied.is_filtered() {
                            <h2>{ "No items match" }</h2>
                            <p class="muted">{ "Try other words, or clear the filters." }</p>
                            <button type="button" class="button button-secondary" onclick={clear}>{ "Clear filters" }</button>
                        } else {
                            <h2>{ "No items yet" }</h2>
                            if props.household.role.can_write() {
                                <p class="muted">{ "Add the things you own, and find them again in seconds." }</p>
                                <Link<Route> to={Route::NewItem} classes="button button-secondary">{ "Add your first item" }</Link<Route>>
                            } else {
                                <p class="muted">{ "Nothing has been added to this household yet." }</p>
                            }
                        }
                    </div>
                },
                Some(_) => html! {
                    <ul class={classes!("item-list", loading.then_some("is-loading"), can_write.then_some("selectable"))} aria-label="Items">
                        { for page_items.iter().map(|item| item_row(item, can_write.then(|| (selection.has(item.id), toggle.clone())))) }
                    </ul>
                },
            } }
            if page_index > 0 || has_next {
                <nav class="pager" aria-label="Pages">
                    <button type="button" class="button button-secondary" onclick={go(false)} disabled={page_index == 0 || *loading}>{ "Previous page" }</button>
                    <span class="muted">{ format!("Page {}", page_index + 1) }</span>
                    <button type="button" class="button button-secondary" onclick={go(true)} disabled={!has_next || *loading}>{ "Next page" }</button>
                </nav>
            }
            if can_write && !selection.is_empty() {
                <BulkBar household={props.household.clone()} selection={(*selection).clone()}
                    locations={(*locations).clone()} tags={(*tags).clone()}
                    onclear={clear_selection} ondone={on_bulk} />
            }
        </section>
    }
}

/// An item's line; with `select` (whether it is selected, and what toggles it), its checkbox.
fn item_row(item: &Item, select: Option<(bool, Callback<ItemId>)>) -> Html {
    let value = item.estimated_value.as_ref().map(|m| m.display());
    let id = item.id;
    html! {
        <li class="item-row" key={item.id.to_string()}>
            if let Some((checked, toggle)) = select {
                <input type="checkbox" class="item-check" {checked} aria-label={format!("Select {}", item.name)}
                    onchange={toggle.reform(move |_: Event| id)} />
            }
            { item_thumb(item.thumbnail_url.as_deref()) }
            <div class="item-main">
                <Link<Route> to={Route::Item { id: item.id }} classes="item-name">{ item.name.clone() }</Link<Route>>
                <span class="item-location">
                    { if item.location_path.is_empty() { "No location".to_string() } else { item.location_path.join(" › ") } }
                </span>
            </div>
            <div class="item-tags">
                { for item.tags.iter().take(4).map(|t| html! { <span class="tag">{ t.clone() }</span> }) }
                if item.tags.len() > 4 { <span class="tag tag-more">{ format!("+{}", item.tags.len() - 4) }</span> }
            </div>
            <div class="item-figures">
                if item.quantity != 1 { <span class="item-qty">{ format!("×{}", format::group(item.quantity)) }</span> }
                if let Some(value) = value { <span class="item-value">{ value }</span> }
            </div>
        </li>
    }
}

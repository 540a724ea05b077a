use shared::{ErrorBody, Item, MaintenanceOverview, Stats, WarrantyList};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use super::warranties::warranty_row;
use crate::api::{self, ItemQuery, Sort};
use crate::app::Route;
use crate::components::{ErrorAlert, due_text, local_today};
use crate::format;
use crate::hooks::use_title;

const RECENT: u32 = 6;

#[function_component(Dashboard)]
pub fn dashboard(props: &HouseholdProps) -> Html {
    use_title("Dashboard");
    let household = &props.household;
    let stats = use_state(|| None::<Stats>);
    let recent = use_state(|| None::<Vec<Item>>);
    let error = use_state(|| None::<ErrorBody>);
    let upkeep = use_state(|| None::<(MaintenanceOverview, WarrantyList)>);
    {
        let upkeep = upkeep.clone();
        let hid = household.id;
        use_effect_with(hid, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let today = local_today();
                let (m, w) = futures::join!(
                    api::maintenance_overview(hid, today),
                    api::warranties(hid, 30, today)
                );
                if let (Ok(m), Ok(w)) = (m, w) {
                    upkeep.set(Some((m, w)));
                }
            });
        });
    }
    {
        let (stats, recent, error) = (stats.clone(), recent.clone(), error.clone());
        let hid = household.id;
        let currency = household.currency.clone();
        use_effect_with(hid, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                let query = ItemQuery {
                    sort: Sort::Newest,
                    limit: Some(RECENT),
                    ..Default::default()
                };
                let (s, r) = futures::join!(api::stats(hid, &currency), api::items(hid, &query));
                match (s, r) {
                    (Ok(s), Ok(r)) => {
                        stats.set(Some(s));
                        recent.set(Some(r.items));
                    }
                    (Err(e), _) | (_, Err(e)) => error.set(Some(e)),
                }
            });
        });
    }

    let stat = |label: &str, value: String, route: Option<Route>| {
        let body = html! {
            <>
                <span class="stat-value">{ value }</span>
                <span class="stat-label">{ label.to_string() }</span>
            </>
        };
        match route {
            Some(route) => {
                html! { <Link<Route> to={route} classes="stat card">{ body }</Link<Route>> }
            }
            None => html! { <div class="stat card">{ body }</div> },
        }
    };

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ household.name.clone() }</p>
                    <h1>{ "Dashboard" }</h1>
                </div>
                if household.role.can_write() {
                    <Link<Route> to={Route::NewItem} classes="button button-primary">{ "Add item" }</Link<Route>>
                }
            </header>
            <ErrorAlert error={(*error).clone()} />
            if let Some(s) = &*stats {
                <div class="stats" aria-label="Totals">
                    { stat("Items", format::group(s.item_count), Some(Route::Items)) }
                    { stat("Total value", s.total_value.display(), None) }
                    { stat("Locations", format::group(s.location_count), Some(Route::Locations)) }
                    { stat("In the trash", format::group(s.trashed_count), Some(Route::Trash)) }
                </div>
            } else if error.is_none() {
                <div class="stats" aria-hidden="true">
                    { for (0..4).map(|_| html! { <div class="stat card skeleton"></div> }) }
                </div>
            }
            <div class="dashboard-grid">
                <section class="card" aria-labelledby="recent-heading">
                    <div class="card-header">
                        <h2 id="recent-heading">{ "Recently added" }</h2>
                        <Link<Route> to={Route::Items} classes="link-quiet">{ "All items" }</Link<Route>>
                    </div>
                    { match &*recent {
                        None => html! { <p class="muted">{ "Loading…" }</p> },
                        Some(items) if items.is_empty() => html! {
                            <div class="empty">
                                if household.role.can_write() {
                                    <p>{ "Nothing here yet. Start with the things you'd miss most." }</p>
                                    <Link<Route> to={Route::NewItem} classes="button button-secondary">{ "Add your first item" }</Link<Route>>
                                } else {
                                    <p>{ "Nothing here yet." }</p>
                                }
                            </div>
                        },
                        Some(items) => html! {
                            <ul class="recent-list">
                                { for items.iter().map(|item| html! {
                                    <li key={item.id.to_string()}>
                                        <Link<Route> to={Route::Item { id: item.id }} classes="recent-item">
                                            <span class="recent-name">{ item.name.clone() }</span>
                                            <span class="recent-meta">
                                                { if item.location_path.is_empty() { "No location".to_string() } else { item.location_path.join(" › ") } }
                                            </span>
                                            <span class="recent-time">{ format::relative(item.created_at) }</span>
                                        </Link<Route>>
                                    </li>
                                }) }
                            </ul>
                        },
                    } }
                </section>
                if let Some((m, w)) = &*upkeep {
                    <>
                    <section class="card" aria-labelledby="upkeep-maintenance-heading">
                        <div class="card-header">
                            <h2 id="upkeep-maintenance-heading">{ "Maintenance" }</h2>
                            <Link<Route> to={Route::Maintenance} classes="link-quiet">{ "All maintenance" }</Link<Route>>
                        </div>
                        <p class="member-meta">
                            { format!("{} overdue · {} due soon", m.overdue.len(), m.due_soon.len()) }
                        </p>
                        if m.overdue.is_empty() && m.due_soon.is_empty() {
                            <p class="muted">{ "Nothing due in the next two weeks." }</p>
                        } else {
                            <ul class="maintenance-list" aria-label="Maintenance due">
                                { for m.overdue.iter().chain(m.due_soon.iter()).take(4).map(|d| html! {
                                    <li key={d.schedule.id.to_string()} class="maintenance-row">
                                        <div class="maintenance-main">
                                            <Link<Route> to={Route::Item { id: d.schedule.item_id }} classes="maintenance-title">
                                                { format!("{} · {}", d.schedule.title, d.item_name) }
                                            </Link<Route>>
                                            <span class="member-meta">{ due_text(d.days_left) }</span>
                                        </div>
                                    </li>
                                }) }
                            </ul>
                        }
                    </section>
                    <section class="card" aria-labelledby="upkeep-warranties-heading">
                        <div class="card-header">
                            <h2 id="upkeep-warranties-heading">{ "Warranties" }</h2>
                            <Link<Route> to={Route::Warranties} classes="link-quiet">{ "All warranties" }</Link<Route>>
                        </div>
                        <p class="member-meta">{ format!("{} ending in the next 30 days", w.ending.len()) }</p>
                        if !w.ending.is_empty() {
                            <ul class="maintenance-list" aria-label="Warranties ending">
                                { for w.ending.iter().take(4).map(warranty_row) }
                            </ul>
                        }
                    </section>
                    </>
                }
                if let Some(s) = &*stats {
                    if !s.value_by_location.is_empty() && s.total_value.amount_minor > 0 {
                        <section class="card" aria-labelledby="value-heading">
                            <div class="card-header"><h2 id="value-heading">{ "Value by location" }</h2></div>
                            <ul class="bars">
                                { for s.value_by_location.iter().filter(|b| b.total_value.amount_minor > 0).take(6).map(|b| {
                                    let share = (b.total_value.amount_minor as f64 / s.total_value.amount_minor as f64 * 100.0).clamp(2.0, 100.0);
                                    html! {
                                        <li>
                                            <div class="bar-label">
                                                <span>{ b.name.clone() }</span>
                                                <span class="muted">{ b.total_value.display() }</span>
                                            </div>
                                            // Drawn, not styled: the page's policy allows no inline styles.
                                            <svg class="bar" aria-hidden="true" focusable="false" viewBox="0 0 100 8" preserveAspectRatio="none">
                                                <rect width={format!("{share:.1}")} height="8" rx="4" />
                                            </svg>
                                        </li>
                                    }
                                }) }
                            </ul>
                        </section>
                    }
                }
            </div>
        </section>
    }
}

//! What is overdue, due soon and done recently, across the household's items, with "Mark
//! done" on each task that is due.

use shared::{DoneEntry, DueSchedule, ErrorBody, MaintenanceOverview, MarkDone};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, due_text, local_today, schedule_text};
use crate::hooks::use_title;
use crate::pages::HouseholdProps;

#[function_component(Maintenance)]
pub fn page(props: &HouseholdProps) -> Html {
    use_title("Maintenance");
    let household = &props.household;
    let hid = household.id;
    let can_write = household.role.can_write();
    let overview = use_state(|| None::<MaintenanceOverview>);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let reload = {
        let (overview, error) = (overview.clone(), error.clone());
        Callback::from(move |_: ()| {
            let (overview, error) = (overview.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::maintenance_overview(hid, local_today()).await {
                    Ok(o) => overview.set(Some(o)),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(hid, move |_| reload.emit(()));
    }
    let mark_done = |due: &DueSchedule| {
        let (error, busy, reload) = (error.clone(), busy.clone(), reload.clone());
        let (item, id) = (due.schedule.item_id, due.schedule.id);
        Callback::from(move |_: MouseEvent| {
            let (error, busy, reload) = (error.clone(), busy.clone(), reload.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let body = MarkDone {
                    date: Some(local_today()),
                    ..Default::default()
                };
                let result = api::mark_done(hid, item, id, &body).await;
                busy.set(false);
                match result {
                    Ok(_) => {
                        error.set(None);
                        reload.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let due_row = |due: &DueSchedule| {
        let s = &due.schedule;
        html! {
            <li key={s.id.to_string()} class="maintenance-row">
                <div class="maintenance-main">
                    <span class="maintenance-title">
                        { s.title.clone() }{ " · " }
                        <Link<Route> to={Route::Item { id: s.item_id }}>{ due.item_name.clone() }</Link<Route>>
                    </span>
                    <span class="member-meta">{ format!("{} · due {}", due_text(due.days_left), s.next_due) }</span>
                    <span class="member-meta">
                        { schedule_text(s) }
                        if !due.location_path.is_empty() { { format!(" · {}", due.location_path.join(" › ")) } }
                    </span>
                </div>
                if can_write {
                    <div class="row-actions">
                        <button type="button" class="button button-secondary button-small"
                            aria-label={format!("Mark done: {} ({})", s.title, due.item_name)}
                            onclick={mark_done(due)} disabled={*busy}>{ "Mark done" }</button>
                    </div>
                }
            </li>
        }
    };
    let done_row = |done: &DoneEntry| {
        let e = &done.entry;
        html! {
            <li key={e.id.to_string()} class="maintenance-row">
                <div class="maintenance-main">
                    <span class="maintenance-title">
                        { e.title.clone() }{ " · " }
                        <Link<Route> to={Route::Item { id: e.item_id }}>{ done.item_name.clone() }</Link<Route>>
                    </span>
                    <span class="member-meta">
                        { format!("Done {}", e.date) }
                        if let Some(cost) = &e.cost { { format!(" · {}", cost.display()) } }
                    </span>
                </div>
            </li>
        }
    };
    let section = |id: &str, title: &str, empty: &str, rows: Html, count: usize| {
        html! {
            <section class="card" aria-labelledby={id.to_string()}>
                <div class="card-header">
                    <h2 id={id.to_string()}>{ title.to_string() }</h2>
                </div>
                if count == 0 {
                    <p class="muted">{ empty.to_string() }</p>
                } else {
                    <ul class="maintenance-list" aria-label={title.to_string()}>{ rows }</ul>
                }
            </section>
        }
    };

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ household.name.clone() }</p>
                    <h1>{ "Maintenance" }</h1>
                    <p class="muted">{ "Schedules are made on each item's page." }</p>
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            { match &*overview {
                None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                None => html! {},
                Some(o) => html! {
                    <div class="maintenance-overview">
                        { section("overdue-heading", "Overdue", "Nothing is overdue.",
                            html! { for o.overdue.iter().map(due_row) }, o.overdue.len()) }
                        { section("due-soon-heading", "Due soon", "Nothing is due in the next two weeks.",
                            html! { for o.due_soon.iter().map(due_row) }, o.due_soon.len()) }
                        { section("done-heading", "Done recently", "Nothing was done in the last 30 days.",
                            html! { for o.done_recently.iter().map(done_row) }, o.done_recently.len()) }
                    </div>
                },
            } }
        </section>
    }
}

//! An item's maintenance on its page: its schedules with their next due dates and a "Mark
//! done" button, its log, and the forms that add to both.

use shared::{
    Attachment, AttachmentId, AttachmentStatus, CreateEntry, CreateSchedule, Day, DueState,
    ErrorBody, FieldErrors, Household, IntervalUnit, ItemId, MaintenanceEntry, MaintenanceSchedule,
    MarkDone, Money, ScheduleAnchor, due_state, parse_amount, parse_every, parse_maintenance_title,
};
use yew::prelude::*;

use super::{ErrorAlert, SelectField, TextArea, TextInput, labelled_field_errors};
use crate::api;

/// This device's date: what "today" and "overdue" mean to the person holding it.
pub fn local_today() -> Day {
    let now = js_sys::Date::new_0();
    let month = time::Month::try_from(now.get_month() as u8 + 1).unwrap_or(time::Month::January);
    time::Date::from_calendar_date(now.get_full_year() as i32, month, now.get_date() as u8)
        .map(Day)
        .unwrap_or(Day(time::Date::MIN))
}

/// "Overdue by 3 days", "Due today", "Due in 5 days".
pub fn due_text(days_left: i64) -> String {
    match days_left {
        ..=-2 => format!("Overdue by {} days", -days_left),
        -1 => "Overdue by 1 day".into(),
        0 => "Due today".into(),
        1 => "Due tomorrow".into(),
        n => format!("Due in {n} days"),
    }
}

/// How far `day` is from `today`, in days.
fn days_from(today: Day, day: Day) -> i64 {
    (day.0 - today.0).whole_days()
}

/// "every 3 months from Jan 31" / "every week after each time it's done".
pub fn schedule_text(s: &MaintenanceSchedule) -> String {
    match s.anchor {
        ScheduleAnchor::Start => format!("{}, from {}", s.unit.describe(s.every), s.start_date),
        ScheduleAnchor::LastDone => {
            format!("{} after it was last done", s.unit.describe(s.every))
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct ItemMaintenanceProps {
    pub household: Household,
    pub item: ItemId,
    /// Called after every change, so the page can show the item's history again.
    pub on_change: Callback<()>,
}

#[function_component(ItemMaintenance)]
pub fn item_maintenance(props: &ItemMaintenanceProps) -> Html {
    let schedules = use_state(|| None::<Vec<MaintenanceSchedule>>);
    let entries = use_state(|| None::<Vec<MaintenanceEntry>>);
    let files = use_state(Vec::<Attachment>::new);
    let error = use_state(|| None::<ErrorBody>);
    let form = use_state(|| None::<Form>);
    let busy = use_state(|| false);
    let hid = props.household.id;
    let item = props.item;
    let can_write = props.household.role.can_write();

    let reload = {
        let (schedules, entries, files, error) = (
            schedules.clone(),
            entries.clone(),
            files.clone(),
            error.clone(),
        );
        Callback::from(move |_: ()| {
            let (schedules, entries, files, error) = (
                schedules.clone(),
                entries.clone(),
                files.clone(),
                error.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let (s, e, f) = futures::join!(
                    api::schedules(hid, item),
                    api::entries(hid, item),
                    api::attachments(hid, item)
                );
                if let Ok(f) = f {
                    files.set(
                        f.items
                            .into_iter()
                            .filter(|a| a.status == AttachmentStatus::Ready)
                            .collect(),
                    );
                }
                match (s, e) {
                    (Ok(s), Ok(e)) => {
                        schedules.set(Some(s.items));
                        entries.set(Some(e.items));
                    }
                    (Err(e), _) | (_, Err(e)) => error.set(Some(e)),
                }
            });
        })
    };
    {
        let reload = reload.clone();
        use_effect_with(item, move |_| reload.emit(()));
    }
    let changed = {
        let (reload, on_change, form) = (reload.clone(), props.on_change.clone(), form.clone());
        Callback::from(move |_: ()| {
            form.set(None);
            reload.emit(());
            on_change.emit(());
        })
    };
    let mark_done = |s: &MaintenanceSchedule| {
        let (error, busy, changed) = (error.clone(), busy.clone(), changed.clone());
        let id = s.id;
        Callback::from(move |_: MouseEvent| {
            let (error, busy, changed) = (error.clone(), busy.clone(), changed.clone());
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
                        changed.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let remove_schedule = |s: &MaintenanceSchedule| {
        let (error, changed) = (error.clone(), changed.clone());
        let id = s.id;
        Callback::from(move |_: MouseEvent| {
            let (error, changed) = (error.clone(), changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_schedule(hid, item, id).await {
                    Ok(()) => changed.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let remove_entry = |e: &MaintenanceEntry| {
        let (error, changed) = (error.clone(), changed.clone());
        let id = e.id;
        Callback::from(move |_: MouseEvent| {
            let (error, changed) = (error.clone(), changed.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_entry(hid, item, id).await {
                    Ok(()) => changed.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let open = |which: Option<Form>| {
        let form = form.clone();
        Callback::from(move |_: MouseEvent| form.set(which))
    };
    let today = local_today();

    html! {
        <section class="card maintenance" aria-labelledby="maintenance-heading">
            <div class="card-header">
                <h2 id="maintenance-heading">{ "Maintenance" }</h2>
                if can_write {
                    <div class="row-actions">
                        <button type="button" class="button button-ghost button-small"
                            aria-expanded={(*form == Some(Form::Schedule)).to_string()}
                            onclick={open((*form != Some(Form::Schedule)).then_some(Form::Schedule))}>
                            { "Add schedule" }
                        </button>
                        <button type="button" class="button button-ghost button-small"
                            aria-expanded={(*form == Some(Form::Entry)).to_string()}
                            onclick={open((*form != Some(Form::Entry)).then_some(Form::Entry))}>
                            { "Log maintenance" }
                        </button>
                    </div>
                }
            </div>
            <ErrorAlert error={(*error).clone()} />
            { match *form {
                Some(Form::Schedule) => html! {
                    <ScheduleForm household={props.household.clone()} {item} files={Vec::<Attachment>::new()} on_saved={changed.clone()} on_cancel={open(None)} />
                },
                Some(Form::Entry) => html! {
                    <EntryForm household={props.household.clone()} {item} files={(*files).clone()} on_saved={changed.clone()} on_cancel={open(None)} />
                },
                None => html! {},
            } }
            <h3>{ "Schedules" }</h3>
            { match &*schedules {
                None => html! { <p class="muted">{ "Loading…" }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted">{ "No schedules." }</p> },
                Some(list) => html! {
                    <ul class="maintenance-list" aria-label="Schedules">
                        { for list.iter().map(|s| {
                            let days = days_from(today, s.next_due);
                            let overdue = due_state(s.next_due.0, today.0, 14) == DueState::Overdue;
                            html! {
                                <li key={s.id.to_string()} class="maintenance-row">
                                    <div class="maintenance-main">
                                        <span class="maintenance-title">
                                            { s.title.clone() }
                                            if overdue { <span class="badge badge-warn">{ "Overdue" }</span> }
                                        </span>
                                        <span class="member-meta">{ format!("Next due {} · {}", s.next_due, due_text(days)) }</span>
                                        <span class="member-meta">
                                            { schedule_text(s) }
                                            if let Some(last) = s.last_done { { format!(" · last done {last}") } }
                                        </span>
                                    </div>
                                    if can_write {
                                        <div class="row-actions">
                                            <button type="button" class="button button-secondary button-small"
                                                aria-label={format!("Mark done: {}", s.title)}
                                                onclick={mark_done(s)} disabled={*busy}>{ "Mark done" }</button>
                                            <button type="button" class="button button-danger-ghost button-small"
                                                aria-label={format!("Delete schedule {}", s.title)}
                                                onclick={remove_schedule(s)}>{ "Delete" }</button>
                                        </div>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                },
            } }
            <h3>{ "Log" }</h3>
            { match &*entries {
                None => html! { <p class="muted">{ "Loading…" }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted">{ "Nothing logged yet." }</p> },
                Some(list) => html! {
                    <ul class="maintenance-list" aria-label="Maintenance log">
                        { for list.iter().map(|e| html! {
                            <li key={e.id.to_string()} class="maintenance-row">
                                <div class="maintenance-main">
                                    <span class="maintenance-title">{ e.title.clone() }</span>
                                    <span class="member-meta">
                                        { e.date.to_string() }
                                        if let Some(cost) = &e.cost { { format!(" · {}", cost.display()) } }
                                    </span>
                                    { for e.attachment_ids.iter().filter_map(|id| files.iter().find(|f| f.id == *id)).map(|f| html! {
                                        <a class="member-meta" href={f.url.clone().unwrap_or_default()} target="_blank" rel="noopener">
                                            { format!("📎 {}", f.filename) }
                                        </a>
                                    }) }
                                    if let Some(notes) = &e.notes {
                                        <span class="member-meta">{ notes.clone() }</span>
                                    }
                                </div>
                                if can_write {
                                    <div class="row-actions">
                                        <button type="button" class="button button-danger-ghost button-small"
                                            aria-label={format!("Delete log entry {} of {}", e.title, e.date)}
                                            onclick={remove_entry(e)}>{ "Delete" }</button>
                                    </div>
                                }
                            </li>
                        }) }
                    </ul>
                },
            } }
        </section>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Form {
    Schedule,
    Entry,
}

#[derive(Properties, PartialEq)]
struct FormProps {
    household: Household,
    item: ItemId,
    /// The item's files an entry may name.
    files: Vec<Attachment>,
    on_saved: Callback<()>,
    on_cancel: Callback<MouseEvent>,
}

fn unit_options() -> Vec<(String, String)> {
    IntervalUnit::ALL
        .iter()
        .map(|u| (u.as_str().to_string(), format!("{}s", u.as_str())))
        .collect()
}

#[function_component(ScheduleForm)]
fn schedule_form(props: &FormProps) -> Html {
    let title = use_state(String::new);
    let every = use_state(|| "1".to_string());
    let unit = use_state(|| "month".to_string());
    let anchor = use_state(|| "start".to_string());
    let start = use_state(|| local_today().to_string());
    let notes = use_state(String::new);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (title, every, unit, anchor, start, notes, errors, error, busy) = (
            title.clone(),
            every.clone(),
            unit.clone(),
            anchor.clone(),
            start.clone(),
            notes.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
        );
        let (hid, item, on_saved) = (props.household.id, props.item, props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_maintenance_title(&title) {
                found.insert("title".into(), format!("Title {m}."));
            }
            let n = every
                .trim()
                .parse::<i64>()
                .ok()
                .and_then(|n| parse_every(n).ok());
            if n.is_none() {
                found.insert(
                    "every".into(),
                    "Every must be a whole number from 1 to 999.".into(),
                );
            }
            let start_date = start.trim().parse::<Day>();
            if start_date.is_err() {
                found.insert("start_date".into(), "Start date must be a date.".into());
            }
            errors.set(found.clone());
            let (true, Some(n), Ok(start_date)) = (found.is_empty(), n, start_date) else {
                return;
            };
            let body = CreateSchedule {
                title: title.trim().to_string(),
                every: n,
                unit: IntervalUnit::parse(&unit).unwrap_or(IntervalUnit::Month),
                anchor: ScheduleAnchor::parse(&anchor),
                start_date: Some(start_date),
                notes: (!notes.trim().is_empty()).then(|| notes.trim().to_string()),
            };
            let (errors, error, busy, on_saved) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::create_schedule(hid, item, &body).await;
                busy.set(false);
                match result {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(labelled_field_errors(
                            &e,
                            &[
                                ("title", "Title"),
                                ("every", "Every"),
                                ("start_date", "Start date"),
                                ("notes", "Notes"),
                            ],
                        ));
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    html! {
        <form class="maintenance-form" {onsubmit} novalidate=true aria-label="New schedule">
            <TextInput id="schedule-title" label="Task" value={(*title).clone()} required=true
                hint="Like “Replace the filter”."
                oninput={set(&title)} error={errors.get("title").cloned()} />
            <div class="maintenance-every">
                <TextInput id="schedule-every" label="Every" kind="number" inputmode="numeric"
                    value={(*every).clone()} oninput={set(&every)} error={errors.get("every").cloned()} />
                <SelectField id="schedule-unit" label="Unit" options={unit_options()}
                    value={(*unit).clone()} onchange={set(&unit)} />
            </div>
            <SelectField id="schedule-anchor" label="Counted from"
                options={vec![
                    ("start".to_string(), "The start date".to_string()),
                    ("last_done".to_string(), "The last time it was done".to_string()),
                ]}
                value={(*anchor).clone()} onchange={set(&anchor)} />
            <TextInput id="schedule-start" label="Start date" kind="date" value={(*start).clone()}
                hint="First due on this date."
                oninput={set(&start)} error={errors.get("start_date").cloned()} />
            <TextArea id="schedule-notes" label="Notes" value={(*notes).clone()}
                oninput={set(&notes)} error={errors.get("notes").cloned()} />
            <ErrorAlert error={(*error).clone()} />
            <div class="row-actions">
                <button type="button" class="button button-ghost" onclick={props.on_cancel.clone()}>{ "Cancel" }</button>
                <button type="submit" class="button button-primary" disabled={*busy}>{ "Save schedule" }</button>
            </div>
        </form>
    }
}

#[function_component(EntryForm)]
fn entry_form(props: &FormProps) -> Html {
    let title = use_state(String::new);
    let date = use_state(|| local_today().to_string());
    let cost = use_state(String::new);
    let notes = use_state(String::new);
    let chosen = use_state(Vec::<AttachmentId>::new);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let currency = props.household.currency.clone();
    let onsubmit = {
        let (title, date, cost, notes, chosen, errors, error, busy) = (
            title.clone(),
            date.clone(),
            cost.clone(),
            notes.clone(),
            chosen.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
        );
        let (hid, item, on_saved) = (props.household.id, props.item, props.on_saved.clone());
        let currency = currency.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_maintenance_title(&title) {
                found.insert("title".into(), format!("Title {m}."));
            }
            let day = date.trim().parse::<Day>();
            if day.is_err() {
                found.insert("date".into(), "Date must be a date.".into());
            }
            let amount = if cost.trim().is_empty() {
                Ok(None)
            } else {
                parse_amount(&cost, &currency).map(Some)
            };
            if let Err(m) = &amount {
                found.insert("cost".into(), format!("Cost {m}."));
            }
            errors.set(found.clone());
            let (true, Ok(day), Ok(amount)) = (found.is_empty(), day, amount) else {
                return;
            };
            let body = CreateEntry {
                title: title.trim().to_string(),
                date: Some(day),
                cost: amount.map(|amount_minor| Money {
                    amount_minor,
                    currency: currency.clone(),
                }),
                notes: (!notes.trim().is_empty()).then(|| notes.trim().to_string()),
                attachment_ids: (*chosen).clone(),
            };
            let (errors, error, busy, on_saved) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::create_entry(hid, item, &body).await;
                busy.set(false);
                match result {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(labelled_field_errors(
                            &e,
                            &[
                                ("title", "Title"),
                                ("date", "Date"),
                                ("cost", "Cost"),
                                ("notes", "Notes"),
                                ("attachment_ids", "Files"),
                            ],
                        ));
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let set = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    let toggle = |id: AttachmentId| {
        let chosen = chosen.clone();
        Callback::from(move |_: Event| {
            let mut next = (*chosen).clone();
            if let Some(at) = next.iter().position(|c| *c == id) {
                next.remove(at);
            } else {
                next.push(id);
            }
            chosen.set(next);
        })
    };
    html! {
        <form class="maintenance-form" {onsubmit} novalidate=true aria-label="Log maintenance">
            <TextInput id="entry-title" label="What was done" value={(*title).clone()} required=true
                oninput={set(&title)} error={errors.get("title").cloned()} />
            <TextInput id="entry-date" label="Date" kind="date" value={(*date).clone()}
                oninput={set(&date)} error={errors.get("date").cloned()} />
            <TextInput id="entry-cost" label="Cost" inputmode="decimal" value={(*cost).clone()}
                suffix={currency.to_string()}
                oninput={set(&cost)} error={errors.get("cost").cloned()} />
            <TextArea id="entry-notes" label="Notes" value={(*notes).clone()}
                oninput={set(&notes)} error={errors.get("notes").cloned()} />
            if !props.files.is_empty() {
                <fieldset class="maintenance-files">
                    <legend>{ "Files of this item (a receipt, a photo of the work)" }</legend>
                    { for props.files.iter().map(|f| {
                        let id = format!("entry-file-{}", f.id);
                        html! {
                            <div class="check" key={f.id.to_string()}>
                                <input type="checkbox" id={id.clone()} checked={chosen.contains(&f.id)}
                                    onchange={toggle(f.id)} />
                                <label for={id}>{ f.filename.clone() }</label>
                            </div>
                        }
                    }) }
                    if let Some(problem) = errors.get("attachment_ids") {
                        <p class="field-error">{ problem.clone() }</p>
                    }
                </fieldset>
            }
            <ErrorAlert error={(*error).clone()} />
            <div class="row-actions">
                <button type="button" class="button button-ghost" onclick={props.on_cancel.clone()}>{ "Cancel" }</button>
                <button type="submit" class="button button-primary" disabled={*busy}>{ "Save entry" }</button>
            </div>
        </form>
    }
}

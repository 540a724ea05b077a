//! An item's maintenance on its page: its schedules with their next due dates and a "Mark
//! done" button, its log, and the forms that add to both.

use shared::{
    Attachment, AttachmentId, AttachmentStatus, CreateEntry, CreateSchedule, Day, DueState,
    ErrorBody, ErrorCode, FieldErrors, Household, IntervalUnit, ItemId, MaintenanceEntry,
    MaintenanceEntryId, MaintenanceSchedule, MaintenanceScheduleId, MarkDone, Money, Patch,
    ScheduleAnchor, UpdateEntry, UpdateSchedule, due_state, parse_amount, parse_every,
    parse_maintenance_title,
};
use yew::prelude::*;

use super::{ErrorAlert, SelectField, TextArea, TextInput, amount_text, labelled_field_errors};
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
    let confirm = use_state(|| None::<Row>);
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
    let remove = |row: Row| {
        let (error, busy, confirm, changed) = (
            error.clone(),
            busy.clone(),
            confirm.clone(),
            changed.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (error, busy, confirm, changed) = (
                error.clone(),
                busy.clone(),
                confirm.clone(),
                changed.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match row {
                    Row::Schedule(id) => api::delete_schedule(hid, item, id).await,
                    Row::Entry(id) => api::delete_entry(hid, item, id).await,
                };
                busy.set(false);
                confirm.set(None);
                match result {
                    Ok(()) => changed.emit(()),
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let ask = |row: Option<Row>| {
        let confirm = confirm.clone();
        Callback::from(move |_: MouseEvent| confirm.set(row))
    };
    let open = |which: Option<Form>| {
        let (form, confirm) = (form.clone(), confirm.clone());
        Callback::from(move |_: MouseEvent| {
            confirm.set(None);
            form.set(which);
        })
    };
    // Asks before deleting, in the row: what goes and what stays.
    let confirm_delete = |row: Row,
                          question: String,
                          detail: &'static str,
                          action: &'static str| {
        let label = match row {
            Row::Schedule(id) => format!("confirm-delete-schedule-{id}"),
            Row::Entry(id) => format!("confirm-delete-entry-{id}"),
        };
        html! {
            <div class="confirm maintenance-confirm" role="group" aria-labelledby={label.clone()}>
                <p id={label}><strong>{ question }</strong>{ " " }{ detail }</p>
                <div class="row-actions">
                    <button type="button" class="button button-ghost button-small" onclick={ask(None)}>{ "Keep it" }</button>
                    <button type="button" class="button button-danger button-small" onclick={remove(row)} disabled={*busy}>{ action }</button>
                </div>
            </div>
        }
    };
    let today = local_today();
    let editing = |row: Row| *form == Some(Form::Edit(row));

    html! {
        <section class="card maintenance" aria-labelledby="maintenance-heading">
            <div class="card-header">
                <h2 id="maintenance-heading">{ "Maintenance" }</h2>
                if can_write {
                    <div class="row-actions">
                        <button type="button" class="button button-ghost button-small"
                            aria-expanded={(*form == Some(Form::NewSchedule)).to_string()}
                            onclick={open((*form != Some(Form::NewSchedule)).then_some(Form::NewSchedule))}>
                            { "Add schedule" }
                        </button>
                        <button type="button" class="button button-ghost button-small"
                            aria-expanded={(*form == Some(Form::NewEntry)).to_string()}
                            onclick={open((*form != Some(Form::NewEntry)).then_some(Form::NewEntry))}>
                            { "Log maintenance" }
                        </button>
                    </div>
                }
            </div>
            <ErrorAlert error={(*error).clone()} />
            { match *form {
                Some(Form::NewSchedule) => html! {
                    <ScheduleForm household={props.household.clone()} {item} on_saved={changed.clone()} on_cancel={open(None)} />
                },
                Some(Form::NewEntry) => html! {
                    <EntryForm household={props.household.clone()} {item} files={(*files).clone()} on_saved={changed.clone()} on_cancel={open(None)} />
                },
                _ => html! {},
            } }
            <h3>{ "Schedules" }</h3>
            { match &*schedules {
                None => html! { <p class="muted">{ "Loading…" }</p> },
                Some(list) if list.is_empty() => html! { <p class="muted">{ "No schedules." }</p> },
                Some(list) => html! {
                    <ul class="maintenance-list" aria-label="Schedules">
                        { for list.iter().map(|s| {
                            let row = Row::Schedule(s.id);
                            if editing(row) {
                                return html! {
                                    <li key={s.id.to_string()} class="maintenance-row maintenance-editing">
                                        <ScheduleForm household={props.household.clone()} {item} editing={s.clone()}
                                            on_saved={changed.clone()} on_stale={reload.clone()} on_cancel={open(None)} />
                                    </li>
                                };
                            }
                            let days = days_from(today, s.next_due);
                            let overdue = due_state(s.next_due.0, today.0, 14) == DueState::Overdue;
                            let confirming = *confirm == Some(row);
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
                                        if let Some(notes) = &s.notes {
                                            <span class="member-meta">{ notes.clone() }</span>
                                        }
                                    </div>
                                    if can_write {
                                        <div class="row-actions">
                                            <button type="button" class="button button-secondary button-small"
                                                aria-label={format!("Mark done: {}", s.title)}
                                                onclick={mark_done(s)} disabled={*busy}>{ "Mark done" }</button>
                                            <button type="button" class="button button-ghost button-small"
                                                aria-label={format!("Edit schedule {}", s.title)}
                                                onclick={open(Some(Form::Edit(row)))}>{ "Edit" }</button>
                                            <button type="button" class="button button-danger-ghost button-small"
                                                aria-label={format!("Delete schedule {}", s.title)}
                                                aria-expanded={confirming.to_string()}
                                                onclick={ask((!confirming).then_some(row))}>{ "Delete" }</button>
                                        </div>
                                    }
                                    if confirming {
                                        { confirm_delete(row, format!("Delete the schedule “{}”?", s.title),
                                            "What was logged for it stays in the log.", "Delete schedule") }
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
                        { for list.iter().map(|e| {
                            let row = Row::Entry(e.id);
                            if editing(row) {
                                return html! {
                                    <li key={e.id.to_string()} class="maintenance-row maintenance-editing">
                                        <EntryForm household={props.household.clone()} {item} files={(*files).clone()}
                                            editing={e.clone()} on_saved={changed.clone()} on_stale={reload.clone()} on_cancel={open(None)} />
                                    </li>
                                };
                            }
                            let confirming = *confirm == Some(row);
                            html! {
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
                                            <button type="button" class="button button-ghost button-small"
                                                aria-label={format!("Edit log entry {} of {}", e.title, e.date)}
                                                onclick={open(Some(Form::Edit(row)))}>{ "Edit" }</button>
                                            <button type="button" class="button button-danger-ghost button-small"
                                                aria-label={format!("Delete log entry {} of {}", e.title, e.date)}
                                                aria-expanded={confirming.to_string()}
                                                onclick={ask((!confirming).then_some(row))}>{ "Delete" }</button>
                                        </div>
                                    }
                                    if confirming {
                                        { confirm_delete(row, format!("Delete “{}” of {} from the log?", e.title, e.date),
                                            if e.schedule_id.is_some() {
                                                "Its schedule goes back to what the rest of the log says."
                                            } else {
                                                "This can't be undone."
                                            },
                                            "Delete entry") }
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                },
            } }
        </section>
    }
}

/// A schedule or a log entry of the item.
#[derive(Clone, Copy, PartialEq)]
enum Row {
    Schedule(MaintenanceScheduleId),
    Entry(MaintenanceEntryId),
}

/// The form open on the item's maintenance: a new schedule, a new entry, or one row's.
#[derive(Clone, Copy, PartialEq)]
enum Form {
    NewSchedule,
    NewEntry,
    Edit(Row),
}

#[derive(Properties, PartialEq)]
struct ScheduleFormProps {
    household: Household,
    item: ItemId,
    /// The schedule being changed; a new one when absent.
    #[prop_or_default]
    editing: Option<MaintenanceSchedule>,
    on_saved: Callback<()>,
    /// Someone changed what is being edited: read it again.
    #[prop_or_default]
    on_stale: Callback<()>,
    on_cancel: Callback<MouseEvent>,
}

#[derive(Properties, PartialEq)]
struct EntryFormProps {
    household: Household,
    item: ItemId,
    /// The item's files an entry may name.
    files: Vec<Attachment>,
    /// The entry being changed; a new one when absent.
    #[prop_or_default]
    editing: Option<MaintenanceEntry>,
    on_saved: Callback<()>,
    /// Someone changed what is being edited: read it again.
    #[prop_or_default]
    on_stale: Callback<()>,
    on_cancel: Callback<MouseEvent>,
}

/// A refused save in the person's words. The refusal of an edit of something changed since
/// it was read also reads it again (`on_stale`), so saving again keeps what was typed.
fn refused(mut e: ErrorBody, what: &str, on_stale: &Callback<()>) -> ErrorBody {
    if e.error.code == ErrorCode::PreconditionFailed {
        on_stale.emit(());
        e.error.message = format!(
            "Someone changed this {what} while you were editing it. Your changes are still \
             here: save again to keep them, or cancel to see theirs"
        );
    }
    e
}

/// A text field's input written to its state.
fn setter(state: &UseStateHandle<String>) -> Callback<String> {
    let state = state.clone();
    Callback::from(move |v: String| state.set(v))
}

/// What a text field's value clears or sets: blank clears it.
fn text_patch(value: &str) -> Patch<String> {
    match value.trim() {
        "" => Patch::Null,
        text => Patch::Value(text.to_string()),
    }
}

fn unit_options() -> Vec<(String, String)> {
    IntervalUnit::ALL
        .iter()
        .map(|u| (u.as_str().to_string(), format!("{}s", u.as_str())))
        .collect()
}

#[function_component(ScheduleForm)]
fn schedule_form(props: &ScheduleFormProps) -> Html {
    let was = props.editing.clone();
    let title = use_state(|| was.as_ref().map(|s| s.title.clone()).unwrap_or_default());
    let every = use_state(|| was.as_ref().map_or(1, |s| s.every).to_string());
    let unit = use_state(|| {
        was.as_ref()
            .map_or(IntervalUnit::Month, |s| s.unit)
            .as_str()
            .to_string()
    });
    let anchor = use_state(|| {
        was.as_ref()
            .map_or(ScheduleAnchor::Start, |s| s.anchor)
            .as_str()
            .to_string()
    });
    let start = use_state(|| {
        was.as_ref()
            .map_or_else(local_today, |s| s.start_date)
            .to_string()
    });
    let notes = use_state(|| {
        was.as_ref()
            .and_then(|s| s.notes.clone())
            .unwrap_or_default()
    });
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
        let (was, on_stale) = (was.clone(), props.on_stale.clone());
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
            let unit = IntervalUnit::parse(&unit).unwrap_or(IntervalUnit::Month);
            let anchor = ScheduleAnchor::parse(&anchor);
            let (errors, error, busy, on_saved) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            let (title, notes, was) = (title.trim().to_string(), (*notes).clone(), was.clone());
            let on_stale = on_stale.clone();
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match was {
                    Some(was) => {
                        let patch = UpdateSchedule {
                            title: Some(title),
                            every: Some(n),
                            unit: Some(unit),
                            anchor,
                            start_date: Some(start_date),
                            notes: text_patch(&notes),
                        };
                        api::update_schedule(hid, item, was.id, was.version, &patch).await
                    }
                    None => {
                        let body = CreateSchedule {
                            title,
                            every: n,
                            unit,
                            anchor,
                            start_date: Some(start_date),
                            notes: text_patch(&notes).into_change().flatten(),
                        };
                        api::create_schedule(hid, item, &body).await
                    }
                };
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
                        error.set(Some(refused(e, "schedule", &on_stale)));
                    }
                }
            });
        })
    };
    html! {
        <form class="maintenance-form" {onsubmit} novalidate=true aria-label={if was.is_some() { "Edit schedule" } else { "New schedule" }}>
            <TextInput id="schedule-title" label="Task" value={(*title).clone()} required=true
                hint="Like “Replace the filter”."
                oninput={setter(&title)} error={errors.get("title").cloned()} />
            <div class="maintenance-every">
                <TextInput id="schedule-every" label="Every" kind="number" inputmode="numeric"
                    value={(*every).clone()} oninput={setter(&every)} error={errors.get("every").cloned()} />
                <SelectField id="schedule-unit" label="Unit" options={unit_options()}
                    value={(*unit).clone()} onchange={setter(&unit)} />
            </div>
            <SelectField id="schedule-anchor" label="Counted from"
                options={vec![
                    ("start".to_string(), "The start date".to_string()),
                    ("last_done".to_string(), "The last time it was done".to_string()),
                ]}
                value={(*anchor).clone()} onchange={setter(&anchor)} />
            <TextInput id="schedule-start" label="Start date" kind="date" value={(*start).clone()}
                hint="First due on this date."
                oninput={setter(&start)} error={errors.get("start_date").cloned()} />
            <TextArea id="schedule-notes" label="Notes" value={(*notes).clone()}
                oninput={setter(&notes)} error={errors.get("notes").cloned()} />
            <ErrorAlert error={(*error).clone()} />
            <div class="row-actions">
                <button type="button" class="button button-ghost" onclick={props.on_cancel.clone()}>{ "Cancel" }</button>
                <button type="submit" class="button button-primary" disabled={*busy}>{ "Save schedule" }</button>
            </div>
        </form>
    }
}

#[function_component(EntryForm)]
fn entry_form(props: &EntryFormProps) -> Html {
    let was = props.editing.clone();
    let title = use_state(|| was.as_ref().map(|e| e.title.clone()).unwrap_or_default());
    let date = use_state(|| {
        was.as_ref()
            .map_or_else(local_today, |e| e.date)
            .to_string()
    });
    let cost = use_state(|| amount_text(was.as_ref().and_then(|e| e.cost.as_ref())));
    let notes = use_state(|| {
        was.as_ref()
            .and_then(|e| e.notes.clone())
            .unwrap_or_default()
    });
    let chosen = use_state(|| {
        was.as_ref()
            .map(|e| e.attachment_ids.clone())
            .unwrap_or_default()
    });
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
        let (was, on_stale) = (was.clone(), props.on_stale.clone());
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
            let cost = amount.map(|amount_minor| Money {
                amount_minor,
                currency: currency.clone(),
            });
            let (errors, error, busy, on_saved) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            let (title, notes, files) = (
                title.trim().to_string(),
                (*notes).clone(),
                (*chosen).clone(),
            );
            let (was, on_stale) = (was.clone(), on_stale.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match was {
                    Some(was) => {
                        let patch = UpdateEntry {
                            title: Some(title),
                            date: Some(day),
                            cost: cost.map_or(Patch::Null, Patch::Value),
                            notes: text_patch(&notes),
                            attachment_ids: Some(files),
                        };
                        api::update_entry(hid, item, was.id, was.version, &patch).await
                    }
                    None => {
                        let body = CreateEntry {
                            title,
                            date: Some(day),
                            cost,
                            notes: text_patch(&notes).into_change().flatten(),
                            attachment_ids: files,
                        };
                        api::create_entry(hid, item, &body).await
                    }
                };
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
                        error.set(Some(refused(e, "entry", &on_stale)));
                    }
                }
            });
        })
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
        <form class="maintenance-form" {onsubmit} novalidate=true aria-label={if was.is_some() { "Edit log entry" } else { "Log maintenance" }}>
            <TextInput id="entry-title" label="What was done" value={(*title).clone()} required=true
                oninput={setter(&title)} error={errors.get("title").cloned()} />
            <TextInput id="entry-date" label="Date" kind="date" value={(*date).clone()}
                oninput={setter(&date)} error={errors.get("date").cloned()} />
            <TextInput id="entry-cost" label="Cost" inputmode="decimal" value={(*cost).clone()}
                suffix={currency.to_string()}
                oninput={setter(&cost)} error={errors.get("cost").cloned()} />
            <TextArea id="entry-notes" label="Notes" value={(*notes).clone()}
                oninput={setter(&notes)} error={errors.get("notes").cloned()} />
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

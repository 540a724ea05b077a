//! The bar of changes to many items at once: move, tag, untag, set a field, or move to the
//! trash every item selected in the list (picked one by one, or all a search matches), and
//! make a claim pack of them. Large changes run as a job, followed here.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Value, json};
use shared::{
    Currency, ErrorBody, ErrorCode, Household, ItemId, JobStatus, Location, LocationId,
    StartClaimPack, TagCount, parse_amount,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, BulkAnswer, ItemQuery, LocationFilter};
use crate::app::{PrintQuery, Route};
use crate::components::job::{self, failure, job_state};
use crate::components::{ErrorAlert, Listener, LocationPicker};
use crate::format;
use crate::local;

/// Every item a search and filters match, and how many they matched when counted: the
/// server refuses the change when that number is no longer right.
#[derive(Clone, Debug, PartialEq)]
pub struct Matching {
    pub q: String,
    pub location: LocationFilter,
    pub tag: Option<String>,
    pub count: u64,
}

impl Matching {
    /// The search and filters, as the item list asks for them.
    pub fn query(&self) -> ItemQuery {
        ItemQuery {
            q: self.q.clone(),
            location: self.location,
            tag: self.tag.clone(),
            ..ItemQuery::default()
        }
    }
}

/// The items a change applies to: picked one by one (on any page), or all that match.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    pub ids: Vec<ItemId>,
    /// While set, `ids` is not used.
    pub matching: Option<Matching>,
}

impl Selection {
    pub fn len(&self) -> u64 {
        self.matching
            .as_ref()
            .map_or(self.ids.len() as u64, |m| m.count)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn has(&self, id: ItemId) -> bool {
        self.matching.is_some() || self.ids.contains(&id)
    }

    /// The `selection` of a bulk change.
    fn json(&self) -> Value {
        match &self.matching {
            Some(m) => json!({
                "filter": {
                    "q": Some(m.q.trim()).filter(|q| !q.is_empty()),
                    "location_id": match m.location {
                        LocationFilter::Any => None,
                        LocationFilter::Unplaced => Some("none".to_string()),
                        LocationFilter::In(id) => Some(id.to_string()),
                    },
                    "tag": m.tag,
                },
                "expected_count": m.count,
            }),
            None => json!({ "ids": self.ids }),
        }
    }
}

/// `/reports?claim_pack=<job id>`: the Reports page follows that claim pack.
#[derive(serde::Serialize)]
struct ClaimPackQuery {
    claim_pack: String,
}

/// What a change did, for the item list to say.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// "Moved 12 items.", and the items that could not be changed: (id, why).
    Done(String, Vec<(String, String)>),
    /// The search matches this many items now; nothing was changed.
    Changed(u64),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Move,
    Tag,
    Untag,
    Set,
    Delete,
}

/// The fields "Set field" can change: (field, label).
const FIELDS: [(&str, &str); 6] = [
    ("quantity", "Quantity"),
    ("brand", "Brand"),
    ("purchased_from", "Purchased from"),
    ("insured", "Insured"),
    ("warranty_expires", "Warranty expires"),
    ("estimated_value", "Estimated value"),
];

#[derive(Clone, Default, PartialEq)]
struct Form {
    mode: Option<Mode>,
    location: Option<LocationId>,
    tag: String,
    field: usize,
    value: String,
    /// What is wrong with what was typed.
    problem: Option<String>,
}

/// The change `form` asks for as the `ops` of a bulk change, with the words for what was
/// done ("Moved {}"); or what is wrong with it.
fn ops(form: &Form, currency: &Currency) -> Result<(Value, &'static str), String> {
    let tag = form.tag.trim();
    match form.mode {
        Some(Mode::Move) => Ok(match form.location {
            Some(id) => (json!({ "set": { "location_id": id } }), "Moved {}"),
            None => (
                json!({ "clear": ["location_id"] }),
                "Moved {} out of their location",
            ),
        }),
        Some(Mode::Tag | Mode::Untag) if tag.is_empty() => Err("Type a tag.".into()),
        Some(Mode::Tag) => Ok((json!({ "add_tags": [tag] }), "Tagged {}")),
        Some(Mode::Untag) => Ok((json!({ "remove_tags": [tag] }), "Untagged {}")),
        Some(Mode::Set) => {
            let (field, label) = FIELDS[form.field.min(FIELDS.len() - 1)];
            let raw = form.value.trim();
            let value = match field {
                // Yes unless No is chosen: the choice shown first.
                "insured" => Value::from(raw != "false"),
                _ if raw.is_empty() && field != "quantity" => {
                    return Ok((json!({ "clear": [field] }), "Changed {}"));
                }
                "quantity" => raw
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 0)
                    .map(Value::from)
                    .ok_or("Quantity must be a whole number, 0 or more.")?,
                "estimated_value" => {
                    let minor = parse_amount(raw, currency).map_err(|e| format!("{label} {e}"))?;
                    json!({ "amount_minor": minor, "currency": currency })
                }
                _ => Value::from(raw),
            };
            Ok((json!({ "set": { field: value } }), "Changed {}"))
        }
        Some(Mode::Delete) => Ok((json!({ "trash": true }), "Moved {} to the trash")),
        None => Err(String::new()),
    }
}

/// What a finished change says: its `result` (`matched`, `updated`, `unchanged`, `failed`).
fn outcome(done: &str, result: &Value) -> Outcome {
    let n = |key: &str| result[key].as_u64().unwrap_or(0) as i64;
    let mut text = done.replace("{}", &format::count(n("updated"), "item", "items"));
    if n("unchanged") > 0 {
        text.push_str(&format!("; {} unchanged", format::group(n("unchanged"))));
    }
    text.push('.');
    let failed: Vec<(String, String)> = result["failed"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            let text = |key: &str| f[key].as_str().unwrap_or_default().to_string();
            (text("id"), text("message"))
        })
        .collect();
    Outcome::Done(text, failed)
}

/// How many items match now, as a refusal of a stale count says; `None` when it doesn't.
fn matched_now(error: &ErrorBody) -> Option<u64> {
    let details = error.error.details.as_ref()?;
    ["matched", "count", "actual_count"]
        .iter()
        .find_map(|key| details[key].as_u64())
}

#[derive(Properties, PartialEq)]
pub struct BulkBarProps {
    pub household: Household,
    pub selection: Selection,
    pub locations: Rc<Vec<Location>>,
    pub tags: Rc<Vec<TagCount>>,
    pub onclear: Callback<()>,
    pub ondone: Callback<Outcome>,
}

#[function_component(BulkBar)]
pub fn bulk_bar(props: &BulkBarProps) -> Html {
    let hid = props.household.id;
    let form = use_state(Form::default);
    let busy = use_state(|| false);
    let running = use_state(|| None::<shared::Job>);
    let error = use_state(|| None::<ErrorBody>);
    let shown = job::use_shown();
    let navigator = use_navigator();
    // The bar follows the browser going off and on line.
    let redraw = use_force_update();
    use_effect_with((), move |()| {
        let window = web_sys::window();
        let listen = |event| {
            let redraw = redraw.clone();
            window
                .clone()
                .map(|w| Listener::new(w.into(), event, move || redraw.force_update()))
        };
        let listening = (listen("online"), listen("offline"));
        move || drop(listening)
    });
    let offline = local::offline();
    let n = props.selection.len();
    let count = format::count(n as i64, "item", "items");

    let open = |mode: Mode| {
        let (form, error) = (form.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            error.set(None);
            form.set(Form {
                mode: (form.mode != Some(mode)).then_some(mode),
                ..Form::default()
            });
        })
    };
    let apply = {
        let (form, busy, running, error, shown) = (
            form.clone(),
            busy.clone(),
            running.clone(),
            error.clone(),
            shown.clone(),
        );
        let (selection, ondone) = (props.selection.clone(), props.ondone.clone());
        let currency = props.household.currency.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (ops, done) = match ops(&form, &currency) {
                Ok(change) => change,
                Err(problem) => {
                    return form.set(Form {
                        problem: Some(problem),
                        ..(*form).clone()
                    });
                }
            };
            let body = json!({ "selection": selection.json(), "ops": ops });
            let (form, busy, running, error, shown, selection, ondone) = (
                form.clone(),
                busy.clone(),
                running.clone(),
                error.clone(),
                shown.clone(),
                selection.clone(),
                ondone.clone(),
            );
            busy.set(true);
            error.set(None);
            spawn_local(async move {
                let result = match api::bulk_edit(hid, &body).await {
                    Ok(BulkAnswer::Done(result)) => Ok(result),
                    Ok(BulkAnswer::Job(id)) => {
                        let last = RefCell::new(None);
                        let read = |job: shared::Job| {
                            running.set(Some(job.clone()));
                            *last.borrow_mut() = Some(job);
                        };
                        match job::follow(hid, id, &shown, &read).await {
                            Ok(()) => match last.into_inner() {
                                Some(job) if job.status == JobStatus::Done => {
                                    Ok(job.result.unwrap_or_default())
                                }
                                Some(job) => Err(failure(&job).unwrap_or_else(|| {
                                    ErrorBody::new(ErrorCode::Internal, "The change stopped.")
                                })),
                                None => return,
                            },
                            Err(e) => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                };
                busy.set(false);
                running.set(None);
                match result {
                    Ok(result) => {
                        form.set(Form::default());
                        ondone.emit(outcome(done, &result));
                    }
                    Err(e) if e.error.code == ErrorCode::Conflict => {
                        let Some(matching) = &selection.matching else {
                            return error.set(Some(e));
                        };
                        // How many match now: as the refusal says, or counted again.
                        let now = match matched_now(&e) {
                            Some(now) => Ok(now),
                            None => api::count_items(hid, &matching.query()).await,
                        };
                        match now {
                            Ok(now) => {
                                form.set(Form::default());
                                ondone.emit(Outcome::Changed(now));
                            }
                            Err(_) => error.set(Some(e)),
                        }
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let claim_pack = {
        let (busy, error, ids) = (busy.clone(), error.clone(), props.selection.ids.clone());
        Callback::from(move |_: MouseEvent| {
            let (busy, error, ids, navigator) =
                (busy.clone(), error.clone(), ids.clone(), navigator.clone());
            busy.set(true);
            spawn_local(async move {
                let body = StartClaimPack { item_ids: ids };
                match api::start_claim_pack(hid, &body).await {
                    Ok(id) => {
                        if let Some(nav) = navigator {
                            let query = ClaimPackQuery {
                                claim_pack: id.to_string(),
                            };
                            let _ = nav.push_with_query(&Route::Reports, &query);
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
    let print_labels = {
        let (ids, navigator) = (props.selection.ids.clone(), use_navigator());
        Callback::from(move |_: MouseEvent| {
            if let Some(nav) = &navigator {
                let _ = nav.push_with_query(&Route::PrintLabels, &PrintQuery::items(&ids));
            }
        })
    };
    let cancel = {
        let form = form.clone();
        Callback::from(move |_: MouseEvent| form.set(Form::default()))
    };
    let onclear = props.onclear.reform(|_: MouseEvent| ());

    // What is typed or chosen goes into the form as it changes.
    let typed = |set: fn(&mut Form, String), select: bool| {
        let form = form.clone();
        Callback::from(move |e: InputEvent| {
            let value = if select {
                e.target_unchecked_into::<HtmlSelectElement>().value()
            } else {
                e.target_unchecked_into::<HtmlInputElement>().value()
            };
            let mut next = (*form).clone();
            set(&mut next, value);
            next.problem = None;
            form.set(next);
        })
    };
    let on_location = {
        let form = form.clone();
        Callback::from(move |id| {
            form.set(Form {
                location: id,
                ..(*form).clone()
            })
        })
    };
    let on_field = {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            form.set(Form {
                field: select.selected_index().max(0) as usize,
                value: String::new(),
                problem: None,
                ..(*form).clone()
            })
        })
    };

    let disabled = offline || *busy;
    let tool = |mode: Mode, label: &'static str| {
        let pressed = form.mode == Some(mode);
        html! {
            <button type="button" class={classes!("button", "button-small", if pressed { "button-primary" } else { "button-secondary" })}
                aria-pressed={pressed.to_string()} onclick={open(mode)} {disabled}>{ label }</button>
        }
    };
    let (field, _) = FIELDS[form.field.min(FIELDS.len() - 1)];
    let value_input = match field {
        "insured" => html! {
            <select id="bulk-value" oninput={typed(|f, v| f.value = v, true)}>
                <option value="true" selected={form.value != "false"}>{ "Yes" }</option>
                <option value="false" selected={form.value == "false"}>{ "No" }</option>
            </select>
        },
        _ => {
            let (kind, mode) = match field {
                "quantity" => ("number", Some("numeric")),
                "warranty_expires" => ("date", None),
                "estimated_value" => ("text", Some("decimal")),
                _ => ("text", None),
            };
            html! {
                <input id="bulk-value" type={kind} inputmode={mode} value={form.value.clone()}
                    oninput={typed(|f, v| f.value = v, false)} min={(kind == "number").then_some("0")} />
            }
        }
    };
    let apply_label = |verb: &str| format!("{verb} {count}");
    let panel = match form.mode {
        None => html! {},
        Some(Mode::Delete) => html! {
            <div class="bulk-panel confirm" role="alertdialog" aria-labelledby="bulk-confirm">
                <p id="bulk-confirm"><strong>{ format!("Move {count} to the trash?") }</strong>
                    { " They can be restored from the trash." }</p>
                <form class="row-actions" onsubmit={apply.clone()}>
                    <button type="button" class="button button-ghost" onclick={cancel.clone()}>{ "Cancel" }</button>
                    <button type="submit" class="button button-danger" {disabled}>{ "Move to trash" }</button>
                </form>
            </div>
        },
        Some(mode) => {
            let (title, body) = match mode {
                Mode::Move => (
                    apply_label("Move"),
                    html! {
                        <LocationPicker id="bulk-location" label="Move to" locations={props.locations.clone()}
                            value={form.location} onchange={on_location} none_label="No location" />
                    },
                ),
                Mode::Tag | Mode::Untag => (
                    apply_label(if mode == Mode::Tag { "Tag" } else { "Untag" }),
                    html! {
                        <div class="field">
                            <label for="bulk-tag">{ "Tag name" }</label>
                            <input id="bulk-tag" type="text" list="bulk-tags" autocomplete="off"
                                value={form.tag.clone()} oninput={typed(|f, v| f.tag = v, false)} />
                            <datalist id="bulk-tags">
                                { for props.tags.iter().map(|t| html! { <option value={t.name.clone()} /> }) }
                            </datalist>
                        </div>
                    },
                ),
                _ => (
                    apply_label("Change"),
                    html! {
                        <div class="bulk-set">
                            <div class="field">
                                <label for="bulk-field">{ "Field" }</label>
                                <select id="bulk-field" onchange={on_field}>
                                    { for FIELDS.iter().enumerate().map(|(i, (_, label))| html! {
                                        <option selected={i == form.field}>{ *label }</option>
                                    }) }
                                </select>
                            </div>
                            <div class="field">
                                <label for="bulk-value">{ "New value" }</label>
                                if field == "estimated_value" {
                                    <div class="input-wrap has-suffix">
                                        { value_input }
                                        <span class="input-suffix">{ props.household.currency.to_string() }</span>
                                    </div>
                                } else {
                                    { value_input }
                                }
                            </div>
                        </div>
                    },
                ),
            };
            html! {
                <form class="bulk-panel" aria-label={title.clone()} onsubmit={apply.clone()}>
                    { body }
                    if mode == Mode::Set && !matches!(field, "quantity" | "insured") {
                        <p class="field-hint">{ "Left empty, the field is cleared." }</p>
                    }
                    if let Some(problem) = &form.problem {
                        <p class="field-error" role="alert">{ problem.clone() }</p>
                    }
                    <div class="row-actions">
                        <button type="submit" class="button button-primary" {disabled}>{ title }</button>
                        <button type="button" class="button button-ghost" onclick={cancel.clone()}>{ "Cancel" }</button>
                    </div>
                </form>
            }
        }
    };

    html! {
        <div class="bulk">
            if offline {
                <p class="bulk-note" role="status">{ "Bulk changes need a connection." }</p>
            }
            { panel }
            if let Some(job) = &*running {
                { job_state(job, "Changing items") }
            }
            <ErrorAlert error={(*error).clone()} />
            <div class="bulk-bar" role="toolbar" aria-label="Bulk actions">
                <span class="bulk-count">{ format!("{} selected", format::group(n as i64)) }</span>
                { tool(Mode::Move, "Move") }
                { tool(Mode::Tag, "Tag") }
                { tool(Mode::Untag, "Untag") }
                { tool(Mode::Set, "Set field") }
                { tool(Mode::Delete, "Delete") }
                if props.selection.matching.is_none() {
                    <button type="button" class="button button-small button-secondary" onclick={claim_pack} {disabled}>{ "Claim pack" }</button>
                    <button type="button" class="button button-small button-secondary" onclick={print_labels} {disabled}>{ "Print labels" }</button>
                }
                <button type="button" class="button button-small button-ghost" onclick={onclear}>{ "Clear selection" }</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    fn form(mode: Mode, field: &str, value: &str) -> Form {
        Form {
            mode: Some(mode),
            field: FIELDS.iter().position(|f| f.0 == field).unwrap_or(0),
            value: value.into(),
            tag: value.into(),
            ..Form::default()
        }
    }

    #[test]
    fn each_change_is_the_ops_the_api_takes() {
        let (ops, _) = super::ops(&form(Mode::Set, "estimated_value", "1,299.99"), &usd()).unwrap();
        assert_eq!(
            ops,
            json!({"set": {"estimated_value": {"amount_minor": 129_999, "currency": "USD"}}})
        );
        let (ops, _) = super::ops(&form(Mode::Set, "brand", " "), &usd()).unwrap();
        assert_eq!(ops, json!({"clear": ["brand"]}));
        let (ops, _) = super::ops(&form(Mode::Set, "insured", ""), &usd()).unwrap();
        assert_eq!(ops, json!({"set": {"insured": true}}));
        let (ops, _) = super::ops(&form(Mode::Set, "insured", "false"), &usd()).unwrap();
        assert_eq!(ops, json!({"set": {"insured": false}}));
        let (ops, _) = super::ops(&form(Mode::Untag, "", " winter "), &usd()).unwrap();
        assert_eq!(ops, json!({"remove_tags": ["winter"]}));
        let (ops, done) = super::ops(&form(Mode::Delete, "", ""), &usd()).unwrap();
        assert_eq!(
            (ops, done),
            (json!({"trash": true}), "Moved {} to the trash")
        );
        assert!(super::ops(&form(Mode::Set, "quantity", "-1"), &usd()).is_err());
        assert!(super::ops(&form(Mode::Tag, "", ""), &usd()).is_err());
    }

    #[test]
    fn a_selection_is_its_ids_or_its_filter_and_count() {
        let id: ItemId = "0192f0c4-5b1a-7cc0-8000-000000000001".parse().unwrap();
        let ids = Selection {
            ids: vec![id],
            matching: None,
        };
        assert_eq!(ids.json(), json!({"ids": [id]}));
        let matching = Selection {
            ids: vec![],
            matching: Some(Matching {
                q: " drill ".into(),
                location: LocationFilter::Any,
                tag: Some("tools".into()),
                count: 12,
            }),
        };
        assert_eq!(
            matching.json(),
            json!({"filter": {"q": "drill", "location_id": null, "tag": "tools"}, "expected_count": 12})
        );
        assert_eq!(matching.len(), 12);
    }

    #[test]
    fn what_was_done_counts_the_items_and_lists_failures() {
        let result = json!({"matched": 5, "updated": 3, "unchanged": 1,
            "failed": [{"id": "x", "code": "conflict", "message": "was changed meanwhile"}]});
        assert_eq!(
            outcome("Moved {}", &result),
            Outcome::Done(
                "Moved 3 items; 1 unchanged.".into(),
                vec![("x".into(), "was changed meanwhile".into())]
            )
        );
    }
}

//! One shot in the queue: its picture and state, and for each object seen in it a way to
//! add it (as suggested, edited, or to an item that already exists).

use std::rc::Rc;

use shared::{
    CreateItem, Currency, FieldErrors, HouseholdId, Item, ItemId, Location, LocationId, TagCount,
};
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;
use yew_router::prelude::*;

use super::shot::{Draft, Key, Pick, PickState, Resume, Shot, Stage, confidence_word};
use crate::api;
use crate::app::Route;
use crate::components::{LocationPicker, TagsInput, TextArea, TextInput};
use crate::hooks::use_debounced;

/// What a person asks of a shot.
#[derive(Clone, Debug, PartialEq)]
pub enum ShotEvent {
    Retry,
    /// Stop waiting for suggestions: type a name.
    TypeName,
    Discard,
    /// Take a finished shot off the list.
    Clear,
    Add(usize, CreateItem),
    /// File the photo into this item, filling its empty fields with what is given.
    AddTo(usize, ItemId, Option<CreateItem>),
}

/// "Garage › Shelf 2", or `None` for no location.
pub fn location_name(locations: &[Location], id: Option<LocationId>) -> Option<String> {
    let id = id?;
    locations
        .iter()
        .find(|l| l.id == id)
        .map(|l| l.path.join(" › "))
}

#[derive(Properties, PartialEq)]
pub struct ShotCardProps {
    pub shot: Shot,
    pub hid: HouseholdId,
    pub currency: Currency,
    pub locations: Rc<Vec<Location>>,
    pub tags: Rc<Vec<TagCount>>,
    pub on_event: Callback<(Key, ShotEvent)>,
}

#[function_component(ShotCard)]
pub fn shot_card(props: &ShotCardProps) -> Html {
    let shot = &props.shot;
    let key = shot.key;
    let title = format!("Photo {}", shot.number);
    let title_id = format!("shot-{key}-title");
    let emit = |event: ShotEvent| {
        props
            .on_event
            .reform(move |_: MouseEvent| (key, event.clone()))
    };
    let added = shot.added_any();
    let busy = shot.busy();

    let (state, state_class) = match &shot.stage {
        Stage::Uploading(f) => (format!("Uploading {:.0}%", f * 100.0), "shot-working"),
        Stage::Checking => ("Processing…".to_string(), "shot-working"),
        Stage::Recognizing => ("Recognizing…".to_string(), "shot-working"),
        Stage::Ready { .. } if added => ("Added".to_string(), "shot-added"),
        Stage::Ready { .. } => ("Ready".to_string(), "shot-ready"),
        Stage::Failed { .. } => ("Failed".to_string(), "shot-failed"),
        Stage::Discarding => ("Discarding…".to_string(), "shot-working"),
    };
    let place =
        location_name(&props.locations, shot.location).unwrap_or_else(|| "No location".to_string());

    let body = match &shot.stage {
        Stage::Uploading(fraction) => html! {
            <progress max="1" value={fraction.to_string()} aria-label={format!("Upload of {title}")} />
        },
        Stage::Checking | Stage::Recognizing | Stage::Discarding => html! {
            <progress aria-label={format!("{title}: {state}")} />
        },
        Stage::Failed { message, resume } => html! {
            <>
                <p class="shot-error" role="alert">{ message.clone() }</p>
                <div class="row-actions">
                    if resume.is_some() {
                        <button type="button" class="button button-primary button-small" onclick={emit(ShotEvent::Retry)}>
                            { "Retry" }
                        </button>
                    }
                    if matches!(resume, Some(Resume::Recognize(_))) {
                        <button type="button" class="button button-secondary button-small" onclick={emit(ShotEvent::TypeName)}>
                            { "Type a name instead" }
                        </button>
                    }
                </div>
            </>
        },
        Stage::Ready { picks, note } => html! {
            <>
                if let Some(note) = note {
                    <p class="shot-note">{ note.clone() }</p>
                }
                <ul class="pick-list" aria-label={format!("Things in {title}")}>
                    { for picks.iter().enumerate().map(|(index, pick)| html! {
                        <PickCard key={pick.item_id.to_string()} {index} pick={pick.clone()}
                            shot_key={key} shot_location={shot.location}
                            hid={props.hid} currency={props.currency.clone()}
                            locations={props.locations.clone()} tags={props.tags.clone()}
                            on_event={props.on_event.clone()} />
                    }) }
                </ul>
            </>
        },
    };

    html! {
        <li class={classes!("shot", state_class)} aria-labelledby={title_id.clone()}>
            <div class="shot-head">
                <img class="shot-thumb" src={shot.preview.clone()} alt={title.clone()} width="64" height="64" />
                <div class="shot-summary">
                    <h2 class="shot-title" id={title_id}>{ title.clone() }</h2>
                    <p class="shot-state" aria-live="polite">{ state }</p>
                    <p class="shot-place">{ place }</p>
                </div>
                if !busy && !added {
                    <button type="button" class="button button-ghost button-small shot-discard"
                        aria-label={format!("Discard {title}")} onclick={emit(ShotEvent::Discard)}>
                        { "Discard" }
                    </button>
                } else if !busy && added {
                    <button type="button" class="button button-ghost button-small shot-discard"
                        aria-label={format!("Clear {title} from the list")} onclick={emit(ShotEvent::Clear)}>
                        { "Clear" }
                    </button>
                }
            </div>
            { body }
        </li>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Summary,
    Editing,
    Existing,
}

#[derive(Properties, PartialEq)]
struct PickCardProps {
    index: usize,
    pick: Pick,
    shot_key: Key,
    shot_location: Option<LocationId>,
    hid: HouseholdId,
    currency: Currency,
    locations: Rc<Vec<Location>>,
    tags: Rc<Vec<TagCount>>,
    on_event: Callback<(Key, ShotEvent)>,
}

#[function_component(PickCard)]
fn pick_card(props: &PickCardProps) -> Html {
    let suggestion = props.pick.suggestion.clone();
    let draft = {
        let (s, place) = (suggestion.clone(), props.shot_location);
        use_state(move || Draft::new(s.as_ref(), place))
    };
    let errors = use_state(FieldErrors::new);
    let mode = use_state(|| Mode::Summary);
    let (key, index, item_id) = (props.shot_key, props.index, props.pick.item_id);
    let prefix = format!("pick-{key}-{index}");
    let working = props.pick.state == PickState::Working;
    let has_suggestion = suggestion.is_some();

    if let PickState::Added { id, name, existing } = &props.pick.state {
        return html! {
            <li class="pick pick-added">
                <p>
                    <span class="pick-check" aria-hidden="true">{ "✓ " }</span>
                    { if *existing { "Added to " } else { "Added " } }
                    <Link<Route> to={Route::Item { id: *id }}>{ name.clone() }</Link<Route>>
                </p>
            </li>
        };
    }

    let edit = |apply: fn(&mut Draft, String), field: &'static str| {
        let (draft, errors) = (draft.clone(), errors.clone());
        Callback::from(move |value: String| {
            let mut next = (*draft).clone();
            apply(&mut next, value);
            draft.set(next);
            if errors.contains_key(field) {
                let mut e = (*errors).clone();
                e.remove(field);
                errors.set(e);
            }
        })
    };
    let submit = {
        let (draft, errors, mode, on_event, currency) = (
            draft.clone(),
            errors.clone(),
            mode.clone(),
            props.on_event.clone(),
            props.currency.clone(),
        );
        Callback::from(move |()| match draft.check(item_id, &currency) {
            Ok(body) => {
                errors.set(FieldErrors::new());
                on_event.emit((key, ShotEvent::Add(index, body)));
            }
            Err(found) => {
                errors.set(found);
                // The quick form shows its one field's error; a suggestion opens the form.
                if *mode == Mode::Summary && has_suggestion {
                    mode.set(Mode::Editing);
                }
            }
        })
    };
    let on_submit = {
        let submit = submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit.emit(());
        })
    };
    let set_mode = |to: Mode| {
        let mode = mode.clone();
        Callback::from(move |_: MouseEvent| mode.set(to))
    };
    let on_existing = {
        let (draft, on_event, currency, mode) = (
            draft.clone(),
            props.on_event.clone(),
            props.currency.clone(),
            mode.clone(),
        );
        Callback::from(move |item: Item| {
            mode.set(Mode::Summary);
            on_event.emit((key, ShotEvent::AddTo(index, item.id, draft.fill(&currency))));
        })
    };
    let failure = match &props.pick.state {
        PickState::Failed(message) => {
            html! { <p class="pick-error" role="alert">{ message.clone() }</p> }
        }
        _ => html! {},
    };
    // One text field of the draft.
    let input = |id: &str,
                 label: &'static str,
                 field: &'static str,
                 apply: fn(&mut Draft, String),
                 money: bool| {
        let value = match field {
            "name" => &draft.name,
            "brand" => &draft.brand,
            "model" => &draft.model,
            "serial_number" => &draft.serial_number,
            _ => &draft.value,
        };
        html! {
            <TextInput id={format!("{prefix}-{id}")} {label} value={value.clone()}
                oninput={edit(apply, field)} error={errors.get(field).cloned()}
                inputmode={money.then_some("decimal")}
                suffix={money.then(|| props.currency.as_str().to_string())} />
        }
    };
    let name_label = if draft.name.trim().is_empty() {
        "Add item".to_string()
    } else {
        format!("Add {}", draft.name.trim())
    };

    let content = match *mode {
        Mode::Existing => html! {
            <ExistingItem hid={props.hid} id={format!("{prefix}-find")} on_pick={on_existing}
                on_cancel={set_mode(Mode::Summary)} />
        },
        Mode::Editing => {
            let on_location = {
                let draft = draft.clone();
                Callback::from(move |id: Option<LocationId>| {
                    let mut next = (*draft).clone();
                    next.location_id = id;
                    draft.set(next);
                })
            };
            let on_tags = {
                let draft = draft.clone();
                Callback::from(move |tags: Vec<String>| {
                    let mut next = (*draft).clone();
                    next.tags = tags;
                    draft.set(next);
                })
            };
            let error = |field: &str| errors.get(field).cloned();
            // Cancelling forgets the edits.
            let on_cancel = {
                let (draft, errors, mode) = (draft.clone(), errors.clone(), mode.clone());
                let (suggestion, place) = (suggestion.clone(), props.shot_location);
                Callback::from(move |_: MouseEvent| {
                    draft.set(Draft::new(suggestion.as_ref(), place));
                    errors.set(FieldErrors::new());
                    mode.set(Mode::Summary);
                })
            };
            html! {
                <form class="pick-form" onsubmit={on_submit} novalidate=true>
                    { input("name", "Name", "name", |d, v| d.name = v, false) }
                    <TextArea id={format!("{prefix}-description")} label="Description" value={draft.description.clone()}
                        oninput={edit(|d, v| d.description = v, "description")} error={error("description")} rows={2} />
                    <div class="pick-form-row">
                        { input("brand", "Brand", "brand", |d, v| d.brand = v, false) }
                        { input("model", "Model", "model", |d, v| d.model = v, false) }
                    </div>
                    <div class="pick-form-row">
                        { input("serial", "Serial number", "serial_number", |d, v| d.serial_number = v, false) }
                        { input("value", "Estimated value", "estimated_value", |d, v| d.value = v, true) }
                    </div>
                    <TagsInput id={format!("{prefix}-tags")} label="Tags" tags={draft.tags.clone()}
                        suggestions={props.tags.clone()} onchange={on_tags} error={error("tags")} />
                    <LocationPicker id={format!("{prefix}-location")} label="Location" locations={props.locations.clone()}
                        value={draft.location_id} onchange={on_location} error={error("location_id")} />
                    { failure }
                    <div class="row-actions">
                        <button type="submit" class="button button-primary" disabled={working}>
                            { if working { "Adding…".to_string() } else { name_label } }
                        </button>
                        <button type="button" class="button button-ghost" onclick={on_cancel}>{ "Cancel" }</button>
                    </div>
                </form>
            }
        }
        Mode::Summary => {
            let seen = suggestion
                .as_ref()
                .and_then(|s| s.location_id)
                .filter(|seen| Some(*seen) != props.shot_location);
            let seen_name = location_name(&props.locations, seen);
            let use_seen = seen.is_some() && draft.location_id == seen;
            let on_use_seen = {
                let (draft, place) = (draft.clone(), props.shot_location);
                Callback::from(move |e: Event| {
                    let input: HtmlInputElement = e.target_unchecked_into();
                    let mut next = (*draft).clone();
                    next.location_id = if input.checked() { seen } else { place };
                    draft.set(next);
                })
            };
            let add_click = {
                let submit = submit.clone();
                Callback::from(move |_: MouseEvent| submit.emit(()))
            };
            let actions = html! {
                <>
                    <button type="button" class="button button-secondary button-small" disabled={working}
                        onclick={set_mode(Mode::Editing)}
                        aria-label={suggestion.as_ref().map(|s| format!("Edit {}", s.name))}>
                        { if suggestion.is_some() { "Edit" } else { "More details" } }
                    </button>
                    <button type="button" class="button button-ghost button-small" disabled={working}
                        onclick={set_mode(Mode::Existing)}>
                        { "Add to existing item…" }
                    </button>
                </>
            };
            match &suggestion {
                Some(s) => {
                    let maker = [s.brand.clone(), s.model.clone()]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let value = s
                        .estimated_value
                        .as_ref()
                        .map(|m| format!("about {}", m.display()));
                    let facts: Vec<String> = [Some(maker).filter(|m| !m.is_empty()), value]
                        .into_iter()
                        .flatten()
                        .collect();
                    let word = confidence_word(s.confidence);
                    html! {
                        <>
                            <div class="pick-head">
                                <span class="pick-name">{ draft.name.clone() }</span>
                                <span class={classes!("pick-confidence", format!("confidence-{}", word.replace(' ', "-")))}>{ word }</span>
                            </div>
                            if !facts.is_empty() {
                                <p class="pick-facts">{ facts.join(" · ") }</p>
                            }
                            if let Some(seen_name) = seen_name {
                                <label class="pick-seen">
                                    <input type="checkbox" checked={use_seen} onchange={on_use_seen} disabled={working} />
                                    { format!("Put it in {seen_name} (seen in the photo)") }
                                </label>
                            }
                            { failure }
                            <div class="row-actions pick-actions">
                                <button type="button" class="button button-primary pick-add" disabled={working} onclick={add_click}>
                                    { if working { "Adding…".to_string() } else { name_label } }
                                </button>
                                { actions }
                            </div>
                        </>
                    }
                }
                None => html! {
                    <form class="pick-quick" onsubmit={on_submit} novalidate=true>
                        { input("quick-name", "Name", "name", |d, v| d.name = v, false) }
                        { failure }
                        <div class="row-actions pick-actions">
                            <button type="submit" class="button button-primary" disabled={working}>
                                { if working { "Adding…" } else { "Add item" } }
                            </button>
                            { actions }
                        </div>
                    </form>
                },
            }
        }
    };
    html! {
        <li class={classes!("pick", working.then_some("is-working"))}>{ content }</li>
    }
}

#[derive(Properties, PartialEq)]
struct ExistingItemProps {
    hid: HouseholdId,
    id: AttrValue,
    on_pick: Callback<Item>,
    on_cancel: Callback<MouseEvent>,
}

/// Finds an item by name to add the photo to.
#[function_component(ExistingItem)]
fn existing_item(props: &ExistingItemProps) -> Html {
    let query = use_state(String::new);
    let found = use_state(|| None::<Vec<Item>>);
    let settled = use_debounced((*query).clone(), 250);
    {
        let (found, hid) = (found.clone(), props.hid);
        use_effect_with(settled, move |q| {
            let q = q.trim().to_string();
            if q.is_empty() {
                found.set(None);
            } else {
                wasm_bindgen_futures::spawn_local(async move {
                    let params = api::ItemQuery {
                        q,
                        limit: Some(8),
                        ..api::ItemQuery::default()
                    };
                    found.set(Some(
                        api::items(hid, &params)
                            .await
                            .map(|page| page.items)
                            .unwrap_or_default(),
                    ));
                });
            }
        });
    }
    let on_input = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            query.set(input.value());
        })
    };
    let list_label = format!("{}-results", props.id);
    html! {
        <div class="pick-existing">
            <div class="field">
                <label for={props.id.clone()}>{ "Find the item" }</label>
                <input id={props.id.clone()} type="search" value={(*query).clone()} oninput={on_input}
                    autocomplete="off" placeholder="Type part of its name" />
            </div>
            if let Some(items) = &*found {
                if items.is_empty() {
                    <p class="muted small">{ "No item has that name." }</p>
                } else {
                    <ul class="existing-list" aria-label="Matching items" id={list_label}>
                        { for items.iter().map(|item| {
                            let on_pick = props.on_pick.clone();
                            let chosen = item.clone();
                            let onclick = Callback::from(move |_: MouseEvent| on_pick.emit(chosen.clone()));
                            html! {
                                <li key={item.id.to_string()}>
                                    <button type="button" class="existing-choice" {onclick}>
                                        <span class="visually-hidden">{ "Add to " }</span>
                                        <span class="existing-name">{ item.name.clone() }</span>
                                        if !item.location_path.is_empty() {
                                            <span class="existing-place">{ item.location_path.join(" › ") }</span>
                                        }
                                    </button>
                                </li>
                            }
                        }) }
                    </ul>
                }
            }
            <button type="button" class="button button-ghost button-small" onclick={props.on_cancel.clone()}>{ "Cancel" }</button>
        </div>
    }
}

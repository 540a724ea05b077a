//! The household's location tree: add, rename, move and delete places.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use shared::{CreateLocation, ErrorBody, FieldErrors, Location, LocationId, Patch, UpdateLocation};
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, LocationPicker, TextInput, best_matches, match_key};
use crate::format;
use crate::hooks::use_title;

/// Opens the item list narrowed to one location.
#[derive(Clone, PartialEq, serde::Serialize)]
struct LocationQuery {
    location: String,
}

const MAX_FOUND: usize = 100;
/// At first the tree is opened level by level while it shows at most this many rows.
const FIRST_SHOWN: usize = 200;

#[derive(Clone, Debug, PartialEq)]
enum Editing {
    Rename {
        id: LocationId,
        name: String,
    },
    Move {
        id: LocationId,
        parent: Option<LocationId>,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct TreeState {
    locations: Rc<Vec<Location>>,
    loaded: bool,
    expanded: HashSet<LocationId>,
    new_name: String,
    new_parent: Option<LocationId>,
    add_errors: FieldErrors,
    editing: Option<Editing>,
    edit_errors: FieldErrors,
    error: Option<ErrorBody>,
    busy: bool,
    find: String,
    /// Viewers see the tree but can't change it.
    can_write: bool,
}

enum TreeAction {
    Loaded(Vec<Location>),
    Toggle(LocationId),
    NewName(String),
    NewParent(Option<LocationId>),
    AddInside(LocationId),
    Added(Location),
    AddFailed(ErrorBody),
    Edit(Option<Editing>),
    EditFailed(ErrorBody),
    Failed(ErrorBody),
    Busy,
    Find(String),
}

impl Reducible for TreeState {
    type Action = TreeAction;

    fn reduce(self: Rc<Self>, action: TreeAction) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            TreeAction::Loaded(locations) => {
                if !next.loaded {
                    next.expanded = first_opened(&locations);
                }
                next.locations = Rc::new(locations);
                next.loaded = true;
                next.busy = false;
            }
            TreeAction::Toggle(id) => {
                if !next.expanded.remove(&id) {
                    next.expanded.insert(id);
                }
            }
            TreeAction::NewName(name) => next.new_name = name,
            TreeAction::NewParent(parent) => next.new_parent = parent,
            TreeAction::AddInside(id) => {
                next.new_parent = Some(id);
                next.expanded.insert(id);
            }
            TreeAction::Added(location) => {
                next.new_name.clear();
                next.add_errors.clear();
                next.error = None;
                if let Some(parent) = location.parent_id {
                    next.expanded.insert(parent);
                }
            }
            TreeAction::AddFailed(error) => {
                next.add_errors = error.field_errors();
                next.error = Some(error);
                next.busy = false;
            }
            TreeAction::Edit(editing) => {
                next.editing = editing;
                next.edit_errors.clear();
                next.error = None;
                next.busy = false;
            }
            TreeAction::EditFailed(error) => {
                next.edit_errors = error.field_errors();
                next.error = Some(error);
                next.busy = false;
            }
            TreeAction::Failed(error) => {
                next.error = Some(error);
                next.busy = false;
            }
            TreeAction::Busy => next.busy = true,
            TreeAction::Find(text) => next.find = text,
        }
        Rc::new(next)
    }
}

/// The locations to open at first: whole levels, from the top, while the rows shown stay
/// few enough to take in (a small tree opens fully; a big one shows its top).
fn first_opened(locations: &[Location]) -> HashSet<LocationId> {
    let mut children: HashMap<Option<LocationId>, Vec<LocationId>> = HashMap::new();
    for l in locations {
        children.entry(l.parent_id).or_default().push(l.id);
    }
    let mut opened = HashSet::new();
    let mut level: Vec<LocationId> = children.get(&None).cloned().unwrap_or_default();
    let mut shown = level.len();
    loop {
        let below: Vec<LocationId> = level
            .iter()
            .flat_map(|id| children.get(&Some(*id)).into_iter().flatten().copied())
            .collect();
        if below.is_empty() || shown + below.len() > FIRST_SHOWN {
            return opened;
        }
        shown += below.len();
        opened.extend(level.iter().copied());
        level = below;
    }
}

fn reload(hid: shared::HouseholdId, state: UseReducerHandle<TreeState>) {
    wasm_bindgen_futures::spawn_local(async move {
        match api::locations(hid).await {
            Ok(list) => state.dispatch(TreeAction::Loaded(list.items)),
            Err(e) => state.dispatch(TreeAction::Failed(e)),
        }
    });
}

#[function_component(Locations)]
pub fn locations(props: &HouseholdProps) -> Html {
    use_title("Locations");
    let hid = props.household.id;
    let state = use_reducer(|| TreeState {
        locations: Rc::new(Vec::new()),
        loaded: false,
        expanded: HashSet::new(),
        new_name: String::new(),
        new_parent: None,
        add_errors: FieldErrors::new(),
        editing: None,
        edit_errors: FieldErrors::new(),
        error: None,
        busy: false,
        find: String::new(),
        can_write: props.household.role.can_write(),
    });
    let name_ref = use_node_ref();
    {
        let state = state.clone();
        use_effect_with(hid, move |hid| reload(*hid, state));
    }

    let on_add = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Err(m) = shared::parse_name(&state.new_name, 100) {
                let mut errors = FieldErrors::new();
                errors.insert("name".into(), m);
                state.dispatch(TreeAction::AddFailed(ErrorBody::validation(&errors)));
                return;
            }
            let body = CreateLocation {
                id: Some(LocationId::new()),
                name: state.new_name.trim().to_string(),
                parent_id: state.new_parent,
                description: None,
                asset_id: None,
            };
            let state = state.clone();
            state.dispatch(TreeAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                match api::create_location(hid, &body).await {
                    Ok(location) => {
                        state.dispatch(TreeAction::Added(location));
                        reload(hid, state);
                    }
                    Err(e) => state.dispatch(TreeAction::AddFailed(e)),
                }
            });
        })
    };
    let save_edit = {
        let state = state.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(editing) = state.editing.clone() else {
                return;
            };
            let (id, body) = match editing {
                Editing::Rename { id, name } => (
                    id,
                    UpdateLocation {
                        name: Patch::Value(name.trim().to_string()),
                        ..Default::default()
                    },
                ),
                Editing::Move { id, parent } => (
                    id,
                    UpdateLocation {
                        parent_id: parent.into(),
                        ..Default::default()
                    },
                ),
            };
            let state = state.clone();
            state.dispatch(TreeAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                let before = state
                    .locations
                    .iter()
                    .find(|l| l.id == id)
                    .map(|l| l.name.clone())
                    .unwrap_or_default();
                match api::update_location(hid, id, &before, &body).await {
                    Ok(location) => {
                        state.dispatch(TreeAction::Edit(None));
                        if let Some(parent) = location.parent_id
                            && !state.expanded.contains(&parent)
                        {
                            state.dispatch(TreeAction::Toggle(parent));
                        }
                        reload(hid, state);
                    }
                    Err(e) => state.dispatch(TreeAction::EditFailed(e)),
                }
            });
        })
    };
    let delete = {
        let state = state.clone();
        Callback::from(move |location: Location| {
            let state = state.clone();
            state.dispatch(TreeAction::Busy);
            wasm_bindgen_futures::spawn_local(async move {
                match api::delete_location(hid, location.id, &location.name).await {
                    Ok(()) => reload(hid, state),
                    Err(mut e) => {
                        e.error.message =
                            format!("Can't delete “{}”: {}", location.name, e.error.message);
                        state.dispatch(TreeAction::Failed(e));
                    }
                }
            });
        })
    };
    let add_inside = {
        let state = state.clone();
        let name_ref = name_ref.clone();
        Callback::from(move |id: LocationId| {
            state.dispatch(TreeAction::AddInside(id));
            if let Some(input) = name_ref.cast::<HtmlInputElement>() {
                let _ = input.focus();
                input.scroll_into_view();
            }
        })
    };

    let mut children: HashMap<Option<LocationId>, Vec<&Location>> = HashMap::new();
    for l in state.locations.iter() {
        children.entry(l.parent_id).or_default().push(l);
    }
    let ctx = NodeContext {
        state: state.clone(),
        children: &children,
        save_edit,
        delete,
        add_inside,
    };
    let find = state.find.trim().to_string();
    let keys = use_memo(state.locations.clone(), |locations| {
        locations
            .iter()
            .map(|l| (match_key(&l.path), l.clone()))
            .collect::<Vec<_>>()
    });
    let (found, found_total) = if find.is_empty() {
        (Vec::new(), 0)
    } else {
        best_matches(&keys, &find, MAX_FOUND, |(key, _)| key)
    };
    let on_find = {
        let state = state.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            state.dispatch(TreeAction::Find(input.value()));
        })
    };

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>{ "Locations" }</h1>
                    <p class="muted">{ "Rooms, cupboards, shelves, boxes: where things are, as deep as you like." }</p>
                </div>
            </header>
            if props.household.role.can_write() {
                <form class="card add-location" onsubmit={on_add} novalidate=true aria-labelledby="add-location-heading">
                    <h2 id="add-location-heading">{ "New location" }</h2>
                    <div class="add-location-fields">
                        <TextInput id="location-name" label="Location name" value={state.new_name.clone()}
                            node_ref={name_ref}
                            oninput={let s = state.clone(); Callback::from(move |v| s.dispatch(TreeAction::NewName(v)))}
                            error={state.add_errors.get("name").map(|m| format!("Location name {m}"))}
                            placeholder="e.g. Garage" />
                        <LocationPicker id="location-parent" label="Inside" locations={state.locations.clone()}
                            value={state.new_parent} none_label="Top level"
                            onchange={let s = state.clone(); Callback::from(move |p| s.dispatch(TreeAction::NewParent(p)))}
                            error={state.add_errors.get("parent_id").map(|m| format!("Inside {m}"))} />
                        <div class="add-location-submit">
                            <button type="submit" class="button button-primary" disabled={state.busy}>{ "Add location" }</button>
                        </div>
                    </div>
                </form>
            }
            <ErrorAlert error={state.error.clone()} />
            <div class="card tree-card">
                if state.locations.len() > 12 {
                    <div class="field tree-find">
                        <label for="location-find">{ "Find a location" }</label>
                        <input id="location-find" type="search" value={state.find.clone()} oninput={on_find} autocomplete="off" />
                    </div>
                }
                if !state.loaded {
                    <p class="muted">{ "Loading…" }</p>
                } else if state.locations.is_empty() {
                    <div class="empty">
                        <h2>{ "No locations yet" }</h2>
                        <p class="muted">{ "Start with the rooms of your home, then add what is inside them." }</p>
                    </div>
                } else if !find.is_empty() {
                    <ul class="tree tree-flat" aria-label="Matching locations">
                        { for found.iter().map(|(_, l)| ctx.node(l, true)) }
                        if found.is_empty() { <li class="muted">{ "No location matches." }</li> }
                    </ul>
                    if found_total > found.len() {
                        <p class="muted small tree-more">
                            { format!("{} more — keep typing to narrow the list", format::group((found_total - found.len()) as i64)) }
                        </p>
                    }
                } else {
                    <ul class="tree" aria-label="Location tree">
                        { for children.get(&None).into_iter().flatten().map(|l| ctx.node(l, false)) }
                    </ul>
                }
            </div>
        </section>
    }
}

struct NodeContext<'a> {
    state: UseReducerHandle<TreeState>,
    children: &'a HashMap<Option<LocationId>, Vec<&'a Location>>,
    save_edit: Callback<SubmitEvent>,
    delete: Callback<Location>,
    add_inside: Callback<LocationId>,
}

impl NodeContext<'_> {
    fn node(&self, l: &Location, flat: bool) -> Html {
        let state = &self.state;
        let kids = self
            .children
            .get(&Some(l.id))
            .map_or(&[][..], |k| k.as_slice());
        let open = state.expanded.contains(&l.id);
        let name = l.name.clone();
        let toggle = {
            let state = state.clone();
            let id = l.id;
            Callback::from(move |_: MouseEvent| state.dispatch(TreeAction::Toggle(id)))
        };
        let start = |editing: Editing| {
            let state = state.clone();
            Callback::from(move |_: MouseEvent| {
                state.dispatch(TreeAction::Edit(Some(editing.clone())))
            })
        };
        let cancel = {
            let state = state.clone();
            Callback::from(move |_: MouseEvent| state.dispatch(TreeAction::Edit(None)))
        };
        let delete = {
            let delete = self.delete.clone();
            let l = l.clone();
            Callback::from(move |_: MouseEvent| delete.emit(l.clone()))
        };
        let add_inside = {
            let add = self.add_inside.clone();
            let id = l.id;
            Callback::from(move |_: MouseEvent| add.emit(id))
        };
        let editor = match &state.editing {
            Some(Editing::Rename { id, name: draft }) if *id == l.id => {
                let oninput = {
                    let state = state.clone();
                    let id = *id;
                    Callback::from(move |value: String| {
                        state.dispatch(TreeAction::Edit(Some(Editing::Rename { id, name: value })))
                    })
                };
                Some(html! {
                    <form class="inline-editor" onsubmit={self.save_edit.clone()} novalidate=true>
                        <TextInput id={format!("rename-{}", l.id)} label={format!("New name for {name}")}
                            value={draft.clone()} {oninput}
                            error={state.edit_errors.get("name").map(|m| format!("Name {m}"))} />
                        <div class="row-actions">
                            <button type="button" class="button button-ghost button-small" onclick={cancel.clone()}>{ "Cancel" }</button>
                            <button type="submit" class="button button-primary button-small" disabled={state.busy}>{ "Rename" }</button>
                        </div>
                    </form>
                })
            }
            Some(Editing::Move { id, parent }) if *id == l.id => {
                let onchange = {
                    let state = state.clone();
                    let id = *id;
                    Callback::from(move |parent: Option<LocationId>| {
                        state.dispatch(TreeAction::Edit(Some(Editing::Move { id, parent })))
                    })
                };
                Some(html! {
                    <form class="inline-editor" onsubmit={self.save_edit.clone()} novalidate=true>
                        <LocationPicker id={format!("move-{}", l.id)} label={format!("Move {name} into")}
                            locations={state.locations.clone()} value={*parent} none_label="Top level"
                            exclude={Some(l.id)} {onchange}
                            error={state.edit_errors.get("parent_id").map(|m| format!("New place {m}"))} />
                        <div class="row-actions">
                            <button type="button" class="button button-ghost button-small" onclick={cancel.clone()}>{ "Cancel" }</button>
                            <button type="submit" class="button button-primary button-small" disabled={state.busy}>{ "Move here" }</button>
                        </div>
                    </form>
                })
            }
            _ => None,
        };
        let label = if flat {
            l.path.join(" › ")
        } else {
            name.clone()
        };
        html! {
            <li key={l.id.to_string()} class="tree-node">
                <div class="tree-row">
                    if !flat && !kids.is_empty() {
                        <button type="button" class="icon-button tree-toggle" onclick={toggle}
                            aria-expanded={open.to_string()}
                            aria-label={format!("{} {name}", if open { "Collapse" } else { "Expand" })}>
                            <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false" class={classes!(open.then_some("open"))}>
                                <path d="M8 5l5 5-5 5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>
                            </svg>
                        </button>
                    } else {
                        <span class="tree-spacer" aria-hidden="true"></span>
                    }
                    <span class="tree-label">
                        <Link<Route> to={Route::Location { id: l.id }} classes="tree-name">{ label }</Link<Route>>
                        <Link<Route, LocationQuery> to={Route::Items} query={Some(LocationQuery { location: l.id.to_string() })}
                            classes="tree-count">
                            { format::count(l.item_count, "item", "items") }
                            <span class="visually-hidden">{ format!(" in {name}") }</span>
                        </Link<Route, LocationQuery>>
                    </span>
                    if state.can_write {
                        <span class="tree-actions">
                            <button type="button" class="icon-button" onclick={add_inside}
                                aria-label={format!("Add a location inside {name}")} title="Add inside">
                                <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M10 4v12M4 10h12" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                            </button>
                            <button type="button" class="icon-button" onclick={start(Editing::Rename { id: l.id, name: l.name.clone() })}
                                aria-label={format!("Rename {name}")} title="Rename">
                                <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M4 16h3l8.5-8.5-3-3L4 13v3zM11 6l3 3" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/></svg>
                            </button>
                            <button type="button" class="icon-button" onclick={start(Editing::Move { id: l.id, parent: l.parent_id })}
                                aria-label={format!("Move {name}")} title="Move">
                                <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M10 3v14M3 10h14M10 3l-2 2M10 3l2 2M10 17l-2-2M10 17l2-2M3 10l2-2M3 10l2 2M17 10l-2-2M17 10l-2 2" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"/></svg>
                            </button>
                            <button type="button" class="icon-button icon-danger" onclick={delete}
                                aria-label={format!("Delete {name}")} title="Delete" disabled={state.busy}>
                                <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M4 6h12M8 6V4h4v2M6 6l1 10h6l1-10" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/></svg>
                            </button>
                        </span>
                    }
                </div>
                if let Some(editor) = editor { { editor } }
                if !flat && open && !kids.is_empty() {
                    <ul class="tree-children">
                        { for kids.iter().map(|k| self.node(k, false)) }
                    </ul>
                }
            </li>
        }
    }
}

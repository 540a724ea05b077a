//! A searchable location picker (a combobox). The household's locations come as one flat
//! list with each one's path; matching is done here on that text, and at most
//! [`MAX_SHOWN`] matches are drawn, so it stays instant with thousands of locations.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use shared::{Location, LocationId, lowercase};
use web_sys::{HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

const MAX_SHOWN: usize = 50;

/// One location, ready to be matched.
#[derive(PartialEq)]
struct Entry {
    id: LocationId,
    label: String,
    lower: String,
}

/// "House › Garage › Shelf 2".
pub fn path_label(path: &[String]) -> String {
    path.join(" › ")
}

/// What a query is matched against: "house garage shelf 2".
pub fn match_key(path: &[String]) -> String {
    lowercase(&path.join(" "))
}

/// The best `limit` of the things whose key holds every word of `query`, and how many
/// matched in all. The query as typed, in order, ranks first; then shorter paths.
pub fn best_matches<'a, T>(
    all: &'a [T],
    query: &str,
    limit: usize,
    key: impl Fn(&T) -> &str,
) -> (Vec<&'a T>, usize) {
    let query = lowercase(&query.split_whitespace().collect::<Vec<_>>().join(" "));
    let terms: Vec<&str> = query.split(' ').filter(|t| !t.is_empty()).collect();
    let mut found: Vec<(bool, usize, usize, &T)> = all
        .iter()
        .enumerate()
        .filter(|(_, item)| terms.iter().all(|t| key(item).contains(t)))
        .map(|(i, item)| {
            let k = key(item);
            (!k.contains(query.as_str()), k.len(), i, item)
        })
        .collect();
    let total = found.len();
    if !terms.is_empty() {
        found.sort_unstable_by_key(|(far, len, i, _)| (*far, *len, *i));
    }
    (
        found
            .into_iter()
            .take(limit)
            .map(|(.., item)| item)
            .collect(),
        total,
    )
}

#[derive(Properties, PartialEq)]
pub struct LocationPickerProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub locations: Rc<Vec<Location>>,
    pub value: Option<LocationId>,
    pub onchange: Callback<Option<LocationId>>,
    /// What choosing no location means here ("No location", "Top level").
    #[prop_or(AttrValue::Static("No location"))]
    pub none_label: AttrValue,
    /// An extra choice for "no location at all" when the plain none means "any" (filters).
    #[prop_or_default]
    pub unplaced_label: Option<AttrValue>,
    /// The extra choice is the one chosen.
    #[prop_or_default]
    pub unplaced: bool,
    #[prop_or_default]
    pub onunplaced: Callback<()>,
    /// A location that may not be chosen, with everything below it (moving a location).
    #[prop_or_default]
    pub exclude: Option<LocationId>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub node_ref: NodeRef,
}

/// One line of the list.
#[derive(Clone, Copy, PartialEq)]
enum Choice {
    Nothing,
    Unplaced,
    Location(LocationId),
}

struct Picker {
    query: String,
    open: bool,
    active: usize,
}

#[function_component(LocationPicker)]
pub fn location_picker(props: &LocationPickerProps) -> Html {
    let state = use_mut_ref(|| Picker {
        query: String::new(),
        open: false,
        active: 0,
    });
    let redraw = use_force_update();
    let entries = use_memo(
        (props.locations.clone(), props.exclude),
        |(locations, exclude)| {
            let excluded = exclude.map(|id| subtree(locations, id)).unwrap_or_default();
            locations
                .iter()
                .filter(|l| !excluded.contains(&l.id))
                .map(|l| Entry {
                    id: l.id,
                    lower: match_key(&l.path),
                    label: path_label(&l.path),
                })
                .collect::<Vec<_>>()
        },
    );

    let (query, open, active) = {
        let s = state.borrow();
        (s.query.clone(), s.open, s.active)
    };
    let terms: Vec<String> = query.split_whitespace().map(lowercase).collect();
    let label_matches = |label: &str| terms.iter().all(|t| lowercase(label).contains(t.as_str()));
    let mut options: Vec<(Choice, String)> = Vec::new();
    if label_matches(&props.none_label) {
        options.push((Choice::Nothing, props.none_label.to_string()));
    }
    if let Some(label) = props.unplaced_label.as_ref().filter(|l| label_matches(l)) {
        options.push((Choice::Unplaced, label.to_string()));
    }
    let (matched, total) = best_matches(&entries, &query, MAX_SHOWN, |e| &e.lower);
    options.extend(
        matched
            .into_iter()
            .map(|e| (Choice::Location(e.id), e.label.clone())),
    );
    let choices: Rc<Vec<Choice>> = Rc::new(options.iter().map(|(c, _)| *c).collect());
    let active = active.min(choices.len().saturating_sub(1));

    let selected = match (props.unplaced, props.value) {
        (true, _) => Choice::Unplaced,
        (false, Some(id)) => Choice::Location(id),
        (false, None) => Choice::Nothing,
    };
    let selected_label = match selected {
        Choice::Unplaced => props.unplaced_label.as_ref().map(|l| l.to_string()),
        Choice::Location(id) => entries.iter().find(|e| e.id == id).map(|e| e.label.clone()),
        Choice::Nothing => None,
    };

    let choose = {
        let state = state.clone();
        let redraw = redraw.clone();
        let onchange = props.onchange.clone();
        let onunplaced = props.onunplaced.clone();
        Callback::from(move |choice: Choice| {
            {
                let mut s = state.borrow_mut();
                s.open = false;
                s.query.clear();
                s.active = 0;
            }
            match choice {
                Choice::Nothing => onchange.emit(None),
                Choice::Location(id) => onchange.emit(Some(id)),
                Choice::Unplaced => onunplaced.emit(()),
            }
            redraw.force_update();
        })
    };
    let onfocus = {
        let state = state.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: FocusEvent| {
            {
                let mut s = state.borrow_mut();
                s.open = true;
                s.query.clear();
                s.active = 0;
            }
            let input: HtmlInputElement = e.target_unchecked_into();
            input.set_value("");
            redraw.force_update();
        })
    };
    let oninput = {
        let state = state.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            {
                let mut s = state.borrow_mut();
                s.query = input.value();
                s.open = true;
                s.active = 0;
            }
            redraw.force_update();
        })
    };
    let onblur = {
        let state = state.clone();
        let redraw = redraw.clone();
        Callback::from(move |_: FocusEvent| {
            {
                let mut s = state.borrow_mut();
                s.open = false;
                s.query.clear();
            }
            redraw.force_update();
        })
    };
    let onkeydown = {
        let state = state.clone();
        let redraw = redraw.clone();
        let choose = choose.clone();
        let choices = choices.clone();
        Callback::from(move |e: KeyboardEvent| {
            let last = choices.len().saturating_sub(1);
            let key = e.key();
            let mut s = state.borrow_mut();
            match key.as_str() {
                "ArrowDown" => {
                    e.prevent_default();
                    if s.open {
                        s.active = (s.active + 1).min(last);
                    }
                    s.open = true;
                }
                "ArrowUp" => {
                    e.prevent_default();
                    s.active = s.active.saturating_sub(1);
                }
                "Enter" if s.open => {
                    e.prevent_default();
                    let index = s.active.min(last);
                    drop(s);
                    if let Some(choice) = choices.get(index) {
                        choose.emit(*choice);
                    }
                    return;
                }
                "Escape" if s.open => {
                    e.prevent_default();
                    s.open = false;
                    s.query.clear();
                }
                _ => return,
            }
            drop(s);
            redraw.force_update();
        })
    };

    let id = props.id.to_string();
    let list_id = format!("{id}-list");
    let invalid = props.error.is_some();
    let describedby: Vec<String> = [
        props.hint.as_ref().map(|_| format!("{id}-hint")),
        props.error.as_ref().map(|_| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let shown_value = if open {
        query.clone()
    } else {
        selected_label.clone().unwrap_or_default()
    };
    let placeholder = selected_label.unwrap_or_else(|| props.none_label.to_string());
    let more = total.saturating_sub(MAX_SHOWN);

    html! {
        <div class={classes!("field", "combobox", props.class.clone(), invalid.then_some("field-invalid"))}>
            <label for={id.clone()}>{ props.label.clone() }</label>
            <div class="combobox-wrap">
                <input
                    id={id.clone()}
                    ref={props.node_ref.clone()}
                    type="text"
                    role="combobox"
                    autocomplete="off"
                    spellcheck="false"
                    aria-autocomplete="list"
                    aria-expanded={if open { "true" } else { "false" }}
                    aria-controls={list_id.clone()}
                    aria-activedescendant={open.then(|| format!("{id}-opt-{active}"))}
                    aria-invalid={invalid.then_some("true")}
                    aria-describedby={(!describedby.is_empty()).then(|| describedby.join(" "))}
                    value={shown_value}
                    placeholder={placeholder}
                    {onfocus}
                    {oninput}
                    {onblur}
                    {onkeydown}
                />
                <svg class="combobox-chevron" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
                    <path d="M5 8l5 5 5-5" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>
                </svg>
            </div>
            if open {
                <ul class="listbox" id={list_id} role="listbox" aria-label={format!("{} options", props.label)}>
                    { for options.iter().enumerate().map(|(i, (choice, label))| {
                        let choice = *choice;
                        let onmousedown = {
                            let choose = choose.clone();
                            Callback::from(move |e: MouseEvent| {
                                e.prevent_default();
                                choose.emit(choice);
                            })
                        };
                        let special = !matches!(choice, Choice::Location(_));
                        html! {
                            <li
                                id={format!("{id}-opt-{i}")}
                                role="option"
                                class={classes!("option", (i == active).then_some("active"), special.then_some("option-none"))}
                                aria-selected={if i == active { "true" } else { "false" }}
                                {onmousedown}
                            >
                                { label.clone() }
                                if choice == selected { <span class="option-check" aria-hidden="true">{ "✓" }</span> }
                            </li>
                        }
                    }) }
                    if options.is_empty() {
                        <li class="option-empty" role="presentation">{ "No location matches" }</li>
                    }
                    if more > 0 {
                        <li class="option-more" role="presentation">
                            { format!("{more} more — keep typing to narrow the list") }
                        </li>
                    }
                </ul>
            }
            if let Some(hint) = &props.hint {
                <p class="field-hint" id={format!("{id}-hint")}>{ hint.clone() }</p>
            }
            if let Some(error) = &props.error {
                <p class="field-error" id={format!("{id}-error")}>{ error.clone() }</p>
            }
        </div>
    }
}

/// `id` and every location below it.
fn subtree(locations: &[Location], id: LocationId) -> HashSet<LocationId> {
    let mut children: HashMap<LocationId, Vec<LocationId>> = HashMap::new();
    for l in locations {
        if let Some(parent) = l.parent_id {
            children.entry(parent).or_default().push(l.id);
        }
    }
    let mut out = HashSet::from([id]);
    let mut stack = vec![id];
    while let Some(next) = stack.pop() {
        for kid in children.get(&next).into_iter().flatten() {
            if out.insert(*kid) {
                stack.push(*kid);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_must_match_and_the_path_as_typed_ranks_first() {
        let paths = [
            "room 3 shelf 12",
            "room 12 shelf 30",
            "room 12 shelf 3",
            "kitchen drawer",
        ];
        let (found, total) = best_matches(&paths, "Room 12  shelf 3", 10, |p| p);
        assert_eq!(total, 3);
        assert_eq!(
            found,
            vec![&"room 12 shelf 3", &"room 12 shelf 30", &"room 3 shelf 12"]
        );
        let (found, total) = best_matches(&paths, "shelf", 1, |p| p);
        assert_eq!((found.len(), total), (1, 3));
    }
}

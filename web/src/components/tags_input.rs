//! Tags as chips, with suggestions from the household's existing tags.

use std::rc::Rc;

use shared::{TagCount, lowercase, normalize_tags};
use web_sys::{HtmlInputElement, KeyboardEvent};
use yew::prelude::*;

const MAX_SUGGESTIONS: usize = 8;

#[derive(Properties, PartialEq)]
pub struct TagsInputProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub tags: Vec<String>,
    pub suggestions: Rc<Vec<TagCount>>,
    pub onchange: Callback<Vec<String>>,
    #[prop_or_default]
    pub error: Option<String>,
}

#[function_component(TagsInput)]
pub fn tags_input(props: &TagsInputProps) -> Html {
    let text = use_state(String::new);
    let open = use_state(|| false);
    let active = use_state(|| None::<usize>);

    let lower = lowercase(text.trim());
    let mut matches: Vec<&TagCount> = props
        .suggestions
        .iter()
        .filter(|t| {
            lowercase(&t.name).contains(&lower)
                && !props.tags.iter().any(|c| c.eq_ignore_ascii_case(&t.name))
        })
        .collect();
    matches.sort_by(|a, b| {
        let a_prefix = lowercase(&a.name).starts_with(&lower);
        let b_prefix = lowercase(&b.name).starts_with(&lower);
        b_prefix
            .cmp(&a_prefix)
            .then(b.item_count.cmp(&a.item_count))
            .then(a.name.cmp(&b.name))
    });
    matches.truncate(MAX_SUGGESTIONS);
    let names: Rc<Vec<String>> = Rc::new(matches.iter().map(|t| t.name.clone()).collect());

    let add = {
        let tags = props.tags.clone();
        let onchange = props.onchange.clone();
        let text = text.clone();
        let active = active.clone();
        Callback::from(move |raw: String| {
            let mut next = tags.clone();
            next.extend(raw.split(',').map(str::to_string));
            if let Ok(next) = normalize_tags(&next) {
                onchange.emit(next);
            } else {
                // Too long or too many: keep the text so the form's check explains why.
                onchange.emit(
                    tags.iter()
                        .cloned()
                        .chain(std::iter::once(raw.trim().to_string()))
                        .collect(),
                );
            }
            text.set(String::new());
            active.set(None);
        })
    };
    let remove = {
        let tags = props.tags.clone();
        let onchange = props.onchange.clone();
        Callback::from(move |tag: String| {
            onchange.emit(tags.iter().filter(|t| **t != tag).cloned().collect());
        })
    };

    let oninput = {
        let text = text.clone();
        let open = open.clone();
        let active = active.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            text.set(input.value());
            open.set(true);
            active.set(None);
        })
    };
    let onkeydown = {
        let text = text.clone();
        let add = add.clone();
        let remove = remove.clone();
        let tags = props.tags.clone();
        let names = names.clone();
        let active = active.clone();
        let open = open.clone();
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Enter" | "," => {
                let chosen = active.and_then(|i| names.get(i).cloned());
                if let Some(name) = chosen {
                    e.prevent_default();
                    add.emit(name);
                } else if !text.trim().is_empty() {
                    e.prevent_default();
                    add.emit((*text).clone());
                } else if e.key() == "," {
                    e.prevent_default();
                }
            }
            "Backspace" if text.is_empty() => {
                if let Some(last) = tags.last() {
                    remove.emit(last.clone());
                }
            }
            "ArrowDown" if !names.is_empty() => {
                e.prevent_default();
                open.set(true);
                active.set(Some(active.map_or(0, |i| (i + 1).min(names.len() - 1))));
            }
            "ArrowUp" if !names.is_empty() => {
                e.prevent_default();
                active.set(active.and_then(|i| i.checked_sub(1)));
            }
            "Escape" => {
                open.set(false);
                active.set(None);
            }
            _ => {}
        })
    };
    let onfocus = {
        let open = open.clone();
        Callback::from(move |_: FocusEvent| open.set(true))
    };
    let onblur = {
        let open = open.clone();
        let text = text.clone();
        let add = add.clone();
        Callback::from(move |_: FocusEvent| {
            open.set(false);
            if !text.trim().is_empty() {
                add.emit((*text).clone());
            }
        })
    };

    let id = props.id.to_string();
    let list_id = format!("{id}-suggestions");
    let show = *open && !names.is_empty();
    let invalid = props.error.is_some();
    html! {
        <div class={classes!("field", "tags-field", invalid.then_some("field-invalid"))}>
            <label for={id.clone()}>{ props.label.clone() }</label>
            <div class="tags-box">
                { for props.tags.iter().map(|tag| {
                    let onclick = {
                        let remove = remove.clone();
                        let tag = tag.clone();
                        Callback::from(move |_: MouseEvent| remove.emit(tag.clone()))
                    };
                    html! {
                        <span class="chip" key={tag.clone()}>
                            { tag.clone() }
                            <button type="button" class="chip-remove" aria-label={format!("Remove tag {tag}")} {onclick}>
                                <svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="M4 4l8 8M12 4l-8 8" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                            </button>
                        </span>
                    }
                }) }
                <input
                    id={id.clone()}
                    type="text"
                    role="combobox"
                    autocomplete="off"
                    aria-autocomplete="list"
                    aria-expanded={if show { "true" } else { "false" }}
                    aria-controls={list_id.clone()}
                    aria-activedescendant={active.filter(|_| show).map(|i| format!("{id}-tag-{i}"))}
                    aria-describedby={format!("{id}-hint{}", if invalid { format!(" {id}-error") } else { String::new() })}
                    aria-invalid={invalid.then_some("true")}
                    placeholder={if props.tags.is_empty() { "Add a tag" } else { "" }}
                    value={(*text).clone()}
                    {oninput}
                    {onkeydown}
                    {onfocus}
                    {onblur}
                />
            </div>
            if show {
                <ul class="listbox" id={list_id} role="listbox" aria-label="Tag suggestions">
                    { for matches.iter().enumerate().map(|(i, tag)| {
                        let onmousedown = {
                            let add = add.clone();
                            let name = tag.name.clone();
                            Callback::from(move |e: MouseEvent| {
                                e.prevent_default();
                                add.emit(name.clone());
                            })
                        };
                        html! {
                            <li id={format!("{id}-tag-{i}")} role="option"
                                class={classes!("option", (*active == Some(i)).then_some("active"))}
                                aria-selected={if *active == Some(i) { "true" } else { "false" }}
                                {onmousedown}>
                                { tag.name.clone() }
                                <span class="option-count">{ tag.item_count }</span>
                            </li>
                        }
                    }) }
                </ul>
            }
            <p class="field-hint" id={format!("{id}-hint")}>{ "Press Enter or comma to add a tag." }</p>
            if let Some(error) = &props.error {
                <p class="field-error" id={format!("{id}-error")}>{ error.clone() }</p>
            }
        </div>
    }
}

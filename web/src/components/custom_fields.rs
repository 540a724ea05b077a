//! Free-form "name: value" pairs of an item (paint colour, size, PIN of the safe…).

use web_sys::HtmlInputElement;
use yew::prelude::*;

/// One row being edited; `key` keeps rows stable while they are added and removed.
#[derive(Clone, Debug, PartialEq)]
pub struct CustomRow {
    pub key: u32,
    pub name: String,
    pub value: String,
}

#[derive(Properties, PartialEq)]
pub struct CustomFieldsProps {
    pub rows: Vec<CustomRow>,
    pub onchange: Callback<Vec<CustomRow>>,
    #[prop_or_default]
    pub error: Option<String>,
}

#[function_component(CustomFieldsEditor)]
pub fn custom_fields_editor(props: &CustomFieldsProps) -> Html {
    let update = |index: usize, name_part: bool| {
        let rows = props.rows.clone();
        let onchange = props.onchange.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let mut rows = rows.clone();
            if let Some(row) = rows.get_mut(index) {
                if name_part {
                    row.name = input.value();
                } else {
                    row.value = input.value();
                }
            }
            onchange.emit(rows);
        })
    };
    let add = {
        let rows = props.rows.clone();
        let onchange = props.onchange.clone();
        Callback::from(move |_: MouseEvent| {
            let mut rows = rows.clone();
            let key = rows.iter().map(|r| r.key + 1).max().unwrap_or(0);
            rows.push(CustomRow {
                key,
                name: String::new(),
                value: String::new(),
            });
            onchange.emit(rows);
        })
    };
    let invalid = props.error.is_some();
    html! {
        <fieldset class={classes!("custom-fields", invalid.then_some("field-invalid"))}
            aria-describedby={invalid.then_some("custom-fields-error")}>
            <legend>{ "Custom fields" }</legend>
            if props.rows.is_empty() {
                <p class="muted small">{ "Anything else worth recording: size, colour, PIN, where the manual is." }</p>
            }
            { for props.rows.iter().enumerate().map(|(i, row)| {
                let n = i + 1;
                let remove = {
                    let rows = props.rows.clone();
                    let onchange = props.onchange.clone();
                    let key = row.key;
                    Callback::from(move |_: MouseEvent| {
                        onchange.emit(rows.iter().filter(|r| r.key != key).cloned().collect());
                    })
                };
                html! {
                    <div class="custom-row" key={row.key}>
                        <div class="field">
                            <label for={format!("custom-{}-name", row.key)} class="visually-hidden">{ format!("Custom field {n} name") }</label>
                            <input id={format!("custom-{}-name", row.key)} type="text" placeholder="Field"
                                value={row.name.clone()} oninput={update(i, true)} />
                        </div>
                        <div class="field">
                            <label for={format!("custom-{}-value", row.key)} class="visually-hidden">{ format!("Custom field {n} value") }</label>
                            <input id={format!("custom-{}-value", row.key)} type="text" placeholder="Value"
                                value={row.value.clone()} oninput={update(i, false)} />
                        </div>
                        <button type="button" class="icon-button" aria-label={format!("Remove custom field {n}")} onclick={remove}>
                            <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M5 5l10 10M15 5L5 15" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                        </button>
                    </div>
                }
            }) }
            <button type="button" class="button button-ghost button-small" onclick={add}>{ "+ Add custom field" }</button>
            if let Some(error) = &props.error {
                <p class="field-error" id="custom-fields-error">{ error.clone() }</p>
            }
        </fieldset>
    }
}

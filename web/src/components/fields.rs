//! Labelled form controls that show their field's error beside them.

use shared::{Money, format_amount};
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct TextInputProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    #[prop_or_default]
    pub inputmode: Option<AttrValue>,
    #[prop_or_default]
    pub placeholder: Option<AttrValue>,
    #[prop_or_default]
    pub hint: Option<AttrValue>,
    /// Shown after the input, like a currency code.
    #[prop_or_default]
    pub suffix: Option<AttrValue>,
    #[prop_or_default]
    pub required: bool,
    #[prop_or_default]
    pub class: Classes,
    #[prop_or_default]
    pub node_ref: NodeRef,
}

/// `aria-describedby` for a control with an optional hint and error.
fn described_by(id: &str, hint: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [
        hint.then(|| format!("{id}-hint")),
        error.then(|| format!("{id}-error")),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn hint_and_error(id: &str, hint: Option<&AttrValue>, error: Option<&String>) -> Html {
    html! {
        <>
            if let Some(hint) = hint {
                <p class="field-hint" id={format!("{id}-hint")}>{ hint.clone() }</p>
            }
            if let Some(error) = error {
                <p class="field-error" id={format!("{id}-error")}>{ error.clone() }</p>
            }
        </>
    }
}

#[function_component(TextInput)]
pub fn text_input(props: &TextInputProps) -> Html {
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            cb.emit(input.value());
        })
    };
    let id = props.id.to_string();
    let invalid = props.error.is_some();
    html! {
        <div class={classes!("field", props.class.clone(), invalid.then_some("field-invalid"))}>
            <label for={id.clone()}>{ props.label.clone() }</label>
            <div class={classes!("input-wrap", props.suffix.is_some().then_some("has-suffix"))}>
                <input
                    id={id.clone()}
                    ref={props.node_ref.clone()}
                    type={props.kind.clone()}
                    value={props.value.clone()}
                    {oninput}
                    autocomplete={props.autocomplete.clone()}
                    inputmode={props.inputmode.clone()}
                    placeholder={props.placeholder.clone()}
                    required={props.required}
                    aria-invalid={invalid.then_some("true")}
                    aria-describedby={described_by(&id, props.hint.is_some(), invalid)}
                />
                if let Some(suffix) = &props.suffix {
                    <span class="input-suffix" aria-hidden="true">{ suffix.clone() }</span>
                }
            </div>
            { hint_and_error(&id, props.hint.as_ref(), props.error.as_ref()) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct TextAreaProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub oninput: Callback<String>,
    #[prop_or_default]
    pub error: Option<String>,
    #[prop_or(3)]
    pub rows: u32,
    #[prop_or_default]
    pub class: Classes,
}

#[function_component(TextArea)]
pub fn text_area(props: &TextAreaProps) -> Html {
    let oninput = {
        let cb = props.oninput.clone();
        Callback::from(move |e: InputEvent| {
            let input: HtmlTextAreaElement = e.target_unchecked_into();
            cb.emit(input.value());
        })
    };
    let id = props.id.to_string();
    let invalid = props.error.is_some();
    html! {
        <div class={classes!("field", props.class.clone(), invalid.then_some("field-invalid"))}>
            <label for={id.clone()}>{ props.label.clone() }</label>
            <textarea
                id={id.clone()}
                rows={props.rows.to_string()}
                value={props.value.clone()}
                {oninput}
                aria-invalid={invalid.then_some("true")}
                aria-describedby={described_by(&id, false, invalid)}
            />
            { hint_and_error(&id, None, props.error.as_ref()) }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SelectFieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    /// (value, text) pairs.
    pub options: Vec<(String, String)>,
    pub value: AttrValue,
    pub onchange: Callback<String>,
    #[prop_or_default]
    pub class: Classes,
}

#[function_component(SelectField)]
pub fn select_field(props: &SelectFieldProps) -> Html {
    let onchange = {
        let cb = props.onchange.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            cb.emit(select.value());
        })
    };
    html! {
        <div class={classes!("field", props.class.clone())}>
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <select id={props.id.clone()} {onchange}>
                { for props.options.iter().map(|(value, text)| html! {
                    <option value={value.clone()} selected={*value == *props.value}>{ text.clone() }</option>
                }) }
            </select>
        </div>
    }
}

/// The field errors of a refused save, with a taken asset number (409 `conflict`, whose
/// message names what has it) shown at the asset id field like any other field error.
pub fn field_errors_with_asset_id(error: &shared::ErrorBody) -> shared::FieldErrors {
    let mut errors = error.field_errors();
    let about_asset_id = error
        .error
        .details
        .as_ref()
        .is_some_and(|d| d.get("asset_id").is_some())
        || error.error.message.to_lowercase().contains("asset id");
    if error.error.code == shared::ErrorCode::Conflict && about_asset_id {
        errors.insert("asset_id".into(), error.error.message.clone());
    }
    errors
}

/// The server's field errors of a refused form as the form shows them: each message
/// after its field's label ("Name is too long."), only for the fields in `labels`.
pub fn labelled_field_errors(
    error: &shared::ErrorBody,
    labels: &[(&str, &str)],
) -> shared::FieldErrors {
    error
        .field_errors()
        .into_iter()
        .filter_map(|(field, problem)| {
            let (_, label) = labels.iter().find(|(name, _)| *name == field)?;
            Some((field, format!("{label} {problem}.")))
        })
        .collect()
}

/// An amount as it is typed into a money field: "1,299.99".
pub fn amount_text(money: Option<&Money>) -> String {
    money
        .map(|m| {
            format_amount(m.amount_minor, &m.currency)
                .trim_end_matches(m.currency.as_str())
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

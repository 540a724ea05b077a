use shared::{CreateHousehold, Currency, ErrorBody, FieldErrors, parse_name};
use web_sys::SubmitEvent;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, SelectField, TextInput};
use crate::hooks::{SessionAction, use_session, use_title};

const CURRENCIES: [(&str, &str); 12] = [
    ("USD", "US dollar"),
    ("EUR", "Euro"),
    ("GBP", "Pound sterling"),
    ("CAD", "Canadian dollar"),
    ("AUD", "Australian dollar"),
    ("CHF", "Swiss franc"),
    ("JPY", "Japanese yen"),
    ("SEK", "Swedish krona"),
    ("NOK", "Norwegian krone"),
    ("DKK", "Danish krone"),
    ("NZD", "New Zealand dollar"),
    ("INR", "Indian rupee"),
];

#[derive(Properties, PartialEq)]
pub struct NewHouseholdProps {
    /// The person has no household yet.
    #[prop_or_default]
    pub first: bool,
}

#[function_component(NewHousehold)]
pub fn new_household(props: &NewHouseholdProps) -> Html {
    use_title("New household");
    let session = use_session();
    let navigator = use_navigator();
    let name = use_state(String::new);
    let currency = use_state(|| "USD".to_string());
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);

    let onsubmit = {
        let (name, currency, errors, error, busy) = (
            name.clone(),
            currency.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
        );
        let session = session.clone();
        let navigator = navigator.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_name(&name, 100) {
                found.insert("name".into(), format!("Name {m}"));
            }
            if let Err(m) = Currency::parse(&currency) {
                found.insert("currency".into(), format!("Currency {m}"));
            }
            errors.set(found.clone());
            if !found.is_empty() {
                return;
            }
            let body = CreateHousehold {
                name: name.trim().to_string(),
                currency: Some((*currency).clone()),
            };
            let (errors, error, busy, session, navigator) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                session.clone(),
                navigator.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::create_household(&body).await {
                    Ok(household) => {
                        session.dispatch(SessionAction::HouseholdCreated(household));
                        if let Some(nav) = &navigator {
                            nav.push(&Route::Dashboard);
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        errors.set(e.field_errors());
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let options: Vec<(String, String)> = CURRENCIES
        .iter()
        .map(|(code, name)| (code.to_string(), format!("{code} — {name}")))
        .collect();

    html! {
        <section class="page narrow">
            <header class="page-header">
                <h1>{ if props.first { "Create your household" } else { "New household" } }</h1>
            </header>
            <p class="muted">{ "A household is what you share: its locations, items and their values. Values are kept in one currency." }</p>
            <ErrorAlert error={(*error).clone()} />
            <form class="card stack" {onsubmit} novalidate=true>
                <TextInput id="household-name" label="Household name" value={(*name).clone()}
                    oninput={let name = name.clone(); Callback::from(move |v| name.set(v))}
                    error={errors.get("name").cloned()} required=true />
                <SelectField id="household-currency" label="Currency" options={options}
                    value={(*currency).clone()}
                    onchange={let currency = currency.clone(); Callback::from(move |v| currency.set(v))} />
                <div class="form-actions">
                    <button type="submit" class="button button-primary" disabled={*busy}>{ "Create household" }</button>
                </div>
            </form>
        </section>
    }
}

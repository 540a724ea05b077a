//! Personal API tokens: for scripts and other programs (Home Assistant, a spreadsheet, a
//! barcode scanner) to use the inventory through the API. Made here, shown once, listed
//! with their last use, and revoked.

use shared::{
    ApiToken, CreateToken, ErrorBody, FieldErrors, Household, MAX_TOKEN_DAYS, NewToken, TokenId,
    TokenScope, parse_token_days, parse_token_name,
};
use time::OffsetDateTime;
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;

use super::members::copy_or_select;
use crate::api;
use crate::components::{ErrorAlert, SelectField, TextInput, labelled_field_errors};
use crate::format;
use crate::hooks::{SessionAction, use_session, use_title};

/// "Read only", "Read and write".
pub fn scope_name(scope: TokenScope) -> &'static str {
    match scope {
        TokenScope::Read => "Read only",
        TokenScope::Write => "Read and write",
    }
}

/// The household a token is limited to, by name; all of them when it is not limited.
pub fn household_name(token: &ApiToken, households: &[Household]) -> String {
    match token.household_id {
        None => "All households".into(),
        Some(id) => households
            .iter()
            .find(|h| h.id == id)
            .map(|h| h.name.clone())
            .unwrap_or_else(|| "A household you no longer belong to".into()),
    }
}

/// The "Expires after" field: a whole number of days, 1 to 366.
pub fn parse_days(raw: &str) -> Result<i64, String> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .and_then(|n| parse_token_days(Some(n)).ok())
        .ok_or_else(|| format!("Expiry must be a whole number of days from 1 to {MAX_TOKEN_DAYS}."))
}

fn now() -> OffsetDateTime {
    let nanos = js_sys::Date::now() as i128 * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[function_component(Tokens)]
pub fn tokens() -> Html {
    use_title("API tokens");
    let session = use_session();
    let tokens = use_state(|| None::<Vec<ApiToken>>);
    let error = use_state(|| None::<ErrorBody>);
    let confirm = use_state(|| None::<TokenId>);
    let busy = use_state(|| false);

    {
        let (tokens, error) = (tokens.clone(), error.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::tokens().await {
                    Ok(list) => tokens.set(Some(list.items)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let ask = |id: Option<TokenId>| {
        let confirm = confirm.clone();
        Callback::from(move |_: MouseEvent| confirm.set(id))
    };
    let revoke = |token: &ApiToken| {
        let (tokens, error, confirm, busy, session) = (
            tokens.clone(),
            error.clone(),
            confirm.clone(),
            busy.clone(),
            session.clone(),
        );
        let (id, name) = (token.id, token.name.clone());
        Callback::from(move |_: MouseEvent| {
            let (tokens, error, confirm, busy, session, name) = (
                tokens.clone(),
                error.clone(),
                confirm.clone(),
                busy.clone(),
                session.clone(),
                name.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::revoke_token(id).await;
                busy.set(false);
                confirm.set(None);
                match result {
                    Ok(()) => {
                        error.set(None);
                        if let Some(list) = &*tokens {
                            let mut list = list.clone();
                            list.retain(|t| t.id != id);
                            tokens.set(Some(list));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: format!("Token “{name}” revoked: it no longer works"),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_created = {
        let tokens = tokens.clone();
        Callback::from(move |token: ApiToken| {
            let mut list = (*tokens).clone().unwrap_or_default();
            list.insert(0, token);
            tokens.set(Some(list));
        })
    };

    let now = now();
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ "Your account" }</p>
                    <h1>{ "API tokens" }</h1>
                    <p class="muted">
                        { "A token lets a script or another program use your inventory through the API, as you, within the limits you give it. " }
                        <a href="/api/docs">{ "Read the API docs" }</a>
                    </p>
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            <TokenForm households={session.households.clone()} {on_created} />
            <section class="card" aria-labelledby="tokens-heading">
                <div class="card-header">
                    <h2 id="tokens-heading">{ "Your tokens" }</h2>
                </div>
                { match &*tokens {
                    None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                    None => html! {},
                    Some(list) if list.is_empty() => html! {
                        <p class="muted">{ "No tokens yet. Programs you give one to can use the API until it expires or you revoke it." }</p>
                    },
                    Some(list) => html! {
                        <ul class="token-list" aria-label="API tokens">
                            { for list.iter().map(|token| {
                                let confirming = *confirm == Some(token.id);
                                let about = format!("token-{}", token.id);
                                let confirm_id = format!("confirm-{}", token.id);
                                let expired = token.expires_at <= now;
                                let last_used = token
                                    .last_used_at
                                    .map_or_else(|| "never".to_string(), format::relative);
                                html! {
                                    <li class="token-row" key={token.id.to_string()}>
                                        <div class="token-main" id={about.clone()}>
                                            <span class="token-name">
                                                { token.name.clone() }
                                                if expired {
                                                    <span class="badge badge-warn">{ "Expired" }</span>
                                                }
                                            </span>
                                            <span class="member-meta">
                                                { format!("{} · {} · ends …{}",
                                                    scope_name(token.scope),
                                                    household_name(token, &session.households),
                                                    token.hint) }
                                            </span>
                                            <span class="member-meta">
                                                { format!("Created {} · {} {} · last used {last_used}",
                                                    format::relative(token.created_at),
                                                    if expired { "expired" } else { "expires" },
                                                    format::date_time(token.expires_at)) }
                                            </span>
                                        </div>
                                        <button type="button" class="button button-danger-ghost button-small"
                                            aria-label={format!("Revoke {}", token.name)}
                                            aria-describedby={about}
                                            aria-expanded={confirming.to_string()}
                                            onclick={ask((!confirming).then_some(token.id))}>
                                            { "Revoke" }
                                        </button>
                                        if confirming {
                                            <div class="confirm member-confirm" role="group" aria-labelledby={confirm_id.clone()}>
                                                <p id={confirm_id}>
                                                    <strong>{ format!("Revoke “{}”?", token.name) }</strong>
                                                    { " Programs using it are refused from their next request. This can't be undone." }
                                                </p>
                                                <div class="row-actions">
                                                    <button type="button" class="button button-ghost" onclick={ask(None)}>{ "Cancel" }</button>
                                                    <button type="button" class="button button-danger" onclick={revoke(token)} disabled={*busy}>{ "Revoke token" }</button>
                                                </div>
                                            </div>
                                        }
                                    </li>
                                }
                            }) }
                        </ul>
                    },
                } }
            </section>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct TokenFormProps {
    households: Vec<Household>,
    on_created: Callback<ApiToken>,
}

/// Makes a token and shows its secret, once.
#[function_component(TokenForm)]
fn token_form(props: &TokenFormProps) -> Html {
    let name = use_state(String::new);
    let scope = use_state(|| TokenScope::Read);
    let household = use_state(String::new);
    let days = use_state(|| "90".to_string());
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let created = use_state(|| None::<NewToken>);
    let copied = use_state(String::new);
    let secret_ref = use_node_ref();

    let onsubmit = {
        let (name, scope, household, days, errors, error, busy, created, copied) = (
            name.clone(),
            scope.clone(),
            household.clone(),
            days.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            created.clone(),
            copied.clone(),
        );
        let on_created = props.on_created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_token_name(&name) {
                found.insert("name".into(), format!("Name {m}."));
            }
            let expiry = parse_days(&days);
            if let Err(m) = &expiry {
                found.insert("expires_in_days".into(), m.clone());
            }
            errors.set(found.clone());
            let (true, Ok(expiry)) = (found.is_empty(), expiry) else {
                return;
            };
            let body = CreateToken {
                name: name.trim().to_string(),
                scope: *scope,
                household_id: household.parse().ok(),
                expires_in_days: Some(expiry),
            };
            let (name, errors, error, busy, created, copied, on_created) = (
                name.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                created.clone(),
                copied.clone(),
                on_created.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::create_token(&body).await;
                busy.set(false);
                match result {
                    Ok(made) => {
                        error.set(None);
                        copied.set(String::new());
                        name.set(String::new());
                        on_created.emit(made.token_info.clone());
                        created.set(Some(made));
                    }
                    Err(e) => {
                        errors.set(labelled_field_errors(
                            &e,
                            &[
                                ("name", "Name"),
                                ("household_id", "Household"),
                                ("expires_in_days", "Expiry"),
                            ],
                        ));
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let copy = {
        let (created, copied, secret_ref) = (created.clone(), copied.clone(), secret_ref.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(secret) = created.as_ref().map(|t| t.token.clone()) else {
                return;
            };
            copy_or_select(
                secret,
                secret_ref.clone(),
                copied.clone(),
                "Token copied. Paste it into the program that will use it.",
                "token",
            );
        })
    };
    let dismiss = {
        let created = created.clone();
        Callback::from(move |_: MouseEvent| created.set(None))
    };
    let select_all = Callback::from(|e: FocusEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.select();
    });
    let pick_scope = |value: TokenScope| {
        let scope = scope.clone();
        Callback::from(move |_: Event| scope.set(value))
    };

    let mut household_options = vec![(String::new(), "All my households".to_string())];
    household_options.extend(
        props
            .households
            .iter()
            .map(|h| (h.id.to_string(), h.name.clone())),
    );

    html! {
        <section class="card token-form" aria-labelledby="new-token-heading">
            <h2 id="new-token-heading">{ "New token" }</h2>
            <form class="token-fields" {onsubmit} novalidate=true>
                <TextInput id="token-name" label="Name" value={(*name).clone()}
                    hint="What will use it, like “Home Assistant”."
                    oninput={let name = name.clone(); Callback::from(move |v| name.set(v))}
                    error={errors.get("name").cloned()} required=true />
                <fieldset class="field token-scope" aria-describedby="token-scope-hint">
                    <legend>{ "Access" }</legend>
                    <div class="radio-row">
                        { for [TokenScope::Read, TokenScope::Write].into_iter().map(|value| html! {
                            <label class="radio">
                                <input type="radio" name="token-scope" value={value.as_str()}
                                    checked={*scope == value} onchange={pick_scope(value)} />
                                { scope_name(value) }
                            </label>
                        }) }
                    </div>
                    <p class="field-hint" id="token-scope-hint">
                        { "A read-only token can look things up but change nothing. Either way, it can do no more than your role in a household allows." }
                    </p>
                </fieldset>
                <div class="field-with-hint">
                    <SelectField id="token-household" label="Households it can use" options={household_options}
                        value={(*household).clone()}
                        onchange={let household = household.clone(); Callback::from(move |v| household.set(v))} />
                    if let Some(problem) = errors.get("household_id") {
                        <p class="field-error">{ problem.clone() }</p>
                    }
                </div>
                <TextInput id="token-days" label="Expires after (days)" kind="number" inputmode="numeric"
                    value={(*days).clone()} hint={format!("1 to {MAX_TOKEN_DAYS} days.")}
                    oninput={let days = days.clone(); Callback::from(move |v| days.set(v))}
                    error={errors.get("expires_in_days").cloned()} />
                <div class="token-submit">
                    <button type="submit" class="button button-primary" disabled={*busy}>{ "Create token" }</button>
                </div>
            </form>
            <ErrorAlert error={(*error).clone()} />
            if let Some(made) = &*created {
                <div class="invite-link token-secret">
                    <div class="field">
                        <label for="token-secret">{ format!("Your new token “{}”", made.token_info.name) }</label>
                        <div class="copy-row">
                            <input id="token-secret" type="text" readonly=true value={made.token.clone()}
                                ref={secret_ref} onfocus={select_all} aria-describedby="token-secret-hint"
                                autocomplete="off" spellcheck="false" />
                            <button type="button" class="button button-secondary" onclick={copy}>{ "Copy token" }</button>
                        </div>
                        <p class="field-hint token-warning" id="token-secret-hint">
                            <strong>{ "Copy it now: it won't be shown again." }</strong>
                            { format!(" Anyone who has it can use the API as you ({}) until {}. Send it as “Authorization: Bearer …”.",
                                scope_name(made.token_info.scope).to_lowercase(),
                                format::date_time(made.token_info.expires_at)) }
                        </p>
                    </div>
                    <p class="copy-status" role="status">{ (*copied).clone() }</p>
                    <div class="row-actions">
                        <button type="button" class="button button-ghost button-small" onclick={dismiss}>{ "Done" }</button>
                    </div>
                </div>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_a_whole_number_of_days_up_to_366() {
        assert_eq!(parse_days(" 90 "), Ok(90));
        assert_eq!(parse_days("1"), Ok(1));
        assert_eq!(parse_days("366"), Ok(366));
        for bad in ["", "0", "367", "-3", "1.5", "soon"] {
            assert!(parse_days(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn scopes_read_as_what_they_allow() {
        assert_eq!(scope_name(TokenScope::Read), "Read only");
        assert_eq!(scope_name(TokenScope::Write), "Read and write");
    }
}

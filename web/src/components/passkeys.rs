//! The account's passkeys: added, named, removed; and "Sign in with a passkey".
//!
//! The browser does the WebAuthn part: the server's options go through
//! `PublicKeyCredential.parseCreationOptionsFromJSON` (or `…RequestOptionsFromJSON`) to
//! `navigator.credentials.create` (or `.get`), and the credential's `toJSON()` goes back to
//! the server as it is. Called through `js_sys::Reflect`, so a browser without these
//! functions is told it cannot use passkeys instead of failing.

use js_sys::{Function, JSON, Object, Promise, Reflect};
use serde::de::DeserializeOwned;
use shared::{
    ErrorBody, FieldErrors, FinishPasskeyRegistration, Passkey, PasskeyAssertion, PasskeyChallenge,
    PasskeyId, PasskeyList, RenamePasskey, UserResponse, parse_passkey_name,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::SubmitEvent;
use yew::prelude::*;

use crate::api::{self, Method};
use crate::components::{ErrorAlert, TextInput};
use crate::format;
use crate::hooks::{SessionAction, load_session, use_session};

// ---------------------------------------------------------------- the API

async fn post<T: DeserializeOwned>(path: &str, body: Option<String>) -> api::ApiResult<T> {
    api::request(Method::Post, path, body, None).await
}

fn json(body: &impl serde::Serialize) -> Option<String> {
    serde_json::to_string(body).ok()
}

// ---------------------------------------------------------------- the browser

/// How asking the browser for a passkey ended, when it gave none.
#[derive(Clone, Debug, PartialEq)]
enum BrowserRefusal {
    /// No WebAuthn, or not the JSON helpers.
    Unsupported,
    /// The person closed the dialog, or it timed out.
    Cancelled,
    /// The authenticator already holds a passkey of this account.
    AlreadyRegistered,
    Failed(String),
}

impl BrowserRefusal {
    fn message(&self) -> String {
        match self {
            Self::Unsupported => "This browser cannot use passkeys.".into(),
            Self::Cancelled => {
                "No passkey was used: the request was cancelled. Nothing changed.".into()
            }
            Self::AlreadyRegistered => {
                "This device already has a passkey for your account. Nothing changed.".into()
            }
            Self::Failed(why) => format!("The browser could not use a passkey: {why}"),
        }
    }
}

fn js_error(e: &JsValue) -> BrowserRefusal {
    let name = Reflect::get(e, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "AbortError" => BrowserRefusal::Cancelled,
        "InvalidStateError" => BrowserRefusal::AlreadyRegistered,
        "NotSupportedError" | "SecurityError" => BrowserRefusal::Unsupported,
        _ => BrowserRefusal::Failed(
            Reflect::get(e, &"message".into())
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_else(|| "unknown error".into()),
        ),
    }
}

fn function_of(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &name.into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
}

/// Whether this browser has what passkeys need here.
fn supported() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let Ok(class) = Reflect::get(&window, &"PublicKeyCredential".into()) else {
        return false;
    };
    !class.is_undefined()
        && function_of(&class, "parseCreationOptionsFromJSON").is_some()
        && function_of(&class, "parseRequestOptionsFromJSON").is_some()
}

/// `navigator.credentials.<method>({publicKey: PublicKeyCredential.<parse>(options)})`,
/// then the credential's `toJSON()`.
async fn ask_browser(
    parse: &str,
    method: &str,
    options: &serde_json::Value,
) -> Result<serde_json::Value, BrowserRefusal> {
    if !supported() {
        return Err(BrowserRefusal::Unsupported);
    }
    let window = web_sys::window().ok_or(BrowserRefusal::Unsupported)?;
    let class = Reflect::get(&window, &"PublicKeyCredential".into())
        .map_err(|_| BrowserRefusal::Unsupported)?;
    let parse = function_of(&class, parse).ok_or(BrowserRefusal::Unsupported)?;
    let text = serde_json::to_string(options).map_err(|e| BrowserRefusal::Failed(e.to_string()))?;
    let options = JSON::parse(&text).map_err(|e| js_error(&e))?;
    let public_key = parse.call1(&class, &options).map_err(|e| js_error(&e))?;
    let init = Object::new();
    Reflect::set(&init, &"publicKey".into(), &public_key).map_err(|e| js_error(&e))?;
    let credentials = Reflect::get(&window.navigator(), &"credentials".into())
        .map_err(|_| BrowserRefusal::Unsupported)?;
    let call = function_of(&credentials, method).ok_or(BrowserRefusal::Unsupported)?;
    let promise: Promise = call
        .call1(&credentials, &init)
        .map_err(|e| js_error(&e))?
        .dyn_into()
        .map_err(|e| js_error(&e))?;
    let credential = JsFuture::from(promise).await.map_err(|e| js_error(&e))?;
    if credential.is_null() || credential.is_undefined() {
        return Err(BrowserRefusal::Cancelled);
    }
    let to_json = function_of(&credential, "toJSON").ok_or(BrowserRefusal::Unsupported)?;
    let value = to_json.call0(&credential).map_err(|e| js_error(&e))?;
    let text: String = JSON::stringify(&value).map_err(|e| js_error(&e))?.into();
    serde_json::from_str(&text).map_err(|e| BrowserRefusal::Failed(e.to_string()))
}

/// What went wrong, from the server or the browser.
#[derive(Clone, Debug, PartialEq)]
enum Problem {
    Server(ErrorBody),
    Browser(BrowserRefusal),
}

impl From<ErrorBody> for Problem {
    fn from(e: ErrorBody) -> Self {
        Self::Server(e)
    }
}

impl From<BrowserRefusal> for Problem {
    fn from(e: BrowserRefusal) -> Self {
        Self::Browser(e)
    }
}

/// A cancelled dialog is said calmly (a status); anything else is an alert.
fn problem_view(problem: &Option<Problem>) -> Html {
    match problem {
        None => html! {},
        Some(Problem::Server(e)) => html! { <ErrorAlert error={Some(e.clone())} /> },
        Some(Problem::Browser(BrowserRefusal::Cancelled)) => html! {
            <p class="alert alert-warn" role="status">{ BrowserRefusal::Cancelled.message() }</p>
        },
        Some(Problem::Browser(refusal)) => html! {
            <div class="alert alert-error" role="alert">{ refusal.message() }</div>
        },
    }
}

/// "Passkey on Chrome", from the browser's name.
fn default_name() -> String {
    let agent = web_sys::window()
        .and_then(|w| w.navigator().user_agent().ok())
        .unwrap_or_default();
    let browser = if agent.contains("Edg/") {
        "Edge"
    } else if agent.contains("Firefox/") {
        "Firefox"
    } else if agent.contains("Chrome/") || agent.contains("Chromium/") {
        "Chrome"
    } else if agent.contains("Safari/") {
        "Safari"
    } else {
        "this device"
    };
    format!("Passkey on {browser}")
}

// ---------------------------------------------------------------- the list

async fn register(name: String) -> Result<Passkey, Problem> {
    let start: PasskeyChallenge = post("/me/passkeys/register/start", None).await?;
    let credential = ask_browser("parseCreationOptionsFromJSON", "create", &start.options).await?;
    let body = FinishPasskeyRegistration {
        challenge_id: start.challenge_id,
        name,
        credential,
    };
    Ok(post("/me/passkeys/register/finish", json(&body)).await?)
}

#[derive(Clone, Copy, PartialEq)]
enum Editing {
    Rename(PasskeyId),
    Remove(PasskeyId),
}

#[function_component(Passkeys)]
pub fn passkeys() -> Html {
    let session = use_session();
    let list = use_state(|| None::<Vec<Passkey>>);
    let problem = use_state(|| None::<Problem>);
    let name = use_state(default_name);
    let errors = use_state(FieldErrors::new);
    let busy = use_state(|| false);
    let editing = use_state(|| None::<Editing>);
    let new_name = use_state(String::new);

    {
        let (list, problem) = (list.clone(), problem.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::request::<PasskeyList>(Method::Get, "/me/passkeys", None, None).await {
                    Ok(found) => list.set(Some(found.items)),
                    Err(e) => problem.set(Some(e.into())),
                }
            });
        });
    }

    let onsubmit = {
        let (list, problem, name, errors, busy, session) = (
            list.clone(),
            problem.clone(),
            name.clone(),
            errors.clone(),
            busy.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let checked = match parse_passkey_name(&name) {
                Ok(checked) => checked,
                Err(m) => {
                    let mut found = FieldErrors::new();
                    found.insert("name".into(), format!("Passkey name {m}."));
                    errors.set(found);
                    return;
                }
            };
            errors.set(FieldErrors::new());
            problem.set(None);
            busy.set(true);
            let (list, problem, name, errors, busy, session) = (
                list.clone(),
                problem.clone(),
                name.clone(),
                errors.clone(),
                busy.clone(),
                session.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let result = register(checked).await;
                busy.set(false);
                match result {
                    Ok(added) => {
                        let mut items = (*list).clone().unwrap_or_default();
                        let text =
                            format!("Passkey “{}” added: you can sign in with it", added.name);
                        items.push(added);
                        list.set(Some(items));
                        name.set(default_name());
                        session.dispatch(SessionAction::Notify { text, undo: None });
                    }
                    Err(Problem::Server(e)) => {
                        let mut found = FieldErrors::new();
                        if let Some(m) = e.field_errors().get("name") {
                            found.insert("name".into(), format!("Passkey name {m}."));
                        }
                        errors.set(found);
                        problem.set(Some(Problem::Server(e)));
                    }
                    Err(other) => problem.set(Some(other)),
                }
            });
        })
    };

    let edit = |what: Option<Editing>, current: String| {
        let (editing, new_name) = (editing.clone(), new_name.clone());
        Callback::from(move |_: MouseEvent| {
            new_name.set(current.clone());
            editing.set(what);
        })
    };
    let rename = |id: PasskeyId| {
        let (list, problem, editing, new_name, busy) = (
            list.clone(),
            problem.clone(),
            editing.clone(),
            new_name.clone(),
            busy.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = RenamePasskey {
                name: (*new_name).clone(),
            };
            let (list, problem, editing, busy) =
                (list.clone(), problem.clone(), editing.clone(), busy.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/me/passkeys/{id}");
                let result: api::ApiResult<Passkey> =
                    api::request(Method::Patch, &path, json(&body), None).await;
                busy.set(false);
                match result {
                    Ok(renamed) => {
                        problem.set(None);
                        editing.set(None);
                        if let Some(items) = &*list {
                            let items = items
                                .iter()
                                .map(|p| {
                                    if p.id == id {
                                        renamed.clone()
                                    } else {
                                        p.clone()
                                    }
                                })
                                .collect();
                            list.set(Some(items));
                        }
                    }
                    Err(e) => problem.set(Some(e.into())),
                }
            });
        })
    };
    let remove = |passkey: &Passkey| {
        let (list, problem, editing, busy, session) = (
            list.clone(),
            problem.clone(),
            editing.clone(),
            busy.clone(),
            session.clone(),
        );
        let (id, name) = (passkey.id, passkey.name.clone());
        Callback::from(move |_: MouseEvent| {
            let (list, problem, editing, busy, session, name) = (
                list.clone(),
                problem.clone(),
                editing.clone(),
                busy.clone(),
                session.clone(),
                name.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let path = format!("/me/passkeys/{id}");
                let result: api::ApiResult<()> =
                    api::request(Method::Delete, &path, None, None).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        problem.set(None);
                        editing.set(None);
                        if let Some(items) = &*list {
                            let mut items = items.clone();
                            items.retain(|p| p.id != id);
                            list.set(Some(items));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: format!("Passkey “{name}” removed: it no longer signs in"),
                            undo: None,
                        });
                    }
                    Err(e) => problem.set(Some(e.into())),
                }
            });
        })
    };
    let set_name = {
        let name = name.clone();
        Callback::from(move |v: String| name.set(v))
    };
    let set_new_name = {
        let new_name = new_name.clone();
        Callback::from(move |v: String| new_name.set(v))
    };

    html! {
        <section class="card" aria-labelledby="passkeys-heading">
            <div class="card-header">
                <h2 id="passkeys-heading">{ "Passkeys" }</h2>
            </div>
            <p class="muted">
                { "A passkey signs you in with this device's screen lock (fingerprint, face or PIN) instead of a password. It only works on this site, so it can't be phished." }
            </p>
            { problem_view(&problem) }
            { match &*list {
                None if problem.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                None => html! {},
                Some(items) if items.is_empty() => html! {
                    <p class="muted">{ "No passkeys yet." }</p>
                },
                Some(items) => html! {
                    <ul class="token-list" aria-label="Your passkeys">
                        { for items.iter().map(|passkey| {
                            let about = format!("passkey-{}", passkey.id);
                            let last_used = passkey
                                .last_used_at
                                .map_or_else(|| "never".to_string(), format::relative);
                            let renaming = *editing == Some(Editing::Rename(passkey.id));
                            let removing = *editing == Some(Editing::Remove(passkey.id));
                            let confirm_id = format!("remove-{}", passkey.id);
                            html! {
                                <li class="token-row" key={passkey.id.to_string()}>
                                    <div class="token-main" id={about.clone()}>
                                        <span class="token-name">{ passkey.name.clone() }</span>
                                        <span class="member-meta">
                                            { format!("Added {} · last used {last_used}", format::relative(passkey.created_at)) }
                                        </span>
                                    </div>
                                    <div class="row-actions">
                                        <button type="button" class="button button-ghost button-small"
                                            aria-label={format!("Rename {}", passkey.name)}
                                            aria-expanded={renaming.to_string()}
                                            onclick={edit((!renaming).then_some(Editing::Rename(passkey.id)), passkey.name.clone())}>
                                            { "Rename" }
                                        </button>
                                        <button type="button" class="button button-danger-ghost button-small"
                                            aria-label={format!("Remove {}", passkey.name)}
                                            aria-describedby={about}
                                            aria-expanded={removing.to_string()}
                                            onclick={edit((!removing).then_some(Editing::Remove(passkey.id)), passkey.name.clone())}>
                                            { "Remove" }
                                        </button>
                                    </div>
                                    if renaming {
                                        <form class="stack" onsubmit={rename(passkey.id)} novalidate=true
                                            aria-label={format!("Rename {}", passkey.name)}>
                                            <TextInput id={format!("rename-{}", passkey.id)} label="New name"
                                                value={(*new_name).clone()} oninput={set_new_name.clone()} />
                                            <div class="row-actions">
                                                <button type="button" class="button button-ghost" onclick={edit(None, String::new())}>{ "Cancel" }</button>
                                                <button type="submit" class="button button-primary" disabled={*busy}>{ "Save name" }</button>
                                            </div>
                                        </form>
                                    }
                                    if removing {
                                        <div class="confirm member-confirm" role="group" aria-labelledby={confirm_id.clone()}>
                                            <p id={confirm_id}>
                                                <strong>{ format!("Remove “{}”?", passkey.name) }</strong>
                                                { " It will no longer sign you in. The passkey itself stays on the device until you delete it there." }
                                            </p>
                                            <div class="row-actions">
                                                <button type="button" class="button button-ghost" onclick={edit(None, String::new())}>{ "Cancel" }</button>
                                                <button type="button" class="button button-danger" onclick={remove(passkey)} disabled={*busy}>{ "Remove passkey" }</button>
                                            </div>
                                        </div>
                                    }
                                </li>
                            }
                        }) }
                    </ul>
                },
            } }
            <form class="stack" {onsubmit} novalidate=true aria-label="Add a passkey">
                <TextInput id="passkey-name" label="Passkey name" value={(*name).clone()}
                    oninput={set_name} error={errors.get("name").cloned()}
                    hint="To tell your passkeys apart, e.g. the device it is on." />
                <button type="submit" class="button button-primary" disabled={*busy}>
                    { if *busy { "Waiting for your passkey…" } else { "Add a passkey" } }
                </button>
            </form>
        </section>
    }
}

// ---------------------------------------------------------------- confirming

/// A passkey's word that the person at the keyboard owns the account: the proof
/// (`{"challenge_id", "credential"}`) a sensitive change takes instead of the password.
async fn confirmation() -> Result<serde_json::Value, Problem> {
    let start: PasskeyChallenge = post("/me/passkeys/confirm/start", None).await?;
    let credential = ask_browser("parseRequestOptionsFromJSON", "get", &start.options).await?;
    Ok(serde_json::json!({"challenge_id": start.challenge_id, "credential": credential}))
}

#[derive(Properties, PartialEq)]
pub struct ConfirmWithPasskeyProps {
    /// The button's words, e.g. "Turn off with a passkey".
    pub label: AttrValue,
    /// The proof, once a passkey answered; what it confirms is the caller's to send.
    pub on_proof: Callback<serde_json::Value>,
    #[prop_or_default]
    pub busy: bool,
}

/// A button that confirms with one of the person's passkeys instead of the password; shown
/// only in a browser that can use passkeys and to someone who has one.
#[function_component(ConfirmWithPasskey)]
pub fn confirm_with_passkey(props: &ConfirmWithPasskeyProps) -> Html {
    let has_one = use_state(|| false);
    let problem = use_state(|| None::<Problem>);
    let asking = use_state(|| false);
    {
        let has_one = has_one.clone();
        use_effect_with((), move |()| {
            if supported() {
                wasm_bindgen_futures::spawn_local(async move {
                    let listed =
                        api::request::<PasskeyList>(Method::Get, "/me/passkeys", None, None).await;
                    has_one.set(listed.is_ok_and(|l| !l.items.is_empty()));
                });
            }
        });
    }
    if !*has_one {
        return html! {};
    }
    let onclick = {
        let (problem, asking, on_proof) = (problem.clone(), asking.clone(), props.on_proof.clone());
        Callback::from(move |_: MouseEvent| {
            let (problem, asking, on_proof) = (problem.clone(), asking.clone(), on_proof.clone());
            problem.set(None);
            asking.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = confirmation().await;
                asking.set(false);
                match result {
                    Ok(proof) => on_proof.emit(proof),
                    Err(e) => problem.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            { problem_view(&problem) }
            <button type="button" class="button button-secondary" {onclick} disabled={props.busy || *asking}>
                { if *asking { "Waiting for your passkey…".into() } else { props.label.clone() } }
            </button>
        </>
    }
}

// ---------------------------------------------------------------- signing in

async fn sign_in() -> Result<SessionAction, Problem> {
    let start: PasskeyChallenge = post("/auth/passkey/start", None).await?;
    let credential = ask_browser("parseRequestOptionsFromJSON", "get", &start.options).await?;
    let body = PasskeyAssertion {
        challenge_id: start.challenge_id,
        credential,
    };
    let _: UserResponse = post("/auth/passkey/finish", json(&body)).await?;
    Ok(load_session().await?)
}

#[derive(Properties, PartialEq)]
pub struct PasskeySignInProps {
    /// Whether another way to sign in follows directly (an "or" between them).
    #[prop_or_default]
    pub divider: bool,
}

/// "Sign in with a passkey" on the sign-in page: no email or password typed.
#[function_component(PasskeySignIn)]
pub fn passkey_sign_in(props: &PasskeySignInProps) -> Html {
    let session = use_session();
    let problem = use_state(|| None::<Problem>);
    let busy = use_state(|| false);
    let onclick = {
        let (problem, busy, session) = (problem.clone(), busy.clone(), session.clone());
        Callback::from(move |_: MouseEvent| {
            let (problem, busy, session) = (problem.clone(), busy.clone(), session.clone());
            problem.set(None);
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = sign_in().await;
                busy.set(false);
                match result {
                    Ok(action) => session.dispatch(action),
                    Err(e) => problem.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            { problem_view(&problem) }
            <button type="button" class="button button-block" {onclick} disabled={*busy}>
                { if *busy { "Waiting for your passkey…" } else { "Sign in with a passkey" } }
            </button>
            if props.divider {
                <p class="auth-divider"><span>{ "or" }</span></p>
            }
        </>
    }
}

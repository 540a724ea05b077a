use shared::{Email, ErrorBody, FieldErrors, RegisterRequest, check_password, parse_name};
use web_sys::SubmitEvent;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::{Next, Route, use_next};
use crate::components::{ErrorAlert, GoogleButton, TextInput, use_providers};
use crate::hooks::{load_session, use_session, use_title};

#[function_component(SignUp)]
pub fn sign_up() -> Html {
    use_title("Create account");
    let session = use_session();
    let form = use_state(RegisterRequest::default);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let next = use_next();
    let providers = use_providers();

    let set = |apply: fn(&mut RegisterRequest, String)| {
        let form = form.clone();
        Callback::from(move |value: String| {
            let mut next = (*form).clone();
            apply(&mut next, value);
            form.set(next);
        })
    };
    let onsubmit = {
        let form = form.clone();
        let errors = errors.clone();
        let error = error.clone();
        let busy = busy.clone();
        let session = session.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if let Err(m) = parse_name(&form.name, 100) {
                found.insert("name".into(), m);
            }
            if let Err(m) = Email::parse(&form.email) {
                found.insert("email".into(), m);
            }
            if let Err(m) = check_password(&form.password) {
                found.insert("password".into(), m);
            }
            errors.set(found.clone());
            if !found.is_empty() {
                error.set(None);
                return;
            }
            let body = (*form).clone();
            let (errors, error, busy, session) =
                (errors.clone(), error.clone(), busy.clone(), session.clone());
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match api::register(&body).await {
                    Ok(_) => load_session().await,
                    Err(e) => Err(e),
                };
                busy.set(false);
                match result {
                    Ok(action) => session.dispatch(action),
                    Err(e) => {
                        errors.set(e.field_errors());
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let field_error = |name: &str| errors.get(name).map(|m| format!("{} {m}", label(name)));

    html! {
        <main id="main" class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <img src="/icon.svg" alt="" width="40" height="40" />
                    <span>{ "Home Inventory" }</span>
                </div>
                <h1>{ "Create your account" }</h1>
                if Next::is_invite(next.as_ref()) {
                    <p class="muted">{ "Create your account, then join the household you were invited to." }</p>
                } else {
                    <p class="muted">{ "Everything you own, where it is and what it's worth — shared with your household." }</p>
                }
                <ErrorAlert error={(*error).clone()} />
                if providers.google {
                    <GoogleButton return_to={next.as_ref().map(|n| n.next.clone())} divider={providers.local} />
                }
                if providers.local {
                <form class="stack" {onsubmit} novalidate=true>
                    <TextInput id="signup-name" label="Name" value={form.name.clone()}
                        oninput={set(|f, v| f.name = v)} autocomplete="name"
                        error={field_error("name")} />
                    <TextInput id="signup-email" label="Email" kind="email" value={form.email.clone()}
                        oninput={set(|f, v| f.email = v)} autocomplete="email"
                        error={field_error("email")} />
                    <TextInput id="signup-password" label="Password" kind="password" value={form.password.clone()}
                        oninput={set(|f, v| f.password = v)} autocomplete="new-password"
                        hint="At least 8 characters." error={field_error("password")} />
                    <button type="submit" class="button button-primary button-block" disabled={*busy}>
                        { if *busy { "Creating account…" } else { "Create account" } }
                    </button>
                </form>
                <p class="auth-switch">
                    { "Already have an account? " }
                    <Link<Route, Next> to={Route::SignIn} query={next.clone()}>{ "Sign in" }</Link<Route, Next>>
                </p>
                }
            </div>
        </main>
    }
}

fn label(field: &str) -> &str {
    match field {
        "name" => "Name",
        "email" => "Email",
        "password" => "Password",
        other => other,
    }
}

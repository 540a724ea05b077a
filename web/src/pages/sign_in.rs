use shared::{ErrorBody, ErrorCode, FieldErrors, LoginRequest};
use web_sys::SubmitEvent;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::{Next, Route, use_next};
use crate::components::{
    ErrorAlert, GoogleButton, PasskeySignIn, TextInput, use_google_error, use_providers,
};
use crate::hooks::{load_session, use_session, use_title};

#[function_component(SignIn)]
pub fn sign_in() -> Html {
    use_title("Sign in");
    let session = use_session();
    let form = use_state(LoginRequest::default);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    // Two-factor sign-in: the server asked for a code after a right password.
    let needs_code = use_state(|| false);
    let next = use_next();
    let providers = use_providers();
    let google_error = use_google_error();

    let set = |apply: fn(&mut LoginRequest, String)| {
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
        let needs_code = needs_code.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let mut found = FieldErrors::new();
            if form.email.trim().is_empty() {
                found.insert("email".into(), "Enter your email address.".into());
            }
            if form.password.is_empty() {
                found.insert("password".into(), "Enter your password.".into());
            }
            errors.set(found.clone());
            if !found.is_empty() {
                error.set(None);
                return;
            }
            let body = (*form).clone();
            let (errors, error, busy, session, needs_code) = (
                errors.clone(),
                error.clone(),
                busy.clone(),
                session.clone(),
                needs_code.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = match api::login(&body).await {
                    Ok(_) => load_session().await,
                    Err(e) => Err(e),
                };
                busy.set(false);
                match result {
                    Ok(action) => session.dispatch(action),
                    Err(e) if code_problem(&e).is_some() => {
                        needs_code.set(true);
                        let problem = code_problem(&e).unwrap_or_default();
                        let mut found = FieldErrors::new();
                        if problem != "is required" {
                            found.insert("code".into(), format!("The code {problem}."));
                        }
                        errors.set(found);
                        error.set(None);
                    }
                    Err(mut e) => {
                        if e.error.code == ErrorCode::Unauthorized {
                            e.error.message = "Wrong email or password".into();
                        }
                        errors.set(
                            e.field_errors()
                                .into_iter()
                                .map(|(field, problem)| {
                                    let label = if field == "email" {
                                        "Email"
                                    } else {
                                        "Password"
                                    };
                                    (field, format!("{label} {problem}"))
                                })
                                .collect(),
                        );
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    // Changes made before the session ended wait for the same person to sign in again.
    let waiting = {
        let status = crate::local::status(None);
        status.waiting + status.stuck
    };
    html! {
        <main id="main" class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <img src="/icon.svg" alt="" width="40" height="40" />
                    <span>{ "Home Inventory" }</span>
                </div>
                <h1>{ "Sign in" }</h1>
                if waiting > 0 {
                    <p class="alert alert-warn" role="status">
                        { format!("Sign in to send {} made on this device.", crate::components::changes_waiting(waiting)) }
                    </p>
                }
                if Next::is_invite(next.as_ref()) {
                    <p class="muted">{ "Sign in, then join the household you were invited to." }</p>
                }
                if let Some(message) = google_error {
                    <div class="alert alert-error" role="alert">{ message }</div>
                }
                <ErrorAlert error={(*error).clone()} />
                <PasskeySignIn divider={providers.local && !providers.google} />
                if providers.google {
                    <GoogleButton return_to={next.as_ref().map(|n| n.next.clone())} divider={providers.local} />
                }
                if providers.local {
                <form class="stack" {onsubmit} novalidate=true>
                    <TextInput id="signin-email" label="Email" kind="email" value={form.email.clone()}
                        oninput={set(|f, v| f.email = v)} autocomplete="username"
                        error={errors.get("email").cloned()} />
                    <TextInput id="signin-password" label="Password" kind="password" value={form.password.clone()}
                        oninput={set(|f, v| f.password = v)} autocomplete="current-password"
                        error={errors.get("password").cloned()} />
                    if *needs_code {
                        <TextInput id="signin-code" label="Authentication code" value={form.code.clone().unwrap_or_default()}
                            oninput={set(|f, v| f.code = Some(v))} autocomplete="one-time-code" inputmode="numeric"
                            hint="Two-factor sign-in is on: enter the 6-digit code from your authenticator app, or one of your recovery codes (like abcd-efgh-jkmn)."
                            error={errors.get("code").cloned()} required=true />
                    }
                    <button type="submit" class="button button-primary button-block" disabled={*busy}>
                        { if *busy { "Signing in…" } else { "Sign in" } }
                    </button>
                </form>
                <p class="auth-switch">
                    { "New here? " }
                    <Link<Route, Next> to={Route::SignUp} query={next.clone()}>{ "Create an account" }</Link<Route, Next>>
                </p>
                }
            </div>
        </main>
    }
}

/// What the server said about the two-factor code of a refused sign-in ("is required",
/// "is not right"), if it asked for one.
fn code_problem(e: &ErrorBody) -> Option<String> {
    if e.error.code != ErrorCode::Unauthorized {
        return None;
    }
    e.error
        .details
        .as_ref()?
        .get("code")?
        .as_str()
        .map(str::to_string)
}

//! "Two-factor sign-in": set up with an authenticator app (a QR code, or the key typed in),
//! turned on with a code from it, recovery codes shown once (to copy or download), new
//! codes made, and turned off. Each step asks for the password again (turning it off, a
//! passkey will do instead).

use shared::{ErrorBody, FieldErrors, TwoFactorSetup, TwoFactorStatus};
use web_sys::{Blob, BlobPropertyBag, SubmitEvent, Url};
use yew::prelude::*;

use crate::api;
use crate::components::{ConfirmWithPasskey, ErrorAlert, TextInput};
use crate::format;
use crate::hooks::{SessionAction, use_session};
use crate::pages::members::copy_to_clipboard;

/// What the password is asked for.
#[derive(Clone, Copy, PartialEq)]
enum Purpose {
    SetUp,
    NewCodes,
    TurnOff,
}

impl Purpose {
    fn button(self) -> &'static str {
        match self {
            Self::SetUp => "Continue",
            Self::NewCodes => "Make new recovery codes",
            Self::TurnOff => "Turn off",
        }
    }
}

#[derive(Clone, PartialEq)]
enum Stage {
    Idle,
    Password(Purpose),
    Scan(TwoFactorSetup),
    /// The recovery codes, shown once, and a Blob URL of them as a text file.
    Codes(Vec<String>, String),
}

/// The key grouped by four, as authenticator apps show it.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The recovery codes as the text file people download.
fn codes_file(codes: &[String]) -> String {
    let mut text = String::from(
        "Home Inventory recovery codes\n\
         Each code signs you in once instead of a code from your authenticator app.\n\n",
    );
    for code in codes {
        text.push_str(code);
        text.push('\n');
    }
    text
}

fn blob_url(text: &str) -> String {
    let parts = js_sys::Array::of1(&text.into());
    let options = BlobPropertyBag::new();
    options.set_type("text/plain");
    Blob::new_with_str_sequence_and_options(&parts, &options)
        .and_then(|blob| Url::create_object_url_with_blob(&blob))
        .unwrap_or_default()
}

fn field_errors(e: &ErrorBody) -> FieldErrors {
    e.field_errors()
        .into_iter()
        .map(|(field, problem)| {
            let label = if field == "code" { "Code" } else { "Password" };
            (field, format!("{label} {problem}."))
        })
        .collect()
}

#[function_component(TwoFactor)]
pub fn two_factor() -> Html {
    let session = use_session();
    let status = use_state(|| None::<TwoFactorStatus>);
    let stage = use_state(|| Stage::Idle);
    let password = use_state(String::new);
    let code = use_state(String::new);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let copied = use_state(String::new);
    let reload = use_state(|| 0u32);

    {
        let (status, error) = (status.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::two_factor().await {
                    Ok(now) => status.set(Some(now)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let go = |next: Stage| {
        let (stage, password, code, errors, error, copied) = (
            stage.clone(),
            password.clone(),
            code.clone(),
            errors.clone(),
            error.clone(),
            copied.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if let Stage::Codes(_, url) = &*stage {
                let _ = Url::revoke_object_url(url);
            }
            password.set(String::new());
            code.set(String::new());
            errors.set(FieldErrors::new());
            error.set(None);
            copied.set(String::new());
            stage.set(next.clone());
        })
    };

    let on_password = {
        let (stage, password, errors, error, busy, reload, session) = (
            stage.clone(),
            password.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            reload.clone(),
            session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Stage::Password(purpose) = *stage else {
                return;
            };
            if password.is_empty() {
                let mut found = FieldErrors::new();
                found.insert("password".into(), "Enter your password.".into());
                errors.set(found);
                return;
            }
            let (stage, password, errors, error, busy, reload, session) = (
                stage.clone(),
                password.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                reload.clone(),
                session.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let typed = (*password).clone();
                let result = match purpose {
                    Purpose::SetUp => api::set_up_two_factor(&typed).await.map(Stage::Scan),
                    Purpose::NewCodes => api::new_recovery_codes(&typed).await.map(|made| {
                        let url = blob_url(&codes_file(&made.recovery_codes));
                        Stage::Codes(made.recovery_codes, url)
                    }),
                    Purpose::TurnOff => api::disable_two_factor(&typed).await.map(|()| Stage::Idle),
                };
                busy.set(false);
                match result {
                    Ok(next) => {
                        password.set(String::new());
                        errors.set(FieldErrors::new());
                        error.set(None);
                        if purpose == Purpose::TurnOff {
                            session.dispatch(SessionAction::Notify {
                                text: "Two-factor sign-in is off".into(),
                                undo: None,
                            });
                        }
                        stage.set(next);
                        reload.set(*reload + 1);
                    }
                    Err(e) => {
                        errors.set(field_errors(&e));
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    // Turning it off with a passkey instead of the password.
    let on_passkey_off = {
        let (stage, password, errors, error, busy, reload, session) = (
            stage.clone(),
            password.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            reload.clone(),
            session.clone(),
        );
        Callback::from(move |proof: serde_json::Value| {
            let (stage, password, errors, error, busy, reload, session) = (
                stage.clone(),
                password.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                reload.clone(),
                session.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::disable_two_factor_with_passkey(proof).await;
                busy.set(false);
                match result {
                    Ok(()) => {
                        password.set(String::new());
                        errors.set(FieldErrors::new());
                        error.set(None);
                        session.dispatch(SessionAction::Notify {
                            text: "Two-factor sign-in is off".into(),
                            undo: None,
                        });
                        stage.set(Stage::Idle);
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };

    let on_code = {
        let (stage, code, errors, error, busy, reload) = (
            stage.clone(),
            code.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if code.trim().is_empty() {
                let mut found = FieldErrors::new();
                found.insert(
                    "code".into(),
                    "Enter the 6-digit code the app shows.".into(),
                );
                errors.set(found);
                return;
            }
            let (stage, code, errors, error, busy, reload) = (
                stage.clone(),
                code.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                reload.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::enable_two_factor(code.trim()).await;
                busy.set(false);
                match result {
                    Ok(made) => {
                        code.set(String::new());
                        errors.set(FieldErrors::new());
                        error.set(None);
                        let url = blob_url(&codes_file(&made.recovery_codes));
                        stage.set(Stage::Codes(made.recovery_codes, url));
                        reload.set(*reload + 1);
                    }
                    Err(e) => {
                        errors.set(field_errors(&e));
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    let copy = {
        let (stage, copied) = (stage.clone(), copied.clone());
        Callback::from(move |_: MouseEvent| {
            let Stage::Codes(codes, _) = &*stage else {
                return;
            };
            let (text, copied) = (codes.join("\n"), copied.clone());
            wasm_bindgen_futures::spawn_local(async move {
                copied.set(if copy_to_clipboard(&text).await {
                    "Recovery codes copied.".into()
                } else {
                    "This browser did not allow copying: download them, or write them down.".into()
                });
            });
        })
    };

    let password_form = |purpose: Purpose| {
        html! {
            <form class="stack" onsubmit={on_password.clone()} novalidate=true>
                <TextInput id="two-factor-password" label="Password" kind="password"
                    value={(*password).clone()} autocomplete="current-password"
                    hint="Your account's password, to confirm it's you."
                    oninput={let password = password.clone(); Callback::from(move |v| password.set(v))}
                    error={errors.get("password").cloned()} required=true />
                <div class="row-actions">
                    <button type="button" class="button button-ghost" onclick={go(Stage::Idle)}>{ "Cancel" }</button>
                    <button type="submit" class={if purpose == Purpose::TurnOff { "button button-danger" } else { "button button-primary" }}
                        disabled={*busy}>{ purpose.button() }</button>
                </div>
                if purpose == Purpose::TurnOff {
                    <ConfirmWithPasskey label="Turn off with a passkey" on_proof={on_passkey_off.clone()} busy={*busy} />
                }
            </form>
        }
    };

    let enabled = status.as_ref().is_some_and(|s| s.enabled);
    let body = match &*stage {
        Stage::Password(purpose) => password_form(*purpose),
        Stage::Scan(setup) => {
            let qr = format!(
                "data:image/svg+xml,{}",
                js_sys::encode_uri_component(&setup.qr_svg)
            );
            html! {
                <div class="stack">
                    <p>{ "1. Scan this QR code with an authenticator app (like Google Authenticator, Microsoft Authenticator, 1Password or Aegis)." }</p>
                    <img class="qr-code" src={qr} width="200" height="200"
                        alt="QR code for adding your Home Inventory account to an authenticator app" />
                    <p>
                        { "Can't scan it? Type this key into the app instead: " }
                        <code class="setup-key" aria-label="Setup key">{ grouped(&setup.secret) }</code>
                    </p>
                    <form class="stack" onsubmit={on_code} novalidate=true>
                        <TextInput id="two-factor-code" label="Code from the app" value={(*code).clone()}
                            inputmode="numeric" autocomplete="one-time-code"
                            hint="2. Enter the 6-digit code the app shows for Home Inventory."
                            oninput={let code = code.clone(); Callback::from(move |v| code.set(v))}
                            error={errors.get("code").cloned()} required=true />
                        <div class="row-actions">
                            <button type="button" class="button button-ghost" onclick={go(Stage::Idle)}>{ "Cancel" }</button>
                            <button type="submit" class="button button-primary" disabled={*busy}>{ "Turn on" }</button>
                        </div>
                    </form>
                </div>
            }
        }
        Stage::Codes(codes, url) => html! {
            <div class="stack">
                <h3>{ "Save these now" }</h3>
                <div class="alert alert-warn" id="recovery-codes-note">
                    <p>
                        <strong>{ "Save these recovery codes now: they won't be shown again." }</strong>
                        { " If you lose your phone, each one signs you in once instead of a code from the app. Keep them somewhere safe, like a password manager." }
                    </p>
                </div>
                <ol class="recovery-codes" aria-label="Recovery codes" aria-describedby="recovery-codes-note">
                    { for codes.iter().map(|c| html! { <li><code>{ c.clone() }</code></li> }) }
                </ol>
                <div class="row-actions">
                    <button type="button" class="button button-secondary" onclick={copy}>{ "Copy" }</button>
                    <a class="button button-secondary" href={url.clone()}
                        download="home-inventory-recovery-codes.txt">{ "Download" }</a>
                    <button type="button" class="button button-primary" onclick={go(Stage::Idle)}>{ "Done" }</button>
                </div>
                <p class="copy-status" role="status">{ (*copied).clone() }</p>
            </div>
        },
        Stage::Idle if enabled => {
            let left = status
                .as_ref()
                .map_or(0, |s| i64::from(s.recovery_codes_left));
            html! {
                <div class="stack">
                    <p>
                        <span class="badge badge-primary">{ "On" }</span>
                        { " Signing in with your password also needs a code from your authenticator app. " }
                        { format!("{} left.", format::count(left, "recovery code", "recovery codes")) }
                    </p>
                    <div class="row-actions">
                        <button type="button" class="button button-secondary"
                            onclick={go(Stage::Password(Purpose::NewCodes))}>{ "Make new recovery codes" }</button>
                        <button type="button" class="button button-danger-ghost"
                            onclick={go(Stage::Password(Purpose::TurnOff))}>{ "Turn off" }</button>
                    </div>
                </div>
            }
        }
        Stage::Idle => html! {
            <div class="stack">
                <p>
                    { "Off. With two-factor sign-in on, signing in with your password also needs a code from an authenticator app on your phone, so a stolen password alone can't open your inventory." }
                </p>
                if status.is_some() {
                    <div class="row-actions">
                        <button type="button" class="button button-primary"
                            onclick={go(Stage::Password(Purpose::SetUp))}>{ "Set up two-factor sign-in" }</button>
                    </div>
                }
            </div>
        },
    };

    html! {
        <section class="card" aria-labelledby="two-factor-heading">
            <div class="card-header">
                <h2 id="two-factor-heading">{ "Two-factor sign-in" }</h2>
            </div>
            <ErrorAlert error={(*error).clone()} />
            { body }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_shown_in_groups_of_four() {
        assert_eq!(grouped("GEZDGNBVGY3TQOJQ"), "GEZD GNBV GY3T QOJQ");
        assert_eq!(grouped("ABCDEF"), "ABCD EF");
    }

    #[test]
    fn the_downloaded_file_lists_every_code() {
        let codes = vec!["abcd-efgh-jkmn".to_string(), "pqrs-tuvw-xyz2".to_string()];
        let text = codes_file(&codes);
        assert!(text.ends_with("abcd-efgh-jkmn\npqrs-tuvw-xyz2\n"));
    }
}

//! Where an invitation link leads.

use shared::{ErrorBody, ErrorCode, InvitePreview, Role};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::{Next, Route};
use crate::components::ErrorAlert;
use crate::hooks::{SessionAction, use_session, use_title};

#[derive(Properties, PartialEq)]
pub struct InviteProps {
    /// The code from the link.
    pub code: String,
}

/// What the link offers, or why it offers nothing.
#[hook]
fn use_preview(code: String) -> UseStateHandle<Option<Result<InvitePreview, ErrorBody>>> {
    let preview = use_state(|| None);
    {
        let preview = preview.clone();
        use_effect_with(code, move |code| {
            let code = code.clone();
            wasm_bindgen_futures::spawn_local(async move {
                preview.set(Some(api::invite_preview(&code).await));
            });
        });
    }
    preview
}

fn role_words(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner: you can change everything, and manage who belongs",
        Role::Editor => "an editor: you can add and change items and locations",
        Role::Viewer => "a viewer: you can look but not change anything",
    }
}

fn offer(preview: &Option<Result<InvitePreview, ErrorBody>>) -> Html {
    match preview {
        Some(Ok(p)) => html! {
            <p class="invite-offer">
                { format!("{} invites you to “{}” as {}.", p.invited_by, p.household_name, role_words(p.role)) }
            </p>
        },
        Some(Err(e)) => html! { <ErrorAlert error={Some(e.clone())} /> },
        None => html! {},
    }
}

/// A visitor who is not signed in: what the link is, and the way to sign in or create an
/// account that comes back here.
#[function_component(InviteWelcome)]
pub fn invite_welcome(props: &InviteProps) -> Html {
    use_title("Invitation");
    let preview = use_preview(props.code.clone());
    let back = Next {
        next: Route::Invite {
            code: props.code.clone(),
        }
        .to_path(),
    };
    html! {
        <main id="main" class="auth-page">
            <div class="auth-card">
                <div class="auth-brand">
                    <img src="/icon.svg" alt="" width="40" height="40" />
                    <span>{ "Home Inventory" }</span>
                </div>
                <h1>{ "You've been invited to a household" }</h1>
                { offer(&preview) }
                <p class="muted">
                    { "Members share what the household owns, where each thing is and what it's worth." }
                </p>
                <p class="muted">
                    { "Sign in or create an account to join it. You'll come straight back here to accept." }
                </p>
                <div class="invite-choices">
                    <Link<Route, Next> to={Route::SignIn} query={Some(back.clone())} classes="button button-primary button-block">
                        { "Sign in" }
                    </Link<Route, Next>>
                    <Link<Route, Next> to={Route::SignUp} query={Some(back)} classes="button button-secondary button-block">
                        { "Create an account" }
                    </Link<Route, Next>>
                </div>
            </div>
        </main>
    }
}

/// A signed-in visitor: joins the household, then looks at it.
#[function_component(AcceptInvite)]
pub fn accept_invite(props: &InviteProps) -> Html {
    use_title("Invitation");
    let session = use_session();
    let navigator = use_navigator();
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let preview = use_preview(props.code.clone());

    let join = {
        let (session, navigator, error, busy) = (
            session.clone(),
            navigator.clone(),
            error.clone(),
            busy.clone(),
        );
        let code = props.code.clone();
        Callback::from(move |_: MouseEvent| {
            let (session, navigator, error, busy, code) = (
                session.clone(),
                navigator.clone(),
                error.clone(),
                busy.clone(),
                code.clone(),
            );
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::accept_invite(&code).await {
                    Ok(joined) => {
                        let household = joined.household;
                        let name = household.name.clone();
                        let already = session.households.iter().any(|h| h.id == household.id);
                        if already {
                            session.dispatch(SessionAction::Switch(household.id));
                        } else {
                            session.dispatch(SessionAction::HouseholdCreated(household));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: if already {
                                format!("You're already a member of “{name}”")
                            } else {
                                format!("You joined “{name}”")
                            },
                            undo: None,
                        });
                        if let Some(nav) = &navigator {
                            nav.replace(&Route::Dashboard);
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    // An unknown, revoked, expired or used-up link stays that way: no point trying again.
    let dead = error
        .as_ref()
        .or(preview.as_ref().and_then(|p| p.as_ref().err()))
        .is_some_and(|e| matches!(e.error.code, ErrorCode::NotFound | ErrorCode::Conflict));
    let who = session
        .user
        .as_ref()
        .map(|u| format!("You're signed in as {} ({}).", u.name, u.email))
        .unwrap_or_default();

    html! {
        <section class="page narrow">
            <div class="card invite-card">
                <h1>{ "You've been invited to a household" }</h1>
                { offer(&preview) }
                <p class="muted">
                    { "Join to see its items, where they are and what they're worth — and, if the invitation lets you, to add and change them. Your own households stay as they are." }
                </p>
                <p class="muted small">{ who }</p>
                <ErrorAlert error={(*error).clone()} />
                if dead {
                    <p>{ "Ask the person who sent it for a new link." }</p>
                    if session.household().is_some() {
                        <Link<Route> to={Route::Dashboard} classes="button button-secondary">{ "Go to your dashboard" }</Link<Route>>
                    }
                } else {
                    <div class="form-actions invite-join">
                        <button type="button" class="button button-primary" onclick={join} disabled={*busy}>
                            { if *busy { "Joining…" } else { "Join household" } }
                        </button>
                    </div>
                }
            </div>
        </section>
    }
}

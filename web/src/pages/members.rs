//! Who shares the household, in which role, and the links that let more people in.

use js_sys::{Function, Promise, Reflect};
use shared::{CreateInvite, ErrorBody, Household, Invite, Member, Role, UpdateMember, UserId};
use time::OffsetDateTime;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{HtmlInputElement, HtmlSelectElement, SubmitEvent};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api;
use crate::app::Route;
use crate::components::{ErrorAlert, SelectField, TextInput};
use crate::format;
use crate::hooks::{SessionAction, use_session, use_title};

/// The roles, most trusted last, with what each may do.
const ROLES: [(Role, &str); 3] = [
    (Role::Viewer, "can look, but not change anything"),
    (
        Role::Editor,
        "can add, change and delete items and locations",
    ),
    (Role::Owner, "can also manage members and invitations"),
];

/// How long a new invitation link stays valid.
const EXPIRIES: [(i64, &str); 3] = [
    (86_400, "1 day"),
    (7 * 86_400, "7 days"),
    (30 * 86_400, "30 days"),
];
const DEFAULT_EXPIRY: i64 = 7 * 86_400;
const MAX_USES: i64 = 100;

/// "Owner", "Editor", "Viewer".
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "Owner",
        Role::Editor => "Editor",
        Role::Viewer => "Viewer",
    }
}

/// "an editor", "a viewer".
fn with_article(role: Role) -> String {
    let name = role.as_str();
    match role {
        Role::Owner | Role::Editor => format!("an {name}"),
        Role::Viewer => format!("a {name}"),
    }
}

/// The optional "Max uses" field: empty for no limit, else a whole number from 1 to 100.
pub fn parse_max_uses(raw: &str) -> Result<Option<i64>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match raw.parse::<i64>() {
        Ok(n) if (1..=MAX_USES).contains(&n) => Ok(Some(n)),
        _ => Err(format!(
            "Max uses must be a whole number from 1 to {MAX_USES}, or empty for no limit."
        )),
    }
}

/// Whether an invitation can still be used: not expired and not used up.
pub fn is_live(invite: &Invite, now: OffsetDateTime) -> bool {
    invite.expires_at > now && invite.max_uses.is_none_or(|max| invite.uses < max)
}

/// "1 of 2 uses", "3 uses, no limit".
pub fn uses_text(uses: i64, max: Option<i64>) -> String {
    match max {
        Some(max) => format!("{uses} of {}", format::count(max, "use", "uses")),
        None => format!("{}, no limit", format::count(uses, "use", "uses")),
    }
}

fn now() -> OffsetDateTime {
    let nanos = js_sys::Date::now() as i128 * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// Puts `text` on the clipboard; false where the browser does not allow it (a page not
/// served over HTTPS, or permission refused).
pub(crate) async fn copy_to_clipboard(text: &str) -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let clipboard = Reflect::get(&window, &"navigator".into())
        .and_then(|navigator| Reflect::get(&navigator, &"clipboard".into()))
        .ok()
        .filter(|c| !c.is_undefined() && !c.is_null());
    let Some(clipboard) = clipboard else {
        return false;
    };
    let write = Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok());
    let Some(write) = write else {
        return false;
    };
    let Ok(promise) = write
        .call1(&clipboard, &JsValue::from_str(text))
        .and_then(|p| p.dyn_into::<Promise>())
    else {
        return false;
    };
    JsFuture::from(promise).await.is_ok()
}

/// Selects the link's text so it can be copied by hand, and tries the older way of copying.
pub(crate) fn select_for_copy(input: &HtmlInputElement) -> bool {
    let _ = input.focus();
    input.select();
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|document| {
            let exec = Reflect::get(&document, &"execCommand".into())
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            exec.call1(&document, &"copy".into()).ok()
        })
        .is_some_and(|copied| copied.as_bool() == Some(true))
}

/// Copies `text` to the clipboard or, where the browser refuses, selects it in `input` to be
/// copied by hand; `status` says which: `done`, or how to copy the selected `what`.
pub(crate) fn copy_or_select(
    text: String,
    input: NodeRef,
    status: UseStateHandle<String>,
    done: &'static str,
    what: &'static str,
) {
    wasm_bindgen_futures::spawn_local(async move {
        if copy_to_clipboard(&text).await {
            status.set(done.into());
            return;
        }
        let Some(input) = input.cast::<HtmlInputElement>() else {
            return;
        };
        status.set(if select_for_copy(&input) {
            done.into()
        } else {
            format!("The {what} is selected: press Ctrl+C (⌘C on a Mac) to copy it.")
        });
    });
}

#[function_component(Members)]
pub fn members(props: &HouseholdProps) -> Html {
    use_title("Members");
    let household = props.household.clone();
    let hid = household.id;
    let is_owner = household.role.is_owner();
    let session = use_session();
    let navigator = use_navigator();
    let me = session.user.as_ref().map(|u| u.id);

    let members = use_state(|| None::<Vec<Member>>);
    let invites = use_state(|| None::<Vec<Invite>>);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let confirm_remove = use_state(|| None::<UserId>);
    let confirm_leave = use_state(|| false);
    let leave_error = use_state(|| None::<ErrorBody>);

    {
        let (members, invites, error) = (members.clone(), invites.clone(), error.clone());
        let (session, household) = (session.clone(), household.clone());
        use_effect_with(is_owner, move |is_owner| {
            let mut is_owner = *is_owner;
            wasm_bindgen_futures::spawn_local(async move {
                match api::members(hid).await {
                    Ok(list) => {
                        // An owner may have changed this person's role since the app loaded:
                        // show what they may do now.
                        let fresh = list
                            .items
                            .iter()
                            .find(|m| Some(m.user_id) == me)
                            .map(|m| m.role);
                        if let Some(role) = fresh.filter(|r| *r != household.role) {
                            is_owner = role.is_owner();
                            session.dispatch(SessionAction::HouseholdChanged(Household {
                                role,
                                ..household
                            }));
                        }
                        members.set(Some(list.items));
                    }
                    Err(e) => error.set(Some(e)),
                }
                if is_owner {
                    match api::invites(hid).await {
                        Ok(list) => invites.set(Some(list.items)),
                        Err(e) => error.set(Some(e)),
                    }
                }
            });
        });
    }

    let change_role = |member: &Member| {
        let (members, error, session, household) = (
            members.clone(),
            error.clone(),
            session.clone(),
            household.clone(),
        );
        let (uid, was, name) = (member.user_id, member.role, member.name.clone());
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let Ok(role) = select.value().parse::<Role>() else {
                return;
            };
            if role == was {
                return;
            }
            let (members, error, session, household, name) = (
                members.clone(),
                error.clone(),
                session.clone(),
                household.clone(),
                name.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api::update_member(hid, uid, &UpdateMember { role }).await {
                    Ok(()) => {
                        error.set(None);
                        if let Some(list) = &*members {
                            let mut list = list.clone();
                            for m in list.iter_mut().filter(|m| m.user_id == uid) {
                                m.role = role;
                            }
                            members.set(Some(list));
                        }
                        let mine = session.user.as_ref().is_some_and(|u| u.id == uid);
                        if mine {
                            // What this person may do here changes with it.
                            session.dispatch(SessionAction::HouseholdChanged(Household {
                                role,
                                ..household
                            }));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: if mine {
                                format!("You are now {} here", with_article(role))
                            } else {
                                format!("{name} is now {}", with_article(role))
                            },
                            undo: None,
                        });
                    }
                    Err(e) => {
                        // Back to what the server still has.
                        select.set_value(was.as_str());
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    let ask_remove = |uid: Option<UserId>| {
        let confirm_remove = confirm_remove.clone();
        Callback::from(move |_: MouseEvent| confirm_remove.set(uid))
    };
    let remove = |member: &Member| {
        let (members, error, busy, confirm_remove, session) = (
            members.clone(),
            error.clone(),
            busy.clone(),
            confirm_remove.clone(),
            session.clone(),
        );
        let (uid, name) = (member.user_id, member.name.clone());
        Callback::from(move |_: MouseEvent| {
            let (members, error, busy, confirm_remove, session, name) = (
                members.clone(),
                error.clone(),
                busy.clone(),
                confirm_remove.clone(),
                session.clone(),
                name.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::remove_member(hid, uid).await;
                busy.set(false);
                confirm_remove.set(None);
                match result {
                    Ok(()) => {
                        error.set(None);
                        if let Some(list) = &*members {
                            let mut list = list.clone();
                            list.retain(|m| m.user_id != uid);
                            members.set(Some(list));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: format!("Removed {name} from the household"),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };

    let toggle_leave = {
        let (confirm_leave, leave_error) = (confirm_leave.clone(), leave_error.clone());
        Callback::from(move |_: MouseEvent| {
            leave_error.set(None);
            confirm_leave.set(!*confirm_leave);
        })
    };
    let leave = {
        let (busy, confirm_leave, leave_error, session, navigator) = (
            busy.clone(),
            confirm_leave.clone(),
            leave_error.clone(),
            session.clone(),
            navigator.clone(),
        );
        let name = household.name.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(me) = me else { return };
            let (busy, confirm_leave, leave_error, session, navigator, name) = (
                busy.clone(),
                confirm_leave.clone(),
                leave_error.clone(),
                session.clone(),
                navigator.clone(),
                name.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                match api::remove_member(hid, me).await {
                    Ok(()) => {
                        session.dispatch(SessionAction::Left(hid));
                        session.dispatch(SessionAction::Notify {
                            text: format!("You left “{name}”"),
                            undo: None,
                        });
                        if let Some(nav) = &navigator {
                            nav.replace(&Route::Dashboard);
                        }
                    }
                    Err(e) => {
                        busy.set(false);
                        confirm_leave.set(false);
                        leave_error.set(Some(e));
                    }
                }
            });
        })
    };

    let revoke = |invite: &Invite| {
        let (invites, error, session) = (invites.clone(), error.clone(), session.clone());
        let id = invite.id;
        Callback::from(move |_: MouseEvent| {
            let (invites, error, session) = (invites.clone(), error.clone(), session.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match api::revoke_invite(hid, id).await {
                    Ok(()) => {
                        error.set(None);
                        if let Some(list) = &*invites {
                            let mut list = list.clone();
                            list.retain(|i| i.id != id);
                            invites.set(Some(list));
                        }
                        session.dispatch(SessionAction::Notify {
                            text: "Invitation revoked: its link no longer works".into(),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let on_created = {
        let invites = invites.clone();
        Callback::from(move |invite: Invite| {
            let mut list = (*invites).clone().unwrap_or_default();
            list.insert(
                0,
                Invite {
                    code: None,
                    url: None,
                    ..invite
                },
            );
            invites.set(Some(list));
        })
    };

    let now = now();
    let live: Vec<&Invite> = invites
        .as_ref()
        .map(|list| list.iter().filter(|i| is_live(i, now)).collect())
        .unwrap_or_default();

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ household.name.clone() }</p>
                    <h1>{ "Members" }</h1>
                    <p class="muted">
                        { "Everyone here sees the household's items. Editors add and change them, viewers only look, and owners also decide who belongs." }
                    </p>
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            <section class="card member-card" aria-labelledby="members-heading">
                <div class="card-header">
                    <h2 id="members-heading">{ "People" }</h2>
                    if let Some(list) = &*members {
                        <span class="muted small">{ format::count(list.len() as i64, "member", "members") }</span>
                    }
                </div>
                { match &*members {
                    None if error.is_none() => html! { <p class="muted">{ "Loading…" }</p> },
                    None => html! {},
                    Some(list) => html! {
                        <ul class="member-list" aria-label="Members">
                            { for list.iter().map(|member| {
                                let mine = Some(member.user_id) == me;
                                let select_id = format!("role-{}", member.user_id);
                                let confirming = *confirm_remove == Some(member.user_id);
                                let confirm_id = format!("confirm-remove-{}", member.user_id);
                                html! {
                                    <li class="member-row" key={member.user_id.to_string()}>
                                        <div class="member-main">
                                            <span class="member-name">
                                                { member.name.clone() }
                                                if mine { <span class="muted">{ " (you)" }</span> }
                                            </span>
                                            <span class="member-meta">
                                                <span class="member-email">{ member.email.clone() }</span>
                                                { format!(" · joined {}", format::relative(member.joined_at)) }
                                            </span>
                                        </div>
                                        <div class="member-tools">
                                            if is_owner {
                                                <label for={select_id.clone()} class="visually-hidden">{ format!("Role for {}", member.name) }</label>
                                                <select id={select_id} class="role-select" onchange={change_role(member)}>
                                                    { for ROLES.iter().map(|(role, _)| html! {
                                                        <option value={role.as_str()} selected={*role == member.role}>{ role_name(*role) }</option>
                                                    }) }
                                                </select>
                                                if !mine {
                                                    <button type="button" class="button button-danger-ghost button-small"
                                                        aria-label={format!("Remove {}", member.name)}
                                                        aria-expanded={confirming.to_string()}
                                                        onclick={ask_remove((!confirming).then_some(member.user_id))}>
                                                        { "Remove" }
                                                    </button>
                                                }
                                            } else {
                                                <span class={classes!("role-badge", format!("role-{}", member.role.as_str()))}>{ role_name(member.role) }</span>
                                            }
                                        </div>
                                        if confirming {
                                            <div class="confirm member-confirm" role="group" aria-labelledby={confirm_id.clone()}>
                                                <p id={confirm_id}>
                                                    <strong>{ format!("Remove {} from “{}”?", member.name, household.name) }</strong>
                                                    { " They lose access straight away. A new invitation brings them back." }
                                                </p>
                                                <div class="row-actions">
                                                    <button type="button" class="button button-ghost" onclick={ask_remove(None)}>{ "Cancel" }</button>
                                                    <button type="button" class="button button-danger" onclick={remove(member)} disabled={*busy}>{ "Remove member" }</button>
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
            if is_owner {
                <InviteForm household={household.clone()} {on_created} />
                <section class="card" aria-labelledby="invites-heading">
                    <div class="card-header">
                        <h2 id="invites-heading">{ "Open invitations" }</h2>
                    </div>
                    if invites.is_none() && error.is_none() {
                        <p class="muted">{ "Loading…" }</p>
                    } else if live.is_empty() {
                        <p class="muted">{ "No open invitations. Links that expired or were used up are not shown." }</p>
                    } else {
                        <ul class="invite-list" aria-label="Invitations">
                            { for live.iter().map(|invite| {
                                let about = format!("invite-{}", invite.id);
                                html! {
                                    <li class="invite-row" key={invite.id.to_string()}>
                                        <div class="invite-main" id={about.clone()}>
                                            <span class="invite-role">{ format!("{} link", role_name(invite.role)) }</span>
                                            <span class="member-meta">
                                                { format!("{} · expires {} · created {}",
                                                    uses_text(invite.uses, invite.max_uses),
                                                    format::date_time(invite.expires_at),
                                                    format::relative(invite.created_at)) }
                                            </span>
                                        </div>
                                        <button type="button" class="button button-danger-ghost button-small"
                                            aria-describedby={about} onclick={revoke(invite)}>{ "Revoke" }</button>
                                    </li>
                                }
                            }) }
                        </ul>
                    }
                </section>
            }
            <section class="card leave-card" aria-labelledby="leave-heading">
                <h2 id="leave-heading">{ "Leave this household" }</h2>
                <p class="muted">{ format!("You'll no longer see “{}” or its items. To come back, you'll need a new invitation.", household.name) }</p>
                <ErrorAlert error={(*leave_error).clone()} />
                if *confirm_leave {
                    <div class="confirm" role="group" aria-labelledby="confirm-leave">
                        <p id="confirm-leave"><strong>{ format!("Leave “{}”?", household.name) }</strong></p>
                        <div class="row-actions">
                            <button type="button" class="button button-ghost" onclick={toggle_leave.clone()}>{ "Stay" }</button>
                            <button type="button" class="button button-danger" onclick={leave} disabled={*busy}>{ "Yes, leave" }</button>
                        </div>
                    </div>
                } else {
                    <div class="row-actions">
                        <button type="button" class="button button-danger-ghost" onclick={toggle_leave}
                            aria-expanded="false">{ "Leave household" }</button>
                    </div>
                }
            </section>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct InviteFormProps {
    household: Household,
    on_created: Callback<Invite>,
}

/// Makes an invitation link and shows it, once.
#[function_component(InviteForm)]
fn invite_form(props: &InviteFormProps) -> Html {
    let hid = props.household.id;
    let role = use_state(|| Role::Editor);
    let expires = use_state(|| DEFAULT_EXPIRY);
    let max_uses = use_state(String::new);
    let max_error = use_state(|| None::<String>);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let created = use_state(|| None::<Invite>);
    let copied = use_state(String::new);
    let link_ref = use_node_ref();

    let onsubmit = {
        let (role, expires, max_uses, max_error, error, busy, created, copied) = (
            role.clone(),
            expires.clone(),
            max_uses.clone(),
            max_error.clone(),
            error.clone(),
            busy.clone(),
            created.clone(),
            copied.clone(),
        );
        let on_created = props.on_created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let limit = match parse_max_uses(&max_uses) {
                Ok(limit) => limit,
                Err(message) => {
                    max_error.set(Some(message));
                    return;
                }
            };
            max_error.set(None);
            let body = CreateInvite {
                role: *role,
                expires_in: Some(*expires),
                max_uses: limit,
            };
            let (max_uses, max_error, error, busy, created, copied, on_created) = (
                max_uses.clone(),
                max_error.clone(),
                error.clone(),
                busy.clone(),
                created.clone(),
                copied.clone(),
                on_created.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::create_invite(hid, &body).await;
                busy.set(false);
                match result {
                    Ok(invite) => {
                        error.set(None);
                        copied.set(String::new());
                        max_uses.set(String::new());
                        on_created.emit(invite.clone());
                        created.set(Some(invite));
                    }
                    Err(e) => {
                        if let Some(problem) = e.field_errors().get("max_uses") {
                            max_error.set(Some(format!("Max uses {problem}")));
                        }
                        error.set(Some(e));
                    }
                }
            });
        })
    };
    let copy = {
        let (created, copied, link_ref) = (created.clone(), copied.clone(), link_ref.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(url) = created.as_ref().and_then(|i| i.url.clone()) else {
                return;
            };
            copy_or_select(
                url,
                link_ref.clone(),
                copied.clone(),
                "Link copied. Paste it into a message to the person you're inviting.",
                "link",
            );
        })
    };
    let select_all = Callback::from(|e: FocusEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.select();
    });

    let role_options: Vec<(String, String)> = ROLES
        .iter()
        .rev()
        .map(|(r, _)| (r.as_str().to_string(), role_name(*r).to_string()))
        .collect();
    let expiry_options: Vec<(String, String)> = EXPIRIES
        .iter()
        .map(|(seconds, label)| (seconds.to_string(), label.to_string()))
        .collect();
    let role_hint = ROLES
        .iter()
        .find(|(r, _)| *r == *role)
        .map(|(r, what)| format!("{}s {what}.", role_name(*r)))
        .unwrap_or_default();

    html! {
        <section class="card invite-form" aria-labelledby="invite-heading">
            <h2 id="invite-heading">{ "Invite someone" }</h2>
            <p class="muted">{ format!("Make a link and send it to the people you want in “{}”. They join once they've signed in.", props.household.name) }</p>
            <ErrorAlert error={(*error).clone()} />
            <form class="invite-fields" {onsubmit} novalidate=true>
                <div class="field-with-hint">
                    <SelectField id="invite-role" label="Role" options={role_options}
                        value={role.as_str().to_string()}
                        onchange={let role = role.clone(); Callback::from(move |v: String| {
                            if let Ok(r) = v.parse() { role.set(r) }
                        })} />
                    <p class="field-hint">{ role_hint }</p>
                </div>
                <SelectField id="invite-expires" label="Expires in" options={expiry_options}
                    value={expires.to_string()}
                    onchange={let expires = expires.clone(); Callback::from(move |v: String| {
                        if let Ok(s) = v.parse() { expires.set(s) }
                    })} />
                <TextInput id="invite-max-uses" label="Max uses" kind="number" inputmode="numeric"
                    value={(*max_uses).clone()} hint="Empty for no limit."
                    oninput={let max_uses = max_uses.clone(); Callback::from(move |v| max_uses.set(v))}
                    error={(*max_error).clone()} />
                <div class="invite-submit">
                    <button type="submit" class="button button-primary" disabled={*busy}>{ "Create invitation link" }</button>
                </div>
            </form>
            if let Some(invite) = &*created {
                if let Some(url) = &invite.url {
                    <div class="invite-link">
                        <div class="field">
                            <label for="invite-link">{ "Invitation link" }</label>
                            <div class="copy-row">
                                <input id="invite-link" type="text" readonly=true value={url.clone()}
                                    ref={link_ref} onfocus={select_all} aria-describedby="invite-link-hint" />
                                <button type="button" class="button button-secondary" onclick={copy}>{ "Copy link" }</button>
                            </div>
                            <p class="field-hint" id="invite-link-hint">
                                { format!("Anyone with this link can join as {} until {}. It is shown only this once: copy it now.",
                                    with_article(invite.role), format::date_time(invite.expires_at)) }
                            </p>
                        </div>
                        <p class="copy-status" role="status">{ (*copied).clone() }</p>
                    </div>
                }
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::InviteId;
    use time::Duration;

    fn invite(expires_in: Duration, uses: i64, max_uses: Option<i64>) -> Invite {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        Invite {
            id: InviteId::new(),
            role: Role::Editor,
            code: None,
            url: None,
            expires_at: now + expires_in,
            max_uses,
            uses,
            created_at: now,
        }
    }

    #[test]
    fn max_uses_is_empty_or_a_whole_number_up_to_a_hundred() {
        assert_eq!(parse_max_uses(""), Ok(None));
        assert_eq!(parse_max_uses("  "), Ok(None));
        assert_eq!(parse_max_uses(" 3 "), Ok(Some(3)));
        assert_eq!(parse_max_uses("100"), Ok(Some(100)));
        for bad in ["0", "101", "-1", "2.5", "two"] {
            assert!(parse_max_uses(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn expired_and_used_up_invitations_are_not_live() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(20_000);
        assert!(is_live(&invite(Duration::hours(1), 0, None), now));
        assert!(is_live(&invite(Duration::hours(1), 1, Some(2)), now));
        assert!(!is_live(&invite(Duration::hours(1), 2, Some(2)), now));
        assert!(!is_live(&invite(Duration::seconds(0), 0, None), now));
        assert!(!is_live(&invite(-Duration::hours(1), 0, Some(5)), now));
    }

    #[test]
    fn uses_read_as_words() {
        assert_eq!(uses_text(0, Some(2)), "0 of 2 uses");
        assert_eq!(uses_text(1, Some(1)), "1 of 1 use");
        assert_eq!(uses_text(1, None), "1 use, no limit");
        assert_eq!(uses_text(3, None), "3 uses, no limit");
    }
}

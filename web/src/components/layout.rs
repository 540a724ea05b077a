//! The frame around every signed-in page: header with the household switcher, the main
//! navigation, the page itself, and the notice of what just happened.

use gloo_timers::callback::Timeout;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::OfflineStatus;
use crate::hooks::{SessionAction, use_session};
use crate::local;

const NEW_HOUSEHOLD: &str = "new";

#[derive(Properties, PartialEq)]
pub struct LayoutProps {
    pub route: Route,
    pub children: Html,
}

/// Which navigation entry a route belongs to.
fn section(route: &Route) -> Option<usize> {
    match route {
        Route::Dashboard => Some(0),
        Route::Items | Route::NewItem | Route::Item { .. } | Route::EditItem { .. } => Some(1),
        Route::Locations | Route::Location { .. } => Some(2),
        Route::Trash => Some(3),
        Route::Members => Some(4),
        Route::Capture => Some(5),
        Route::Scan | Route::Label { .. } => Some(6),
        _ => None,
    }
}

#[function_component(Layout)]
pub fn layout(props: &LayoutProps) -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let signing_out = use_state(|| false);
    let account_open = use_state(|| false);
    let account_button = use_node_ref();
    let first_route = use_mut_ref(|| true);
    {
        let account_open = account_open.clone();
        use_effect_with(props.route.clone(), move |_| {
            account_open.set(false);
            // A new page: start at its top, and let screen readers start reading there too.
            if !std::mem::replace(&mut *first_route.borrow_mut(), false) {
                focus_main();
            }
        });
    }

    let on_switch = {
        let session = session.clone();
        let navigator = navigator.clone();
        Callback::from(move |e: Event| {
            let select: HtmlSelectElement = e.target_unchecked_into();
            let value = select.value();
            if value == NEW_HOUSEHOLD {
                if let Some(nav) = &navigator {
                    nav.push(&Route::NewHousehold);
                }
                // Keep showing the household that is still current.
                if let Some(current) = session.household() {
                    select.set_value(&current.id.to_string());
                }
            } else if let Ok(id) = value.parse() {
                session.dispatch(SessionAction::Switch(id));
                if let Some(nav) = &navigator {
                    nav.push(&Route::Dashboard);
                }
            }
        })
    };
    let on_sign_out = {
        let session = session.clone();
        let signing_out = signing_out.clone();
        Callback::from(move |_: MouseEvent| {
            let status = local::status(None);
            let waiting = status.waiting + status.stuck;
            if waiting > 0 {
                let question = format!(
                    "{} not sent yet will be lost if you sign out now. Sign out anyway?",
                    crate::components::changes_waiting(waiting)
                );
                let sure = web_sys::window()
                    .and_then(|w| w.confirm_with_message(&question).ok())
                    .unwrap_or(false);
                if !sure {
                    return;
                }
            }
            let session = session.clone();
            signing_out.set(true);
            let signing_out = signing_out.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::logout().await {
                    Ok(()) => {
                        local::erase().await;
                        session.dispatch(SessionAction::SignedOut);
                    }
                    Err(e) => {
                        signing_out.set(false);
                        session.dispatch(SessionAction::Notify {
                            text: format!("Could not sign out: {}", e.error.message),
                            undo: None,
                        });
                    }
                }
            });
        })
    };

    let current = session
        .household()
        .map(|h| h.id.to_string())
        .unwrap_or_default();
    let active = section(&props.route);
    let nav_link = |index: usize, route: Route, label: &'static str, icon: Html| {
        // Taking photos is the main thing to do on a phone: its entry stands out there.
        let capture = route == Route::Capture;
        let is_current = active == Some(index);
        let href = route.to_path();
        let onclick = {
            let navigator = navigator.clone();
            Callback::from(move |e: MouseEvent| {
                if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
                    return;
                }
                e.prevent_default();
                if let Some(nav) = &navigator {
                    nav.push(&route);
                }
            })
        };
        html! {
            <a {href} {onclick} class={classes!("nav-link", is_current.then_some("current"), capture.then_some("nav-capture"))}
                aria-current={is_current.then_some("page")}>
                <span class="nav-icon" aria-hidden="true">{ icon }</span>
                <span class="nav-label">{ label }</span>
            </a>
        }
    };
    let user_name = session
        .user
        .as_ref()
        .map(|u| u.name.clone())
        .unwrap_or_default();
    let user_email = session
        .user
        .as_ref()
        .map(|u| u.email.clone())
        .unwrap_or_default();
    let toggle_account = {
        let account_open = account_open.clone();
        Callback::from(move |_: MouseEvent| account_open.set(!*account_open))
    };
    let close_account = {
        let account_open = account_open.clone();
        Callback::from(move |_: MouseEvent| account_open.set(false))
    };
    // Escape closes the menu and gives the focus back to its button.
    let account_keys = {
        let (account_open, account_button) = (account_open.clone(), account_button.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" && *account_open {
                account_open.set(false);
                if let Some(button) = account_button.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
        })
    };
    let menu_link = |route: Route, label: &'static str| {
        let navigator = navigator.clone();
        let href = route.to_path();
        let current = (props.route == route).then_some("page");
        let onclick = Callback::from(move |e: MouseEvent| {
            if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
                return;
            }
            e.prevent_default();
            if let Some(nav) = &navigator {
                nav.push(&route);
            }
        });
        html! {
            <a class="account-link" {href} {onclick} aria-current={current}>{ label }</a>
        }
    };

    html! {
        <div class="app">
            <a class="skip-link" href="#main">{ "Skip to content" }</a>
            <header class="topbar">
                <div class="topbar-inner">
                    <Link<Route> to={Route::Dashboard} classes="brand">
                        <img src="/icon.svg" alt="" width="28" height="28" />
                        <span class="brand-name">{ "Home Inventory" }</span>
                    </Link<Route>>
                    <div class="topbar-tools">
                        if let Some(h) = session.household() {
                            <OfflineStatus household={h.id} />
                        }
                        <div class="household-switcher">
                            <label for="household-select" class="visually-hidden">{ "Household" }</label>
                            <select id="household-select" onchange={on_switch}>
                                { for session.households.iter().map(|h| html! {
                                    <option value={h.id.to_string()} selected={h.id.to_string() == current}>{ h.name.clone() }</option>
                                }) }
                                <option value={NEW_HOUSEHOLD}>{ "New household…" }</option>
                            </select>
                        </div>
                        <div class="account" onkeydown={account_keys}>
                            <button type="button" class="account-button" ref={account_button}
                                aria-expanded={account_open.to_string()} aria-controls="account-menu"
                                onclick={toggle_account}>
                                <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><circle cx="12" cy="8.5" r="3.8" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M4.5 20c.8-3.6 3.9-6 7.5-6s6.7 2.4 7.5 6" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                                <span class="visually-hidden">{ "Account" }</span>
                                <span class="user-name">{ user_name.clone() }</span>
                            </button>
                            if *account_open {
                                <div class="account-backdrop" onclick={close_account}></div>
                                <div id="account-menu" class="account-menu">
                                    <p class="account-who">
                                        <strong>{ user_name }</strong>
                                        <span>{ user_email }</span>
                                    </p>
                                    { menu_link(Route::Maintenance, "Maintenance") }
                                    { menu_link(Route::Warranties, "Warranties") }
                                    { menu_link(Route::ImportExport, "Import & export") }
                                    { menu_link(Route::Reports, "Reports") }
                                    { menu_link(Route::ShareLinks, "Share links") }
                                    { menu_link(Route::Tokens, "API tokens") }
                                    { menu_link(Route::Security, "Security") }
                                    { menu_link(Route::Settings, "Settings") }
                                    <a class="account-link" href="/api/docs">{ "API docs" }</a>
                                    <button type="button" class="account-link" onclick={on_sign_out} disabled={*signing_out}>
                                        { "Sign out" }
                                    </button>
                                </div>
                            }
                        </div>
                    </div>
                </div>
            </header>
            <nav class="mainnav" aria-label="Main">
                <div class="mainnav-inner">
                    { nav_link(0, Route::Dashboard, "Dashboard", html! {
                        <svg viewBox="0 0 24 24"><path d="M4 11l8-7 8 7v9a1 1 0 01-1 1h-4v-6H9v6H5a1 1 0 01-1-1z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/></svg>
                    }) }
                    { nav_link(1, Route::Items, "Items", html! {
                        <svg viewBox="0 0 24 24"><path d="M4 8l8-4 8 4-8 4zM4 8v8l8 4 8-4V8M12 12v8" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/></svg>
                    }) }
                    { nav_link(5, Route::Capture, "Capture", html! {
                        <svg viewBox="0 0 24 24"><path d="M4 8.5A1.5 1.5 0 015.5 7h2.3l1.5-2h5.4l1.5 2h2.3A1.5 1.5 0 0120 8.5v9a1.5 1.5 0 01-1.5 1.5h-13A1.5 1.5 0 014 17.5z" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/><circle cx="12" cy="12.5" r="3.3" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>
                    }) }
                    { nav_link(6, Route::Scan, "Scan", html! {
                        <svg viewBox="0 0 24 24"><path d="M4 8V5.5A1.5 1.5 0 015.5 4H8M16 4h2.5A1.5 1.5 0 0120 5.5V8M20 16v2.5a1.5 1.5 0 01-1.5 1.5H16M8 20H5.5A1.5 1.5 0 014 18.5V16M7 12h10" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/></svg>
                    }) }
                    { nav_link(2, Route::Locations, "Locations", html! {
                        <svg viewBox="0 0 24 24"><path d="M12 21s-7-6.2-7-11.5A7 7 0 0119 9.5C19 14.8 12 21 12 21z" fill="none" stroke="currentColor" stroke-width="1.8"/><circle cx="12" cy="9.5" r="2.5" fill="none" stroke="currentColor" stroke-width="1.8"/></svg>
                    }) }
                    { nav_link(3, Route::Trash, "Trash", html! {
                        <svg viewBox="0 0 24 24"><path d="M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linejoin="round"/></svg>
                    }) }
                    { nav_link(4, Route::Members, "Members", html! {
                        <svg viewBox="0 0 24 24"><circle cx="9" cy="8" r="3.2" fill="none" stroke="currentColor" stroke-width="1.8"/><path d="M3 20c0-3.3 2.7-6 6-6s6 2.7 6 6M16 4.8a3.2 3.2 0 010 6.4M18 14.3c1.8.8 3 2.6 3 4.7" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                    }) }
                </div>
            </nav>
            <main id="main" class="main" tabindex="-1">
                { props.children.clone() }
            </main>
            <NoticeToast />
        </div>
    }
}

fn focus_main() {
    let Some(window) = web_sys::window() else {
        return;
    };
    window.scroll_to_with_x_and_y(0.0, 0.0);
    if let Some(main) = window
        .document()
        .and_then(|d| d.get_element_by_id("main"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = main.focus();
    }
}

/// The notice of what just happened ("Moved to trash"), with an undo where there is one.
#[function_component(NoticeToast)]
fn notice_toast() -> Html {
    let session = use_session();
    let navigator = use_navigator();
    let notice = session.notice.clone();
    {
        let session = session.clone();
        use_effect_with(notice.as_ref().map(|n| n.id), move |id| {
            let timeout =
                id.map(|_| Timeout::new(10_000, move || session.dispatch(SessionAction::Dismiss)));
            move || drop(timeout)
        });
    }
    let dismiss = {
        let session = session.clone();
        Callback::from(move |_: MouseEvent| session.dispatch(SessionAction::Dismiss))
    };
    let undo = notice.as_ref().and_then(|n| n.undo).map(|item| {
        let session = session.clone();
        let navigator = navigator.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(hid) = session.household().map(|h| h.id) else {
                return;
            };
            let session = session.clone();
            let navigator = navigator.clone();
            wasm_bindgen_futures::spawn_local(async move {
                match api::restore_item(hid, item, "").await {
                    Ok(restored) => {
                        session.dispatch(SessionAction::Notify {
                            text: format!("Restored “{}”", restored.name),
                            undo: None,
                        });
                        if let Some(nav) = &navigator {
                            nav.push(&Route::Item { id: restored.id });
                        }
                    }
                    Err(e) => session.dispatch(SessionAction::Notify {
                        text: format!("Could not restore: {}", e.error.message),
                        undo: None,
                    }),
                }
            });
        })
    });
    html! {
        <div class="toast-region" role="status" aria-live="polite">
            if let Some(notice) = notice {
                <div class="toast" key={notice.id}>
                    <span>{ notice.text.clone() }</span>
                    if let Some(undo) = undo {
                        <button type="button" class="button button-small button-inverse" onclick={undo}>{ "Undo" }</button>
                    }
                    <button type="button" class="icon-button toast-close" aria-label="Dismiss" onclick={dismiss}>
                        <svg viewBox="0 0 20 20" aria-hidden="true" focusable="false"><path d="M5 5l10 10M15 5L5 15" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg>
                    </button>
                </div>
            }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct SplashProps {
    #[prop_or_default]
    pub children: Html,
}

/// A full-page placeholder while the app finds out who is signed in.
#[function_component(Splash)]
pub fn splash(props: &SplashProps) -> Html {
    html! {
        <main id="main" class="splash">
            <img src="/icon.svg" alt="" width="56" height="56" />
            { props.children.clone() }
        </main>
    }
}

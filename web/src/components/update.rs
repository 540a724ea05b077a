//! The service worker (`web/sw.js`) that keeps this build so the app opens offline, and
//! the prompt that a newer build is ready.
//!
//! A release build registers the worker. When a newer build has been deployed, its worker
//! installs beside the running one and waits; the page then says "A new version is ready"
//! with a Reload button. Reload waits until no change or photo is on its way to the server,
//! tells the new worker to take over, and reloads once it has. A debug build registers no
//! worker and removes any left from an earlier release build on the same address.

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::callback::Interval;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};
use yew::prelude::*;

use crate::api;
use crate::pages::shots_in_flight;

/// What the worker's `message` listener understands as "take over now".
const ACTIVATE: &str = "activate-update";

/// The "A new version is ready" bar, shown when a newer build waits to take over.
#[function_component(UpdatePrompt)]
pub fn update_prompt() -> Html {
    let waiting = use_state(|| None::<ServiceWorker>);
    let reloading = use_state(|| false);
    {
        let waiting = waiting.clone();
        use_effect_with((), move |()| {
            let on_ready = Callback::from(move |worker| waiting.set(Some(worker)));
            wasm_bindgen_futures::spawn_local(async move {
                if cfg!(debug_assertions) {
                    remove_workers().await;
                } else {
                    register(on_ready).await;
                }
            });
        });
    }
    let reload = {
        let waiting = waiting.clone();
        let reloading = reloading.clone();
        Callback::from(move |_: MouseEvent| {
            let Some(worker) = (*waiting).clone() else {
                return;
            };
            reloading.set(true);
            reload_when_idle(worker);
        })
    };
    let Some(_) = &*waiting else {
        return html! {};
    };
    html! {
        <div class="update-bar" role="status">
            <span>{ if *reloading && busy() { "Saving your changes, then reloading…" } else { "A new version is ready" } }</span>
            <button type="button" class="button button-small button-inverse" onclick={reload} disabled={*reloading}>
                { "Reload" }
            </button>
        </div>
    }
}

/// Changes or photos on their way to the server, which a reload would cut off.
fn busy() -> bool {
    api::changes_in_flight() > 0 || shots_in_flight() > 0
}

/// The page's service workers, where the browser has them (only on https and localhost).
fn container() -> Option<ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    js_sys::Reflect::has(&navigator, &"serviceWorker".into())
        .unwrap_or(false)
        .then(|| navigator.service_worker())
}

/// Registers `/sw.js` and calls `on_ready` with a newer worker once one is installed and
/// waiting (now, or whenever a deploy brings one).
async fn register(on_ready: Callback<ServiceWorker>) {
    let Some(container) = container() else {
        return;
    };
    let Ok(registration) = JsFuture::from(container.register("/sw.js")).await else {
        return;
    };
    let registration: ServiceWorkerRegistration = registration.unchecked_into();
    // A newer worker already installed and waiting, or installing as the page loaded (a
    // navigation checks for one before the app starts), or found later.
    if let Some(worker) = registration.waiting() {
        when_installed(&worker, &on_ready);
    }
    if let Some(worker) = registration.installing() {
        when_installed(&worker, &on_ready);
    }
    let found = {
        let registration = registration.clone();
        Closure::<dyn FnMut()>::new(move || {
            if let Some(worker) = registration.installing() {
                when_installed(&worker, &on_ready);
            }
        })
    };
    registration.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
    found.forget();
    // An open page hears of a deploy without waiting for the next navigation.
    let hourly = Interval::new(60 * 60 * 1000, move || {
        let _ = registration.update();
    });
    hourly.forget();
}

/// Calls `on_ready` with `worker` once it is installed, if it is an update: a worker
/// already controls the page (the first worker of a browser takes over by itself).
fn when_installed(worker: &ServiceWorker, on_ready: &Callback<ServiceWorker>) {
    let is_update = || container().is_some_and(|c| c.controller().is_some());
    if worker.state() == ServiceWorkerState::Installed {
        if is_update() {
            on_ready.emit(worker.clone());
        }
        return;
    }
    let watched = worker.clone();
    let on_ready = on_ready.clone();
    let changed = Closure::<dyn FnMut()>::new(move || {
        if watched.state() == ServiceWorkerState::Installed && is_update() {
            on_ready.emit(watched.clone());
        }
    });
    worker.set_onstatechange(Some(changed.as_ref().unchecked_ref()));
    changed.forget();
}

/// Once nothing is on its way to the server: the waiting worker takes over, and the page
/// reloads into the new build when it has.
fn reload_when_idle(worker: ServiceWorker) {
    let Some(container) = container() else {
        return;
    };
    let reload = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
    reload.forget();
    let sent = Rc::new(Cell::new(false));
    let poll = Interval::new(200, move || {
        if !sent.get() && !busy() {
            sent.set(true);
            let _ = worker.post_message(&wasm_bindgen::JsValue::from_str(ACTIVATE));
        }
    });
    poll.forget();
}

/// Unregisters every worker of this address (a debug build keeps none).
async fn remove_workers() {
    let Some(container) = container() else {
        return;
    };
    let Ok(registrations) = JsFuture::from(container.get_registrations()).await else {
        return;
    };
    for registration in js_sys::Array::from(&registrations).iter() {
        let registration: ServiceWorkerRegistration = registration.unchecked_into();
        if let Ok(done) = registration.unregister() {
            let _ = JsFuture::from(done).await;
        }
    }
}

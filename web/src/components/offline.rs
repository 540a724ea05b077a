//! Keeping the household's offline copy current and the outbox moving, and the badge that
//! says where the changes made here stand.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::hooks::{SessionAction, use_session};
use crate::local;

/// How often the copy asks the server for changes while the page is open and visible.
const SYNC_EVERY_MS: u32 = 60_000;

/// "1 change" or "N changes".
pub fn changes_waiting(n: usize) -> String {
    if n == 1 {
        "1 change".to_string()
    } else {
        format!("{n} changes")
    }
}

/// Sends the outbox and syncs the household now.
fn catch_up(hid: shared::HouseholdId) {
    wasm_bindgen_futures::spawn_local(async move {
        local::send_waiting().await;
        local::sync(hid).await;
    });
}

/// Listens to `event` on `target` while it lives.
pub struct Listener {
    target: web_sys::EventTarget,
    event: &'static str,
    closure: Closure<dyn FnMut()>,
}

impl Listener {
    pub fn new(
        target: web_sys::EventTarget,
        event: &'static str,
        f: impl FnMut() + 'static,
    ) -> Self {
        let closure = Closure::<dyn FnMut()>::new(f);
        let _ = target.add_event_listener_with_callback(event, closure.as_ref().unchecked_ref());
        Self {
            target,
            event,
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.event, self.closure.as_ref().unchecked_ref());
    }
}

#[derive(Properties, PartialEq)]
pub struct OfflineStatusProps {
    pub household: shared::HouseholdId,
}

/// The badge ("Offline", "N changes waiting", "Sending…", "All changes saved"), and the
/// events and timer that keep the copy and the outbox moving: on start, when the network
/// returns, when the page is shown again, and every minute.
#[function_component(OfflineStatus)]
pub fn offline_status(props: &OfflineStatusProps) -> Html {
    let session = use_session();
    let redraw = use_force_update();
    {
        let session = session.clone();
        let went_offline = redraw.clone();
        use_effect_with(props.household, move |hid| {
            let hid = *hid;
            catch_up(hid);
            local::persist();
            let listening = local::listen(Callback::from(move |()| {
                if let Some(text) = local::take_notice() {
                    session.dispatch(SessionAction::Notify { text, undo: None });
                }
                if local::status(None).sending == "signin" {
                    api::session_ended();
                }
                redraw.force_update();
            }));
            let window = web_sys::window();
            let online = window
                .clone()
                .map(|w| Listener::new(w.into(), "online", move || catch_up(hid)));
            let offline = window
                .clone()
                .map(|w| Listener::new(w.into(), "offline", move || went_offline.force_update()));
            let shown = window.and_then(|w| w.document()).map(|d| {
                let document = d.clone();
                Listener::new(d.into(), "visibilitychange", move || {
                    if !document.hidden() {
                        catch_up(hid);
                    }
                })
            });
            let timer = gloo_timers::callback::Interval::new(SYNC_EVERY_MS, move || {
                let hidden = web_sys::window()
                    .and_then(|w| w.document())
                    .is_some_and(|d| d.hidden());
                if !hidden {
                    catch_up(hid);
                }
            });
            move || drop((listening, online, offline, shown, timer))
        });
    }

    let status = local::status(Some(props.household));
    let (text, tone) = status.badge;
    html! {
        <div class="sync-status" role="status">
            if status.offline {
                <span class="badge badge-offline">{ "Offline" }</span>
            }
            <Link<Route> to={Route::Waiting} classes={classes!("sync-badge", format!("sync-{tone}"))}>
                { text }
            </Link<Route>>
        </div>
    }
}

//! The capture page, made for a phone held in one hand: the rear camera, a big shutter at
//! the bottom, and a queue of shots that upload and are recognised in the background while
//! the next photo is taken. Each object seen becomes an item with one tap (or after an
//! edit, or goes to an item that already exists); the photo is filed into it.
//!
//! Without a camera (refused, missing, or not over https) photos are taken or chosen with
//! the device's own picker. Without recognition on the server, each shot asks for a name.

pub(super) mod camera;
mod card;
mod flow;
mod shot;
mod store;

pub use store::shots_in_flight;

use std::rc::Rc;

use shared::{ErrorBody, HouseholdId, Location, LocationId, TagCount};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, File, HtmlInputElement, HtmlVideoElement, MediaStream};
use yew::prelude::*;

use self::card::{ShotCard, ShotEvent, location_name};
use self::flow::{Bytes, Ctx, PhotoUse};
use self::shot::{Action, Key, Resume, Shot, Stage};
use crate::api;
use crate::components::{ErrorAlert, Listener, LocationPicker};
use crate::hooks::use_title;
use crate::pages::HouseholdProps;

/// Where the chosen location is kept between visits, per household.
fn location_key(hid: HouseholdId) -> String {
    format!("home-inventory.capture-location.{hid}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn stored_location(hid: HouseholdId) -> Option<LocationId> {
    storage()
        .and_then(|s| s.get_item(&location_key(hid)).ok().flatten())
        .and_then(|raw| raw.parse().ok())
}

fn store_location(hid: HouseholdId, id: Option<LocationId>) {
    if let Some(storage) = storage() {
        // Losing it only means choosing again next time.
        let _ = match id {
            Some(id) => storage.set_item(&location_key(hid), &id.to_string()),
            None => storage.remove_item(&location_key(hid)),
        };
    }
}

#[derive(Clone, PartialEq)]
enum Camera {
    Starting,
    Live,
    /// Why not, in words; the file picker takes its place.
    Unavailable(String),
}

#[function_component(Capture)]
pub fn capture(props: &HouseholdProps) -> Html {
    use_title("Capture");
    // Viewers look but don't add: no camera for them.
    let can_write = props.household.role.can_write();
    let hid = props.household.id;
    let currency = props.household.currency.clone();
    let redraw = use_force_update();
    // The queue lives on while the page is away (see `store`).
    let queue = store::queue(hid);
    {
        let redraw = redraw.clone();
        use_effect_with(hid, move |hid| {
            let hid = *hid;
            let listener = Callback::from(move |()| redraw.force_update());
            store::listen(hid, listener.clone());
            // Shots taken on an earlier visit, or news that came in between.
            listener.emit(());
            if store::to_restore(hid) {
                wasm_bindgen_futures::spawn_local(flow::restore(Ctx { hid }));
            }
            // Shots that could not be sent go again when the network returns.
            let online = web_sys::window()
                .map(|w| Listener::new(w.into(), "online", move || flow::retry_all(Ctx { hid })));
            move || {
                drop(online);
                store::unlisten();
            }
        });
    }
    let locations = use_state(|| None::<Rc<Vec<Location>>>);
    let tags = use_state(|| Rc::new(Vec::<TagCount>::new()));
    let error = use_state(|| None::<ErrorBody>);
    let target = use_state(|| stored_location(hid));
    let camera = use_state(|| Camera::Starting);
    let video = use_node_ref();
    let stream = use_mut_ref(|| None::<MediaStream>);
    let flash = use_state(|| 0u32);
    let ctx = Ctx { hid };

    // The household's locations and tags.
    {
        let (locations, tags, error, target) = (
            locations.clone(),
            tags.clone(),
            error.clone(),
            target.clone(),
        );
        use_effect_with(hid, move |hid| {
            let hid = *hid;
            wasm_bindgen_futures::spawn_local(async move {
                match api::locations(hid).await {
                    Ok(list) => {
                        // A kept location that is gone since is forgotten.
                        if let Some(id) = *target
                            && !list.items.iter().any(|l| l.id == id)
                        {
                            target.set(None);
                            store_location(hid, None);
                        }
                        locations.set(Some(Rc::new(list.items)));
                    }
                    Err(e) => error.set(Some(e)),
                }
                if let Ok(list) = api::tags(hid).await {
                    tags.set(Rc::new(list.items));
                }
            });
        });
    }

    // The camera, on while the page is open.
    {
        let (camera, video, stream) = (camera.clone(), video.clone(), stream.clone());
        use_effect_with(can_write, move |can_write| {
            let open = Rc::new(std::cell::Cell::new(*can_write));
            if *can_write {
                let open = open.clone();
                let stream = stream.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match camera::open().await {
                        Ok(live) if open.get() => {
                            let element = video.cast::<HtmlVideoElement>();
                            if let Some(element) = &element {
                                element.set_muted(true);
                                element.set_src_object(Some(&live));
                            }
                            *stream.borrow_mut() = Some(live);
                            // Autoplay starts it too (and `playing` says so).
                            if let Some(Ok(started)) = element.map(|e| e.play()) {
                                let playing = JsFuture::from(started).await.is_ok();
                                if playing && open.get() {
                                    camera.set(Camera::Live);
                                }
                            }
                        }
                        // The page closed while the camera was starting.
                        Ok(live) => camera::stop(&live),
                        Err(reason) if open.get() => camera.set(Camera::Unavailable(reason)),
                        Err(_) => {}
                    }
                });
            }
            move || {
                open.set(false);
                if let Some(live) = stream.borrow_mut().take() {
                    camera::stop(&live);
                }
            }
        });
    }
    let on_playing = {
        let camera = camera.clone();
        Callback::from(move |_: Event| camera.set(Camera::Live))
    };

    // A new shot: queued, and sent at once.
    let enqueue = {
        let target = target.clone();
        Callback::from(move |(blob, content_type): (Blob, String)| {
            let number = store::next_number();
            let shot = Shot {
                key: number,
                number,
                content_type,
                preview: web_sys::Url::create_object_url_with_blob(&blob).unwrap_or_default(),
                location: *target,
                photo: None,
                stage: Stage::Uploading(0.0),
            };
            let bytes = Bytes {
                blob,
                filename: shot.filename(),
                content_type: shot.content_type.clone(),
            };
            store::keep_bytes(number, bytes.clone(), *target, None);
            store::dispatch(hid, Action::Add(shot));
            wasm_bindgen_futures::spawn_local(flow::process(ctx, number, bytes, Resume::Upload));
        })
    };

    let on_shutter = {
        let (video, enqueue, flash, error) =
            (video.clone(), enqueue.clone(), flash.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(element) = video.cast::<HtmlVideoElement>() else {
                return;
            };
            flash.set(*flash + 1);
            let (enqueue, error) = (enqueue.clone(), error.clone());
            wasm_bindgen_futures::spawn_local(async move {
                match camera::grab(&element).await {
                    Ok(jpeg) => enqueue.emit((jpeg, "image/jpeg".to_string())),
                    Err(message) => {
                        error.set(Some(ErrorBody::new(shared::ErrorCode::Internal, message)))
                    }
                }
            });
        })
    };

    let on_files = {
        let enqueue = enqueue.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let files: Vec<File> = input
                .files()
                .map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect())
                .unwrap_or_default();
            // The same photo can be chosen again.
            input.set_value("");
            for file in files {
                let enqueue = enqueue.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    match camera::shrink(&file).await {
                        Ok(jpeg) => enqueue.emit((jpeg, "image/jpeg".to_string())),
                        // Sent as it is; the server has the last word on what it is.
                        Err(_) => {
                            let kind = match file.type_().as_str() {
                                "" => "image/jpeg".to_string(),
                                other => other.to_string(),
                            };
                            enqueue.emit((file.into(), kind));
                        }
                    }
                });
            }
        })
    };

    let on_target = {
        let target = target.clone();
        Callback::from(move |id: Option<LocationId>| {
            store_location(hid, id);
            target.set(id);
        })
    };

    let on_event = {
        Callback::from(move |(key, event): (Key, ShotEvent)| {
            let queue = store::queue(hid);
            let Some(shot) = queue.shots.into_iter().find(|s| s.key == key) else {
                return;
            };
            let Some(bytes) = store::bytes(key) else {
                return;
            };
            // One photo belongs to one item: the first object added takes the shot's
            // photo, the others get a copy of the same picture.
            let photo_for = |index: usize| match shot.photo {
                Some(id) if store::claim(key, index) => PhotoUse::File(id),
                _ => PhotoUse::Copy,
            };
            match event {
                ShotEvent::Retry => {
                    let Stage::Failed {
                        resume: Some(resume),
                        ..
                    } = shot.stage
                    else {
                        return;
                    };
                    store::dispatch(hid, Action::Retrying(key, resume));
                    wasm_bindgen_futures::spawn_local(flow::process(ctx, key, bytes, resume));
                }
                ShotEvent::TypeName => store::dispatch(
                    hid,
                    Action::Manual(key, Some("Type what the photo shows.".into())),
                ),
                ShotEvent::Discard => {
                    store::dispatch(hid, Action::Discarding(key));
                    wasm_bindgen_futures::spawn_local(async move {
                        match flow::discard(ctx, key, shot.photo).await {
                            Ok(()) => store::forget(key, &shot.preview),
                            Err(e) => store::dispatch(
                                hid,
                                Action::Restage(
                                    key,
                                    Stage::Failed {
                                        message: format!(
                                            "The photo could not be discarded. {}",
                                            crate::components::alert_text(&e)
                                        ),
                                        resume: None,
                                    },
                                ),
                            ),
                        }
                    });
                }
                ShotEvent::Clear => {
                    store::dispatch(hid, Action::Remove(key));
                    store::forget(key, &shot.preview);
                }
                ShotEvent::Add(index, body) => {
                    let photo = photo_for(index);
                    wasm_bindgen_futures::spawn_local(flow::add(
                        ctx, key, index, body, photo, bytes,
                    ));
                }
                ShotEvent::AddTo(index, item, fill) => {
                    let photo = photo_for(index);
                    wasm_bindgen_futures::spawn_local(flow::add_to(
                        ctx, key, index, item, fill, photo, bytes,
                    ));
                }
            }
        })
    };

    if !can_write {
        return html! {
            <section class="page narrow">
                <header class="page-header"><h1>{ "Capture" }</h1></header>
                <div class="card">
                    <p>{ "You can look at this household's inventory but not add to it, so there is \
                          nothing to capture here. An owner can make you an editor on the Members page." }</p>
                </div>
            </section>
        };
    }
    let all_locations: Rc<Vec<Location>> = (*locations).clone().unwrap_or_default();
    let target_name =
        location_name(&all_locations, *target).unwrap_or_else(|| "No location".to_string());
    let working = queue.shots.iter().filter(|s| s.busy()).count();
    let live = *camera == Camera::Live;
    let file_picker = |label: &'static str, primary: bool, capture: bool| {
        html! {
            <div class="file-button">
                <input id={if primary { "capture-file" } else { "capture-more" }} class="file-input" type="file"
                    accept="image/*" capture={capture.then_some("environment")} multiple=true onchange={on_files.clone()} />
                <label for={if primary { "capture-file" } else { "capture-more" }}
                    class={classes!("button", if primary { "button-primary capture-file-main" } else { "button-secondary button-small" })}>
                    { label }
                </label>
            </div>
        }
    };

    html! {
        <section class="page capture-page">
            <header class="capture-header">
                <h1>{ "Capture" }</h1>
                <LocationPicker id="capture-location" label="Location for new items" class="capture-target"
                    locations={all_locations.clone()} value={*target} onchange={on_target}
                    none_label="No location" />
            </header>
            <ErrorAlert error={(*error).clone()} />
            if let Some(reason) = &queue.ai_off {
                <p class="capture-note" role="status">
                    { format!("{reason} Type a name for each photo.") }
                </p>
            }
            <div class="capture-body">
                <div class="capture-stage">
                    { match &*camera {
                        Camera::Unavailable(reason) => html! {
                            <div class="capture-fallback card">
                                <p>{ reason.clone() }</p>
                            </div>
                        },
                        state => html! {
                            <div class="camera">
                                <video ref={video.clone()} class="camera-video" autoplay=true muted=true playsinline=true
                                    aria-label={format!("Camera view; new items go to {target_name}")} onplaying={on_playing} />
                                if *state == Camera::Starting {
                                    <p class="camera-status">{ "Starting the camera…" }</p>
                                }
                                <span key={*flash} class={classes!("camera-flash", (*flash > 0).then_some("is-on"))} aria-hidden="true" />
                            </div>
                        },
                    } }
                    <div class="capture-bar">
                        <div class="capture-bar-side">
                            if live { { file_picker("Choose photos", false, false) } }
                        </div>
                        if live {
                            <button type="button" class="shutter" aria-label="Take photo" onclick={on_shutter}>
                                <span class="shutter-inner" aria-hidden="true" />
                            </button>
                        } else if matches!(*camera, Camera::Unavailable(_)) {
                            { file_picker("Choose or take a photo", true, true) }
                        } else {
                            <button type="button" class="shutter" aria-label="Take photo" disabled=true>
                                <span class="shutter-inner" aria-hidden="true" />
                            </button>
                        }
                        <div class="capture-bar-side capture-bar-count" aria-live="polite">
                            if working > 0 { { format!("{working} in progress") } }
                        </div>
                    </div>
                </div>
                <div class="capture-queue">
                    if queue.shots.is_empty() {
                        <p class="muted capture-hint">
                            { "Take a photo of each thing. While it uploads and is recognised, take the next one." }
                        </p>
                    } else {
                        <ul class="shot-list" aria-label="Shots">
                            { for queue.shots.iter().map(|shot| html! {
                                <ShotCard key={shot.key} shot={shot.clone()} {hid} currency={currency.clone()}
                                    locations={all_locations.clone()} tags={(*tags).clone()} on_event={on_event.clone()} />
                            }) }
                        </ul>
                    }
                </div>
            </div>
        </section>
    }
}

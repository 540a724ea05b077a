//! The Scan page: the rear camera reads a label's QR code (and opens its item or
//! location, through `/q/<code>`) or a product's barcode (and finds the items with it, or
//! starts a new one with it). Without a camera, a code can be typed.

mod code;
mod reader;

use std::cell::Cell;
use std::rc::Rc;

use gloo_timers::future::TimeoutFuture;
use shared::{ErrorBody, Item};
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{HtmlVideoElement, MediaStream};
use yew::prelude::*;
use yew_router::prelude::*;

use self::code::{Code, classify};
use self::reader::Reader;
use super::HouseholdProps;
use super::capture::camera::{self, Refusal};
use crate::api::{self, ItemQuery};
use crate::app::Route;
use crate::components::ErrorAlert;
use crate::hooks::use_title;

pub use self::code::display as label_display;

/// Time between two looks at the camera picture.
const LOOK_EVERY_MS: u32 = 200;

#[derive(Clone, PartialEq)]
enum Camera {
    Starting,
    /// The camera shows and codes are read: by the browser, or by our QR decoder (then
    /// product barcodes can only be typed).
    Live {
        barcodes: bool,
    },
    /// Why not, in words; typing a code is the way left.
    Unavailable(String),
}

/// What the last code read led to, shown until the next scan.
#[derive(Clone, PartialEq)]
enum Found {
    /// The items of this household with this barcode (`None` while searching).
    Product(String, Option<Vec<Item>>),
    /// A code that is neither a label nor a product barcode.
    Other(String),
}

/// `/items/new?barcode=…`: the new-item form with the barcode filled in.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BarcodeQuery {
    pub barcode: String,
}

fn unavailable(why: Refusal) -> String {
    match why {
        Refusal::Unsupported => {
            "This browser can't show the camera here (it needs a secure https connection). \
             Type the code below instead."
        }
        Refusal::Refused => {
            "Camera access was refused. Allow it in the browser's settings for this site to \
             scan, or type the code below."
        }
        Refusal::Missing => "No camera was found. Type the code below instead.",
        Refusal::Busy => {
            "The camera is busy in another app. Close it and reload this page, or type the \
             code below."
        }
        Refusal::Failed => "The camera could not be started. Type the code below instead.",
    }
    .to_string()
}

#[function_component(Scan)]
pub fn scan(props: &HouseholdProps) -> Html {
    use_title("Scan");
    let hid = props.household.id;
    let navigator = use_navigator();
    let camera_state = use_state(|| Camera::Starting);
    let found = use_state(|| None::<Found>);
    let error = use_state(|| None::<ErrorBody>);
    let typed = use_state(String::new);
    let typed_problem = use_state(|| None::<String>);
    let video = use_node_ref();
    // While a result shows, the camera keeps running but no code is read.
    let paused = use_memo((), |()| Cell::new(false));

    // What a code leads to.
    let on_code = {
        let (found, error, navigator, paused) = (
            found.clone(),
            error.clone(),
            navigator.clone(),
            paused.clone(),
        );
        Callback::from(move |code: Code| {
            error.set(None);
            match code {
                Code::Label(digits) => {
                    paused.set(true);
                    if let Some(nav) = &navigator {
                        nav.push(&Route::Label { code: digits });
                    }
                }
                Code::Product(barcode) => {
                    paused.set(true);
                    found.set(Some(Found::Product(barcode.clone(), None)));
                    let (found, error) = (found.clone(), error.clone());
                    spawn_local(async move {
                        let query = ItemQuery {
                            q: barcode.clone(),
                            ..ItemQuery::default()
                        };
                        match api::items(hid, &query).await {
                            Ok(page) => {
                                // The search also finds the digits in names and notes: the
                                // items whose barcode it is come first.
                                let mut items = page.items;
                                items.sort_by_key(|i| i.barcode.as_deref() != Some(&barcode));
                                found.set(Some(Found::Product(barcode, Some(items))));
                            }
                            Err(e) => {
                                found.set(None);
                                error.set(Some(e));
                            }
                        }
                    });
                }
                Code::Other(text) => {
                    paused.set(true);
                    found.set(Some(Found::Other(text)));
                }
            }
        })
    };

    // The camera and the reader, on while the page is open.
    {
        let (camera_state, video, on_code, paused) = (
            camera_state.clone(),
            video.clone(),
            on_code.clone(),
            paused.clone(),
        );
        use_effect_with((), move |()| {
            let open = Rc::new(Cell::new(true));
            let stream = Rc::new(std::cell::RefCell::new(None::<MediaStream>));
            {
                let (open, stream) = (open.clone(), stream.clone());
                spawn_local(async move {
                    let live = match camera::open_rear(1280, 720).await {
                        Ok(live) if open.get() => live,
                        Ok(live) => return camera::stop(&live),
                        Err(why) => {
                            if open.get() {
                                camera_state.set(Camera::Unavailable(unavailable(why)));
                            }
                            return;
                        }
                    };
                    let Some(element) = video.cast::<HtmlVideoElement>() else {
                        return camera::stop(&live);
                    };
                    element.set_muted(true);
                    element.set_src_object(Some(&live));
                    *stream.borrow_mut() = Some(live);
                    if let Ok(started) = element.play() {
                        let _ = JsFuture::from(started).await;
                    }
                    // The decoder is fetched only now, on this page.
                    let reader = match Reader::start().await {
                        Ok(reader) => reader,
                        Err(message) => {
                            if open.get() {
                                camera_state.set(Camera::Unavailable(message));
                            }
                            return;
                        }
                    };
                    if !open.get() {
                        return;
                    }
                    camera_state.set(Camera::Live {
                        barcodes: reader.reads_barcodes(),
                    });
                    while open.get() {
                        TimeoutFuture::new(LOOK_EVERY_MS).await;
                        if !open.get() || paused.get() {
                            continue;
                        }
                        if let Ok(Some((text, format))) = reader.read(&element).await
                            && open.get()
                            && !paused.get()
                        {
                            on_code.emit(classify(&text, format.as_deref()));
                        }
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

    let on_typed = {
        let typed = typed.clone();
        let typed_problem = typed_problem.clone();
        Callback::from(move |e: InputEvent| {
            typed.set(
                e.target_unchecked_into::<web_sys::HtmlInputElement>()
                    .value(),
            );
            typed_problem.set(None);
        })
    };
    let on_look_up = {
        let (typed, typed_problem, on_code) =
            (typed.clone(), typed_problem.clone(), on_code.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            match classify(&typed, None) {
                Code::Other(text) if text.is_empty() => {
                    typed_problem.set(Some("Type a label's number or a product barcode.".into()))
                }
                Code::Other(_) => typed_problem.set(Some(
                    "This is not a label's number (like 000-123) or a product barcode (8, 12 or 13 digits)."
                        .into(),
                )),
                code => on_code.emit(code),
            }
        })
    };
    let scan_again = {
        let (found, paused) = (found.clone(), paused.clone());
        Callback::from(move |_: MouseEvent| {
            found.set(None);
            paused.set(false);
        })
    };

    let live = matches!(*camera_state, Camera::Live { .. });
    let can_write = props.household.role.can_write();
    html! {
        <section class="page narrow scan-page">
            <header class="page-header"><h1>{ "Scan" }</h1></header>
            <p class="muted">{ "Point the camera at a label's QR code to open its item or location, or at a product's barcode to find it." }</p>
            { match &*camera_state {
                Camera::Unavailable(reason) => html! {
                    <div class="card scan-fallback"><p role="alert">{ reason.clone() }</p></div>
                },
                state => html! {
                    <div class="camera scan-camera">
                        <video ref={video.clone()} class="camera-video" autoplay=true muted=true playsinline=true
                            aria-label="Camera view for scanning" />
                        <span class="scan-frame" aria-hidden="true" />
                        <p class="camera-status" role="status">
                            { match state {
                                Camera::Starting => "Starting the camera…",
                                _ if found.is_some() => "Paused",
                                Camera::Live { barcodes: true } => "Looking for a QR code or barcode…",
                                _ => "Looking for a QR code…",
                            } }
                        </p>
                    </div>
                },
            } }
            if matches!(*camera_state, Camera::Live { barcodes: false }) {
                <p class="field-hint">{ "This browser reads QR codes only: type a product's barcode below." }</p>
            }
            <ErrorAlert error={(*error).clone()} />
            if let Some(found) = &*found {
                <section class="card scan-result" aria-labelledby="scan-result-heading" aria-live="polite">
                    { result(found, can_write) }
                    if live {
                        <button type="button" class="button button-secondary" onclick={scan_again}>{ "Scan again" }</button>
                    }
                </section>
            }
            <form class="card scan-type" onsubmit={on_look_up} novalidate=true>
                <div class="field">
                    <label for="scan-code">{ "Type a code" }</label>
                    <input id="scan-code" type="text" inputmode="text" autocomplete="off" value={(*typed).clone()}
                        oninput={on_typed} aria-describedby="scan-code-hint"
                        aria-invalid={typed_problem.is_some().then_some("true")} />
                    <p class="field-hint" id="scan-code-hint">{ "A label's number like 000-123, or the digits under a barcode." }</p>
                    if let Some(problem) = &*typed_problem {
                        <p class="field-error" role="alert">{ problem.clone() }</p>
                    }
                </div>
                <button type="submit" class="button button-primary">{ "Look up" }</button>
            </form>
        </section>
    }
}

fn result(found: &Found, can_write: bool) -> Html {
    match found {
        Found::Product(barcode, items) => html! {
            <>
                <h2 id="scan-result-heading">{ format!("Barcode {barcode}") }</h2>
                { match items {
                    None => html! { <p class="muted">{ "Searching…" }</p> },
                    Some(items) if items.is_empty() => html! {
                        <p>{ "No item has this barcode yet." }</p>
                    },
                    Some(items) => html! {
                        <ul class="scan-matches" aria-label="Items with this barcode">
                            { for items.iter().map(|item| html! {
                                <li key={item.id.to_string()}>
                                    <Link<Route> to={Route::Item { id: item.id }}>{ item.name.clone() }</Link<Route>>
                                    if !item.location_path.is_empty() {
                                        <span class="muted">{ format!(" · {}", item.location_path.join(" › ")) }</span>
                                    }
                                </li>
                            }) }
                        </ul>
                    },
                } }
                if can_write && items.is_some() {
                    <Link<Route, BarcodeQuery> to={Route::NewItem} query={Some(BarcodeQuery { barcode: barcode.clone() })}
                        classes="button button-primary">{ "Add an item with this barcode" }</Link<Route, BarcodeQuery>>
                }
            </>
        },
        Found::Other(text) => html! {
            <>
                <h2 id="scan-result-heading">{ "Not a label or a product barcode" }</h2>
                <p>{ "This code says: " }<q class="scan-text">{ text.clone() }</q></p>
            </>
        },
    }
}

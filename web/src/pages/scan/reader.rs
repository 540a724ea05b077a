//! Reads codes from the camera: with the browser's own `BarcodeDetector` where there is
//! one (QR codes and product barcodes), else with our QR decoder, a web worker
//! (`qr-decoder_loader.js`, built from `web/qr-decoder`) started only now, so the app's
//! bundle carries none of it.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, MessageEvent, Worker,
};

use super::code::FORMATS;

/// Where the worker's loader is: Trunk names worker files after the crate, unhashed.
const WORKER_URL: &str = "/qr-decoder_loader.js";
/// The longest edge of a frame sent to the worker, in pixels: QR codes held up to a
/// phone stay readable, and a frame is decoded in a few tens of milliseconds.
const MAX_EDGE: u32 = 960;

/// A code read: its text, and the barcode format where the browser said it.
pub type Read = (String, Option<String>);

pub enum Reader {
    Native(JsValue),
    Worker(WorkerReader),
}

impl Reader {
    /// The browser's detector when it has one that reads QR codes, else the worker
    /// (started and loaded before this returns).
    pub async fn start() -> Result<Self, String> {
        if let Some(detector) = native().await {
            return Ok(Self::Native(detector));
        }
        WorkerReader::start().await.map(Self::Worker)
    }

    /// Whether this reader knows product barcodes too (the worker reads QR codes only).
    pub fn reads_barcodes(&self) -> bool {
        matches!(self, Self::Native(_))
    }

    /// The first code the video shows now, if any.
    pub async fn read(&self, video: &HtmlVideoElement) -> Result<Option<Read>, String> {
        if video.video_width() == 0 || video.video_height() == 0 {
            return Ok(None);
        }
        match self {
            Self::Native(detector) => detect(detector, video).await,
            Self::Worker(worker) => worker.read(video).await,
        }
    }
}

impl Drop for Reader {
    fn drop(&mut self) {
        if let Self::Worker(w) = self {
            w.worker.terminate();
        }
    }
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

/// `new BarcodeDetector({formats})` with the formats this browser reads of ours, when it
/// reads QR codes at all.
async fn native() -> Option<JsValue> {
    let window = web_sys::window()?;
    let class = get(&window, "BarcodeDetector")
        .dyn_into::<Function>()
        .ok()?;
    let supported = get(&class, "getSupportedFormats")
        .dyn_into::<Function>()
        .ok()?;
    let supported: Promise = supported.call0(&class).ok()?.dyn_into().ok()?;
    let supported: Array = JsFuture::from(supported).await.ok()?.dyn_into().ok()?;
    let supported: Vec<String> = supported.iter().filter_map(|f| f.as_string()).collect();
    if !supported.iter().any(|f| f == "qr_code") {
        return None;
    }
    let formats: Array = FORMATS
        .iter()
        .filter(|f| supported.iter().any(|s| s == *f))
        .map(|f| JsValue::from_str(f))
        .collect();
    let options = Object::new();
    Reflect::set(&options, &"formats".into(), &formats).ok()?;
    Reflect::construct(&class, &Array::of1(&options)).ok()
}

async fn detect(detector: &JsValue, video: &HtmlVideoElement) -> Result<Option<Read>, String> {
    let failed = |_| "The camera picture could not be read.".to_string();
    let detect = get(detector, "detect")
        .dyn_into::<Function>()
        .map_err(failed)?;
    let found: Promise = detect
        .call1(detector, video)
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    let found: Array = JsFuture::from(found)
        .await
        .map_err(failed)?
        .dyn_into()
        .map_err(failed)?;
    Ok(found.iter().find_map(|code| {
        let text = get(&code, "rawValue")
            .as_string()
            .filter(|t| !t.is_empty())?;
        Some((text, get(&code, "format").as_string()))
    }))
}

/// The worker and what it needs between frames.
pub struct WorkerReader {
    worker: Worker,
    /// Resolves the promise of the answer awaited now.
    waiting: Rc<RefCell<Option<Function>>>,
    canvas: HtmlCanvasElement,
    context: CanvasRenderingContext2d,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(JsValue)>,
}

const NOT_LOADED: &str = "The code reader could not be loaded. Check your connection and reload the page, or type the code below.";

impl WorkerReader {
    async fn start() -> Result<Self, String> {
        let worker = Worker::new(WORKER_URL).map_err(|_| NOT_LOADED.to_string())?;
        let waiting: Rc<RefCell<Option<Function>>> = Rc::default();
        let on_message = {
            let waiting = waiting.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                if let Some(resolve) = waiting.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &event.data());
                }
            })
        };
        // A worker that fails to load answers every question with nothing.
        let on_error = {
            let waiting = waiting.clone();
            Closure::<dyn Fn(JsValue)>::new(move |_| {
                if let Some(resolve) = waiting.borrow_mut().take() {
                    let _ = resolve.call1(&JsValue::NULL, &JsValue::NULL);
                }
            })
        };
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let (canvas, context) = canvas()?;
        let reader = Self {
            worker,
            waiting,
            canvas,
            context,
            _on_message: on_message,
            _on_error: on_error,
        };
        // It says it is ready once its wasm is loaded.
        let ready = reader.answer(|| Ok(())).await?;
        if get(&ready, "ready").is_truthy() {
            Ok(reader)
        } else {
            Err(NOT_LOADED.to_string())
        }
    }

    /// Waits for the worker's next message, after `send` (which posts the question).
    async fn answer(&self, send: impl FnOnce() -> Result<(), JsValue>) -> Result<JsValue, String> {
        let mut resolve = None;
        let promise = Promise::new(&mut |res, _| resolve = Some(res));
        *self.waiting.borrow_mut() = resolve;
        send().map_err(|_| NOT_LOADED.to_string())?;
        JsFuture::from(promise)
            .await
            .map_err(|_| NOT_LOADED.to_string())
    }

    async fn read(&self, video: &HtmlVideoElement) -> Result<Option<Read>, String> {
        let (width, height) = fit(video.video_width(), video.video_height());
        if self.canvas.width() != width || self.canvas.height() != height {
            self.canvas.set_width(width);
            self.canvas.set_height(height);
        }
        let (w, h) = (f64::from(width), f64::from(height));
        let unreadable = |_| "The camera picture could not be read.".to_string();
        self.context
            .draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w, h)
            .map_err(unreadable)?;
        let frame = self
            .context
            .get_image_data(0.0, 0.0, w, h)
            .map_err(unreadable)?;
        // The pixels go to the worker as they are (moved, not copied).
        let pixels = get(&frame, "data");
        let message = Object::new();
        let set =
            |key: &str, value: &JsValue| Reflect::set(&message, &key.into(), value).map(|_| ());
        set("width", &width.into()).map_err(unreadable)?;
        set("height", &height.into()).map_err(unreadable)?;
        set("data", &pixels).map_err(unreadable)?;
        let transfer = Array::of1(&get(&pixels, "buffer"));
        let answer = self
            .answer(|| self.worker.post_message_with_transfer(&message, &transfer))
            .await?;
        Ok(get(&answer, "text").as_string().map(|text| (text, None)))
    }
}

/// A frame's size, no edge longer than [`MAX_EDGE`].
fn fit(width: u32, height: u32) -> (u32, u32) {
    let longest = width.max(height).max(1);
    if longest <= MAX_EDGE {
        return (width, height);
    }
    let scale = f64::from(MAX_EDGE) / f64::from(longest);
    let scaled = |n: u32| ((f64::from(n) * scale).round() as u32).max(1);
    (scaled(width), scaled(height))
}

fn canvas() -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), String> {
    let failed = |_: JsValue| NOT_LOADED.to_string();
    let canvas: HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .ok_or(NOT_LOADED)?
        .create_element("canvas")
        .map_err(failed)?
        .dyn_into()
        .map_err(|e| failed(e.into()))?;
    // Frames are read back every time: keep them in memory, not on the GPU.
    let options = Object::new();
    let _ = Reflect::set(&options, &"willReadFrequently".into(), &JsValue::TRUE);
    let context = canvas
        .get_context_with_context_options("2d", &options)
        .map_err(failed)?
        .ok_or(NOT_LOADED)?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|e| failed(e.into()))?;
    Ok((canvas, context))
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn frames_are_made_no_larger_than_the_decoder_needs() {
        assert_eq!(fit(640, 480), (640, 480));
        assert_eq!(fit(1920, 1080), (960, 540));
        assert_eq!(fit(1080, 1920), (540, 960));
    }
}

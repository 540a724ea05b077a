//! The Scan page's QR decoder as a web worker (built by Trunk, `data-type="worker"` in
//! `web/index.html`), started by the page only when it opens and the browser has no
//! `BarcodeDetector`: the app's own bundle carries none of it.
//!
//! It says `{"ready": true}` once loaded; then each message `{width, height, data}` (an
//! RGBA frame, `data` a `Uint8ClampedArray`) is answered with `{"text": <string or null>}`.

#[cfg(target_arch = "wasm32")]
fn main() {
    use js_sys::{Object, Reflect, Uint8ClampedArray};
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let answer = |key: &str, value: &JsValue| {
        let message = Object::new();
        let _ = Reflect::set(&message, &key.into(), value);
        message
    };
    let reply = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let frame = event.data();
        let number = |key: &str| {
            Reflect::get(&frame, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
                .filter(|n| n.is_finite() && *n >= 0.0)
                .map_or(0, |n| n as usize)
        };
        let (width, height) = (number("width"), number("height"));
        let text = Reflect::get(&frame, &"data".into())
            .ok()
            .and_then(|d| d.dyn_into::<Uint8ClampedArray>().ok())
            .and_then(|pixels| qr_decoder::decode_rgba(width, height, &pixels.to_vec()));
        let text = text.map_or(JsValue::NULL, |t| JsValue::from_str(&t));
        let _ = reply.post_message(&answer("text", &text));
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it.
    on_message.forget();
    let _ = scope.post_message(&answer("ready", &JsValue::TRUE));
}

/// Nothing to run outside a browser: `cargo test -p qr-decoder` tests the library.
#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("qr-decoder runs as a web worker in the browser (see web/index.html)");
}

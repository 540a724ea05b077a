//! The camera and the pictures taken with it: the live rear camera for a `<video>`, and a
//! frame of it (or a chosen file) drawn no larger than [`MAX_EDGE`] onto a canvas and
//! encoded as JPEG.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Blob, CanvasRenderingContext2d, HtmlCanvasElement, HtmlVideoElement, ImageBitmap, MediaStream,
    MediaStreamConstraints, MediaStreamTrack,
};

use super::shot::fit;

/// The longest edge of a photo sent, in pixels.
pub const MAX_EDGE: u32 = 2048;
/// JPEG quality: small files that still show labels and serial numbers.
const QUALITY: f64 = 0.85;

/// Why the camera can't be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No camera API here (an old browser, or a page not served over https).
    Unsupported,
    /// The person (or the browser's settings) said no.
    Refused,
    /// There is no camera.
    Missing,
    /// Another app has it.
    Busy,
    Failed,
}

/// Asks for the rear camera. The error is said for people, with what to do instead.
pub async fn open() -> Result<MediaStream, String> {
    open_rear(MAX_EDGE, 1536).await.map_err(|why| {
        match why {
            Refusal::Unsupported => {
                "This browser can't show the camera here (it needs a secure https connection). \
                 Take or choose photos with the button below instead."
            }
            Refusal::Refused => {
                "Camera access was refused. Allow it in the browser's settings for this site, \
                 or take or choose photos with the button below."
            }
            Refusal::Missing => "No camera was found. Choose photos with the button below.",
            Refusal::Busy => {
                "The camera is busy in another app. Close it and reload this page, or use the \
                 button below."
            }
            Refusal::Failed => {
                "The camera could not be started. Take or choose photos with the button below."
            }
        }
        .to_string()
    })
}

/// Asks for the rear camera (a front one where there is no other), ideally `width` ×
/// `height` pixels.
pub async fn open_rear(width: u32, height: u32) -> Result<MediaStream, Refusal> {
    let window = web_sys::window().ok_or(Refusal::Unsupported)?;
    let devices = window
        .navigator()
        .media_devices()
        .ok()
        .filter(|d| !d.is_undefined())
        .ok_or(Refusal::Unsupported)?;
    let video = Object::new();
    let set = |target: &Object, key: &str, value: &JsValue| {
        let _ = Reflect::set(target, &key.into(), value);
    };
    set(&video, "facingMode", &"environment".into());
    let ideal = |n: f64| {
        let o = Object::new();
        set(&o, "ideal", &n.into());
        o
    };
    set(&video, "width", &ideal(f64::from(width)));
    set(&video, "height", &ideal(f64::from(height)));
    let constraints = MediaStreamConstraints::new();
    constraints.set_video(&video);
    constraints.set_audio(&JsValue::FALSE);
    let promise = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|e| refusal(&e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| refusal(&e))?
        .dyn_into::<MediaStream>()
        .map_err(|_| Refusal::Unsupported)
}

/// Why the camera can't be used, from the browser's error.
fn refusal(error: &JsValue) -> Refusal {
    let name = Reflect::get(error, &"name".into())
        .ok()
        .and_then(|n| n.as_string())
        .unwrap_or_default();
    match name.as_str() {
        "NotAllowedError" | "SecurityError" => Refusal::Refused,
        "NotFoundError" | "OverconstrainedError" => Refusal::Missing,
        "NotReadableError" | "AbortError" => Refusal::Busy,
        _ => Refusal::Failed,
    }
}

/// Turns the camera off.
pub fn stop(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

/// The frame the video shows now, as a JPEG.
pub async fn grab(video: &HtmlVideoElement) -> Result<Blob, String> {
    let (width, height) = (video.video_width(), video.video_height());
    if width == 0 || height == 0 {
        return Err("The camera is not ready yet.".into());
    }
    let (w, h) = fit(width, height, MAX_EDGE);
    let (canvas, context) = canvas(w, h)?;
    context
        .draw_image_with_html_video_element_and_dw_and_dh(
            video,
            0.0,
            0.0,
            f64::from(w),
            f64::from(h),
        )
        .map_err(|_| "The photo could not be taken.".to_string())?;
    encode(&canvas).await
}

/// A chosen picture, made no larger than [`MAX_EDGE`], as a JPEG. Fails when the browser
/// can't read the picture (HEIC in many browsers): then it is sent as it is.
pub async fn shrink(file: &Blob) -> Result<Blob, String> {
    let unreadable = |_| "The browser can't read this picture.".to_string();
    let window = web_sys::window().ok_or("no window")?;
    let bitmap: ImageBitmap = JsFuture::from(
        window
            .create_image_bitmap_with_blob(file)
            .map_err(unreadable)?,
    )
    .await
    .map_err(unreadable)?
    .dyn_into()
    .map_err(unreadable)?;
    let (w, h) = fit(bitmap.width(), bitmap.height(), MAX_EDGE);
    let (canvas, context) = canvas(w, h)?;
    let drawn = context.draw_image_with_image_bitmap_and_dw_and_dh(
        &bitmap,
        0.0,
        0.0,
        f64::from(w),
        f64::from(h),
    );
    bitmap.close();
    drawn.map_err(unreadable)?;
    encode(&canvas).await
}

fn canvas(
    width: u32,
    height: u32,
) -> Result<(HtmlCanvasElement, CanvasRenderingContext2d), String> {
    let failed = |_: JsValue| "The photo could not be prepared.".to_string();
    let canvas: HtmlCanvasElement = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?
        .create_element("canvas")
        .map_err(failed)?
        .dyn_into()
        .map_err(|e| failed(e.into()))?;
    canvas.set_width(width);
    canvas.set_height(height);
    let context = canvas
        .get_context("2d")
        .map_err(failed)?
        .ok_or("no 2d canvas")?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|e| failed(e.into()))?;
    Ok((canvas, context))
}

/// The canvas as a JPEG.
async fn encode(canvas: &HtmlCanvasElement) -> Result<Blob, String> {
    let failed = |_| "The photo could not be encoded.".to_string();
    let mut resolve = None;
    let done = Promise::new(&mut |res, _| resolve = Some(res));
    let resolve = resolve.ok_or("no promise")?;
    let callback = Closure::once(move |blob: JsValue| {
        let _ = resolve.call1(&JsValue::NULL, &blob);
    });
    canvas
        .to_blob_with_type_and_encoder_options(
            callback.as_ref().unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(QUALITY),
        )
        .map_err(failed)?;
    let blob = JsFuture::from(done).await.map_err(failed)?;
    drop(callback);
    blob.dyn_into::<Blob>().map_err(failed)
}

//! Labels and the asset numbers on them: finding what a label names, the label stocks,
//! and the PDF of a sheet of labels.

use shared::{AssetMatches, ErrorBody, ErrorCode, HouseholdId, LabelRequest, LabelTemplates};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Headers, Request, RequestCredentials, RequestInit, Response};

use super::{ApiResult, BASE, Method, NETWORK_MESSAGE, code_for, fallback_message, request};

/// What a label's code (`000123`, `000-123`) names in the person's households.
pub async fn assets(code: &str) -> ApiResult<AssetMatches> {
    let code: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    request(Method::Get, &format!("/assets/{code}"), None, None).await
}

/// The label stocks the server prints on.
pub async fn label_templates(hid: HouseholdId) -> ApiResult<LabelTemplates> {
    let path = format!("/households/{hid}/labels/templates");
    request(Method::Get, &path, None, None).await
}

/// The PDF of the labels asked for.
pub async fn labels_pdf(hid: HouseholdId, body: &LabelRequest) -> ApiResult<Blob> {
    let network = |_| ErrorBody::new(ErrorCode::Network, NETWORK_MESSAGE);
    let body = serde_json::to_string(body)
        .map_err(|_| ErrorBody::new(ErrorCode::Internal, "The labels could not be asked for."))?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = Headers::new().map_err(network)?;
    headers
        .set("Accept", "application/pdf, application/json")
        .map_err(network)?;
    headers
        .set("Content-Type", "application/json")
        .map_err(network)?;
    init.set_headers(&headers);
    init.set_body(&body.into());
    let url = format!("{BASE}/households/{hid}/labels");
    let request = Request::new_with_str_and_init(&url, &init).map_err(network)?;
    let window = web_sys::window().ok_or_else(|| network(wasm_bindgen::JsValue::NULL))?;
    let response: Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(network)?;
    let status = response.status();
    if (200..300).contains(&status) {
        let blob = JsFuture::from(response.blob().map_err(network)?)
            .await
            .map_err(network)?;
        return blob.dyn_into::<Blob>().map_err(network);
    }
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?
        .as_string()
        .unwrap_or_default();
    if status == 401 {
        super::session_ended();
    }
    Err(serde_json::from_str::<ErrorBody>(&text)
        .unwrap_or_else(|_| ErrorBody::new(code_for(status), fallback_message(status))))
}

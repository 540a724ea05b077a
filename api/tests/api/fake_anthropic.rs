//! A stand-in for the Anthropic Messages API on loopback. It checks each request the way
//! the real service would care about (key, version, model, JPEG photos no larger than the
//! model looks at, the `record_items` tool forced), answers with scripted replies, and
//! records what it got.
//!
//! ```text
//! let fake = FakeAnthropic::start().await;
//! fake.push(Reply::items(json!([{"photo": 1, "name": "Kettle", "confidence": 0.9}])));
//! let mut config = …;
//! fake.configure(&mut config); // or fake.recognizer(timeout)
//! … // recognise
//! assert_eq!(fake.requests().len(), 1);
//! ```

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::Config;
use api::ai::{MAX_EDGE, Recognizer};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

/// The key the fake accepts.
pub const API_KEY: &str = "sk-ant-fake-key-for-tests";
/// The model the fake serves.
pub const MODEL: &str = "claude-fake-vision";

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A `record_items` call listing these entries (`[{"photo": 1, "name": …}, …]`).
    Items(Value),
    /// A `record_items` call with exactly this input, right or wrong.
    ToolInput(Value),
    /// Only text, no tool call.
    Text(String),
    /// An answer cut off at `max_tokens` in the middle of the tool call.
    CutShort,
    /// A 200 whose body is not JSON.
    NotJson,
    /// An error status in the API's error shape, with `retry-after` seconds if given.
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
    /// This reply, after a wait.
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    pub fn items(items: Value) -> Self {
        Self::Items(items)
    }

    pub fn status(status: u16) -> Self {
        Self::Status {
            status,
            retry_after: None,
        }
    }

    pub fn status_retry_after(status: u16, seconds: u64) -> Self {
        Self::Status {
            status,
            retry_after: Some(seconds),
        }
    }

    pub fn delayed(wait: Duration, reply: Reply) -> Self {
        Self::Delayed(wait, Box::new(reply))
    }
}

/// A request as the fake saw it.
#[derive(Clone, Debug)]
pub struct SeenRequest {
    pub api_key: Option<String>,
    pub body: Value,
    /// Width and height of each photo, in order.
    pub photo_sizes: Vec<(u32, u32)>,
    /// What the real service would have refused, or a test would care about; empty for a
    /// well-formed request.
    pub problems: Vec<String>,
}

impl SeenRequest {
    /// The system prompt and every text block of the messages, one after the other.
    pub fn prompt_text(&self) -> String {
        let mut text = self.body["system"].as_str().unwrap_or_default().to_string();
        for message in self.body["messages"].as_array().into_iter().flatten() {
            for block in message["content"].as_array().into_iter().flatten() {
                if let Some(t) = block["text"].as_str() {
                    text.push('\n');
                    text.push_str(t);
                }
            }
        }
        text
    }
}

struct Script {
    replies: VecDeque<Reply>,
    fallback: Reply,
    requests: Vec<SeenRequest>,
}

/// The fake service; it stops when dropped.
pub struct FakeAnthropic {
    base_url: String,
    script: Arc<Mutex<Script>>,
    server: JoinHandle<()>,
}

impl FakeAnthropic {
    /// Listens on a free loopback port. With nothing scripted it answers an empty list.
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script {
            replies: VecDeque::new(),
            fallback: Reply::items(json!([])),
            requests: Vec::new(),
        }));
        let router = Router::new()
            .route("/v1/messages", post(messages))
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            base_url,
            script,
            server,
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Queues the answer to the next well-formed request.
    pub fn push(&self, reply: Reply) {
        self.script.lock().unwrap().replies.push_back(reply);
    }

    /// The answer once the queue is empty.
    pub fn set_fallback(&self, reply: Reply) {
        self.script.lock().unwrap().fallback = reply;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.script.lock().unwrap().requests.clone()
    }

    /// Points a configuration at the fake, with its key and model.
    pub fn configure(&self, config: &mut Config) {
        config.anthropic_api_key = Some(API_KEY.to_string().into());
        config.anthropic_model = MODEL.into();
        config.anthropic_base_url = self.base_url.clone();
    }

    /// A client for the fake with the right key and model.
    pub fn recognizer(&self, timeout: Duration) -> Recognizer {
        Recognizer::new(&self.base_url, API_KEY.to_string().into(), MODEL, timeout).unwrap()
    }
}

impl Drop for FakeAnthropic {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn messages(
    State(script): State<Arc<Mutex<Script>>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let api_key = header("x-api-key");
    let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let (photo_sizes, problems) = check(&headers, &json);
    let wrong_model = !json.is_null() && json["model"] != MODEL;
    let tool = json["tool_choice"]["name"]
        .as_str()
        .unwrap_or("record_items")
        .to_string();

    let reply = {
        let mut script = script.lock().unwrap();
        script.requests.push(SeenRequest {
            api_key: api_key.clone(),
            body: json,
            photo_sizes,
            problems: problems.clone(),
        });
        if api_key.as_deref() != Some(API_KEY) {
            return error(StatusCode::UNAUTHORIZED, "invalid x-api-key", None);
        }
        if wrong_model {
            return error(StatusCode::NOT_FOUND, "model: no such model", None);
        }
        if !problems.is_empty() {
            return error(StatusCode::BAD_REQUEST, &problems.join("; "), None);
        }
        let fallback = script.fallback.clone();
        script.replies.pop_front().unwrap_or(fallback)
    };
    answer(reply, &tool).await
}

/// What is wrong with a request, and the sizes of its photos.
fn check(headers: &HeaderMap, body: &Value) -> (Vec<(u32, u32)>, Vec<String>) {
    let mut problems = Vec::new();
    let mut sizes = Vec::new();
    if headers.get("anthropic-version").map(|v| v.as_bytes()) != Some(b"2023-06-01") {
        problems.push("anthropic-version: expected 2023-06-01".into());
    }
    if headers.get("content-type").map(|v| v.as_bytes()) != Some(b"application/json") {
        problems.push("content-type: expected application/json".into());
    }
    if body.is_null() {
        problems.push("the body is not JSON".into());
        return (sizes, problems);
    }
    if body["model"] != MODEL {
        problems.push(format!("model: expected {MODEL}, got {}", body["model"]));
    }
    if body["max_tokens"].as_u64().unwrap_or(0) == 0 {
        problems.push("max_tokens: a positive integer is required".into());
    }
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    if messages.first().map(|m| &m["role"]) != Some(&json!("user")) {
        problems.push("messages: the first message must be the user's".into());
    }
    for message in &messages {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] != "image" {
                continue;
            }
            match photo_size(&block["source"]) {
                Ok(size) => sizes.push(size),
                Err(problem) => problems.push(problem),
            }
        }
    }
    if sizes.is_empty() && problems.iter().all(|p| !p.starts_with("image")) {
        problems.push("image: no photo in the request".into());
    }
    let choice = &body["tool_choice"];
    let chosen = choice["name"].as_str().unwrap_or_default();
    if choice["type"] != "tool" || chosen.is_empty() {
        problems.push("tool_choice: expected {\"type\": \"tool\", \"name\": …}".into());
    }
    let tool = body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|t| t["name"] == chosen);
    match tool {
        None => problems.push(format!("tools: no tool named {chosen:?}")),
        Some(tool) if tool["input_schema"]["type"] != "object" => {
            problems.push("tools: input_schema must be an object schema".into());
        }
        Some(_) => {}
    }
    (sizes, problems)
}

fn photo_size(source: &Value) -> Result<(u32, u32), String> {
    if source["type"] != "base64" || source["media_type"] != "image/jpeg" {
        return Err(format!(
            "image: expected a base64 image/jpeg source, got {} {}",
            source["type"], source["media_type"]
        ));
    }
    let data = source["data"].as_str().unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| format!("image: data is not base64: {e}"))?;
    let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::Jpeg)
        .map_err(|e| format!("image: not a JPEG: {e}"))?;
    let size = (image.width(), image.height());
    if size.0.max(size.1) > MAX_EDGE {
        return Err(format!(
            "image: {}x{} is larger than {MAX_EDGE} px",
            size.0, size.1
        ));
    }
    Ok(size)
}

async fn answer(reply: Reply, tool: &str) -> Response {
    let mut reply = reply;
    while let Reply::Delayed(wait, inner) = reply {
        tokio::time::sleep(wait).await;
        reply = *inner;
    }
    let tool_use = |input: Value| json!({"type": "tool_use", "id": "toolu_fake", "name": tool, "input": input});
    match reply {
        Reply::Items(items) => message(vec![tool_use(json!({"items": items}))], "tool_use"),
        Reply::ToolInput(input) => message(vec![tool_use(input)], "tool_use"),
        Reply::Text(text) => message(vec![json!({"type": "text", "text": text})], "end_turn"),
        Reply::CutShort => message(
            vec![tool_use(json!({"items": [{"photo": 1, "name": "Cordl"}]}))],
            "max_tokens",
        ),
        Reply::NotJson => (
            [("content-type", "application/json")],
            "{\"id\": \"msg_fake\", \"content\": [",
        )
            .into_response(),
        Reply::Status {
            status,
            retry_after,
        } => {
            let status = StatusCode::from_u16(status).unwrap();
            error(status, "scripted failure", retry_after)
        }
        Reply::Delayed(..) => unreachable!("unwrapped above"),
    }
}

fn message(content: Vec<Value>, stop_reason: &str) -> Response {
    axum::Json(json!({
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 1200, "output_tokens": 150},
    }))
    .into_response()
}

/// The API's error shape.
fn error(status: StatusCode, message: &str, retry_after: Option<u64>) -> Response {
    let kind = match status.as_u16() {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let body = axum::Json(json!({
        "type": "error",
        "error": {"type": kind, "message": message},
    }));
    let mut response = (status, body).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", seconds.to_string().parse().unwrap());
    }
    response
}

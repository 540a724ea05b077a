//! The real binary under the real Lambda runtime loop: a Lambda Runtime API on loopback
//! hands it API Gateway HTTP API (payload 2.0) events and collects its answers.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use tokio::sync::{Mutex, Notify, mpsc};

#[derive(Default)]
struct Runtime {
    events: Mutex<VecDeque<(String, Value)>>,
    ready: Notify,
    answers: Mutex<Option<mpsc::UnboundedSender<(String, Value)>>>,
    /// Asynchronous invocations received by the Lambda API stand-in: (function, headers).
    invoked: Mutex<Vec<(String, HeaderMap)>>,
}

/// Lambda's `Invoke` (`POST /2015-03-31/functions/{name}/invocations`): an `Event`
/// invocation is queued for the runtime loop and answered 202 at once, as Lambda does.
async fn invoke_function(
    State(rt): State<Arc<Runtime>>,
    Path(function): Path<String>,
    headers: HeaderMap,
    body: String,
) -> impl IntoResponse {
    let event: Value = match serde_json::from_str(&body) {
        Ok(event) => event,
        Err(_) => return (StatusCode::BAD_REQUEST, "the payload is not JSON").into_response(),
    };
    let is_event = headers
        .get("x-amz-invocation-type")
        .is_some_and(|v| v == "Event");
    let mut invoked = rt.invoked.lock().await;
    invoked.push((function, headers));
    let id = format!("job-{}", invoked.len());
    drop(invoked);
    if !is_event {
        return (
            StatusCode::BAD_REQUEST,
            "only Event invocations are expected",
        )
            .into_response();
    }
    rt.events.lock().await.push_back((id, event));
    rt.ready.notify_waiters();
    rt.ready.notify_one();
    StatusCode::ACCEPTED.into_response()
}

async fn next_event(State(rt): State<Arc<Runtime>>) -> impl IntoResponse {
    loop {
        if let Some((id, event)) = rt.events.lock().await.pop_front() {
            let mut headers = HeaderMap::new();
            headers.insert("lambda-runtime-aws-request-id", id.parse().unwrap());
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 30_000;
            headers.insert(
                "lambda-runtime-deadline-ms",
                deadline.to_string().parse().unwrap(),
            );
            headers.insert(
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:home-inventory"
                    .parse()
                    .unwrap(),
            );
            headers.insert(
                "lambda-runtime-trace-id",
                "Root=1-5e1b4151-5ac6c58f3e0d1b2c".parse().unwrap(),
            );
            return (StatusCode::OK, headers, event.to_string());
        }
        rt.ready.notified().await;
    }
}

async fn answer(
    State(rt): State<Arc<Runtime>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    let value: Value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    if let Some(tx) = rt.answers.lock().await.as_ref() {
        let _ = tx.send((id, value));
    }
    StatusCode::ACCEPTED
}

async fn failed(
    State(rt): State<Arc<Runtime>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    if let Some(tx) = rt.answers.lock().await.as_ref() {
        let _ = tx.send((id, json!({"invocation_error": body})));
    }
    StatusCode::ACCEPTED
}

struct Emulator {
    runtime: Arc<Runtime>,
    answers: mpsc::UnboundedReceiver<(String, Value)>,
    /// What the function answered to job events.
    job_answers: Vec<(String, Value)>,
    child: tokio::process::Child,
    next_id: usize,
}

impl Emulator {
    async fn start(database_url: &str, data_dir: &std::path::Path) -> (Self, Duration) {
        Self::start_with(database_url, data_dir, &[]).await
    }

    /// The function with `extra` added to its environment.
    async fn start_with(
        database_url: &str,
        data_dir: &std::path::Path,
        extra: &[(&str, &str)],
    ) -> (Self, Duration) {
        let runtime = Arc::new(Runtime::default());
        let (tx, answers) = mpsc::unbounded_channel();
        *runtime.answers.lock().await = Some(tx);
        let router = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_event))
            .route("/2018-06-01/runtime/invocation/{id}/response", post(answer))
            .route("/2018-06-01/runtime/invocation/{id}/error", post(failed))
            .route(
                "/2018-06-01/runtime/init/error",
                post(|| async { StatusCode::ACCEPTED }),
            )
            .route(
                "/2015-03-31/functions/{function}/invocations",
                post(invoke_function),
            )
            .with_state(runtime.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let started = Instant::now();
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_home-inventory-backend"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "home-inventory")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/home-inventory")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
            .env("AWS_REGION", "us-east-1")
            .env("DATABASE_URL", database_url)
            .env("DATA_DIR", data_dir)
            .env("PUBLIC_URL", "https://inventory.example.com")
            .env("RUST_LOG", "warn")
            // Jobs go to the jobs function: here the same process, through the stand-in.
            .env("JOBS_FUNCTION", "home-inventory-jobs")
            .env("AWS_ENDPOINT_URL_LAMBDA", format!("http://{addr}"))
            .env("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
            .env(
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            )
            .envs(extra.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("the server binary starts");
        let mut emulator = Self {
            runtime,
            answers,
            job_answers: Vec::new(),
            child,
            next_id: 0,
        };
        // Cold start: from process start to the first answered event.
        let health = emulator
            .invoke(event("GET", "/api/health", "", &[], None))
            .await;
        assert_eq!(health["statusCode"], 200, "{health}");
        (emulator, started.elapsed())
    }

    async fn invoke(&mut self, event: Value) -> Value {
        self.next_id += 1;
        let id = format!("request-{}", self.next_id);
        self.runtime
            .events
            .lock()
            .await
            .push_back((id.clone(), event));
        self.runtime.ready.notify_waiters();
        self.runtime.ready.notify_one();
        loop {
            let (answered, value) =
                tokio::time::timeout(Duration::from_secs(30), self.answers.recv())
                    .await
                    .expect("the function answers within 30 s")
                    .expect("an answer");
            if answered.starts_with("job-") {
                self.job_answers.push((answered, value));
                continue;
            }
            assert_eq!(answered, id);
            return value;
        }
    }
}

/// An API Gateway HTTP API event, payload format 2.0.
fn event(
    method: &str,
    raw_path: &str,
    query: &str,
    cookies: &[String],
    body: Option<(&str, bool)>,
) -> Value {
    let (body, encoded) = match body {
        Some((text, true)) => (Value::from(STANDARD.encode(text)), true),
        Some((text, false)) => (Value::from(text), false),
        None => (Value::Null, false),
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {
            "content-type": "application/json",
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "user-agent": "lambda-test",
            "x-forwarded-for": "198.51.100.4"
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "198.51.100.4",
                "userAgent": "lambda-test"
            },
            "requestId": "req",
            "routeKey": "$default",
            "stage": "$default",
            "time": "24/Nov/2026:20:00:00 +0000",
            "timeEpoch": 1_795_636_800_000_i64
        },
        "isBase64Encoded": encoded
    });
    if !body.is_null() {
        event["body"] = body;
    }
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !query.is_empty() {
        let params: serde_json::Map<String, Value> = query
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_string(), Value::from(v)))
            .collect();
        event["queryStringParameters"] = Value::Object(params);
    }
    event
}

fn body_of(answer: &Value) -> Value {
    let raw = answer["body"].as_str().unwrap_or_default();
    let text = if answer["isBase64Encoded"] == true {
        String::from_utf8(STANDARD.decode(raw).unwrap()).unwrap()
    } else {
        raw.to_string()
    };
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_answers_api_gateway_events_under_the_lambda_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("lambda.db").display());
    let (mut lambda, cold_start) = Emulator::start(&url, dir.path()).await;
    eprintln!("Lambda cold start (process start to first answered event): {cold_start:?}");

    // Sign up with a base64-encoded body; the session comes back as a cookie.
    let signup = lambda
        .invoke(event(
            "POST",
            "/api/v1/auth/register",
            "",
            &[],
            Some((
                r#"{"email":"ann@example.com","password":"correct horse","name":"Ann"}"#,
                true,
            )),
        ))
        .await;
    assert_eq!(signup["statusCode"], 201, "{signup}");
    assert_eq!(body_of(&signup)["user"]["name"], "Ann");
    let cookie = signup["cookies"][0]
        .as_str()
        .expect("a Set-Cookie in cookies")
        .to_string();
    assert!(
        cookie.contains("Secure"),
        "https deployments get Secure cookies: {cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();

    let me = lambda
        .invoke(event(
            "GET",
            "/api/v1/me",
            "",
            std::slice::from_ref(&session),
            None,
        ))
        .await;
    assert_eq!(me["statusCode"], 200, "{me}");
    let household = body_of(&me)["households"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let items = format!("/api/v1/households/{household}/items");

    for name in ["Cordless drill", "Tea kettle"] {
        let created = lambda
            .invoke(event(
                "POST",
                &items,
                "",
                std::slice::from_ref(&session),
                Some((&json!({"name": name}).to_string(), false)),
            ))
            .await;
        assert_eq!(created["statusCode"], 201, "{created}");
        assert_eq!(created["headers"]["etag"], "\"1\"");
    }
    let found = lambda
        .invoke(event(
            "GET",
            &items,
            "q=drill&limit=10",
            std::slice::from_ref(&session),
            None,
        ))
        .await;
    assert_eq!(found["statusCode"], 200, "{found}");
    let listed = body_of(&found);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["items"][0]["name"], "Cordless drill");

    // Errors keep the one error body.
    let broken = lambda
        .invoke(event(
            "POST",
            &items,
            "",
            std::slice::from_ref(&session),
            Some(("{\"name\":", false)),
        ))
        .await;
    assert_eq!(broken["statusCode"], 400);
    assert_eq!(body_of(&broken)["error"]["code"], "bad_request");
    let anonymous = lambda.invoke(event("GET", &items, "", &[], None)).await;
    assert_eq!(anonymous["statusCode"], 401);
    assert_eq!(body_of(&anonymous)["error"]["code"], "unauthorized");

    // A named stage prefixes the path; the API still routes it.
    let mut staged = event("GET", "/prod/api/health", "", &[], None);
    staged["requestContext"]["stage"] = json!("prod");
    let staged = lambda.invoke(staged).await;
    assert_eq!(staged["statusCode"], 200, "{staged}");
    assert_eq!(body_of(&staged)["status"], "ok");

    lambda.child.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_runs_in_the_jobs_function_outside_the_request_that_started_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("lambda.db").display());
    let (mut lambda, _) = Emulator::start(&url, dir.path()).await;
    let signup = lambda
        .invoke(event(
            "POST",
            "/api/v1/auth/register",
            "",
            &[],
            Some((
                r#"{"email":"ann@example.com","password":"correct horse","name":"Ann"}"#,
                false,
            )),
        ))
        .await;
    let session = signup["cookies"][0]
        .as_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let me = lambda
        .invoke(event(
            "GET",
            "/api/v1/me",
            "",
            std::slice::from_ref(&session),
            None,
        ))
        .await;
    let household = body_of(&me)["households"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let base = format!("/api/v1/households/{household}");
    let created = lambda
        .invoke(event(
            "POST",
            &format!("{base}/items"),
            "",
            std::slice::from_ref(&session),
            Some((r#"{"name":"Cordless drill"}"#, false)),
        ))
        .await;
    assert_eq!(created["statusCode"], 201, "{created}");

    // The request answers 202 at once; the job runs in a second, asynchronous invocation.
    let started = lambda
        .invoke(event(
            "POST",
            &format!("{base}/exports"),
            "",
            std::slice::from_ref(&session),
            Some((r#"{"format":"csv"}"#, false)),
        ))
        .await;
    assert_eq!(started["statusCode"], 202, "{started}");
    let job = body_of(&started)["job"].clone();
    let id = job["id"].as_str().unwrap().to_string();
    {
        let invoked = lambda.runtime.invoked.lock().await;
        assert_eq!(invoked.len(), 1, "one asynchronous invocation");
        let (function, headers) = &invoked[0];
        assert_eq!(function, "home-inventory-jobs");
        let authorization = headers["authorization"].to_str().unwrap();
        assert!(
            authorization.starts_with("AWS4-HMAC-SHA256"),
            "signed: {authorization}"
        );
        assert!(
            authorization.contains("/lambda/aws4_request"),
            "{authorization}"
        );
    }
    let mut done = Value::Null;
    for _ in 0..300 {
        let polled = lambda
            .invoke(event(
                "GET",
                &format!("{base}/jobs/{id}"),
                "",
                std::slice::from_ref(&session),
                None,
            ))
            .await;
        assert_eq!(polled["statusCode"], 200, "{polled}");
        done = body_of(&polled);
        if done["status"] == "done" || done["status"] == "failed" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["result"]["items"], 1, "{done}");
    assert!(done["download_url"].is_string(), "{done}");
    assert_eq!(lambda.job_answers.len(), 1);
    assert_eq!(
        lambda.job_answers[0].1["statusCode"], 204,
        "{:?}",
        lambda.job_answers
    );

    // The route the jobs function runs on can't be reached through API Gateway.
    let forged = lambda
        .invoke(event(
            "POST",
            &format!("/api/internal/jobs/{id}/run"),
            "",
            &[],
            None,
        ))
        .await;
    assert_eq!(forged["statusCode"], 404, "{forged}");
    lambda.child.kill().await.ok();
}

/// The event the hourly EventBridge rule sends (the Pulumi program reads the same file).
fn reminder_event() -> Value {
    serde_json::from_str(include_str!(
        "../../../infrastructure/src/reminder-event.json"
    ))
    .expect("the reminder event is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hourly_scheduled_event_runs_a_reminder_pass() {
    let Some(sink) = crate::reminders::Sink::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("lambda.db").display());
    let smtp = sink.url();
    let (mut lambda, _) = Emulator::start_with(
        &url,
        dir.path(),
        &[
            ("SMTP_URL", smtp.as_str()),
            (
                "MAIL_FROM",
                "Home Inventory <reminders@inventory.example.com>",
            ),
        ],
    )
    .await;
    let signup = lambda
        .invoke(event(
            "POST",
            "/api/v1/auth/register",
            "",
            &[],
            Some((
                r#"{"email":"ann@example.com","password":"correct horse","name":"Ann"}"#,
                false,
            )),
        ))
        .await;
    assert_eq!(signup["statusCode"], 201, "{signup}");
    let session = signup["cookies"][0]
        .as_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // A digest at midnight UTC: whatever the hour now, today's is due.
    let settings = lambda
        .invoke(event(
            "PUT",
            "/api/v1/me/reminders",
            "",
            std::slice::from_ref(&session),
            Some((
                r#"{"digest_enabled":true,"frequency":"daily","hour":0,"time_zone":"UTC"}"#,
                false,
            )),
        ))
        .await;
    assert_eq!(settings["statusCode"], 200, "{settings}");
    assert_eq!(body_of(&settings)["mail_configured"], true);
    assert_eq!(body_of(&settings)["email_confirmed"], false);
    // Digests go only to a confirmed address: Ann asks for the mail and opens its link.
    let asked = lambda
        .invoke(event(
            "POST",
            "/api/v1/me/email/confirmation",
            "",
            std::slice::from_ref(&session),
            None,
        ))
        .await;
    assert_eq!(asked["statusCode"], 202, "{asked}");
    let mail = sink.messages();
    assert_eq!(mail.len(), 1, "{mail:?}");
    let token = crate::reminders::confirmation_token(&mail[0]);
    let confirmed = lambda
        .invoke(event(
            "POST",
            "/api/v1/email/confirm",
            "",
            &[],
            Some((&json!({ "token": token }).to_string(), false)),
        ))
        .await;
    assert_eq!(confirmed["statusCode"], 200, "{confirmed}");
    assert_eq!(body_of(&confirmed)["email"], "ann@example.com");
    let me = lambda
        .invoke(event(
            "GET",
            "/api/v1/me",
            "",
            std::slice::from_ref(&session),
            None,
        ))
        .await;
    let household = body_of(&me)["households"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let soon = time::OffsetDateTime::now_utc().date() + time::Duration::days(10);
    let created = lambda
        .invoke(event(
            "POST",
            &format!("/api/v1/households/{household}/items"),
            "",
            std::slice::from_ref(&session),
            Some((
                &json!({"name": "Dishwasher", "warranty_expires": soon.to_string()}).to_string(),
                false,
            )),
        ))
        .await;
    assert_eq!(created["statusCode"], 201, "{created}");

    // The hourly event: one digest, about the dishwasher.
    let ran = lambda.invoke(reminder_event()).await;
    assert_eq!(ran["statusCode"], 200, "{ran}");
    assert_eq!(
        body_of(&ran),
        json!({"sent": 1, "skipped": 0, "failed": 0}),
        "{ran}"
    );
    let mail = sink.messages();
    assert_eq!(mail.len(), 2, "{mail:?}");
    assert_eq!(mail[1]["envelope_to"][0], "ann@example.com");
    assert!(mail[1].to_string().contains("Dishwasher"), "{}", mail[1]);

    // The next hour's event sends nothing new.
    let again = lambda.invoke(reminder_event()).await;
    assert_eq!(again["statusCode"], 200, "{again}");
    assert_eq!(body_of(&again)["sent"], 0, "{again}");
    assert_eq!(sink.messages().len(), 2);

    // The same request through API Gateway (its own API id) does not run a pass.
    let mut forged = reminder_event();
    forged["requestContext"]["apiId"] = json!("abc123");
    let forged = lambda.invoke(forged).await;
    assert_eq!(forged["statusCode"], 404, "{forged}");
    lambda.child.kill().await.ok();
}

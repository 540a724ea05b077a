//! `spawn_app()` and request helpers. Each test gets its own database: a new SQLite file,
//! or a new PostgreSQL database at `TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends.

use std::sync::Arc;

use api::store::{self, DynStore};
use api::{AppState, Config, app};
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates one `#[tokio::test]` per backend for each named test body
/// (`async fn name(backend: Backend)` in the calling module).
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if $crate::helpers::postgres_available().await {
                        super::$name($crate::helpers::Backend::Postgres).await
                    }
                }
            )*
        }
    };
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Whether PostgreSQL answers. Under CI it must: a missing server fails the test.
pub async fn postgres_available() -> bool {
    let ok = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
        .await
        .is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI expects PostgreSQL at {}",
            admin_url()
        );
        eprintln!("PostgreSQL does not answer; skipping the PostgreSQL run");
    }
    ok
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    drop_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite:{}", dir.path().join("test.db").display());
                Self {
                    url,
                    drop_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("hi_test_{}", uuid::Uuid::new_v4().simple());
                let (client, conn) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls)
                    .await
                    .expect("PostgreSQL answers");
                tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("creating a test database");
                let mut config: tokio_postgres::Config = admin_url().parse().expect("a URL");
                config.dbname(&name);
                let url = pg_url(&config);
                Self {
                    url,
                    drop_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// A handle on `app`'s database that does not remove it when dropped.
    pub fn shared(app: &TestApp) -> Self {
        Self {
            url: app._db.url.clone(),
            drop_name: None,
            _dir: None,
        }
    }

    pub async fn store(&self) -> DynStore {
        store::open(&self.url).await.expect("opening the store")
    }
}

fn pg_url(config: &tokio_postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let password = config
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    let db = config.get_dbname().unwrap_or("postgres");
    format!("postgres://{user}{password}@{host}:{port}/{db}")
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.drop_name.take() else {
            return;
        };
        let url = admin_url();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok((client, conn)) =
                    tokio_postgres::connect(&url, tokio_postgres::NoTls).await
                {
                    tokio::spawn(conn);
                    let _ = client
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

pub struct TestApp {
    pub router: Router,
    pub config: Config,
    pub store: DynStore,
    /// Kept for as long as the app: dropping it removes the database.
    _db: TestDb,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// The `code` of the error body; panics when there is none.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error body in {:?}: {}", self.status, self.body))
    }

    pub fn etag(&self) -> String {
        self.headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }

    pub fn id(&self) -> String {
        self.body["id"].as_str().unwrap_or_default().to_string()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// The server's warnings and errors (the cause behind a 500, say) go into the output of
/// the test that made them, which the test runner shows when that test fails. Tests that
/// read the log themselves install their own subscriber for their requests.
fn show_server_errors() {
    static INSTALLED: std::sync::Once = std::sync::Once::new();
    INSTALLED.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_test_writer()
            .with_max_level(tracing::Level::WARN)
            .with_ansi(false)
            .try_init();
    });
}

pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let db = TestDb::new(backend).await;
    let store = db.store().await;
    TestApp::on(db, store, configure)
}

impl TestApp {
    /// The same app with attachments kept in `blobs`.
    pub fn with_blobs(self, blobs: api::blob::DynBlobs) -> TestApp {
        let state = AppState::new(self.config.clone(), Arc::clone(&self.store))
            .expect("the app state")
            .with_blobs(blobs);
        TestApp {
            router: app(state),
            ..self
        }
    }

    /// An app over a store the test opened itself.
    pub fn on(db: TestDb, store: DynStore, configure: impl FnOnce(&mut Config)) -> TestApp {
        show_server_errors();
        let dir = tempfile::tempdir().expect("a temp dir").keep();
        let mut config = Config::from_lookup(|name| match name {
            "DATA_DIR" => Some(dir.display().to_string()),
            "STATIC_DIR" => Some(dir.join("no-web-build").display().to_string()),
            _ => None,
        })
        .expect("a test configuration");
        configure(&mut config);
        let router = app(AppState::new(config.clone(), Arc::clone(&store)).expect("the app state"));
        TestApp {
            router,
            config,
            store,
            _db: db,
        }
    }
}

/// A signed-in person: their session token and first household.
#[derive(Clone, Debug)]
pub struct Person {
    pub token: String,
    pub email: String,
    pub household: String,
    pub user_id: String,
}

impl TestApp {
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header(header::COOKIE, format!("hi_session={token}"));
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("a request")).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: impl Into<String>, who: &Person) -> TestResponse {
        let path = path.into();
        self.request(Method::GET, &path, Some(&who.token), None, &[])
            .await
    }

    pub async fn post(&self, path: impl Into<String>, who: &Person, body: Value) -> TestResponse {
        let path = path.into();
        self.request(Method::POST, &path, Some(&who.token), Some(body), &[])
            .await
    }

    pub async fn patch(&self, path: impl Into<String>, who: &Person, body: Value) -> TestResponse {
        let path = path.into();
        self.request(Method::PATCH, &path, Some(&who.token), Some(body), &[])
            .await
    }

    pub async fn delete(&self, path: impl Into<String>, who: &Person) -> TestResponse {
        let path = path.into();
        self.request(Method::DELETE, &path, Some(&who.token), None, &[])
            .await
    }

    /// Registers a new account and returns it signed in.
    pub async fn register(&self, name: &str) -> Person {
        let email = format!(
            "{}-{}@example.com",
            name.to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        let response = self
            .request(
                Method::POST,
                "/api/v1/auth/register",
                None,
                Some(json!({"email": email, "password": "correct horse", "name": name})),
                &[],
            )
            .await;
        response.assert_status(201);
        let token = session_cookie(&response.headers).expect("a session cookie");
        let me = self
            .request(Method::GET, "/api/v1/me", Some(&token), None, &[])
            .await;
        Person {
            token,
            email,
            household: me.body["households"][0]["id"]
                .as_str()
                .expect("a first household")
                .to_string(),
            user_id: me.body["user"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        }
    }

    /// `/api/v1/households/{household}{rest}`
    pub fn at(&self, who: &Person, rest: &str) -> String {
        format!("/api/v1/households/{}{rest}", who.household)
    }

    pub async fn create_location(&self, who: &Person, name: &str, parent: Option<&str>) -> String {
        let response = self
            .post(
                &self.at(who, "/locations"),
                who,
                json!({"name": name, "parent_id": parent}),
            )
            .await;
        response.assert_status(201);
        response.id()
    }

    pub async fn create_item(&self, who: &Person, body: Value) -> TestResponse {
        let response = self.post(&self.at(who, "/items"), who, body).await;
        response.assert_status(201);
        response
    }
}

/// The session token a `Set-Cookie` header carries.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("hi_session="))
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .filter(|v| !v.is_empty())
}

/// Names of the items of a list answer, in order.
pub fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

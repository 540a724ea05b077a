//! The OpenAPI 3.1 document of the API, generated from the code: each route module
//! registers its handlers with `utoipa_axum::routes!`, so a route and its description are
//! one registration and cannot drift apart. Each handler's `#[utoipa::path]` names what is
//! particular to it (its parameters, body, answers and the errors only it gives); `finish`
//! adds what every endpoint of a kind shares (401 without credentials, the answers to a
//! malformed JSON body, a path id that names nothing, 500 and 503), so those are never
//! forgotten on a new endpoint.
//!
//! Adding an endpoint: annotate its handler with `#[utoipa::path(...)]` and register it in
//! its module's `router()` with `routes!(handler)`; then update the committed copy
//! (`UPDATE_OPENAPI=1 cargo test -p api --test api openapi`).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use shared::ErrorBody;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, ParameterIn};
use utoipa::openapi::schema::{Object, Schema, SchemaType, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, SecurityRequirement};
use utoipa::openapi::security::{HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder,
};
use utoipa::{PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;

/// The security scheme of the session cookie.
pub const SESSION: &str = "session";
/// The security scheme of personal API tokens.
pub const TOKEN: &str = "token";

/// Operations that never read the database, so never answer 503 for it.
const WITHOUT_DATABASE: &[&str] = &["openapi_document", "list_providers"];

/// The groups of operations, in the order the docs show them, with what each is about.
const TAGS: &[(&str, &str)] = &[
    (
        "Accounts",
        "Local accounts, sessions and Google sign-in. A session is a cookie; programs use \
         API tokens instead.",
    ),
    (
        "Households",
        "The unit of sharing: everything else lives in a household.",
    ),
    (
        "Members",
        "Who belongs to a household, and invitation links.",
    ),
    (
        "Share links",
        "Read-only links to part of a household for someone without an account, made and \
         revoked by its owners, with the log of their uses.",
    ),
    (
        "Shared",
        "What a share link shows, to whoever holds it: no account, the secret in the path \
         is the credential. Anything outside the link's scope answers 404.",
    ),
    ("Locations", "The location tree: House › Garage › Shelf 2."),
    (
        "Items",
        "Things people own, their history and the trash. Edits are versioned: every item \
         answer carries `ETag: \"<version>\"`; send it back in `If-Match` and a stale \
         version answers 412.",
    ),
    (
        "Assets",
        "Asset ids: the household-unique number on every item's and location's label \
         (`000-123`), and what a label's QR code names.",
    ),
    ("Tags", "Tags in use, and the household's totals."),
    (
        "Maintenance",
        "Items' maintenance: schedules with their next due dates, the log of what was done \
         (\"Mark done\" logs an entry and moves the schedule on), what the household has \
         overdue, due soon and done recently, and warranties ending soon.",
    ),
    (
        "Sync",
        "The changes feed that keeps a local copy of a household (the offline app's) \
         current.",
    ),
    (
        "Attachments",
        "Photos and documents. The bytes never pass through the API: announcing a file \
         answers a signed upload URL; PUT the bytes there, then complete it.",
    ),
    (
        "Recognition",
        "What objects a household's photos show (AI).",
    ),
    (
        "Tokens",
        "Personal API tokens for scripts and other programs: made, listed and revoked by a \
         signed-in person.",
    ),
    (
        "Passkeys",
        "Passkeys (WebAuthn): registered, named and removed by a signed-in person; signing \
         in with one instead of a password; confirming sensitive changes with one.",
    ),
    (
        "Import and export",
        "Items out as Homebox-compatible CSV and in from CSV (ours, Homebox's, hand-made), \
         and the full backup of a household with every file. Each starts a job.",
    ),
    (
        "Reports",
        "For insurers: the insurance report (PDF) of the items a filter picks, and the claim \
         pack (zip) of chosen items with their files and a manifest of SHA-256s. Each starts a \
         job.",
    ),
    (
        "Labels",
        "Printable labels: the label stocks (sheets for office printers, rolls for label \
         printers), and a PDF of labels whose QR codes lead to items and locations by their \
         asset ids.",
    ),
    (
        "Jobs",
        "Long work that goes on after its request is answered (202): follow it with \
         `GET …/jobs/{id}` for its progress, its result and a download address.",
    ),
    (
        "Reminders",
        "Each person's reminder digest (daily or weekly, at a local hour), their private \
         calendar feed of warranty ends and maintenance due, and turning reminder mail off \
         from a mail's link.",
    ),
    ("System", "Health and this document."),
];

const DESCRIPTION: &str = "\
The REST API of Home Inventory: JSON in and out, under `/api/v1`.

**Authentication.** Either the session cookie that signing in sets (`hi_session`; behind \
HTTPS its name is `__Host-hi_session`), or `Authorization: Bearer <token>` with a personal \
API token (`hinv_…`). Operations marked as needing no authorization work without either.

**Errors.** Every 4xx and 5xx answer carries one body: \
`{\"error\": {\"code\": \"not_found\", \"message\": \"…\", \"details\": {…}}}`; for \
`validation_failed` (422) `details` maps each field to what is wrong with it. Anything of \
a household you are not in answers 404, never 403. Unsafe requests (POST, PATCH, DELETE) \
whose `Origin` is another site are refused with 403.

**Concurrency.** Single resources that can be edited carry `ETag: \"<version>\"`; send \
`If-Match: \"<version>\"` with an edit and a stale version answers 412.

**Lists** are cursor-paginated where they can grow large: `?limit=` (1–200, default 50) \
and `?cursor=` (from `next_cursor`).

**Safe retries.** Creating a location, an item or an attachment with a client-made `id` \
twice makes it once: the repeat answers 200 with what exists.";

/// The document of the API in `routes::router()`, as the server serves it.
pub fn document() -> OpenApi {
    let api = OpenApiRouter::<crate::AppState>::default()
        .nest("/api", crate::routes::router())
        .into_openapi();
    finish(api)
}

/// The document as pretty JSON with a final newline, as served and committed
/// (`api/openapi.json`). Made once per process.
pub fn document_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut json = document()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"the document did not serialize: {e}\"}}"));
        json.push('\n');
        json
    })
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "System",
    operation_id = "openapi_document",
    summary = "This OpenAPI document",
    security(),
    responses((status = 200, description = "The OpenAPI 3.1 document of every endpoint",
        content_type = "application/json", body = Object)),
)]
pub async fn serve_document() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        document_json(),
    )
}

/// Adds what the handlers' annotations leave to the document as a whole: its description,
/// the security schemes (required everywhere unless an operation says `security()`), the
/// error body, the tags, and the error answers that every endpoint of a kind shares.
fn finish(mut api: OpenApi) -> OpenApi {
    api.info = InfoBuilder::new()
        .title("Home Inventory API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(DESCRIPTION))
        .license(Some(
            LicenseBuilder::new()
                .name("AGPL-3.0-or-later")
                .identifier(Some("AGPL-3.0-or-later"))
                .build(),
        ))
        .build();
    let components = api.components.get_or_insert_with(Default::default);
    components.security_schemes.insert(
        SESSION.into(),
        RefOr::T(SecurityScheme::ApiKey(ApiKey::Cookie(
            ApiKeyValue::with_description(
                "hi_session",
                "The session cookie set by signing in (`POST /api/v1/auth/login`, \
                 `/auth/register` or Google). Behind HTTPS it is named `__Host-hi_session`.",
            ),
        ))),
    );
    components.security_schemes.insert(
        TOKEN.into(),
        RefOr::T(SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("hinv_…")
                .description(Some(
                    "A personal API token: `Authorization: Bearer hinv_…`. Its scope (read or \
                     write) and household limit what it may do, within its owner's role.",
                ))
                .build(),
        )),
    );
    let mut schemas = vec![(ErrorBody::name().to_string(), ErrorBody::schema())];
    <ErrorBody as ToSchema>::schemas(&mut schemas);
    components.schemas.extend(schemas);
    // Either credential; programs use a token, so it comes first. Operations that need a
    // signed-in person say `security(("session" = []))`.
    api.security = Some(vec![
        SecurityRequirement::new::<_, _, String>(TOKEN, []),
        SecurityRequirement::new::<_, _, String>(SESSION, []),
    ]);
    api.tags = Some(
        TAGS.iter()
            .map(|(name, description)| {
                TagBuilder::new()
                    .name(*name)
                    .description(Some(*description))
                    .build()
            })
            .collect(),
    );
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                without_null(operation);
                add_shared_errors(path, method, operation);
            }
        }
    }
    api
}

/// A parameter is absent or has a value: in a path, a query string or a header it can't be
/// `null`, which `Option` parameters would otherwise allow.
fn without_null(operation: &mut Operation) {
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter
            && let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema
            && let SchemaType::Array(types) = &object.schema_type
        {
            let types: Vec<Type> = types
                .iter()
                .filter(|t| **t != Type::Null)
                .cloned()
                .collect();
            object.schema_type = match types.as_slice() {
                [one] => SchemaType::Type(one.clone()),
                _ => SchemaType::from_iter(types),
            };
        }
    }
}

/// The error answers an operation gives because of what it is, not what it does.
fn add_shared_errors(path: &str, method: HttpMethod, operation: &mut Operation) {
    let public = operation.security.as_ref().is_some_and(Vec::is_empty);
    // Operations that say which credentials they take and leave the token out.
    let session_only = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let parameters: Vec<(ParameterIn, String)> = operation
        .parameters
        .iter()
        .flatten()
        .filter_map(|p| match p {
            RefOr::T(p) => Some((p.parameter_in.clone(), p.name.clone())),
            RefOr::Ref(_) => None,
        })
        .collect();
    let has = |place: ParameterIn, name: Option<&str>| {
        parameters
            .iter()
            .any(|(p, n)| *p == place && name.is_none_or(|name| n.eq_ignore_ascii_case(name)))
    };
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| match body {
            RefOr::T(body) => body.content.contains_key("application/json"),
            RefOr::Ref(_) => false,
        });
    let id = operation.operation_id.clone().unwrap_or_default();
    let mut add = |status: u16, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(error(description)));
    };
    if json_body {
        add(400, "The body is not JSON, or not the JSON expected");
        add(413, "The body is larger than 1 MiB");
        add(
            415,
            "The body was not sent as `Content-Type: application/json`",
        );
        add(
            422,
            "Some fields are invalid; `details` names each one and what is wrong with it",
        );
    }
    if has(ParameterIn::Query, None) {
        add(400, "The query string is malformed or has an invalid value");
    }
    if has(ParameterIn::Header, Some("If-Match")) {
        add(400, "`If-Match` is not an ETag like `\"3\"`");
        add(
            412,
            "The version in `If-Match` is stale: it was changed since; read it again",
        );
    }
    if !public {
        add(
            401,
            "Not signed in: no session cookie or API token, or one that has ended",
        );
    }
    if path.contains('{') {
        add(
            404,
            "Nothing has that id here (or it is of a household you are not in)",
        );
    }
    if session_only {
        add(
            403,
            "Sent with an API token: this needs a signed-in person (or, for a change, the \
             request came from another site)",
        );
    }
    if !matches!(method, HttpMethod::Get | HttpMethod::Head) {
        add(
            403,
            if public || session_only {
                "Refused: the request came from another site (its `Origin` is neither this \
                 site's nor the host it was sent to)"
            } else {
                "Refused: a read-only API token asked to change something, or the request \
                 came from another site (its `Origin` is neither this site's nor the host it \
                 was sent to)"
            },
        );
    }
    add(
        500,
        "Something went wrong on the server; the cause is logged",
    );
    if !WITHOUT_DATABASE.contains(&id.as_str()) {
        add(503, "The database is unavailable; try again shortly");
    }
    if !public && !session_only {
        operation
            .responses
            .responses
            .entry("429".into())
            .or_insert_with(|| RefOr::T(too_many_requests()));
    }
}

/// 429 for a request over its API token's rate, with when to try again.
fn too_many_requests() -> Response {
    let mut response = error(
        "Too many requests with this API token (`API_TOKEN_RATE` a second, bursts of \
         `API_TOKEN_BURST`); try again after `Retry-After` seconds",
    );
    response.headers.insert(
        "Retry-After".into(),
        RefOr::T(
            HeaderBuilder::new()
                .schema(Some(Object::with_type(Type::Integer)))
                .description(Some("Seconds to wait before the next request"))
                .build(),
        ),
    );
    response
}

/// An error answer with the one error body.
pub fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name(ErrorBody::name())))
                .build(),
        )
        .build()
}

/// The orders `GET …/items` can list in (`sort`).
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)] // a schema only: the handler reads `sort` as text
pub enum ItemOrder {
    Newest,
    Oldest,
    Name,
    Updated,
}

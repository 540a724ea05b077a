//! Types shared by the Home Inventory API server and its web app.
//!
//! Everything here compiles for `wasm32-unknown-unknown` as well as native targets:
//! ids, the request and response bodies of the REST API, the one error body, and
//! checked values (`ItemName::parse`, `Money::parse`, …) so that an invalid value
//! cannot reach the store.

pub mod assets;
pub mod attachment;
pub mod bulk;
pub mod changes;
pub mod dto;
pub mod edits;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod labels;
pub mod maintenance;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod passkeys;
pub mod patch;
pub mod reminders;
pub mod security;
pub mod share_links;
pub mod tokens;
pub mod values;

pub use assets::*;
pub use attachment::*;
pub use bulk::*;
pub use changes::*;
pub use dto::*;
pub use error::{ErrorBody, ErrorCode, ErrorDetail, FieldErrors};
pub use ids::*;
pub use jobs::*;
pub use labels::*;
pub use maintenance::*;
pub use passkeys::*;
pub use patch::Patch;
pub use reminders::*;
pub use security::*;
pub use share_links::*;
pub use tokens::*;
pub use values::*;

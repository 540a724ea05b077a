//! Custom hooks shared by the pages.

mod use_debounced;
mod use_session;
mod use_title;

pub use use_debounced::use_debounced;
pub use use_session::{SessionAction, SessionProvider, Status, load_session, use_session};
pub use use_title::use_title;

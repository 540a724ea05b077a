//! Pieces shared by the pages.

mod alert;
pub mod bulk;
mod custom_fields;
mod fields;
mod gallery;
mod google;
pub mod job;
mod label_sheet;
mod layout;
mod location_picker;
mod maintenance;
mod offline;
mod passkeys;
mod tags_input;
mod thumb;
mod update;

pub use alert::{ErrorAlert, alert_text};
pub use custom_fields::{CustomFieldsEditor, CustomRow};
pub use fields::{
    SelectField, TextArea, TextInput, amount_text, field_errors_with_asset_id,
    labelled_field_errors,
};
pub use gallery::Attachments;
pub use google::{GoogleButton, use_google_error, use_providers};
pub use label_sheet::{LabelText, SheetPreview};
pub use layout::{Layout, Splash};
pub use location_picker::{LocationPicker, best_matches, match_key};
pub use maintenance::{ItemMaintenance, due_text, local_today, schedule_text};
pub use offline::{Listener, OfflineStatus, changes_waiting};
pub use passkeys::{ConfirmWithPasskey, PasskeySignIn, Passkeys};
pub use tags_input::TagsInput;
pub use thumb::item_thumb;
pub use update::UpdatePrompt;

//! One module per page.

mod capture;
mod confirm_email;
mod dashboard;
mod import_export;
mod invite;
mod item_detail;
mod item_form;
mod items;
mod label_lookup;
mod labels;
mod location_detail;
mod locations;
mod maintenance;
mod members;
mod new_household;
mod not_found;
mod reports;
mod scan;
mod security;
mod settings;
mod share_links;
mod shared_view;
mod sign_in;
mod sign_up;
mod tokens;
mod trash;
mod unsubscribe;
mod waiting;
mod warranties;

pub use capture::{Capture, shots_in_flight};
pub use confirm_email::{ConfirmAddress, ConfirmEmail};
pub use dashboard::Dashboard;
pub use import_export::ImportExport;
pub use invite::{AcceptInvite, InviteWelcome};
pub use item_detail::ItemDetail;
pub use item_form::{EditItem, NewItem};
pub use items::Items;
pub use label_lookup::LabelLookup;
pub use labels::PrintLabels;
pub use location_detail::LocationDetail;
pub use locations::Locations;
pub use maintenance::Maintenance;
pub use members::Members;
pub use new_household::NewHousehold;
pub use not_found::NotFound;
pub use reports::Reports;
pub use scan::{BarcodeQuery, Scan, label_display};
pub use security::Security;
pub use settings::Settings;
pub use share_links::ShareLinks;
pub use shared_view::SharedView;
pub use sign_in::SignIn;
pub use sign_up::SignUp;
pub use tokens::Tokens;
pub use trash::Trash;
pub use unsubscribe::Unsubscribe;
pub use waiting::Waiting;
pub use warranties::Warranties;

use shared::Household;
use yew::Properties;

/// Every page of a household gets the household it shows.
#[derive(Properties, PartialEq, Clone)]
pub struct HouseholdProps {
    pub household: Household,
}

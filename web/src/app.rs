//! The routes, what each one shows, and the app itself.

use shared::{Household, ItemId, LocationId};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{Layout, Splash, UpdatePrompt};
use crate::hooks::{SessionProvider, Status, use_session};
use crate::pages::{
    AcceptInvite, Capture, ConfirmEmail, Dashboard, EditItem, ImportExport, InviteWelcome,
    ItemDetail, Items, LabelLookup, LocationDetail, Locations, Maintenance, Members, NewHousehold,
    NewItem, NotFound, PrintLabels, Reports, Scan, Security, Settings, ShareLinks, SharedView,
    SignIn, SignUp, Tokens, Trash, Unsubscribe, Waiting, Warranties,
};

#[derive(Routable, Clone, Debug, PartialEq)]
pub enum Route {
    #[at("/")]
    Dashboard,
    #[at("/signin")]
    SignIn,
    #[at("/signup")]
    SignUp,
    #[at("/items")]
    Items,
    #[at("/items/new")]
    NewItem,
    #[at("/items/:id")]
    Item { id: ItemId },
    #[at("/items/:id/edit")]
    EditItem { id: ItemId },
    #[at("/locations")]
    Locations,
    /// One location: its asset number, what is in it, its labels.
    #[at("/locations/:id")]
    Location { id: LocationId },
    /// Reading labels' QR codes and products' barcodes with the camera.
    #[at("/scan")]
    Scan,
    /// Where a label's QR code leads: the item or location with that asset number.
    #[at("/q/:code")]
    Label { code: String },
    /// Label sheets to print: what is printed is in the query (`?items=…`, `?location=…`).
    #[at("/labels")]
    PrintLabels,
    /// Taking photos of one thing after another, each becoming an item.
    #[at("/capture")]
    Capture,
    #[at("/trash")]
    Trash,
    #[at("/members")]
    Members,
    #[at("/households/new")]
    NewHousehold,
    /// Changes made on this device that the server does not have yet.
    #[at("/waiting")]
    Waiting,
    /// The household's items to a file and back: CSV, and the full backup.
    #[at("/import-export")]
    ImportExport,
    /// The insurance report and claim packs.
    #[at("/reports")]
    Reports,
    /// The person's personal API tokens.
    #[at("/tokens")]
    Tokens,
    /// The person's account security: passkeys, two-factor sign-in, signed-in devices.
    #[at("/security")]
    Security,
    /// The household's read-only share links: made, listed with their uses, revoked.
    #[at("/share-links")]
    ShareLinks,
    /// What a share link shows, to anyone holding it, signed in or not.
    #[at("/s/:token")]
    Shared { token: String },
    /// Maintenance of the household's items: overdue, due soon, done recently.
    #[at("/maintenance")]
    Maintenance,
    /// Warranties ending in the next 30, 60 or 90 days.
    #[at("/warranties")]
    Warranties,
    /// The person's settings: the reminder digest and the calendar feed.
    #[at("/settings")]
    Settings,
    /// Where a reminder mail's unsubscribe link leads, signed in or not.
    #[at("/unsubscribe/:token")]
    Unsubscribe { token: String },
    /// Where a confirmation mail's link leads, signed in or not.
    #[at("/confirm-email/:token")]
    ConfirmEmail { token: String },
    /// Where an invitation link leads: signed out, the way to sign in first; signed in, joining.
    #[at("/invite/:code")]
    Invite { code: String },
    #[not_found]
    #[at("/404")]
    NotFound,
}

impl Route {
    /// Pages for people who are not signed in.
    fn is_public(&self) -> bool {
        matches!(self, Route::SignIn | Route::SignUp)
    }
}

#[function_component(App)]
pub fn app() -> Html {
    html! {
        <BrowserRouter>
            <SessionProvider>
                <Switch<Route> render={switch} />
            </SessionProvider>
            <UpdatePrompt />
        </BrowserRouter>
    }
}

fn switch(route: Route) -> Html {
    html! { <Shell {route} /> }
}

#[derive(Properties, PartialEq)]
struct ShellProps {
    route: Route,
}

/// Decides between the page, the sign-in page and a loading screen.
#[function_component(Shell)]
fn shell(props: &ShellProps) -> Html {
    let session = use_session();
    let route = props.route.clone();
    match &session.status {
        Status::Loading => html! {
            <Splash><p class="muted">{ "Loading your inventory…" }</p></Splash>
        },
        Status::Failed(error) => {
            let retry = Callback::from(|_: MouseEvent| {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            });
            html! {
                <Splash>
                    <h1>{ "Home Inventory" }</h1>
                    <crate::components::ErrorAlert error={Some(error.clone())} />
                    <button type="button" class="button button-primary" onclick={retry}>{ "Try again" }</button>
                </Splash>
            }
        }
        // A share link's view stands alone: no account, no household, no navigation.
        _ if matches!(
            route,
            Route::Shared { .. } | Route::Unsubscribe { .. } | Route::ConfirmEmail { .. }
        ) =>
        {
            match &route {
                Route::Shared { token } => html! { <SharedView token={token.clone()} /> },
                Route::Unsubscribe { token } => html! { <Unsubscribe token={token.clone()} /> },
                Route::ConfirmEmail { token } => html! { <ConfirmEmail token={token.clone()} /> },
                _ => html! {},
            }
        }
        Status::SignedOut => match &route {
            Route::Invite { code } => html! { <InviteWelcome code={code.clone()} /> },
            public if public.is_public() => public_page(public),
            _ => html! { <ToSignIn /> },
        },
        Status::SignedIn if route.is_public() => html! { <BackFromSignIn /> },
        Status::SignedIn => {
            let page = match (&route, session.household()) {
                // Joining needs no household of one's own.
                (Route::Invite { code }, _) => html! { <AcceptInvite code={code.clone()} /> },
                // A label may be of any of the person's households.
                (Route::Label { code }, _) => html! { <LabelLookup code={code.clone()} /> },
                (_, Some(household)) => household_page(&route, household.clone()),
                (_, None) => html! { <NewHousehold first=true /> },
            };
            html! { <Layout route={route}>{ page }</Layout> }
        }
    }
}

/// What the Print labels page prints, as its address says it: `?items=<id>,<id>`,
/// `?locations=<id>`, `?in=<id>` (every item in a location and below).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PrintQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<String>,
    /// Every item in this location and below.
    #[serde(default, rename = "in", skip_serializing_if = "Option::is_none")]
    pub inside: Option<String>,
}

fn joined<T: ToString>(ids: &[T]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.iter().map(T::to_string).collect::<Vec<_>>().join(","))
}

fn split<T: std::str::FromStr>(list: Option<&String>) -> Vec<T> {
    list.map(|l| {
        l.split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect()
    })
    .unwrap_or_default()
}

impl PrintQuery {
    pub fn items(ids: &[ItemId]) -> Self {
        Self {
            items: joined(ids),
            ..Self::default()
        }
    }

    pub fn locations(ids: &[LocationId]) -> Self {
        Self {
            locations: joined(ids),
            ..Self::default()
        }
    }

    pub fn inside(id: LocationId) -> Self {
        Self {
            inside: Some(id.to_string()),
            ..Self::default()
        }
    }

    pub fn item_ids(&self) -> Vec<ItemId> {
        split(self.items.as_ref())
    }

    pub fn location_ids(&self) -> Vec<LocationId> {
        split(self.locations.as_ref())
    }

    pub fn inside_id(&self) -> Option<LocationId> {
        self.inside.as_ref().and_then(|id| id.parse().ok())
    }
}

/// Where to go once signed in (or signed up): `/signin?next=/items/…`.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Next {
    pub next: String,
}

/// The way back from the sign-in and sign-up pages, kept when going from one to the other.
#[hook]
pub fn use_next() -> Option<Next> {
    use_location().and_then(|l| l.query::<Next>().ok())
}

impl Next {
    /// Whether the way back leads to an invitation.
    pub fn is_invite(next: Option<&Next>) -> bool {
        next.is_some_and(|n| n.next.starts_with("/invite/"))
    }
}

/// Sends a person who is not signed in to the sign-in page, remembering where they were going.
#[function_component(ToSignIn)]
fn to_sign_in() -> Html {
    let navigator = use_navigator();
    use_effect_with((), move |()| {
        let Some(navigator) = navigator else { return };
        let path = web_sys::window()
            .and_then(|w| w.location().pathname().ok())
            .unwrap_or_default();
        let remembered = (!path.is_empty() && path != "/")
            .then(|| {
                navigator
                    .replace_with_query(&Route::SignIn, &Next { next: path })
                    .ok()
            })
            .flatten();
        if remembered.is_none() {
            navigator.replace(&Route::SignIn);
        }
    });
    html! {}
}

/// After signing in: back to where the person was going, or to the dashboard.
#[function_component(BackFromSignIn)]
fn back_from_sign_in() -> Html {
    let navigator = use_navigator();
    let location = use_location();
    use_effect_with((), move |()| {
        let Some(navigator) = navigator else { return };
        let next = location
            .and_then(|l| l.query::<Next>().ok())
            .map(|q| q.next)
            // Only paths of this app: never another site.
            .filter(|n| n.starts_with('/') && !n.starts_with("//"));
        let route = next
            .and_then(|n| Route::recognize(&n))
            .filter(|r| !r.is_public() && *r != Route::NotFound)
            .unwrap_or(Route::Dashboard);
        navigator.replace(&route);
    });
    html! {}
}

fn public_page(route: &Route) -> Html {
    match route {
        Route::SignUp => html! { <SignUp /> },
        _ => html! { <SignIn /> },
    }
}

/// A page of the household being looked at; switching household starts it afresh.
fn household_page(route: &Route, household: Household) -> Html {
    let key = household.id.to_string();
    match route.clone() {
        Route::Dashboard => html! { <Dashboard {key} {household} /> },
        Route::Items => html! { <Items {key} {household} /> },
        Route::NewItem => html! { <NewItem {key} {household} /> },
        Route::Item { id } => html! { <ItemDetail {key} {household} {id} /> },
        Route::EditItem { id } => html! { <EditItem {key} {household} {id} /> },
        Route::Locations => html! { <Locations {key} {household} /> },
        Route::Location { id } => html! { <LocationDetail {key} {household} {id} /> },
        Route::Scan => html! { <Scan {key} {household} /> },
        Route::PrintLabels => html! { <PrintLabels {key} {household} /> },
        Route::Capture => html! { <Capture {key} {household} /> },
        Route::Trash => html! { <Trash {key} {household} /> },
        Route::Members => html! { <Members {key} {household} /> },
        Route::NewHousehold => html! { <NewHousehold /> },
        Route::ImportExport => html! { <ImportExport {key} {household} /> },
        Route::Reports => html! { <Reports {key} {household} /> },
        Route::Tokens => html! { <Tokens /> },
        Route::Security => html! { <Security /> },
        Route::ShareLinks => html! { <ShareLinks {key} {household} /> },
        Route::Waiting => html! { <Waiting {key} {household} /> },
        Route::Maintenance => html! { <Maintenance {key} {household} /> },
        Route::Warranties => html! { <Warranties {key} {household} /> },
        Route::Settings => html! { <Settings /> },
        Route::SignIn
        | Route::SignUp
        | Route::Invite { .. }
        | Route::Shared { .. }
        | Route::Unsubscribe { .. }
        | Route::ConfirmEmail { .. }
        | Route::Label { .. }
        | Route::NotFound => {
            html! { <NotFound /> }
        }
    }
}

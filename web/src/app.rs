//! The routes, what each one shows, and the app itself.

use shared::{Household, ItemId};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{Layout, Splash, UpdatePrompt};
use crate::hooks::{SessionProvider, Status, use_session};
use crate::pages::{
    AcceptInvite, Capture, Dashboard, EditItem, ImportExport, InviteWelcome, ItemDetail, Items,
    Locations, Members, NewHousehold, NewItem, NotFound, Reports, SignIn, SignUp, Tokens, Trash,
    Waiting,
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
                (_, Some(household)) => household_page(&route, household.clone()),
                (_, None) => html! { <NewHousehold first=true /> },
            };
            html! { <Layout route={route}>{ page }</Layout> }
        }
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
        Route::Capture => html! { <Capture {key} {household} /> },
        Route::Trash => html! { <Trash {key} {household} /> },
        Route::Members => html! { <Members {key} {household} /> },
        Route::NewHousehold => html! { <NewHousehold /> },
        Route::ImportExport => html! { <ImportExport {key} {household} /> },
        Route::Reports => html! { <Reports {key} {household} /> },
        Route::Tokens => html! { <Tokens /> },
        Route::Waiting => html! { <Waiting {key} {household} /> },
        Route::SignIn | Route::SignUp | Route::Invite { .. } | Route::NotFound => {
            html! { <NotFound /> }
        }
    }
}

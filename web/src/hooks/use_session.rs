//! Who is signed in, their households and the one being looked at, shared with every page
//! through a context.

use std::rc::Rc;

use shared::{ErrorBody, Household, HouseholdId, ItemId, Me, User};
use yew::prelude::*;

use crate::api;

const HOUSEHOLD_KEY: &str = "home-inventory.household";

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Asking the server who this is.
    Loading,
    SignedOut,
    SignedIn,
    /// The server could not be asked.
    Failed(ErrorBody),
}

/// A short message about something that just happened, shown until dismissed.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub id: u32,
    pub text: String,
    /// An item that was just moved to the trash and can be brought back.
    pub undo: Option<ItemId>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub status: Status,
    pub user: Option<User>,
    pub households: Vec<Household>,
    pub current: Option<HouseholdId>,
    pub notice: Option<Notice>,
}

impl Default for Session {
    fn default() -> Self {
        Self {
            status: Status::Loading,
            user: None,
            households: Vec::new(),
            current: None,
            notice: None,
        }
    }
}

impl Session {
    /// The household being looked at.
    pub fn household(&self) -> Option<&Household> {
        self.current
            .and_then(|id| self.households.iter().find(|h| h.id == id))
            .or_else(|| self.households.first())
    }
}

pub enum SessionAction {
    SignedIn {
        me: Me,
        households: Vec<Household>,
    },
    SignedOut,
    Failed(ErrorBody),
    Switch(HouseholdId),
    /// A household made here or joined through an invitation: it becomes the current one.
    HouseholdCreated(Household),
    /// The household as the server now has it (a new name, another role).
    HouseholdChanged(Household),
    /// This person no longer belongs to the household; another one becomes current.
    Left(HouseholdId),
    Notify {
        text: String,
        undo: Option<ItemId>,
    },
    Dismiss,
}

impl Reducible for Session {
    type Action = SessionAction;

    fn reduce(self: Rc<Self>, action: Self::Action) -> Rc<Self> {
        let mut next = (*self).clone();
        match action {
            SessionAction::SignedIn { me, mut households } => {
                // Households the server listed in /me but not yet in the full list (or the
                // other way round) are of no use; keep the full list, in /me's order.
                households.sort_by_key(|h| {
                    me.households
                        .iter()
                        .position(|m| m.id == h.id)
                        .unwrap_or(usize::MAX)
                });
                let stored = stored_household();
                next.current = stored
                    .filter(|id| households.iter().any(|h| h.id == *id))
                    .or_else(|| households.first().map(|h| h.id));
                next.user = Some(me.user);
                next.households = households;
                next.status = Status::SignedIn;
            }
            SessionAction::SignedOut => {
                next = Session {
                    status: Status::SignedOut,
                    ..Session::default()
                };
            }
            SessionAction::Failed(error) => next.status = Status::Failed(error),
            SessionAction::Switch(id) => {
                store_household(id);
                next.current = Some(id);
            }
            SessionAction::HouseholdCreated(household) => {
                store_household(household.id);
                next.current = Some(household.id);
                next.households.retain(|h| h.id != household.id);
                next.households.push(household);
            }
            SessionAction::HouseholdChanged(household) => {
                if let Some(h) = next.households.iter_mut().find(|h| h.id == household.id) {
                    *h = household;
                }
            }
            SessionAction::Left(id) => {
                next.households.retain(|h| h.id != id);
                if next.current == Some(id) || next.current.is_none() {
                    next.current = next.households.first().map(|h| h.id);
                    if let Some(first) = next.current {
                        store_household(first);
                    }
                }
            }
            SessionAction::Notify { text, undo } => {
                let id = self.notice.as_ref().map_or(1, |n| n.id + 1);
                next.notice = Some(Notice { id, text, undo });
            }
            SessionAction::Dismiss => next.notice = None,
        }
        Rc::new(next)
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn stored_household() -> Option<HouseholdId> {
    storage()
        .and_then(|s| s.get_item(HOUSEHOLD_KEY).ok().flatten())
        .and_then(|raw| raw.parse().ok())
}

fn store_household(id: HouseholdId) {
    if let Some(storage) = storage() {
        // Losing the choice only means starting on the first household next time.
        let _ = storage.set_item(HOUSEHOLD_KEY, &id.to_string());
    }
}

pub type SessionContext = UseReducerHandle<Session>;

/// Who is signed in and the households they belong to, as the server sees it now; without
/// a network, as this device last saw it.
pub async fn load_session() -> Result<SessionAction, ErrorBody> {
    let (me, households) = api::session().await?;
    Ok(SessionAction::SignedIn { me, households })
}

#[derive(Properties, PartialEq)]
pub struct SessionProviderProps {
    pub children: Html,
}

#[function_component(SessionProvider)]
pub fn session_provider(props: &SessionProviderProps) -> Html {
    let session = use_reducer(Session::default);
    {
        let session = session.clone();
        use_effect_with((), move |()| {
            let signed_out = session.clone();
            api::on_signed_out(Callback::from(move |()| {
                signed_out.dispatch(SessionAction::SignedOut);
            }));
            wasm_bindgen_futures::spawn_local(async move {
                match load_session().await {
                    Ok(action) => session.dispatch(action),
                    Err(e) if e.error.code == shared::ErrorCode::Unauthorized => {
                        session.dispatch(SessionAction::SignedOut);
                    }
                    Err(e) => session.dispatch(SessionAction::Failed(e)),
                }
            });
        });
    }
    html! {
        <ContextProvider<SessionContext> context={session}>
            { props.children.clone() }
        </ContextProvider<SessionContext>>
    }
}

/// The session context; only usable below [`SessionProvider`].
#[hook]
pub fn use_session() -> SessionContext {
    use_context::<SessionContext>().expect("pages are rendered inside SessionProvider")
}

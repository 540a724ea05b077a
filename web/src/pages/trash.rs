use shared::{ErrorBody, Item, ItemId};
use yew::prelude::*;

use super::HouseholdProps;
use crate::api;
use crate::components::{ErrorAlert, item_thumb};
use crate::format;
use crate::hooks::{SessionAction, use_session, use_title};

#[derive(Clone, Debug, PartialEq)]
struct TrashState {
    items: Vec<Item>,
    next: Option<String>,
    loaded: bool,
}

#[function_component(Trash)]
pub fn trash(props: &HouseholdProps) -> Html {
    use_title("Trash");
    let hid = props.household.id;
    let can_write = props.household.role.can_write();
    let session = use_session();
    let list = use_state(|| TrashState {
        items: Vec::new(),
        next: None,
        loaded: false,
    });
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| None::<ItemId>);
    let confirm_empty = use_state(|| false);
    let reload = use_state(|| 0u32);
    {
        let (list, error) = (list.clone(), error.clone());
        use_effect_with(*reload, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::trash(hid, None).await {
                    Ok(page) => list.set(TrashState {
                        items: page.items,
                        next: page.next_cursor,
                        loaded: true,
                    }),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let load_more = {
        let (list, error) = (list.clone(), error.clone());
        Callback::from(move |_: MouseEvent| {
            let (list, error) = (list.clone(), error.clone());
            let Some(cursor) = list.next.clone() else {
                return;
            };
            wasm_bindgen_futures::spawn_local(async move {
                match api::trash(hid, Some(&cursor)).await {
                    Ok(page) => {
                        let mut items = list.items.clone();
                        items.extend(page.items);
                        list.set(TrashState {
                            items,
                            next: page.next_cursor,
                            loaded: true,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let act = |restore: bool, item: &Item| {
        let (list, error, busy, session) =
            (list.clone(), error.clone(), busy.clone(), session.clone());
        let (id, name) = (item.id, item.name.clone());
        Callback::from(move |_: MouseEvent| {
            let (list, error, busy, session, name) = (
                list.clone(),
                error.clone(),
                busy.clone(),
                session.clone(),
                name.clone(),
            );
            busy.set(Some(id));
            wasm_bindgen_futures::spawn_local(async move {
                let result = if restore {
                    api::restore_item(hid, id, "").await.map(|_| ())
                } else {
                    api::purge_item(hid, id).await
                };
                busy.set(None);
                match result {
                    Ok(()) => {
                        error.set(None);
                        let mut next = (*list).clone();
                        next.items.retain(|i| i.id != id);
                        list.set(next);
                        session.dispatch(SessionAction::Notify {
                            text: if restore {
                                format!("Restored “{name}”")
                            } else {
                                format!("Deleted “{name}” for good")
                            },
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let empty_now = {
        let (error, confirm_empty, reload, session) = (
            error.clone(),
            confirm_empty.clone(),
            reload.clone(),
            session.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (error, confirm_empty, reload, session) = (
                error.clone(),
                confirm_empty.clone(),
                reload.clone(),
                session.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                confirm_empty.set(false);
                match api::empty_trash(hid).await {
                    Ok(()) => {
                        session.dispatch(SessionAction::Notify {
                            text: "The trash is empty".into(),
                            undo: None,
                        });
                        reload.set(*reload + 1);
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let ask = {
        let confirm_empty = confirm_empty.clone();
        Callback::from(move |_: MouseEvent| confirm_empty.set(!*confirm_empty))
    };

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <h1>{ "Trash" }</h1>
                    <p class="muted">{ "Items moved to the trash stay here until you restore them or delete them for good." }</p>
                </div>
                if !list.items.is_empty() && can_write {
                    <button type="button" class="button button-danger-ghost" onclick={ask.clone()} aria-expanded={confirm_empty.to_string()}>{ "Empty trash" }</button>
                }
            </header>
            if *confirm_empty {
                <div class="confirm card" role="group" aria-labelledby="confirm-empty">
                    <p id="confirm-empty"><strong>{ "Delete everything in the trash for good?" }</strong>{ " This can't be undone." }</p>
                    <div class="row-actions">
                        <button type="button" class="button button-ghost" onclick={ask}>{ "Keep them" }</button>
                        <button type="button" class="button button-danger" onclick={empty_now}>{ "Delete all for good" }</button>
                    </div>
                </div>
            }
            <ErrorAlert error={(*error).clone()} />
            if !list.loaded && error.is_none() {
                <p class="muted">{ "Loading…" }</p>
            } else if list.loaded && list.items.is_empty() {
                <div class="empty card">
                    <h2>{ "The trash is empty" }</h2>
                    <p class="muted">{ "Deleted items show up here, ready to be restored." }</p>
                </div>
            } else {
                <ul class="item-list trash-list" aria-label="Trashed items">
                    { for list.items.iter().map(|item| {
                        let working = *busy == Some(item.id);
                        html! {
                            <li class="item-row" key={item.id.to_string()}>
                                { item_thumb(item.thumbnail_url.as_deref()) }
                                <div class="item-main">
                                    <span class="item-name">{ item.name.clone() }</span>
                                    <span class="item-location">
                                        { item.deleted_at.map(|at| format!("Deleted {}", format::relative(at))).unwrap_or_default() }
                                        if !item.location_path.is_empty() { { format!(" · was in {}", item.location_path.join(" › ")) } }
                                    </span>
                                </div>
                                if can_write {
                                    <div class="row-actions">
                                        <button type="button" class="button button-secondary button-small" disabled={working}
                                            onclick={act(true, item)} aria-label={format!("Restore {}", item.name)}>{ "Restore" }</button>
                                        <button type="button" class="button button-danger-ghost button-small" disabled={working}
                                            onclick={act(false, item)} aria-label={format!("Delete {} for good", item.name)}>{ "Delete for good" }</button>
                                    </div>
                                }
                            </li>
                        }
                    }) }
                </ul>
                if list.next.is_some() {
                    <div class="pager"><button type="button" class="button button-secondary" onclick={load_more}>{ "Load more" }</button></div>
                }
            }
        </section>
    }
}

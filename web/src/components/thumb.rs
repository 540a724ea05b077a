//! The small square picture of an item in lists.

use yew::prelude::*;

/// The item's primary photo, or a neutral placeholder when it has none.
///
/// Decorative (`alt=""`): the item's name is always beside it. Fixed in size so the list
/// does not move as pictures arrive, and loaded only when scrolled near.
pub fn item_thumb(url: Option<&str>) -> Html {
    match url {
        Some(url) => html! {
            <img class="thumb" src={url.to_string()} alt="" loading="lazy" decoding="async"
                width="48" height="48" />
        },
        None => html! {
            <span class="thumb thumb-none" aria-hidden="true">
                <svg viewBox="0 0 24 24" focusable="false">
                    <rect x="4" y="5" width="16" height="14" rx="2" fill="none" stroke="currentColor" stroke-width="1.5"/>
                    <circle cx="9.5" cy="10" r="1.6" fill="currentColor"/>
                    <path d="M5 17l4.5-4.5 3 3 2.5-2.5L19 17" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>
                </svg>
            </span>
        },
    }
}

//! The household's read-only share links.

use yew::prelude::*;

use super::HouseholdProps;
use crate::hooks::use_title;

#[function_component(ShareLinks)]
pub fn share_links(_props: &HouseholdProps) -> Html {
    use_title("Share links");
    html! {
        <section class="page">
            <h1>{ "Share links" }</h1>
        </section>
    }
}

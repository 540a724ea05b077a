//! What a share link shows: part of a household's inventory, read only, without an account.

use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct SharedViewProps {
    pub token: String,
}

#[function_component(SharedView)]
pub fn shared_view(_props: &SharedViewProps) -> Html {
    html! {
        <main class="page">
            <h1>{ "Shared inventory" }</h1>
        </main>
    }
}

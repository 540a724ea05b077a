//! The account's passkeys: added, named, removed.

use yew::prelude::*;

#[function_component(Passkeys)]
pub fn passkeys() -> Html {
    html! {
        <section aria-labelledby="passkeys-heading">
            <h2 id="passkeys-heading">{ "Passkeys" }</h2>
        </section>
    }
}

//! The person's account security: passkeys, sign-in with an authenticator app's code,
//! and the devices signed in to the account.

use yew::prelude::*;

use crate::components::Passkeys;
use crate::hooks::use_title;

#[function_component(Security)]
pub fn security() -> Html {
    use_title("Security");
    html! {
        <section class="page">
            <h1>{ "Security" }</h1>
            <Passkeys />
        </section>
    }
}

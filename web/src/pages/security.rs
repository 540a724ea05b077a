//! The person's account security: passkeys, sign-in with an authenticator app's code,
//! and the devices signed in to the account.

use yew::prelude::*;

use crate::components::Passkeys;
use crate::hooks::use_title;

mod devices;
mod two_factor;

use devices::Devices;
use two_factor::TwoFactor;

#[function_component(Security)]
pub fn security() -> Html {
    use_title("Security");
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ "Your account" }</p>
                    <h1>{ "Security" }</h1>
                </div>
            </header>
            <Passkeys />
            <TwoFactor />
            <Devices />
        </section>
    }
}

//! The person's settings: the reminder digest (on or off, daily or weekly, the hour, the
//! time zone) and the private calendar feed's address (copy, reset).

use yew::prelude::*;

use crate::hooks::use_title;

#[function_component(Settings)]
pub fn settings() -> Html {
    use_title("Settings");
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ "Your account" }</p>
                    <h1>{ "Settings" }</h1>
                </div>
            </header>
        </section>
    }
}

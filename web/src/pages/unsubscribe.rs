//! Where a reminder mail's unsubscribe link leads: turning reminder mail off, signed in or not.

use yew::prelude::*;

use crate::hooks::use_title;

#[derive(Properties, PartialEq)]
pub struct UnsubscribeProps {
    pub token: String,
}

#[function_component(Unsubscribe)]
pub fn unsubscribe(props: &UnsubscribeProps) -> Html {
    use_title("Reminder emails");
    let _ = &props.token;
    html! {
        <section class="page">
            <h1>{ "Reminder emails" }</h1>
        </section>
    }
}

//! Warranties ending soon.

use yew::prelude::*;

use crate::hooks::use_title;
use crate::pages::HouseholdProps;

#[function_component(Warranties)]
pub fn page(props: &HouseholdProps) -> Html {
    use_title("Warranties");
    let _ = &props.household;
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ props.household.name.clone() }</p>
                    <h1>{ "Warranties" }</h1>
                </div>
            </header>
        </section>
    }
}

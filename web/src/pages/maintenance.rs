//! What is overdue, due soon and done recently.

use yew::prelude::*;

use crate::hooks::use_title;
use crate::pages::HouseholdProps;

#[function_component(Maintenance)]
pub fn page(props: &HouseholdProps) -> Html {
    use_title("Maintenance");
    let _ = &props.household;
    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ props.household.name.clone() }</p>
                    <h1>{ "Maintenance" }</h1>
                </div>
            </header>
        </section>
    }
}

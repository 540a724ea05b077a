use yew::prelude::*;
use yew_router::prelude::*;

use crate::app::Route;
use crate::hooks::use_title;

#[function_component(NotFound)]
pub fn not_found() -> Html {
    use_title("Not found");
    html! {
        <section class="page empty-page">
            <h1>{ "Nothing here" }</h1>
            <p class="muted">{ "This page does not exist, or it was moved." }</p>
            <Link<Route> to={Route::Dashboard} classes="button button-primary">{ "Go to the dashboard" }</Link<Route>>
        </section>
    }
}

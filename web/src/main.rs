//! Home Inventory in the browser: a single-page app over the REST API.

mod api;
mod app;
mod components;
mod format;
mod hooks;
mod local;
mod pages;

fn main() {
    yew::Renderer::<app::App>::new().render();
}

use yew::prelude::*;

/// Sets the document title to "`title` · Home Inventory" while the page is shown.
#[hook]
pub fn use_title(title: &str) {
    use_effect_with(title.to_string(), |title| {
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&format!("{title} · Home Inventory"));
        }
    });
}

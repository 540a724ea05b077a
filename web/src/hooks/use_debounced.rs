use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// `value`, once it has stopped changing for `millis` milliseconds.
#[hook]
pub fn use_debounced<T>(value: T, millis: u32) -> T
where
    T: Clone + PartialEq + 'static,
{
    let settled = use_state(|| value.clone());
    {
        let settled = settled.clone();
        use_effect_with(value, move |value| {
            let value = value.clone();
            let timeout =
                (*settled != value).then(|| Timeout::new(millis, move || settled.set(value)));
            move || drop(timeout)
        });
    }
    (*settled).clone()
}

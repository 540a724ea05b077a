//! The person's settings: the reminder digest (on or off, daily or weekly, the hour, the
//! time zone; confirming the address it goes to) and the private calendar feed's address
//! (copy, reset).

use shared::{
    CalendarFeed, DigestFrequency, ErrorBody, FieldErrors, ReminderSettings, ReminderSettingsInput,
    Weekday,
};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;

use super::ConfirmAddress;
use super::members::copy_or_select;
use crate::api;
use crate::components::{ErrorAlert, SelectField, labelled_field_errors};
use crate::hooks::{SessionAction, use_session, use_title};

/// "08:00".
pub fn hour_label(hour: u8) -> String {
    format!("{hour:02}:00")
}

/// The browser's own time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
fn browser_time_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()?
        .as_string()
        .filter(|z| !z.is_empty())
}

/// Every time zone the browser knows (`Intl.supportedValuesOf('timeZone')`).
fn browser_time_zones() -> Vec<String> {
    let found = (|| {
        let intl = js_sys::Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
        let supported: js_sys::Function = js_sys::Reflect::get(&intl, &"supportedValuesOf".into())
            .ok()?
            .dyn_into()
            .ok()?;
        let zones: js_sys::Array = supported
            .call1(&intl, &"timeZone".into())
            .ok()?
            .dyn_into()
            .ok()?;
        Some(
            zones
                .iter()
                .filter_map(|z| z.as_string())
                .collect::<Vec<_>>(),
        )
    })();
    found.unwrap_or_default()
}

/// The zones to offer: the browser's list, with UTC and `current` in it, sorted.
pub fn zone_options(mut zones: Vec<String>, current: &str) -> Vec<String> {
    for must in ["UTC", current] {
        if !must.is_empty() && !zones.iter().any(|z| z == must) {
            zones.push(must.to_string());
        }
    }
    zones.sort();
    zones.dedup();
    zones
}

/// What a saved digest setting reads as: "Daily at 08:00 (Europe/Paris)".
pub fn describe(settings: &ReminderSettingsInput) -> String {
    if !settings.digest_enabled {
        return "Saved. Reminder emails are off.".into();
    }
    let when = match settings.frequency {
        DigestFrequency::Daily => "every day".to_string(),
        DigestFrequency::Weekly => format!("every {}", settings.weekday.label()),
    };
    format!(
        "Saved. Your digest goes out {when} at {} ({}).",
        hour_label(settings.hour),
        settings.time_zone
    )
}

fn input_of(settings: &ReminderSettings, time_zone: String) -> ReminderSettingsInput {
    ReminderSettingsInput {
        digest_enabled: settings.digest_enabled,
        frequency: settings.frequency,
        weekday: settings.weekday,
        hour: settings.hour,
        time_zone,
    }
}

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
            <ReminderForm />
            <CalendarSection />
        </section>
    }
}

/// The "Reminder email" section.
#[function_component(ReminderForm)]
fn reminder_form() -> Html {
    let loaded = use_state(|| None::<ReminderSettings>);
    let form = use_state(|| None::<ReminderSettingsInput>);
    let zones = use_state(Vec::<String>::new);
    let errors = use_state(FieldErrors::new);
    let error = use_state(|| None::<ErrorBody>);
    let busy = use_state(|| false);
    let status = use_state(String::new);

    {
        let (loaded, form, zones, error) =
            (loaded.clone(), form.clone(), zones.clone(), error.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::reminder_settings().await {
                    Ok(settings) => {
                        // Never saved: offer the browser's own time zone.
                        let zone = if settings.saved {
                            settings.time_zone.clone()
                        } else {
                            browser_time_zone().unwrap_or_else(|| settings.time_zone.clone())
                        };
                        zones.set(zone_options(browser_time_zones(), &zone));
                        form.set(Some(input_of(&settings, zone)));
                        loaded.set(Some(settings));
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }

    let Some(current) = (*form).clone() else {
        return html! {
            <section class="card" aria-labelledby="reminders-heading">
                <h2 id="reminders-heading">{ "Reminder email" }</h2>
                <ErrorAlert error={(*error).clone()} />
                if error.is_none() { <p class="muted">{ "Loading…" }</p> }
            </section>
        };
    };
    let edit = |change: fn(&mut ReminderSettingsInput, String)| {
        let (form, status) = (form.clone(), status.clone());
        Callback::from(move |value: String| {
            if let Some(mut next) = (*form).clone() {
                change(&mut next, value);
                status.set(String::new());
                form.set(Some(next));
            }
        })
    };
    let toggle = {
        let set = edit(|f, v| f.digest_enabled = !v.is_empty());
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            set.emit(if input.checked() { "1" } else { "" }.into());
        })
    };
    let pick_frequency = |value: DigestFrequency| {
        let set = edit(|f, v| {
            f.frequency = if v == "weekly" {
                DigestFrequency::Weekly
            } else {
                DigestFrequency::Daily
            }
        });
        let raw = match value {
            DigestFrequency::Daily => "daily",
            DigestFrequency::Weekly => "weekly",
        };
        Callback::from(move |_: Event| set.emit(raw.into()))
    };
    let onsubmit = {
        let (form, loaded, errors, error, busy, status) = (
            form.clone(),
            loaded.clone(),
            errors.clone(),
            error.clone(),
            busy.clone(),
            status.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(body) = (*form).clone() else {
                return;
            };
            let (loaded, errors, error, busy, status) = (
                loaded.clone(),
                errors.clone(),
                error.clone(),
                busy.clone(),
                status.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::save_reminder_settings(&body).await;
                busy.set(false);
                match result {
                    Ok(saved) => {
                        errors.set(FieldErrors::new());
                        error.set(None);
                        status.set(describe(&input_of(&saved, saved.time_zone.clone())));
                        loaded.set(Some(saved));
                    }
                    Err(e) => {
                        errors.set(labelled_field_errors(
                            &e,
                            &[
                                ("hour", "Hour"),
                                ("time_zone", "Time zone"),
                                ("weekday", "Day"),
                                ("frequency", "How often"),
                            ],
                        ));
                        status.set(String::new());
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    let settings = (*loaded).clone();
    let mail_configured = settings.as_ref().is_some_and(|s| s.mail_configured);
    let email_confirmed = settings.as_ref().is_some_and(|s| s.email_confirmed);
    let email = settings.map(|s| s.email).unwrap_or_default();
    let hours: Vec<(String, String)> = (0..24u8).map(|h| (h.to_string(), hour_label(h))).collect();
    let days: Vec<(String, String)> = Weekday::ALL
        .iter()
        .map(|d| (d.number().to_string(), d.label().to_string()))
        .collect();
    let zone_list: Vec<(String, String)> = zones
        .iter()
        .map(|z| (z.clone(), z.replace('_', " ")))
        .collect();
    let field_error = |name: &str| {
        errors
            .get(name)
            .map(|m| html! { <p class="field-error">{ m.clone() }</p> })
    };
    let weekly = current.frequency == DigestFrequency::Weekly;

    html! {
        <section class="card" aria-labelledby="reminders-heading">
            <h2 id="reminders-heading">{ "Reminder email" }</h2>
            <p class="muted">
                { format!("A digest of warranties ending in the next 30 days and maintenance that is due, sent to {email}.") }
            </p>
            if !mail_configured {
                <p class="notice" role="note">
                    { "This server is not set up to send email, so no digest goes out. The calendar feed below and the Maintenance and Warranties pages still remind you." }
                </p>
            }
            if mail_configured && !email_confirmed {
                <ConfirmAddress email={email.clone()} />
            }
            <form class="settings-form" {onsubmit} novalidate=true>
                <div class="check">
                    <input type="checkbox" id="digest-enabled" checked={current.digest_enabled} onchange={toggle} />
                    <label for="digest-enabled">{ "Send me a reminder digest" }</label>
                </div>
                <fieldset class="field" disabled={!current.digest_enabled}>
                    <legend>{ "How often" }</legend>
                    <div class="radio-row">
                        { for [(DigestFrequency::Daily, "Daily"), (DigestFrequency::Weekly, "Weekly")].into_iter().map(|(value, text)| html! {
                            <label class="radio">
                                <input type="radio" name="digest-frequency" checked={current.frequency == value}
                                    onchange={pick_frequency(value)} />
                                { text }
                            </label>
                        }) }
                    </div>
                </fieldset>
                if weekly {
                    <div class="field-with-hint">
                        <SelectField id="digest-weekday" label="Day" options={days}
                            value={current.weekday.number().to_string()}
                            onchange={edit(|f, v| f.weekday = v.parse().ok().and_then(Weekday::from_number).unwrap_or_default())} />
                        { field_error("weekday") }
                    </div>
                }
                <div class="field-with-hint">
                    <SelectField id="digest-hour" label="Hour" options={hours}
                        value={current.hour.to_string()}
                        onchange={edit(|f, v| f.hour = v.parse().unwrap_or(f.hour))} />
                    { field_error("hour") }
                </div>
                <div class="field-with-hint">
                    <SelectField id="digest-time-zone" label="Time zone" options={zone_list}
                        value={current.time_zone.clone()}
                        onchange={edit(|f, v| f.time_zone = v)} />
                    { field_error("time_zone") }
                </div>
                <div class="row-actions">
                    <button type="submit" class="button button-primary" disabled={*busy}>{ "Save reminder settings" }</button>
                </div>
            </form>
            <ErrorAlert error={(*error).clone()} />
            <p class="copy-status" role="status">{ (*status).clone() }</p>
        </section>
    }
}

/// The "Calendar feed" section.
#[function_component(CalendarSection)]
fn calendar_section() -> Html {
    let session = use_session();
    let feed = use_state(|| None::<CalendarFeed>);
    let error = use_state(|| None::<ErrorBody>);
    let confirming = use_state(|| false);
    let busy = use_state(|| false);
    let copied = use_state(String::new);
    let input = use_node_ref();

    {
        let (feed, error) = (feed.clone(), error.clone());
        use_effect_with((), move |()| {
            wasm_bindgen_futures::spawn_local(async move {
                match api::calendar_feed().await {
                    Ok(got) => feed.set(Some(got)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    let copy = {
        let (feed, copied, input) = (feed.clone(), copied.clone(), input.clone());
        Callback::from(move |_: MouseEvent| {
            let Some(url) = feed.as_ref().map(|f| f.url.clone()) else {
                return;
            };
            copy_or_select(
                url,
                input.clone(),
                copied.clone(),
                "Address copied. Paste it into your calendar app.",
                "address",
            );
        })
    };
    let ask = |open: bool| {
        let confirming = confirming.clone();
        Callback::from(move |_: MouseEvent| confirming.set(open))
    };
    let reset = {
        let (feed, error, confirming, busy, copied, session) = (
            feed.clone(),
            error.clone(),
            confirming.clone(),
            busy.clone(),
            copied.clone(),
            session.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let (feed, error, confirming, busy, copied, session) = (
                feed.clone(),
                error.clone(),
                confirming.clone(),
                busy.clone(),
                copied.clone(),
                session.clone(),
            );
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::reset_calendar_feed().await;
                busy.set(false);
                confirming.set(false);
                match result {
                    Ok(got) => {
                        error.set(None);
                        copied.set(String::new());
                        feed.set(Some(got));
                        session.dispatch(SessionAction::Notify {
                            text: "Calendar address reset: the old one no longer works".into(),
                            undo: None,
                        });
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let select_all = Callback::from(|e: FocusEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        input.select();
    });

    html! {
        <section class="card" aria-labelledby="calendar-heading">
            <h2 id="calendar-heading">{ "Calendar feed" }</h2>
            <p class="muted">
                { "Warranty end dates and maintenance due dates from all your households, in your own calendar app. Subscribe to this address: in Google Calendar, Other calendars › From URL; in Apple Calendar, File › New Calendar Subscription; in Outlook, Add calendar › Subscribe from web. Calendar apps check it again every few hours." }
            </p>
            <ErrorAlert error={(*error).clone()} />
            if let Some(got) = &*feed {
                <div class="field">
                    <label for="calendar-url">{ "Calendar address" }</label>
                    <div class="copy-row">
                        <input id="calendar-url" type="text" readonly=true value={got.url.clone()}
                            ref={input} onfocus={select_all} aria-describedby="calendar-url-hint"
                            autocomplete="off" spellcheck="false" />
                        <button type="button" class="button button-secondary" onclick={copy}>{ "Copy address" }</button>
                    </div>
                    <p class="field-hint" id="calendar-url-hint">
                        { "Keep it private: anyone with this address can see these dates. If it got out, reset it." }
                    </p>
                </div>
                <p class="copy-status" role="status">{ (*copied).clone() }</p>
                if *confirming {
                    <div class="confirm" role="group" aria-labelledby="reset-calendar-question">
                        <p id="reset-calendar-question">
                            <strong>{ "Reset the calendar address?" }</strong>
                            { " The current address stops working at once; calendars subscribed to it need the new one." }
                        </p>
                        <div class="row-actions">
                            <button type="button" class="button button-ghost" onclick={ask(false)}>{ "Cancel" }</button>
                            <button type="button" class="button button-danger" onclick={reset} disabled={*busy}>{ "Reset address" }</button>
                        </div>
                    </div>
                } else {
                    <div class="row-actions">
                        <button type="button" class="button button-danger-ghost" onclick={ask(true)}>{ "Reset address" }</button>
                    </div>
                }
            } else if error.is_none() {
                <p class="muted">{ "Loading…" }</p>
            }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_as_clock_times() {
        assert_eq!(hour_label(0), "00:00");
        assert_eq!(hour_label(8), "08:00");
        assert_eq!(hour_label(23), "23:00");
    }

    #[test]
    fn the_zone_list_always_has_utc_and_the_current_zone() {
        let zones = zone_options(
            vec!["Europe/Paris".into(), "America/New_York".into()],
            "Asia/Kolkata",
        );
        assert_eq!(
            zones,
            ["America/New_York", "Asia/Kolkata", "Europe/Paris", "UTC"]
        );
        assert_eq!(zone_options(Vec::new(), "UTC"), ["UTC"]);
    }

    #[test]
    fn a_saved_setting_is_described_in_words() {
        let mut s = ReminderSettingsInput {
            digest_enabled: true,
            frequency: DigestFrequency::Weekly,
            weekday: Weekday::Friday,
            hour: 18,
            time_zone: "Europe/Paris".into(),
        };
        assert_eq!(
            describe(&s),
            "Saved. Your digest goes out every Friday at 18:00 (Europe/Paris)."
        );
        s.digest_enabled = false;
        assert_eq!(describe(&s), "Saved. Reminder emails are off.");
    }
}

//! Reports for an insurer: the insurance report (a PDF of the items a location, a tag or a
//! minimum value picks, with their values and photos) and the claim pack (a zip of the
//! items selected in the item list: their report, every file, and a manifest). Each is a
//! job on the server, followed here until its file can be downloaded.

use std::rc::Rc;

use shared::{
    ErrorBody, Job, JobId, Location, LocationId, StartInsuranceReport, TagCount, parse_amount,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::UrlSearchParams;
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api::{self, ApiResult};
use crate::app::Route;
use crate::components::job::{self, done, job_state, number, running};
use crate::components::{ErrorAlert, LocationPicker, SelectField, TextInput};
use crate::format;
use crate::hooks::use_title;

/// The claim pack's job, when the address names one (`/reports?claim_pack=<id>`): the item
/// list starts it and comes here to follow it.
fn claim_pack_in_address() -> Option<JobId> {
    let search = web_sys::window()?.location().search().ok()?;
    UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("claim_pack")?
        .parse()
        .ok()
}

/// Follows job `id` (once started), keeping each reading in `slot`; an error goes to `error`.
async fn follow(
    hid: shared::HouseholdId,
    started: ApiResult<JobId>,
    slot: UseStateHandle<Option<Job>>,
    error: UseStateHandle<Option<ErrorBody>>,
    shown: Rc<std::cell::RefCell<bool>>,
) {
    let result = match started {
        Ok(id) => job::follow(hid, id, &shown, &|j| slot.set(Some(j))).await,
        Err(e) => Err(e),
    };
    if let Err(e) = result {
        error.set(Some(e));
    }
}

#[function_component(Reports)]
pub fn reports(props: &HouseholdProps) -> Html {
    use_title("Reports");
    let hid = props.household.id;
    let currency = props.household.currency.clone();
    let shown = job::use_shown();
    let locations = use_state(|| Rc::new(Vec::<Location>::new()));
    let tags = use_state(|| Rc::new(Vec::<TagCount>::new()));
    let location = use_state(|| None::<LocationId>);
    let tag = use_state(String::new);
    let min_value = use_state(String::new);
    let min_problem = use_state(|| None::<String>);
    let report = use_state(|| None::<Job>);
    let report_error = use_state(|| None::<ErrorBody>);
    let pack = use_state(|| None::<Job>);
    let pack_error = use_state(|| None::<ErrorBody>);
    {
        let (locations, tags, report_error) =
            (locations.clone(), tags.clone(), report_error.clone());
        let (pack, pack_error, shown) = (pack.clone(), pack_error.clone(), shown.clone());
        use_effect_with((), move |()| {
            spawn_local(async move {
                let (l, t) = futures::join!(api::locations(hid), api::tags(hid));
                match (l, t) {
                    (Ok(l), Ok(t)) => {
                        locations.set(Rc::new(l.items));
                        tags.set(Rc::new(t.items));
                    }
                    (Err(e), _) | (_, Err(e)) => report_error.set(Some(e)),
                }
            });
            if let Some(id) = claim_pack_in_address() {
                spawn_local(follow(hid, Ok(id), pack, pack_error, shown));
            }
        });
    }

    let make_report = {
        let (location, tag, min_value, min_problem) = (
            location.clone(),
            tag.clone(),
            min_value.clone(),
            min_problem.clone(),
        );
        let (report, report_error, shown) = (report.clone(), report_error.clone(), shown.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let raw = min_value.trim();
            let min_value_minor = match (!raw.is_empty()).then(|| parse_amount(raw, &currency)) {
                Some(Err(problem)) => return min_problem.set(Some(problem)),
                Some(Ok(minor)) => Some(minor),
                None => None,
            };
            min_problem.set(None);
            let body = StartInsuranceReport {
                location_id: *location,
                tag: Some((*tag).clone()).filter(|t| !t.is_empty()),
                min_value_minor,
            };
            let (report, report_error, shown) =
                (report.clone(), report_error.clone(), shown.clone());
            report.set(None);
            report_error.set(None);
            spawn_local(async move {
                let started = api::start_insurance_report(hid, &body).await;
                follow(hid, started, report, report_error, shown).await;
            });
        })
    };
    let on_location = {
        let location = location.clone();
        Callback::from(move |id| location.set(id))
    };
    let on_tag = {
        let tag = tag.clone();
        Callback::from(move |t| tag.set(t))
    };
    let on_min = {
        let (min_value, min_problem) = (min_value.clone(), min_problem.clone());
        Callback::from(move |v| {
            min_value.set(v);
            min_problem.set(None);
        })
    };
    let mut tag_options = vec![(String::new(), "Any tag".to_string())];
    tag_options.extend(tags.iter().map(|t| (t.name.clone(), t.name.clone())));
    // "The report of 12 items is ready."
    let ready = |what: &str, job: &Job| {
        let items = format::count(number(job, "items") as i64, "item", "items");
        format!("The {what} of {items} is ready.")
    };

    html! {
        <section class="page">
            <header class="page-header">
                <div>
                    <p class="eyebrow">{ props.household.name.clone() }</p>
                    <h1>{ "Reports" }</h1>
                    <p class="muted">{ "What you own and what it is worth, ready for an insurer." }</p>
                </div>
            </header>
            <section class="card transfer" aria-labelledby="insurance-heading">
                <h2 id="insurance-heading">{ "Insurance report" }</h2>
                <p class="muted">
                    { "A PDF of your items with their values, purchase details and photos, by location. Leave the filters empty for everything." }
                </p>
                <form class="report-filters" onsubmit={make_report}>
                    <LocationPicker id="report-location" label="Location" locations={(*locations).clone()}
                        value={*location} onchange={on_location} none_label="All locations" />
                    <SelectField id="report-tag" label="Tag" options={tag_options} value={(*tag).clone()} onchange={on_tag} />
                    <TextInput id="report-min-value" label="Minimum value" value={(*min_value).clone()} oninput={on_min}
                        inputmode="decimal" suffix={props.household.currency.to_string()}
                        error={(*min_problem).clone().map(|p| format!("Minimum value {p}"))} />
                    <div class="row-actions">
                        <button type="submit" class="button button-primary" disabled={running(&report)}>{ "Make report" }</button>
                    </div>
                </form>
                if let Some(job) = &*report {
                    { job_state(job, "Making the report") }
                }
                if let Some(job) = done(&report) {
                    <p class="job-done">
                        <span role="status">{ ready("report", &job) }</span>
                        <a class="button button-primary" href={job.download_url.clone()} download="">{ "Download report (PDF)" }</a>
                    </p>
                }
                <ErrorAlert error={(*report_error).clone()} />
            </section>
            <section class="card transfer" aria-labelledby="claim-heading">
                <h2 id="claim-heading">{ "Claim pack" }</h2>
                <p class="muted">
                    { "For a claim: one zip with the report of the items concerned, all their photos, receipts and documents, and a manifest of every file." }
                </p>
                if let Some(job) = &*pack {
                    { job_state(job, "Making the claim pack") }
                }
                if let Some(job) = done(&pack) {
                    <p class="job-done">
                        <span role="status">{ ready("claim pack", &job) }</span>
                        <a class="button button-primary" href={job.download_url.clone()} download="">{ "Download claim pack (zip)" }</a>
                    </p>
                }
                <ErrorAlert error={(*pack_error).clone()} />
                if pack.is_none() && pack_error.is_none() {
                    <p>
                        { "Select the items in the " }
                        <Link<Route> to={Route::Items}>{ "item list" }</Link<Route>>
                        { " and choose Claim pack." }
                    </p>
                }
            </section>
        </section>
    }
}

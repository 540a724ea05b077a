//! "Print labels": the label stock, the positions already used on the first sheet, what
//! each label says, a preview of the first sheet drawn to scale, and the PDF to print.
//!
//! What is printed comes in the address, so every page can link here:
//! `/labels?items=<id>,<id>` (the item list's selection, an item's page),
//! `/labels?locations=<id>` (a location's own label), `/labels?in=<id>` (everything in a
//! location and below it).

use std::collections::HashMap;
use std::rc::Rc;

use futures::future::join_all;
use shared::{
    ErrorBody, ErrorCode, HouseholdId, Item, LabelField, LabelKind, LabelRequest, LabelTemplate,
    Location, LocationId, MAX_CUSTOM_LINE_CHARS,
};
use wasm_bindgen::JsCast;
use web_sys::{HtmlAnchorElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;
use yew_router::prelude::*;

use super::HouseholdProps;
use crate::api::{self, ItemQuery, LocationFilter, Sort};
use crate::app::{PrintQuery, Route};
use crate::components::{ErrorAlert, LabelText, SheetPreview};
use crate::hooks::use_title;

/// A link to this page that prints what `query` says.
pub fn print_link(label: &'static str, query: PrintQuery, classes: &'static str) -> Html {
    html! {
        <Link<Route, PrintQuery> to={Route::PrintLabels} query={Some(query)} classes={classes!(classes)}>
            { label }
        </Link<Route, PrintQuery>>
    }
}

/// The fields a person can choose, with their words; `contents` only for locations.
const FIELDS: [(LabelField, &str); 5] = [
    (LabelField::Name, "Name"),
    (LabelField::AssetId, "Asset id"),
    (LabelField::Location, "Location"),
    (LabelField::Custom, "A line of my own"),
    (
        LabelField::Contents,
        "What is inside (on a location's label)",
    ),
];

/// The label stock chosen last time, kept on this device.
const TEMPLATE_KEY: &str = "home-inventory.label-template";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// What the labels of the first sheet are about, in the order the server prints them:
/// the items picked, the locations picked, then the items in a location.
#[derive(Clone, Debug, Default, PartialEq)]
struct Subjects {
    items: Vec<Item>,
    locations: Vec<Location>,
    /// Names of the items directly in each location picked (its "contents").
    contents: HashMap<LocationId, Vec<String>>,
    inside: Vec<Item>,
    /// How many labels in all (more than are loaded when they pass one sheet).
    total: usize,
}

/// The most labels any stock has on a page: the preview loads no more.
const FIRST_SHEET_MAX: usize = 100;

async fn items_in(hid: HouseholdId, id: LocationId) -> Result<(Vec<Item>, usize), ErrorBody> {
    let params = ItemQuery {
        location: LocationFilter::In(id),
        sort: Sort::Name,
        limit: Some(FIRST_SHEET_MAX as u32),
        ..ItemQuery::default()
    };
    let (page, count) = futures::join!(api::items(hid, &params), api::count_items(hid, &params));
    let items = page?.items;
    let count = count.map_or(items.len(), |n| n as usize);
    Ok((items, count))
}

async fn load_subjects(
    hid: HouseholdId,
    query: &PrintQuery,
    all_locations: &[Location],
) -> Result<Subjects, ErrorBody> {
    let ids = query.item_ids();
    let mut items = Vec::new();
    for found in join_all(
        ids.iter()
            .take(FIRST_SHEET_MAX)
            .map(|id| api::item(hid, *id)),
    )
    .await
    {
        items.push(found?);
    }
    let locations: Vec<Location> = query
        .location_ids()
        .iter()
        .filter_map(|id| all_locations.iter().find(|l| l.id == *id).cloned())
        .collect();
    let mut contents = HashMap::new();
    for location in locations.iter().take(FIRST_SHEET_MAX) {
        if location.item_count > 0 {
            let (found, _) = items_in(hid, location.id).await?;
            let direct = found
                .into_iter()
                .filter(|i| i.location_id == Some(location.id))
                .map(|i| i.name)
                .collect();
            contents.insert(location.id, direct);
        }
    }
    let mut total = ids.len() + locations.len();
    let mut inside = Vec::new();
    if let Some(id) = query.inside_id() {
        let (found, count) = items_in(hid, id).await?;
        total += count;
        inside = found;
    }
    Ok(Subjects {
        items,
        locations,
        contents,
        inside,
        total,
    })
}

/// What the chosen fields say on one label, line by line.
fn lines(
    name: &str,
    asset_id: &shared::AssetId,
    place: &[String],
    contents: Option<(&[String], usize)>,
    fields: &[LabelField],
    custom: &str,
) -> LabelText {
    let mut lines = Vec::new();
    for field in fields {
        match field {
            LabelField::Name => lines.push(name.to_string()),
            LabelField::AssetId => lines.push(asset_id.to_string()),
            LabelField::Location if !place.is_empty() => lines.push(place.join(" › ")),
            LabelField::Custom if !custom.trim().is_empty() => {
                lines.push(custom.trim().to_string())
            }
            LabelField::Contents => {
                if let Some((names, count)) = contents
                    && count > 0
                {
                    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
                    let more = count.saturating_sub(shown.len());
                    let mut text = shown.join(", ");
                    if more > 0 {
                        text.push_str(&format!(" + {more} more"));
                    }
                    lines.push(text);
                }
            }
            _ => {}
        }
    }
    lines
}

fn label_texts(subjects: &Subjects, fields: &[LabelField], custom: &str) -> Vec<LabelText> {
    let item = |i: &Item| {
        // An item's place is its location's path.
        lines(&i.name, &i.asset_id, &i.location_path, None, fields, custom)
    };
    let location = |l: &Location| {
        let above = &l.path[..l.path.len().saturating_sub(1)];
        let names = subjects.contents.get(&l.id).map_or(&[][..], Vec::as_slice);
        let count = (l.item_count.max(0) as usize).max(names.len());
        lines(
            &l.name,
            &l.asset_id,
            above,
            Some((names, count)),
            fields,
            custom,
        )
    };
    subjects
        .items
        .iter()
        .map(item)
        .chain(subjects.locations.iter().map(location))
        .chain(subjects.inside.iter().map(item))
        .collect()
}

#[function_component(PrintLabels)]
pub fn print_labels(props: &HouseholdProps) -> Html {
    use_title("Print labels");
    let hid = props.household.id;
    let query = use_location()
        .and_then(|l| l.query::<PrintQuery>().ok())
        .unwrap_or_default();
    let templates = use_state(|| None::<Rc<Vec<LabelTemplate>>>);
    let template_id = use_state(|| {
        storage()
            .and_then(|s| s.get_item(TEMPLATE_KEY).ok().flatten())
            .unwrap_or_default()
    });
    let skip = use_state(|| "0".to_string());
    let with_contents = query.locations.is_some();
    let fields = use_state(|| {
        let mut fields = LabelField::DEFAULT.to_vec();
        if with_contents {
            fields.push(LabelField::Contents);
        }
        fields
    });
    let custom = use_state(String::new);
    let subjects = use_state(|| None::<Rc<Subjects>>);
    let error = use_state(|| None::<ErrorBody>);
    let problems = use_state(shared::FieldErrors::new);
    let busy = use_state(|| false);
    let saved = use_state(|| None::<(String, String)>);

    {
        let (templates, subjects, error) = (templates.clone(), subjects.clone(), error.clone());
        use_effect_with(query.clone(), move |query| {
            let query = query.clone();
            subjects.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let (stocks, locations) =
                    futures::join!(api::label_templates(hid), api::locations(hid));
                match stocks {
                    Ok(list) => templates.set(Some(Rc::new(list.items))),
                    Err(e) => return error.set(Some(e)),
                }
                let locations = locations.map(|l| l.items).unwrap_or_default();
                match load_subjects(hid, &query, &locations).await {
                    Ok(found) => subjects.set(Some(Rc::new(found))),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    // The saved file's address is given back when the page closes.
    {
        let saved = saved.clone();
        use_effect_with((), move |()| {
            move || {
                if let Some((url, _)) = &*saved {
                    let _ = web_sys::Url::revoke_object_url(url);
                }
            }
        });
    }

    let stocks = (*templates).clone().unwrap_or_default();
    let template = stocks
        .iter()
        .find(|t| t.id == *template_id)
        .or_else(|| stocks.first())
        .cloned();
    let per_page = template
        .as_ref()
        .map_or(1, |t| t.labels_per_page.max(1) as usize);
    let is_roll = template.as_ref().is_some_and(|t| t.kind == LabelKind::Roll);
    let skip_number = skip.trim().parse::<i64>().ok();
    let skip_shown = skip_number
        .filter(|n| *n >= 0)
        .map_or(0, |n| n as usize)
        .min(per_page - 1);

    let on_template = {
        let (template_id, problems) = (template_id.clone(), problems.clone());
        Callback::from(move |e: Event| {
            let id = e.target_unchecked_into::<HtmlSelectElement>().value();
            if let Some(storage) = storage() {
                let _ = storage.set_item(TEMPLATE_KEY, &id);
            }
            template_id.set(id);
            problems.set(shared::FieldErrors::new());
        })
    };
    let on_skip = {
        let (skip, problems) = (skip.clone(), problems.clone());
        Callback::from(move |e: InputEvent| {
            skip.set(e.target_unchecked_into::<HtmlInputElement>().value());
            problems.set(shared::FieldErrors::new());
        })
    };
    let on_custom = {
        let (custom, problems) = (custom.clone(), problems.clone());
        Callback::from(move |e: InputEvent| {
            custom.set(e.target_unchecked_into::<HtmlInputElement>().value());
            problems.set(shared::FieldErrors::new());
        })
    };
    let toggle = |field: LabelField| {
        let (fields, problems) = (fields.clone(), problems.clone());
        Callback::from(move |_: Event| {
            let mut next: Vec<LabelField> = (*fields).clone();
            if next.contains(&field) {
                next.retain(|f| *f != field);
            } else {
                next.push(field);
                // Printed in the order they are listed here.
                next.sort_by_key(|f| FIELDS.iter().position(|(g, _)| g == f));
            }
            fields.set(next);
            problems.set(shared::FieldErrors::new());
        })
    };

    let on_download = {
        let (fields, custom, problems, busy, error, saved) = (
            fields.clone(),
            custom.clone(),
            problems.clone(),
            busy.clone(),
            error.clone(),
            saved.clone(),
        );
        let (query, template) = (query.clone(), template.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(template) = template.clone() else {
                return;
            };
            let mut found = shared::FieldErrors::new();
            let skip = if is_roll { Some(0) } else { skip_number };
            match skip {
                Some(n) if (0..per_page as i64).contains(&n) => {}
                _ => {
                    found.insert(
                        "skip".into(),
                        format!("must be a whole number from 0 to {}", per_page - 1),
                    );
                }
            }
            if fields.is_empty() {
                found.insert(
                    "fields".into(),
                    "Choose at least one thing to print.".into(),
                );
            }
            let line = custom.trim().to_string();
            if fields.contains(&LabelField::Custom) {
                if line.is_empty() {
                    found.insert("custom_line".into(), "Type the line to print.".into());
                } else if line.chars().count() > MAX_CUSTOM_LINE_CHARS {
                    found.insert(
                        "custom_line".into(),
                        format!("must be at most {MAX_CUSTOM_LINE_CHARS} characters"),
                    );
                }
            }
            if !found.is_empty() {
                return problems.set(found);
            }
            let item_ids = query.item_ids();
            let location_ids = query.location_ids();
            let body = LabelRequest {
                template: template.id.clone(),
                item_ids: (!item_ids.is_empty()).then_some(item_ids),
                location_ids: (!location_ids.is_empty()).then_some(location_ids),
                items_in_location: query.inside_id(),
                skip: skip.filter(|n| *n > 0),
                fields: Some((*fields).clone()),
                custom_line: fields.contains(&LabelField::Custom).then_some(line),
                ..LabelRequest::default()
            };
            let (problems, busy, error, saved) =
                (problems.clone(), busy.clone(), error.clone(), saved.clone());
            busy.set(true);
            error.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                let result = api::labels_pdf(hid, &body).await;
                busy.set(false);
                match result {
                    Ok(pdf) => {
                        let name = format!("labels-{}.pdf", body.template);
                        if let Some((old, _)) = &*saved {
                            let _ = web_sys::Url::revoke_object_url(old);
                        }
                        if let Ok(url) = web_sys::Url::create_object_url_with_blob(&pdf) {
                            save(&url, &name);
                            saved.set(Some((url, name)));
                        }
                    }
                    Err(e) => {
                        let fields = e.field_errors();
                        if e.error.code == ErrorCode::ValidationFailed && !fields.is_empty() {
                            problems.set(fields);
                        }
                        error.set(Some(e));
                    }
                }
            });
        })
    };

    let nothing = query.item_ids().is_empty()
        && query.location_ids().is_empty()
        && query.inside_id().is_none();
    let problem = |field: &str| problems.get(field).cloned();
    let texts = subjects
        .as_ref()
        .map(|s| label_texts(s, &fields, &custom))
        .unwrap_or_default();
    let total = subjects.as_ref().map_or(0, |s| s.total);
    html! {
        <section class="page print-labels">
            <header class="page-header">
                <div>
                    <h1>{ "Print labels" }</h1>
                    if subjects.is_some() && !nothing {
                        <p class="muted">{ crate::format::count(total as i64, "label", "labels") }</p>
                    }
                </div>
            </header>
            <ErrorAlert error={(*error).clone()} />
            if nothing {
                <div class="card empty">
                    <p>{ "Nothing to print yet. Select items in the item list, or open an item or a location, and print its labels from there." }</p>
                    <Link<Route> to={Route::Items} classes="button button-secondary">{ "Items" }</Link<Route>>
                </div>
            } else if let Some(template) = template {
                <div class="labels-layout">
                    <form class="card labels-form" onsubmit={on_download} novalidate=true aria-label="Label options">
                        <div class="field">
                            <label for="label-template">{ "Label stock" }</label>
                            <select id="label-template" onchange={on_template} aria-describedby="label-template-hint">
                                { for stocks.iter().map(|t| html! {
                                    <option value={t.id.clone()} selected={t.id == template.id}>{ t.name.clone() }</option>
                                }) }
                            </select>
                            <p class="field-hint" id="label-template-hint">{ template.description.clone() }</p>
                        </div>
                        if !is_roll {
                            <div class="field">
                                <label for="label-skip">{ "Labels already used on the first sheet" }</label>
                                <input id="label-skip" type="number" inputmode="numeric" min="0" max={(per_page - 1).to_string()}
                                    value={(*skip).clone()} oninput={on_skip}
                                    aria-invalid={problem("skip").is_some().then_some("true")}
                                    aria-describedby={problem("skip").map(|_| "label-skip-error")} />
                                if let Some(p) = problem("skip") {
                                    <p class="field-error" id="label-skip-error">{ p }</p>
                                }
                            </div>
                        }
                        <fieldset class="field label-fields" aria-describedby={problem("fields").map(|_| "label-fields-error")}>
                            <legend>{ "On each label, beside the QR code" }</legend>
                            { for FIELDS.iter().filter(|(f, _)| *f != LabelField::Contents || with_contents).map(|(field, text)| {
                                let id = format!("label-field-{}", serde_json::to_value(field).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default());
                                html! {
                                    <div class="check">
                                        <input type="checkbox" id={id.clone()} checked={fields.contains(field)} onchange={toggle(*field)} />
                                        <label for={id}>{ *text }</label>
                                    </div>
                                }
                            }) }
                            if let Some(p) = problem("fields") {
                                <p class="field-error" id="label-fields-error">{ p }</p>
                            }
                        </fieldset>
                        if fields.contains(&LabelField::Custom) {
                            <div class="field">
                                <label for="label-custom">{ "Your line" }</label>
                                <input id="label-custom" type="text" maxlength={MAX_CUSTOM_LINE_CHARS.to_string()} value={(*custom).clone()}
                                    oninput={on_custom} aria-invalid={problem("custom_line").is_some().then_some("true")}
                                    aria-describedby={problem("custom_line").map(|_| "label-custom-error")} />
                                if let Some(p) = problem("custom_line") {
                                    <p class="field-error" id="label-custom-error">{ p }</p>
                                }
                            </div>
                        }
                        <div class="row-actions">
                            <button type="submit" class="button button-primary" disabled={*busy || subjects.is_none()}>
                                { if *busy { "Making the PDF…" } else { "Download PDF" } }
                            </button>
                            if let Some((url, name)) = &*saved {
                                <a class="button button-ghost" href={url.clone()} download={name.clone()}>{ format!("Save {name} again") }</a>
                            }
                        </div>
                    </form>
                    <section class="card labels-preview" aria-labelledby="labels-preview-heading">
                        <h2 id="labels-preview-heading">{ "Preview" }</h2>
                        if subjects.is_some() {
                            <SheetPreview template={template.clone()} skip={if is_roll { 0 } else { skip_shown }} labels={texts} {total} />
                        } else {
                            <p class="muted">{ "Loading…" }</p>
                        }
                    </section>
                </div>
            } else if error.is_none() {
                <p class="muted">{ "Loading…" }</p>
            }
        </section>
    }
}

/// Saves the file at `url` (an object URL) as `name`, as a click on a download link does.
fn save(url: &str, name: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(link) = document
        .create_element("a")
        .map(|a| a.unchecked_into::<HtmlAnchorElement>())
    else {
        return;
    };
    link.set_href(url);
    link.set_download(name);
    if let Some(body) = document.body() {
        let _ = body.append_child(&link);
        link.click();
        let _ = body.remove_child(&link);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::ItemId;

    fn id(n: u64) -> shared::AssetId {
        shared::AssetId::new(n).unwrap()
    }

    #[test]
    fn a_label_says_the_chosen_fields_in_order() {
        let fields = [
            LabelField::Name,
            LabelField::AssetId,
            LabelField::Location,
            LabelField::Custom,
        ];
        let place = vec!["Garage".to_string(), "Top shelf".to_string()];
        assert_eq!(
            lines(
                "Claw hammer",
                &id(42),
                &place,
                None,
                &fields,
                " Property of Ola "
            ),
            [
                "Claw hammer",
                "000-042",
                "Garage › Top shelf",
                "Property of Ola"
            ]
        );
        // Nothing to say, no line: no place, no custom line.
        assert_eq!(
            lines("Lamp", &id(7), &[], None, &fields, ""),
            ["Lamp", "000-007"]
        );
    }

    #[test]
    fn a_locations_contents_name_a_few_then_how_many_more() {
        let names: Vec<String> = ["Drill", "Saw", "Vise", "Clamp"].map(String::from).to_vec();
        let fields = [LabelField::Name, LabelField::Contents];
        assert_eq!(
            lines("Garage", &id(5000), &[], Some((&names, 9)), &fields, ""),
            ["Garage", "Drill, Saw, Vise + 6 more"]
        );
        assert_eq!(
            lines("Attic", &id(1), &[], Some((&[], 0)), &fields, ""),
            ["Attic"]
        );
    }

    #[test]
    fn the_address_names_what_to_print() {
        let a: ItemId = "0192f0c4-5b1a-7cc0-8000-000000000001".parse().unwrap();
        let b: ItemId = "0192f0c4-5b1a-7cc0-8000-000000000002".parse().unwrap();
        let query = PrintQuery::items(&[a, b]);
        assert_eq!(query.item_ids(), [a, b]);
        assert!(query.location_ids().is_empty() && query.inside_id().is_none());
        assert!(PrintQuery::items(&[]).items.is_none());
    }
}

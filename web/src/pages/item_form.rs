//! Adding and editing an item, with every field the API knows, and what to do when
//! someone else saved the item while it was being edited.

use std::collections::BTreeMap;
use std::rc::Rc;

use shared::{
    CreateItem, Currency, Day, ErrorBody, ErrorCode, FieldErrors, Household, Item, ItemFields,
    ItemId, Location, LocationId, Money, TagCount, changed_fields, parse_amount,
};
use web_sys::{HtmlInputElement, SubmitEvent};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::app::Route;
use crate::components::{
    CustomFieldsEditor, CustomRow, ErrorAlert, LocationPicker, TagsInput, TextArea, TextInput,
    amount_text, field_errors_with_asset_id,
};
use crate::format::field_label;
use crate::hooks::{SessionAction, use_session, use_title};
use crate::pages::BarcodeQuery;

// ---------------------------------------------------------------- pages

#[derive(Properties, PartialEq)]
pub struct NewItemProps {
    pub household: Household,
}

#[function_component(NewItem)]
pub fn new_item(props: &NewItemProps) -> Html {
    use_title("Add item");
    // From the Scan page: a product barcode no item has yet.
    let barcode = use_location()
        .and_then(|l| l.query::<BarcodeQuery>().ok())
        .map(|q| q.barcode);
    html! {
        <section class="page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <Link<Route> to={Route::Items}>{ "Items" }</Link<Route>>
                <span aria-hidden="true">{ " / " }</span>
                <span aria-current="page">{ "New" }</span>
            </nav>
            <header class="page-header"><h1>{ "Add item" }</h1></header>
            <ItemForm household={props.household.clone()} item={None::<Item>} {barcode} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct EditItemProps {
    pub household: Household,
    pub id: ItemId,
}

#[function_component(EditItem)]
pub fn edit_item(props: &EditItemProps) -> Html {
    let item = use_state(|| None::<Item>);
    let error = use_state(|| None::<ErrorBody>);
    use_title(
        &item
            .as_ref()
            .map_or("Edit item".to_string(), |i| format!("Edit {}", i.name)),
    );
    {
        let (item, error) = (item.clone(), error.clone());
        let hid = props.household.id;
        use_effect_with(props.id, move |id| {
            let id = *id;
            wasm_bindgen_futures::spawn_local(async move {
                match api::item(hid, id).await {
                    Ok(i) => item.set(Some(i)),
                    Err(e) => error.set(Some(e)),
                }
            });
        });
    }
    html! {
        <section class="page">
            <nav class="breadcrumbs" aria-label="Breadcrumb">
                <Link<Route> to={Route::Items}>{ "Items" }</Link<Route>>
                <span aria-hidden="true">{ " / " }</span>
                if let Some(item) = &*item {
                    <Link<Route> to={Route::Item { id: item.id }}>{ item.name.clone() }</Link<Route>>
                    <span aria-hidden="true">{ " / " }</span>
                }
                <span aria-current="page">{ "Edit" }</span>
            </nav>
            <header class="page-header"><h1>{ "Edit item" }</h1></header>
            <ErrorAlert error={(*error).clone()} />
            if let Some(item) = &*item {
                <ItemForm household={props.household.clone()} item={Some(item.clone())} />
            } else if error.is_none() {
                <p class="muted">{ "Loading…" }</p>
            }
        </section>
    }
}

// ---------------------------------------------------------------- the draft

/// The form as typed: text until it is checked.
#[derive(Clone, Debug, PartialEq)]
struct Draft {
    name: String,
    description: String,
    location_id: Option<LocationId>,
    quantity: String,
    tags: Vec<String>,
    brand: String,
    model: String,
    serial_number: String,
    barcode: String,
    purchase_date: String,
    purchase_price: String,
    purchased_from: String,
    estimated_value: String,
    warranty_expires: String,
    notes: String,
    custom: Vec<CustomRow>,
    insured: bool,
    lifetime_warranty: bool,
    sold_to: String,
    sold_date: String,
    sold_price: String,
    sold_notes: String,
    /// The number on its label, `000-123`; empty for a new item: the next one.
    asset_id: String,
}

impl Draft {
    fn new() -> Self {
        Self::from_fields(&ItemFields {
            quantity: 1,
            ..Default::default()
        })
    }

    fn from_fields(f: &ItemFields) -> Self {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let day = |d: Option<Day>| d.map(|d| d.to_string()).unwrap_or_default();
        Self {
            name: f.name.clone(),
            description: text(&f.description),
            location_id: f.location_id,
            quantity: f.quantity.to_string(),
            tags: f.tags.clone(),
            brand: text(&f.brand),
            model: text(&f.model),
            serial_number: text(&f.serial_number),
            barcode: text(&f.barcode),
            purchase_date: day(f.purchase_date),
            purchase_price: amount_text(f.purchase_price.as_ref()),
            purchased_from: text(&f.purchased_from),
            estimated_value: amount_text(f.estimated_value.as_ref()),
            warranty_expires: day(f.warranty_expires),
            notes: text(&f.notes),
            custom: f
                .custom_fields
                .iter()
                .enumerate()
                .map(|(i, (name, value))| CustomRow {
                    key: i as u32,
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            insured: f.insured,
            lifetime_warranty: f.lifetime_warranty,
            sold_to: text(&f.sold_to),
            sold_date: day(f.sold_date),
            sold_price: amount_text(f.sold_price.as_ref()),
            sold_notes: text(&f.sold_notes),
            asset_id: f.asset_id.map(|a| a.to_string()).unwrap_or_default(),
        }
    }

    /// Checks every field, as the server will: the item's fields, or what is wrong with
    /// each field.
    fn check(&self, currency: &Currency) -> Result<ItemFields, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut money = |field: &str, raw: &str| -> Option<Money> {
            if raw.trim().is_empty() {
                return None;
            }
            match parse_amount(raw, currency) {
                Ok(amount_minor) => Some(Money {
                    amount_minor,
                    currency: currency.clone(),
                }),
                Err(e) => {
                    errors.insert(field.into(), e);
                    None
                }
            }
        };
        let purchase_price = money("purchase_price", &self.purchase_price);
        let estimated_value = money("estimated_value", &self.estimated_value);
        let sold_price = money("sold_price", &self.sold_price);
        let mut day = |field: &str, raw: &str| -> Option<Day> {
            if raw.trim().is_empty() {
                return None;
            }
            raw.parse::<Day>()
                .map_err(|_| errors.insert(field.into(), "is not a date like 2024-05-31".into()))
                .ok()
        };
        let purchase_date = day("purchase_date", &self.purchase_date);
        let warranty_expires = day("warranty_expires", &self.warranty_expires);
        let sold_date = day("sold_date", &self.sold_date);
        let quantity = match self.quantity.trim() {
            "" => Some(1),
            raw => raw
                .parse::<i64>()
                .map_err(|_| errors.insert("quantity".into(), "must be a whole number".into()))
                .ok(),
        };
        let mut custom = BTreeMap::new();
        for row in &self.custom {
            let (name, value) = (row.name.trim(), row.value.trim());
            if name.is_empty() && value.is_empty() {
                continue;
            }
            if name.is_empty() {
                errors.insert(
                    "custom_fields".into(),
                    format!("need a name for the value “{value}”"),
                );
            } else if custom.insert(name.to_string(), value.to_string()).is_some() {
                errors.insert(
                    "custom_fields".into(),
                    format!("have “{name}” twice; each name can be used once"),
                );
            }
        }
        let text = |raw: &str| Some(raw.to_string());
        let create = CreateItem {
            id: None,
            name: Some(self.name.clone()),
            description: text(&self.description),
            location_id: self.location_id,
            quantity,
            tags: Some(self.tags.clone()),
            brand: text(&self.brand),
            model: text(&self.model),
            serial_number: text(&self.serial_number),
            barcode: text(&self.barcode),
            purchase_date,
            purchase_price,
            purchased_from: text(&self.purchased_from),
            estimated_value,
            warranty_expires,
            notes: text(&self.notes),
            custom_fields: Some(custom),
            insured: Some(self.insured),
            lifetime_warranty: Some(self.lifetime_warranty),
            sold_to: text(&self.sold_to),
            sold_date,
            sold_price,
            sold_notes: text(&self.sold_notes),
            // Left empty, a new item gets the household's next number and an edited one
            // keeps its own.
            asset_id: Some(self.asset_id.trim().to_string()).filter(|a| !a.is_empty()),
        };
        match create.validate(currency) {
            Ok(fields) if errors.is_empty() => Ok(fields),
            Ok(_) => Err(errors),
            Err(more) => {
                for (field, message) in more {
                    errors.entry(field).or_insert(message);
                }
                Err(errors)
            }
        }
    }
}

fn create_body(id: ItemId, f: ItemFields) -> CreateItem {
    CreateItem {
        id: Some(id),
        name: Some(f.name),
        description: f.description,
        location_id: f.location_id,
        quantity: Some(f.quantity),
        tags: Some(f.tags),
        brand: f.brand,
        model: f.model,
        serial_number: f.serial_number,
        barcode: f.barcode,
        purchase_date: f.purchase_date,
        purchase_price: f.purchase_price,
        purchased_from: f.purchased_from,
        estimated_value: f.estimated_value,
        warranty_expires: f.warranty_expires,
        notes: f.notes,
        custom_fields: Some(f.custom_fields),
        insured: Some(f.insured),
        lifetime_warranty: Some(f.lifetime_warranty),
        sold_to: f.sold_to,
        sold_date: f.sold_date,
        sold_price: f.sold_price,
        sold_notes: f.sold_notes,
        asset_id: f.asset_id.map(|a| a.to_string()),
    }
}

/// A field's value in words, for comparing versions.
fn value_text(f: &ItemFields, field: &str, locations: &[Location]) -> String {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let money = |m: &Option<Money>| m.as_ref().map(Money::display).unwrap_or_default();
    let day = |d: &Option<Day>| d.map(|d| d.to_string()).unwrap_or_default();
    let yes = |on: bool| if on { "Yes" } else { "No" }.to_string();
    match field {
        "name" => f.name.clone(),
        "description" => text(&f.description),
        "location_id" => f
            .location_id
            .map(|id| {
                locations
                    .iter()
                    .find(|l| l.id == id)
                    .map_or_else(|| "another location".to_string(), |l| l.path.join(" › "))
            })
            .unwrap_or_default(),
        "quantity" => f.quantity.to_string(),
        "tags" => f.tags.join(", "),
        "brand" => text(&f.brand),
        "model" => text(&f.model),
        "serial_number" => text(&f.serial_number),
        "barcode" => text(&f.barcode),
        "asset_id" => f.asset_id.map(|a| a.to_string()).unwrap_or_default(),
        "purchase_date" => day(&f.purchase_date),
        "purchase_price" => money(&f.purchase_price),
        "purchased_from" => text(&f.purchased_from),
        "estimated_value" => money(&f.estimated_value),
        "warranty_expires" => day(&f.warranty_expires),
        "notes" => text(&f.notes),
        "insured" => yes(f.insured),
        "lifetime_warranty" => yes(f.lifetime_warranty),
        "sold_to" => text(&f.sold_to),
        "sold_date" => day(&f.sold_date),
        "sold_price" => money(&f.sold_price),
        "sold_notes" => text(&f.sold_notes),
        "custom_fields" => f
            .custom_fields
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        _ => String::new(),
    }
}

// ---------------------------------------------------------------- the form's state

/// Someone else saved the item after it was opened here.
#[derive(Clone, Debug, PartialEq)]
struct Conflict {
    /// The item as it is on the server now.
    server: Item,
    /// The edits made here, as fields.
    mine: ItemFields,
}

#[derive(Clone, Debug, PartialEq)]
struct FormState {
    draft: Draft,
    errors: FieldErrors,
    error: Option<ErrorBody>,
    saving: bool,
    conflict: Option<Conflict>,
}

enum FormAction {
    Edit(&'static str, fn(&mut Draft, String), String),
    Location(Option<LocationId>),
    Tags(Vec<String>),
    Custom(Vec<CustomRow>),
    Invalid(FieldErrors),
    Saving,
    Failed(ErrorBody),
    Conflict(Box<Conflict>),
}

impl Reducible for FormState {
    type Action = FormAction;

    fn reduce(self: Rc<Self>, action: FormAction) -> Rc<Self> {
        let mut next = (*self).clone();
        let editing = matches!(
            action,
            FormAction::Edit(..)
                | FormAction::Location(_)
                | FormAction::Tags(_)
                | FormAction::Custom(_)
        );
        match action {
            FormAction::Edit(field, apply, value) => {
                apply(&mut next.draft, value);
                next.errors.remove(field);
            }
            FormAction::Location(id) => {
                next.draft.location_id = id;
                next.errors.remove("location_id");
            }
            FormAction::Tags(tags) => {
                next.draft.tags = tags;
                next.errors.remove("tags");
            }
            FormAction::Custom(rows) => {
                next.draft.custom = rows;
                next.errors.remove("custom_fields");
            }
            FormAction::Invalid(errors) => {
                next.error = Some(ErrorBody::validation(&errors));
                next.errors = errors;
                next.saving = false;
            }
            FormAction::Saving => {
                next.saving = true;
                next.error = None;
            }
            FormAction::Failed(error) => {
                next.errors = field_errors_with_asset_id(&error);
                next.error = Some(error);
                next.saving = false;
            }
            FormAction::Conflict(conflict) => {
                next.conflict = Some(*conflict);
                next.saving = false;
                next.error = None;
                next.errors.clear();
            }
        }
        // Once every field error is fixed, the summary of them goes too.
        if editing
            && next.errors.is_empty()
            && next
                .error
                .as_ref()
                .is_some_and(|e| e.error.code == ErrorCode::ValidationFailed)
        {
            next.error = None;
        }
        Rc::new(next)
    }
}

// ---------------------------------------------------------------- the form

#[derive(Properties, PartialEq)]
pub struct ItemFormProps {
    pub household: Household,
    /// The item being edited; `None` to add one.
    pub item: Option<Item>,
    /// A new item's barcode, filled in.
    #[prop_or_default]
    pub barcode: Option<String>,
}

#[function_component(ItemForm)]
pub fn item_form(props: &ItemFormProps) -> Html {
    let hid = props.household.id;
    let currency = props.household.currency.clone();
    let session = use_session();
    let navigator = use_navigator();
    let state = use_reducer(|| FormState {
        draft: props.item.as_ref().map_or_else(
            || Draft {
                barcode: props.barcode.clone().unwrap_or_default(),
                ..Draft::new()
            },
            |i| Draft::from_fields(&i.fields()),
        ),
        errors: FieldErrors::new(),
        error: None,
        saving: false,
        conflict: None,
    });
    // Made once, so that sending the same new item twice stores it once.
    let new_id = use_state(ItemId::new);
    let locations = use_state(|| Rc::new(Vec::<Location>::new()));
    let tags = use_state(|| Rc::new(Vec::<TagCount>::new()));
    {
        let (locations, tags, state) = (locations.clone(), tags.clone(), state.clone());
        use_effect_with(hid, move |hid| {
            let hid = *hid;
            wasm_bindgen_futures::spawn_local(async move {
                let (l, t) = futures::join!(api::locations(hid), api::tags(hid));
                match l {
                    Ok(l) => locations.set(Rc::new(l.items)),
                    Err(e) => state.dispatch(FormAction::Failed(e)),
                }
                // Tag suggestions are a help, not a need: the form works without them.
                if let Ok(t) = t {
                    tags.set(Rc::new(t.items));
                }
            });
        });
    }

    let saved = {
        let session = session.clone();
        let navigator = navigator.clone();
        Callback::from(move |item: Item| {
            session.dispatch(SessionAction::Notify {
                text: format!("Saved “{}”", item.name),
                undo: None,
            });
            if let Some(nav) = &navigator {
                nav.push(&Route::Item { id: item.id });
            }
        })
    };

    // Sends `patch` as an edit of `version`; a stale version opens the conflict view.
    let send_edit = {
        let state = state.clone();
        let saved = saved.clone();
        Callback::from(move |(id, version, merged): (ItemId, i64, ItemFields)| {
            let state = state.clone();
            let saved = saved.clone();
            let Some(conflict) = state.conflict.clone() else {
                return;
            };
            wasm_bindgen_futures::spawn_local(async move {
                let mine = conflict.mine;
                let server = conflict.server;
                debug_assert_eq!((server.id, server.version), (id, version));
                state.dispatch(FormAction::Saving);
                match api::update_item(hid, &server, merged).await {
                    Ok(item) => saved.emit(item),
                    Err(e) if e.error.code == ErrorCode::PreconditionFailed => {
                        match api::item(hid, id).await {
                            Ok(server) => {
                                state.dispatch(FormAction::Conflict(Box::new(Conflict {
                                    server,
                                    mine,
                                })))
                            }
                            Err(e) => state.dispatch(FormAction::Failed(e)),
                        }
                    }
                    Err(e) => state.dispatch(FormAction::Failed(e)),
                }
            });
        })
    };

    let onsubmit = {
        let state = state.clone();
        let item = props.item.clone();
        let saved = saved.clone();
        let new_id = *new_id;
        let currency = currency.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if state.saving {
                return;
            }
            let fields = match state.draft.check(&currency) {
                Ok(fields) => fields,
                Err(errors) => {
                    state.dispatch(FormAction::Invalid(errors));
                    return;
                }
            };
            let state = state.clone();
            let saved = saved.clone();
            let item = item.clone();
            state.dispatch(FormAction::Saving);
            wasm_bindgen_futures::spawn_local(async move {
                let Some(base) = item else {
                    match api::create_item(hid, &create_body(new_id, fields)).await {
                        Ok(item) => saved.emit(item),
                        Err(e) => state.dispatch(FormAction::Failed(e)),
                    }
                    return;
                };
                if base.fields() == fields {
                    saved.emit(base);
                    return;
                }
                match api::update_item(hid, &base, fields.clone()).await {
                    Ok(item) => saved.emit(item),
                    Err(e) if e.error.code == ErrorCode::PreconditionFailed => {
                        match api::item(hid, base.id).await {
                            Ok(server) => {
                                state.dispatch(FormAction::Conflict(Box::new(Conflict {
                                    server,
                                    mine: fields,
                                })))
                            }
                            Err(e) => state.dispatch(FormAction::Failed(e)),
                        }
                    }
                    Err(e) => state.dispatch(FormAction::Failed(e)),
                }
            });
        })
    };

    let edit = |field: &'static str, apply: fn(&mut Draft, String)| {
        let state = state.clone();
        Callback::from(move |value: String| state.dispatch(FormAction::Edit(field, apply, value)))
    };
    let err = |field: &str| {
        let taken = field == "asset_id"
            && state
                .error
                .as_ref()
                .is_some_and(|e| e.error.code == ErrorCode::Conflict);
        state.errors.get(field).map(|m| {
            // A taken number's message is a sentence of its own, naming what has it.
            if taken {
                m.clone()
            } else {
                format!("{} {m}", field_label(field))
            }
        })
    };
    let d = &state.draft;
    let cancel_route = props
        .item
        .as_ref()
        .map_or(Route::Items, |i| Route::Item { id: i.id });
    let money_placeholder = match currency.minor_digits() {
        0 => "0".to_string(),
        n => format!("0.{}", "0".repeat(n as usize)),
    };

    // The sale opens by itself only for an item that was sold.
    let sold_open = props.item.as_ref().is_some_and(|i| {
        i.sold_to.is_some()
            || i.sold_date.is_some()
            || i.sold_price.is_some()
            || i.sold_notes.is_some()
    });

    if let (Some(conflict), Some(base)) = (&state.conflict, &props.item) {
        let before = base.fields();
        let reapply = {
            let server = conflict.server.clone();
            // Only the fields edited here go on top of the server's version.
            let mut merged = server.fields();
            for field in changed_fields(&before, &conflict.mine) {
                merged.copy_field(&conflict.mine, field);
            }
            Callback::from(move |_: MouseEvent| {
                send_edit.emit((server.id, server.version, merged.clone()));
            })
        };
        let discard = {
            let id = conflict.server.id;
            Callback::from(move |_: MouseEvent| {
                if let Some(nav) = &navigator {
                    nav.push(&Route::Item { id });
                }
            })
        };
        return conflict_view(
            &ConflictView {
                before: &before,
                server: &conflict.server.fields(),
                mine: &conflict.mine,
                locations: &locations,
            },
            state.saving,
            state.error.clone(),
            reapply,
            discard,
        );
    }

    html! {
        <form class="item-form" onsubmit={onsubmit} novalidate=true>
            <ErrorAlert error={state.error.clone()} />
            <div class="form-grid">
                <div class="form-column">
                    <section class="card stack" aria-labelledby="basics-heading">
                        <h2 id="basics-heading">{ "Basics" }</h2>
                        <TextInput id="item-name" label="Name" value={d.name.clone()} required=true
                            oninput={edit("name", |d, v| d.name = v)} error={err("name")} />
                        <TextArea id="item-description" label="Description" value={d.description.clone()}
                            oninput={edit("description", |d, v| d.description = v)} error={err("description")} />
                        <LocationPicker id="item-location" label="Location" locations={(*locations).clone()}
                            value={d.location_id}
                            onchange={let s = state.clone(); Callback::from(move |id| s.dispatch(FormAction::Location(id)))}
                            error={err("location_id")} hint="Type to search, e.g. “garage shelf”." />
                        <div class="field-row">
                            <TextInput id="item-quantity" label="Quantity" kind="number" value={d.quantity.clone()}
                                inputmode="numeric" oninput={edit("quantity", |d, v| d.quantity = v)} error={err("quantity")} class="field-narrow" />
                        </div>
                        <TagsInput id="item-tags" label="Tags" tags={d.tags.clone()} suggestions={(*tags).clone()}
                            onchange={let s = state.clone(); Callback::from(move |t| s.dispatch(FormAction::Tags(t)))}
                            error={err("tags")} />
                    </section>
                    <section class="card stack" aria-labelledby="identity-heading">
                        <h2 id="identity-heading">{ "Identification" }</h2>
                        <div class="field-row">
                            <TextInput id="item-brand" label="Brand" value={d.brand.clone()}
                                oninput={edit("brand", |d, v| d.brand = v)} error={err("brand")} />
                            <TextInput id="item-model" label="Model" value={d.model.clone()}
                                oninput={edit("model", |d, v| d.model = v)} error={err("model")} />
                        </div>
                        <div class="field-row">
                            <TextInput id="item-serial" label="Serial number" value={d.serial_number.clone()}
                                oninput={edit("serial_number", |d, v| d.serial_number = v)} error={err("serial_number")} />
                            <TextInput id="item-barcode" label="Barcode" value={d.barcode.clone()} inputmode="numeric"
                                oninput={edit("barcode", |d, v| d.barcode = v)} error={err("barcode")} />
                        </div>
                        <TextInput id="item-asset-id" label="Asset id" value={d.asset_id.clone()}
                            placeholder={props.item.is_none().then_some(AttrValue::Static("The next free number"))}
                            hint="The number on its label, like 000-123."
                            oninput={edit("asset_id", |d, v| d.asset_id = v)} error={err("asset_id")} />
                    </section>
                </div>
                <div class="form-column">
                    <section class="card stack" aria-labelledby="value-heading">
                        <h2 id="value-heading">{ "Value and purchase" }</h2>
                        <div class="field-row">
                            <TextInput id="item-estimated-value" label="Estimated value" value={d.estimated_value.clone()}
                                inputmode="decimal" placeholder={money_placeholder.clone()} suffix={currency.to_string()}
                                oninput={edit("estimated_value", |d, v| d.estimated_value = v)} error={err("estimated_value")} />
                            <TextInput id="item-purchase-price" label="Purchase price" value={d.purchase_price.clone()}
                                inputmode="decimal" placeholder={money_placeholder.clone()} suffix={currency.to_string()}
                                oninput={edit("purchase_price", |d, v| d.purchase_price = v)} error={err("purchase_price")} />
                        </div>
                        <div class="field-row">
                            <TextInput id="item-purchase-date" label="Purchase date" kind="date" value={d.purchase_date.clone()}
                                oninput={edit("purchase_date", |d, v| d.purchase_date = v)} error={err("purchase_date")} />
                            <TextInput id="item-warranty" label="Warranty expires" kind="date" value={d.warranty_expires.clone()}
                                oninput={edit("warranty_expires", |d, v| d.warranty_expires = v)} error={err("warranty_expires")} />
                        </div>
                        <div class="check-row">
                            { check("item-insured", "Insured", d.insured, edit("insured", |d, v| d.insured = !v.is_empty())) }
                            { check("item-lifetime-warranty", "Lifetime warranty", d.lifetime_warranty,
                                edit("lifetime_warranty", |d, v| d.lifetime_warranty = !v.is_empty())) }
                        </div>
                        <TextInput id="item-purchased-from" label="Purchased from" value={d.purchased_from.clone()}
                            oninput={edit("purchased_from", |d, v| d.purchased_from = v)} error={err("purchased_from")} />
                    </section>
                    <details class="card stack" open={sold_open}>
                        <summary><h2>{ "Sold" }</h2></summary>
                        <div class="field-row">
                            <TextInput id="item-sold-to" label="Sold to" value={d.sold_to.clone()}
                                oninput={edit("sold_to", |d, v| d.sold_to = v)} error={err("sold_to")} />
                            <TextInput id="item-sold-date" label="Sold on" kind="date" value={d.sold_date.clone()}
                                oninput={edit("sold_date", |d, v| d.sold_date = v)} error={err("sold_date")} />
                        </div>
                        <TextInput id="item-sold-price" label="Sold for" value={d.sold_price.clone()}
                            inputmode="decimal" placeholder={money_placeholder} suffix={currency.to_string()}
                            oninput={edit("sold_price", |d, v| d.sold_price = v)} error={err("sold_price")} />
                        <TextArea id="item-sold-notes" label="Sale notes" value={d.sold_notes.clone()}
                            oninput={edit("sold_notes", |d, v| d.sold_notes = v)} error={err("sold_notes")} />
                    </details>
                    <section class="card stack" aria-labelledby="more-heading">
                        <h2 id="more-heading">{ "Extras" }</h2>
                        <TextArea id="item-notes" label="Notes" value={d.notes.clone()} rows={4}
                            oninput={edit("notes", |d, v| d.notes = v)} error={err("notes")} />
                        <CustomFieldsEditor rows={d.custom.clone()}
                            onchange={let s = state.clone(); Callback::from(move |rows| s.dispatch(FormAction::Custom(rows)))}
                            error={err("custom_fields")} />
                    </section>
                </div>
            </div>
            <div class="form-actions sticky-actions">
                <Link<Route> to={cancel_route} classes="button button-ghost">{ "Cancel" }</Link<Route>>
                <button type="submit" class="button button-primary" disabled={state.saving}>{ "Save" }</button>
            </div>
        </form>
    }
}

/// A labelled checkbox; `onchange` gets "1" when ticked and "" when not, like a text field.
fn check(id: &'static str, label: &'static str, checked: bool, onchange: Callback<String>) -> Html {
    let onchange = Callback::from(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        onchange.emit(if input.checked() { "1" } else { "" }.into());
    });
    html! {
        <div class="check">
            <input type="checkbox" {id} {checked} {onchange} />
            <label for={id}>{ label }</label>
        </div>
    }
}

/// The three versions of an item the conflict view compares.
pub struct ConflictView<'a> {
    /// When the edit started.
    pub before: &'a ItemFields,
    /// Saved on the server since.
    pub server: &'a ItemFields,
    /// The edit made here.
    pub mine: &'a ItemFields,
    pub locations: &'a [Location],
}

/// Field by field: what changed there, what changed here, and the clashes; with "Discard my
/// changes" and "Reapply my changes".
pub fn conflict_view(
    view: &ConflictView<'_>,
    saving: bool,
    error: Option<ErrorBody>,
    reapply: Callback<MouseEvent>,
    discard: Callback<MouseEvent>,
) -> Html {
    let (before, server, locations) = (view.before, view.server, view.locations);
    let theirs = changed_fields(before, server);
    let mine = changed_fields(before, view.mine);
    let mut fields: Vec<&str> = theirs.clone();
    for f in &mine {
        if !fields.contains(f) {
            fields.push(f);
        }
    }
    let shown = |text: String| {
        if text.is_empty() {
            html! { <span class="muted">{ "(empty)" }</span> }
        } else {
            html! { { text } }
        }
    };
    html! {
        <section class="conflict card" aria-labelledby="conflict-heading">
            <div role="alert">
                <h2 id="conflict-heading">{ "Someone else changed this item" }</h2>
                <p>{ "While you were editing, a newer version was saved. Compare the changes, then put your edits on top of it or discard them." }</p>
            </div>
            <ErrorAlert {error} />
            <div class="table-scroll">
                <table class="compare">
                    <caption class="visually-hidden">{ "Changes since you started editing" }</caption>
                    <thead>
                        <tr>
                            <th scope="col">{ "Field" }</th>
                            <th scope="col">{ "When you started" }</th>
                            <th scope="col">{ "Now saved" }</th>
                            <th scope="col">{ "Your edit" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for fields.iter().map(|field| {
                            let changed_there = theirs.contains(field);
                            let changed_here = mine.contains(field);
                            let clash = changed_there && changed_here
                                && value_text(server, field, locations) != value_text(view.mine, field, locations);
                            html! {
                                <tr class={classes!(clash.then_some("clash"))}>
                                    <th scope="row">
                                        { field_label(field) }
                                        if clash { <span class="badge badge-warn">{ "both changed" }</span> }
                                    </th>
                                    <td data-label="When you started">{ shown(value_text(before, field, locations)) }</td>
                                    <td data-label="Now saved" class={classes!(changed_there.then_some("changed"))}>
                                        if changed_there { { shown(value_text(server, field, locations)) } } else { <span class="muted">{ "unchanged" }</span> }
                                    </td>
                                    <td data-label="Your edit" class={classes!(changed_here.then_some("changed"))}>
                                        if changed_here { { shown(value_text(view.mine, field, locations)) } } else { <span class="muted">{ "unchanged" }</span> }
                                    </td>
                                </tr>
                            }
                        }) }
                    </tbody>
                </table>
            </div>
            <div class="form-actions">
                <button type="button" class="button button-ghost" onclick={discard} disabled={saving}>{ "Discard my changes" }</button>
                <button type="button" class="button button-primary" onclick={reapply} disabled={saving}>{ "Reapply my changes" }</button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd() -> Currency {
        Currency::parse("USD").expect("a currency")
    }

    fn drill() -> ItemFields {
        ItemFields {
            name: "Drill".into(),
            quantity: 1,
            brand: Some("Bosch".into()),
            notes: Some("blue case".into()),
            ..Default::default()
        }
    }

    #[test]
    fn an_edit_sends_only_what_changed_and_null_for_what_was_emptied() {
        let before = drill();
        let mut draft = Draft::from_fields(&before);
        draft.brand = "  ".into();
        draft.quantity = "3".into();
        draft.estimated_value = "1,299.99".into();
        let after = draft.check(&usd()).expect("valid");
        let patch = serde_json::to_value(before.patch_to(&after)).expect("json");
        assert_eq!(
            patch,
            serde_json::json!({
                "brand": null,
                "quantity": 3,
                "estimated_value": {"amount_minor": 129_999, "currency": "USD"},
            })
        );
    }

    #[test]
    fn an_untouched_form_changes_nothing() {
        let before = drill();
        let after = Draft::from_fields(&before).check(&usd()).expect("valid");
        assert_eq!(before.patch_to(&after), shared::UpdateItem::default());
    }

    #[test]
    fn the_flags_and_the_sale_go_into_the_edit_and_come_back_unchanged() {
        let before = drill();
        let mut draft = Draft::from_fields(&before);
        draft.insured = true;
        draft.sold_to = " Ann ".into();
        draft.sold_date = "2025-03-01".into();
        draft.sold_price = "45".into();
        let after = draft.check(&usd()).expect("valid");
        let patch = serde_json::to_value(before.patch_to(&after)).expect("json");
        assert_eq!(
            patch,
            serde_json::json!({
                "insured": true,
                "sold_to": "Ann",
                "sold_date": "2025-03-01",
                "sold_price": {"amount_minor": 4_500, "currency": "USD"},
            })
        );
        let again = Draft::from_fields(&after).check(&usd()).expect("valid");
        assert_eq!(again, after);
    }

    #[test]
    fn every_bad_field_is_reported_at_once_with_the_servers_names() {
        let mut draft = Draft::new();
        draft.quantity = "two".into();
        draft.purchase_price = "12.345".into();
        draft.purchase_date = "31/05/2024".into();
        draft.sold_price = "1.2.3".into();
        draft.custom = vec![CustomRow {
            key: 0,
            name: String::new(),
            value: "18 V".into(),
        }];
        let errors = draft.check(&usd()).expect_err("invalid");
        assert_eq!(
            errors.keys().map(String::as_str).collect::<Vec<_>>(),
            vec![
                "custom_fields",
                "name",
                "purchase_date",
                "purchase_price",
                "quantity",
                "sold_price"
            ]
        );
    }

    #[test]
    fn money_shows_in_the_form_as_it_would_be_typed() {
        let money = Money {
            amount_minor: 129_999,
            currency: usd(),
        };
        assert_eq!(amount_text(Some(&money)), "1,299.99");
        assert_eq!(
            parse_amount(&amount_text(Some(&money)), &usd()),
            Ok(129_999)
        );
    }
}

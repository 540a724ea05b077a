//! Households: the unit of sharing.

use axum::Json;
use axum::extract::State;
use shared::{
    CreateHousehold, Currency, ErrorBody, FieldErrors, Household, HouseholdId, List, Role,
    UpdateHousehold, parse_name,
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::auth::{self, CurrentUser, SessionUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, IfMatch, Tagged};
use crate::store::{HouseholdRow, now};

const MAX_HOUSEHOLD_NAME: usize = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_households, create_household))
        .routes(routes!(get_household, update_household))
}

pub fn household_dto(h: HouseholdRow, role: Role) -> Household {
    Household {
        id: h.id,
        name: h.name,
        currency: h.currency,
        role,
        version: h.version,
        created_at: h.created_at,
    }
}

#[utoipa::path(
    get,
    path = "/households",
    tag = "Households",
    summary = "List your households",
    responses((status = 200, description = "Every household you belong to, with your role",
        body = List<Household>)),
)]
async fn list_households(
    State(state): State<AppState>,
    user: CurrentUser,
) -> ApiResult<Json<List<Household>>> {
    let items = state
        .store
        .households_of(user.user.id)
        .await?
        .into_iter()
        .filter(|(h, _)| user.reaches(h.id))
        .map(|(h, role)| household_dto(h, role))
        .collect();
    Ok(Json(List { items }))
}

/// Needs a signed-in person: a household is part of the account (it counts against the
/// households an account may own), and a token limited to one household could not even
/// see the one it made.
#[utoipa::path(
    post,
    path = "/households",
    security(("session" = [])),
    tag = "Households",
    summary = "Create a household",
    description = "You are its owner. Its currency is USD unless you name another.",
    request_body = CreateHousehold,
    responses(
        (status = 201, description = "Created", body = Household, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`")),
            links(("GetHousehold" = (operation_id = "get_household",
                parameters(("hid" = "$response.body#/id")))))),
        (status = 409, description = "You belong to as many households as an account may",
            body = ErrorBody),
    ),
)]
async fn create_household(
    State(state): State<AppState>,
    user: SessionUser,
    AppJson(body): AppJson<CreateHousehold>,
) -> ApiResult<Tagged<Household>> {
    let mut errors = FieldErrors::new();
    let name = parse_name(&body.name, MAX_HOUSEHOLD_NAME)
        .map_err(|e| errors.insert("name".into(), e))
        .ok();
    let currency = match body.currency.as_deref() {
        None => Some(Currency::default()),
        Some(raw) => Currency::parse(raw)
            .map_err(|e| errors.insert("currency".into(), e))
            .ok(),
    };
    let (Some(name), Some(currency), true) = (name, currency, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let household = HouseholdRow {
        id: HouseholdId::new(),
        name,
        currency,
        version: 1,
        created_at: now(),
    };
    state
        .store
        .create_household(
            &household,
            user.user.id,
            state.config.max_households_per_account,
        )
        .await?;
    Ok(Tagged::created(
        household.version,
        household_dto(household, Role::Owner),
    ))
}

#[utoipa::path(
    get,
    path = "/households/{hid}",
    tag = "Households",
    summary = "Get a household",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses((status = 200, description = "The household and your role in it",
        body = Household, headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`")))),
)]
async fn get_household(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Tagged<Household>> {
    let (household, role) = auth::member(&state, &user, hid).await?;
    Ok(Tagged::ok(
        household.version,
        household_dto(household, role),
    ))
}

#[utoipa::path(
    patch,
    path = "/households/{hid}",
    tag = "Households",
    summary = "Rename a household or change its currency",
    description = "Owners only. The currency can change only while no item has a value.",
    params(("hid" = HouseholdId, Path, description = "The household"), 
        ("If-Match" = Option<String>, Header, pattern = r#"^(\*|(W/)*"*[+-]?[0-9]{1,18}"*)$"#,
            description = "The version the change was made on, as the `ETag` gave it \
            (`\"3\"`): a stale one answers 412"),
    ),
    request_body = UpdateHousehold,
    responses(
        (status = 200, description = "The household as it is now", body = Household,
            headers(("ETag" = String, description = "The version, `\"<version>\"`: send it back in `If-Match`"))),
        (status = 403, description = "Only owners change a household", body = ErrorBody),
        (status = 409, description = "Items have values in the old currency", body = ErrorBody),
    ),
)]
async fn update_household(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    IfMatch(if_match): IfMatch,
    AppJson(body): AppJson<UpdateHousehold>,
) -> ApiResult<Tagged<Household>> {
    let (current, role) = auth::member_now(&state, &user, hid).await?;
    if !role.is_owner() {
        return Err(ApiError::Forbidden(
            "only an owner can change the household's settings".into(),
        ));
    }
    if if_match.is_some_and(|v| v != current.version) {
        return Err(ApiError::PreconditionFailed);
    }
    let mut errors = FieldErrors::new();
    let mut next = current.clone();
    if let Some(raw) = &body.name {
        match parse_name(raw, MAX_HOUSEHOLD_NAME) {
            Ok(name) => next.name = name,
            Err(e) => {
                errors.insert("name".into(), e);
            }
        }
    }
    if let Some(raw) = &body.currency {
        match Currency::parse(raw) {
            Ok(currency) if currency != current.currency => {
                let stats = state.store.stats(hid).await?;
                if stats.by_location.iter().any(|(_, _, value)| *value > 0) {
                    return Err(ApiError::Conflict(format!(
                        "items already have values in {}; the currency can only change while no item has a value",
                        current.currency
                    )));
                }
                next.currency = currency;
            }
            Ok(_) => {}
            Err(e) => {
                errors.insert("currency".into(), e);
            }
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    if next == current {
        return Ok(Tagged::ok(current.version, household_dto(current, role)));
    }
    next.version = current.version + 1;
    state.store.update_household(&next, current.version).await?;
    state.access.forget_memberships();
    Ok(Tagged::ok(next.version, household_dto(next, role)))
}

//! Households: the unit of sharing.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use shared::{
    CreateHousehold, Currency, FieldErrors, Household, HouseholdId, List, Role, UpdateHousehold,
    parse_name,
};

use crate::AppState;
use crate::auth::{self, CurrentUser, SessionUser};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppPath, IfMatch, Tagged};
use crate::store::{HouseholdRow, now};

const MAX_HOUSEHOLD_NAME: usize = 100;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/households", get(list_households).post(create_household))
        .route(
            "/households/{hid}",
            get(get_household).patch(update_household),
        )
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

async fn update_household(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
    IfMatch(if_match): IfMatch,
    AppJson(body): AppJson<UpdateHousehold>,
) -> ApiResult<Tagged<Household>> {
    let (current, role) = auth::member(&state, &user, hid).await?;
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
    Ok(Tagged::ok(next.version, household_dto(next, role)))
}

//! Tags and the household's totals.

use axum::Json;
use axum::extract::State;
use shared::{HouseholdId, List, Money, Stats, TagCount, ValueBucket};

use super::locations::Tree;
use crate::AppState;
use crate::auth::{self, CurrentUser};
use crate::error::ApiResult;
use crate::extract::AppPath;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default()
        .routes(routes!(list_tags))
        .routes(routes!(get_stats))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/tags",
    tag = "Tags",
    summary = "List tags",
    description = "The tags of live (not trashed) items, with how many items have each.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses((status = 200, description = "The tags in use", body = List<TagCount>)),
)]
async fn list_tags(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<List<TagCount>>> {
    auth::member(&state, &user, hid).await?;
    let items = state.store.tags(hid).await?;
    Ok(Json(List { items }))
}

#[utoipa::path(
    get,
    path = "/households/{hid}/stats",
    tag = "Tags",
    summary = "The household's totals",
    description = "Counts, the total estimated value, value by location and by tag, and the \
        files kept.",
    params(("hid" = HouseholdId, Path, description = "The household")),
    responses((status = 200, description = "The totals", body = Stats)),
)]
async fn get_stats(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(hid): AppPath<HouseholdId>,
) -> ApiResult<Json<Stats>> {
    let (household, _) = auth::member(&state, &user, hid).await?;
    let (row, tree) = tokio::try_join!(
        async { Ok::<_, crate::error::ApiError>(state.store.stats(hid).await?) },
        Tree::load(&state, hid)
    )?;
    let money = |amount_minor: i64| Money {
        amount_minor,
        currency: household.currency.clone(),
    };
    let mut value_by_location: Vec<ValueBucket> = row
        .by_location
        .iter()
        .map(|(id, count, value)| ValueBucket {
            id: *id,
            name: id
                .map(|id| tree.path(id).join(" › "))
                .unwrap_or_else(|| "No location".into()),
            item_count: *count,
            total_value: money(*value),
        })
        .collect();
    value_by_location.sort_by(|a, b| {
        b.total_value
            .amount_minor
            .cmp(&a.total_value.amount_minor)
            .then_with(|| a.name.cmp(&b.name))
    });
    let mut value_by_tag: Vec<ValueBucket> = row
        .by_tag
        .iter()
        .map(|(name, count, value)| ValueBucket {
            id: None,
            name: name.clone(),
            item_count: *count,
            total_value: money(*value),
        })
        .collect();
    value_by_tag.sort_by(|a, b| {
        b.total_value
            .amount_minor
            .cmp(&a.total_value.amount_minor)
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(Json(Stats {
        item_count: row.item_count,
        total_quantity: row.total_quantity,
        location_count: tree.rows().count() as i64,
        trashed_count: row.trashed_count,
        total_value: money(row.total_value_minor),
        value_by_location,
        value_by_tag,
        attachment_count: row.attachment_count,
        storage_bytes: row.storage_bytes,
    }))
}

//! Asset ids: what carries a number, in every household the caller belongs to. A label's
//! QR code holds `<PUBLIC_URL>/q/<digits>`; the web app resolves it here.

use axum::Json;
use axum::extract::State;
use shared::{AssetId, AssetKind, AssetMatch, AssetMatches, ErrorBody, HouseholdId};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::extract::AppPath;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::default().routes(routes!(find_asset))
}

#[utoipa::path(
    get,
    path = "/assets/{code}",
    tag = "Assets",
    summary = "Find what carries an asset id",
    description = "The live items and the locations with this asset id in every household \
        you belong to (only the token's household, for a token limited to one). A code names \
        one thing in a household, so there are as many matches as households that use it; \
        none is an empty list, not an error.",
    params(("code" = String, Path, description = "The asset id: `000123` (as a QR code \
        carries it), `000-123` or `123`", example = "000123")),
    responses(
        (status = 200, description = "What carries it", body = AssetMatches),
        (status = 422, description = "The code is not an asset id", body = ErrorBody),
    ),
)]
async fn find_asset(
    State(state): State<AppState>,
    user: CurrentUser,
    AppPath(code): AppPath<String>,
) -> ApiResult<Json<AssetMatches>> {
    let asset_id: AssetId = code
        .parse()
        .map_err(|message: String| ApiError::field("code", message))?;
    let households: Vec<(HouseholdId, String)> = state
        .store
        .households_of(user.user.id)
        .await?
        .into_iter()
        .filter(|(h, _)| user.reaches(h.id))
        .map(|(h, _)| (h.id, h.name))
        .collect();
    if households.is_empty() {
        return Ok(Json(AssetMatches::default()));
    }
    let ids: Vec<HouseholdId> = households.iter().map(|(id, _)| *id).collect();
    let found = state.store.assets_by_id(&ids, asset_id).await?;
    let mut items = Vec::with_capacity(found.len());
    for row in found {
        let Some((_, household_name)) = households.iter().find(|(id, _)| *id == row.household_id)
        else {
            continue;
        };
        let tree = state.access.tree(&state.store, row.household_id).await?;
        let location_path = row.location_id.map(|l| tree.path(l)).unwrap_or_default();
        items.push(AssetMatch {
            kind: row.kind,
            id: row.id,
            household_id: row.household_id,
            household_name: household_name.clone(),
            name: row.name,
            asset_id: row.asset_id,
            location_path,
        });
    }
    items.sort_by(|a, b| {
        (&a.household_name, a.kind == AssetKind::Location)
            .cmp(&(&b.household_name, b.kind == AssetKind::Location))
    });
    Ok(Json(AssetMatches { items }))
}

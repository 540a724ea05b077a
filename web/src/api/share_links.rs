//! Share links: the owner's side (made, listed, revoked, their log) and what a link shows
//! to whoever holds it. What a link shows is never kept in this device's copy: it is read
//! from the server each time, like the link's log.

use shared::{
    CreateShareLink, HouseholdId, Item, ItemId, List, Location, NewShareLink, Page, ShareLink,
    ShareLinkId, ShareUse, SharedInfo, SharedItem,
};

use super::{ApiResult, Method, get, json, query, request};

pub async fn share_links(hid: HouseholdId) -> ApiResult<List<ShareLink>> {
    get(&format!("/households/{hid}/share-links")).await
}

pub async fn create_share_link(
    hid: HouseholdId,
    body: &CreateShareLink,
) -> ApiResult<NewShareLink> {
    let path = format!("/households/{hid}/share-links");
    request(Method::Post, &path, json(body), None).await
}

pub async fn revoke_share_link(hid: HouseholdId, id: ShareLinkId) -> ApiResult<()> {
    let path = format!("/households/{hid}/share-links/{id}");
    request(Method::Delete, &path, None, None).await
}

pub async fn share_uses(
    hid: HouseholdId,
    id: ShareLinkId,
    cursor: Option<&str>,
) -> ApiResult<Page<ShareUse>> {
    let params = query(&[("cursor", cursor)]);
    get(&format!("/households/{hid}/share-links/{id}/uses{params}")).await
}

/// The secret as it may stand in a path: only the characters a secret has.
fn secret(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

pub async fn shared_info(token: &str) -> ApiResult<SharedInfo> {
    get(&format!("/shared/{}", secret(token))).await
}

pub async fn shared_locations(token: &str) -> ApiResult<List<Location>> {
    get(&format!("/shared/{}/locations", secret(token))).await
}

pub async fn shared_items(
    token: &str,
    q: &str,
    location: &str,
    cursor: Option<&str>,
) -> ApiResult<Page<Item>> {
    let params = query(&[
        ("q", Some(q)),
        ("location_id", Some(location)),
        ("cursor", cursor),
    ]);
    get(&format!("/shared/{}/items{params}", secret(token))).await
}

pub async fn shared_item(token: &str, id: ItemId) -> ApiResult<SharedItem> {
    get(&format!("/shared/{}/items/{id}", secret(token))).await
}

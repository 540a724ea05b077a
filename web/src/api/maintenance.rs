//! Items' maintenance and the household's Maintenance and Warranties overviews: read from
//! the server each time, never kept in this device's copy.

use shared::{
    CreateEntry, CreateSchedule, Day, HouseholdId, ItemId, List, MaintenanceEntry,
    MaintenanceEntryId, MaintenanceOverview, MaintenanceSchedule, MaintenanceScheduleId, MarkDone,
    MarkedDone, UpdateEntry, UpdateSchedule, WarrantyList,
};

use super::{ApiResult, Method, get, json, request};

fn base(hid: HouseholdId, item: ItemId) -> String {
    format!("/households/{hid}/items/{item}/maintenance")
}

pub async fn schedules(hid: HouseholdId, item: ItemId) -> ApiResult<List<MaintenanceSchedule>> {
    get(&format!("{}/schedules", base(hid, item))).await
}

pub async fn create_schedule(
    hid: HouseholdId,
    item: ItemId,
    body: &CreateSchedule,
) -> ApiResult<MaintenanceSchedule> {
    let path = format!("{}/schedules", base(hid, item));
    request(Method::Post, &path, json(body), None).await
}

/// Changes a schedule as it was at `version`; 412 when someone changed it since.
pub async fn update_schedule(
    hid: HouseholdId,
    item: ItemId,
    id: MaintenanceScheduleId,
    version: i64,
    body: &UpdateSchedule,
) -> ApiResult<MaintenanceSchedule> {
    let path = format!("{}/schedules/{id}", base(hid, item));
    request(Method::Patch, &path, json(body), Some(version)).await
}

pub async fn delete_schedule(
    hid: HouseholdId,
    item: ItemId,
    id: MaintenanceScheduleId,
) -> ApiResult<()> {
    let path = format!("{}/schedules/{id}", base(hid, item));
    request(Method::Delete, &path, None, None).await
}

pub async fn mark_done(
    hid: HouseholdId,
    item: ItemId,
    id: MaintenanceScheduleId,
    body: &MarkDone,
) -> ApiResult<MarkedDone> {
    let path = format!("{}/schedules/{id}/done", base(hid, item));
    request(Method::Post, &path, json(body), None).await
}

pub async fn entries(hid: HouseholdId, item: ItemId) -> ApiResult<List<MaintenanceEntry>> {
    get(&format!("{}/entries", base(hid, item))).await
}

pub async fn create_entry(
    hid: HouseholdId,
    item: ItemId,
    body: &CreateEntry,
) -> ApiResult<MaintenanceEntry> {
    let path = format!("{}/entries", base(hid, item));
    request(Method::Post, &path, json(body), None).await
}

/// Changes a log entry as it was at `version`; 412 when someone changed it since.
pub async fn update_entry(
    hid: HouseholdId,
    item: ItemId,
    id: MaintenanceEntryId,
    version: i64,
    body: &UpdateEntry,
) -> ApiResult<MaintenanceEntry> {
    let path = format!("{}/entries/{id}", base(hid, item));
    request(Method::Patch, &path, json(body), Some(version)).await
}

pub async fn delete_entry(hid: HouseholdId, item: ItemId, id: MaintenanceEntryId) -> ApiResult<()> {
    let path = format!("{}/entries/{id}", base(hid, item));
    request(Method::Delete, &path, None, None).await
}

/// What is overdue, due soon and done recently, as of `today` (this device's date).
pub async fn maintenance_overview(hid: HouseholdId, today: Day) -> ApiResult<MaintenanceOverview> {
    get(&format!("/households/{hid}/maintenance?today={today}")).await
}

/// Warranties ending within `within_days` of `today` (this device's date).
pub async fn warranties(hid: HouseholdId, within_days: i64, today: Day) -> ApiResult<WarrantyList> {
    get(&format!(
        "/households/{hid}/warranties?within_days={within_days}&today={today}"
    ))
    .await
}

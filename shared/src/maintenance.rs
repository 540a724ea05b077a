//! Maintenance of items: schedules ("every 3 months, from the last time it was done"), the
//! log of what was done, and the next due date of a schedule; the Maintenance and
//! Warranties overviews of a household.
//!
//! Dates here are calendar days as the person sees them. Whether something is overdue
//! depends on the person's own "today" ([`due_state`]), which the caller works out from
//! their time zone; this module knows no time zones.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime};

use crate::ids::{AttachmentId, ItemId, MaintenanceEntryId, MaintenanceScheduleId, UserId};
use crate::patch::Patch;
use crate::values::{Day, Money, parse_name, parse_optional_text};

/// A schedule's or an entry's title: 1 to this many characters.
pub const MAX_MAINTENANCE_TITLE_CHARS: usize = 200;
/// Notes of a schedule or an entry.
pub const MAX_MAINTENANCE_NOTES_CHARS: usize = 10_000;
/// The largest `every` of a schedule ("every 999 days").
pub const MAX_EVERY: i64 = 999;
/// Files one log entry may name.
pub const MAX_ENTRY_ATTACHMENTS: usize = 20;
/// Windows of the Warranties page, in days.
pub const WARRANTY_WINDOWS: [i64; 3] = [30, 60, 90];
/// "Due soon" when the request does not say: within this many days.
pub const DEFAULT_DUE_WITHIN_DAYS: i64 = 14;
/// "Done recently" when the request does not say: within this many days.
pub const DEFAULT_DONE_WITHIN_DAYS: i64 = 30;
/// The longest window an overview may ask for.
pub const MAX_WINDOW_DAYS: i64 = 366;

/// The unit of a schedule's interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IntervalUnit {
    Day,
    Week,
    Month,
    Year,
}

impl IntervalUnit {
    pub const ALL: [Self; 4] = [Self::Day, Self::Week, Self::Month, Self::Year];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
            Self::Month => "month",
            Self::Year => "year",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|u| u.as_str() == raw)
    }

    /// "every 3 months", "every week".
    pub fn describe(self, every: i64) -> String {
        if every == 1 {
            format!("every {}", self.as_str())
        } else {
            format!("every {every} {}s", self.as_str())
        }
    }
}

/// What a schedule's due dates count from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScheduleAnchor {
    /// Due on the start date and every interval after it, whenever the work was done: the
    /// next due date is the first of those after the last time it was done.
    Start,
    /// Due one interval after the last time it was done (on the start date before that).
    LastDone,
}

impl ScheduleAnchor {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::LastDone => "last_done",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Start, Self::LastDone]
            .into_iter()
            .find(|a| a.as_str() == raw)
    }
}

/// How often: `every` × `unit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub every: i64,
    pub unit: IntervalUnit,
}

/// `every` of a schedule: 1 to 999.
pub fn parse_every(every: i64) -> Result<i64, String> {
    if (1..=MAX_EVERY).contains(&every) {
        Ok(every)
    } else {
        Err(format!("must be a whole number from 1 to {MAX_EVERY}"))
    }
}

/// A title of a schedule or an entry: trimmed, 1 to 200 characters.
pub fn parse_maintenance_title(raw: &str) -> Result<String, String> {
    parse_name(raw, MAX_MAINTENANCE_TITLE_CHARS)
}

/// Notes: trimmed; empty means none.
pub fn parse_maintenance_notes(raw: &str) -> Result<Option<String>, String> {
    parse_optional_text(raw, MAX_MAINTENANCE_NOTES_CHARS)
}

/// `date` moved by `months`, on the same day of the month or, when that month is shorter,
/// on its last day (Jan 31 + 1 month = Feb 28 or 29).
pub fn add_months(date: Date, months: i64) -> Option<Date> {
    let index = i64::from(date.year()) * 12 + i64::from(u8::from(date.month())) - 1 + months;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = date.day().min(month.length(year));
    Date::from_calendar_date(year, month, day).ok()
}

impl Interval {
    /// `from` moved by `k` intervals, counted from `from` itself (so a monthly schedule
    /// from Jan 31 falls on Feb 28, Mar 31, Apr 30, not on the 28th ever after).
    pub fn nth_after(self, from: Date, k: i64) -> Option<Date> {
        let steps = self.every.checked_mul(k)?;
        match self.unit {
            IntervalUnit::Day => from.checked_add(Duration::days(steps)),
            IntervalUnit::Week => from.checked_add(Duration::weeks(steps)),
            IntervalUnit::Month => add_months(from, steps),
            IntervalUnit::Year => add_months(from, steps.checked_mul(12)?),
        }
    }

    /// The first of `start`, `start` + 1 interval, `start` + 2 intervals, … after `after`.
    pub fn first_after(self, start: Date, after: Date) -> Option<Date> {
        if start > after {
            return Some(start);
        }
        // A first guess by the average length of an interval, then exact steps.
        let days = (after - start).whole_days();
        let approx_days = match self.unit {
            IntervalUnit::Day => self.every,
            IntervalUnit::Week => self.every * 7,
            IntervalUnit::Month => self.every * 30,
            IntervalUnit::Year => self.every * 365,
        };
        let mut k = (days / approx_days).max(1);
        while k > 1 && self.nth_after(start, k - 1)? > after {
            k -= 1;
        }
        while self.nth_after(start, k)? <= after {
            k += 1;
        }
        self.nth_after(start, k)
    }
}

/// A schedule's next due date from its settings and the last time it was done.
pub fn next_due(
    interval: Interval,
    anchor: ScheduleAnchor,
    start: Date,
    last_done: Option<Date>,
) -> Option<Date> {
    match (anchor, last_done) {
        (_, None) => Some(start),
        (ScheduleAnchor::Start, Some(done)) => interval.first_after(start, done),
        (ScheduleAnchor::LastDone, Some(done)) => interval.nth_after(done, 1),
    }
}

/// Where a due date stands on the person's own today.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    /// The due date has passed.
    Overdue,
    /// Due today or within the "due soon" window.
    DueSoon,
    Later,
}

/// Whether work due on `due` is overdue or due soon for someone whose date is `today`
/// (their local date: late evening in UTC is already tomorrow in Tokyo), "soon" being
/// within `soon_days` days.
pub fn due_state(due: Date, today: Date, soon_days: i64) -> DueState {
    if due < today {
        DueState::Overdue
    } else if (due - today).whole_days() <= soon_days {
        DueState::DueSoon
    } else {
        DueState::Later
    }
}

/// The calendar date at the instant `at` where the clock is `offset` from UTC; the api
/// finds the offset of a person's time zone at that instant.
pub fn local_date(at: OffsetDateTime, offset: time::UtcOffset) -> Date {
    at.to_offset(offset).date()
}

/// A maintenance schedule of an item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceSchedule {
    pub id: MaintenanceScheduleId,
    pub item_id: ItemId,
    pub title: String,
    /// 1 to 999 `unit`s.
    pub every: i64,
    pub unit: IntervalUnit,
    pub anchor: ScheduleAnchor,
    pub start_date: Day,
    /// The date of the last log entry made by "Mark done" for it.
    pub last_done: Option<Day>,
    pub next_due: Day,
    pub notes: Option<String>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl MaintenanceSchedule {
    pub fn interval(&self) -> Interval {
        Interval {
            every: self.every,
            unit: self.unit,
        }
    }
}

/// One entry of an item's maintenance log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceEntry {
    pub id: MaintenanceEntryId,
    pub item_id: ItemId,
    /// The schedule it was done for, if any.
    pub schedule_id: Option<MaintenanceScheduleId>,
    pub date: Day,
    pub title: String,
    pub cost: Option<Money>,
    pub notes: Option<String>,
    /// Files of the same item: a repair receipt, a photo of the work.
    pub attachment_ids: Vec<AttachmentId>,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// `POST …/items/{id}/maintenance/schedules`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSchedule {
    #[serde(default)]
    pub title: String,
    /// 1 to 999.
    #[serde(deserialize_with = "crate::values::whole::required")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999))]
    pub every: i64,
    pub unit: IntervalUnit,
    /// `start` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<ScheduleAnchor>,
    /// The first due date; today (UTC) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// `PATCH …/maintenance/schedules/{sid}`: absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateSchedule {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::values::whole::option"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 999))]
    pub every: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<IntervalUnit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor: Option<ScheduleAnchor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_date: Option<Day>,
    /// `null` clears them.
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub notes: Patch<String>,
}

/// `POST …/items/{id}/maintenance/entries`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateEntry {
    #[serde(default)]
    pub title: String,
    /// Today (UTC) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Day>,
    /// In the household's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// Files of the same item.
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// `PATCH …/maintenance/entries/{eid}`: absent fields stay as they are; `null` clears.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Day>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Money>))]
    pub cost: Patch<Money>,
    #[serde(default, skip_serializing_if = "Patch::is_missing")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub notes: Patch<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment_ids: Option<Vec<AttachmentId>>,
}

/// `POST …/maintenance/schedules/{sid}/done`: logs the work and moves the schedule on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkDone {
    /// When it was done; today (UTC) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Day>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(default)]
    pub attachment_ids: Vec<AttachmentId>,
}

/// The answer to "Mark done": the new log entry and the schedule, moved on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkedDone {
    pub entry: MaintenanceEntry,
    pub schedule: MaintenanceSchedule,
}

/// A schedule with its item, for the household's Maintenance page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DueSchedule {
    pub schedule: MaintenanceSchedule,
    pub item_name: String,
    /// The item's location, from the top; empty without one.
    pub location_path: Vec<String>,
    /// Days from today to the due date: negative when overdue.
    pub days_left: i64,
}

/// A log entry with its item, for the household's Maintenance page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DoneEntry {
    pub entry: MaintenanceEntry,
    pub item_name: String,
    pub location_path: Vec<String>,
}

/// `GET /households/{hid}/maintenance`: what is overdue, due soon and done recently.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MaintenanceOverview {
    /// The date the buckets were made for.
    pub today: Day,
    /// Most overdue first.
    pub overdue: Vec<DueSchedule>,
    /// Due today or within the window, soonest first.
    pub due_soon: Vec<DueSchedule>,
    /// Newest first.
    pub done_recently: Vec<DoneEntry>,
}

/// An item whose warranty ends soon (or ended lately), for the Warranties page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarrantyItem {
    pub item_id: ItemId,
    pub name: String,
    pub warranty_expires: Day,
    /// Days from today: negative once it has ended.
    pub days_left: i64,
    pub location_path: Vec<String>,
}

/// `GET /households/{hid}/warranties`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WarrantyList {
    pub today: Day,
    pub within_days: i64,
    /// Ending from today to `within_days` days from now, soonest first.
    pub ending: Vec<WarrantyItem>,
    /// Ended in the last 30 days, most recent first.
    pub ended_recently: Vec<WarrantyItem>,
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};
    use time::{UtcOffset, macros::offset};

    use super::*;

    const MONTHLY: Interval = Interval {
        every: 1,
        unit: IntervalUnit::Month,
    };

    fn dates(interval: Interval, start: Date, n: i64) -> Vec<Date> {
        (0..n)
            .map(|k| interval.nth_after(start, k).unwrap())
            .collect()
    }

    #[test]
    fn monthly_from_the_31st_lands_on_each_months_last_day_when_shorter() {
        assert_eq!(
            dates(MONTHLY, date!(2025 - 01 - 31), 5),
            [
                date!(2025 - 01 - 31),
                date!(2025 - 02 - 28),
                date!(2025 - 03 - 31),
                date!(2025 - 04 - 30),
                date!(2025 - 05 - 31)
            ]
        );
        // In a leap year February has 29 days.
        assert_eq!(
            MONTHLY.nth_after(date!(2028 - 01 - 31), 1),
            Some(date!(2028 - 02 - 29))
        );
        // Across the end of a year.
        assert_eq!(
            Interval {
                every: 3,
                unit: IntervalUnit::Month
            }
            .nth_after(date!(2025 - 11 - 30), 1),
            Some(date!(2026 - 02 - 28))
        );
    }

    #[test]
    fn yearly_from_a_leap_day_falls_on_feb_28_then_back_on_the_29th() {
        let yearly = Interval {
            every: 1,
            unit: IntervalUnit::Year,
        };
        assert_eq!(
            dates(yearly, date!(2028 - 02 - 29), 5),
            [
                date!(2028 - 02 - 29),
                date!(2029 - 02 - 28),
                date!(2030 - 02 - 28),
                date!(2031 - 02 - 28),
                date!(2032 - 02 - 29)
            ]
        );
    }

    #[test]
    fn days_and_weeks_count_plain_days() {
        let fortnightly = Interval {
            every: 2,
            unit: IntervalUnit::Week,
        };
        assert_eq!(
            fortnightly.nth_after(date!(2025 - 12 - 22), 1),
            Some(date!(2026 - 01 - 05))
        );
        let ten_days = Interval {
            every: 10,
            unit: IntervalUnit::Day,
        };
        assert_eq!(
            ten_days.nth_after(date!(2028 - 02 - 25), 1),
            Some(date!(2028 - 03 - 06))
        );
    }

    #[test]
    fn from_the_start_the_next_due_is_the_first_date_of_the_series_after_the_work() {
        let start = date!(2025 - 01 - 31);
        let anchor = ScheduleAnchor::Start;
        // Nothing done yet: due on the start date.
        assert_eq!(next_due(MONTHLY, anchor, start, None), Some(start));
        // Done late, on Mar 10: the next of the series is Mar 31.
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2025 - 03 - 10))),
            Some(date!(2025 - 03 - 31))
        );
        // Done on a due date itself: the next one.
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2025 - 02 - 28))),
            Some(date!(2025 - 03 - 31))
        );
        // Done before the start: the start is still next.
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2024 - 12 - 01))),
            Some(start)
        );
        // Years later, still on the series.
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2031 - 06 - 30))),
            Some(date!(2031 - 07 - 31))
        );
        let weekly = Interval {
            every: 1,
            unit: IntervalUnit::Week,
        };
        assert_eq!(
            next_due(
                weekly,
                anchor,
                date!(2025 - 01 - 06),
                Some(date!(2025 - 03 - 05))
            ),
            Some(date!(2025 - 03 - 10))
        );
    }

    #[test]
    fn from_the_last_done_the_next_due_is_one_interval_after_it() {
        let start = date!(2025 - 01 - 01);
        let anchor = ScheduleAnchor::LastDone;
        assert_eq!(next_due(MONTHLY, anchor, start, None), Some(start));
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2025 - 03 - 10))),
            Some(date!(2025 - 04 - 10))
        );
        assert_eq!(
            next_due(MONTHLY, anchor, start, Some(date!(2028 - 01 - 31))),
            Some(date!(2028 - 02 - 29))
        );
        let six_months = Interval {
            every: 6,
            unit: IntervalUnit::Month,
        };
        assert_eq!(
            next_due(six_months, anchor, start, Some(date!(2025 - 08 - 31))),
            Some(date!(2026 - 02 - 28))
        );
    }

    #[test]
    fn overdue_and_due_soon_follow_the_persons_own_date() {
        // 22:30 UTC on Dec 7 is Dec 8 in Tokyo (UTC+9) and still Dec 7 in Los Angeles
        // (UTC-8 in December).
        let at = datetime!(2026-12-07 22:30 UTC);
        let tokyo = local_date(at, offset!(+9));
        let los_angeles = local_date(at, offset!(-8));
        assert_eq!(tokyo, date!(2026 - 12 - 08));
        assert_eq!(los_angeles, date!(2026 - 12 - 07));
        assert_eq!(local_date(at, UtcOffset::UTC), date!(2026 - 12 - 07));
        let due = date!(2026 - 12 - 07);
        assert_eq!(due_state(due, tokyo, 14), DueState::Overdue);
        assert_eq!(due_state(due, los_angeles, 14), DueState::DueSoon);
        assert_eq!(
            due_state(date!(2026 - 12 - 21), los_angeles, 14),
            DueState::DueSoon
        );
        assert_eq!(
            due_state(date!(2026 - 12 - 22), los_angeles, 14),
            DueState::Later
        );
    }

    #[test]
    fn bounds_of_every_and_titles() {
        assert!(parse_every(0).is_err());
        assert!(parse_every(1000).is_err());
        assert_eq!(parse_every(999), Ok(999));
        assert!(parse_maintenance_title("   ").is_err());
        assert_eq!(parse_maintenance_title(" Filter ").as_deref(), Ok("Filter"));
        assert_eq!(IntervalUnit::Month.describe(3), "every 3 months");
        assert_eq!(IntervalUnit::Week.describe(1), "every week");
    }
}

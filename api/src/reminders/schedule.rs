//! When a person's digest is due: at their local hour, in their time zone.
//!
//! A daily digest belongs to the person's local date and is due from their hour on; a
//! weekly one belongs to the ISO week and is due from their weekday and hour on. A pass
//! that runs late (the server was down, a scheduled run was missed) still finds it due,
//! and the period's key makes sure it goes out once.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use shared::{DigestFrequency, Weekday};
use time::{Date, Month, OffsetDateTime};

/// The time zone of an IANA name; UTC for a name the database does not know.
pub fn time_zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// Whether `name` is a time zone this server knows.
pub fn is_time_zone(name: &str) -> bool {
    TimeZone::get(name).is_ok()
}

/// A person's wall clock at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LocalNow {
    pub date: Date,
    pub hour: u8,
    /// 1 for Monday to 7 for Sunday.
    pub weekday: u8,
    /// The ISO 8601 week-numbering year and week.
    pub iso_year: i16,
    pub iso_week: i8,
}

pub fn local_now(now: OffsetDateTime, zone: &str) -> LocalNow {
    let instant = Timestamp::from_second(now.unix_timestamp()).unwrap_or(Timestamp::UNIX_EPOCH);
    let zoned = instant.to_zoned(time_zone(zone));
    let civil = zoned.date();
    let iso = civil.iso_week_date();
    let date = Month::try_from(civil.month() as u8)
        .ok()
        .and_then(|m| Date::from_calendar_date(i32::from(civil.year()), m, civil.day() as u8).ok())
        .unwrap_or(now.date());
    LocalNow {
        date,
        hour: zoned.hour() as u8,
        weekday: civil.weekday().to_monday_one_offset() as u8,
        iso_year: iso.year(),
        iso_week: iso.week(),
    }
}

/// The digest a person is due at `now`: the key of its period and their local date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Due {
    /// `digest:daily:<local date>` or `digest:weekly:<ISO year>-W<week>`.
    pub period: String,
    pub today: Date,
}

/// The digest that is due at `now` for someone with these settings, if their time has
/// come; with `ignore_hour`, the current period's at any hour (and any day of the week).
pub fn digest_due(
    frequency: DigestFrequency,
    weekday: Weekday,
    hour: u8,
    zone: &str,
    now: OffsetDateTime,
    ignore_hour: bool,
) -> Option<Due> {
    let local = local_now(now, zone);
    let hour_come = local.hour >= hour;
    match frequency {
        DigestFrequency::Daily => (ignore_hour || hour_come).then(|| Due {
            period: format!("digest:daily:{}", shared::Day(local.date)),
            today: local.date,
        }),
        DigestFrequency::Weekly => {
            let chosen = weekday.number();
            let come = local.weekday > chosen || (local.weekday == chosen && hour_come);
            (ignore_hour || come).then(|| Due {
                period: format!("digest:weekly:{:04}-W{:02}", local.iso_year, local.iso_week),
                today: local.date,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn daily(hour: u8, zone: &str, now: OffsetDateTime) -> Option<Due> {
        digest_due(
            DigestFrequency::Daily,
            Weekday::Monday,
            hour,
            zone,
            now,
            false,
        )
    }

    #[test]
    fn a_daily_digest_is_due_from_the_local_hour_on() {
        assert_eq!(daily(8, "UTC", datetime!(2026-12-07 07:59 UTC)), None);
        let due = daily(8, "UTC", datetime!(2026-12-07 08:00 UTC)).unwrap();
        assert_eq!(due.period, "digest:daily:2026-12-07");
        // Late the same day (a missed run): still due, the same period.
        assert_eq!(
            daily(8, "UTC", datetime!(2026-12-07 23:30 UTC))
                .unwrap()
                .period,
            "digest:daily:2026-12-07"
        );
    }

    #[test]
    fn the_hour_and_the_date_are_the_persons() {
        // 23:00 UTC is 08:00 the next day in Tokyo.
        let due = daily(8, "Asia/Tokyo", datetime!(2026-12-06 23:00 UTC)).unwrap();
        assert_eq!(due.period, "digest:daily:2026-12-07");
        assert_eq!(due.today, time::macros::date!(2026 - 12 - 07));
        assert_eq!(
            daily(8, "Asia/Tokyo", datetime!(2026-12-06 22:59 UTC)),
            None
        );
        // In New York (UTC-5 in December) 08:00 is 13:00 UTC.
        assert_eq!(
            daily(8, "America/New_York", datetime!(2026-12-07 12:59 UTC)),
            None
        );
        assert!(daily(8, "America/New_York", datetime!(2026-12-07 13:00 UTC)).is_some());
    }

    #[test]
    fn an_unknown_time_zone_is_utc() {
        assert!(!is_time_zone("Mars/Olympus_Mons"));
        assert!(is_time_zone("Europe/Paris"));
        assert_eq!(
            daily(8, "Mars/Olympus_Mons", datetime!(2026-12-07 08:00 UTC)),
            daily(8, "UTC", datetime!(2026-12-07 08:00 UTC))
        );
        assert_eq!(
            daily(8, "Mars/Olympus_Mons", datetime!(2026-12-07 07:00 UTC)),
            None
        );
    }

    #[test]
    fn daylight_saving_changes_move_the_hour_with_the_clock() {
        // Paris: CET (UTC+1) until 2026-03-29 01:00 UTC, CEST (UTC+2) after.
        assert_eq!(
            daily(8, "Europe/Paris", datetime!(2026-03-28 06:59 UTC)),
            None
        );
        assert!(daily(8, "Europe/Paris", datetime!(2026-03-28 07:00 UTC)).is_some());
        assert_eq!(
            daily(8, "Europe/Paris", datetime!(2026-03-30 05:59 UTC)),
            None
        );
        assert!(daily(8, "Europe/Paris", datetime!(2026-03-30 06:00 UTC)).is_some());
        // 02:00 does not exist on the day the clocks go forward: 03:00 is past it.
        let due = daily(2, "Europe/Paris", datetime!(2026-03-29 01:00 UTC)).unwrap();
        assert_eq!(due.period, "digest:daily:2026-03-29");
        // 02:00 happens twice when they go back: one period either way.
        let first = daily(2, "Europe/Paris", datetime!(2026-10-25 00:00 UTC)).unwrap();
        let second = daily(2, "Europe/Paris", datetime!(2026-10-25 01:00 UTC)).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn a_weekly_digest_is_due_from_the_weekday_and_hour_on_within_the_iso_week() {
        let weekly = |now| {
            digest_due(
                DigestFrequency::Weekly,
                Weekday::Wednesday,
                9,
                "UTC",
                now,
                false,
            )
        };
        // 2026-12-07 is a Monday, in ISO week 50.
        assert_eq!(weekly(datetime!(2026-12-07 12:00 UTC)), None);
        assert_eq!(weekly(datetime!(2026-12-09 08:59 UTC)), None);
        let due = weekly(datetime!(2026-12-09 09:00 UTC)).unwrap();
        assert_eq!(due.period, "digest:weekly:2026-W50");
        // Later in the week (a missed Wednesday) the same week's digest.
        assert_eq!(
            weekly(datetime!(2026-12-13 23:00 UTC)).unwrap().period,
            "digest:weekly:2026-W50"
        );
        // 2027-01-01 is a Friday of ISO week 53 of 2026.
        assert_eq!(
            weekly(datetime!(2027-01-01 10:00 UTC)).unwrap().period,
            "digest:weekly:2026-W53"
        );
    }

    #[test]
    fn ignoring_the_hour_makes_the_current_period_due() {
        let due = digest_due(
            DigestFrequency::Weekly,
            Weekday::Sunday,
            23,
            "UTC",
            datetime!(2026-12-07 00:00 UTC),
            true,
        )
        .unwrap();
        assert_eq!(due.period, "digest:weekly:2026-W50");
        let due = digest_due(
            DigestFrequency::Daily,
            Weekday::Monday,
            23,
            "UTC",
            datetime!(2026-12-07 00:00 UTC),
            true,
        )
        .unwrap();
        assert_eq!(due.period, "digest:daily:2026-12-07");
    }
}

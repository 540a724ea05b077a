//! A person's private calendar feed (iCalendar, RFC 5545): an all-day event on the day
//! each warranty ends and on the day each maintenance schedule is next due (overdue ones
//! stay on their due date), across their households.
//!
//! Written here rather than with an iCalendar crate: the feed needs only all-day events
//! with a few text properties, and the crates in use build on `chrono` where this project
//! uses `time`. What matters is done as RFC 5545 says: CRLF line ends, lines folded at 75
//! octets without splitting a character, and TEXT values escaped (`\\`, `\;`, `\,`, `\n`).

use time::{Date, Duration, OffsetDateTime};

use crate::store::{UpcomingKind, UpcomingRow};

/// How far back and ahead the feed reaches from today.
pub const DAYS_BACK: i64 = 365;
pub const DAYS_AHEAD: i64 = 2 * 365;

/// How often calendar apps are asked to fetch the feed again.
const REFRESH: &str = "PT6H";

/// A DATE value: `20270228`.
fn date_value(d: Date) -> String {
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A DATE-TIME value in UTC: `20261207T090000Z`.
fn stamp_value(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}T{:02}{:02}{:02}Z",
        date_value(t.date()),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// The first and last day the feed covers on `today`.
pub fn window(today: Date) -> (Date, Date) {
    (
        today - Duration::days(DAYS_BACK),
        today + Duration::days(DAYS_AHEAD),
    )
}

/// The host part of the events' UIDs: the site's host name.
pub fn uid_host(public_url: &str) -> String {
    let rest = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    // Without the port; an IPv6 literal keeps its brackets.
    let host = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    if host.is_empty() {
        "home-inventory".into()
    } else {
        host.to_ascii_lowercase()
    }
}

/// The feed of `rows` at `now` for a site at `public_url`.
pub fn feed(rows: &[UpcomingRow], public_url: &str, now: OffsetDateTime) -> String {
    let base = public_url.trim_end_matches('/');
    let host = uid_host(public_url);
    let stamp = stamp_value(now);
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Home Inventory//Reminders//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        push(&mut out, line);
    }
    push(
        &mut out,
        &format!("X-WR-CALNAME:{}", text("Home Inventory")),
    );
    push(
        &mut out,
        &format!(
            "X-WR-CALDESC:{}",
            text("Warranties ending and maintenance due, from Home Inventory")
        ),
    );
    push(
        &mut out,
        &format!("REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}"),
    );
    push(&mut out, &format!("X-PUBLISHED-TTL:{REFRESH}"));
    for row in rows {
        let (uid, summary) = match row.kind {
            UpcomingKind::WarrantyEnds => (
                format!("warranty-{}@{host}", row.item_id),
                format!("Warranty ends: {}", row.item_name),
            ),
            UpcomingKind::MaintenanceDue => (
                format!(
                    "maintenance-{}-{}@{host}",
                    row.schedule_id
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| row.item_id.to_string()),
                    row.date
                ),
                format!("{}: {}", row.item_name, row.title),
            ),
        };
        let link = format!("{base}/items/{}", row.item_id);
        let description = format!("Household: {}\n{link}", row.household_name);
        let day = date_value(row.date);
        let next = date_value(row.date.next_day().unwrap_or(row.date));
        push(&mut out, "BEGIN:VEVENT");
        push(&mut out, &format!("UID:{}", text(&uid)));
        push(&mut out, &format!("DTSTAMP:{stamp}"));
        push(&mut out, &format!("DTSTART;VALUE=DATE:{day}"));
        push(&mut out, &format!("DTEND;VALUE=DATE:{next}"));
        push(&mut out, &format!("SUMMARY:{}", text(&summary)));
        push(&mut out, &format!("DESCRIPTION:{}", text(&description)));
        push(&mut out, &format!("URL:{link}"));
        push(&mut out, "TRANSP:TRANSPARENT");
        push(&mut out, "END:VEVENT");
    }
    push(&mut out, "END:VCALENDAR");
    out
}

/// A TEXT value escaped (RFC 5545 §3.3.11).
fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets (§3.1), ended with CRLF.
fn push(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{HouseholdId, ItemId, MaintenanceScheduleId};
    use time::macros::{date, datetime};
    use uuid::Uuid;

    fn row(kind: UpcomingKind, item: &str, title: &str, date: Date) -> UpcomingRow {
        UpcomingRow {
            kind,
            household_id: HouseholdId::from(Uuid::nil()),
            household_name: "Lake house; main".into(),
            item_id: ItemId::from(Uuid::nil()),
            item_name: item.into(),
            schedule_id: (kind == UpcomingKind::MaintenanceDue)
                .then(|| MaintenanceScheduleId::from(Uuid::max())),
            title: title.into(),
            date,
        }
    }

    #[test]
    fn long_lines_are_folded_at_75_octets_without_splitting_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "é".repeat(100));
        push(&mut out, &line);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{physical:?} is longer than 75 octets"
            );
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn events_are_all_day_with_stable_uids() {
        let rows = [
            row(
                UpcomingKind::WarrantyEnds,
                "Dishwasher",
                "",
                date!(2027 - 02 - 28),
            ),
            row(
                UpcomingKind::MaintenanceDue,
                "Furnace",
                "Replace filter",
                date!(2026 - 12 - 31),
            ),
        ];
        let ics = feed(
            &rows,
            "https://inventory.example.com:8443/",
            datetime!(2026-12-07 09:00 UTC),
        )
        .replace("\r\n ", "");
        assert!(ics.contains(
            "UID:warranty-00000000-0000-0000-0000-000000000000@inventory.example.com\r\n"
        ));
        assert!(ics.contains("DTSTART;VALUE=DATE:20270228\r\nDTEND;VALUE=DATE:20270301\r\n"));
        assert!(ics.contains("SUMMARY:Warranty ends: Dishwasher\r\n"));
        assert!(ics.contains("SUMMARY:Furnace: Replace filter\r\n"));
        assert!(ics.contains("DTSTART;VALUE=DATE:20261231\r\nDTEND;VALUE=DATE:20270101\r\n"));
        assert!(ics.contains(
            "DESCRIPTION:Household: Lake house\\; main\\nhttps://inventory.example.com:8443/items/"
        ));
        assert!(ics.contains("DTSTAMP:20261207T090000Z\r\n"));
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\n") && ics.ends_with("END:VCALENDAR\r\n"));
    }

    #[test]
    fn the_uid_host_is_the_sites_host_name() {
        assert_eq!(uid_host("http://127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(
            uid_host("https://Inventory.Example.com/app"),
            "inventory.example.com"
        );
    }
}

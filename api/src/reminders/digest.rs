//! What a digest says: the warranties ending and the maintenance due that the person has
//! not been reminded of at their threshold, and the mail that says it.
//!
//! Each thing is reminded once per threshold, under a key that carries its date, so a
//! changed date reminds again and the same one never twice:
//! `warranty:<item>:<date>:<30|7|0>` (ends within 30 days, within a week, today) and
//! `maintenance:<schedule>:<due date>:<soon|due>` (due within a few days, due or overdue).

use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use shared::{DigestFrequency, WARRANTY_NOTICE_DAYS};
use time::{Date, Duration};

use crate::store::{UpcomingKind, UpcomingRow};

/// Maintenance due within this many days is "due soon" in a daily digest; a weekly one
/// looks a week ahead.
pub const MAINTENANCE_SOON_DAYS: i64 = 3;
/// At most this many things in one mail (the rest come in the next one), which also keeps
/// each claim far within the database's limits of a transaction.
pub const MAX_ENTRIES: usize = 200;

/// One line of a digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub row: UpcomingRow,
    /// Days from the person's today to the date (negative: overdue).
    pub days: i64,
    /// Its reminder key.
    pub key: String,
}

/// The last day a digest made `today` looks at.
pub fn horizon(today: Date) -> Date {
    today.saturating_add(Duration::days(WARRANTY_NOTICE_DAYS))
}

/// The threshold a warranty ending in `days` has reached, if any.
fn warranty_threshold(days: i64) -> Option<u8> {
    match days {
        d if !(0..=WARRANTY_NOTICE_DAYS).contains(&d) => None,
        0 => Some(0),
        1..=7 => Some(7),
        _ => Some(WARRANTY_NOTICE_DAYS as u8),
    }
}

/// What is worth saying `today`, each at the threshold it has reached, in date order.
pub fn entries(rows: &[UpcomingRow], today: Date, frequency: DigestFrequency) -> Vec<Entry> {
    let soon = match frequency {
        DigestFrequency::Daily => MAINTENANCE_SOON_DAYS,
        DigestFrequency::Weekly => 7,
    };
    rows.iter()
        .filter_map(|row| {
            let days = (row.date - today).whole_days();
            let date = shared::Day(row.date);
            let key = match (row.kind, row.schedule_id) {
                (UpcomingKind::WarrantyEnds, _) => {
                    let threshold = warranty_threshold(days)?;
                    format!("warranty:{}:{date}:{threshold}", row.item_id)
                }
                (UpcomingKind::MaintenanceDue, Some(schedule)) => {
                    let stage = match days {
                        d if d <= 0 => "due",
                        d if d <= soon => "soon",
                        _ => return None,
                    };
                    format!("maintenance:{schedule}:{date}:{stage}")
                }
                (UpcomingKind::MaintenanceDue, None) => return None,
            };
            Some(Entry {
                row: row.clone(),
                days,
                key,
            })
        })
        .collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// "2 warranties ending, 1 maintenance task due".
pub fn subject(entries: &[Entry]) -> String {
    let warranties = entries
        .iter()
        .filter(|e| e.row.kind == UpcomingKind::WarrantyEnds)
        .count();
    let tasks = entries.len() - warranties;
    let mut parts = Vec::new();
    if warranties > 0 {
        parts.push(format!(
            "{} ending",
            plural(warranties, "warranty", "warranties")
        ));
    }
    if tasks > 0 {
        parts.push(format!(
            "{} due",
            plural(tasks, "maintenance task", "maintenance tasks")
        ));
    }
    parts.join(", ")
}

/// "Monday 14 December 2026".
fn long_date(date: Date) -> String {
    format!(
        "{} {} {} {}",
        date.weekday(),
        date.day(),
        date.month(),
        date.year()
    )
}

fn when(entry: &Entry) -> String {
    let date = long_date(entry.row.date);
    match (entry.row.kind, entry.days) {
        (UpcomingKind::WarrantyEnds, 0) => format!("ends today, {date}"),
        (UpcomingKind::WarrantyEnds, 1) => format!("ends tomorrow, {date}"),
        (UpcomingKind::WarrantyEnds, d) => format!("ends {date}, in {d} days"),
        (UpcomingKind::MaintenanceDue, 0) => format!("due today, {date}"),
        (UpcomingKind::MaintenanceDue, 1) => format!("due tomorrow, {date}"),
        (UpcomingKind::MaintenanceDue, d) if d < 0 => {
            format!(
                "overdue since {date} ({})",
                plural(-d as usize, "day", "days")
            )
        }
        (UpcomingKind::MaintenanceDue, d) => format!("due {date}, in {d} days"),
    }
}

fn what(entry: &Entry) -> String {
    match entry.row.kind {
        UpcomingKind::WarrantyEnds => entry.row.item_name.clone(),
        UpcomingKind::MaintenanceDue => {
            format!("{}: {}", entry.row.item_name, entry.row.title)
        }
    }
}

/// A new `Message-ID` in the domain of the server's public address.
pub(crate) fn message_id(public_url: &str) -> String {
    let host = public_url
        .split_once("://")
        .map_or(public_url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .filter(|h| !h.is_empty())
        .unwrap_or("localhost");
    format!("<{}@{host}>", uuid::Uuid::now_v7())
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `List-Unsubscribe: <url>` (RFC 2369).
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone, Debug)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".into())
    }
}

/// Who a digest goes to and the addresses it links to.
pub struct Addressing<'a> {
    pub from: Mailbox,
    pub to: Mailbox,
    /// The person's name, for the greeting.
    pub name: &'a str,
    /// `PUBLIC_URL` without a trailing slash.
    pub public_url: &'a str,
    pub unsubscribe_secret: &'a str,
    pub frequency: DigestFrequency,
}

/// The digest mail of `entries`: a text and an HTML part, each line with its household,
/// item, date and a link to the item, the unsubscribe link, and one-click unsubscribe
/// headers.
pub fn message(to: &Addressing<'_>, entries: &[Entry]) -> anyhow::Result<Message> {
    let base = to.public_url.trim_end_matches('/');
    let unsubscribe_post = format!(
        "{base}/api/v1/reminders/unsubscribe/{}",
        to.unsubscribe_secret
    );
    let (text, html) = bodies(to, entries);
    Ok(Message::builder()
        .from(to.from.clone())
        .to(to.to.clone())
        .subject(subject(entries))
        .message_id(Some(message_id(base)))
        .header(ListUnsubscribe(format!("<{unsubscribe_post}>")))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(text, html))?)
}

/// The text and the HTML of a digest.
fn bodies(to: &Addressing<'_>, entries: &[Entry]) -> (String, String) {
    let base = to.public_url.trim_end_matches('/');
    let unsubscribe_page = format!(
        "{base}{}{}",
        shared::UNSUBSCRIBE_PATH,
        to.unsubscribe_secret
    );
    let settings = format!("{base}/settings");
    let period = match to.frequency {
        DigestFrequency::Daily => "daily",
        DigestFrequency::Weekly => "weekly",
    };
    let sections = [
        (UpcomingKind::WarrantyEnds, "Warranties ending"),
        (UpcomingKind::MaintenanceDue, "Maintenance due"),
    ];

    let mut text = format!("Hello {},\n", to.name);
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:sans-serif\">\
         <p>Hello {},</p>",
        escape(to.name)
    );
    for (kind, heading) in sections {
        let mine: Vec<&Entry> = entries.iter().filter(|e| e.row.kind == kind).collect();
        if mine.is_empty() {
            continue;
        }
        text.push_str(&format!("\n{heading}:\n"));
        html.push_str(&format!("<h2>{heading}</h2><ul>"));
        for entry in mine {
            let link = format!("{base}/items/{}", entry.row.item_id);
            text.push_str(&format!(
                "- {} ({}): {}\n  {link}\n",
                what(entry),
                entry.row.household_name,
                when(entry),
            ));
            html.push_str(&format!(
                "<li><a href=\"{}\">{}</a> ({}): {}</li>",
                escape(&link),
                escape(&what(entry)),
                escape(&entry.row.household_name),
                escape(&when(entry)),
            ));
        }
        html.push_str("</ul>");
    }
    text.push_str(&format!(
        "\nThis is your {period} Home Inventory digest. Change when it comes: {settings}\n\
         Stop these emails: {unsubscribe_page}\n"
    ));
    html.push_str(&format!(
        "<p style=\"color:#555\">This is your {period} Home Inventory digest. \
         <a href=\"{}\">Change when it comes</a> · <a href=\"{}\">Stop these emails</a></p>\
         </body></html>",
        escape(&settings),
        escape(&unsubscribe_page),
    ));
    (text, html)
}

#[cfg(test)]
mod tests {
    use shared::{HouseholdId, ItemId, MaintenanceScheduleId};
    use time::macros::date;

    use super::*;

    fn row(kind: UpcomingKind, date: Date) -> UpcomingRow {
        UpcomingRow {
            kind,
            household_id: HouseholdId::from(uuid::Uuid::now_v7()),
            household_name: "Home".into(),
            item_id: ItemId::from(uuid::Uuid::now_v7()),
            item_name: "Dishwasher".into(),
            schedule_id: (kind == UpcomingKind::MaintenanceDue)
                .then(|| MaintenanceScheduleId::from(uuid::Uuid::now_v7())),
            title: "Clean the filter".into(),
            date,
        }
    }

    #[test]
    fn warranties_are_reminded_at_30_7_and_0_days() {
        let today = date!(2026 - 12 - 07);
        let threshold = |d: Date| {
            entries(
                &[row(UpcomingKind::WarrantyEnds, d)],
                today,
                DigestFrequency::Daily,
            )
            .first()
            .map(|e| e.key.rsplit(':').next().unwrap().to_string())
        };
        assert_eq!(threshold(date!(2027 - 01 - 07)), None);
        assert_eq!(threshold(date!(2027 - 01 - 06)).as_deref(), Some("30"));
        assert_eq!(threshold(date!(2026 - 12 - 15)).as_deref(), Some("30"));
        assert_eq!(threshold(date!(2026 - 12 - 14)).as_deref(), Some("7"));
        assert_eq!(threshold(date!(2026 - 12 - 08)).as_deref(), Some("7"));
        assert_eq!(threshold(date!(2026 - 12 - 07)).as_deref(), Some("0"));
        assert_eq!(threshold(date!(2026 - 12 - 06)), None);
    }

    #[test]
    fn maintenance_is_reminded_when_soon_and_when_due() {
        let today = date!(2026 - 12 - 07);
        let stage = |d: Date, f| {
            entries(&[row(UpcomingKind::MaintenanceDue, d)], today, f)
                .first()
                .map(|e| e.key.rsplit(':').next().unwrap().to_string())
        };
        let daily = DigestFrequency::Daily;
        assert_eq!(stage(date!(2026 - 12 - 11), daily), None);
        assert_eq!(stage(date!(2026 - 12 - 10), daily).as_deref(), Some("soon"));
        assert_eq!(stage(date!(2026 - 12 - 07), daily).as_deref(), Some("due"));
        assert_eq!(stage(date!(2025 - 01 - 01), daily).as_deref(), Some("due"));
        let weekly = DigestFrequency::Weekly;
        assert_eq!(
            stage(date!(2026 - 12 - 14), weekly).as_deref(),
            Some("soon")
        );
        assert_eq!(stage(date!(2026 - 12 - 15), weekly), None);
    }

    #[test]
    fn the_key_changes_with_the_date() {
        let today = date!(2026 - 12 - 07);
        let mut a = row(UpcomingKind::WarrantyEnds, date!(2026 - 12 - 20));
        let first = entries(&[a.clone()], today, DigestFrequency::Daily)[0]
            .key
            .clone();
        a.date = date!(2026 - 12 - 21);
        let moved = entries(&[a.clone()], today, DigestFrequency::Daily)[0]
            .key
            .clone();
        assert_ne!(first, moved);
        assert!(first.starts_with(&format!("warranty:{}:2026-12-20:", a.item_id)));
    }

    #[test]
    fn the_subject_counts_what_is_in_it() {
        let today = date!(2026 - 12 - 07);
        let rows = [
            row(UpcomingKind::WarrantyEnds, date!(2026 - 12 - 20)),
            row(UpcomingKind::WarrantyEnds, date!(2026 - 12 - 21)),
            row(UpcomingKind::MaintenanceDue, date!(2026 - 12 - 01)),
        ];
        let all = entries(&rows, today, DigestFrequency::Daily);
        assert_eq!(subject(&all), "2 warranties ending, 1 maintenance task due");
        assert_eq!(subject(&all[..1]), "1 warranty ending");
        assert_eq!(subject(&all[2..]), "1 maintenance task due");
    }

    #[test]
    fn the_mail_escapes_names_and_carries_the_unsubscribe_headers() {
        let today = date!(2026 - 12 - 07);
        let mut r = row(UpcomingKind::WarrantyEnds, date!(2026 - 12 - 20));
        r.item_name = "<b>Fridge</b> & freezer".into();
        let all = entries(&[r], today, DigestFrequency::Daily);
        let to = Addressing {
            from: "Home Inventory <reminders@example.com>".parse().unwrap(),
            to: "ana@example.com".parse().unwrap(),
            name: "Ana",
            public_url: "https://inventory.example.com/",
            unsubscribe_secret: "s3cret",
            frequency: DigestFrequency::Daily,
        };
        let formatted = String::from_utf8(message(&to, &all).unwrap().formatted()).unwrap();
        assert!(formatted.contains(
            "List-Unsubscribe: <https://inventory.example.com/api/v1/reminders/unsubscribe/s3cret>"
        ));
        assert!(formatted.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(formatted.contains("@inventory.example.com>"));
        let (text, html) = bodies(&to, &all);
        assert!(
            html.contains("&lt;b&gt;Fridge&lt;/b&gt; &amp; freezer"),
            "{html}"
        );
        assert!(!html.contains("<b>Fridge"), "{html}");
        assert!(text.contains("<b>Fridge</b> & freezer (Home): ends Sunday 20 December 2026"));
        for body in [&text, &html] {
            assert!(body.contains("https://inventory.example.com/unsubscribe/s3cret"));
            assert!(body.contains("https://inventory.example.com/items/"));
        }
    }
}

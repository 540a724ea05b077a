//! Reading the model's answer: the `record_items` tool call, checked field by field, turned
//! into suggestions for the household.

use serde::Deserialize;
use serde_json::Value;
use shared::{
    Currency, ItemName, LocationId, MAX_LONG_TEXT_CHARS, MAX_NAME_CHARS, MAX_SHORT_TEXT_CHARS,
    MAX_TAG_CHARS, MAX_TAGS, Money, Suggestion, normalize_tags, parse_amount,
};

use super::prompt::TOOL_NAME;
use super::{AiError, Context, Photo};

/// Values above this many whole units of any currency are taken for a mistake.
const ABSURD_VALUE: f64 = 1e12;

/// A Messages API answer, reduced to what is read.
#[derive(Debug, Deserialize)]
struct MessageResponse {
    content: Vec<ContentBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentBlock {
    ToolUse {
        name: String,
        input: Value,
    },
    #[serde(other)]
    Other,
}

/// Tokens billed for one request.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
pub(super) struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
}

/// The input of the `record_items` call. Types are strict: a string where a number belongs
/// makes the whole answer unreadable rather than silently wrong.
#[derive(Debug, Deserialize)]
struct RecordItems {
    items: Vec<RawItem>,
}

#[derive(Debug, Deserialize)]
struct RawItem {
    photo: i64,
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    brand: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    serial_number: Option<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    estimated_value: Option<f64>,
    #[serde(default)]
    confidence: Option<f64>,
    #[serde(default)]
    location: Option<String>,
}

/// What was read from a successful answer.
#[derive(Debug)]
pub(super) struct Answer {
    pub suggestions: Vec<Suggestion>,
    pub usage: Usage,
}

/// Reads the body of a 200 answer.
pub(super) fn parse_response(
    body: &str,
    photos: &[Photo],
    ctx: &Context,
) -> Result<Answer, AiError> {
    let response: MessageResponse = serde_json::from_str(body)
        .map_err(|e| AiError::Malformed(format!("not a Messages API answer: {e}")))?;
    let stop_reason = response.stop_reason.as_deref().unwrap_or("none");
    if stop_reason == "max_tokens" {
        return Err(AiError::Malformed(
            "the answer was cut off at max_tokens".into(),
        ));
    }
    let input = response
        .content
        .into_iter()
        .find_map(|block| match block {
            ContentBlock::ToolUse { name, input } if name == TOOL_NAME => Some(input),
            _ => None,
        })
        .ok_or_else(|| {
            AiError::Malformed(format!(
                "no {TOOL_NAME} tool call in the answer (stop reason {stop_reason})"
            ))
        })?;
    let record: RecordItems = serde_path_to_error::deserialize(input)
        .map_err(|e| AiError::Malformed(format!("{TOOL_NAME} input: {e}")))?;
    let suggestions = record
        .items
        .into_iter()
        .filter_map(|raw| suggestion(raw, photos, ctx))
        .collect();
    Ok(Answer {
        suggestions,
        usage: response.usage.unwrap_or_default(),
    })
}

/// One entry, or `None` when it names no object or no photo that was sent.
fn suggestion(raw: RawItem, photos: &[Photo], ctx: &Context) -> Option<Suggestion> {
    let name = single_line(Some(raw.name), MAX_NAME_CHARS)
        .and_then(|name| ItemName::parse(&name).ok())?
        .into_inner();
    let Some(photo) = usize::try_from(raw.photo)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| photos.get(i))
    else {
        tracing::warn!(
            photo = raw.photo,
            photos = photos.len(),
            "photo recognition named a photo that was not sent; entry dropped"
        );
        return None;
    };
    Some(Suggestion {
        attachment_id: photo.attachment_id,
        name,
        description: multi_line(raw.description, MAX_LONG_TEXT_CHARS),
        category: single_line(raw.category, MAX_SHORT_TEXT_CHARS),
        brand: single_line(raw.brand, MAX_SHORT_TEXT_CHARS),
        model: single_line(raw.model, MAX_SHORT_TEXT_CHARS),
        serial_number: single_line(raw.serial_number, MAX_SHORT_TEXT_CHARS),
        tags: tags(raw.tags.unwrap_or_default(), &ctx.tags),
        estimated_value: money(raw.estimated_value, &ctx.currency),
        confidence: raw.confidence.unwrap_or(0.0).clamp(0.0, 1.0),
        location_id: location(raw.location.as_deref(), ctx),
    })
}

/// Words models write when they have nothing to say.
fn is_placeholder(text: &str) -> bool {
    [
        "unknown",
        "n/a",
        "na",
        "none",
        "not visible",
        "unclear",
        "-",
    ]
    .iter()
    .any(|p| text.eq_ignore_ascii_case(p))
}

/// Trimmed, white space folded to single spaces, at most `max` characters; empty or a
/// placeholder means not set.
fn single_line(raw: Option<String>, max: usize) -> Option<String> {
    let text = raw?.split_whitespace().collect::<Vec<_>>().join(" ");
    let text = text.replace(|c: char| c.is_control(), "");
    finish(&text, max)
}

/// Like [`single_line`] but keeping line breaks.
fn multi_line(raw: Option<String>, max: usize) -> Option<String> {
    let text: String = raw?
        .replace("\r\n", "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect();
    finish(&text, max)
}

fn finish(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || is_placeholder(text) {
        return None;
    }
    if text.chars().count() <= max {
        return Some(text.to_string());
    }
    Some(
        text.chars()
            .take(max)
            .collect::<String>()
            .trim_end()
            .to_string(),
    )
}

/// Normalised tags, spelled as the household already spells them where one matches; a tag
/// too long to be one is dropped.
fn tags(raw: Vec<String>, existing: &[String]) -> Vec<String> {
    let fold = |t: &str| {
        t.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    let usable: Vec<String> = raw
        .into_iter()
        .filter_map(|t| single_line(Some(t), usize::MAX))
        .filter(|t| t.chars().count() <= MAX_TAG_CHARS)
        .map(|t| {
            let key = fold(&t);
            existing
                .iter()
                .find(|e| fold(e) == key)
                .cloned()
                .unwrap_or(t)
        })
        .take(MAX_TAGS)
        .collect();
    normalize_tags(&usable).unwrap_or_default()
}

/// A decimal amount in the household currency, in minor units; nothing for a negative or
/// absurd amount.
fn money(value: Option<f64>, currency: &Currency) -> Option<Money> {
    let value = value?;
    if !(0.0..=ABSURD_VALUE).contains(&value) {
        return None;
    }
    let digits = currency.minor_digits() as usize;
    let amount_minor = parse_amount(&format!("{value:.digits$}"), currency).ok()?;
    Some(Money {
        amount_minor,
        currency: currency.clone(),
    })
}

/// One of the household's locations, named by its id or its path; anything else is ignored.
fn location(raw: Option<&str>, ctx: &Context) -> Option<LocationId> {
    let raw = raw?.trim();
    if let Ok(id) = raw.parse::<LocationId>() {
        return ctx.locations.iter().map(|(l, _)| *l).find(|l| *l == id);
    }
    let key = path_key(raw);
    if key.is_empty() {
        return None;
    }
    ctx.locations
        .iter()
        .find(|(_, path)| path_key(path) == key)
        .map(|(id, _)| *id)
}

/// A path compared without regard to case, spacing, or which separator was written.
fn path_key(path: &str) -> String {
    path.split(['›', '>', '/', '»'])
        .map(|part| {
            part.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase()
        })
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("›")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::AttachmentId;

    struct Setup {
        photos: Vec<Photo>,
        ctx: Context,
        garage: LocationId,
        kitchen: LocationId,
    }

    fn setup(currency: &str) -> Setup {
        let garage = LocationId::new();
        let kitchen = LocationId::new();
        Setup {
            photos: (0..2)
                .map(|_| Photo {
                    attachment_id: AttachmentId::new(),
                    jpeg: vec![],
                })
                .collect(),
            ctx: Context {
                currency: Currency::parse(currency).unwrap(),
                tags: vec!["Power tools".into(), "Kitchen".into()],
                locations: vec![
                    (garage, "House › Garage".into()),
                    (kitchen, "House › Kitchen".into()),
                ],
            },
            garage,
            kitchen,
        }
    }

    fn answer(items: Value) -> String {
        json!({
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5",
            "content": [
                {"type": "text", "text": "Here is what I see."},
                {"type": "tool_use", "id": "toolu_01", "name": "record_items",
                 "input": {"items": items}},
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 1500, "output_tokens": 200},
        })
        .to_string()
    }

    fn read(s: &Setup, items: Value) -> Result<Vec<Suggestion>, AiError> {
        parse_response(&answer(items), &s.photos, &s.ctx).map(|a| a.suggestions)
    }

    fn one(s: &Setup, item: Value) -> Suggestion {
        let mut all = read(s, json!([item])).unwrap();
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn a_full_entry_becomes_a_suggestion_for_its_photo() {
        let s = setup("USD");
        let got = one(
            &s,
            json!({
                "photo": 2, "name": "  Cordless   drill ", "description": " Green, 18 V.\nWorn grip. ",
                "category": "Tools", "brand": "Makita", "model": "DHP482",
                "serial_number": "SN 12345", "tags": ["power tools", " cordless ", "POWER TOOLS"],
                "estimated_value": 89.99, "confidence": 0.85, "location": "House › Garage",
            }),
        );
        assert_eq!(
            got,
            Suggestion {
                attachment_id: s.photos[1].attachment_id,
                name: "Cordless drill".into(),
                description: Some("Green, 18 V.\nWorn grip.".into()),
                category: Some("Tools".into()),
                brand: Some("Makita".into()),
                model: Some("DHP482".into()),
                serial_number: Some("SN 12345".into()),
                tags: vec!["cordless".into(), "Power tools".into()],
                estimated_value: Some(Money {
                    amount_minor: 8_999,
                    currency: Currency::parse("USD").unwrap(),
                }),
                confidence: 0.85,
                location_id: Some(s.garage),
            }
        );
    }

    #[test]
    fn empty_and_placeholder_text_is_not_set_and_nameless_entries_are_dropped() {
        let s = setup("USD");
        let got = read(
            &s,
            json!([
                {"photo": 1, "name": "   ", "confidence": 0.9},
                {"photo": 1, "name": "Lamp", "brand": "", "model": " unknown ",
                 "serial_number": "N/A", "description": "\n", "confidence": 0.4},
            ]),
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].name, "Lamp");
        assert_eq!(
            (&got[0].brand, &got[0].model, &got[0].serial_number),
            (&None, &None, &None)
        );
        assert_eq!(got[0].description, None);
        assert_eq!(got[0].tags, Vec::<String>::new());
    }

    #[test]
    fn confidence_is_kept_between_zero_and_one() {
        let s = setup("USD");
        let c = |v: Value| one(&s, json!({"photo": 1, "name": "Box", "confidence": v})).confidence;
        assert_eq!(c(json!(1.7)), 1.0);
        assert_eq!(c(json!(-0.2)), 0.0);
        assert_eq!(c(json!(0.3)), 0.3);
        let missing = one(&s, json!({"photo": 1, "name": "Box"}));
        assert_eq!(missing.confidence, 0.0);
    }

    #[test]
    fn entries_for_photos_that_were_not_sent_are_dropped() {
        let s = setup("USD");
        let got = read(
            &s,
            json!([
                {"photo": 0, "name": "Ghost", "confidence": 0.5},
                {"photo": 3, "name": "Phantom", "confidence": 0.5},
                {"photo": -1, "name": "Spectre", "confidence": 0.5},
                {"photo": 1, "name": "Chair", "confidence": 0.5},
            ]),
        )
        .unwrap();
        let names: Vec<&str> = got.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["Chair"]);
        assert_eq!(got[0].attachment_id, s.photos[0].attachment_id);
    }

    #[test]
    fn values_become_minor_units_of_the_household_currency() {
        let value = |currency: &str, v: Value| {
            let s = setup(currency);
            one(
                &s,
                json!({"photo": 1, "name": "Vase", "estimated_value": v, "confidence": 0.5}),
            )
            .estimated_value
            .map(|m| (m.amount_minor, m.currency.as_str().to_string()))
        };
        assert_eq!(value("EUR", json!(129.99)), Some((12_999, "EUR".into())));
        assert_eq!(value("EUR", json!(12.345)), Some((1_235, "EUR".into())));
        assert_eq!(value("EUR", json!(40)), Some((4_000, "EUR".into())));
        assert_eq!(value("JPY", json!(15000)), Some((15_000, "JPY".into())));
        assert_eq!(value("KWD", json!(1.5)), Some((1_500, "KWD".into())));
        assert_eq!(value("EUR", json!(0)), Some((0, "EUR".into())));
        assert_eq!(value("EUR", json!(-5)), None);
        assert_eq!(value("EUR", json!(1e20)), None);
        assert_eq!(value("EUR", json!(null)), None);
    }

    #[test]
    fn only_the_households_own_locations_are_suggested() {
        let s = setup("USD");
        let loc = |v: Value| {
            one(
                &s,
                json!({"photo": 1, "name": "Box", "confidence": 0.5, "location": v}),
            )
            .location_id
        };
        assert_eq!(loc(json!("House › Garage")), Some(s.garage));
        assert_eq!(loc(json!("house > kitchen")), Some(s.kitchen));
        assert_eq!(loc(json!(" House/Kitchen ")), Some(s.kitchen));
        assert_eq!(loc(json!(s.kitchen.to_string())), Some(s.kitchen));
        assert_eq!(loc(json!(LocationId::new().to_string())), None);
        assert_eq!(loc(json!("Garage")), None);
        assert_eq!(loc(json!("Shed › Back")), None);
        assert_eq!(loc(json!("")), None);
        assert_eq!(loc(json!(null)), None);
    }

    #[test]
    fn tags_reuse_the_households_spelling_and_drop_what_cannot_be_a_tag() {
        let s = setup("USD");
        let long = "x".repeat(MAX_TAG_CHARS + 1);
        let got = one(
            &s,
            json!({"photo": 1, "name": "Kettle", "confidence": 0.5,
                   "tags": ["kitchen", "  electric   kettle", "", long, "Electric Kettle"]}),
        );
        assert_eq!(got.tags, ["electric kettle", "Kitchen"]);
    }

    #[test]
    fn wrong_types_make_the_answer_unreadable() {
        let s = setup("USD");
        for items in [
            json!([{"photo": "one", "name": "Box", "confidence": 0.5}]),
            json!([{"photo": 1, "name": 7, "confidence": 0.5}]),
            json!([{"photo": 1, "name": "Box", "estimated_value": "12.50"}]),
            json!([{"photo": 1, "name": "Box", "tags": "kitchen"}]),
            json!([{"photo": 1, "confidence": 0.5}]),
            json!({"photo": 1, "name": "Box"}),
        ] {
            let err = read(&s, items.clone()).unwrap_err();
            assert!(matches!(err, AiError::Malformed(_)), "{items}: {err:?}");
        }
        let AiError::Malformed(detail) =
            read(&s, json!([{"photo": "one", "name": "Box"}])).unwrap_err()
        else {
            unreachable!()
        };
        assert!(detail.contains("items[0].photo"), "{detail}");
    }

    #[test]
    fn an_empty_list_is_an_answer() {
        let s = setup("USD");
        assert_eq!(read(&s, json!([])).unwrap(), vec![]);
    }

    #[test]
    fn an_answer_cut_short_or_without_the_tool_call_is_unreadable() {
        let s = setup("USD");
        let cut = json!({
            "content": [{"type": "tool_use", "id": "t", "name": "record_items",
                         "input": {"items": [{"photo": 1, "name": "Dri"}]}}],
            "stop_reason": "max_tokens",
        });
        let text_only = json!({
            "content": [{"type": "text", "text": "I can't help with that."}],
            "stop_reason": "end_turn",
        });
        let other_tool = json!({
            "content": [{"type": "tool_use", "id": "t", "name": "something_else", "input": {}}],
            "stop_reason": "tool_use",
        });
        for body in [
            cut.to_string(),
            text_only.to_string(),
            other_tool.to_string(),
            "{\"content\": [".to_string(),
            "<html>Bad gateway</html>".to_string(),
        ] {
            let err = parse_response(&body, &s.photos, &s.ctx).unwrap_err();
            assert!(matches!(err, AiError::Malformed(_)), "{body}: {err:?}");
        }
    }

    #[test]
    fn usage_is_read_for_the_logs() {
        let s = setup("USD");
        let answer = parse_response(&answer(json!([])), &s.photos, &s.ctx).unwrap();
        assert_eq!(
            (answer.usage.input_tokens, answer.usage.output_tokens),
            (1500, 200)
        );
    }
}

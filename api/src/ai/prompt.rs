//! What is asked of the model: the instructions, the household's tags and locations, the
//! numbered photos, and the `record_items` tool its answer must fill in.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::{Context, Photo};

/// The tool the model is made to call; its input is the answer.
pub(super) const TOOL_NAME: &str = "record_items";

/// Room for a few dozen entries: a crowded shelf, not a novel.
pub(super) const MAX_TOKENS: u32 = 4096;

/// Tags and locations beyond these are left out of the prompt to keep it small.
const MAX_TAGS_SHOWN: usize = 300;
const MAX_LOCATIONS_SHOWN: usize = 300;

const SYSTEM: &str = "\
You catalogue the belongings of a household for its home inventory: the record a family \
keeps of what it owns, where each thing is and what it is worth, to find things quickly and \
to show an insurer after a fire or a theft.

You are shown one or more numbered photos taken in the home. Record every distinct object in \
them that is worth cataloguing by calling the record_items tool once. A photo of a shelf, a \
drawer or a desk may hold several objects: give each its own entry. Leave out parts of the \
building (walls, sockets, built-in lights), rubbish, and cheap consumables, unless one is \
clearly the subject of a photo. When several photos show the same object (say its front and \
its label), record it once, under the photo that shows it best, using what all of them show. \
When nothing is worth cataloguing, call the tool with an empty list.

For each object:
- photo: the number of the photo it is in.
- name: a short, specific name a person would use, like \"Cordless drill\" or \"Espresso \
machine\".
- description: one or two sentences on what it is, its colour, size, condition and notable \
features.
- category: a broad category of one or two words, like \"Tools\", \"Kitchen appliances\", \
\"Electronics\" or \"Furniture\".
- brand and model: only when a logo, a label or an unmistakable design shows them.
- serial_number: only when it is printed legibly in a photo; copy it exactly. Never guess one.
- tags: a few short tags. Reuse the household's existing tags, listed in the message, whenever \
one fits; make up a new tag only when none does.
- estimated_value: what the object would fetch second-hand today, in its condition, in the \
household's currency, as a plain decimal amount like 129.99 with no currency sign. Leave it \
out when you cannot judge.
- confidence: from 0 to 1, how sure you are of the name, brand and model together.
- location: only when a photo clearly shows one of the household's locations listed in the \
message; copy its path exactly as written. Never make up a location.

Leave out any field you cannot tell from the photos rather than writing a placeholder like \
\"unknown\".";

/// The body of `POST /v1/messages`.
pub(super) fn request_body(model: &str, photos: &[Photo], ctx: &Context) -> Value {
    let mut content = vec![json!({"type": "text", "text": household(ctx)})];
    for (n, photo) in photos.iter().enumerate() {
        content.push(json!({"type": "text", "text": format!("Photo {}", n + 1)}));
        content.push(json!({
            "type": "image",
            "source": {
                "type": "base64",
                "media_type": "image/jpeg",
                "data": BASE64.encode(&photo.jpeg),
            },
        }));
    }
    let ask = match photos.len() {
        1 => "Record the objects in this photo with the record_items tool.".to_string(),
        n => format!("Record the objects in these {n} photos with the record_items tool."),
    };
    content.push(json!({"type": "text", "text": ask}));
    json!({
        "model": model,
        "max_tokens": MAX_TOKENS,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": content}],
        "tools": [tool(photos.len(), ctx)],
        "tool_choice": {"type": "tool", "name": TOOL_NAME},
    })
}

/// The household's currency, tags and locations, as the model reads them.
fn household(ctx: &Context) -> String {
    let mut text = format!(
        "The household's currency is {}. Estimate values in {}.\n\n",
        ctx.currency, ctx.currency
    );
    if ctx.tags.is_empty() {
        text.push_str("The household has no tags yet.\n\n");
    } else {
        let tags: Vec<&str> = ctx
            .tags
            .iter()
            .map(String::as_str)
            .take(MAX_TAGS_SHOWN)
            .collect();
        text.push_str("The household's existing tags: ");
        text.push_str(&serde_json::to_string(&tags).unwrap_or_default());
        text.push_str("\n\n");
    }
    if ctx.locations.is_empty() {
        text.push_str("The household has no locations yet.");
    } else {
        text.push_str("The household's locations, each a path from the top:");
        for (_, path) in ctx.locations.iter().take(MAX_LOCATIONS_SHOWN) {
            text.push_str("\n- ");
            text.push_str(&one_line(path));
        }
    }
    text
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The tool whose input is the answer, with the JSON schema of that input.
fn tool(photo_count: usize, ctx: &Context) -> Value {
    let text = |description: &str| json!({"type": "string", "description": description});
    json!({
        "name": TOOL_NAME,
        "description": "Records the objects seen in the household's photos, one entry per \
            distinct object worth cataloguing.",
        "input_schema": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "description": "One entry per distinct object; empty when none is worth \
                        cataloguing.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "photo": {
                                "type": "integer",
                                "minimum": 1,
                                "maximum": photo_count.max(1),
                                "description": "The number of the photo the object is in.",
                            },
                            "name": text("A short, specific name, like \"Cordless drill\"."),
                            "description": text("One or two sentences about the object."),
                            "category": text("A broad category, like \"Tools\"."),
                            "brand": text("Only when a logo, label or design shows it."),
                            "model": text("Only when a label or design shows it."),
                            "serial_number": text(
                                "Only when printed legibly in a photo, copied exactly."
                            ),
                            "tags": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "A few short tags, reusing the household's \
                                    existing tags where one fits.",
                            },
                            "estimated_value": {
                                "type": "number",
                                "minimum": 0,
                                "description": format!(
                                    "Second-hand value today in {}, a decimal amount like \
                                     129.99.",
                                    ctx.currency
                                ),
                            },
                            "confidence": {
                                "type": "number",
                                "minimum": 0,
                                "maximum": 1,
                                "description": "How sure you are of the name, brand and model.",
                            },
                            "location": text(
                                "One of the household's location paths, exactly as listed, \
                                 when a photo clearly shows it."
                            ),
                        },
                        "required": ["photo", "name", "confidence"],
                    },
                },
            },
            "required": ["items"],
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{AttachmentId, Currency, LocationId};

    fn ctx() -> Context {
        Context {
            currency: Currency::parse("EUR").unwrap(),
            tags: vec!["Power tools".into(), "kitchen".into()],
            locations: vec![
                (LocationId::new(), "House › Garage".into()),
                (LocationId::new(), "House ›\nKitchen".into()),
            ],
        }
    }

    fn photo(bytes: &[u8]) -> Photo {
        Photo {
            attachment_id: AttachmentId::new(),
            jpeg: bytes.to_vec(),
        }
    }

    #[test]
    fn each_photo_is_named_then_shown_and_the_tool_is_required() {
        let body = request_body("claude-x", &[photo(b"one"), photo(b"two")], &ctx());
        assert_eq!(body["model"], "claude-x");
        assert_eq!(
            body["tool_choice"],
            json!({"type": "tool", "name": "record_items"})
        );
        assert_eq!(body["tools"][0]["name"], "record_items");
        assert_eq!(
            body["tools"][0]["input_schema"]["properties"]["items"]["items"]["properties"]["photo"]
                ["maximum"],
            2
        );
        let content = body["messages"][0]["content"].as_array().unwrap();
        let kinds: Vec<&str> = content
            .iter()
            .map(|b| b["type"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["text", "text", "image", "text", "image", "text"]);
        assert_eq!(content[1]["text"], "Photo 1");
        assert_eq!(content[2]["source"]["media_type"], "image/jpeg");
        assert_eq!(content[2]["source"]["data"], BASE64.encode(b"one"));
        assert_eq!(content[3]["text"], "Photo 2");
        assert_eq!(content[4]["source"]["data"], BASE64.encode(b"two"));
    }

    #[test]
    fn the_household_currency_tags_and_location_paths_are_in_the_prompt() {
        let text = household(&ctx());
        assert!(text.contains("EUR"));
        assert!(text.contains(r#"["Power tools","kitchen"]"#));
        assert!(text.contains("\n- House › Garage"));
        assert!(text.contains("\n- House › Kitchen"), "{text}");

        let empty = household(&Context {
            currency: Currency::parse("JPY").unwrap(),
            tags: vec![],
            locations: vec![],
        });
        assert!(empty.contains("no tags yet"));
        assert!(empty.contains("no locations yet"));
    }
}

//! The queue of shots and what becomes of each one, without the browser: a small state
//! machine per shot (uploading → checking → recognizing → ready, or failed), and per
//! object seen in it, the way from suggestion to item.

use shared::{
    AttachmentId, CreateItem, Currency, ErrorCode, FieldErrors, Item, ItemFields, ItemId,
    LocationId, Money, Suggestion, parse_amount,
};

use crate::components::amount_text;

/// Identifies a shot in the queue for as long as the page is open.
pub type Key = u32;

/// Where a failed shot picks up again.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Resume {
    /// From the start: announce the photo and send it again.
    Upload,
    /// The bytes are there; ask the server to check them again.
    Complete(AttachmentId),
    /// The photo is stored; ask for suggestions again.
    Recognize(AttachmentId),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Stage {
    /// On its way to the server; the fraction sent.
    Uploading(f64),
    /// Sent; the server checks it.
    Checking,
    Recognizing,
    /// Stored, with one entry per object to add. `note` says why there are no suggestions
    /// (no recognition on this server, today's limit, nothing recognised).
    Ready {
        picks: Vec<Pick>,
        note: Option<String>,
    },
    /// `resume` is `None` when trying again can't help (the server refused the file).
    Failed {
        message: String,
        resume: Option<Resume>,
    },
    /// The unfiled photo is being deleted.
    Discarding,
}

/// One object to add from a shot: a suggestion, or a name typed by hand.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    pub suggestion: Option<Suggestion>,
    /// Made here, so adding it twice (a retry) stores it once.
    pub item_id: ItemId,
    pub state: PickState,
}

impl Pick {
    pub fn new(suggestion: Option<Suggestion>) -> Self {
        Self {
            suggestion,
            item_id: ItemId::new(),
            state: PickState::Open,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum PickState {
    Open,
    Working,
    /// Now an item: a new one, or an existing one the photo was added to.
    Added {
        id: ItemId,
        name: String,
        existing: bool,
    },
    Failed(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Shot {
    pub key: Key,
    /// "Photo 3": how the shot is called on the page.
    pub number: u32,
    /// Of the photo as sent (the bytes themselves are kept beside the queue, to send again
    /// or as the photo of a second item).
    pub content_type: String,
    /// A local address of the blob, shown until the page closes.
    pub preview: String,
    /// The location chosen when the shot was taken.
    pub location: Option<LocationId>,
    /// The unfiled photo on the server, once announced.
    pub photo: Option<AttachmentId>,
    pub stage: Stage,
}

impl Shot {
    /// The file name the photo is stored under.
    pub fn filename(&self) -> String {
        let ending = match self.content_type.as_str() {
            "image/png" => "png",
            "image/webp" => "webp",
            "image/gif" => "gif",
            "image/heic" => "heic",
            _ => "jpg",
        };
        format!("photo-{}.{ending}", self.number)
    }

    /// Whether something on the server came of it: an item was added.
    pub fn added_any(&self) -> bool {
        matches!(&self.stage, Stage::Ready { picks, .. }
            if picks.iter().any(|p| matches!(p.state, PickState::Added { .. })))
    }

    /// Whether the page is busy with it right now.
    pub fn busy(&self) -> bool {
        match &self.stage {
            Stage::Uploading(_) | Stage::Checking | Stage::Recognizing | Stage::Discarding => true,
            Stage::Ready { picks, .. } => picks.iter().any(|p| p.state == PickState::Working),
            Stage::Failed { .. } => false,
        }
    }
}

/// Every shot of this visit, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Queue {
    pub shots: Vec<Shot>,
    /// Why photos aren't recognised here, once the server said so.
    pub ai_off: Option<String>,
}

pub enum Action {
    Add(Shot),
    Announced(Key, AttachmentId),
    Progress(Key, f64),
    Checking(Key),
    Recognizing(Key),
    Suggested(Key, Vec<Suggestion>),
    /// No suggestions; the person types a name. The note says why.
    Manual(Key, Option<String>),
    Failed(Key, String, Option<Resume>),
    /// The unfiled photo is gone (taken back after a failed upload, or refused).
    PhotoGone(Key),
    Retrying(Key, Resume),
    Discarding(Key),
    /// Back to how it was (discarding failed).
    Restage(Key, Stage),
    Remove(Key),
    PickWorking(Key, usize),
    PickAdded(Key, usize, ItemId, String, bool),
    PickFailed(Key, usize, String),
    AiOff(String),
}

impl Queue {
    /// The queue after `action`.
    pub fn apply(&mut self, action: Action) {
        let next = self;
        match action {
            Action::Add(new) => next.shots.insert(0, new),
            Action::Announced(key, id) => {
                if let Some(s) = shot(next, key) {
                    s.photo = Some(id);
                }
            }
            Action::Progress(key, fraction) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Uploading(fraction);
                }
            }
            Action::Checking(key) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Checking;
                }
            }
            Action::Recognizing(key) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Recognizing;
                }
            }
            Action::Suggested(key, suggestions) => {
                if let Some(s) = shot(next, key) {
                    s.stage = ready(s.photo, suggestions);
                }
            }
            Action::Manual(key, note) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Ready {
                        picks: vec![Pick::new(None)],
                        note,
                    };
                }
            }
            Action::Failed(key, message, resume) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Failed { message, resume };
                }
            }
            Action::PhotoGone(key) => {
                if let Some(s) = shot(next, key) {
                    s.photo = None;
                }
            }
            Action::Retrying(key, resume) => {
                if let Some(s) = shot(next, key) {
                    s.stage = match resume {
                        Resume::Upload => Stage::Uploading(0.0),
                        Resume::Complete(_) => Stage::Checking,
                        Resume::Recognize(_) => Stage::Recognizing,
                    };
                }
            }
            Action::Discarding(key) => {
                if let Some(s) = shot(next, key) {
                    s.stage = Stage::Discarding;
                }
            }
            Action::Restage(key, stage) => {
                if let Some(s) = shot(next, key) {
                    s.stage = stage;
                }
            }
            Action::Remove(key) => next.shots.retain(|s| s.key != key),
            Action::PickWorking(key, i) => set_pick(next, key, i, PickState::Working),
            Action::PickAdded(key, i, id, name, existing) => {
                set_pick(next, key, i, PickState::Added { id, name, existing })
            }
            Action::PickFailed(key, i, message) => {
                set_pick(next, key, i, PickState::Failed(message))
            }
            Action::AiOff(reason) => next.ai_off = Some(reason),
        }
    }
}

fn shot(queue: &mut Queue, key: Key) -> Option<&mut Shot> {
    queue.shots.iter_mut().find(|s| s.key == key)
}

fn set_pick(queue: &mut Queue, key: Key, index: usize, state: PickState) {
    if let Some(Stage::Ready { picks, .. }) = queue
        .shots
        .iter_mut()
        .find(|s| s.key == key)
        .map(|s| &mut s.stage)
        && let Some(pick) = picks.get_mut(index)
    {
        pick.state = state;
    }
}

/// The suggestions for this shot's photo; when there are none, a name to type.
fn ready(photo: Option<AttachmentId>, suggestions: Vec<Suggestion>) -> Stage {
    let picks: Vec<Pick> = suggestions
        .into_iter()
        .filter(|s| photo.is_none_or(|id| s.attachment_id == id))
        .map(|s| Pick::new(Some(s)))
        .collect();
    if picks.is_empty() {
        Stage::Ready {
            picks: vec![Pick::new(None)],
            note: Some("Nothing was recognised in this photo. Type what it shows.".into()),
        }
    } else {
        Stage::Ready { picks, note: None }
    }
}

/// How sure the suggestion is, in a word.
pub fn confidence_word(confidence: f64) -> &'static str {
    if confidence >= 0.8 {
        "likely"
    } else if confidence >= 0.5 {
        "maybe"
    } else {
        "a guess"
    }
}

/// What an error from the server means for a shot being recognised.
#[derive(Debug, PartialEq)]
pub enum RecognizeFailure {
    /// Recognition is off for now (not set up, or today's limit reached): type names.
    Off,
    /// Worth trying again.
    Retry,
}

pub fn recognize_failure(code: ErrorCode) -> RecognizeFailure {
    match code {
        ErrorCode::Unavailable | ErrorCode::RateLimited => RecognizeFailure::Off,
        _ => RecognizeFailure::Retry,
    }
}

/// Whether the server refused the file itself, so sending it again can't help.
pub fn refused(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::PayloadTooLarge | ErrorCode::UnsupportedMediaType | ErrorCode::ValidationFailed
    )
}

/// The size to draw a `width`×`height` picture at so its long edge is at most `max`.
pub fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let long = width.max(height);
    if long <= max || long == 0 {
        return (width, height);
    }
    let scale = f64::from(max) / f64::from(long);
    let side = |n: u32| ((f64::from(n) * scale).round() as u32).clamp(1, max);
    (side(width), side(height))
}

/// The fields of an item as they are typed before adding it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Draft {
    pub name: String,
    pub description: String,
    pub brand: String,
    pub model: String,
    pub serial_number: String,
    pub value: String,
    pub tags: Vec<String>,
    pub location_id: Option<LocationId>,
}

impl Draft {
    /// What the suggestion says, to go to `location`.
    pub fn new(suggestion: Option<&Suggestion>, location: Option<LocationId>) -> Self {
        let Some(s) = suggestion else {
            return Self {
                location_id: location,
                ..Self::default()
            };
        };
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            name: s.name.clone(),
            description: text(&s.description),
            brand: text(&s.brand),
            model: text(&s.model),
            serial_number: text(&s.serial_number),
            value: amount_text(s.estimated_value.as_ref()),
            tags: s.tags.clone(),
            location_id: location,
        }
    }

    /// The new item as typed; only the value is read here (see [`Draft::check`]).
    fn build(&self, id: Option<ItemId>, currency: &Currency) -> (CreateItem, FieldErrors) {
        let mut errors = FieldErrors::new();
        let estimated_value = match self.value.trim() {
            "" => None,
            raw => match parse_amount(raw, currency) {
                Ok(amount_minor) => Some(Money {
                    amount_minor,
                    currency: currency.clone(),
                }),
                Err(e) => {
                    errors.insert("estimated_value".into(), e);
                    None
                }
            },
        };
        let text = |raw: &str| Some(raw.trim().to_string()).filter(|t| !t.is_empty());
        let body = CreateItem {
            id,
            name: Some(self.name.trim().to_string()),
            description: text(&self.description),
            location_id: self.location_id,
            quantity: Some(1),
            tags: Some(self.tags.clone()),
            brand: text(&self.brand),
            model: text(&self.model),
            serial_number: text(&self.serial_number),
            estimated_value,
            ..CreateItem::default()
        };
        (body, errors)
    }

    /// The new item, checked as the server will check it.
    pub fn check(&self, id: ItemId, currency: &Currency) -> Result<CreateItem, FieldErrors> {
        let (body, mut errors) = self.build(Some(id), currency);
        if let Err(more) = body.validate(currency) {
            for (field, message) in more {
                errors.entry(field).or_insert(message);
            }
        }
        if errors.is_empty() {
            Ok(body)
        } else {
            Err(errors)
        }
    }

    /// What to fill an existing item's empty fields with (its name stays); `None` when the
    /// value can't be read.
    pub fn fill(&self, currency: &Currency) -> Option<CreateItem> {
        let (body, errors) = self.build(None, currency);
        errors.is_empty().then_some(body)
    }
}

/// A PATCH that fills the fields `item` leaves empty with what `new` says; the name and
/// anything already filled in stay as they are.
pub fn fill_empty(item: &Item, new: &CreateItem) -> ItemFields {
    fn fill<T: Clone>(current: &mut Option<T>, new: &Option<T>) {
        if current.is_none() {
            current.clone_from(new);
        }
    }
    let mut f = item.fields();
    fill(&mut f.description, &new.description);
    fill(&mut f.location_id, &new.location_id);
    fill(&mut f.brand, &new.brand);
    fill(&mut f.model, &new.model);
    fill(&mut f.serial_number, &new.serial_number);
    fill(&mut f.estimated_value, &new.estimated_value);
    if let Some(tags) = new.tags.as_ref().filter(|_| f.tags.is_empty()) {
        f.tags.clone_from(tags);
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{HouseholdId, Patch};

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn drill(photo: AttachmentId) -> Suggestion {
        Suggestion {
            attachment_id: photo,
            name: "Cordless drill".into(),
            description: Some("Green, with two batteries.".into()),
            category: Some("Tools".into()),
            brand: Some("Bosch".into()),
            model: None,
            serial_number: None,
            tags: vec!["tools".into()],
            estimated_value: Some(Money {
                amount_minor: 8950,
                currency: eur(),
            }),
            confidence: 0.9,
            location_id: None,
        }
    }

    fn item() -> Item {
        let now = time::OffsetDateTime::UNIX_EPOCH;
        Item {
            id: ItemId::new(),
            household_id: HouseholdId::new(),
            asset_id: shared::AssetId::FIRST,
            name: "Drill".into(),
            description: None,
            location_id: None,
            location_path: vec![],
            quantity: 1,
            tags: vec![],
            brand: Some("Makita".into()),
            model: None,
            serial_number: None,
            barcode: None,
            purchase_date: None,
            purchase_price: None,
            purchased_from: None,
            estimated_value: None,
            warranty_expires: None,
            notes: None,
            custom_fields: Default::default(),
            insured: false,
            lifetime_warranty: false,
            sold_to: None,
            sold_date: None,
            sold_price: None,
            sold_notes: None,
            thumbnail_url: None,
            version: 3,
            created_at: now,
            updated_at: now,
            deleted_at: None,
        }
    }

    fn shot(key: Key, photo: AttachmentId) -> Shot {
        Shot {
            key,
            number: key,
            content_type: "image/jpeg".into(),
            preview: String::new(),
            location: None,
            photo: Some(photo),
            stage: Stage::Recognizing,
        }
    }

    #[test]
    fn the_long_edge_is_brought_down_to_the_limit_keeping_the_shape() {
        assert_eq!(fit(4032, 3024, 2048), (2048, 1536));
        assert_eq!(fit(3024, 4032, 2048), (1536, 2048));
        assert_eq!(fit(1280, 720, 2048), (1280, 720));
        assert_eq!(fit(9000, 10, 2048), (2048, 2));
    }

    #[test]
    fn confidence_is_said_in_words() {
        assert_eq!(confidence_word(0.93), "likely");
        assert_eq!(confidence_word(0.6), "maybe");
        assert_eq!(confidence_word(0.2), "a guess");
    }

    #[test]
    fn a_suggestion_becomes_a_draft_going_to_the_chosen_location() {
        let place = LocationId::new();
        let draft = Draft::new(Some(&drill(AttachmentId::new())), Some(place));
        assert_eq!(draft.name, "Cordless drill");
        assert_eq!(draft.brand, "Bosch");
        assert_eq!(draft.value, "89.50");
        assert_eq!(draft.tags, vec!["tools".to_string()]);
        assert_eq!(draft.location_id, Some(place));

        let id = ItemId::new();
        let body = draft.check(id, &eur()).unwrap();
        assert_eq!(body.id, Some(id));
        assert_eq!(body.name.as_deref(), Some("Cordless drill"));
        assert_eq!(body.location_id, Some(place));
        assert_eq!(body.model, None);
        assert_eq!(body.estimated_value.map(|m| m.amount_minor), Some(8950));
    }

    #[test]
    fn a_draft_without_a_name_or_with_a_bad_value_is_refused_field_by_field() {
        let draft = Draft {
            value: "lots".into(),
            ..Draft::default()
        };
        let errors = draft.check(ItemId::new(), &eur()).unwrap_err();
        assert!(errors.contains_key("name"));
        assert!(errors.contains_key("estimated_value"));
    }

    #[test]
    fn adding_to_an_existing_item_fills_only_its_empty_fields() {
        let place = LocationId::new();
        let mut draft = Draft::new(Some(&drill(AttachmentId::new())), Some(place));
        draft.name.clear();
        let before = item();
        let patch = before
            .fields()
            .patch_to(&fill_empty(&before, &draft.fill(&eur()).unwrap()));
        assert_eq!(patch.name, Patch::Missing);
        assert_eq!(patch.brand, Patch::Missing, "Makita stays");
        assert_eq!(
            patch.description,
            Patch::Value("Green, with two batteries.".into())
        );
        assert_eq!(patch.location_id, Patch::Value(place));
        assert_eq!(patch.tags, Patch::Value(vec!["tools".into()]));
        assert!(matches!(patch.estimated_value, Patch::Value(_)));
        assert_eq!(patch.model, Patch::Missing);
    }

    #[test]
    fn a_shot_shows_the_suggestions_for_its_own_photo_or_a_name_to_type() {
        let photo = AttachmentId::new();
        let mut queue = Queue {
            shots: vec![shot(1, photo), shot(2, AttachmentId::new())],
            ai_off: None,
        };
        queue.apply(Action::Suggested(1, vec![drill(photo)]));
        queue.apply(Action::Suggested(2, vec![drill(photo)]));
        let Stage::Ready { picks, note } = &queue.shots[0].stage else {
            panic!("shot 1 is ready");
        };
        assert_eq!(picks.len(), 1);
        assert_eq!(picks[0].suggestion.as_ref().unwrap().name, "Cordless drill");
        assert_eq!(note, &None);
        let Stage::Ready { picks, note } = &queue.shots[1].stage else {
            panic!("shot 2 is ready");
        };
        assert_eq!(picks[0].suggestion, None);
        assert!(note.is_some());
    }

    #[test]
    fn new_shots_come_first_and_an_added_pick_is_remembered() {
        let photo = AttachmentId::new();
        let mut queue = Queue::default();
        queue.apply(Action::Add(shot(1, photo)));
        queue.apply(Action::Add(shot(2, photo)));
        assert_eq!(
            queue.shots.iter().map(|s| s.key).collect::<Vec<_>>(),
            vec![2, 1]
        );
        let item = ItemId::new();
        queue.apply(Action::Suggested(1, vec![drill(photo)]));
        queue.apply(Action::PickWorking(1, 0));
        assert!(queue.shots[1].busy());
        queue.apply(Action::PickAdded(
            1,
            0,
            item,
            "Cordless drill".into(),
            false,
        ));
        assert!(queue.shots[1].added_any());
        assert!(!queue.shots[1].busy());
        assert!(!queue.shots[0].added_any());
    }

    #[test]
    fn recognition_that_is_off_falls_back_to_typing_and_the_rest_is_retried() {
        assert_eq!(
            recognize_failure(ErrorCode::Unavailable),
            RecognizeFailure::Off
        );
        assert_eq!(
            recognize_failure(ErrorCode::RateLimited),
            RecognizeFailure::Off
        );
        assert_eq!(
            recognize_failure(ErrorCode::UpstreamFailed),
            RecognizeFailure::Retry
        );
        assert!(refused(ErrorCode::UnsupportedMediaType));
        assert!(!refused(ErrorCode::Conflict));
    }
}

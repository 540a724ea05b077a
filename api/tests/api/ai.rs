//! Photo recognition against a fake Messages API speaking the real protocol.

use std::io::Cursor;
use std::time::{Duration, Instant};

use api::Config;
use api::ai::{AiError, Context, Photo, Recognizer, prepare_photo};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use serde_json::json;
use shared::{AttachmentId, Currency, LocationId, Money};

use crate::fake_anthropic::{API_KEY, FakeAnthropic, MODEL, Reply};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A photo as the route would send it: a JPEG from the camera, prepared for recognition.
fn photo(width: u32, height: u32) -> Photo {
    let image = RgbImage::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut camera = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image)
        .write_to(&mut camera, ImageFormat::Jpeg)
        .unwrap();
    Photo {
        attachment_id: AttachmentId::new(),
        jpeg: prepare_photo(camera.get_ref()).unwrap(),
    }
}

struct Household {
    ctx: Context,
    garage: LocationId,
    kitchen: LocationId,
}

fn household() -> Household {
    let garage = LocationId::new();
    let kitchen = LocationId::new();
    Household {
        ctx: Context {
            currency: Currency::parse("EUR").unwrap(),
            tags: vec!["Power tools".into(), "kitchen".into()],
            locations: vec![
                (garage, "House › Garage".into()),
                (kitchen, "House › Kitchen".into()),
            ],
        },
        garage,
        kitchen,
    }
}

fn eur(amount_minor: i64) -> Option<Money> {
    Some(Money {
        amount_minor,
        currency: Currency::parse("EUR").unwrap(),
    })
}

fn a_kettle() -> Reply {
    Reply::items(json!([{"photo": 1, "name": "Kettle", "confidence": 0.9}]))
}

#[tokio::test]
async fn recognised_objects_come_back_tied_to_their_photos_in_the_households_terms() {
    let fake = FakeAnthropic::start().await;
    let home = household();
    let shelf = photo(1700, 1275);
    let counter = photo(640, 480);
    fake.push(Reply::items(json!([
        {"photo": 1, "name": " Cordless drill ", "brand": "Makita", "model": "DHP482",
         "serial_number": "", "tags": ["power tools", " Garage  tools ", "POWER TOOLS"],
         "estimated_value": 89.5, "confidence": 0.9, "location": "House › Garage"},
        {"photo": 1, "name": "Spirit level", "estimated_value": 12, "confidence": 1.7,
         "location": "Shed › Back"},
        {"photo": 2, "name": "Espresso machine", "brand": "De'Longhi", "tags": ["Kitchen"],
         "estimated_value": 149.99, "confidence": 0.8, "location": home.kitchen.to_string()},
    ])));

    let got = fake
        .recognizer(TIMEOUT)
        .recognize(&[shelf.clone(), counter.clone()], &home.ctx)
        .await
        .unwrap();

    let names: Vec<&str> = got.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        ["Cordless drill", "Spirit level", "Espresso machine"]
    );
    let photos: Vec<AttachmentId> = got.iter().map(|s| s.attachment_id).collect();
    assert_eq!(
        photos,
        [
            shelf.attachment_id,
            shelf.attachment_id,
            counter.attachment_id
        ]
    );
    let values: Vec<_> = got.iter().map(|s| s.estimated_value.clone()).collect();
    assert_eq!(values, [eur(8_950), eur(1_200), eur(14_999)]);
    assert_eq!(got[0].tags, ["Garage tools", "Power tools"]);
    assert_eq!(got[2].tags, ["kitchen"]);
    let locations: Vec<_> = got.iter().map(|s| s.location_id).collect();
    assert_eq!(locations, [Some(home.garage), None, Some(home.kitchen)]);
    assert_eq!(got[0].serial_number, None);
    assert_eq!(got[0].brand.as_deref(), Some("Makita"));
    assert_eq!(got[1].confidence, 1.0);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.problems, Vec::<String>::new());
    assert_eq!(request.api_key.as_deref(), Some(API_KEY));
    assert_eq!(request.body["model"], MODEL);
    assert_eq!(request.photo_sizes, [(1568, 1176), (640, 480)]);
    let prompt = request.prompt_text();
    for expected in [
        "Photo 1",
        "Photo 2",
        "EUR",
        "\"Power tools\"",
        "\"kitchen\"",
        "House › Garage",
        "House › Kitchen",
    ] {
        assert!(prompt.contains(expected), "{expected:?} not in {prompt}");
    }
}

#[tokio::test]
async fn a_busy_service_is_asked_again_after_the_wait_it_names() {
    let fake = FakeAnthropic::start().await;
    fake.push(Reply::status_retry_after(429, 1));
    fake.push(a_kettle());
    let started = Instant::now();

    let got = fake
        .recognizer(TIMEOUT)
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap();

    assert_eq!(got[0].name, "Kettle");
    assert_eq!(fake.requests().len(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn an_overloaded_service_is_asked_again() {
    let fake = FakeAnthropic::start().await;
    fake.push(Reply::status(529));
    fake.push(a_kettle());

    let got = fake
        .recognizer(TIMEOUT)
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap();

    assert_eq!(got[0].name, "Kettle");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn a_service_that_keeps_failing_is_given_up_on_after_three_tries() {
    let fake = FakeAnthropic::start().await;
    fake.set_fallback(Reply::status(500));

    let err = fake
        .recognizer(TIMEOUT)
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap_err();

    assert!(matches!(err, AiError::Upstream(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        "The photo recognition service is having trouble; try again later."
    );
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn a_service_asking_for_a_long_wait_is_not_kept_waiting_for() {
    let fake = FakeAnthropic::start().await;
    fake.push(Reply::status_retry_after(429, 120));
    fake.push(a_kettle());
    let started = Instant::now();

    let err = fake
        .recognizer(TIMEOUT)
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap_err();

    assert_eq!(
        err.to_string(),
        "The photo recognition service is busy; try again in a minute."
    );
    assert_eq!(fake.requests().len(), 1);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn an_answer_that_cannot_be_read_is_reported_and_not_asked_again() {
    let fake = FakeAnthropic::start().await;
    let recognizer = fake.recognizer(TIMEOUT);
    let replies = [
        Reply::NotJson,
        Reply::Text("I'm not able to help with that.".into()),
        Reply::CutShort,
        Reply::ToolInput(json!({"items": [{"photo": "first", "name": "Kettle"}]})),
    ];
    for (n, reply) in replies.into_iter().enumerate() {
        fake.push(reply.clone());
        let err = recognizer
            .recognize(&[photo(64, 48)], &household().ctx)
            .await
            .unwrap_err();
        assert!(matches!(err, AiError::Malformed(_)), "{reply:?}: {err:?}");
        assert_eq!(
            err.to_string(),
            "The photo recognition service gave an answer that couldn't be read; try again."
        );
        assert_eq!(fake.requests().len(), n + 1, "{reply:?} was asked again");
    }
}

#[tokio::test]
async fn a_service_slower_than_the_timeout_is_given_up_on_after_one_more_try() {
    let fake = FakeAnthropic::start().await;
    fake.set_fallback(Reply::delayed(Duration::from_secs(30), a_kettle()));
    let recognizer = fake.recognizer(Duration::from_millis(300));
    let started = Instant::now();

    let err = recognizer
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap_err();

    assert!(matches!(err, AiError::Timeout), "{err:?}");
    assert!(err.to_string().contains("took too long"));
    assert_eq!(fake.requests().len(), 2);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_wrong_api_key_is_reported_at_once_without_retrying() {
    let fake = FakeAnthropic::start().await;
    let recognizer = Recognizer::new(
        fake.base_url(),
        "sk-ant-not-the-right-key".to_string().into(),
        MODEL,
        TIMEOUT,
    )
    .unwrap();

    let err = recognizer
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap_err();

    assert!(matches!(err, AiError::Upstream(_)), "{err:?}");
    assert!(err.to_string().contains("ANTHROPIC_API_KEY"), "{err}");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].api_key.as_deref(),
        Some("sk-ant-not-the-right-key")
    );
}

#[tokio::test]
async fn a_model_the_service_does_not_have_is_named_as_the_setting_to_check() {
    let fake = FakeAnthropic::start().await;
    let recognizer = Recognizer::new(
        fake.base_url(),
        API_KEY.to_string().into(),
        "claude-no-such-model",
        TIMEOUT,
    )
    .unwrap();

    let err = recognizer
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap_err();

    assert!(err.to_string().contains("ANTHROPIC_MODEL"), "{err}");
    assert_eq!(fake.requests().len(), 1);
}

#[tokio::test]
async fn no_photos_means_no_request() {
    let fake = FakeAnthropic::start().await;

    let got = fake
        .recognizer(TIMEOUT)
        .recognize(&[], &household().ctx)
        .await
        .unwrap();

    assert!(got.is_empty());
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn a_server_configured_with_a_key_recognises_through_the_configured_service() {
    let fake = FakeAnthropic::start().await;
    let mut config = Config::from_lookup(|_| None).unwrap();
    assert!(Recognizer::from_config(&config).is_none());
    fake.configure(&mut config);
    fake.push(a_kettle());

    let got = Recognizer::from_config(&config)
        .unwrap()
        .recognize(&[photo(64, 48)], &household().ctx)
        .await
        .unwrap();

    assert_eq!(got[0].name, "Kettle");
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].problems, Vec::<String>::new());
}

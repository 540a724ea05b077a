//! Reminder mail through Amazon SES (moto's SES in server mode): a message goes out whole,
//! headers and all, from an address of a verified domain, and one from anywhere else is
//! refused.

use api::reminders::Mailer as _;
use api::reminders::ses::{self, SesMailer, SesSettings};
use aws_credential_types::Credentials;
use serde_json::Value;

fn settings(endpoint: &str) -> SesSettings {
    SesSettings {
        region: "us-east-1".into(),
        endpoint: Some(endpoint.into()),
        credentials: Credentials::new("testing", "testing", None, None, "test"),
    }
}

fn message(from: &str, to: &str, subject: &str) -> lettre::Message {
    lettre::Message::builder()
        .from(from.parse().unwrap())
        .to(to.parse().unwrap())
        .subject(subject)
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body("Warranty ends: Dishwasher (in 12 days)\n".to_string())
        .unwrap()
}

/// The raw messages moto's SES has accepted.
async fn sent(endpoint: &str) -> Vec<Value> {
    let data: Value = reqwest::get(format!("{endpoint}/moto-api/data.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    data["ses"]["RawMessage"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_goes_out_through_ses_whole_and_only_from_a_verified_domain() {
    let Some(endpoint) = crate::attachments::moto::endpoint().await else {
        return;
    };
    let domain = format!("{}.example.org", uuid::Uuid::new_v4().simple());
    let s = settings(&endpoint);
    ses::client(s.clone())
        .create_email_identity()
        .email_identity(&domain)
        .send()
        .await
        .expect("the domain identity is made");
    let mailer = SesMailer::new(s);

    let subject = format!(
        "Home Inventory: 1 reminder {}",
        uuid::Uuid::new_v4().simple()
    );
    let to = format!("ann-{}@example.net", uuid::Uuid::new_v4().simple());
    let mut digest = message(
        &format!("Home Inventory <reminders@{domain}>"),
        &to,
        &subject,
    );
    digest
        .headers_mut()
        .insert_raw(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("List-Unsubscribe"),
            "<https://inventory.example.com/api/v1/reminders/unsubscribe/abc>".into(),
        ));
    mailer.send(digest).await.expect("SES accepts the message");

    let ours: Vec<Value> = sent(&endpoint)
        .await
        .into_iter()
        .filter(|m| m["raw_data"].as_str().is_some_and(|r| r.contains(&subject)))
        .collect();
    assert_eq!(ours.len(), 1, "one message: {ours:?}");
    let raw = ours[0]["raw_data"].as_str().unwrap();
    assert!(raw.contains(&format!("To: {to}")), "{raw}");
    assert!(
        raw.contains(&format!("Home Inventory\" <reminders@{domain}>")),
        "{raw}"
    );
    assert!(
        raw.contains(
            "List-Unsubscribe: <https://inventory.example.com/api/v1/reminders/unsubscribe/abc>"
        ),
        "the headers reach SES as they are: {raw}"
    );
    assert!(raw.contains("Warranty ends: Dishwasher"), "{raw}");
    assert_eq!(ours[0]["source"], format!("reminders@{domain}"));

    let stranger = message("someone@unverified.example.com", &to, "Not ours");
    let refused = mailer.send(stranger).await;
    assert!(refused.is_err(), "an unverified sender is refused");
}

//! API and store tests: one binary, each test on a fresh database, every test body run
//! against SQLite and against PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod fake_anthropic;
mod helpers;

mod account_takeover;
mod accounts;
mod ai;
mod ai_budgets;
mod assets;
mod attachments;
mod backup;
mod bulk;
mod changes;
mod client_address;
mod conflicts;
mod database_tls;
mod decode_memory;
mod email_confirmation;
mod google;
mod hot_path;
mod households;
mod isolation;
mod items;
mod labels;
mod labels_pdf;
mod lambda;
mod location_races;
mod locations;
mod maintenance;
mod metadata;
mod openapi;
mod owner_races;
mod passkey_authenticator;
mod passkeys;
mod portability;
mod recognize;
mod reminder_settings;
mod reminders;
mod reports;
mod request_logs;
mod request_shapes;
mod search;
mod security_headers;
mod ses_mail;
mod session_hardening;
mod sessions;
mod share_links;
mod sharing;
mod sign_in_limits;
mod store;
mod token_access;
mod token_takeover;
mod tokens;
mod two_factor;
mod upload_limits;
mod web_app;

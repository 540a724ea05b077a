//! API and store tests: one binary, each test on a fresh database, every test body run
//! against SQLite and against PostgreSQL.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod fake_anthropic;
mod helpers;

mod accounts;
mod ai;
mod ai_budgets;
mod attachments;
mod conflicts;
mod decode_memory;
mod google;
mod households;
mod isolation;
mod items;
mod lambda;
mod locations;
mod recognize;
mod search;
mod sharing;
mod store;
mod upload_limits;

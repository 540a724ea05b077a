//! API and store tests: one binary, each test on a fresh database, every test body run
//! against SQLite and against PostgreSQL.

mod helpers;

mod accounts;
mod households;
mod isolation;
mod items;
mod locations;
mod store;

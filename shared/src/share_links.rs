//! Read-only share links: part of a household shown to whoever holds the link, without an account.

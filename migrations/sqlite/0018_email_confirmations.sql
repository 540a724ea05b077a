-- Confirming an address for reminder mail: the link mailed to it, one per person (a new
-- mail replaces it; one a minute, five a day), its secret kept as a SHA-256 hash until it is used; then
-- `confirmed_at`. Reminder digests go only to an address confirmed so, or by Google
-- sign-in (`users.email_verified_at`). A confirmation here is not `email_verified_at`: that
-- decides whether Google sign-in links to an account or takes it over, and a link someone
-- was talked into clicking must not hand their Google sign-in to an account made by
-- somebody else.
CREATE TABLE IF NOT EXISTS email_confirmations (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    token_hash BLOB,
    sent_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    -- The mails of the last day: at most 5 from `window_started_at` on.
    window_started_at INTEGER NOT NULL,
    mails_in_window INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS email_confirmations_token ON email_confirmations (token_hash);

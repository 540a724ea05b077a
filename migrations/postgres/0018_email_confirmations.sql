-- Confirming an address for reminder mail: the link mailed to it, one per person (a new
-- mail replaces it; one a minute, five a day), its secret kept as a SHA-256 hash until it is used; then
-- `confirmed_at`. Reminder digests go only to an address confirmed so, or by Google
-- sign-in (`users.email_verified_at`). A confirmation here is not `email_verified_at`: that
-- decides whether Google sign-in links to an account or takes it over, and a link someone
-- was talked into clicking must not hand their Google sign-in to an account made by
-- somebody else.
CREATE TABLE IF NOT EXISTS email_confirmations (
    user_id uuid PRIMARY KEY,
    email text NOT NULL,
    token_hash bytea,
    sent_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    confirmed_at timestamptz,
    -- The mails of the last day: at most 5 from `window_started_at` on.
    window_started_at timestamptz NOT NULL,
    mails_in_window integer NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS email_confirmations_token ON email_confirmations (token_hash);

-- Accounts at identity providers (Google), each linked to one of ours.

CREATE TABLE IF NOT EXISTS identities (
    provider text NOT NULL,
    subject text NOT NULL,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (provider, subject)
);

CREATE INDEX IF NOT EXISTS identities_user ON identities (user_id);

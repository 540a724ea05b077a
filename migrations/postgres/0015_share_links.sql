-- Read-only share links: part of a household (all of it, or one location and everything
-- below it) shown to whoever holds the link, without an account. Only the SHA-256 hash of
-- a link's secret is kept. A revoked link keeps its row (and its uses) for the log.
CREATE TABLE IF NOT EXISTS share_links (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    name text NOT NULL,
    location_id uuid,
    hide_prices boolean NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS share_links_token ON share_links (token_hash);

CREATE INDEX IF NOT EXISTS share_links_household ON share_links (household_id, created_at);

-- Every request made through a link: when, what it opened, from where and with what.
CREATE TABLE IF NOT EXISTS share_link_uses (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    link_id uuid NOT NULL,
    at timestamptz NOT NULL,
    what text NOT NULL,
    address text NOT NULL,
    user_agent text
);

CREATE INDEX IF NOT EXISTS share_link_uses_link ON share_link_uses (household_id, link_id, at, id);

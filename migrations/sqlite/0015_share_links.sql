-- Read-only share links: part of a household (all of it, or one location and everything
-- below it) shown to whoever holds the link, without an account. Only the SHA-256 hash of
-- a link's secret is kept. A revoked link keeps its row (and its uses) for the log.
CREATE TABLE IF NOT EXISTS share_links (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    token_hash BLOB NOT NULL,
    name TEXT NOT NULL,
    location_id TEXT,
    hide_prices INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE UNIQUE INDEX IF NOT EXISTS share_links_token ON share_links (token_hash);

CREATE INDEX IF NOT EXISTS share_links_household ON share_links (household_id, created_at);

-- Every request made through a link: when, what it opened, from where and with what.
CREATE TABLE IF NOT EXISTS share_link_uses (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    link_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    what TEXT NOT NULL,
    address TEXT NOT NULL,
    user_agent TEXT
);

CREATE INDEX IF NOT EXISTS share_link_uses_link ON share_link_uses (household_id, link_id, at, id);

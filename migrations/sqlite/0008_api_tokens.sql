-- Personal API tokens. Only the SHA-256 hash of a secret is kept; `hint` is the secret's
-- last characters, to tell tokens apart in a list. A revoked token's row is deleted.
-- `household_id` limits a token to one household; NULL: every household of its owner.
CREATE TABLE IF NOT EXISTS api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    household_id TEXT,
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_secret ON api_tokens (secret_hash);

CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id);

-- The name of the token a change was made through (kept when the token is revoked).
ALTER TABLE activity ADD COLUMN via_token TEXT;

-- Personal API tokens. Only the SHA-256 hash of a secret is kept; `hint` is the secret's
-- last characters, to tell tokens apart in a list. A revoked token's row is deleted.
-- `household_id` limits a token to one household; NULL: every household of its owner.
CREATE TABLE IF NOT EXISTS api_tokens (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    secret_hash bytea NOT NULL,
    name text NOT NULL,
    scope text NOT NULL,
    household_id uuid,
    hint text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    last_used_at timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS api_tokens_secret ON api_tokens (secret_hash);

CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens (user_id);

-- The name of the token a change was made through (kept when the token is revoked).
ALTER TABLE activity ADD COLUMN IF NOT EXISTS via_token text;

-- Sessions you can see, and two-factor sign-in with an authenticator app.
-- DSQL adds a column without a default or constraint, so none here.

-- A session's public id, to list and end it by (never its token). Sessions made before
-- this have none; they are listed by an id derived from their token's hash.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS id uuid;

-- The browser that signed in, as it said in `User-Agent`.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS user_agent text;

-- The session's last use, written with its sliding expiry (at most once an hour).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS last_used_at timestamptz;

-- Two-factor sign-in: one row per account that started setting it up. `pending_secret`
-- is a secret shown but not yet confirmed with a code; `secret` the one in use once
-- `enabled_at` is set. `last_step` is the last accepted 30-second time step: a code is
-- accepted once.
CREATE TABLE IF NOT EXISTS two_factor (
    user_id uuid PRIMARY KEY,
    secret bytea,
    pending_secret bytea,
    enabled_at timestamptz,
    last_step bigint,
    updated_at timestamptz NOT NULL
);

-- Recovery codes: only their SHA-256 hashes; a code is deleted when used.
CREATE TABLE IF NOT EXISTS recovery_codes (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS recovery_codes_user ON recovery_codes (user_id, code_hash);

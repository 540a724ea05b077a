-- Sessions you can see, and two-factor sign-in with an authenticator app.

-- A session's public id, to list and end it by (never its token). Sessions made before
-- this have none; they are listed by an id derived from their token's hash.
ALTER TABLE sessions ADD COLUMN id TEXT;

-- The browser that signed in, as it said in `User-Agent`.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;

-- The session's last use, written with its sliding expiry (at most once an hour).
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER;

-- Two-factor sign-in: one row per account that started setting it up. `pending_secret`
-- is a secret shown but not yet confirmed with a code; `secret` the one in use once
-- `enabled_at` is set. `last_step` is the last accepted 30-second time step: a code is
-- accepted once.
CREATE TABLE IF NOT EXISTS two_factor (
    user_id TEXT PRIMARY KEY,
    secret BLOB,
    pending_secret BLOB,
    enabled_at INTEGER,
    last_step INTEGER,
    updated_at INTEGER NOT NULL
);

-- Recovery codes: only their SHA-256 hashes; a code is deleted when used.
CREATE TABLE IF NOT EXISTS recovery_codes (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS recovery_codes_user ON recovery_codes (user_id, code_hash);

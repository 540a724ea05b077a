-- Invitations to a household. Only a hash of each code is kept.

CREATE TABLE IF NOT EXISTS invites (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    code_hash BLOB NOT NULL,
    role TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    max_uses INTEGER,
    uses INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE UNIQUE INDEX IF NOT EXISTS invites_code ON invites (code_hash);

CREATE INDEX IF NOT EXISTS invites_household ON invites (household_id);

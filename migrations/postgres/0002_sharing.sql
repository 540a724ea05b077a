-- Invitations to a household. Only a hash of each code is kept.

CREATE TABLE IF NOT EXISTS invites (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    code_hash bytea NOT NULL,
    role text NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    max_uses bigint,
    uses bigint NOT NULL,
    revoked_at timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS invites_code ON invites (code_hash);

CREATE INDEX IF NOT EXISTS invites_household ON invites (household_id);

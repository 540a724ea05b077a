-- Passkeys (WebAuthn credentials). `credential_id` is the authenticator's id for the
-- credential (unique across the site); `public_key` is the relying-party library's encoding
-- of the credential's public key and extensions (it never changes); `counter_state` is its
-- encoding of what changes with each use (signature counter, user verified, backup state).
-- `transports` are the authenticator's hints, a bit set.
CREATE TABLE IF NOT EXISTS passkeys (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    credential_id bytea NOT NULL,
    name text NOT NULL,
    public_key bytea NOT NULL,
    counter_state bytea NOT NULL,
    transports integer NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz
);

CREATE UNIQUE INDEX IF NOT EXISTS passkeys_credential ON passkeys (credential_id);

CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id);

-- A ceremony started and not finished yet: registering (`register`), signing in (`sign_in`,
-- no user yet) or confirming (`confirm`). `state` is the library's encoding of what the
-- server must remember (the challenge, what was asked). Deleted when used: good once.
CREATE TABLE IF NOT EXISTS passkey_ceremonies (
    id uuid PRIMARY KEY,
    user_id uuid,
    kind text NOT NULL,
    state bytea NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);

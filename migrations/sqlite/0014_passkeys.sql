-- Passkeys (WebAuthn credentials). `credential_id` is the authenticator's id for the
-- credential (unique across the site); `public_key` is the relying-party library's encoding
-- of the credential's public key and extensions (it never changes); `counter_state` is its
-- encoding of what changes with each use (signature counter, user verified, backup state).
-- `transports` are the authenticator's hints, a bit set.
CREATE TABLE IF NOT EXISTS passkeys (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    credential_id BLOB NOT NULL,
    name TEXT NOT NULL,
    public_key BLOB NOT NULL,
    counter_state BLOB NOT NULL,
    transports INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE UNIQUE INDEX IF NOT EXISTS passkeys_credential ON passkeys (credential_id);

CREATE INDEX IF NOT EXISTS passkeys_user ON passkeys (user_id);

-- A ceremony started and not finished yet: registering (`register`), signing in (`sign_in`,
-- no user yet) or confirming (`confirm`). `state` is the library's encoding of what the
-- server must remember (the challenge, what was asked). Deleted when used: good once.
CREATE TABLE IF NOT EXISTS passkey_ceremonies (
    id TEXT PRIMARY KEY,
    user_id TEXT,
    kind TEXT NOT NULL,
    state BLOB NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS passkey_ceremonies_expiry ON passkey_ceremonies (expires_at);

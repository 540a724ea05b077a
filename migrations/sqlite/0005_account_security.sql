-- Account security.
-- When an account's email was shown to be its owner's: set by Google sign-in (Google
-- vouches for the address), empty for email and password registrations, which nobody has
-- confirmed. Google sign-in links itself only to a verified account and takes an
-- unverified one over.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- The invitations an account made, all revoked when the account is taken over.
CREATE INDEX IF NOT EXISTS invites_created_by ON invites (created_by);

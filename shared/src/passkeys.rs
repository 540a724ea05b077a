//! Passkeys (WebAuthn): registering them and signing in with one.

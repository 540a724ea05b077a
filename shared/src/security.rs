//! Account security: the sessions (signed-in devices) and two-factor sign-in with an authenticator app.

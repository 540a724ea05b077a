-- Reminders: each person's digest settings (no row: on, daily, at 8 in UTC), the secret of
-- their calendar feed and of the unsubscribe link in their mail, and every reminder sent,
-- unique per person and key (a digest's period, a warranty or a schedule at a threshold) so
-- that two reminder passes at once, or a pass repeated after a failure, send it once.
CREATE TABLE IF NOT EXISTS reminder_settings (
    user_id TEXT PRIMARY KEY,
    digest_enabled INTEGER NOT NULL,
    frequency TEXT NOT NULL,
    weekday INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    time_zone TEXT NOT NULL,
    calendar_secret TEXT,
    unsubscribe_secret TEXT NOT NULL,
    -- When the person last saved their settings; NULL while they are the defaults.
    saved_at INTEGER,
    updated_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS reminder_settings_calendar ON reminder_settings (calendar_secret);

CREATE UNIQUE INDEX IF NOT EXISTS reminder_settings_unsubscribe ON reminder_settings (unsubscribe_secret);

CREATE TABLE IF NOT EXISTS reminders_sent (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS reminders_sent_key ON reminders_sent (user_id, key);

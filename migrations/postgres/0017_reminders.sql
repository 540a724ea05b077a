-- Reminders: each person's digest settings (no row: on, daily, at 8 in UTC), the secret of
-- their calendar feed and of the unsubscribe link in their mail, and every reminder sent,
-- unique per person and key (a digest's period, a warranty or a schedule at a threshold) so
-- that two reminder passes at once, or a pass repeated after a failure, send it once.
CREATE TABLE IF NOT EXISTS reminder_settings (
    user_id uuid PRIMARY KEY,
    digest_enabled boolean NOT NULL,
    frequency text NOT NULL,
    weekday integer NOT NULL,
    hour integer NOT NULL,
    time_zone text NOT NULL,
    calendar_secret text,
    unsubscribe_secret text NOT NULL,
    -- When the person last saved their settings; NULL while they are the defaults.
    saved_at timestamptz,
    updated_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS reminder_settings_calendar ON reminder_settings (calendar_secret);

CREATE UNIQUE INDEX IF NOT EXISTS reminder_settings_unsubscribe ON reminder_settings (unsubscribe_secret);

CREATE TABLE IF NOT EXISTS reminders_sent (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL,
    key text NOT NULL,
    sent_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS reminders_sent_key ON reminders_sent (user_id, key);

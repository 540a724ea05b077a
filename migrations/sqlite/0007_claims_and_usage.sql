-- An upload being checked is `processing` from `claimed_at` on, so that only one request
-- decodes it; a claim older than a couple of minutes was left by a stopped process and
-- may be taken again.
ALTER TABLE attachments ADD COLUMN claimed_at INTEGER;

-- Daily counters of metered work (photo recognitions), one row per key and UTC day. Keys:
-- `household:<id>`, `account:<id>` and `global`.
CREATE TABLE IF NOT EXISTS usage_counts (
    key TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (key, day)
);

-- Today's (and yesterday's) household counts carry over; older days no longer matter.
INSERT OR IGNORE INTO usage_counts (key, day, count)
SELECT 'household:' || household_id, day, count FROM recognitions
WHERE day >= date('now', '-1 day');

-- An upload being checked is `processing` from `claimed_at` on, so that only one request
-- decodes it; a claim older than a couple of minutes was left by a stopped process and
-- may be taken again.
ALTER TABLE attachments ADD COLUMN IF NOT EXISTS claimed_at timestamptz;

-- Daily counters of metered work (photo recognitions), one row per key and UTC day. Keys:
-- `household:<id>`, `account:<id>` and `global`. The old per-household `recognitions`
-- rows are not copied: a migration holds no data changes (and on Aurora DSQL one copy
-- could pass 3,000 rows), so today's household counts start again once, at the upgrade.
CREATE TABLE IF NOT EXISTS usage_counts (
    key text NOT NULL,
    day text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (key, day)
);

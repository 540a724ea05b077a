-- Photos and documents attached to items. The bytes live in the blob store under keys made
-- from the household and attachment ids; a row is `pending` until its upload is checked.

CREATE TABLE IF NOT EXISTS attachments (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    stored_bytes INTEGER NOT NULL,
    status TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    is_primary INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS attachments_item ON attachments (household_id, item_id, created_at);

-- Photo recognitions asked for per household and UTC day, for the daily limit.
CREATE TABLE IF NOT EXISTS recognitions (
    household_id TEXT NOT NULL,
    day TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (household_id, day)
);

-- Maintenance of items: schedules ("replace the filter every 3 months") and the log of what
-- was done (a date, a title, what it cost, notes, files of the item such as a receipt).
-- `next_due` is kept by the application whenever a schedule or its last entry changes, so
-- due and overdue work is found by an index. Dates are `YYYY-MM-DD` text.
CREATE TABLE IF NOT EXISTS maintenance_schedules (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    title TEXT NOT NULL,
    every INTEGER NOT NULL,
    unit TEXT NOT NULL,
    anchor TEXT NOT NULL,
    start_date TEXT NOT NULL,
    last_done TEXT,
    next_due TEXT NOT NULL,
    notes TEXT,
    version INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS maintenance_schedules_item ON maintenance_schedules (household_id, item_id);

CREATE INDEX IF NOT EXISTS maintenance_schedules_due ON maintenance_schedules (household_id, next_due);

CREATE TABLE IF NOT EXISTS maintenance_entries (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    schedule_id TEXT,
    done_on TEXT NOT NULL,
    title TEXT NOT NULL,
    cost_minor INTEGER,
    cost_currency TEXT,
    notes TEXT,
    attachment_ids TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS maintenance_entries_item ON maintenance_entries (household_id, item_id, done_on);

CREATE INDEX IF NOT EXISTS maintenance_entries_done ON maintenance_entries (household_id, done_on);

-- Warranties ending soon are found by an index.
CREATE INDEX IF NOT EXISTS items_warranty ON items (household_id, warranty_expires);

-- Maintenance of items: schedules ("replace the filter every 3 months") and the log of what
-- was done (a date, a title, what it cost, notes, files of the item such as a receipt).
-- `next_due` is kept by the application whenever a schedule or its last entry changes, so
-- due and overdue work is found by an index.
CREATE TABLE IF NOT EXISTS maintenance_schedules (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    item_id uuid NOT NULL,
    title text NOT NULL,
    every integer NOT NULL,
    unit text NOT NULL,
    anchor text NOT NULL,
    start_date date NOT NULL,
    last_done date,
    next_due date NOT NULL,
    notes text,
    version bigint NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS maintenance_schedules_item ON maintenance_schedules (household_id, item_id);

CREATE INDEX IF NOT EXISTS maintenance_schedules_due ON maintenance_schedules (household_id, next_due);

CREATE TABLE IF NOT EXISTS maintenance_entries (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    item_id uuid NOT NULL,
    schedule_id uuid,
    done_on date NOT NULL,
    title text NOT NULL,
    cost_minor bigint,
    cost_currency text,
    notes text,
    attachment_ids text NOT NULL,
    version bigint NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS maintenance_entries_item ON maintenance_entries (household_id, item_id, done_on);

CREATE INDEX IF NOT EXISTS maintenance_entries_done ON maintenance_entries (household_id, done_on);

-- Warranties ending soon are found by an index.
CREATE INDEX IF NOT EXISTS items_warranty ON items (household_id, warranty_expires);

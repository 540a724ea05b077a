-- Accounts, households and the inventory.
-- Times are microseconds since the Unix epoch; ids are lower-case UUID text.

CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    password_hash TEXT,
    created_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (email);

CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

CREATE TABLE IF NOT EXISTS login_failures (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);

CREATE TABLE IF NOT EXISTS households (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    currency TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS members (
    household_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (household_id, user_id)
);

CREATE INDEX IF NOT EXISTS members_user ON members (user_id);

CREATE TABLE IF NOT EXISTS locations (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    parent_id TEXT,
    name TEXT NOT NULL,
    description TEXT,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS locations_household ON locations (household_id, parent_id);

CREATE TABLE IF NOT EXISTS items (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT,
    location_id TEXT,
    quantity INTEGER NOT NULL,
    tags TEXT NOT NULL,
    brand TEXT,
    model TEXT,
    serial_number TEXT,
    barcode TEXT,
    purchase_date TEXT,
    purchase_price_minor INTEGER,
    purchase_price_currency TEXT,
    purchased_from TEXT,
    estimated_value_minor INTEGER,
    estimated_value_currency TEXT,
    warranty_expires TEXT,
    notes TEXT,
    custom_fields TEXT NOT NULL,
    search_text TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER
);

CREATE INDEX IF NOT EXISTS items_created ON items (household_id, created_at, id);

CREATE INDEX IF NOT EXISTS items_updated ON items (household_id, updated_at, id);

CREATE INDEX IF NOT EXISTS items_name ON items (household_id, name_lower, id);

CREATE INDEX IF NOT EXISTS items_location ON items (household_id, location_id);

-- Covers the totals, the item counts per location and the trash without reading rows.
CREATE INDEX IF NOT EXISTS items_live ON items (household_id, deleted_at, location_id, quantity, estimated_value_minor);

-- One row per tag of an item, rewritten with the item: it repeats whether the item is
-- trashed and its estimated value, so tag counts and values need no join.
CREATE TABLE IF NOT EXISTS item_tags (
    item_id TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    household_id TEXT NOT NULL,
    name TEXT NOT NULL,
    trashed INTEGER NOT NULL,
    value_minor INTEGER,
    PRIMARY KEY (item_id, name_lower)
);

CREATE INDEX IF NOT EXISTS item_tags_household ON item_tags (household_id, trashed, name_lower, name, value_minor);

CREATE TABLE IF NOT EXISTS activity (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    action TEXT NOT NULL,
    fields TEXT NOT NULL,
    at INTEGER NOT NULL
);

CREATE INDEX IF NOT EXISTS activity_item ON activity (household_id, item_id, at);

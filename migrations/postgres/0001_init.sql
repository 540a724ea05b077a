-- Accounts, households and the inventory.
-- Aurora DSQL rules: app-made UUID keys, no foreign keys, sequences, triggers or JSONB;
-- the runner applies each statement in its own transaction, so every one is re-runnable.

CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    password_hash text,
    created_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS users_email ON users (email);

CREATE TABLE IF NOT EXISTS sessions (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);

CREATE TABLE IF NOT EXISTS login_failures (
    id uuid PRIMARY KEY,
    key text NOT NULL,
    at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (key, at);

CREATE TABLE IF NOT EXISTS households (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    currency text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS members (
    household_id uuid NOT NULL,
    user_id uuid NOT NULL,
    role text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (household_id, user_id)
);

CREATE INDEX IF NOT EXISTS members_user ON members (user_id);

CREATE TABLE IF NOT EXISTS locations (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    parent_id uuid,
    name text NOT NULL,
    description text,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS locations_household ON locations (household_id, parent_id);

CREATE TABLE IF NOT EXISTS items (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    name text NOT NULL,
    name_lower text NOT NULL,
    description text,
    location_id uuid,
    quantity bigint NOT NULL,
    tags text NOT NULL,
    brand text,
    model text,
    serial_number text,
    barcode text,
    purchase_date date,
    purchase_price_minor bigint,
    purchase_price_currency text,
    purchased_from text,
    estimated_value_minor bigint,
    estimated_value_currency text,
    warranty_expires date,
    notes text,
    custom_fields text NOT NULL,
    search_text text NOT NULL,
    version bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz
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
    item_id uuid NOT NULL,
    name_lower text NOT NULL,
    household_id uuid NOT NULL,
    name text NOT NULL,
    trashed boolean NOT NULL,
    value_minor bigint,
    PRIMARY KEY (item_id, name_lower)
);

CREATE INDEX IF NOT EXISTS item_tags_household ON item_tags (household_id, trashed, name_lower, name, value_minor);

CREATE TABLE IF NOT EXISTS activity (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    item_id uuid NOT NULL,
    actor_id uuid NOT NULL,
    action text NOT NULL,
    fields text NOT NULL,
    at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS activity_item ON activity (household_id, item_id, at);

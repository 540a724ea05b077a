-- Photos and documents attached to items. The bytes live in the blob store under keys made
-- from the household and attachment ids; a row is `pending` until its upload is checked.

CREATE TABLE IF NOT EXISTS attachments (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    item_id uuid NOT NULL,
    kind text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    size bigint NOT NULL,
    stored_bytes bigint NOT NULL,
    status text NOT NULL,
    width integer,
    height integer,
    is_primary boolean NOT NULL,
    created_by uuid NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS attachments_item ON attachments (household_id, item_id, created_at);

-- Photo recognitions asked for per household and UTC day, for the daily limit.
CREATE TABLE IF NOT EXISTS recognitions (
    household_id uuid NOT NULL,
    day text NOT NULL,
    count bigint NOT NULL,
    PRIMARY KEY (household_id, day)
);

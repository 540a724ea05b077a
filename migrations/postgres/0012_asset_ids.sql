-- Asset ids: a household-unique number on every item and location, printed on its label.
-- One counter per household, shared by items and locations, so a number names exactly one
-- thing. Nullable and without defaults (one DDL statement each, as Aurora DSQL asks): a
-- NULL counter reads as 1, and the rows made before this migration are numbered, oldest
-- first, by the backfill that runs after it (`PgStore::backfill_asset_ids`), in
-- transactions small enough for Aurora DSQL.
ALTER TABLE households ADD COLUMN IF NOT EXISTS next_asset_id bigint;

ALTER TABLE items ADD COLUMN IF NOT EXISTS asset_id bigint;

ALTER TABLE locations ADD COLUMN IF NOT EXISTS asset_id bigint;

CREATE UNIQUE INDEX IF NOT EXISTS items_asset_id ON items (household_id, asset_id);

CREATE UNIQUE INDEX IF NOT EXISTS locations_asset_id ON locations (household_id, asset_id);

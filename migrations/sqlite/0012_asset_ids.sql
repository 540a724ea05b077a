-- Asset ids: a household-unique number on every item and location, printed on its label.
-- One counter per household, shared by items and locations, so a number names exactly one
-- thing. A NULL counter reads as 1, as on PostgreSQL; the rows made before this migration
-- are numbered, oldest first, by the backfill that runs after it
-- (`SqliteStore::backfill_asset_ids`).
ALTER TABLE households ADD COLUMN next_asset_id INTEGER;

ALTER TABLE items ADD COLUMN asset_id INTEGER;

ALTER TABLE locations ADD COLUMN asset_id INTEGER;

CREATE UNIQUE INDEX items_asset_id ON items (household_id, asset_id);

CREATE UNIQUE INDEX locations_asset_id ON locations (household_id, asset_id);

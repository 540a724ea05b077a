-- What was deleted for good, for the changes feed (`GET …/changes`): an item purged from
-- the trash or a location deleted leaves a row here, written in the transaction that
-- deletes it, so an offline copy learns to drop it. Kept 90 days (pruned as new ones come).
-- The key is the order the feed reads in, so a page is one range of it; `kind` is `item`
-- or `location`.
CREATE TABLE IF NOT EXISTS removals (
    household_id uuid NOT NULL,
    removed_at timestamptz NOT NULL,
    kind text NOT NULL,
    id uuid NOT NULL,
    PRIMARY KEY (household_id, removed_at, kind, id)
);

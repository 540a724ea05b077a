-- Background jobs: imports, exports, backups and restores. `params` and `result` are JSON.
-- `input_key` is the uploaded file in the attachment store, `output_key` the file the job
-- made. A runner holds a job until `lease_until`; a job whose lease ran out (its process
-- stopped) is picked up again.
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    household_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    input_key TEXT,
    output_key TEXT,
    output_name TEXT,
    output_type TEXT,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    result TEXT,
    error_code TEXT,
    error_message TEXT,
    attempts INTEGER NOT NULL,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);

CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (status, lease_until);

CREATE INDEX IF NOT EXISTS jobs_household ON jobs (household_id, created_at);

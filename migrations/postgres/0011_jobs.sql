-- Background jobs: imports, exports, backups and restores. `params` and `result` are JSON
-- text. `input_key` is the uploaded file in the attachment store, `output_key` the file the
-- job made. A runner holds a job until `lease_until`; a job whose lease ran out (its process
-- stopped) is picked up again.
CREATE TABLE IF NOT EXISTS jobs (
    id uuid PRIMARY KEY,
    household_id uuid NOT NULL,
    user_id uuid NOT NULL,
    kind text NOT NULL,
    status text NOT NULL,
    params text NOT NULL,
    input_key text,
    output_key text,
    output_name text,
    output_type text,
    done bigint NOT NULL,
    total bigint NOT NULL,
    result text,
    error_code text,
    error_message text,
    attempts integer NOT NULL,
    lease_until timestamptz,
    created_at timestamptz NOT NULL,
    finished_at timestamptz
);

CREATE INDEX IF NOT EXISTS jobs_unfinished ON jobs (status, lease_until);

CREATE INDEX IF NOT EXISTS jobs_household ON jobs (household_id, created_at);

//! PostgreSQL and Aurora DSQL: background jobs.

use super::*;

const JOB_COLUMNS: &str = "id, household_id, user_id, kind, status, params, input_key, output_key, \
     output_name, output_type, done, total, result, error_code, error_message, attempts, \
     lease_until, created_at, finished_at";

fn job_from(r: &Row) -> StoreResult<JobRow> {
    let kind: &str = r.get("kind");
    let status: &str = r.get("status");
    Ok(JobRow {
        id: r.get::<_, Uuid>("id").into(),
        household_id: r.get::<_, Uuid>("household_id").into(),
        user_id: r.get::<_, Uuid>("user_id").into(),
        kind: JobKind::parse(kind).ok_or_else(|| anyhow::anyhow!("job kind {kind:?}"))?,
        status: JobStatus::parse(status).ok_or_else(|| anyhow::anyhow!("job status {status:?}"))?,
        params: r.get("params"),
        input_key: r.get("input_key"),
        output_key: r.get("output_key"),
        output_name: r.get("output_name"),
        output_type: r.get("output_type"),
        done: r.get("done"),
        total: r.get("total"),
        result: r.get("result"),
        error_code: r.get("error_code"),
        error_message: r.get("error_message"),
        attempts: i64::from(r.get::<_, i32>("attempts")),
        lease_until: r.get("lease_until"),
        created_at: r.get("created_at"),
        finished_at: r.get("finished_at"),
    })
}

#[async_trait]
impl JobStore for PgStore {
    async fn insert_job(&self, job: &JobRow) -> StoreResult<()> {
        let j = job;
        let attempts = j.attempts as i32;
        write_tx!(self, |tx| {
            // Re-running after a retried commit must not fail: the id is the application's.
            tx.execute(
                &format!(
                    "INSERT INTO jobs ({JOB_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) ON CONFLICT (id) DO NOTHING"
                ),
                &[
                    &j.id.as_uuid(),
                    &j.household_id.as_uuid(),
                    &j.user_id.as_uuid(),
                    &j.kind.as_str(),
                    &j.status.as_str(),
                    &j.params,
                    &j.input_key,
                    &j.output_key,
                    &j.output_name,
                    &j.output_type,
                    &j.done,
                    &j.total,
                    &j.result,
                    &j.error_code,
                    &j.error_message,
                    &attempts,
                    &j.lease_until,
                    &j.created_at,
                    &j.finished_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn job(&self, household: HouseholdId, id: JobId) -> StoreResult<Option<JobRow>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {JOB_COLUMNS} FROM jobs WHERE household_id = $1 AND id = $2"),
                &[&household.as_uuid(), &id.as_uuid()],
            )
            .await
            .map_err(pg)?;
        row.as_ref().map(job_from).transpose()
    }

    async fn jobs_of(
        &self,
        household: HouseholdId,
        user: UserId,
        limit: usize,
    ) -> StoreResult<Vec<JobRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE household_id = $1 AND user_id = $2 \
                     ORDER BY created_at DESC, id DESC LIMIT $3"
                ),
                &[&household.as_uuid(), &user.as_uuid(), &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(job_from).collect()
    }

    async fn claim_job(
        &self,
        id: JobId,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> StoreResult<Option<JobRow>> {
        write_tx!(self, |tx| {
            let row = tx
                .query_opt(
                    &format!(
                        "UPDATE jobs SET status = 'running', attempts = attempts + 1, \
                         lease_until = $2 WHERE id = $1 AND (status = 'queued' \
                         OR (status = 'running' AND (lease_until IS NULL OR lease_until < $3))) \
                         RETURNING {JOB_COLUMNS}"
                    ),
                    &[&id.as_uuid(), &lease_until, &now],
                )
                .await
                .map_err(pg)?;
            row.as_ref().map(job_from).transpose()
        })
    }

    async fn job_progress(
        &self,
        id: JobId,
        done: i64,
        total: i64,
        lease_until: OffsetDateTime,
    ) -> StoreResult<()> {
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE jobs SET done = $2, total = $3, lease_until = $4 \
                 WHERE id = $1 AND status = 'running'",
                &[&id.as_uuid(), &done, &total, &lease_until],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn finish_job(&self, id: JobId, outcome: &JobOutcome) -> StoreResult<()> {
        let o = outcome;
        write_tx!(self, |tx| {
            tx.execute(
                "UPDATE jobs SET status = $2, done = $3, total = $4, result = $5, \
                 error_code = $6, error_message = $7, output_key = $8, output_name = $9, \
                 output_type = $10, finished_at = $11, lease_until = NULL WHERE id = $1",
                &[
                    &id.as_uuid(),
                    &o.status.as_str(),
                    &o.done,
                    &o.total,
                    &o.result,
                    &o.error_code,
                    &o.error_message,
                    &o.output_key,
                    &o.output_name,
                    &o.output_type,
                    &o.finished_at,
                ],
            )
            .await
            .map_err(pg)?;
            Ok(())
        })
    }

    async fn unfinished_jobs(&self, now: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobId>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id FROM jobs WHERE status = 'queued' \
                 OR (status = 'running' AND (lease_until IS NULL OR lease_until < $1)) \
                 ORDER BY created_at LIMIT $2",
                &[&now, &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        Ok(rows.iter().map(|r| r.get::<_, Uuid>(0).into()).collect())
    }

    async fn old_jobs(&self, before: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobRow>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('done', 'failed') \
                     AND finished_at < $1 ORDER BY finished_at LIMIT $2"
                ),
                &[&before, &(limit as i64)],
            )
            .await
            .map_err(pg)?;
        rows.iter().map(job_from).collect()
    }

    async fn delete_jobs(&self, ids: &[JobId]) -> StoreResult<()> {
        let ids: Vec<Uuid> = ids.iter().map(JobId::as_uuid).collect();
        write_tx!(self, |tx| {
            tx.execute("DELETE FROM jobs WHERE id = ANY($1)", &[&ids])
                .await
                .map_err(pg)?;
            Ok(())
        })
    }
}

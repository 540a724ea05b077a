//! SQLite: background jobs.

use super::*;

const JOB_COLUMNS: &str = "id, household_id, user_id, kind, status, params, input_key, output_key, \
     output_name, output_type, done, total, result, error_code, error_message, attempts, \
     lease_until, created_at, finished_at";

fn job_from(r: &Row<'_>) -> rusqlite::Result<JobRow> {
    let kind: String = r.get(3)?;
    let status: String = r.get(4)?;
    Ok(JobRow {
        id: uuid_of(r.get(0)?)?.into(),
        household_id: uuid_of(r.get(1)?)?.into(),
        user_id: uuid_of(r.get(2)?)?.into(),
        kind: JobKind::parse(&kind).ok_or_else(|| conversion(format!("job kind {kind:?}")))?,
        status: JobStatus::parse(&status)
            .ok_or_else(|| conversion(format!("job status {status:?}")))?,
        params: r.get(5)?,
        input_key: r.get(6)?,
        output_key: r.get(7)?,
        output_name: r.get(8)?,
        output_type: r.get(9)?,
        done: r.get(10)?,
        total: r.get(11)?,
        result: r.get(12)?,
        error_code: r.get(13)?,
        error_message: r.get(14)?,
        attempts: r.get(15)?,
        lease_until: r.get::<_, Option<i64>>(16)?.map(from_micros).transpose()?,
        created_at: from_micros(r.get(17)?)?,
        finished_at: r.get::<_, Option<i64>>(18)?.map(from_micros).transpose()?,
    })
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn insert_job(&self, job: &JobRow) -> StoreResult<()> {
        let j = job.clone();
        self.write(move |tx| {
            tx.execute(
                &format!(
                    "INSERT INTO jobs ({JOB_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, \
                     ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)"
                ),
                params![
                    j.id.to_string(),
                    j.household_id.to_string(),
                    j.user_id.to_string(),
                    j.kind.as_str(),
                    j.status.as_str(),
                    j.params,
                    j.input_key,
                    j.output_key,
                    j.output_name,
                    j.output_type,
                    j.done,
                    j.total,
                    j.result,
                    j.error_code,
                    j.error_message,
                    j.attempts,
                    j.lease_until.map(micros),
                    micros(j.created_at),
                    j.finished_at.map(micros),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn job(&self, household: HouseholdId, id: JobId) -> StoreResult<Option<JobRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE household_id = ?1 AND id = ?2"
            ))
            .map_err(db)?
            .query_row([household.to_string(), id.to_string()], job_from)
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn jobs_of(
        &self,
        household: HouseholdId,
        user: UserId,
        limit: usize,
    ) -> StoreResult<Vec<JobRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE household_id = ?1 AND user_id = ?2 \
                 ORDER BY created_at DESC, id DESC LIMIT ?3"
            ))
            .map_err(db)?
            .query_map(
                params![household.to_string(), user.to_string(), limit as i64],
                job_from,
            )
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
        })
        .await
    }

    async fn claim_job(
        &self,
        id: JobId,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> StoreResult<Option<JobRow>> {
        self.write(move |tx| {
            tx.prepare_cached(&format!(
                "UPDATE jobs SET status = 'running', attempts = attempts + 1, lease_until = ?2 \
                 WHERE id = ?1 AND (status = 'queued' \
                 OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?3))) \
                 RETURNING {JOB_COLUMNS}"
            ))
            .map_err(db)?
            .query_row(
                params![id.to_string(), micros(lease_until), micros(now)],
                job_from,
            )
            .optional()
            .map_err(db)
        })
        .await
    }

    async fn job_progress(
        &self,
        id: JobId,
        done: i64,
        total: i64,
        lease_until: OffsetDateTime,
    ) -> StoreResult<()> {
        self.write(move |tx| {
            tx.execute(
                "UPDATE jobs SET done = ?2, total = ?3, lease_until = ?4 \
                 WHERE id = ?1 AND status = 'running'",
                params![id.to_string(), done, total, micros(lease_until)],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn finish_job(&self, id: JobId, outcome: &JobOutcome) -> StoreResult<()> {
        let o = outcome.clone();
        self.write(move |tx| {
            tx.execute(
                "UPDATE jobs SET status = ?2, done = ?3, total = ?4, result = ?5, error_code = ?6, \
                 error_message = ?7, output_key = ?8, output_name = ?9, output_type = ?10, \
                 finished_at = ?11, lease_until = NULL WHERE id = ?1",
                params![
                    id.to_string(),
                    o.status.as_str(),
                    o.done,
                    o.total,
                    o.result,
                    o.error_code,
                    o.error_message,
                    o.output_key,
                    o.output_name,
                    o.output_type,
                    micros(o.finished_at),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
        .await
    }

    async fn unfinished_jobs(&self, now: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobId>> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT id FROM jobs WHERE status = 'queued' \
                 OR (status = 'running' AND (lease_until IS NULL OR lease_until < ?1)) \
                 ORDER BY created_at LIMIT ?2",
            )
            .map_err(db)?
            .query_map(params![micros(now), limit as i64], |r| {
                Ok(JobId::from(uuid_of(r.get(0)?)?))
            })
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
        })
        .await
    }

    async fn old_jobs(&self, before: OffsetDateTime, limit: usize) -> StoreResult<Vec<JobRow>> {
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {JOB_COLUMNS} FROM jobs WHERE status IN ('done', 'failed') \
                 AND finished_at < ?1 ORDER BY finished_at LIMIT ?2"
            ))
            .map_err(db)?
            .query_map(params![micros(before), limit as i64], job_from)
            .map_err(db)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db)
        })
        .await
    }

    async fn delete_jobs(&self, ids: &[JobId]) -> StoreResult<()> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.write(move |tx| {
            let mut stmt = tx
                .prepare_cached("DELETE FROM jobs WHERE id = ?1")
                .map_err(db)?;
            for id in &ids {
                stmt.execute([id]).map_err(db)?;
            }
            Ok(())
        })
        .await
    }
}

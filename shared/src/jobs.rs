//! Background jobs: long work (imports, exports, backups, restores) that continues outside
//! the request that started it. The request answers 202 with a [`Job`]; the client asks
//! `GET …/jobs/{id}` until it is `done` or `failed`.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ids::JobId;

/// What a job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Items as a Homebox-compatible CSV file.
    ExportCsv,
    /// The whole household as a zip: records and every attachment's file.
    Backup,
    /// Items from a CSV (ours, Homebox's, or made by hand).
    ImportCsv,
    /// A backup zip, into an empty household.
    Restore,
    /// The insurance report (PDF) of the items a filter picks.
    InsuranceReport,
    /// A zip for an insurance claim: the report of chosen items, their files, a manifest.
    ClaimPack,
    /// One change to many items (`POST …/items/bulk`).
    BulkEdit,
}

impl JobKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExportCsv => "export_csv",
            Self::Backup => "backup",
            Self::ImportCsv => "import_csv",
            Self::Restore => "restore",
            Self::InsuranceReport => "insurance_report",
            Self::ClaimPack => "claim_pack",
            Self::BulkEdit => "bulk_edit",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::ExportCsv,
            Self::Backup,
            Self::ImportCsv,
            Self::Restore,
            Self::InsuranceReport,
            Self::ClaimPack,
            Self::BulkEdit,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    Running,
    Done,
    Failed,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Done, Self::Failed]
            .into_iter()
            .find(|k| k.as_str() == raw)
    }

    /// Whether the job has stopped for good.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// How far a job has come: `done` of `total` units (rows, items or bytes; `total` is 0
/// until known).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobProgress {
    pub done: u64,
    pub total: u64,
}

/// Why a job failed, in the error body's terms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobError {
    pub code: String,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: JobId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub progress: JobProgress,
    /// What a finished job produced: an import's report, an export's counts.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub result: Option<serde_json::Value>,
    pub error: Option<JobError>,
    /// A short-lived address of the job's file (an export, a backup); no cookie needed.
    pub download_url: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
}

/// The answer of an endpoint that starts a job: 202 `{"job": Job}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobStarted {
    pub job: Job,
}

/// `POST …/exports`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartExport {
    pub format: ExportFormat,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<crate::ids::LocationId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    #[default]
    Csv,
    Backup,
}

/// What happens to one row of an import.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    Create,
    Update,
    Unchanged,
    Refuse,
}

/// One row of an import's report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRowReport {
    /// The line of the file the row starts on (1 is the header).
    pub line: u64,
    pub action: RowAction,
    pub name: String,
    /// Why a row is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A refused row: its line and the reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportError {
    pub line: u64,
    pub message: String,
}

/// The `result` of an import job, dry run or not.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportResult {
    pub dry_run: bool,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub refused: u64,
    /// Every refused row (the first 1,000).
    pub errors: Vec<ImportError>,
    /// Row by row, the first 1,000 rows.
    #[serde(default)]
    pub rows: Vec<ImportRowReport>,
    /// Locations the import makes (paths joined by " / "), the first 1,000.
    #[serde(default)]
    pub new_locations: Vec<String>,
}

/// Rows and errors listed in an [`ImportResult`] at most.
pub const MAX_REPORTED_ROWS: usize = 1_000;

/// `POST …/imports` with a JSON body instead of the file: the file is one uploaded before
/// (`upload_id`, from `POST …/imports/uploads`), or the one a dry run read (`from_job`), so
/// confirming a dry run doesn't send the file again.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_job: Option<JobId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_id: Option<uuid::Uuid>,
    /// The uploaded file's type: `text/csv`, `text/tab-separated-values` or
    /// `application/zip`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// `POST …/imports/uploads`: announces a file larger than a request body may be.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnnounceImport {
    /// `text/csv`, `text/tab-separated-values` or `application/zip` (a backup).
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = "^(text/csv|text/tab-separated-values|text/plain|application/csv|application/vnd\\.ms-excel|application/zip|application/x-zip-compressed)$"
        )
    )]
    pub content_type: String,
    /// Bytes: 1 to 20 GiB.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 21_474_836_480_u64))]
    #[serde(deserialize_with = "whole_bytes")]
    pub size: u64,
}

/// A count of bytes: a whole number, written as an integer or as a float like `12.0`.
fn whole_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = crate::values::whole::required(d)?;
    u64::try_from(n).map_err(|_| serde::de::Error::custom("must be 0 or more"))
}

/// Where to upload an announced import file, and the id to start the import with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportUpload {
    pub upload_id: uuid::Uuid,
    pub upload: crate::attachment::UploadTarget,
}

/// Bytes an import may send as the request body; larger files are announced and uploaded.
pub const MAX_IMPORT_BODY_BYTES: usize = 5 * 1024 * 1024;
/// The largest file an import takes (a backup with every photo).
pub const MAX_IMPORT_BYTES: u64 = 20 * 1024 * 1024 * 1024;

/// `POST …/reports/insurance`: which live items the report covers (all when no filter).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartInsuranceReport {
    /// Items in this location and every location inside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<crate::ids::LocationId>,
    /// Items with this tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Items worth at least this much apiece, in minor units: the estimated value, or the
    /// purchase price where there is no estimate. Items with neither are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 0))]
    pub min_value_minor: Option<i64>,
}

/// `POST …/reports/claim-pack`: the items of a claim.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartClaimPack {
    /// 1 to 10,000 items of the household (repeats count once).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 10000))]
    pub item_ids: Vec<crate::ids::ItemId>,
}

/// Items a claim pack may hold.
pub const MAX_CLAIM_PACK_ITEMS: usize = 10_000;

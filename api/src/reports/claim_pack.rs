//! The claim pack: one zip for an insurer's adjuster, holding
//!
//! - `files/<item>/<file name>`: the original of every photo and document of the chosen
//!   items, streamed from the attachment store and stored as they are (not recompressed);
//!   `<item>` is the item's name made safe for a file system, with the end of its id;
//! - `report.pdf`: the insurance report of exactly these items, ending with a printed list
//!   of the files above with their sizes and SHA-256s (it can't hold its own);
//! - `manifest.json`: the household, when it was made, the items, and every other entry
//!   (`report.pdf` included) with its size and SHA-256;
//! - `manifest.sha256`: the SHA-256 of `manifest.json`, as `sha256sum -c` reads it.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read as _, Write as _};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest as _, Sha256};
use shared::{Day, HouseholdId, ItemId, Money};
use time::OffsetDateTime;
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

use super::insurance::write_pdf;
use super::{Report, Worker};
use crate::blob::{DynBlobs, keys};
use crate::portability::PortError;
use crate::portability::backup::check::hex;
use crate::portability::backup::records::{Entry, safe_file_name};
use crate::portability::backup::write::{copy_file, zip_time};

/// The manifest's `format`.
pub const FORMAT: &str = "home-inventory-claim-pack";
pub const VERSION: u32 = 1;
const COPY_BUFFER: usize = 256 << 10;

/// What a claim pack holds: the job's `result`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ClaimSummary {
    pub items: u64,
    /// Photos and documents copied.
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Files whose bytes were gone from the attachment store.
    pub missing_files: u64,
    pub report_pages: u64,
}

#[derive(Serialize)]
struct Manifest<'a> {
    format: &'static str,
    version: u32,
    app_version: &'static str,
    household: Household<'a>,
    #[serde(with = "time::serde::rfc3339")]
    generated_at: OffsetDateTime,
    items: Vec<ClaimItem<'a>>,
    files: Vec<Entry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing_files: Vec<Missing>,
}

#[derive(Serialize)]
struct Household<'a> {
    name: &'a str,
    currency: &'a str,
}

#[derive(Serialize)]
struct ClaimItem<'a> {
    id: ItemId,
    name: &'a str,
    location: &'a str,
    quantity: i64,
    brand: Option<&'a str>,
    model: Option<&'a str>,
    serial_number: Option<&'a str>,
    purchase_date: Option<Day>,
    purchased_from: Option<&'a str>,
    purchase_price: Option<&'a Money>,
    estimated_value: Option<&'a Money>,
    warranty_expires: Option<Day>,
    /// Paths of its files in this zip.
    files: Vec<String>,
}

#[derive(Serialize)]
struct Missing {
    item_id: ItemId,
    filename: String,
}

/// Writes the claim pack of `report`'s items to a new zip at `out`; nothing is left there
/// on failure.
pub fn write(
    worker: &Worker,
    blobs: &DynBlobs,
    hid: HouseholdId,
    report: &Report,
    out: &Path,
) -> Result<ClaimSummary, PortError> {
    let pdf = out.with_extension("report.pdf");
    let written = write_zip(worker, blobs, hid, report, out, &pdf);
    let _ = std::fs::remove_file(&pdf);
    if written.is_err() {
        let _ = std::fs::remove_file(out);
    }
    written
}

fn write_zip(
    worker: &Worker,
    blobs: &DynBlobs,
    hid: HouseholdId,
    report: &Report,
    out: &Path,
    pdf: &Path,
) -> Result<ClaimSummary, PortError> {
    let stamp = zip_time(report.generated_at);
    let stored = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(stamp);
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(stamp);
    let mut zip =
        ZipWriter::new(BufWriter::with_capacity(1 << 20, File::create(out)?)).set_auto_large_file();
    let zip_error = |e: zip::result::ZipError| {
        PortError::Internal(anyhow::Error::new(e).context("writing the claim pack"))
    };
    let mut summary = ClaimSummary::default();
    let mut entries = Vec::new();
    let mut items = Vec::new();
    let mut missing = Vec::new();
    let mut buffer = vec![0u8; COPY_BUFFER];
    let mut folders = HashSet::new();
    for (section, item) in report
        .sections
        .iter()
        .flat_map(|s| s.items.iter().map(move |i| (s, i)))
    {
        worker.check_stop()?;
        let folder = unique(
            &mut folders,
            item_folder(&item.row.fields.name, item.row.id),
        );
        let mut names = HashSet::new();
        let mut paths = Vec::new();
        for (id, filename) in &item.files {
            let path = format!(
                "files/{folder}/{}",
                unique(&mut names, safe_file_name(filename))
            );
            let key = keys::file(hid, *id);
            match copy_file(worker, blobs, &mut zip, &key, &path, stored, &mut buffer)? {
                Some(entry) => {
                    summary.files += 1;
                    summary.bytes += entry.size;
                    paths.push(entry.path.clone());
                    entries.push(entry);
                }
                None => {
                    tracing::warn!(attachment = %id, "an attachment's file is missing; left out of the claim pack");
                    missing.push(Missing {
                        item_id: item.row.id,
                        filename: filename.clone(),
                    });
                }
            }
        }
        let f = &item.row.fields;
        items.push(ClaimItem {
            id: item.row.id,
            name: &f.name,
            location: &section.path,
            quantity: f.quantity,
            brand: f.brand.as_deref(),
            model: f.model.as_deref(),
            serial_number: f.serial_number.as_deref(),
            purchase_date: f.purchase_date,
            purchased_from: f.purchased_from.as_deref(),
            purchase_price: f.purchase_price.as_ref(),
            estimated_value: f.estimated_value.as_ref(),
            warranty_expires: f.warranty_expires,
            files: paths,
        });
        summary.items += 1;
        worker.progress.add(1);
    }
    summary.missing_files = missing.len() as u64;

    // The report lists the files copied so far; the manifest lists the report too.
    let drawn = write_pdf(worker, blobs, hid, report, Some(&entries), pdf)?;
    summary.report_pages = drawn.pages as u64;
    zip.start_file("report.pdf", stored).map_err(zip_error)?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut file = File::open(pdf)?;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        zip.write_all(&buffer[..n])?;
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    entries.push(Entry {
        path: "report.pdf".into(),
        sha256: hex(&hasher.finalize()),
        size,
    });

    let manifest = Manifest {
        format: FORMAT,
        version: VERSION,
        app_version: env!("CARGO_PKG_VERSION"),
        household: Household {
            name: &report.household,
            currency: report.currency.as_str(),
        },
        generated_at: report.generated_at,
        items,
        files: entries,
        missing_files: missing,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(anyhow::Error::from)?;
    zip.start_file("manifest.json", deflated)
        .map_err(zip_error)?;
    zip.write_all(&json)?;
    zip.start_file("manifest.sha256", deflated)
        .map_err(zip_error)?;
    writeln!(zip, "{}  manifest.json", hex(&Sha256::digest(&json)))?;
    let file = zip
        .finish()
        .map_err(zip_error)?
        .into_inner()
        .map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(summary)
}

/// An item's folder: its name made safe (at most 60 characters) and the end of its id,
/// which is random where the start is a time.
fn item_folder(name: &str, id: ItemId) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .take(60)
        .collect();
    let cleaned = cleaned.trim().trim_matches(['.', ' ']);
    let id = id.to_string();
    let tail = &id[id.len().saturating_sub(8)..];
    if cleaned.is_empty() {
        format!("item-{tail}")
    } else {
        format!("{cleaned}-{tail}")
    }
}

/// `name`, or `2-name`, `3-name`… when it is taken.
fn unique(taken: &mut HashSet<String>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.to_lowercase()) {
        candidate = format!("{n}-{name}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_and_names_are_safe_and_never_collide() {
        let id: ItemId = "0193a8f0-0000-7000-8000-00000000abcd".parse().unwrap();
        assert_eq!(
            item_folder("Bosch: drill / 18V", id),
            "Bosch_ drill _ 18V-0000abcd"
        );
        assert_eq!(item_folder("...", id), "item-0000abcd");
        let mut taken = HashSet::new();
        assert_eq!(unique(&mut taken, "a.jpg".into()), "a.jpg");
        assert_eq!(unique(&mut taken, "A.jpg".into()), "2-A.jpg");
        assert_eq!(unique(&mut taken, "a.jpg".into()), "3-a.jpg");
    }
}

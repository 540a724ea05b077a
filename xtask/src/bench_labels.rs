//! The labels part of `cargo xtask bench`: drawing a sheet of 30 labels (avery-5160) alone,
//! without HTTP or a database (`hi-bench labels`), and the real `POST …/labels` for 30 of
//! the seeded household's items, through the server.

use std::time::Instant;

use crate::Result;
use crate::bench::{Server, hi_bench};

/// Labels on one avery-5160 sheet.
const SHEET: usize = 30;
/// Times each is measured.
const RUNS: usize = 20;
/// What drawing a sheet should stay under.
const GOAL_MS: f64 = 200.0;

/// Drawing the sheet alone: one line for the report.
pub(crate) fn render_alone() -> Result<String> {
    let out = hi_bench("", &["labels", &SHEET.to_string(), &RUNS.to_string()])?;
    let parts: Vec<f64> = out
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    let [median, max, bytes] = parts[..] else {
        return Err(format!("unexpected hi-bench labels output: {out}"));
    };
    println!(
        "drawing {SHEET} labels (avery-5160): median {median:.1} ms, max {max:.1} ms of {RUNS}, \
         {:.0} KB",
        bytes / 1024.0
    );
    if median > GOAL_MS {
        println!("  over the {GOAL_MS:.0} ms goal");
    }
    Ok(format!(
        "- drawing a sheet of {SHEET} labels (avery-5160: QR codes, names, asset ids, \
         location paths) without HTTP or a database: median {median:.1} ms, longest \
         {max:.1} ms of {RUNS} (goal: under {GOAL_MS:.0} ms); the PDF is {:.0} KB",
        bytes / 1024.0
    ))
}

/// `POST …/labels` for the first `SHEET` items of the list, `RUNS` times after one to warm
/// up: one row of the jobs table (the median, the longest in brackets).
pub(crate) fn print_sheet(
    server: &Server,
    cookie: &str,
    base: &str,
    backend: &str,
) -> Result<String> {
    let (status, _, page) = server.http(
        "GET",
        &format!("{base}/items?limit={SHEET}"),
        Some(cookie),
        "",
    )?;
    if status != 200 {
        return Err(format!("listing items to label: {status} {page}"));
    }
    // An item's object starts with its id, then its household's (a location on its path
    // and its photo have ids too, followed by other fields).
    let ids: Vec<&str> = page
        .split(r#"{"id":""#)
        .skip(1)
        .filter_map(|rest| rest.split_once(r#"","household_id""#).map(|(id, _)| id))
        .take(SHEET)
        .collect();
    if ids.len() < SHEET {
        return Err(format!("fewer than {SHEET} items to label in {page}"));
    }
    let body = format!(
        r#"{{"template":"avery-5160","item_ids":["{}"]}}"#,
        ids.join(r#"",""#)
    );
    let path = format!("{base}/labels");
    let post = || -> Result<u64> {
        let (status, head, text) = server.http("POST", &path, Some(cookie), &body)?;
        if status != 200 {
            return Err(format!("POST …/labels: {status} {text}"));
        }
        head.lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length: ")
                    .map(str::to_string)
            })
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| format!("no Content-Length in {head}"))
    };
    post()?;
    server.reset_peak();
    let before = server.rss_mib("VmRSS:");
    let mut times = Vec::with_capacity(RUNS);
    let mut bytes = 0;
    for _ in 0..RUNS {
        let started = Instant::now();
        bytes = post()?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let peak = server.peak_rss_mib();
    times.sort_by(f64::total_cmp);
    let (median, max) = (times[RUNS / 2], times[RUNS - 1]);
    println!(
        "labels, {} items      median {median:6.1} ms  max {max:6.1} ms  before {before:6.0} MiB  \
         peak {peak:6.0} MiB  {:.0} KB",
        ids.len(),
        bytes as f64 / 1024.0
    );
    Ok(format!(
        "| {backend} | labels: `POST …/labels`, {} items on avery-5160, median of {RUNS} \
         (longest) | {median:.0} ms ({max:.0} ms) | {before:.0} MiB | {peak:.0} MiB | {:.0} KB |",
        ids.len(),
        bytes as f64 / 1024.0
    ))
}

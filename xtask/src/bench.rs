//! `cargo xtask bench`: seeds one household with 100,000 items in 500 locations, then
//! measures the API under concurrent load from `wrk` on loopback, on SQLite and on
//! PostgreSQL, next to the same store calls made without HTTP. Writes target/bench/api.md.
//!
//! On PostgreSQL it then measures the hot path (`hot_path.rs`): database round trips per
//! request and latency under load with 2 ms added to each round trip (the database reached
//! through a delaying proxy), the first search after a cold start, and get-one-item next
//! to a bare axum handler. `--hot-path-only` seeds PostgreSQL and measures just that,
//! putting its section into an existing api.md. `--requests-only` measures the requests,
//! the hot path and the bulk move with the searches right after it, and skips the jobs,
//! the report, the photo check and the offline copy. Labels (`bench_labels.rs`): a sheet
//! of 30 drawn without HTTP or a database, and `POST …/labels` for 30 seeded items;
//! `--labels-only` measures just those.
//!
//! Requests carry the session cookie, except the rows marked "(API token)", which carry
//! `Authorization: Bearer` with a read token. The server's per-token rate limit is raised
//! out of the way for the run (`API_TOKEN_RATE`), so those rows measure what checking a
//! token costs, not the limit.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{fresh_database, psql};
use crate::{Result, cargo, exec, root};

pub(crate) const CONNECTIONS: u32 = 16;
pub(crate) const SECONDS: u32 = 10;
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "benchmark password";

struct Row {
    backend: &'static str,
    scenario: &'static str,
    p50: f64,
    p95: f64,
    p99: f64,
    rps: f64,
    errors: u64,
    store: Option<(f64, f64, f64)>,
}

pub fn bench(args: &[String]) -> Result {
    let items: usize = option(args, "--items").unwrap_or(100_000);
    // Only the bulk move, on a seeded household: for measuring that alone.
    let bulk_only = args.iter().any(|a| a == "--bulk-only");
    // Only the insurance report: for measuring that alone.
    let report_only = args.iter().any(|a| a == "--report-only");
    // Only the labels: a sheet drawn alone, and `POST …/labels` on the seeded household.
    let labels_only = args.iter().any(|a| a == "--labels-only");
    // Only the hot path, on PostgreSQL: for measuring that alone.
    let hot_path_only = args.iter().any(|a| a == "--hot-path-only");
    let requests_only = args.iter().any(|a| a == "--requests-only");
    let locations: usize = option(args, "--locations").unwrap_or(500);
    // wrk measures the request scenarios, which the single measurements skip.
    if !bulk_only && !report_only && !labels_only {
        ensure_wrk()?;
    }
    exec(cargo().args(["build", "--release", "-p", "api", "--bins"]))?;
    let out = root().join("target/bench");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    let mut memory = Vec::new();
    let mut seeding = Vec::new();
    let mut transfers: Vec<String> = Vec::new();
    let mut hot_path = None;
    let mut backends: Vec<(&'static str, String)> = Vec::new();
    if !hot_path_only {
        let sqlite = format!("sqlite:{}", out.join("bench.db").display());
        backends.push(("SQLite", sqlite));
        let _ = std::fs::remove_file(out.join("bench.db"));
    }
    let pg_admin = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    if TcpStream::connect("127.0.0.1:5432").is_ok()
        || std::env::var_os("TEST_DATABASE_URL").is_some()
    {
        backends.push(("PostgreSQL", fresh_database(&pg_admin, "hi_bench")?));
    } else if hot_path_only {
        return Err("the hot path is measured on PostgreSQL, which does not answer".into());
    } else {
        println!("PostgreSQL does not answer on 127.0.0.1:5432: measuring SQLite only");
    }
    for (backend, url) in backends {
        println!("\n==== {backend}: seeding {items} items in {locations} locations");
        let server = Server::start(&url, &out)?;
        let cookie = server.register()?;
        let token = server.make_token(&cookie)?;
        let with_cookie = ("Cookie", cookie.as_str());
        let bearer = format!("Bearer {token}");
        let with_token = ("Authorization", bearer.as_str());
        let started = Instant::now();
        let seeded = hi_bench(
            &url,
            &["seed", EMAIL, &items.to_string(), &locations.to_string()],
        )?;
        seeding.push((backend, started.elapsed()));
        if url.starts_with("postgres") {
            // Fresh planner statistics, as autovacuum would have them after a bulk load.
            psql(&url, "ANALYZE")?;
        }
        let value = |key: &str| {
            seeded
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{key}=")))
                .unwrap_or_default()
                .to_string()
        };
        let base = format!("/api/v1/households/{}", value("household"));
        let (item, search) = (value("item"), value("search"));
        let hot = crate::hot_path::Target {
            url: &url,
            out: &out,
            cookie: &cookie,
            base: &base,
            item: &item,
            search: &search,
        };
        if hot_path_only {
            println!("\n==== {backend}: hot path");
            hot_path = Some(crate::hot_path::hot_path(&server, &hot)?);
            server.stop();
            continue;
        }
        if report_only {
            println!("\n==== {backend}: insurance report");
            transfers.push(insurance_report(&server, &out, backend)?);
            server.stop();
            continue;
        }
        if labels_only {
            println!("\n==== {backend}: labels");
            transfers.push(crate::bench_labels::print_sheet(
                &server, &cookie, &base, backend,
            )?);
            server.stop();
            continue;
        }
        if bulk_only {
            println!("\n==== {backend}: bulk move");
            transfers.push(bulk_move(&server, &cookie, &base, &value("room"), backend)?);
            transfers.push(search_after(
                &server,
                &cookie,
                &base,
                &value("search"),
                backend,
            )?);
            server.stop();
            continue;
        }
        // (row, store call to compare with, path, body, credential header)
        type Scenario<'a> = (
            &'static str,
            &'static str,
            String,
            String,
            (&'a str, &'a str),
        );
        let scenarios: Vec<Scenario<'_>> = vec![
            (
                "get one item",
                "get",
                format!("{base}/items/{}", value("item")),
                String::new(),
                with_cookie,
            ),
            (
                "get one item (API token)",
                "get",
                format!("{base}/items/{}", value("item")),
                String::new(),
                with_token,
            ),
            (
                "list the first page",
                "list",
                format!("{base}/items?limit=50"),
                String::new(),
                with_cookie,
            ),
            (
                "substring search",
                "search",
                format!("{base}/items?q={}", value("search")),
                String::new(),
                with_cookie,
            ),
            (
                "location subtree",
                "location",
                format!("{base}/items?location_id={}", value("room")),
                String::new(),
                with_cookie,
            ),
            (
                "create an item",
                "create",
                format!("{base}/items"),
                r#"{"name":"Benchmark lamp","tags":["bench"]}"#.into(),
                with_cookie,
            ),
        ];
        let direct = hi_bench(&url, &["store-latency", EMAIL, "200"])?;
        for (scenario, key, path, body, credential) in scenarios {
            let (p50, p95, p99, rps, errors) = server.wrk(&out, credential, &path, &body)?;
            let store = direct.lines().find_map(|l| {
                let parts: Vec<&str> = l.split_whitespace().collect();
                (parts.first() == Some(&key) && parts.len() == 4).then(|| {
                    let ms = |s: &str| s.parse::<f64>().unwrap_or(0.0) / 1000.0;
                    (ms(parts[1]), ms(parts[2]), ms(parts[3]))
                })
            });
            println!(
                "{scenario:26} p50 {p50:7.2} ms  p95 {p95:7.2} ms  p99 {p99:7.2} ms  {rps:8.0} req/s  errors {errors}"
            );
            rows.push(Row {
                backend,
                scenario,
                p50,
                p95,
                p99,
                rps,
                errors,
                store,
            });
        }
        memory.push((backend, server.peak_rss_mib()));
        if url.starts_with("postgres") {
            println!("\n==== {backend}: hot path");
            hot_path = Some(crate::hot_path::hot_path(&server, &hot)?);
        }
        if !requests_only {
            println!("\n==== {backend}: export, import and backup");
            transfers.extend(portability(&server, &cookie, &base, &out, backend)?);
        }
        println!("\n==== {backend}: bulk move");
        let moved = bulk_move(&server, &cookie, &base, &value("room"), backend)?;
        transfers.push(moved);
        transfers.push(search_after(
            &server,
            &cookie,
            &base,
            &value("search"),
            backend,
        )?);
        println!("\n==== {backend}: labels");
        transfers.push(crate::bench_labels::print_sheet(
            &server, &cookie, &base, backend,
        )?);
        if !requests_only {
            println!("\n==== {backend}: insurance report");
            transfers.push(insurance_report(&server, &out, backend)?);
        }
        server.stop();
    }
    if hot_path_only {
        return crate::hot_path::write_into(&out.join("api.md"), &hot_path.unwrap_or_default());
    }
    println!("\n==== checking a 12-megapixel photo");
    let media = if bulk_only || report_only || requests_only || labels_only {
        String::new()
    } else {
        hi_bench("", &["media"])?
    };
    let labels = if bulk_only || report_only {
        None
    } else {
        println!("\n==== drawing a sheet of labels");
        Some(crate::bench_labels::render_alone()?)
    };
    let mut report = render(&rows, &memory, &seeding, items, locations);
    let _ = writeln!(
        report,
        "\n## Export and import\n\nBackground jobs on the seeded household: the time from the \
         request to the job being done, the server's resident memory when the job was asked \
         for (its search index of the household included) and its peak during the job. The \
         import reads the export into a new household (announced and uploaded); the backups \
         are of a household of 256 items with a 4 MiB photo each, and of the seeded one, whose \
         photo records have no files. The bulk move sets the location of 10,000 of the \
         seeded items, picked by id, in one bulk edit (a job; ids read from the item list \
         beforehand). The insurance report is of a household of 1,000 items with a photo \
         each (its thumbnail, about 40 KB, embedded as it is). The labels are a sheet of 30 of the \
         seeded items, asked for one request after another.\n\n| backend | job | time | memory before | peak | size |\n|---|---|---:|---:|---:|---:|"
    );
    for line in &transfers {
        let _ = writeln!(report, "{line}");
    }
    if let Some(line) = &labels {
        let _ = writeln!(report, "\n## Labels\n\n{line}");
    }
    if !bulk_only
        && !report_only
        && !requests_only
        && !labels_only
        && !args.iter().any(|a| a == "--no-offline")
    {
        println!("\n==== the offline copy in Chromium");
        let table = offline_bench(&[10_000, items.max(10_000)])?;
        let _ = writeln!(
            report,
            "\n## The offline copy in Chromium\n\nFirst download after signing in, what \
             IndexedDB then holds, the page's memory, the longest the page stopped answering \
             while downloading, a search of the whole copy with the network off, and catching \
             up after 100 changes made elsewhere (`web/e2e/offline_bench.mjs`, SQLite).\n\n{table}"
        );
    }
    for line in media.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        match parts.as_slice() {
            [label, ms, mb] => {
                let _ = writeln!(
                    report,
                    "- completing a 12-megapixel JPEG ({mb} MB, {label}): {ms} ms \
                     (type check, decode, metadata removed, 480 px thumbnail)"
                );
            }
            ["peak", mib] => {
                let _ = writeln!(report, "- peak memory while checking it: {mib} MiB");
            }
            _ => {}
        }
    }
    if let Some(section) = &hot_path {
        report.push_str(section);
    }
    println!("\n{report}");
    let path = out.join("api.md");
    std::fs::write(&path, &report).map_err(|e| e.to_string())?;
    println!("written to {}", path.display());
    if rows.iter().any(|r| r.errors > 0) {
        return Err("some requests failed during the benchmark".into());
    }
    Ok(())
}

/// Runs `web/e2e/offline_bench.mjs` against a release build of the app and the server;
/// answers its Markdown table.
fn offline_bench(sizes: &[usize]) -> Result<String> {
    let dist = crate::web(true)?;
    let e2e = root().join("web/e2e");
    crate::tools::npm_ci(&e2e)?;
    let chromium = crate::tools::ensure_chromium()?;
    let mut args = vec!["offline_bench.mjs".to_string()];
    args.extend(sizes.iter().map(ToString::to_string));
    let output = Command::new("node")
        .current_dir(&e2e)
        .args(&args)
        .env("HI_BIN", release_bin("home-inventory-backend"))
        .env("HI_BENCH", release_bin("hi-bench"))
        .env("HI_STATIC_DIR", dist)
        .env("CHROMIUM", chromium)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("node: {e}"))?;
    let table = String::from_utf8_lossy(&output.stdout).to_string();
    print!("{table}");
    if !output.status.success() {
        return Err("the offline benchmark failed".into());
    }
    Ok(table)
}

/// The first `"key":"value"` (or number) in a JSON text.
fn field(json: &str, key: &str) -> Option<String> {
    let rest = json.split_once(&format!("\"{key}\":"))?.1;
    let value = rest.trim_start();
    if let Some(text) = value.strip_prefix('"') {
        text.split('"').next().map(str::to_string)
    } else {
        Some(
            value
                .chars()
                .take_while(|c| c.is_ascii_digit())
                .collect::<String>(),
        )
    }
}

/// Exports the household as CSV, imports that file into a new household, and backs the
/// household up; one table row each.
fn portability(
    server: &Server,
    cookie: &str,
    base: &str,
    out: &Path,
    backend: &str,
) -> Result<Vec<String>> {
    let mut rows = Vec::new();
    let mut timed = |label: &str, f: &mut dyn FnMut() -> Result<String>| -> Result<String> {
        server.reset_peak();
        let before = server.rss_mib("VmRSS:");
        let started = Instant::now();
        let job = f()?;
        let took = started.elapsed().as_secs_f64();
        let peak = server.peak_rss_mib();
        let bytes = field(&job, "bytes")
            .and_then(|b| b.parse::<f64>().ok())
            .map(|b| format!("{:.1} MiB", b / 1_048_576.0))
            .unwrap_or_else(|| "–".into());
        println!("{label:20} {took:7.1} s  before {before:6.0} MiB  peak {peak:6.0} MiB  {bytes}");
        rows.push(format!(
            "| {backend} | {label} | {took:.1} s | {before:.0} MiB | {peak:.0} MiB | {bytes} |"
        ));
        Ok(job)
    };
    let export = timed("CSV export", &mut || {
        let (_, _, started) = server.http(
            "POST",
            &format!("{base}/exports"),
            Some(cookie),
            r#"{"format":"csv"}"#,
        )?;
        server.job(cookie, base, &started)
    })?;
    let job_id = field(&export, "id").unwrap_or_default();
    let household = base.rsplit('/').next().unwrap_or_default();
    let csv = std::fs::read_to_string(
        out.join("data/attachments/jobs")
            .join(household)
            .join(&job_id)
            .join("home-inventory.csv"),
    )
    .map_err(|e| format!("reading the export: {e}"))?;
    let (_, _, made) = server.http(
        "POST",
        "/api/v1/households",
        Some(cookie),
        r#"{"name":"Imported","currency":"USD"}"#,
    )?;
    let target = format!(
        "/api/v1/households/{}",
        field(&made, "id").ok_or_else(|| format!("no household in {made}"))?
    );
    timed("CSV import", &mut || {
        let body = format!(r#"{{"content_type":"text/csv","size":{}}}"#, csv.len());
        let (_, _, announced) = server.http(
            "POST",
            &format!("{target}/imports/uploads"),
            Some(cookie),
            &body,
        )?;
        let upload = field(&announced, "upload_id").ok_or_else(|| announced.clone())?;
        let url = field(&announced, "url").ok_or_else(|| announced.clone())?;
        let path = url
            .split_once("/api/")
            .map(|(_, p)| format!("/api/{p}"))
            .unwrap_or(url);
        let (status, _, text) =
            server.http_as("PUT", &path.replace("\\u0026", "&"), None, "text/csv", &csv)?;
        if status != 200 {
            return Err(format!("uploading the export: {status} {text}"));
        }
        let body = format!(r#"{{"upload_id":"{upload}","content_type":"text/csv"}}"#);
        let (_, _, started) = server.http(
            "POST",
            &format!("{target}/imports?dry_run=false"),
            Some(cookie),
            &body,
        )?;
        server.job(cookie, &target, &started)
    })?;
    // A household with 1 GiB of photos (256 of 4 MiB).
    let photos_email = "photos@example.com";
    let photos_cookie = server.register_as(photos_email)?;
    let url = server.url.clone();
    let seeded = hi_bench(
        &url,
        &[
            "photos",
            photos_email,
            &out.join("data/attachments").display().to_string(),
            "256",
            "4",
        ],
    )?;
    let photos_base = format!(
        "/api/v1/households/{}",
        seeded
            .lines()
            .find_map(|l| l.strip_prefix("household="))
            .unwrap_or_default()
    );
    timed("backup, 1 GiB of photos", &mut || {
        let (_, _, started) = server.http(
            "POST",
            &format!("{photos_base}/exports"),
            Some(&photos_cookie),
            r#"{"format":"backup"}"#,
        )?;
        server.job(&photos_cookie, &photos_base, &started)
    })?;
    timed("backup (no files)", &mut || {
        let (_, _, started) = server.http(
            "POST",
            &format!("{base}/exports"),
            Some(cookie),
            r#"{"format":"backup"}"#,
        )?;
        server.job(cookie, base, &started)
    })?;
    Ok(rows)
}

/// Items in the household the insurance report is made of.
const REPORT_ITEMS: usize = 1_000;

/// The insurance report of `REPORT_ITEMS` items with a photo each (its thumbnail about
/// 40 KB): the time from the request to the job being done, the server's memory, and the
/// size of the PDF; one table row.
fn insurance_report(server: &Server, out: &Path, backend: &str) -> Result<String> {
    let email = "report@example.com";
    let cookie = server.register_as(email)?;
    let seeded = hi_bench(
        &server.url,
        &[
            "thumbnails",
            email,
            &out.join("data/attachments").display().to_string(),
            &REPORT_ITEMS.to_string(),
        ],
    )?;
    let base = format!(
        "/api/v1/households/{}",
        seeded
            .lines()
            .find_map(|l| l.strip_prefix("household="))
            .unwrap_or_default()
    );
    server.reset_peak();
    let before = server.rss_mib("VmRSS:");
    let started = Instant::now();
    let (status, _, answer) = server.http(
        "POST",
        &format!("{base}/reports/insurance"),
        Some(&cookie),
        "{}",
    )?;
    if status != 202 {
        return Err(format!("the insurance report: {status} {answer}"));
    }
    let job = server.job(&cookie, &base, &answer)?;
    let took = started.elapsed().as_secs_f64();
    let peak = server.peak_rss_mib();
    let pages = field(&job, "pages").unwrap_or_default();
    let size = field(&job, "bytes")
        .and_then(|b| b.parse::<f64>().ok())
        .map(|b| format!("{:.1} MiB", b / 1_048_576.0))
        .unwrap_or_else(|| "–".into());
    println!(
        "insurance report, {REPORT_ITEMS} items {took:7.1} s  before {before:6.0} MiB  \
         peak {peak:6.0} MiB  {pages} pages, {size}"
    );
    Ok(format!(
        "| {backend} | insurance report, {REPORT_ITEMS} items with photos ({pages} pages) | \
         {took:.1} s | {before:.0} MiB | {peak:.0} MiB | {size} |"
    ))
}

/// Items one bulk edit moves.
const BULK_MOVE: usize = 10_000;

/// Moves `BULK_MOVE` of the seeded items (the newest) to the location `to` with one bulk
/// edit, which runs as a job: the time from the request to the job being done, and the
/// server's memory; one table row.
/// The searches right after a bulk move: the first, and the slowest of the next nine.
fn search_after(
    server: &Server,
    cookie: &str,
    base: &str,
    search: &str,
    backend: &str,
) -> Result<String> {
    let path = format!("{base}/items?q={search}");
    let mut times = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let (status, _, page) = server.http("GET", &path, Some(cookie), "")?;
        if status != 200 {
            return Err(format!("searching after the bulk move: {status} {page}"));
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let slowest = times[1..].iter().copied().fold(0.0, f64::max);
    println!(
        "search right after it: first {:.1} ms, slowest of the next nine {slowest:.1} ms",
        times[0]
    );
    Ok(format!(
        "| {backend} | a search right after it (first / slowest of the next nine) | {:.1} / {slowest:.1} ms | – | – | – |",
        times[0]
    ))
}

fn bulk_move(server: &Server, cookie: &str, base: &str, to: &str, backend: &str) -> Result<String> {
    let mut ids: Vec<String> = Vec::new();
    let mut cursor = String::new();
    while ids.len() < BULK_MOVE {
        let path = format!("{base}/items?limit=200{cursor}");
        let (status, _, page) = server.http("GET", &path, Some(cookie), "")?;
        if status != 200 {
            return Err(format!("listing items for the bulk move: {status} {page}"));
        }
        ids.extend(
            page.split(r#""id":""#)
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .map(str::to_string),
        );
        match field(&page, "next_cursor").filter(|c| !c.is_empty()) {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    ids.truncate(BULK_MOVE);
    let body = format!(
        r#"{{"selection":{{"ids":["{}"]}},"ops":{{"set":{{"location_id":"{to}"}}}}}}"#,
        ids.join(r#"",""#)
    );
    server.reset_peak();
    let before = server.rss_mib("VmRSS:");
    let started = Instant::now();
    let (status, _, answer) =
        server.http("POST", &format!("{base}/items/bulk"), Some(cookie), &body)?;
    if status != 202 {
        return Err(format!("the bulk move: {status} {answer}"));
    }
    let job = server.job(cookie, base, &answer)?;
    let took = started.elapsed().as_secs_f64();
    let peak = server.peak_rss_mib();
    let count = |key: &str| {
        field(&job, key)
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or_default()
    };
    let (updated, unchanged) = (count("updated"), count("unchanged"));
    println!(
        "bulk move, {} items {took:7.1} s  before {before:6.0} MiB  peak {peak:6.0} MiB  \
         updated {updated}, unchanged {unchanged}",
        ids.len()
    );
    // Items already in that location are left unchanged; every other one moves.
    if updated + unchanged != ids.len() {
        return Err(format!(
            "the bulk move reached {updated} + {unchanged} of {} items: {job}",
            ids.len()
        ));
    }
    Ok(format!(
        "| {backend} | bulk move, {} items | {took:.1} s | {before:.0} MiB | {peak:.0} MiB | – |",
        ids.len()
    ))
}

fn option(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
}

fn render(
    rows: &[Row],
    memory: &[(&str, f64)],
    seeding: &[(&str, Duration)],
    items: usize,
    locations: usize,
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "{items} items in {locations} locations; wrk, {CONNECTIONS} connections, {SECONDS} s per row, on loopback; \
         latencies in ms. \"Store p95\" is the same query through the store without HTTP \
         (one caller at a time); the ratio is API p50 over store p50. Requests carry the session \
         cookie, or `Authorization: Bearer` with a read-only API token where marked.\n"
    );
    let _ = writeln!(
        md,
        "| backend | request | p50 | p95 | p99 | req/s | store p50 | store p95 | API / store |"
    );
    let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let (s50, s95, ratio) = match r.store {
            Some((s50, s95, _)) if s50 > 0.0 => (
                format!("{s50:.2}"),
                format!("{s95:.2}"),
                format!("{:.1}×", r.p50 / s50),
            ),
            _ => ("–".into(), "–".into(), "–".into()),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {s50} | {s95} | {ratio} |",
            r.backend, r.scenario, r.p50, r.p95, r.p99, r.rps
        );
    }
    let _ = writeln!(md);
    for (backend, mib) in memory {
        let _ = writeln!(md, "- {backend}: server peak resident memory {mib:.0} MiB");
    }
    for (backend, took) in seeding {
        let _ = writeln!(md, "- {backend}: seeding took {:.0} s", took.as_secs_f64());
    }
    md
}

fn ensure_wrk() -> Result {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return Ok(());
    }
    exec(Command::new("apt-get").args(["update", "-qq"]))?;
    exec(
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "-qq", "wrk"]),
    )
}

/// A binary of the release build: under `CARGO_TARGET_DIR` when it is set, as cargo puts it.
pub(crate) fn release_bin(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root().join(dir))
        .unwrap_or_else(|| root().join("target"));
    target.join("release").join(name)
}

pub(crate) fn hi_bench(url: &str, args: &[&str]) -> Result<String> {
    let output = Command::new(release_bin("hi-bench"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("hi-bench: {e}"))?;
    if !output.status.success() {
        return Err(format!("hi-bench {args:?} failed"));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: String,
    /// The database it serves.
    pub(crate) url: String,
}

impl Server {
    pub(crate) fn start(url: &str, out: &Path) -> Result<Self> {
        let addr = crate::free_address()?;
        let child = Command::new(release_bin("home-inventory-backend"))
            .env("DATABASE_URL", url)
            .env("BIND", &addr)
            .env("DATA_DIR", out.join("data"))
            .env("STATIC_DIR", out.join("no-web"))
            .env("RUST_LOG", "warn")
            // The per-token limit would otherwise answer most of the token row with 429.
            .env("API_TOKEN_RATE", "1000000")
            .env("API_TOKEN_BURST", "1000000")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting the server: {e}"))?;
        let server = Self {
            child,
            addr,
            url: url.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if server
                .http("GET", "/api/health", None, "")
                .map(|r| r.0 == 200)
                .unwrap_or(false)
            {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("the server did not answer /api/health within 30 s".into())
    }

    /// A minimal HTTP/1.1 exchange: (status, headers, body).
    pub(crate) fn http(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        body: &str,
    ) -> Result<(u16, String, String)> {
        self.http_as(method, path, cookie, "application/json", body)
    }

    /// The same with another body type.
    fn http_as(
        &self,
        method: &str,
        path: &str,
        cookie: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> Result<(u16, String, String)> {
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
        let cookie = cookie
            .map(|c| format!("Cookie: {c}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{cookie}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        )
        .map_err(|e| e.to_string())?;
        // A body may be binary (a PDF): read as bytes, kept as text where it is text.
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
        let response = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, head.to_string(), body.to_string()))
    }

    fn register(&self) -> Result<String> {
        self.register_as(EMAIL)
    }

    fn register_as(&self, email: &str) -> Result<String> {
        let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}","name":"Bench"}}"#);
        let (status, head, text) = self.http("POST", "/api/v1/auth/register", None, &body)?;
        if status != 201 {
            return Err(format!(
                "registering the benchmark account: {status} {text}"
            ));
        }
        head.lines()
            .find_map(|l| l.strip_prefix("set-cookie: "))
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .ok_or_else(|| "no session cookie".to_string())
    }

    /// A read-only API token of the benchmark account, made with its session.
    fn make_token(&self, cookie: &str) -> Result<String> {
        let body = r#"{"name":"Benchmark","scope":"read"}"#;
        let (status, _, text) = self.http("POST", "/api/v1/tokens", Some(cookie), body)?;
        if status != 201 {
            return Err(format!("making the benchmark's API token: {status} {text}"));
        }
        text.split_once(r#""token":""#)
            .and_then(|(_, rest)| rest.split('"').next())
            .filter(|t| t.starts_with("hinv_"))
            .map(str::to_string)
            .ok_or_else(|| format!("no token in {text}"))
    }

    /// Runs wrk against one request sent with the `credential` header; returns p50, p95,
    /// p99 (ms), requests/s and errors.
    pub(crate) fn wrk(
        &self,
        out: &Path,
        credential: (&str, &str),
        path: &str,
        body: &str,
    ) -> Result<(f64, f64, f64, f64, u64)> {
        self.wrk_with(out, credential, path, body, CONNECTIONS)
    }

    /// `wrk` with this many connections.
    pub(crate) fn wrk_with(
        &self,
        out: &Path,
        credential: (&str, &str),
        path: &str,
        body: &str,
        connections: u32,
    ) -> Result<(f64, f64, f64, f64, u64)> {
        let script = out.join("report.lua");
        let method = if body.is_empty() { "GET" } else { "POST" };
        let (header, value) = credential;
        let lua = format!(
            r#"wrk.method = "{method}"
wrk.body = [[{body}]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["{header}"] = "{value}"
function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT %f %f %f %f %d\n", latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6), errors))
end
"#
        );
        std::fs::write(&script, lua).map_err(|e| e.to_string())?;
        let output = Command::new("wrk")
            .args([
                &format!("-t{}", connections.min(2)),
                &format!("-c{connections}"),
                &format!("-d{SECONDS}s"),
                "--timeout",
                "10s",
                "-s",
            ])
            .arg(&script)
            .arg(format!("http://{}{path}", self.addr))
            .output()
            .map_err(|e| format!("wrk: {e}"))?;
        let text = String::from_utf8_lossy(&output.stdout);
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix("RESULT "))
            .ok_or_else(|| format!("wrk printed no result:\n{text}"))?;
        let v: Vec<f64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        if v.len() != 5 {
            return Err(format!("unexpected wrk result: {line}"));
        }
        Ok((v[0], v[1], v[2], v[3], v[4] as u64))
    }

    /// Starts the peak resident memory over from what the process holds now.
    pub(crate) fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// Follows a job until it ends; its final JSON.
    fn job(&self, cookie: &str, base: &str, started: &str) -> Result<String> {
        let id = field(started, "id").ok_or_else(|| format!("no job in {started}"))?;
        loop {
            let (_, _, job) = self.http("GET", &format!("{base}/jobs/{id}"), Some(cookie), "")?;
            match field(&job, "status").as_deref() {
                Some("done") => return Ok(job),
                Some("failed") => return Err(format!("the job failed: {job}")),
                _ => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    pub(crate) fn peak_rss_mib(&self) -> f64 {
        self.rss_mib("VmHWM:")
    }

    /// A memory figure of `/proc/<pid>/status` (`VmRSS:` now, `VmHWM:` the peak), in MiB.
    pub(crate) fn rss_mib(&self, field: &str) -> f64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| {
                    v.split_whitespace()
                        .next()
                        .and_then(|kb| kb.parse::<f64>().ok())
                })
            })
            .map(|kb| kb / 1024.0)
            .unwrap_or(0.0)
    }

    pub(crate) fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

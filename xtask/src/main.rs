//! `cargo xtask <task>`: every task a person runs on this repository.
//!
//!   run            build the web app and serve everything on http://127.0.0.1:8080
//!   test           formatting, lints, every test (SQLite and PostgreSQL), the web build,
//!                  browser tests and infrastructure tests
//!   web [--release]  build the web app into web/dist and print its size
//!   lambda         build the ARM64 Lambda zip
//!   dist           the self-hosted release binary, the web app inside
//!   bench          seed 100,000 items and measure the API under load
//!   api-check      schemathesis against the API, on SQLite and PostgreSQL
//!
//! Tools a fresh machine lacks are installed first, at pinned versions.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod bench;
mod bench_labels;
mod boot_script;
mod delay_proxy;
mod dist;
mod hot_path;
mod packaging;
mod run;
mod schemathesis;
mod service_worker;
mod tools;

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let task = args.first().map(String::as_str).unwrap_or("help");
    let rest = &args[args.len().min(1)..];
    let result = match task {
        "run" => run::run(),
        "test" => test(rest),
        "web" => web(rest.iter().any(|a| a == "--release")).map(|_| ()),
        "lambda" => lambda(),
        "dist" => dist::dist(rest),
        "bench" => bench::bench(rest),
        "api-check" => api_check(),
        // Run by Trunk after each build (Trunk.toml), not by people.
        "service-worker" => service_worker::write(),
        _ => {
            eprintln!("{}", HELP);
            return if task == "help" || task == "--help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("\nxtask {task} failed: {e}");
            ExitCode::FAILURE
        }
    }
}

const HELP: &str = "usage: cargo xtask <task>

  run                build the web app and serve it with the API on http://127.0.0.1:8080
  test [--quick]     fmt, clippy, all tests on SQLite and PostgreSQL, web build, browser and
                     infrastructure tests (--quick: Rust checks and tests only)
  web [--release]    build the web app into web/dist and print the wasm size
  lambda             build target/lambda/home-inventory-backend/bootstrap.zip (ARM64)
  dist [--target T]  build the release binary with the web app inside it into
                     target/dist/home-inventory-backend (one file serves everything)
                     (--check: then start it alone in an empty folder and check it)
  bench [--items N]  seed N items (default 100000) and measure the API under load
                     (--bulk-only: just the bulk move of 10,000 items)
                     (--report-only: just the insurance report of 1,000 items with photos)
                     (--labels-only: just a sheet of 30 labels, drawn alone and through
                     POST …/labels on the seeded household)
                     (--hot-path-only: just the hot path, on PostgreSQL: round trips,
                     latency 2 ms from the database, cold start, bare axum)
                     (--requests-only: the requests, the hot path and the bulk move
                     with the searches after it; no jobs, report or offline copy)
  api-check          the API against its OpenAPI document (schemathesis), on SQLite and
                     PostgreSQL";

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

pub fn cargo() -> Command {
    let mut cmd = Command::new(env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Runs a command, streaming its output; fails when it does.
pub fn exec(cmd: &mut Command) -> Result {
    let shown = format!("{cmd:?}");
    println!("\n$ {}", shown.replace('"', ""));
    let status = cmd
        .status()
        .map_err(|e| format!("could not start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} exited with {status}"))
    }
}

pub fn section(title: &str) {
    println!("\n==== {title}");
}

fn test(args: &[String]) -> Result {
    let quick = args.iter().any(|a| a == "--quick");
    section("formatting");
    exec(cargo().args(["fmt", "--all", "--", "--check"]))?;
    section("lints");
    exec(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    tools::ensure_wasm_target()?;
    exec(cargo().args([
        "clippy",
        "-p",
        "web",
        "--target",
        "wasm32-unknown-unknown",
        "--",
        "-D",
        "warnings",
    ]))?;
    section("tests (SQLite, and PostgreSQL at TEST_DATABASE_URL or 127.0.0.1:5432)");
    tools::check_postgres()?;
    // The OpenID provider the sign-in tests talk to.
    tools::npm_ci(&root().join("api/tests/oidc"))?;
    // The S3-compatible server the attachment tests run against.
    let moto = tools::ensure_moto()?;
    // The SMTP server the reminder tests send to, and the calendar feed's reader.
    let aiosmtpd = tools::ensure_aiosmtpd()?;
    let icalendar = tools::ensure_icalendar()?;
    exec(
        cargo()
            .args(["test", "--workspace", "--", "--include-ignored"])
            .env("MOTO_SERVER", moto)
            .env("AIOSMTPD_PYTHON", aiosmtpd)
            .env("ICALENDAR_PYTHON", icalendar),
    )?;
    if quick {
        return Ok(());
    }
    api_check()?;
    section("web build");
    web(true)?;
    dist::check_self_contained()?;
    section("browser tests (headless Chromium)");
    browser_tests()?;
    section("packaging (hadolint, actionlint)");
    packaging::lint()?;
    section("infrastructure tests");
    infrastructure_tests()
}

/// The server (debug build, as the browser tests use it) checked by schemathesis against the
/// OpenAPI document it serves.
fn api_check() -> Result {
    section("the API against its OpenAPI document (schemathesis)");
    exec(cargo().args(["build", "-p", "api", "--bin", "home-inventory-backend"]))?;
    schemathesis::check_api(&server_binary())
}

/// A loopback address with a port nobody listens on, for a server a task starts.
pub fn free_address() -> Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    Ok(format!("127.0.0.1:{port}"))
}

/// Where cargo builds: `CARGO_TARGET_DIR` or `target/`.
pub fn target_dir() -> PathBuf {
    env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// The debug build of the server.
fn server_binary() -> PathBuf {
    target_dir().join("debug/home-inventory-backend")
}

/// Builds the web app with Trunk; returns the dist folder.
pub fn web(release: bool) -> Result<PathBuf> {
    let path = tools::ensure_web_tools()?;
    // Read before Trunk starts, so a change made during the build is not recorded as built.
    let inputs = if release {
        Some(run::web_inputs()?)
    } else {
        None
    };
    let mut cmd = Command::new("trunk");
    cmd.current_dir(root()).env("PATH", &path).arg("build");
    if release {
        cmd.arg("--release");
    }
    exec(&mut cmd)?;
    let dist = root().join("web/dist");
    if let Some(inputs) = inputs {
        write_gzip_copies(&dist)?;
        run::record_web_build(&inputs, &dist)?;
    }
    report_wasm_size(&dist)?;
    Ok(dist)
}

/// `<file>.gz` beside each hashed script, bundle and style sheet, sent as they are to
/// browsers that accept gzip (by the server from a folder or from the copy built into it)
/// instead of compressing the same bytes on every request. Only files named by their
/// content's hash: their bytes never change under the name, so a copy can never be stale
/// (the service worker, `sw.js`, is rewritten in place by a deploy and keeps no copy).
fn write_gzip_copies(dist: &Path) -> Result {
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let hashed = path
            .file_stem()
            .and_then(|s| s.to_str())
            .and_then(|s| s.trim_end_matches("_bg").rsplit_once('-'))
            .is_some_and(|(_, hash)| {
                hash.len() >= 12 && hash.chars().all(|c| c.is_ascii_hexdigit())
            });
        if hashed
            && path
                .extension()
                .is_some_and(|e| e == "wasm" || e == "js" || e == "css")
        {
            // -n: no name or time inside, so the same build gives the same bytes.
            let status = Command::new("gzip")
                .args(["-9", "-n", "-k", "-f"])
                .arg(&path)
                .status()
                .map_err(|e| format!("gzip: {e}"))?;
            if !status.success() {
                return Err(format!("gzip {} failed", path.display()));
            }
        }
    }
    Ok(())
}

fn report_wasm_size(dist: &Path) -> Result {
    let entries =
        std::fs::read_dir(dist).map_err(|e| format!("reading {}: {e}", dist.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let raw = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let gzipped = tools::gzip_size(&path)?;
            println!(
                "web bundle: {} — {:.1} KiB raw, {:.1} KiB gzipped",
                path.file_name().unwrap_or_default().to_string_lossy(),
                raw as f64 / 1024.0,
                gzipped as f64 / 1024.0
            );
        }
    }
    Ok(())
}

fn browser_tests() -> Result {
    let e2e = root().join("web/e2e");
    tools::npm_ci(&e2e)?;
    let chromium = tools::ensure_chromium()?;
    // The SMTP server the address confirmation test sends to.
    let aiosmtpd = tools::ensure_aiosmtpd()?;
    exec(cargo().args(["build", "-p", "api", "--bin", "home-inventory-backend"]))?;
    let out = root().join("target/e2e");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    exec(
        Command::new("node")
            .current_dir(&e2e)
            .args(["--test", "--test-concurrency=1"])
            .env("HI_BIN", server_binary())
            .env("HI_STATIC_DIR", root().join("web/dist"))
            .env("HI_SCREENSHOTS", &out)
            .env("CHROMIUM", chromium)
            .env("AIOSMTPD_PYTHON", aiosmtpd),
    )
}

fn infrastructure_tests() -> Result {
    let dir = root().join("infrastructure");
    if !dir.join("package.json").is_file() {
        return Err("infrastructure/package.json is missing".into());
    }
    tools::npm_ci(&dir)?;
    exec(Command::new("npm").current_dir(&dir).args(["test"]))
}

fn lambda() -> Result {
    let path = tools::ensure_cargo_lambda()?;
    exec(cargo().env("PATH", &path).args([
        "lambda",
        "build",
        "--profile",
        "lambda",
        "--arm64",
        "--output-format",
        "zip",
        "-p",
        "api",
        "--bin",
        "home-inventory-backend",
    ]))?;
    let zip = root().join("target/lambda/home-inventory-backend/bootstrap.zip");
    let size = std::fs::metadata(&zip)
        .map_err(|e| format!("{}: {e}", zip.display()))?
        .len();
    println!(
        "lambda zip: {} — {:.2} MiB",
        zip.display(),
        size as f64 / 1024.0 / 1024.0
    );
    Ok(())
}

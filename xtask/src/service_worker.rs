//! `cargo xtask service-worker`: run by Trunk after each build (a `post_build` hook in
//! `Trunk.toml`), it moves the page's inline boot script into a file (`boot_script`), then
//! writes the staged `sw.js` from the template `web/sw.js`: the build's id, which names the
//! worker's cache, and the files it keeps so the app opens offline (the page, the hashed
//! scripts, wasm and styles, the manifest and the icons).
//!
//! A debug build (`trunk serve`, `trunk build`) gets a worker that removes itself instead,
//! so no worker outlives a development session and serves yesterday's build.

use std::path::Path;

use crate::{Result, root};

const BUILD_PLACEHOLDER: &str = "\"__BUILD_ID__\"";
const PRECACHE_PLACEHOLDER: &str = "__PRECACHE__";

const SELF_REMOVING: &str = "\
// Debug build: this worker removes itself, so none outlives a development session.
self.addEventListener(\"install\", () => self.skipWaiting());
self.addEventListener(\"activate\", (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) await caches.delete(name);
      await self.registration.unregister();
    })(),
  );
});
";

pub fn write() -> Result {
    let staging = std::env::var_os("TRUNK_STAGING_DIR")
        .ok_or("TRUNK_STAGING_DIR is not set: this task runs as Trunk's post_build hook")?;
    let staging = Path::new(&staging);
    // First, so the page the worker keeps is the one that loads its boot script from a file.
    crate::boot_script::externalize(staging)?;
    let release = std::env::var("TRUNK_PROFILE").is_ok_and(|p| p == "release");
    let worker = if release {
        let template = std::fs::read_to_string(root().join("web/sw.js"))
            .map_err(|e| format!("reading web/sw.js: {e}"))?;
        let files = kept_files(staging)?;
        let mut contents = Vec::new();
        for name in &files {
            contents.push((
                name.clone(),
                std::fs::read(staging.join(name)).map_err(|e| format!("{name}: {e}"))?,
            ));
        }
        fill(&template, &build_id(&contents), &files)?
    } else {
        SELF_REMOVING.to_string()
    };
    std::fs::write(staging.join("sw.js"), worker).map_err(|e| format!("writing sw.js: {e}"))
}

/// The Scan page's QR decoder (a web worker: `qr-decoder_loader.js`, `qr-decoder.js`,
/// `qr-decoder_bg.wasm`) is fetched by that page when it opens, never before: the service
/// worker does not keep it either (scanning needs the server to look codes up anyway).
fn loaded_on_demand(name: &str) -> bool {
    name.starts_with("qr-decoder")
}

/// The files the worker keeps: everything the build made but the worker itself,
/// precompressed copies and what pages load on demand, as paths from the site's root,
/// sorted.
fn kept_files(staging: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    let mut dirs = vec![staging.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path
                .strip_prefix(staging)
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .replace('\\', "/");
            if name != "sw.js" && !name.ends_with(".gz") && !loaded_on_demand(&name) {
                files.push(name);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// The template with the build's id and its files in place of the placeholders.
fn fill(template: &str, build: &str, files: &[String]) -> Result<String> {
    if !template.contains(BUILD_PLACEHOLDER) || !template.contains(PRECACHE_PLACEHOLDER) {
        return Err("web/sw.js lacks the __BUILD_ID__ or __PRECACHE__ placeholder".into());
    }
    let list = files
        .iter()
        .map(|f| format!("\"/{f}\""))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(template
        .replacen(BUILD_PLACEHOLDER, &format!("\"{build}\""), 1)
        .replacen(PRECACHE_PLACEHOLDER, &format!("[{list}]"), 1))
}

/// 16 hex digits that change whenever any kept file's name or bytes do (FNV-1a, 64 bits:
/// a fingerprint, not a defence; xtask has no dependencies so it builds in seconds).
pub fn build_id(files: &[(String, Vec<u8>)]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (name, bytes) in files {
        for byte in name
            .bytes()
            .chain([0])
            .chain(bytes.iter().copied())
            .chain([0])
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_gets_the_build_and_its_files() {
        let filled = fill(
            "const BUILD = \"__BUILD_ID__\";\nconst PRECACHE = __PRECACHE__;",
            "0123456789abcdef",
            &["index.html".into(), "web-1.js".into()],
        )
        .unwrap();
        assert_eq!(
            filled,
            "const BUILD = \"0123456789abcdef\";\nconst PRECACHE = [\"/index.html\", \"/web-1.js\"];"
        );
        assert!(fill("no placeholders", "x", &[]).is_err());
    }

    #[test]
    fn the_scan_pages_decoder_is_left_to_that_page() {
        let dir = std::env::temp_dir().join(format!("hi-sw-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "index.html",
            "web-1_bg.wasm",
            "qr-decoder_bg.wasm",
            "qr-decoder_loader.js",
        ] {
            std::fs::write(dir.join(name), b"x").unwrap();
        }
        let kept = kept_files(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(kept, ["index.html", "web-1_bg.wasm"]);
    }

    #[test]
    fn the_build_id_changes_with_any_file() {
        let one = vec![("index.html".to_string(), b"<html>".to_vec())];
        let same = one.clone();
        let edited = vec![("index.html".to_string(), b"<html> ".to_vec())];
        let renamed = vec![("index2.html".to_string(), b"<html>".to_vec())];
        assert_eq!(build_id(&one), build_id(&same));
        assert_ne!(build_id(&one), build_id(&edited));
        assert_ne!(build_id(&one), build_id(&renamed));
        assert_eq!(build_id(&one).len(), 16);
    }
}

//! `cargo xtask dist`: the self-hosted release binary, the web app inside it; and the check
//! `cargo xtask test` runs on it: copied alone into an empty folder and started there, it
//! serves the app, its hashed assets with their long cache header, and the API.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{Result, cargo, exec, root, section, web};

/// Builds the web app and the release binary with it; `--target T` cross-compiles (the
/// release workflow builds static musl binaries this way). Prints where it is and its size;
/// `--check` then starts it alone as the test does.
pub fn dist(args: &[String]) -> Result {
    let target = args
        .iter()
        .position(|a| a == "--target")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    web(true)?;
    let binary = build_release(target)?;
    let out = root().join("target/dist");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let copy = out.join("home-inventory-backend");
    std::fs::copy(&binary, &copy).map_err(|e| format!("copying {}: {e}", binary.display()))?;
    println!("release binary: {} — {}", copy.display(), mib(&copy));
    if args.iter().any(|a| a == "--check") && target.is_none() {
        check_self_contained()?;
    }
    Ok(())
}

/// `cargo build --release` of the server with the web app built into it; its path.
fn build_release(target: Option<&str>) -> Result<PathBuf> {
    let mut cmd = cargo();
    cmd.args([
        "build",
        "--release",
        "-p",
        "api",
        "--features",
        "web-app",
        "--bin",
        "home-inventory-backend",
    ]);
    if let Some(target) = target {
        cmd.args(["--target", target]);
    }
    exec(&mut cmd)?;
    let mut dir = crate::target_dir();
    if let Some(target) = target {
        dir.push(target);
    }
    Ok(dir.join("release/home-inventory-backend"))
}

fn mib(path: &Path) -> String {
    let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    format!("{:.1} MiB", bytes as f64 / 1024.0 / 1024.0)
}

/// The release binary alone in an empty folder, with no environment but its address: it
/// must serve the page, a hashed asset (gzip, cached for a year), the app's routes and the
/// API. Expects `web/dist` built (release). Prints the binary's size and its memory at idle.
pub fn check_self_contained() -> Result {
    section("the release binary alone, the web app inside");
    let binary = build_release(None)?;
    let folder = crate::target_dir().join("self-contained");
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder).map_err(|e| e.to_string())?;
    let copy = folder.join("home-inventory-backend");
    std::fs::copy(&binary, &copy).map_err(|e| e.to_string())?;
    let addr = crate::free_address()?;
    let mut server = Server(
        Command::new(&copy)
            .current_dir(&folder)
            .env_clear()
            .env("BIND", &addr)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", copy.display()))?,
    );
    wait_until_up(&addr, &mut server)?;

    let page = get(&addr, "/", &[])?;
    page.expect(200, "text/html", "/")?;
    let page_text = String::from_utf8_lossy(&page.body).to_string();
    if !page_text.contains("<title>Home Inventory</title>") {
        return Err(format!("/ is not the app's page:\n{page_text}"));
    }
    let wasm = hashed_asset(&page_text, "_bg.wasm")
        .ok_or("the page names no hashed wasm bundle (web-<hash>_bg.wasm)")?;
    let asset = get(
        &addr,
        &format!("/{wasm}"),
        &[("Accept-Encoding", "gzip, br")],
    )?;
    asset.expect(200, "application/wasm", &wasm)?;
    if asset.header("cache-control") != Some("public, max-age=31536000, immutable") {
        return Err(format!("{wasm} is not cached for a year: {:?}", asset.head));
    }
    if asset.header("content-encoding") != Some("gzip") || !asset.body.starts_with(&[0x1f, 0x8b]) {
        return Err(format!("{wasm} is not sent gzipped: {:?}", asset.head));
    }
    let plain = get(&addr, &format!("/{wasm}"), &[])?;
    if !plain.body.starts_with(b"\0asm") {
        return Err(format!("{wasm} without gzip is not a wasm module"));
    }
    let route = get(&addr, "/items/0190e2c4-aaaa-7bbb-8ccc-0123456789ab", &[])?;
    route.expect(200, "text/html", "an item's page")?;
    if route.body != page.body {
        return Err("an app route is not answered with the app's page".into());
    }
    let gone = get(&addr, "/web-0000000000000000.js", &[])?;
    if gone.status != 404 {
        return Err(format!("a missing script answers {}, not 404", gone.status));
    }
    let health = get(&addr, "/api/health", &[])?;
    health.expect(200, "application/json", "/api/health")?;

    let mut beside: Vec<String> = std::fs::read_dir(&folder)
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    beside.sort();
    // Let the first requests' work settle before reading the memory at idle.
    std::thread::sleep(Duration::from_secs(2));
    let rss = resident_kib(server.0.id()).unwrap_or(0);
    println!(
        "release binary {} ({wasm} inside), started alone in {} (now holding {}): \
         the page, the gzipped bundle cached for a year, the app's routes and /api/health \
         answer; memory at idle {:.1} MiB",
        mib(&copy),
        folder.display(),
        beside.join(", "),
        rss as f64 / 1024.0
    );
    Ok(())
}

/// Kills the server when the check ends, whichever way.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_until_up(addr: &str, server: &mut Server) -> Result {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = server.0.try_wait() {
            return Err(format!("the binary exited at start: {status}"));
        }
        if get(addr, "/api/health", &[]).is_ok_and(|r| r.status == 200) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("the binary did not answer /api/health within 30 s".into())
}

/// The first `web-<hash>…<suffix>` file the page names.
fn hashed_asset(page: &str, suffix: &str) -> Option<String> {
    page.match_indices(suffix).find_map(|(end, _)| {
        let start = page[..end].rfind(['"', '\'', '/', ' '])? + 1;
        let name = &page[start..end + suffix.len()];
        let stem = name.strip_suffix(suffix)?;
        let (_, hash) = stem.rsplit_once('-')?;
        // Trunk writes its 64-bit hash in hex without leading zeros: up to 16 digits.
        ((1..=16).contains(&hash.len()) && hash.chars().all(|c| c.is_ascii_hexdigit()))
            .then(|| name.into())
    })
}

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

struct Answer {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }

    fn expect(&self, status: u16, kind: &str, what: &str) -> Result {
        let got = self.header("content-type").unwrap_or_default();
        if self.status != status || !got.starts_with(kind) {
            return Err(format!(
                "{what}: expected {status} {kind}, got {} {got}",
                self.status
            ));
        }
        Ok(())
    }
}

/// One HTTP/1.1 GET with `Connection: close`; the body as bytes.
fn get(addr: &str, path: &str, headers: &[(&str, &str)]) -> Result<Answer> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    stream
        .read_to_end(&mut response)
        .map_err(|e| e.to_string())?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("an answer without headers")?;
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut body = response[split + 4..].to_vec();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if head
        .lines()
        .any(|l| l.eq_ignore_ascii_case("transfer-encoding: chunked"))
    {
        body = dechunk(&body)?;
    }
    Ok(Answer { status, head, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a broken chunked body")?;
        let size = std::str::from_utf8(&data[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok())
            .ok_or("a broken chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("a short chunk")?);
        data = data.get(size + 2..).ok_or("a short chunk")?;
    }
}

#[cfg(test)]
mod tests {
    use super::{dechunk, hashed_asset};

    #[test]
    fn the_bundle_is_found_in_the_page() {
        let page = r#"<link rel="preload" href="/web-0123456789abcdef_bg.wasm" as="fetch">"#;
        assert_eq!(
            hashed_asset(page, "_bg.wasm").as_deref(),
            Some("web-0123456789abcdef_bg.wasm")
        );
        assert_eq!(hashed_asset(r#"href="/web_bg.wasm""#, "_bg.wasm"), None);
        // A hash whose top byte is zero is written with 14 digits.
        let short = r#"<link rel="preload" href="/web-6743a8ae164887_bg.wasm" as="fetch">"#;
        assert_eq!(
            hashed_asset(short, "_bg.wasm").as_deref(),
            Some("web-6743a8ae164887_bg.wasm")
        );
        assert_eq!(
            hashed_asset(r#"href="/web-notahash_bg.wasm""#, "_bg.wasm"),
            None
        );
    }

    #[test]
    fn chunked_bodies_are_joined() {
        assert_eq!(
            dechunk(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n").unwrap(),
            b"abcde"
        );
        assert!(dechunk(b"9\r\nabc").is_err());
    }
}

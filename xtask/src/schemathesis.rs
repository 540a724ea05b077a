//! The API checked against its own OpenAPI document: the real server on a free loopback
//! port with a fresh database (SQLite, then PostgreSQL), an account signed up with a few
//! things in its household, and schemathesis (from PyPI, pinned) running every check
//! against `/api/v1/openapi.json`, stateful links included, within a time budget per
//! database. Its settings and the reasons for them are in `api/schemathesis.toml`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::tools::{fresh_database, psql};
use crate::{Result, root, tools};

/// Test cases per operation and phase, and the time each database gets.
const MAX_EXAMPLES: &str = "50";
const SECONDS_PER_DATABASE: &str = "150";
const EMAIL: &str = "schemathesis@example.com";
const PASSWORD: &str = "schemathesis password";

/// One run: which database, what schemathesis said, whether it passed.
struct Outcome {
    backend: &'static str,
    summary: String,
    passed: bool,
}

/// Runs schemathesis against `bin` on SQLite and, when it answers (always under CI), on
/// PostgreSQL; fails when any run finds anything.
pub fn check_api(bin: &Path) -> Result {
    let st = tools::ensure_schemathesis()?;
    let out = root().join("target/schemathesis");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    let mut outcomes = Vec::new();
    let sqlite_dir = out.join("sqlite");
    outcomes.push(run(
        &st,
        bin,
        "SQLite",
        &format!("sqlite:{}", sqlite_dir.join("api.db").display()),
        &sqlite_dir,
    )?);
    match Postgres::create()? {
        Some(db) => {
            let outcome = run(&st, bin, "PostgreSQL", &db.url, &out.join("postgres"));
            db.drop();
            outcomes.push(outcome?);
        }
        None => println!("PostgreSQL does not answer: schemathesis runs on SQLite only"),
    }
    println!(
        "\nschemathesis (every check, {MAX_EXAMPLES} examples, {SECONDS_PER_DATABASE} s a database):"
    );
    for o in &outcomes {
        let verdict = if o.passed { "passed" } else { "FAILED" };
        println!("  {:<10} {verdict}: {}", o.backend, o.summary);
    }
    println!("  reports: {}", out.display());
    if outcomes.iter().all(|o| o.passed) {
        Ok(())
    } else {
        Err("schemathesis found server errors or answers that disagree with the OpenAPI document (see above)".into())
    }
}

fn run(st: &Path, bin: &Path, backend: &'static str, url: &str, dir: &Path) -> Result<Outcome> {
    crate::section(&format!("schemathesis on {backend}"));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let server = Server::start(bin, url, dir)?;
    let account = server.sign_up()?;
    server.add_fixtures(&account)?;
    // schemathesis works as a program would, with a write API token; the operations that
    // need a signed-in person (tokens, members, invitations) get the session cookie. Which
    // one an operation takes is what the document says of it (`api/schemathesis.toml`).
    let token = server.create_token(&account)?;
    let session = account
        .cookie
        .split_once('=')
        .map(|(_, value)| value.to_string())
        .ok_or("the session cookie has no value")?;
    let mut cmd = Command::new(st);
    cmd.current_dir(root())
        .env("HI_HOUSEHOLD", &account.household)
        .env("HI_TOKEN", &token)
        .env("HI_SESSION", &session)
        .env(
            "SCHEMATHESIS_HOOKS",
            root().join("api/schemathesis_hooks.py"),
        )
        .env("NO_COLOR", "1")
        .arg("--config-file")
        .arg(root().join("api/schemathesis.toml"))
        .args(["run", &format!("{}/api/v1/openapi.json", server.base)])
        .args(["--checks", "all"])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--max-time", SECONDS_PER_DATABASE])
        .args(["--report", "junit,har"])
        .arg("--report-dir")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    println!(
        "$ st run {}/api/v1/openapi.json --checks all …",
        server.base
    );
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting schemathesis: {e}"))?;
    let mut tail: Vec<String> = Vec::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            tail.push(line);
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    let log = server.stop();
    std::fs::write(dir.join("server.log"), &log).map_err(|e| e.to_string())?;
    let summary = summary(&tail);
    Ok(Outcome {
        backend,
        summary,
        passed: status.success(),
    })
}

/// schemathesis's own verdict: how many cases, and the closing line.
fn summary(lines: &[String]) -> String {
    let cases = lines
        .iter()
        .position(|l| l.trim() == "Test cases:")
        .and_then(|i| lines.get(i + 1))
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    let last = lines
        .iter()
        .rev()
        .find(|l| l.starts_with('='))
        .map(|l| l.trim_matches(|c| c == '=' || c == ' ').to_string())
        .unwrap_or_else(|| "no summary (see above)".into());
    if cases.is_empty() {
        last
    } else {
        format!("{cases}; {last}")
    }
}

/// A fresh PostgreSQL database for one run, dropped afterwards.
struct Postgres {
    admin: String,
    name: String,
    url: String,
}

impl Postgres {
    fn create() -> Result<Option<Self>> {
        let admin = std::env::var("TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let answers = std::env::var_os("TEST_DATABASE_URL").is_some()
            || TcpStream::connect_timeout(&([127, 0, 0, 1], 5432).into(), Duration::from_secs(2))
                .is_ok();
        if !answers {
            if std::env::var_os("CI").is_some() {
                return Err(
                    "CI expects PostgreSQL on 127.0.0.1:5432 (or TEST_DATABASE_URL)".into(),
                );
            }
            return Ok(None);
        }
        let name = format!("hi_schemathesis_{}", std::process::id());
        let url = fresh_database(&admin, &name)?;
        Ok(Some(Self { admin, name, url }))
    }

    fn drop(self) {
        let _ = psql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// The signed-up account schemathesis works as.
struct Account {
    cookie: String,
    household: String,
}

/// The server under test, its output kept for `server.log`.
struct Server {
    child: Child,
    addr: String,
    base: String,
    log: mpsc::Receiver<String>,
    /// What it wrote before it listened.
    early: String,
}

impl Server {
    fn start(bin: &Path, database_url: &str, dir: &Path) -> Result<Self> {
        let addr = crate::free_address()?;
        let base = format!("http://{addr}");
        let mut child = Command::new(bin)
            .env("DATABASE_URL", database_url)
            .env("BIND", &addr)
            .env("PUBLIC_URL", &base)
            .env("DATA_DIR", dir.join("data"))
            .env("STATIC_DIR", dir.join("no-web-app"))
            .env("RUST_LOG", "info")
            // The token's request rate is checked by the API tests; here it would only
            // answer 429 to cases that deserve a real answer.
            .env("API_TOKEN_RATE", "100000")
            .env("API_TOKEN_BURST", "100000")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        // Both streams go to one channel: the log, and the line that says it listens.
        let (tx, rx) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(|l| l.ok()) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut early = String::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let Ok(line) = rx.recv_timeout(left) else {
                break;
            };
            let _ = writeln!(early, "{line}");
            if line.contains("listening on") {
                return Ok(Self {
                    child,
                    addr,
                    base,
                    log: rx,
                    early,
                });
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        Err(format!(
            "the server did not start within a minute:\n{early}"
        ))
    }

    /// A minimal HTTP/1.1 exchange: (status, head, body).
    fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<(u16, String, String)> {
        let mut stream = TcpStream::connect(&self.addr).map_err(|e| e.to_string())?;
        let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.addr);
        for (name, value) in headers {
            let _ = write!(request, "{name}: {value}\r\n");
        }
        let _ = write!(
            request,
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        stream
            .write_all(request.as_bytes())
            .and_then(|()| stream.write_all(body))
            .map_err(|e| e.to_string())?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .map_err(|e| e.to_string())?;
        let response = String::from_utf8_lossy(&response);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Ok((status, head.to_string(), body.to_string()))
    }

    /// A JSON request that must answer `expected`; the body of the answer.
    fn json(
        &self,
        account: &Account,
        method: &str,
        path: &str,
        body: &str,
        expected: u16,
    ) -> Result<String> {
        let (status, _, text) = self.http(
            method,
            path,
            &[
                ("Cookie", &account.cookie),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )?;
        if status == expected {
            Ok(text)
        } else {
            Err(format!(
                "{method} {path}: expected {expected}, got {status} {text}"
            ))
        }
    }

    fn sign_up(&self) -> Result<Account> {
        let body =
            format!(r#"{{"email":"{EMAIL}","password":"{PASSWORD}","name":"Schemathesis"}}"#);
        let (status, head, text) = self.http(
            "POST",
            "/api/v1/auth/register",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        )?;
        if status != 201 {
            return Err(format!("signing up: {status} {text}"));
        }
        let cookie = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("set-cookie")
                    .then(|| value.trim())
            })
            .and_then(|c| c.split(';').next())
            .map(str::to_string)
            .ok_or("signing up set no session cookie")?;
        let mut account = Account {
            cookie,
            household: String::new(),
        };
        let me = self.json(&account, "GET", "/api/v1/me", "", 200)?;
        account.household = json_string_after(&me, "\"households\":[{\"id\":")
            .ok_or_else(|| format!("no household in {me}"))?;
        Ok(account)
    }

    /// A location, an item in it with a value and a tag, and a photo of it: answers with
    /// something in them to check.
    fn add_fixtures(&self, account: &Account) -> Result {
        let base = format!("/api/v1/households/{}", account.household);
        let location = self.json(
            account,
            "POST",
            &format!("{base}/locations"),
            r#"{"name":"Garage"}"#,
            201,
        )?;
        let location = json_string_after(&location, "\"id\":").ok_or("no location id")?;
        let item = self.json(
            account,
            "POST",
            &format!("{base}/items"),
            &format!(
                r#"{{"name":"Cordless drill","location_id":"{location}","tags":["tools"],"estimated_value":{{"amount_minor":12999,"currency":"USD"}}}}"#
            ),
            201,
        )?;
        let item = json_string_after(&item, "\"id\":").ok_or("no item id")?;
        let announced = self.json(
            account,
            "POST",
            &format!("{base}/items/{item}/attachments"),
            &format!(
                r#"{{"filename":"drill.png","content_type":"image/png","size":{}}}"#,
                PHOTO.len()
            ),
            201,
        )?;
        let attachment = json_string_after(&announced, "\"id\":").ok_or("no attachment id")?;
        let upload = json_string_after(&announced, "\"upload\":{\"url\":")
            .and_then(|url| url.strip_prefix(&self.base).map(str::to_string))
            .ok_or_else(|| format!("no local upload URL in {announced}"))?;
        let (status, _, text) = self.http(
            "PUT",
            &upload.replace("\\u0026", "&"),
            &[("Content-Type", "image/png")],
            PHOTO,
        )?;
        if status != 200 {
            return Err(format!("uploading the fixture photo: {status} {text}"));
        }
        self.json(
            account,
            "POST",
            &format!("{base}/items/{item}/attachments/{attachment}/complete"),
            "",
            200,
        )?;
        Ok(())
    }

    /// A write API token of the account, for every household it is in.
    fn create_token(&self, account: &Account) -> Result<String> {
        let made = self.json(
            account,
            "POST",
            "/api/v1/tokens",
            r#"{"name":"schemathesis","scope":"write","expires_in_days":1}"#,
            201,
        )?;
        json_string_after(&made, "\"token\":").ok_or_else(|| format!("no token in {made}"))
    }

    /// Stops the server; its output.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut log = std::mem::take(&mut self.early);
        while let Ok(line) = self.log.recv_timeout(Duration::from_secs(1)) {
            let _ = writeln!(log, "{line}");
        }
        log
    }
}

/// However the run ends, the server does too.
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The string value right after `key` in compact JSON (`"id":"…"`).
fn json_string_after(json: &str, key: &str) -> Option<String> {
    let rest = &json[json.find(key)? + key.len()..];
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_string())
}

/// A 2×2 PNG, for the photo of the fixture item.
const PHOTO: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x02, 0x00, 0x00, 0x00, 0xfd, 0xd4, 0x9a,
    0x73, 0x00, 0x00, 0x00, 0x10, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x38, 0x51, 0xa1, 0x01,
    0x44, 0x0c, 0x10, 0x0a, 0x00, 0x29, 0xee, 0x05, 0xa1, 0x64, 0x08, 0x61, 0x07, 0x00, 0x00, 0x00,
    0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_from_compact_json() {
        let json = r#"{"user":{"id":"u1"},"households":[{"id":"h1","name":"My Home"}]}"#;
        assert_eq!(
            json_string_after(json, "\"households\":[{\"id\":").as_deref(),
            Some("h1")
        );
        assert_eq!(json_string_after(json, "\"id\":").as_deref(), Some("u1"));
        assert_eq!(json_string_after(json, "\"missing\":"), None);
    }

    #[test]
    fn the_summary_is_schemathesis_own_verdict() {
        let lines: Vec<String> = [
            "Test cases:",
            "  3370 generated, 3370 passed, 99 skipped",
            "",
            "===== 2 warnings in 51.29s =====",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            summary(&lines),
            "3370 generated, 3370 passed, 99 skipped; 2 warnings in 51.29s"
        );
    }
}

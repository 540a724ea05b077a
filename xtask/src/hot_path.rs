//! The "Hot path" section of `cargo xtask bench`, on PostgreSQL: what the requests people
//! make most cost when the database is not on the same machine.
//!
//! A second server is started with its database reached through `DelayProxy`, which adds
//! 1 ms each way (2 ms per round trip) and counts the turns of every conversation with the
//! database. Through it: database round trips per request, latency under load, and the
//! first search after a cold start. Without it: the server's get-one-item next to a bare
//! axum handler answering a body of the same size.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::{CONNECTIONS, SECONDS, Server, release_bin};
use crate::delay_proxy::DelayProxy;

/// Latency the proxy adds in each direction.
const ONE_WAY: Duration = Duration::from_millis(1);
/// Requests of each kind before counting.
const WARM_UP: usize = 20;
/// Requests of each kind counted, one at a time.
const COUNTED: usize = 100;
/// How long the idle server's own database traffic is counted.
const IDLE: Duration = Duration::from_secs(2);
/// Cold starts timed.
const COLD_STARTS: usize = 3;

/// The seeded household the section measures.
pub(crate) struct Target<'a> {
    /// The database, as the server reaches it without the proxy.
    pub(crate) url: &'a str,
    pub(crate) out: &'a Path,
    pub(crate) cookie: &'a str,
    /// `/api/v1/households/{hid}`.
    pub(crate) base: &'a str,
    /// One seeded item's id.
    pub(crate) item: &'a str,
    /// A substring search that finds one seeded item.
    pub(crate) search: &'a str,
}

/// One request of the section: (name, method, path, body).
type Request = (&'static str, &'static str, String, String);

/// The requests whose round trips are counted; `n` numbers the edits.
fn requests(t: &Target<'_>, n: usize) -> Vec<Request> {
    let item = format!("{}/items/{}", t.base, t.item);
    vec![
        ("get one item", "GET", item.clone(), String::new()),
        (
            "list the first page",
            "GET",
            format!("{}/items?limit=50", t.base),
            String::new(),
        ),
        (
            "substring search",
            "GET",
            format!("{}/items?q={}", t.base, t.search),
            String::new(),
        ),
        (
            "edit an item",
            "PATCH",
            item,
            format!(r#"{{"notes":"bench {n}"}}"#),
        ),
        (
            "create an item",
            "POST",
            format!("{}/items", t.base),
            r#"{"name":"Benchmark lamp","tags":["bench"]}"#.into(),
        ),
    ]
}

/// Round trips each request should cost, where there is a goal.
fn round_trip_goal(name: &str) -> Option<f64> {
    match name {
        "get one item" | "list the first page" | "substring search" => Some(1.0),
        "edit an item" => Some(2.0),
        _ => None,
    }
}

/// A line of the table: (what, request, measured, goal, met).
type Line = (String, String, String, String, Option<bool>);

/// Measures the section with `server`, the seeded one reached directly; answers its
/// Markdown.
pub(crate) fn hot_path(server: &Server, t: &Target<'_>) -> Result<String> {
    let mut lines: Vec<Line> = Vec::new();
    let mut show = |line: Line| {
        let met = match line.4 {
            Some(true) => "  (goal met)",
            Some(false) => "  (goal missed)",
            None => "",
        };
        println!(
            "{:34} {:22} {:>26}   goal {}{met}",
            line.0, line.1, line.2, line.3
        );
        lines.push(line);
    };
    let cookie = ("Cookie", t.cookie);
    let item_path = format!("{}/items/{}", t.base, t.item);

    // An item as the server answers it: the bare handler's body.
    let (status, _, item_json) = server.http("GET", &item_path, Some(t.cookie), "")?;
    if status != 200 {
        return Err(format!("reading the seeded item: {status} {item_json}"));
    }
    let body_file = t.out.join("bare-item.json");
    std::fs::write(&body_file, &item_json).map_err(|e| e.to_string())?;

    let proxy = DelayProxy::start(&upstream(t.url)?, ONE_WAY)?;
    let proxied_url = through(t.url, proxy.addr())?;
    let mut proxied = Server::start(&proxied_url, t.out)?;

    // Round trips per request.
    for n in 0..WARM_UP {
        for request in requests(t, n) {
            send(&proxied, t.cookie, &request)?;
        }
    }
    std::thread::sleep(Duration::from_millis(200));
    let idle_from = proxy.round_trips();
    std::thread::sleep(IDLE);
    let idle_rate = (proxy.round_trips() - idle_from) as f64 / IDLE.as_secs_f64();
    for kind in 0..requests(t, 0).len() {
        let name = requests(t, 0)[kind].0;
        let before = proxy.round_trips();
        let started = Instant::now();
        for n in 0..COUNTED {
            send(&proxied, t.cookie, &requests(t, WARM_UP + n)[kind])?;
        }
        let took = started.elapsed();
        // What the last request left the server doing.
        std::thread::sleep(Duration::from_millis(100));
        let counted = proxy.round_trips() - before;
        let background = idle_rate * started.elapsed().as_secs_f64();
        let each = (counted as f64 - background).max(0.0) / COUNTED as f64;
        let goal = round_trip_goal(name);
        show((
            "database round trips per request".into(),
            name.into(),
            format!(
                "{each:.2} ({:.1} ms each)",
                took.as_secs_f64() * 1000.0 / COUNTED as f64
            ),
            goal.map_or("–".into(), |g| format!("{g:.0}")),
            // A search sweeps a minute back every ten seconds: a few hundredths more.
            goal.map(|g| each <= g + 0.05),
        ));
    }

    // Latency with 2 ms per round trip: under load, and one request at a time as a
    // Lambda instance serves them.
    for connections in [CONNECTIONS, 1] {
        for (name, _, path, _) in requests(t, 0).into_iter().take(3) {
            let (p50, _, p99, rps, errors) =
                proxied.wrk_with(t.out, cookie, &path, "", connections)?;
            let failed = if errors > 0 {
                format!(", {errors} errors")
            } else {
                String::new()
            };
            let goal = (name != "substring search").then_some(15.0);
            show((
                format!("p50 / p99 ms, 2 ms per round trip, {connections} connection(s)"),
                name.into(),
                format!("{p50:.2} / {p99:.2} ({rps:.0} req/s{failed})"),
                goal.map_or("–".into(), |g| format!("p99 ≤ {g:.0} ms")),
                goal.map(|g| p99 <= g && errors == 0),
            ));
        }
    }

    // The first search after a cold start.
    let search_path = format!("{}/items?q={}", t.base, t.search);
    for start in 1..=COLD_STARTS {
        proxied.stop();
        proxied = Server::start(&proxied_url, t.out)?;
        let started = Instant::now();
        let (status, _, answer) = proxied.http("GET", &search_path, Some(t.cookie), "")?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        if status != 200 {
            return Err(format!(
                "the first search after a cold start: {status} {answer}"
            ));
        }
        show((
            "first search after a cold start, ms".into(),
            format!("start {start}"),
            format!("{ms:.0}"),
            "≤ 1000".into(),
            Some(ms <= 1000.0),
        ));
    }
    proxied.stop();
    drop(proxy);

    // Bare axum next to the server's get-one-item, both without the proxy.
    let bare = bare_server(&body_file)?;
    let bare_run = bare.wrk(t.out, cookie, "/bare", "");
    bare.stop();
    let (_, _, _, bare_rps, bare_errors) = bare_run?;
    let (_, _, _, get_rps, get_errors) = server.wrk(t.out, cookie, &item_path, "")?;
    let ratio = bare_rps / get_rps.max(f64::MIN_POSITIVE);
    let errors = bare_errors + get_errors;
    show((
        "req/s, bare axum vs get one item".into(),
        format!("{} B body", item_json.len()),
        format!(
            "{bare_rps:.0} vs {get_rps:.0}: {ratio:.1}×{}",
            if errors > 0 {
                format!(" ({errors} errors)")
            } else {
                String::new()
            }
        ),
        "≤ 4×".into(),
        Some(ratio <= 4.0 && errors == 0),
    ));

    Ok(render(&lines, idle_rate, item_json.len()))
}

/// Sends one request, one at a time; fails unless it succeeds.
fn send(server: &Server, cookie: &str, (name, method, path, body): &Request) -> Result {
    let (status, _, answer) = server.http(method, path, Some(cookie), body)?;
    if !(200..300).contains(&status) {
        return Err(format!("{name}: {status} {answer}"));
    }
    Ok(())
}

/// `host:port` of a `postgres://` URL.
fn upstream(url: &str) -> Result<String> {
    let (_, host) = host_span(url)?;
    Ok(if host.contains(':') {
        host.to_string()
    } else {
        format!("{host}:5432")
    })
}

/// The same URL with its `host:port` replaced by `addr`.
fn through(url: &str, addr: &str) -> Result<String> {
    let (start, host) = host_span(url)?;
    Ok(format!(
        "{}{addr}{}",
        &url[..start],
        &url[start + host.len()..]
    ))
}

/// Where the `host[:port]` of a URL starts, and what it is.
fn host_span(url: &str) -> Result<(usize, &str)> {
    let after_scheme = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("not a URL: {url}"))?;
    let authority_end = url[after_scheme..]
        .find(['/', '?'])
        .map_or(url.len(), |i| after_scheme + i);
    let start = url[after_scheme..authority_end]
        .rfind('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    let host = &url[start..authority_end];
    if host.is_empty() {
        return Err(format!("no host in {url}"));
    }
    Ok((start, host))
}

/// `hi-bench bare`, serving the file's body, once it answers.
fn bare_server(body: &Path) -> Result<Server> {
    let addr = crate::free_address()?;
    let child = Command::new(release_bin("hi-bench"))
        .arg("bare")
        .arg(&addr)
        .arg(body)
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting hi-bench bare: {e}"))?;
    let bare = Server {
        child,
        addr,
        url: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok((200, head, _)) = bare.http("GET", "/bare", None, "")
            && head.to_ascii_lowercase().contains("application/json")
        {
            return Ok(bare);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    bare.stop();
    Err("hi-bench bare did not answer within 10 s".into())
}

fn render(lines: &[Line], idle_rate: f64, body: usize) -> String {
    let mut md = String::new();
    let background = if idle_rate > 0.0 {
        format!(
            "The idle server made {idle_rate:.1} round trips a second of its own (counted \
             over {} s); that rate times each run's length was subtracted.",
            IDLE.as_secs()
        )
    } else {
        format!(
            "The idle server made no round trips of its own over {} s, so nothing was \
             subtracted.",
            IDLE.as_secs()
        )
    };
    let _ = writeln!(
        md,
        "\n## Hot path\n\nPostgreSQL, with a second server whose database connections go \
         through a TCP proxy on loopback that delays every chunk {} ms each way (2 ms per \
         round trip, bandwidth untouched) and counts round trips: each time a connection's \
         client speaks after the database last did. Sessions live in the database, so the \
         same cookie serves both servers.\n\n\
         - Round trips per request: after {WARM_UP} of each, {COUNTED} requests of a kind \
         sent one at a time; the proxy's count over them divided by {COUNTED} (the mean time \
         of one request in brackets). Edits are `PATCH` of `{{\"notes\":\"bench N\"}}` on \
         the seeded item. {background}\n\
         - p50 / p99: wrk, {CONNECTIONS} connections and then 1 (how a Lambda instance \
         serves requests: one at a time), {SECONDS} s, against the proxied \
         server.\n\
         - First search after a cold start: the proxied server stopped and started again; \
         once `/api/health` answers, the time of one substring search with the cookie.\n\
         - Bare axum: wrk on a handler that answers every GET with one item's JSON as the \
         server gives it ({body} bytes), next to wrk on get-one-item of the server without \
         the proxy, one after the other; the ratio is bare over server.\n",
        ONE_WAY.as_millis()
    );
    let _ = writeln!(md, "| measure | request | measured | goal | met |");
    let _ = writeln!(md, "|---|---|---:|---|---|");
    for (what, request, measured, goal, met) in lines {
        let met = match met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        let _ = writeln!(md, "| {what} | {request} | {measured} | {goal} | {met} |");
    }
    md
}

/// Puts `section` into the report at `path` in place of its last Hot path section, or at
/// its end; a report that is not there yet holds only the section.
pub(crate) fn write_into(path: &Path, section: &str) -> Result {
    let mut report = std::fs::read_to_string(path).unwrap_or_default();
    if let Some(start) = report.find("\n## Hot path\n") {
        let rest = &report[start + 1..];
        let end = rest.find("\n## ").map_or(report.len(), |i| start + 1 + i);
        report.replace_range(start..end, "");
    }
    let report = format!("{}\n{}", report.trim_end(), section);
    std::fs::write(path, report.trim_start()).map_err(|e| e.to_string())?;
    println!("{section}\nwritten to {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_url_is_sent_through_the_proxy() {
        let url = "postgres://postgres@127.0.0.1:5432/hi_bench";
        assert_eq!(upstream(url).unwrap(), "127.0.0.1:5432");
        assert_eq!(
            through(url, "127.0.0.1:40000").unwrap(),
            "postgres://postgres@127.0.0.1:40000/hi_bench"
        );
        assert_eq!(
            upstream("postgres://db/x?sslmode=disable").unwrap(),
            "db:5432"
        );
        assert_eq!(
            through("postgres://u:p@db/x", "127.0.0.1:1").unwrap(),
            "postgres://u:p@127.0.0.1:1/x"
        );
    }

    #[test]
    fn a_new_section_replaces_the_old_one() {
        let dir = std::env::temp_dir().join(format!("hot-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("api.md");
        std::fs::write(&path, "table\n\n## Hot path\n\nold\n\n## Later\n\nkept\n").unwrap();
        write_into(&path, "\n## Hot path\n\nnew\n").unwrap();
        let report = std::fs::read_to_string(&path).unwrap();
        assert_eq!(report, "table\n\n## Later\n\nkept\n\n## Hot path\n\nnew\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

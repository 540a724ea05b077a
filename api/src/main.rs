//! `home-inventory-backend`: serves the API (and the web app) locally, or runs as an AWS
//! Lambda function when `AWS_LAMBDA_RUNTIME_API` is set; `migrate` brings the database
//! schema up to date and exits; `health` asks a running server whether it is up (the
//! container image's health check); `remind` sends the reminder digests that are due.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use anyhow::Context as _;
use api::{AppState, Config, app, store};
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: home-inventory-backend [serve | migrate | health | remind [--now]]

  serve     serve the API and the web app (the default)
  migrate   apply database migrations and exit
  health    ask the server listening on BIND for /api/health; exit 0 when it answers 2xx
  remind    send the reminder digests that are due (each person's at their local hour;
            with --now, this period's digests whatever the hour) and exit; non-zero
            when one could not be sent

Configuration comes from the environment; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return Ok(());
    }
    if command == "health" {
        std::process::exit(health().await);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Config::from_env()?;
    match command.as_str() {
        "serve" => serve(config).await,
        "migrate" => migrate(&config).await,
        "remind" => remind(config).await,
        other => {
            eprintln!("unknown command {other:?}\n\n{USAGE}");
            std::process::exit(2);
        }
    }
}

async fn migrate(config: &Config) -> anyhow::Result<()> {
    let url = config.database_url.expose_secret();
    store::open(url).await?;
    tracing::info!("the database schema is up to date");
    if url.starts_with("dsql://") {
        let arns: Vec<String> = std::env::var("DSQL_APP_ROLE_ARNS")
            .unwrap_or_default()
            .split(',')
            .map(str::to_string)
            .filter(|a| !a.trim().is_empty())
            .collect();
        if !arns.is_empty() {
            let pg = store::postgres::PgStore::from_pool(store::dsql::pool(url)?, true);
            pg.grant_app_role(&arns).await?;
            tracing::info!(roles = arns.len(), "the app database role is mapped");
        }
    }
    Ok(())
}

/// One reminder pass, for cron or by hand: `remind [--now]`.
async fn remind(config: Config) -> anyhow::Result<()> {
    let mut ignore_hour = false;
    for arg in std::env::args().skip(2) {
        match arg.as_str() {
            "--now" => ignore_hour = true,
            other => {
                eprintln!("unknown option {other:?} for remind\n\n{USAGE}");
                std::process::exit(2);
            }
        }
    }
    let store = store::open(config.database_url.expose_secret())
        .await
        .context("opening the database")?;
    let state = AppState::new(config, store)?;
    if state.mailer.is_none() {
        anyhow::bail!("no mail is configured: set SMTP_URL and MAIL_FROM (or SES on AWS)");
    }
    let report = api::reminders::pass(&state, time::OffsetDateTime::now_utc(), ignore_hour)
        .await
        .context("the reminder pass failed")?;
    println!(
        "reminders: {} sent, {} with nothing new, {} failed",
        report.sent, report.skipped, report.failed
    );
    if report.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// GETs `/api/health` from the server at `BIND` (its loopback address when it listens on
/// every interface), within a few seconds; the exit status: 0 on a 2xx answer, else 1.
async fn health() -> i32 {
    let bind = match Config::from_env() {
        Ok(config) => config.bind,
        Err(e) => {
            eprintln!("unhealthy: {e:#}");
            return 1;
        }
    };
    let ip = match bind.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}/api/health", SocketAddr::new(ip, bind.port()));
    let answer = match reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(client) => client.get(&url).send().await,
        Err(e) => Err(e),
    };
    match answer {
        Ok(response) if response.status().is_success() => {
            println!("healthy: {url} answered {}", response.status());
            0
        }
        Ok(response) => {
            eprintln!("unhealthy: {url} answered {}", response.status());
            1
        }
        Err(e) => {
            eprintln!(
                "unhealthy: {url}: {:#}",
                anyhow::Error::from(e.without_url())
            );
            1
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store = store::open(config.database_url.expose_secret())
        .await
        .context("opening the database")?;
    let bind = config.bind;
    let state = AppState::new(config, store)?;
    if api::lambda::is_lambda() {
        tracing::info!(
            init_ms = started.elapsed().as_millis() as u64,
            "ready for Lambda events"
        );
        return api::lambda::run(app(state)).await;
    }
    // Jobs left unfinished by the last run go on; old jobs' files are removed.
    api::jobs::sweep_forever(state.clone());
    // Reminder digests go out from here when self-hosted (on AWS a schedule runs them).
    api::reminders::remind_forever(state.clone());
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind}"))?;
    let local = listener.local_addr()?;
    tracing::info!("Home Inventory is listening on http://{local}");
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown())
    .await?;
    Ok(())
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

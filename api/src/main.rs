//! `home-inventory-backend`: serves the API (and the web app) locally, or runs as an AWS
//! Lambda function when `AWS_LAMBDA_RUNTIME_API` is set; `migrate` brings the database
//! schema up to date and exits.

use std::net::SocketAddr;

use anyhow::Context as _;
use api::{AppState, Config, app, store};
use secrecy::ExposeSecret;
use tracing_subscriber::EnvFilter;

const USAGE: &str = "usage: home-inventory-backend [serve | migrate]

  serve     serve the API and the web app (the default)
  migrate   apply database migrations and exit

Configuration comes from the environment; see the README.";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        println!("{USAGE}");
        return Ok(());
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

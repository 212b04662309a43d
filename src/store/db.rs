//! Connecting to Postgres: create the database when missing, run migrations.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgConnection, PgPool};

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Creates the database named in `url` if it does not exist.
///
/// # Errors
/// When the server cannot be reached or refuses.
pub async fn ensure_database(url: &str) -> anyhow::Result<()> {
    let options = PgConnectOptions::from_str(url).context("invalid DATABASE_URL")?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let admin = options.clone().database("postgres");
    let mut conn = PgConnection::connect_with(&admin)
        .await
        .context("failed to connect to Postgres")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        // A concurrent creator may win the race; that is fine.
        if let Err(e) = sqlx::query(&format!("CREATE DATABASE \"{quoted}\""))
            .execute(&mut conn)
            .await
        {
            let raced = e
                .as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|c| c == "42P04" || c == "23505");
            if !raced {
                return Err(e).context("failed to create the database");
            }
        }
        tracing::info!(database = %name, "created database");
    }
    conn.close().await.ok();
    Ok(())
}

/// A transaction of ours may sit idle this long before Postgres ends it: an open transaction
/// holds back the sequencer's horizon (and so the events of every later transaction).
pub const IDLE_IN_TRANSACTION_TIMEOUT: &str = "10s";
/// The longest statement the service runs (migrations excepted).
pub const STATEMENT_TIMEOUT: &str = "60s";

/// Connection options for `url`: the session settings `settings`, statements logged at
/// trace level, slow ones (over 1 s) as warnings.
fn options(url: &str, settings: &[(&str, &str)]) -> anyhow::Result<PgConnectOptions> {
    Ok(PgConnectOptions::from_str(url)
        .context("invalid database URL")?
        .options(settings.iter().copied())
        .log_statements(tracing::log::LevelFilter::Trace)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1)))
}

/// Pool settings shared by every pool: `max` connections, a 5 s acquire timeout.
fn pool_options(max: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(5))
}

/// The session limits of the service's own connections.
const LIMITS: [(&str, &str); 2] = [
    (
        "idle_in_transaction_session_timeout",
        IDLE_IN_TRANSACTION_TIMEOUT,
    ),
    ("statement_timeout", STATEMENT_TIMEOUT),
];

/// Opens a pool on `url`, with the session limits above.
///
/// # Errors
/// When the URL is invalid or the server unreachable.
pub async fn pool(url: &str, max: u32) -> anyhow::Result<PgPool> {
    pool_options(max)
        .connect_with(options(url, &LIMITS)?)
        .await
        .context("failed to connect to Postgres")
}

/// A pool for the bus (relay checkpoints, projections): its commits do not wait for the
/// WAL flush (`synchronous_commit = off`). What it writes is derived from the event log and
/// idempotent: a crash can lose its last few commits, which only moves a checkpoint back,
/// and the events after it are published or applied again (at least once, de-duplicated
/// by position). The event log itself, and the sequencer's positions, always commit
/// durably on the main pool.
///
/// # Errors
/// When the URL is invalid or the server unreachable.
pub async fn bus_pool(url: &str, max: u32) -> anyhow::Result<PgPool> {
    let [idle, statement] = LIMITS;
    pool_options(max)
        .connect_with(options(
            url,
            &[idle, statement, ("synchronous_commit", "off")],
        )?)
        .await
        .context("failed to connect to Postgres")
}

/// A pool on `url` that connects when first used (a read replica that is still starting,
/// or briefly away, does not stop the service from starting).
///
/// # Errors
/// When the URL is invalid.
pub fn lazy_pool(url: &str, max: u32) -> anyhow::Result<PgPool> {
    Ok(pool_options(max)
        .connect_lazy_with(options(url, &[("statement_timeout", STATEMENT_TIMEOUT)])?))
}

/// Creates the database if needed, connects, and applies every migration.
///
/// # Errors
/// When any step fails.
pub async fn migrate(url: &str) -> anyhow::Result<PgPool> {
    ensure_database(url).await?;
    // Migrations may run longer than any statement of the service: a session of their own.
    let mut conn = PgConnection::connect_with(
        &PgConnectOptions::from_str(url).context("invalid DATABASE_URL")?,
    )
    .await
    .context("failed to connect to Postgres")?;
    MIGRATOR
        .run(&mut conn)
        .await
        .context("failed to apply migrations")?;
    conn.close().await.ok();
    pool(url, 20).await
}

//! `humit replay --projection NAME`: rebuilds a projection from the event log while the API
//! keeps serving the old rows, with a progress bar (rate and ETA). `humit replay --all`
//! rebuilds every projection, one after the other: with the event log (and the per-person
//! keys) restored into an empty database, that recreates every read model and checkpoint.

use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::bus::maintenance;
use crate::config::Config;

/// Rebuilds `name`.
///
/// # Errors
/// An unknown projection name, or a database failure (the old read model then stays).
pub async fn run(config: &Config, name: &str) -> anyhow::Result<()> {
    let projection = projections::all()
        .into_iter()
        .find(|p| p.name() == name)
        .with_context(|| {
            let names: Vec<_> = projections::all().iter().map(|p| p.name()).collect();
            format!("unknown projection {name:?}; known: {}", names.join(", "))
        })?;
    let pool = crate::store::db::migrate(&config.database_url).await?;
    rebuild(&pool, projection.as_ref()).await
}

/// Rebuilds every projection, one after the other.
///
/// # Errors
/// A database failure (the projection being rebuilt keeps its old rows; the ones before it
/// are rebuilt).
pub async fn run_all(config: &Config) -> anyhow::Result<()> {
    let pool = crate::store::db::migrate(&config.database_url).await?;
    for projection in projections::all() {
        rebuild(&pool, projection.as_ref()).await?;
    }
    Ok(())
}

async fn rebuild(
    pool: &sqlx::PgPool,
    projection: &dyn projections::Projection,
) -> anyhow::Result<()> {
    let name = projection.name();
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {pos}/{len} events, {per_sec}, ETA {eta}",
        )
        .context("progress template")?
        .progress_chars("=> "),
    );
    bar.set_message(format!("rebuilding {name}"));
    bar.enable_steady_tick(Duration::from_millis(200));
    anyhow::ensure!(
        maintenance::claim_rebuild(pool, name).await?,
        "a rebuild of {name} is already running"
    );
    let position = maintenance::run_rebuild(pool, projection, |p| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
    })
    .await?;
    bar.finish_with_message(format!("rebuilt {name}"));
    println!("projection {name} rebuilt up to position {position}");
    Ok(())
}

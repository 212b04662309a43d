//! Operating projections: rebuilds with progress recorded for every process to see, and
//! re-driving dead-lettered events.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use projections::{Envelope, Projection};
use serde::Serialize;
use sqlx::PgPool;

use super::projector::{self, Progress};
use super::BusError;

/// The last known rebuild of a projection (as the admin API shows it, too).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RebuildStatus {
    /// The projection.
    pub projection: String,
    /// `running`, `done`, `failed` or `interrupted` (no heartbeat for 30 s).
    pub status: String,
    /// Events replayed.
    pub done: i64,
    /// Events in the log when it started.
    pub total: i64,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Last progress report.
    pub heartbeat_at: DateTime<Utc>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The checkpoint it reached.
    pub position: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Finds a projection by name.
pub fn projection(name: &str) -> Option<Arc<dyn Projection>> {
    projections::all().into_iter().find(|p| p.name() == name)
}

/// The rebuild status of `name`, if it was ever rebuilt.
///
/// # Errors
/// Database errors.
pub async fn rebuild_status(
    pool: &PgPool,
    name: &str,
) -> Result<Option<RebuildStatus>, sqlx::Error> {
    sqlx::query_as(
        "SELECT projection,
                CASE WHEN status = 'running' AND heartbeat_at < now() - interval '30 seconds'
                     THEN 'interrupted' ELSE status END AS status,
                done, total, started_at, heartbeat_at, finished_at, position, error
         FROM projection_rebuilds WHERE projection = $1",
    )
    .bind(name)
    .fetch_optional(pool)
    .await
}

/// Marks a rebuild as started; `false` when one is already running.
///
/// # Errors
/// Database errors.
pub async fn claim_rebuild(pool: &PgPool, name: &str) -> Result<bool, sqlx::Error> {
    let started = sqlx::query(
        "INSERT INTO projection_rebuilds (projection, status) VALUES ($1, 'running')
         ON CONFLICT (projection) DO UPDATE
            SET status = 'running', done = 0, total = 0, started_at = now(), heartbeat_at = now(),
                finished_at = NULL, position = NULL, error = NULL
            WHERE projection_rebuilds.status <> 'running'
               OR projection_rebuilds.heartbeat_at < now() - interval '30 seconds'",
    )
    .bind(name)
    .execute(pool)
    .await?;
    Ok(started.rows_affected() == 1)
}

/// Runs a rebuild claimed with [`claim_rebuild`], recording progress and the outcome.
/// `on_progress` sees every report too (the CLI draws its bar with it).
///
/// # Errors
/// The rebuild's failure (also recorded).
pub async fn run_rebuild(
    pool: &PgPool,
    projection: &dyn Projection,
    mut on_progress: impl FnMut(Progress) + Send,
) -> Result<i64, BusError> {
    let name = projection.name();
    let (tx, mut rx) = tokio::sync::watch::channel(Progress::default());
    let reporter = {
        let pool = pool.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            // Heartbeats and progress, at most twice a second, outside the rebuild's transaction.
            loop {
                let changed = tokio::time::timeout(Duration::from_millis(500), rx.changed()).await;
                if matches!(changed, Ok(Err(_))) {
                    break;
                }
                let p = *rx.borrow_and_update();
                let _ = sqlx::query(
                    "UPDATE projection_rebuilds SET done = $2, total = $3, heartbeat_at = now()
                     WHERE projection = $1 AND status = 'running'",
                )
                .bind(&name)
                .bind(p.done)
                .bind(p.total)
                .execute(&pool)
                .await;
            }
        })
    };
    let started = Instant::now();
    let result = projector::rebuild(pool, projection, |p| {
        tx.send_replace(p);
        on_progress(p);
    })
    .await;
    drop(tx);
    let _ = reporter.await;
    let (status, position, error) = match &result {
        Ok(position) => ("done", Some(*position), None),
        Err(e) => ("failed", None, Some(e.to_string())),
    };
    sqlx::query(
        "UPDATE projection_rebuilds SET status = $2, position = $3, error = $4, finished_at = now(),
            heartbeat_at = now(), done = CASE WHEN $2 = 'done' THEN total ELSE done END
         WHERE projection = $1",
    )
    .bind(name)
    .bind(status)
    .bind(position)
    .bind(error)
    .execute(pool)
    .await?;
    tracing::info!(
        projection = name,
        status,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "rebuild finished"
    );
    result
}

/// A dead-lettered event (as the admin API shows it, too).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct DeadLetter {
    /// Its global position.
    pub position: i64,
    /// Aggregate type.
    pub aggregate_type: String,
    /// Aggregate id.
    pub aggregate_id: String,
    /// Event type.
    pub event_type: String,
    /// Why it failed.
    pub error: String,
    /// Attempts made (0 when parked behind an earlier one).
    pub attempts: i32,
    /// When it was parked.
    pub parked_at: DateTime<Utc>,
}

/// The dead letters of `name`, oldest first.
///
/// # Errors
/// Database errors.
pub async fn dead_letters(
    pool: &PgPool,
    name: &str,
    limit: i64,
) -> Result<Vec<DeadLetter>, sqlx::Error> {
    sqlx::query_as(
        "SELECT position, aggregate_type, aggregate_id, event_type, error, attempts, parked_at
         FROM projection_dead_letters WHERE projection = $1 ORDER BY position LIMIT $2",
    )
    .bind(name)
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// What a re-drive did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Redrive {
    /// Applied and removed from the dead letters.
    pub redriven: u64,
    /// Still failing (with their later events of the same aggregate, kept in order).
    pub still_failing: u64,
}

/// Applies the dead letters of `projection` again, oldest first. An event that fails again
/// stays, and so do the later events of its aggregate.
///
/// # Errors
/// Database errors.
pub async fn redrive(pool: &PgPool, projection: &dyn Projection) -> Result<Redrive, BusError> {
    let name = projection.name();
    let rows: Vec<(i64, serde_json::Value)> = sqlx::query_as(
        "SELECT position, envelope FROM projection_dead_letters WHERE projection = $1 ORDER BY position",
    )
    .bind(name)
    .fetch_all(pool)
    .await?;
    let mut outcome = Redrive::default();
    let mut blocked = std::collections::HashSet::new();
    for (position, envelope) in rows {
        let event: Envelope = serde_json::from_value(envelope)?;
        let aggregate = (event.aggregate_type.clone(), event.aggregate_id.clone());
        if blocked.contains(&aggregate) {
            outcome.still_failing += 1;
            continue;
        }
        let mut tx = pool.begin().await?;
        let applied = if projection.wants(&event.routing_key()) {
            projection.apply(&mut tx, &event).await
        } else {
            Ok(())
        };
        match applied {
            Ok(()) => {
                sqlx::query(
                    "DELETE FROM projection_dead_letters WHERE projection = $1 AND position = $2",
                )
                .bind(name)
                .bind(position)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                outcome.redriven += 1;
            }
            Err(error) => {
                tx.rollback().await?;
                sqlx::query(
                    "UPDATE projection_dead_letters SET error = $3, attempts = attempts + 1
                     WHERE projection = $1 AND position = $2",
                )
                .bind(name)
                .bind(position)
                .bind(error.to_string())
                .execute(pool)
                .await?;
                blocked.insert(aggregate);
                outcome.still_failing += 1;
            }
        }
    }
    tracing::info!(
        projection = name,
        redriven = outcome.redriven,
        still_failing = outcome.still_failing,
        "dead letters re-driven"
    );
    Ok(outcome)
}

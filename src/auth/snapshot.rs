//! Snapshots of the in-memory auth state ([`Registry`]): one row, `auth_snapshot`, holding
//! the pruned state (live sessions, revocations still in force, roles and cut-offs) and the
//! log position it reflects. Every process writes it every `HUMIT_AUTH_SNAPSHOT_SECS` when
//! its state moved on (the newest position wins); a starting process restores it and reads
//! only the events after its position. A snapshot of another format, or one that does not
//! decode, is ignored: the process then reads the whole log, as before snapshots.

use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;

use super::Registry;
use crate::background::{sleep_or_stop, Shutdown};

/// The layout of the stored state; a change of the state's shape bumps it.
const FORMAT: i32 = 1;

/// Restores the latest snapshot into `registry` (which must be fresh). Answers the position
/// it reflects (0 without a usable snapshot).
///
/// # Errors
/// Database errors.
pub async fn restore(registry: &Registry, pool: &PgPool) -> Result<i64, sqlx::Error> {
    let row: Option<(i32, i64, serde_json::Value)> =
        sqlx::query_as("SELECT format, position, state FROM auth_snapshot WHERE id = 1")
            .fetch_optional(pool)
            .await?;
    let Some((format, position, state)) = row else {
        return Ok(0);
    };
    if format != FORMAT {
        tracing::info!(format, "auth snapshot of another format ignored");
        return Ok(0);
    }
    match registry.import(state, position) {
        Ok(()) => {
            tracing::info!(position, "auth state restored from its snapshot");
            Ok(position)
        }
        Err(error) => {
            tracing::warn!(%error, "auth snapshot does not decode; reading the whole log");
            Ok(0)
        }
    }
}

/// Writes `registry`'s state as the snapshot unless a newer one is stored. Answers the
/// position written (`None` when a newer snapshot was there).
///
/// # Errors
/// Database errors.
pub async fn save(registry: &Registry, pool: &PgPool) -> Result<Option<i64>, sqlx::Error> {
    let (state, position) = registry
        .export()
        .map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let written = sqlx::query(
        "INSERT INTO auth_snapshot (id, format, position, state) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE
             SET format = excluded.format, position = excluded.position,
                 state = excluded.state, taken_at = now()
             WHERE auth_snapshot.position < excluded.position
                OR auth_snapshot.format <> excluded.format",
    )
    .bind(FORMAT)
    .bind(position)
    .bind(state)
    .execute(pool)
    .await?
    .rows_affected();
    Ok((written > 0).then_some(position))
}

/// Writes a snapshot every `period` while the state moves on, until shutdown.
pub async fn every(
    registry: Arc<Registry>,
    pool: PgPool,
    period: Duration,
    mut shutdown: Shutdown,
) {
    let mut saved = 0;
    loop {
        if sleep_or_stop(period, &mut shutdown).await {
            return;
        }
        if registry.position() <= saved {
            continue;
        }
        match save(&registry, &pool).await {
            Ok(Some(position)) => {
                saved = position;
                tracing::debug!(position, "auth state snapshotted");
            }
            Ok(None) => saved = registry.position(),
            Err(error) => tracing::warn!(%error, "auth snapshot not written"),
        }
    }
}

//! Rebuilding a projection from the event log beside the live read model, then swapping.
//!
//! The events are replayed, a batch per transaction, into shadow copies of the projection's
//! tables (schema `humit_rebuild_<name>`); the live tables keep answering and the live
//! consumer keeps applying. One short transaction then locks the projection's checkpoint,
//! replays what came meanwhile, and replaces the live rows and checkpoint with the rebuilt
//! ones. No transaction stays open for the whole rebuild, so the sequencer's horizon never
//! waits on it.

use projections::{Envelope, Projection, ProjectionError};
use sqlx::{PgConnection, PgPool};

use super::projector::{
    aggregate_is_parked, insert_dead_letter, lock_checkpoint, set_checkpoint, PARKED_BEHIND,
};
use super::BusError;
use crate::store::log;

/// Progress of a rebuild, reported after each batch.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Progress {
    /// Events replayed so far.
    pub done: i64,
    /// The log's head when the rebuild started (it may grow).
    pub total: i64,
}

/// The schema a rebuild of `name` writes its shadow tables into.
fn shadow_schema(name: &str) -> String {
    format!("\"humit_rebuild_{}\"", name.replace('"', ""))
}

/// One transaction that writes into the shadow tables of `schema` (the projection's SQL names
/// its tables unqualified; the search path finds the shadow ones first).
async fn shadow_tx<'c>(
    pool: &'c PgPool,
    schema: &str,
) -> Result<sqlx::Transaction<'c, sqlx::Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(&format!("SET LOCAL search_path TO {schema}, public"))
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Applies `events` to the shadow tables (inside `tx`); answers the last position.
async fn replay_into(
    tx: &mut PgConnection,
    projection: &dyn Projection,
    events: &[Envelope],
    mut position: i64,
) -> Result<i64, BusError> {
    let name = projection.name();
    for event in events {
        position = event.position;
        if !projection.wants(&event.routing_key()) {
            continue;
        }
        let mut sp = sqlx::Acquire::begin(&mut *tx).await?;
        let result = if aggregate_is_parked(&mut sp, name, event).await? {
            Err(ProjectionError::Invalid(PARKED_BEHIND.into()))
        } else {
            projection.apply(&mut sp, event).await
        };
        match result {
            Ok(()) => sp.commit().await?,
            Err(error) => {
                sp.rollback().await?;
                if error.is_transient() {
                    return Err(BusError::Projection {
                        name: name.into(),
                        message: error.to_string(),
                    });
                }
                insert_dead_letter(tx, name, event, &error.to_string(), 1).await?;
            }
        }
    }
    Ok(position)
}

/// Rebuilds `projection` from the event log beside the live read model, then swaps.
///
/// The events are replayed, a batch per transaction, into shadow copies of the projection's
/// tables (schema `humit_rebuild_<name>`, `LIKE … INCLUDING ALL`) while the live tables keep
/// answering queries and the live consumer keeps applying. At the end one transaction locks
/// the projection's checkpoint (the live consumer waits), replays what came meanwhile, and
/// replaces the live rows with the shadow rows (`DELETE` + `INSERT … SELECT`, so readers see
/// the old rows until it commits, never an empty table) and the checkpoint with the rebuild's.
/// No transaction stays open for the whole rebuild, so the sequencer's horizon never waits
/// on it. Returns the checkpoint reached.
///
/// # Errors
/// Database errors; the live read model stays as it was.
pub async fn rebuild(
    pool: &PgPool,
    projection: &dyn Projection,
    mut progress: impl FnMut(Progress) + Send,
) -> Result<i64, BusError> {
    let name = projection.name();
    let schema = shadow_schema(name);
    let total: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(pool)
        .await?;
    {
        let mut tx = pool.begin().await?;
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut *tx)
            .await?;
        for table in projection
            .tables()
            .iter()
            .chain(std::iter::once(&"projection_dead_letters"))
        {
            sqlx::query(&format!(
                "CREATE TABLE {schema}.{table} (LIKE public.{table} INCLUDING ALL)"
            ))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
    }
    let mut position = 0;
    let mut done = 0;
    loop {
        let batch = log::read_after(pool, position, 500).await?;
        if batch.is_empty() {
            break;
        }
        let mut tx = shadow_tx(pool, &schema).await?;
        position = replay_into(&mut tx, projection, &batch, position).await?;
        tx.commit().await?;
        done += batch.len() as i64;
        progress(Progress {
            done,
            total: total.max(done),
        });
    }

    // The swap: the live consumer waits on the checkpoint lock until it commits.
    let mut tx = shadow_tx(pool, &schema).await?;
    lock_checkpoint(&mut tx, name).await?;
    loop {
        let batch = log::read_after(&mut *tx, position, 500).await?;
        if batch.is_empty() {
            break;
        }
        position = replay_into(&mut tx, projection, &batch, position).await?;
        done += batch.len() as i64;
    }
    for table in projection.tables() {
        sqlx::query(&format!("DELETE FROM public.{table}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!(
            "INSERT INTO public.{table} SELECT * FROM {schema}.{table}"
        ))
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query("DELETE FROM public.projection_dead_letters WHERE projection = $1")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!(
        "INSERT INTO public.projection_dead_letters SELECT * FROM {schema}.projection_dead_letters
         WHERE projection = $1"
    ))
    .bind(name)
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&mut *tx)
        .await?;
    set_checkpoint(&mut tx, name, position).await?;
    tx.commit().await?;
    progress(Progress {
        done,
        total: total.max(done),
    });
    tracing::info!(
        projection = name,
        position,
        events = done,
        "projection rebuilt"
    );
    Ok(position)
}

//! Projection status, rebuilds with progress, dead letters.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, Superuser};
use crate::bus::{broker, maintenance};
use crate::state::AppState;
use crate::store::log;

/// Message counts of the projection queues, asked of RabbitMQ (passive declare); `None` when
/// the broker cannot be reached in time.
async fn queue_depths(state: &AppState, names: &[&str]) -> Vec<Option<u32>> {
    let ask = async {
        let conn = broker::connect(&state.config.amqp_url).await.ok()?;
        let mut depths = Vec::new();
        for name in names {
            let channel = conn.create_channel().await.ok()?;
            let queue = broker::projection_queue(&state.config.exchange, name);
            let declared = channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        passive: true,
                        ..Default::default()
                    },
                    FieldTable::default(),
                )
                .await;
            depths.push(declared.ok().map(|q| q.message_count()));
            if channel.status().connected() {
                let _ = channel.close(200, "admin".into()).await;
            }
        }
        let _ = conn.close(200, "admin".into()).await;
        Some(depths)
    };
    tokio::time::timeout(Duration::from_secs(2), ask)
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![None; names.len()])
}

/// `GET /admin/projections`: checkpoint, lag (events and seconds), queue depth, dead letters
/// and the last rebuild of every projection.
pub(super) async fn list(
    _: Superuser,
    State(state): State<AppState>,
) -> Result<Json<Value>, AdminError> {
    let head = log::head(&state.pool).await?;
    let all = projections::all();
    let names: Vec<&str> = all.iter().map(|p| p.name()).collect();
    let depths = queue_depths(&state, &names).await;
    let mut out = Vec::new();
    for (name, depth) in names.iter().zip(depths) {
        let checkpoint: i64 =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
                .bind(name)
                .fetch_optional(&state.pool)
                .await?
                .unwrap_or(0);
        let oldest_pending: Option<DateTime<Utc>> =
            sqlx::query_scalar("SELECT min(recorded_at) FROM events WHERE position > $1")
                .bind(checkpoint)
                .fetch_one(&state.pool)
                .await?;
        let lag_seconds = oldest_pending.map_or(0.0, |t| {
            (Utc::now() - t).num_milliseconds().max(0) as f64 / 1000.0
        });
        let dead: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM projection_dead_letters WHERE projection = $1",
        )
        .bind(name)
        .fetch_one(&state.pool)
        .await?;
        let rebuild = maintenance::rebuild_status(&state.pool, name).await?;
        out.push(json!({
            "name": name,
            "checkpoint": checkpoint,
            "head": head,
            "lag_events": (head - checkpoint).max(0),
            "lag_seconds": lag_seconds,
            "queue": broker::projection_queue(&state.config.exchange, name),
            "queue_depth": depth,
            "dead_lettered": dead,
            "rebuild": rebuild,
        }));
    }
    Ok(Json(json!({"head": head, "projections": out})))
}

fn known(name: &str) -> Result<std::sync::Arc<dyn projections::Projection>, AdminError> {
    maintenance::projection(name)
        .ok_or_else(|| AdminError::not_found(format!("unknown projection {name}")))
}

/// `POST /admin/projections/{name}/rebuild`: starts a rebuild in the background (202); its
/// progress shows on `GET /admin/projections`. 409 when one is running.
pub(super) async fn rebuild(
    Superuser(who): Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    let projection = known(&name)?;
    if !maintenance::claim_rebuild(&state.pool, &name).await? {
        return Err(AdminError::new(
            StatusCode::CONFLICT,
            "REBUILD_RUNNING",
            format!("a rebuild of {name} is already running"),
        ));
    }
    tracing::info!(projection = %name, by = %who.user_id, "rebuild requested");
    let pool = state.pool.clone();
    tokio::spawn(async move {
        if let Err(error) = maintenance::run_rebuild(&pool, projection.as_ref(), |_| {}).await {
            tracing::error!(%error, "rebuild failed");
        }
    });
    let status = maintenance::rebuild_status(&state.pool, &name).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"rebuild": status}))).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct LimitQuery {
    limit: Option<i64>,
}

/// `GET /admin/projections/{name}/dead-letters`.
pub(super) async fn dead_letters(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Value>, AdminError> {
    known(&name)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let letters = maintenance::dead_letters(&state.pool, &name, limit).await?;
    Ok(Json(json!({"projection": name, "dead_letters": letters})))
}

/// `POST /admin/projections/{name}/dead-letters/redrive`.
pub(super) async fn redrive(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let projection = known(&name)?;
    let outcome = maintenance::redrive(&state.pool, projection.as_ref()).await?;
    Ok(Json(
        json!({"projection": name, "redriven": outcome.redriven, "still_failing": outcome.still_failing}),
    ))
}

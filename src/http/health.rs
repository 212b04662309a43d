//! `/health` (alive), `/ready` (Postgres and RabbitMQ reachable, relay lag), `/metrics`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::bus::relay;
use crate::state::AppState;
use crate::store::log;

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

async fn ready(State(state): State<AppState>) -> Response {
    let postgres = sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(&state.pool)
        .await
        .is_ok();
    let rabbitmq = tokio::time::timeout(
        Duration::from_secs(2),
        crate::bus::broker::connect(&state.config.amqp_url),
    )
    .await
    .ok()
    .and_then(Result::ok);
    let rabbitmq_ok = match rabbitmq {
        Some(conn) => {
            let _ = conn.close(200, "ready check".into()).await;
            true
        }
        None => false,
    };
    let (head, relayed) = if postgres {
        (
            log::head(&state.pool).await.unwrap_or(0),
            relay::checkpoint(&state.pool).await.unwrap_or(0),
        )
    } else {
        (0, 0)
    };
    let ready = postgres && rabbitmq_ok;
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "postgres": if postgres { "ok" } else { "unreachable" },
        "rabbitmq": if rabbitmq_ok { "ok" } else { "unreachable" },
        "relay": {
            "active_here": state.relay_leader.load(Ordering::Relaxed),
            "position": relayed,
            "lag": (head - relayed).max(0),
        },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Refreshes the gauges that are read from the database, then renders every metric.
async fn metrics(State(state): State<AppState>) -> Response {
    if let Ok(head) = log::head(&state.pool).await {
        metrics::gauge!("humit_event_log_head").set(head as f64);
        if let Ok(relayed) = relay::checkpoint(&state.pool).await {
            metrics::gauge!("humit_relay_lag_events").set((head - relayed).max(0) as f64);
        }
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT c.name, c.position,
                    (SELECT count(*) FROM projection_dead_letters d WHERE d.projection = c.name)
             FROM projection_checkpoints c",
        )
        .fetch_all(&state.pool)
        .await
        .unwrap_or_default();
        for (name, position, dead) in rows {
            metrics::gauge!("humit_projection_lag_events", "projection" => name.clone())
                .set((head - position).max(0) as f64);
            metrics::gauge!("humit_projection_dead_lettered", "projection" => name)
                .set(dead as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

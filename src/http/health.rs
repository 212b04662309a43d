//! `/health` (alive), `/ready` (Postgres reachable and writable: 200, else 503; RabbitMQ and
//! the relay reported, a broker outage only degrades: commands keep succeeding), `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::app::audit;
use crate::state::AppState;

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
    let r = audit::readiness(&state).await;
    let (postgres, rabbitmq_ok, head, relayed) = (r.postgres, r.rabbitmq, r.head, r.relayed);
    let ready = postgres;
    let status = match (ready, rabbitmq_ok) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ready",
    };
    let body = json!({
        "status": status,
        "postgres": match (postgres, r.read_only) {
            (true, _) => "ok",
            (false, true) => "read-only",
            (false, false) => "unreachable",
        },
        "rabbitmq": if rabbitmq_ok { "ok" } else { "unreachable" },
        "relay": {
            "active_here": r.relay_here,
            "position": relayed,
            "lag": (head - relayed).max(0),
        },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = (status, Json(body)).into_response();
    if !ready {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, crate::app::RETRY_AFTER_SECS.into());
    }
    response
}

/// Refreshes the gauges that are read from the database, then renders every metric.
async fn metrics(State(state): State<AppState>) -> Response {
    audit::refresh_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

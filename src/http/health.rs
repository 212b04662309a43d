//! `/health` (alive), `/ready` (Postgres and RabbitMQ reachable, relay lag), `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::app::audit;
use crate::state::AppState;

/// The health routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
}

/// `GET /health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthDto {
    /// `ok`.
    pub status: String,
}

/// `GET /ready`: ready when Postgres and RabbitMQ answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyDto {
    /// `ready` or `unavailable`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub postgres: String,
    /// `ok` or `unreachable`.
    pub rabbitmq: String,
    /// The relay's progress.
    pub relay: RelayDto,
}

/// Where the relay is.
#[derive(Debug, Serialize, ToSchema)]
pub struct RelayDto {
    /// Whether this process holds the relay lock.
    pub active_here: bool,
    /// The last global position published.
    pub position: i64,
    /// Events committed and not yet published.
    pub lag: i64,
}

/// Alive: answers as long as the process serves HTTP.
#[utoipa::path(
    get, path = "/health", tag = "ops",
    responses((status = 200, description = "Alive", body = HealthDto))
)]
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: Postgres and RabbitMQ reachable; the relay's lag.
#[utoipa::path(
    get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = ReadyDto),
        (status = 503, description = "Postgres or RabbitMQ unreachable", body = ReadyDto),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let r = audit::readiness(&state).await;
    let (postgres, rabbitmq_ok, head, relayed) = (r.postgres, r.rabbitmq, r.head, r.relayed);
    let ready = postgres && rabbitmq_ok;
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "postgres": if postgres { "ok" } else { "unreachable" },
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
    (status, Json(body)).into_response()
}

/// Refreshes the gauges that are read from the database, then renders every metric.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    audit::refresh_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

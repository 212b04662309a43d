//! `/health` (alive), `/ready` (Postgres reachable and writable and the revocation feed
//! fresh: 200, else 503; RabbitMQ, the relay and which OAuth providers are bound to humit's
//! client reported; a broker outage only degrades: commands keep succeeding), `/metrics`
//! (behind `HUMIT_METRICS_TOKEN` when set).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
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
    /// `ready`, `degraded` (RabbitMQ unreachable: commands still succeed) or `unavailable`.
    pub status: String,
    /// `ok`, `read-only` or `unreachable`.
    pub postgres: String,
    /// `ok` or `unreachable`.
    pub rabbitmq: String,
    /// `ok`, or `stale` when the revocation feed stopped catching up (not ready).
    pub revocations: String,
    /// The relay's progress.
    pub relay: RelayDto,
    /// Each OAuth provider: `verified` (its tokens are bound to humit's own client) or
    /// `unverified`.
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub providers: serde_json::Map<String, serde_json::Value>,
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

/// Ready: Postgres reachable and writable and the revocation feed fresh (a broker outage
/// only degrades: `"status": "degraded"`); RabbitMQ, the relay's lag and the OAuth providers
/// reported.
#[utoipa::path(
    get, path = "/ready", tag = "ops",
    responses(
        (status = 200, description = "Ready", body = ReadyDto),
        (status = 503, description = "Postgres unreachable or read-only, or the revocation feed stale", body = ReadyDto),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let r = audit::readiness(&state).await;
    let (postgres, rabbitmq_ok, head, relayed) = (r.postgres, r.rabbitmq, r.head, r.relayed);
    let ready = postgres && r.revocations;
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
        // A revocation feed that stopped catching up fails closed.
        "revocations": if r.revocations { "ok" } else { "stale" },
        "relay": {
            "active_here": r.relay_here,
            "position": relayed,
            "lag": (head - relayed).max(0),
        },
        // Whether each provider's tokens are bound to humit's own client (finding 1).
        "providers": r
            .providers
            .iter()
            .map(|(name, bound)| (name.to_string(), json!(if *bound { "verified" } else { "unverified" })))
            .collect::<serde_json::Map<_, _>>(),
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

/// Whether `headers` carry `Authorization: Bearer <token>` (compared as SHA-256 digests, so
/// the time taken tells nothing about the token).
fn bearer_is(headers: &HeaderMap, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    Sha256::digest(sent.as_bytes()) == Sha256::digest(token.as_bytes())
}

/// Refreshes the gauges that are read from the database, then renders every metric. With
/// `HUMIT_METRICS_TOKEN` set, only for a scraper that sends it.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "`HUMIT_METRICS_TOKEN` is set and the request does not carry it as `Authorization: Bearer`"),
    )
)]
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = state.config.metrics_token.as_deref() {
        if !bearer_is(&headers, token) {
            return (
                StatusCode::UNAUTHORIZED,
                [(header::WWW_AUTHENTICATE, "Bearer")],
                Json(json!({"detail": "Authentication credentials were not provided."})),
            )
                .into_response();
        }
    }
    audit::refresh_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

//! `/health` (alive), `/ready` (Postgres reachable and writable and the revocation feed
//! fresh: 200, else 503; RabbitMQ, the relay and which OAuth providers are bound to humit's
//! client reported; a broker outage only degrades: commands keep succeeding), `/metrics`
//! (behind `HUMIT_METRICS_TOKEN` when set).

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
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
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
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

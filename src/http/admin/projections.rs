//! Projection status, rebuilds with progress, dead letters.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, Query, Superuser};
use crate::app::audit;
use crate::state::AppState;

/// `GET /admin/projections`: checkpoint, lag (events and seconds), queue depth, dead letters
/// and the last rebuild of every projection.
#[utoipa::path(
    get, path = "/admin/projections", tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "Every projection: checkpoint, lag, queue, dead letters, rebuild", body = super::openapi::ProjectionList),
        super::openapi::SuperuserOnly,
    )
)]
pub(super) async fn list(
    _: Superuser,
    State(state): State<AppState>,
) -> Result<Json<Value>, AdminError> {
    let (head, statuses) = audit::projections(&state).await?;
    let out: Vec<Value> = statuses
        .into_iter()
        .map(|p| {
            json!({
                "name": p.name,
                "checkpoint": p.checkpoint,
                "head": head,
                "lag_events": (head - p.checkpoint).max(0),
                "lag_seconds": p.lag_seconds,
                "queue": p.queue,
                "queue_depth": p.queue_depth,
                "dead_lettered": p.dead_lettered,
                "rebuild": p.rebuild,
            })
        })
        .collect();
    Ok(Json(json!({"head": head, "projections": out})))
}

/// `POST /admin/projections/{name}/rebuild`: starts a rebuild in the background (202); its
/// progress shows on `GET /admin/projections`. 409 when one is running.
#[utoipa::path(
    post, path = "/admin/projections/{name}/rebuild", tag = "admin",
    params(
        ("name" = String, Path, description = "A projection: `users`, `social`, ..."),
    ),
    security(("admin" = [])),
    responses(
        (status = 202, description = "Rebuild started; poll `GET /admin/projections` for progress", body = super::openapi::RebuildAccepted),
        super::openapi::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::openapi::AdminErrorBody),
        (status = 409, description = "REBUILD_RUNNING", body = super::openapi::AdminErrorBody),
    )
)]
pub(super) async fn rebuild(
    Superuser(who): Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    let status = audit::rebuild(&state, &name, &who.user_id).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({"rebuild": status}))).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct LimitQuery {
    limit: Option<i64>,
}

/// `GET /admin/projections/{name}/dead-letters`.
#[utoipa::path(
    get, path = "/admin/projections/{name}/dead-letters", tag = "admin",
    params(
        ("name" = String, Path, description = "A projection: `users`, `social`, ..."),
        ("limit" = Option<i64>, Query, description = "At most this many, 1 to 1000 (default 100; out-of-range values are clamped)"),
    ),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The events the projection parked after its bounded attempts", body = super::openapi::DeadLetterList),
        (status = 400, description = "BAD_REQUEST: a bad query parameter", body = super::openapi::AdminErrorBody),
        super::openapi::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::openapi::AdminErrorBody),
    )
)]
pub(super) async fn dead_letters(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<Value>, AdminError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let letters = audit::dead_letters(&state, &name, limit).await?;
    Ok(Json(json!({"projection": name, "dead_letters": letters})))
}

/// `POST /admin/projections/{name}/dead-letters/redrive`.
#[utoipa::path(
    post, path = "/admin/projections/{name}/dead-letters/redrive", tag = "admin",
    params(
        ("name" = String, Path, description = "A projection: `users`, `social`, ..."),
    ),
    security(("admin" = [])),
    responses(
        (status = 200, description = "How many parked events applied now, and how many still fail", body = super::openapi::Redriven),
        super::openapi::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::openapi::AdminErrorBody),
    )
)]
pub(super) async fn redrive(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Value>, AdminError> {
    let (redriven, still_failing) = audit::redrive(&state, &name).await?;
    Ok(Json(
        json!({"projection": name, "redriven": redriven, "still_failing": still_failing}),
    ))
}

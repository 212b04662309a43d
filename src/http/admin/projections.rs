//! Projection status, rebuilds with progress, dead letters.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::dto::{DeadLetterList, ProjectionInfo, ProjectionList, RebuildAccepted, Redriven};
use super::{AdminError, Query, Superuser};
use crate::app::audit;
use crate::state::AppState;

/// `GET /admin/projections`: checkpoint, lag (events and seconds), queue depth, dead letters
/// and the last rebuild of every projection.
#[utoipa::path(
    get, path = "/admin/projections", tag = "admin",
    security(("admin" = [])),
    responses(
        (status = 200, description = "Every projection: checkpoint, lag, queue, dead letters, rebuild", body = super::dto::ProjectionList),
        super::dto::SuperuserOnly,
    )
)]
pub(super) async fn list(
    _: Superuser,
    State(state): State<AppState>,
) -> Result<Json<ProjectionList>, AdminError> {
    let (head, statuses) = audit::projections(&state).await?;
    let projections = statuses
        .into_iter()
        .map(|status| ProjectionInfo::new(head, status))
        .collect();
    Ok(Json(ProjectionList { head, projections }))
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
        (status = 202, description = "Rebuild started; poll `GET /admin/projections` for progress", body = super::dto::RebuildAccepted),
        super::dto::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::dto::AdminErrorBody),
        (status = 409, description = "REBUILD_RUNNING", body = super::dto::AdminErrorBody),
    )
)]
pub(super) async fn rebuild(
    Superuser(who): Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AdminError> {
    let status = audit::rebuild(&state, &name, &who.user_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RebuildAccepted { rebuild: status }),
    )
        .into_response())
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
        (status = 200, description = "The events the projection parked after its bounded attempts", body = super::dto::DeadLetterList),
        (status = 400, description = "BAD_REQUEST: a bad query parameter", body = super::dto::AdminErrorBody),
        super::dto::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::dto::AdminErrorBody),
    )
)]
pub(super) async fn dead_letters(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<LimitQuery>,
) -> Result<Json<DeadLetterList>, AdminError> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    let dead_letters = audit::dead_letters(&state, &name, limit).await?;
    Ok(Json(DeadLetterList {
        projection: name,
        dead_letters,
    }))
}

/// `POST /admin/projections/{name}/dead-letters/redrive`.
#[utoipa::path(
    post, path = "/admin/projections/{name}/dead-letters/redrive", tag = "admin",
    params(
        ("name" = String, Path, description = "A projection: `users`, `social`, ..."),
    ),
    security(("admin" = [])),
    responses(
        (status = 200, description = "How many parked events applied now, and how many still fail", body = super::dto::Redriven),
        super::dto::SuperuserOnly,
        (status = 404, description = "NOT_FOUND: unknown projection", body = super::dto::AdminErrorBody),
    )
)]
pub(super) async fn redrive(
    _: Superuser,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Redriven>, AdminError> {
    let (redriven, still_failing) = audit::redrive(&state, &name).await?;
    Ok(Json(Redriven {
        projection: name,
        redriven,
        still_failing,
    }))
}

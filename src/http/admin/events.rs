//! The audit trail: the global log, an aggregate's history, and its state at any point.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::dto::{AggregateHistory, AggregateState, EventPage};
use super::{AdminError, Query, Superuser};
use crate::app::audit::{self, At, EventFilter as Filter};
use crate::state::AppState;

/// The largest page of events.
pub const MAX_PAGE: i64 = 1_000;

#[derive(Debug, Deserialize)]
pub(super) struct EventsQuery {
    after: Option<i64>,
    limit: Option<i64>,
    aggregate_type: Option<String>,
    aggregate_id: Option<String>,
    event_type: Option<String>,
    actor: Option<String>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
}

fn blank_none(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

/// `GET /admin/events`: the log in global order, paged by position, filtered.
#[utoipa::path(
    get, path = "/admin/events", tag = "admin",
    params(
        ("after" = Option<i64>, Query, description = "Only events after this global position (default 0)"),
        ("limit" = Option<i64>, Query, minimum = 1, maximum = 1000, description = "Page size, 1 to 1000 (default 100)"),
        ("aggregate_type" = Option<String>, Query, description = "Exact aggregate type, e.g. `User`"),
        ("aggregate_id" = Option<String>, Query, description = "Exact aggregate id"),
        ("event_type" = Option<String>, Query, description = "Exact event type, e.g. `UserRegistered`"),
        ("actor" = Option<String>, Query, description = "The acting user's id"),
        ("since" = Option<String>, Query, format = DateTime, description = "Recorded at or after (RFC 3339)"),
        ("until" = Option<String>, Query, format = DateTime, description = "Recorded before (RFC 3339)"),
    ),
    security(("admin" = [])),
    responses(
        (status = 200, description = "A page of the global log", body = super::dto::EventPage),
        (status = 400, description = "BAD_REQUEST: a bad query parameter", body = super::dto::AdminErrorBody),
        super::dto::SuperuserOnly,
    )
)]
pub(super) async fn list(
    _: Superuser,
    State(state): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Json<EventPage>, AdminError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AdminError::bad_request(format!(
            "limit must be between 1 and {MAX_PAGE}"
        )));
    }
    let filter = Filter {
        after: q.after.unwrap_or(0).max(0),
        limit,
        aggregate_type: blank_none(q.aggregate_type),
        aggregate_id: blank_none(q.aggregate_id),
        event_type: blank_none(q.event_type),
        actor: blank_none(q.actor),
        since: q.since,
        until: q.until,
    };
    let events = audit::events(&state, &filter).await?;
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.position))
        .flatten();
    Ok(Json(EventPage {
        events,
        next_after,
        limit,
    }))
}

/// `GET /admin/aggregates/{type}/{id}/events`: one aggregate's history.
#[utoipa::path(
    get, path = "/admin/aggregates/{aggregate_type}/{aggregate_id}/events", tag = "admin",
    params(super::dto::AggregatePath),
    security(("admin" = [])),
    responses(
        (status = 200, description = "Every event of the aggregate, in order", body = super::dto::AggregateHistory),
        super::dto::SuperuserOnly,
        super::dto::NoSuchAggregate,
    )
)]
pub(super) async fn history(
    _: Superuser,
    State(state): State<AppState>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
) -> Result<Json<AggregateHistory>, AdminError> {
    let events = audit::history(&state, &aggregate_type, &aggregate_id).await?;
    Ok(Json(AggregateHistory {
        aggregate_type,
        aggregate_id,
        events,
    }))
}

#[derive(Debug, Deserialize)]
pub(super) struct AtQuery {
    at: Option<String>,
}

/// Reads `at`: a global position, an RFC 3339 time, or nothing (now).
fn parse_at(raw: Option<&str>) -> Result<At, AdminError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(At::Now),
        Some(s) => s
            .parse::<i64>()
            .map(At::Position)
            .or_else(|_| DateTime::parse_from_rfc3339(s).map(|t| At::Time(t.with_timezone(&Utc))))
            .map_err(|_| {
                AdminError::bad_request("at must be a global position or an RFC 3339 time")
            }),
    }
}

/// `GET /admin/aggregates/{type}/{id}/state?at=`: the state as it was at a global position or
/// a time (default: now), replayed from the log.
#[utoipa::path(
    get, path = "/admin/aggregates/{aggregate_type}/{aggregate_id}/state", tag = "admin",
    params(
        super::dto::AggregatePath,
        ("at" = Option<String>, Query, description = "A global position or an RFC 3339 time (default: now)",
            pattern = r"^\s*(-?[0-9]{1,18}|[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\s*$"),
    ),
    security(("admin" = [])),
    responses(
        (status = 200, description = "The aggregate's state at that point", body = super::dto::AggregateState),
        (status = 400, description = "BAD_REQUEST: `at` is neither a position nor a time", body = super::dto::AdminErrorBody),
        super::dto::SuperuserOnly,
        super::dto::NoSuchAggregate,
    )
)]
pub(super) async fn state_at(
    _: Superuser,
    State(state): State<AppState>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Result<Json<AggregateState>, AdminError> {
    let at = parse_at(q.at.as_deref())?;
    let snapshot = audit::state_at(&state, &aggregate_type, &aggregate_id, at).await?;
    let last = snapshot.last.as_ref();
    Ok(Json(AggregateState {
        aggregate_type,
        aggregate_id,
        position: last.map(|e| e.position),
        sequence: last.map_or(0, |e| e.sequence),
        recorded_at: last.map(|e| e.recorded_at),
        state: snapshot.state,
    }))
}

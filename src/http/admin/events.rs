//! The audit trail: the global log, an aggregate's history, and its state at any point.

use aggregates::claim::Claim;
use aggregates::social::{Hum, Mute, StationFollow, UserFollow};
use aggregates::station::Station;
use aggregates::user::User;
use axum::extract::{Path, Query, State};
use axum::Json;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use projections::Envelope;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{AdminError, Superuser};
use crate::state::AppState;
use crate::store::log::{self, Filter};

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
pub(super) async fn list(
    _: Superuser,
    State(state): State<AppState>,
    Query(q): Query<EventsQuery>,
) -> Result<Json<Value>, AdminError> {
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
    let events = log::query(&state.read_pool, &filter).await?;
    let next_after = (events.len() as i64 == limit)
        .then(|| events.last().map(|e| e.position))
        .flatten();
    Ok(Json(
        json!({"events": events, "next_after": next_after, "limit": limit}),
    ))
}

async fn aggregate_events(
    state: &AppState,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<Envelope>, AdminError> {
    let filter = Filter {
        after: 0,
        limit: 100_000,
        aggregate_type: Some(aggregate_type.to_string()),
        aggregate_id: Some(aggregate_id.to_string()),
        ..Filter::default()
    };
    let events = log::query(&state.read_pool, &filter).await?;
    if events.is_empty() {
        return Err(AdminError::not_found(format!(
            "no events for {aggregate_type} {aggregate_id}"
        )));
    }
    Ok(events)
}

/// `GET /admin/aggregates/{type}/{id}/events`: one aggregate's history.
pub(super) async fn history(
    _: Superuser,
    State(state): State<AppState>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
) -> Result<Json<Value>, AdminError> {
    let events = aggregate_events(&state, &aggregate_type, &aggregate_id).await?;
    Ok(Json(json!({
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "events": events,
    })))
}

#[derive(Debug, Deserialize)]
pub(super) struct AtQuery {
    at: Option<String>,
}

/// Where to stop replaying.
enum At {
    Position(i64),
    Time(DateTime<Utc>),
    Now,
}

impl At {
    fn parse(raw: Option<&str>) -> Result<Self, AdminError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(Self::Now),
            Some(s) => s
                .parse::<i64>()
                .map(Self::Position)
                .or_else(|_| {
                    DateTime::parse_from_rfc3339(s).map(|t| Self::Time(t.with_timezone(&Utc)))
                })
                .map_err(|_| {
                    AdminError::bad_request("at must be a global position or an RFC 3339 time")
                }),
        }
    }

    fn includes(&self, event: &Envelope) -> bool {
        match self {
            Self::Position(p) => event.position <= *p,
            Self::Time(t) => event.recorded_at <= *t,
            Self::Now => true,
        }
    }
}

/// Replays `events` into a fresh `A` and answers its state as JSON.
fn fold<A: Aggregate>(events: &[&Envelope]) -> Result<Value, AdminError> {
    let mut aggregate = A::default();
    for event in events {
        let decoded: A::Event = serde_json::from_value(event.payload.clone())
            .map_err(|e| AdminError::internal(format!("position {}: {e}", event.position)))?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(AdminError::internal)
}

/// Replays the events of an aggregate of `aggregate_type`.
pub fn replay(aggregate_type: &str, events: &[&Envelope]) -> Result<Value, AdminError> {
    match aggregate_type {
        "User" => fold::<User>(events),
        "Claim" => fold::<Claim>(events),
        "Station" => fold::<Station>(events),
        "UserFollow" => fold::<UserFollow>(events),
        "StationFollow" => fold::<StationFollow>(events),
        "Mute" => fold::<Mute>(events),
        "Hum" => fold::<Hum>(events),
        other => Err(AdminError::not_found(format!(
            "unknown aggregate type {other}"
        ))),
    }
}

/// `GET /admin/aggregates/{type}/{id}/state?at=`: the state as it was at a global position or
/// a time (default: now), replayed from the log.
pub(super) async fn state_at(
    _: Superuser,
    State(state): State<AppState>,
    Path((aggregate_type, aggregate_id)): Path<(String, String)>,
    Query(q): Query<AtQuery>,
) -> Result<Json<Value>, AdminError> {
    let at = At::parse(q.at.as_deref())?;
    let events = aggregate_events(&state, &aggregate_type, &aggregate_id).await?;
    let upto: Vec<&Envelope> = events.iter().filter(|e| at.includes(e)).collect();
    let snapshot = replay(&aggregate_type, &upto)?;
    let last = upto.last();
    Ok(Json(json!({
        "aggregate_type": aggregate_type,
        "aggregate_id": aggregate_id,
        "position": last.map(|e| e.position),
        "sequence": last.map_or(0, |e| e.sequence),
        "recorded_at": last.map(|e| e.recorded_at),
        "state": snapshot,
    })))
}

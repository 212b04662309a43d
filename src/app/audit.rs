//! Audit and operations (superusers, monitoring): the global event log, an aggregate's
//! history and its state at any point (replayed from the log), projection status, rebuilds
//! and dead letters, and the readiness and metrics the health routes report.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use aggregates::claim::Claim;
use aggregates::social::{Hum, Mute, StationFollow, UserFollow};
use aggregates::station::Station;
use aggregates::user::User;
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use projections::Projection;
use serde_json::Value;

use super::Error;
use crate::bus::{broker, maintenance, relay};
use crate::state::AppState;
use crate::store::log;

pub use crate::bus::maintenance::{DeadLetter, RebuildStatus};
pub use crate::store::log::Filter as EventFilter;
pub use projections::Envelope;

impl From<crate::bus::BusError> for Error {
    fn from(e: crate::bus::BusError) -> Self {
        match e {
            crate::bus::BusError::Database(e) => e.into(),
            // The broker down (a queue depth, a re-drive) is an outage too.
            crate::bus::BusError::Broker(e) => Self::Unavailable(e.to_string()),
            other => Self::Store(other.to_string()),
        }
    }
}

/// The log in global order, as `filter` selects it.
///
/// # Errors
/// Read failures.
pub async fn events(state: &AppState, filter: &EventFilter) -> Result<Vec<Envelope>, Error> {
    Ok(log::query(&state.read_pool, filter).await?)
}

/// Every event of one aggregate, oldest first.
///
/// # Errors
/// [`Error::NoEvents`], read failures.
pub async fn history(
    state: &AppState,
    aggregate_type: &str,
    aggregate_id: &str,
) -> Result<Vec<Envelope>, Error> {
    let filter = EventFilter {
        after: 0,
        limit: 100_000,
        aggregate_type: Some(aggregate_type.to_string()),
        aggregate_id: Some(aggregate_id.to_string()),
        ..EventFilter::default()
    };
    let events = log::query(&state.read_pool, &filter).await?;
    if events.is_empty() {
        return Err(Error::NoEvents(format!("{aggregate_type} {aggregate_id}")));
    }
    Ok(events)
}

/// Where to stop replaying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum At {
    /// Up to this global position.
    Position(i64),
    /// Up to this time.
    Time(DateTime<Utc>),
    /// Everything.
    Now,
}

impl At {
    fn includes(&self, event: &Envelope) -> bool {
        match self {
            Self::Position(p) => event.position <= *p,
            Self::Time(t) => event.recorded_at <= *t,
            Self::Now => true,
        }
    }
}

/// An aggregate's state at a point, with the last event replayed.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The last event replayed.
    pub last: Option<Envelope>,
    /// The state, as the aggregate serialises.
    pub state: Value,
}

/// Replays `events` into a fresh `A` and answers its state as JSON.
fn fold<A: Aggregate>(events: &[&Envelope]) -> Result<Value, Error> {
    let mut aggregate = A::default();
    for event in events {
        let decoded: A::Event = serde_json::from_value(event.payload.clone())
            .map_err(|e| Error::Store(format!("position {}: {e}", event.position)))?;
        aggregate.apply(decoded);
    }
    serde_json::to_value(&aggregate).map_err(|e| Error::Store(e.to_string()))
}

/// Replays the events of an aggregate of `aggregate_type`.
///
/// # Errors
/// [`Error::UnknownAggregateType`], an event that does not decode.
pub fn replay(aggregate_type: &str, events: &[&Envelope]) -> Result<Value, Error> {
    match aggregate_type {
        "User" => fold::<User>(events),
        "Claim" => fold::<Claim>(events),
        "Station" => fold::<Station>(events),
        "UserFollow" => fold::<UserFollow>(events),
        "StationFollow" => fold::<StationFollow>(events),
        "Mute" => fold::<Mute>(events),
        "Hum" => fold::<Hum>(events),
        other => Err(Error::UnknownAggregateType(other.to_string())),
    }
}

/// The state of an aggregate as it was `at` a global position or a time, replayed from the
/// log.
///
/// # Errors
/// [`Error::NoEvents`], [`Error::UnknownAggregateType`], read failures.
pub async fn state_at(
    state: &AppState,
    aggregate_type: &str,
    aggregate_id: &str,
    at: At,
) -> Result<Snapshot, Error> {
    let events = history(state, aggregate_type, aggregate_id).await?;
    let upto: Vec<&Envelope> = events.iter().filter(|e| at.includes(e)).collect();
    let snapshot = replay(aggregate_type, &upto)?;
    Ok(Snapshot {
        last: upto.last().map(|e| (*e).clone()),
        state: snapshot,
    })
}

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

/// Where one projection stands.
#[derive(Debug, Clone)]
pub struct ProjectionStatus {
    /// Its name.
    pub name: String,
    /// The last position it applied.
    pub checkpoint: i64,
    /// Seconds since the oldest event it has not applied was recorded.
    pub lag_seconds: f64,
    /// Its queue.
    pub queue: String,
    /// Messages waiting in the queue (`None`: the broker did not answer).
    pub queue_depth: Option<u32>,
    /// Events it set aside.
    pub dead_lettered: i64,
    /// The last rebuild.
    pub rebuild: Option<RebuildStatus>,
}

/// The head of the log and where every projection stands.
///
/// # Errors
/// Read failures.
pub async fn projections(state: &AppState) -> Result<(i64, Vec<ProjectionStatus>), Error> {
    let head = log::head(&state.pool).await?;
    let all = projections::all();
    let names: Vec<&str> = all.iter().map(|p| p.name()).collect();
    let depths = queue_depths(state, &names).await;
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
        out.push(ProjectionStatus {
            name: name.to_string(),
            checkpoint,
            lag_seconds,
            queue: broker::projection_queue(&state.config.exchange, name),
            queue_depth: depth,
            dead_lettered: dead,
            rebuild,
        });
    }
    Ok((head, out))
}

fn known(name: &str) -> Result<Arc<dyn Projection>, Error> {
    maintenance::projection(name).ok_or_else(|| Error::UnknownProjection(name.to_string()))
}

/// Starts a rebuild of projection `name` in the background; its progress shows in
/// [`projections`]. Answers its status.
///
/// # Errors
/// [`Error::UnknownProjection`], [`Error::RebuildRunning`], store failures.
pub async fn rebuild(
    state: &AppState,
    name: &str,
    by: &str,
) -> Result<Option<RebuildStatus>, Error> {
    let projection = known(name)?;
    if !maintenance::claim_rebuild(&state.pool, name).await? {
        return Err(Error::RebuildRunning(name.to_string()));
    }
    tracing::info!(projection = %name, %by, "rebuild requested");
    let pool = state.pool.clone();
    tokio::spawn(async move {
        if let Err(error) = maintenance::run_rebuild(&pool, projection.as_ref(), |_| {}).await {
            tracing::error!(%error, "rebuild failed");
        }
    });
    Ok(maintenance::rebuild_status(&state.pool, name).await?)
}

/// The events projection `name` set aside, at most `limit`.
///
/// # Errors
/// [`Error::UnknownProjection`], read failures.
pub async fn dead_letters(
    state: &AppState,
    name: &str,
    limit: i64,
) -> Result<Vec<DeadLetter>, Error> {
    known(name)?;
    Ok(maintenance::dead_letters(&state.pool, name, limit).await?)
}

/// Tries the dead letters of projection `name` again: answers how many went through and how
/// many still fail.
///
/// # Errors
/// [`Error::UnknownProjection`], store failures.
pub async fn redrive(state: &AppState, name: &str) -> Result<(u64, u64), Error> {
    let projection = known(name)?;
    let outcome = maintenance::redrive(&state.pool, projection.as_ref()).await?;
    Ok((outcome.redriven, outcome.still_failing))
}

/// What `/ready` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readiness {
    /// Postgres answers, and accepts writes.
    pub postgres: bool,
    /// Postgres answers but refuses writes (a read-only standby).
    pub read_only: bool,
    /// RabbitMQ accepts a connection.
    pub rabbitmq: bool,
    /// This process's relay is the active one.
    pub relay_here: bool,
    /// The relay's position.
    pub relayed: i64,
    /// The head of the log.
    pub head: i64,
    /// The revocation state caught up with the log lately (fails closed: not ready without).
    pub revocations: bool,
    /// Each OAuth provider's name and whether its tokens are bound to humit's own client.
    pub providers: Vec<(&'static str, bool)>,
}

/// How long the revocation feed may go without catching up before the process is not ready
/// (it catches up at least every second while healthy).
const REVOCATIONS_STALE_AFTER: Duration = Duration::from_secs(5);

/// How long `/ready` waits for each of Postgres and RabbitMQ (checked at the same time), so
/// that it turns red within a second of an outage.
pub const READY_CHECK_TIMEOUT: Duration = Duration::from_millis(500);

/// Checks Postgres (reachable and writable) and RabbitMQ (on the connection kept for it), the
/// revocation feed, and where the relay stands.
pub async fn readiness(state: &AppState) -> Readiness {
    let postgres = tokio::time::timeout(
        READY_CHECK_TIMEOUT,
        sqlx::query_scalar::<_, String>("SELECT current_setting('transaction_read_only')")
            .fetch_one(&state.pool),
    );
    let rabbitmq = state.broker_probe.check(READY_CHECK_TIMEOUT);
    let (postgres, rabbitmq_ok) = tokio::join!(postgres, rabbitmq);
    let (postgres, read_only) = match postgres {
        Ok(Ok(read_only)) => (read_only == "off", read_only == "on"),
        _ => (false, false),
    };
    let (head, relayed) = if postgres {
        let positions = async {
            (
                log::head(&state.pool).await.unwrap_or(0),
                relay::checkpoint(&state.pool).await.unwrap_or(0),
            )
        };
        tokio::time::timeout(READY_CHECK_TIMEOUT, positions)
            .await
            .unwrap_or((0, 0))
    } else {
        (0, 0)
    };
    Readiness {
        postgres,
        read_only,
        rabbitmq: rabbitmq_ok,
        relay_here: state.relay_leader.load(Ordering::Relaxed),
        relayed,
        head,
        revocations: state.registry.is_fresh(REVOCATIONS_STALE_AFTER),
        providers: crate::adapters::oauth::Provider::ALL
            .into_iter()
            .map(|p| (p.name(), state.oauth.clients().verified(p)))
            .collect(),
    }
}

/// Refreshes the gauges that are read from the database (log head, relay and projection
/// lag, dead letters).
pub async fn refresh_gauges(state: &AppState) {
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
}

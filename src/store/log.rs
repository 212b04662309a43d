//! Reading the event log in global order, as envelopes ready to publish or project.
//!
//! Every reader goes through [`to_envelope`], which opens personal data with the person's key
//! (or reads it as erased) and redacts secrets, so the relay, the catch-up of a projection, a
//! rebuild and the admin API all see the same public shape.

use aggregates::common::redact_secrets;
use chrono::{DateTime, Utc};
use projections::Envelope;
use sqlx::{PgExecutor, Row};
use uuid::Uuid;

use super::vault::{self, SubjectKey};

const COLUMNS: &str = "event_id, position, aggregate_type, aggregate_id, sequence, event_type, \
                       event_version, recorded_at, metadata, payload, k.key AS subject_key";

/// The join that brings each event the key of the person it belongs to.
const KEYS: &str =
    "LEFT JOIN subject_keys k ON aggregate_type = 'User' AND k.subject = aggregate_id";

fn to_envelope(row: &sqlx::postgres::PgRow) -> Result<Envelope, sqlx::Error> {
    let mut payload: serde_json::Value = row.try_get("payload")?;
    let key: Option<Vec<u8>> = row.try_get("subject_key")?;
    let key: Option<SubjectKey> = key.and_then(|k| k.try_into().ok());
    vault::open(&mut payload, key.as_ref());
    redact_secrets(&mut payload);
    let mut envelope = Envelope {
        event_id: row.try_get::<Uuid, _>("event_id")?,
        position: row.try_get("position")?,
        aggregate_type: row.try_get("aggregate_type")?,
        aggregate_id: row.try_get("aggregate_id")?,
        sequence: row.try_get("sequence")?,
        event_type: row.try_get("event_type")?,
        event_version: row.try_get("event_version")?,
        recorded_at: row.try_get::<DateTime<Utc>, _>("recorded_at")?,
        metadata: row.try_get("metadata")?,
        payload,
    };
    super::upcast::upcast_envelope(&mut envelope);
    Ok(envelope)
}

/// Up to `limit` events after `position`, in global order.
///
/// # Errors
/// Database errors.
pub async fn read_after<'e>(
    db: impl PgExecutor<'e>,
    position: i64,
    limit: i64,
) -> Result<Vec<Envelope>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM events {KEYS} WHERE position > $1 ORDER BY position LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(position)
        .bind(limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(to_envelope).collect()
}

/// A filter over the log.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Only after this position.
    pub after: i64,
    /// At most this many.
    pub limit: i64,
    /// Only this aggregate type.
    pub aggregate_type: Option<String>,
    /// Only this aggregate id.
    pub aggregate_id: Option<String>,
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only events whose actor is this user id (or `system`).
    pub actor: Option<String>,
    /// Only events recorded at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only events recorded before this time.
    pub until: Option<DateTime<Utc>>,
}

/// The events matching `filter`, in global order.
///
/// # Errors
/// Database errors.
pub async fn query<'e>(
    db: impl PgExecutor<'e>,
    filter: &Filter,
) -> Result<Vec<Envelope>, sqlx::Error> {
    // Postgres text cannot hold NUL, so no stored event has one in any field: such a filter
    // matches nothing (and Postgres would refuse the parameter).
    let texts = [
        &filter.aggregate_type,
        &filter.aggregate_id,
        &filter.event_type,
        &filter.actor,
    ];
    if texts
        .iter()
        .any(|t| t.as_deref().is_some_and(|t| t.contains('\0')))
    {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM events {KEYS}
         WHERE position > $1
           AND ($2::text IS NULL OR aggregate_type = $2)
           AND ($3::text IS NULL OR aggregate_id = $3)
           AND ($4::text IS NULL OR event_type = $4)
           AND ($5::text IS NULL OR metadata->>'actor_id' = $5)
           AND ($6::timestamptz IS NULL OR recorded_at >= $6)
           AND ($7::timestamptz IS NULL OR recorded_at < $7)
         ORDER BY position LIMIT $8"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.after)
        .bind(&filter.aggregate_type)
        .bind(&filter.aggregate_id)
        .bind(&filter.event_type)
        .bind(&filter.actor)
        .bind(filter.since)
        .bind(filter.until)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(to_envelope).collect()
}

/// The highest position in the log (0 when empty).
///
/// # Errors
/// Database errors.
pub async fn head<'e>(db: impl PgExecutor<'e>) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(position), 0) FROM events")
        .fetch_one(db)
        .await
}

/// The events of the aggregate types `aggregates` whose type is one of `types`, after
/// `filter.after` and up to `until`, in global order.
///
/// # Errors
/// Database errors.
pub async fn query_types<'e>(
    db: impl PgExecutor<'e>,
    filter: &Filter,
    aggregates: &[String],
    types: &[String],
    until: i64,
) -> Result<Vec<Envelope>, sqlx::Error> {
    // The window and the event types find the rows (`events_type_idx`, or the position
    // range); the aggregate types only filter them. Fenced, so that a planner with stale
    // statistics (no autovacuum) cannot choose to scan every event of `aggregates` through
    // the primary key: that read grew with the whole log, on every poll of the auth feed.
    let sql = format!(
        "WITH relevant AS MATERIALIZED (
             SELECT * FROM events
             WHERE position > $1 AND position <= $2 AND event_type = ANY($4)
         )
         SELECT {COLUMNS}
         FROM relevant AS events {KEYS}
         WHERE aggregate_type = ANY($3)
         ORDER BY position LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.after)
        .bind(until)
        .bind(aggregates)
        .bind(types)
        .bind(filter.limit)
        .fetch_all(db)
        .await?;
    rows.iter().map(to_envelope).collect()
}

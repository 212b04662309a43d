//! The admin API's wire bodies: the handlers answer these types, and `/openapi.json`
//! describes the same types ([`super::openapi`]), so the document cannot drift from what is
//! served. Events are the published [`Envelope`]; rebuilds and dead letters are the
//! maintenance rows as `crate::app::audit` reads them.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::app::audit::{DeadLetter, Envelope, ProjectionStatus, RebuildStatus};

/// `{"error": {"code", "message"}}` with a 4xx/5xx status.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminErrorBody {
    pub error: AdminErrorItem,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminErrorItem {
    /// `UNAUTHORIZED`, `FORBIDDEN`, `BAD_REQUEST`, `NOT_FOUND`, `REBUILD_RUNNING`,
    /// `UNAVAILABLE`, ...
    #[schema(example = "NOT_FOUND")]
    pub code: &'static str,
    pub message: String,
}

/// The answers of every admin operation to a caller who is not a signed-in superuser, named
/// in the operations' `responses(...)` next to their own rows.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum SuperuserOnly {
    #[response(status = 401, description = "UNAUTHORIZED")]
    Unauthorized(AdminErrorBody),
    #[response(status = 403, description = "FORBIDDEN: not a superuser")]
    Forbidden(AdminErrorBody),
}

/// The path of the operations about one aggregate (`params(AggregatePath)`).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code)]
pub struct AggregatePath {
    /// `User`, `Session`, `Claim`, `Station`, ...
    aggregate_type: String,
    aggregate_id: String,
}

/// The answer of the operations about one aggregate when there is none.
#[derive(utoipa::IntoResponses)]
#[response(
    status = 404,
    description = "NOT_FOUND: unknown aggregate type, or no events"
)]
pub struct NoSuchAggregate(#[allow(dead_code)] AdminErrorBody);

/// `GET /admin/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    /// Secrets redacted, personal data as `{"$pii": ...}`.
    pub events: Vec<Envelope>,
    /// The `after` of the next page; `null` on the last.
    pub next_after: Option<i64>,
    pub limit: i64,
}

/// `GET /admin/aggregates/{aggregate_type}/{aggregate_id}/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateHistory {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub events: Vec<Envelope>,
}

/// `GET /admin/aggregates/{aggregate_type}/{aggregate_id}/state`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateState {
    pub aggregate_type: String,
    pub aggregate_id: String,
    /// The global position of the last event applied; `null` before the first.
    pub position: Option<i64>,
    /// The aggregate's sequence at that point (0 before the first event).
    pub sequence: i64,
    pub recorded_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The aggregate's state, as the aggregate serialises it.
    #[schema(value_type = Object)]
    pub state: Value,
}

/// One projection's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionInfo {
    pub name: String,
    pub checkpoint: i64,
    pub head: i64,
    pub lag_events: i64,
    #[schema(value_type = f64)]
    pub lag_seconds: f64,
    pub queue: String,
    /// `null` when the broker cannot be asked.
    pub queue_depth: Option<u32>,
    pub dead_lettered: i64,
    pub rebuild: Option<RebuildStatus>,
}

impl ProjectionInfo {
    /// `status`, with its lag behind the log's `head`.
    pub fn new(head: i64, status: ProjectionStatus) -> Self {
        Self {
            name: status.name,
            checkpoint: status.checkpoint,
            head,
            lag_events: (head - status.checkpoint).max(0),
            lag_seconds: status.lag_seconds,
            queue: status.queue,
            queue_depth: status.queue_depth,
            dead_lettered: status.dead_lettered,
            rebuild: status.rebuild,
        }
    }
}

/// `GET /admin/projections`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionList {
    pub head: i64,
    pub projections: Vec<ProjectionInfo>,
}

/// `POST /admin/projections/{name}/rebuild`: accepted, with its progress so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildAccepted {
    pub rebuild: Option<RebuildStatus>,
}

/// `GET /admin/projections/{name}/dead-letters`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetterList {
    pub projection: String,
    pub dead_letters: Vec<DeadLetter>,
}

/// `POST /admin/projections/{name}/dead-letters/redrive`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Redriven {
    pub projection: String,
    pub redriven: u64,
    pub still_failing: u64,
}

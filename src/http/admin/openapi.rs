//! The OpenAPI description of the admin API ([`AdminApi`]), merged into `/openapi.json` by
//! `crate::http::openapi`: its operations (tag `admin`), the `admin` security scheme (a
//! superuser's Techfesia access token as a Bearer token) and the shapes of its answers.
//!
//! The handlers build their bodies with `json!`; the types here spell those bodies out for the
//! document only, and the contract run (`scripts/contract/run.py`) checks every answer
//! against them.

use serde::Serialize;
use serde_json::Value;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

use super::{events, projections};

/// `{"error": {"code", "message"}}` with a 4xx/5xx status.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminErrorBody {
    pub error: AdminErrorItem,
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

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminErrorItem {
    /// `UNAUTHORIZED`, `FORBIDDEN`, `BAD_REQUEST`, `NOT_FOUND`, `REBUILD_RUNNING`,
    /// `SERVICE_UNAVAILABLE`, ...
    #[schema(example = "NOT_FOUND")]
    pub code: String,
    pub message: String,
}

/// One event as stored and published (secrets redacted, personal data as `{"$pii": ...}`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminEvent {
    pub event_id: String,
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    pub recorded_at: String,
    /// Actor, request id, command id.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// The event, externally tagged (`{"UserRegistered": {...}}`).
    #[schema(value_type = Object)]
    pub payload: Value,
}

/// `GET /admin/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPage {
    pub events: Vec<AdminEvent>,
    /// The `after` of the next page; `null` on the last.
    pub next_after: Option<i64>,
    pub limit: i64,
}

/// `GET /admin/aggregates/{aggregate_type}/{aggregate_id}/events`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateHistory {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub events: Vec<AdminEvent>,
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
    pub recorded_at: Option<String>,
    /// The aggregate's state, as the aggregate serialises it.
    #[schema(value_type = Object)]
    pub state: Value,
}

/// A rebuild's progress.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildStatus {
    pub projection: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    pub done: i64,
    pub total: i64,
    pub started_at: String,
    pub heartbeat_at: String,
    pub finished_at: Option<String>,
    pub position: Option<i64>,
    pub error: Option<String>,
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

/// `GET /admin/projections`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectionList {
    pub head: i64,
    pub projections: Vec<ProjectionInfo>,
}

/// `POST /admin/projections/{name}/rebuild`: accepted, with its progress so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct RebuildAccepted {
    pub rebuild: RebuildStatus,
}

/// One dead-lettered event.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadLetter {
    pub position: i64,
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub event_type: String,
    pub error: String,
    pub attempts: i32,
    pub parked_at: String,
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
    pub redriven: i64,
    pub still_failing: i64,
}

/// Adds the `admin` security scheme.
struct AdminSecurity;

impl Modify for AdminSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.bearer_format = Some("JWT".into());
        bearer.description = Some(
            "Admin API: `Authorization: Bearer <access token>` of a superuser, from \
             `POST /auth/token/`"
                .into(),
        );
        components.add_security_scheme("admin", SecurityScheme::Http(bearer));
    }
}

/// The OpenAPI description of the admin API.
#[derive(OpenApi)]
#[openapi(
    paths(
        super::console::page,
        events::list, events::history, events::state_at,
        projections::list, projections::rebuild, projections::dead_letters,
        projections::redrive,
    ),
    components(schemas(
        AdminErrorBody, AdminErrorItem, AdminEvent, EventPage, AggregateHistory, AggregateState,
        RebuildStatus, ProjectionInfo, ProjectionList, RebuildAccepted, DeadLetter,
        DeadLetterList, Redriven,
    )),
    tags((name = "admin", description = "Admin API (superusers): audit trail, time travel, projections, dead letters")),
    modifiers(&AdminSecurity)
)]
pub struct AdminApi;

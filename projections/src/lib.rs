//! The read side of humit: read models built from the event stream.
//!
//! A [`Projection`] turns events into rows of the tables it owns. The app's projection runtime
//! (`src/bus/projector.rs`) feeds it from a durable RabbitMQ queue, or from the event log
//! during a catch-up or a rebuild, and calls [`Projection::apply`] inside the same Postgres
//! transaction that moves the projection's checkpoint. `apply` therefore only writes; it never
//! commits, and it must be deterministic so that a rebuild gives the same rows as the live run.
//!
//! - [`envelope`]: the wire format of an event on the exchange (and in a catch-up).
//! - [`users`]: one row per person (`rm_users`), for both API dialects.
//! - [`social`]: stations, follows, mutes, hums and their exact counters.

use std::sync::Arc;

use sqlx::PgConnection;

pub mod envelope;
pub mod social;
pub mod users;

pub use envelope::Envelope;

/// Why a projection could not apply an event.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The payload does not have the shape of its event type: retrying will not help.
    #[error("cannot decode {event_type}: {source}")]
    Decode {
        /// The event type.
        event_type: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The event breaks an invariant of the read model.
    #[error("{0}")]
    Invalid(String),
}

impl ProjectionError {
    /// Whether retrying later may succeed (a connection problem) rather than never (a poison
    /// message). Transient failures are retried without limit and never dead-lettered.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Database(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Protocol(_)
            ),
            Self::Decode { .. } | Self::Invalid(_) => false,
        }
    }
}

/// A read model fed by events.
#[async_trait::async_trait]
pub trait Projection: Send + Sync {
    /// Its stable name: the checkpoint key and the queue suffix.
    fn name(&self) -> &'static str;

    /// The routing-key patterns of the events it needs (`User.#`, `Hum.HumPosted`, ...).
    fn bindings(&self) -> &'static [&'static str];

    /// The tables it owns, emptied before a rebuild.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event inside the caller's transaction. Events it does not need are ignored.
    ///
    /// # Errors
    /// [`ProjectionError`] when the event cannot be applied; the caller rolls back.
    async fn apply(&self, conn: &mut PgConnection, event: &Envelope)
        -> Result<(), ProjectionError>;
}

/// Every projection of humit.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(users::UsersProjection),
        Arc::new(social::SocialProjection),
    ]
}

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
mod write;

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

    /// The routing-key patterns of the events it applies (`User.#`, `Hum.HumPosted`, ...).
    /// Its queue receives every event, so that its checkpoint is a global position that
    /// read-your-writes and lag can compare; events matching no pattern only move it.
    fn bindings(&self) -> &'static [&'static str];

    /// Whether the projection applies events with this routing key.
    fn wants(&self, routing_key: &str) -> bool {
        self.bindings()
            .iter()
            .any(|p| topic_matches(p, routing_key))
    }

    /// The tables it owns, emptied before a rebuild.
    fn tables(&self) -> &'static [&'static str];

    /// Applies one event inside the caller's transaction. Events it does not need are ignored.
    ///
    /// # Errors
    /// [`ProjectionError`] when the event cannot be applied; the caller rolls back.
    async fn apply(&self, conn: &mut PgConnection, event: &Envelope)
        -> Result<(), ProjectionError>;
}

/// AMQP topic matching: words separated by `.`, `*` matches one word, `#` zero or more.
pub fn topic_matches(pattern: &str, key: &str) -> bool {
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"#"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let k: Vec<&str> = key.split('.').collect();
    go(&p, &k)
}

/// Every projection of humit.
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(users::UsersProjection),
        Arc::new(social::SocialProjection),
    ]
}

#[cfg(test)]
mod tests {
    use super::topic_matches;

    #[test]
    fn topic_patterns_match_like_rabbitmq() {
        assert!(topic_matches("User.#", "User.UserRegistered"));
        assert!(topic_matches("#", "Hum.HumPosted"));
        assert!(topic_matches("*.HumPosted", "Hum.HumPosted"));
        assert!(topic_matches("User.UserDeleted", "User.UserDeleted"));
        assert!(!topic_matches("User.UserDeleted", "User.UserDisabled"));
        assert!(!topic_matches("User.#", "UserFollow.UserFollowed"));
        assert!(!topic_matches("*", "User.UserDeleted"));
    }
}

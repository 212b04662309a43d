//! The bus: everything between the event log and the read models.
//!
//! - [`relay`]: tails the log in global order and publishes each event to RabbitMQ, moving
//!   its checkpoint only after the broker confirms (the transactional outbox, without loss).
//! - [`projector`]: the projection runtime: a durable queue per projection, manual acks,
//!   idempotent apply under a checkpoint, dead letters, catch-up and rebuild from the log.
//! - [`rebuild`]: replaying a projection into shadow tables, then swapping them in.
//! - [`consistency`]: read-your-writes: wait until named projections reach a position.
//! - [`maintenance`]: rebuilds with recorded progress, and re-driving dead letters.
//! - [`broker`]: connecting to RabbitMQ and declaring the topology.

pub mod broker;
pub mod consistency;
pub mod maintenance;
pub mod projector;
pub mod rebuild;
pub mod relay;

/// Why a bus task stopped; it restarts with backoff.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// RabbitMQ failed or is unreachable.
    #[error("broker: {0}")]
    Broker(#[from] lapin::Error),
    /// Postgres failed or is unreachable.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A message body could not be (de)serialised.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// The broker refused a message.
    #[error("broker nacked the event at position {position}")]
    Nack {
        /// The refused event's position.
        position: i64,
    },
    /// A projection failed in a way that is not the message's fault.
    #[error("projection {name}: {message}")]
    Projection {
        /// The projection.
        name: String,
        /// What failed.
        message: String,
    },
}

/// Settings of the relay and the projectors.
#[derive(Debug, Clone)]
pub struct BusSettings {
    /// RabbitMQ URL.
    pub amqp_url: String,
    /// The topic exchange events are published to.
    pub exchange: String,
    /// Unacknowledged messages a projector may hold.
    pub prefetch: u16,
    /// Attempts before a failing message is dead-lettered.
    pub max_attempts: u32,
    /// Declare quorum queues.
    pub quorum_queues: bool,
    /// Expire unused queues after this many ms (test runs).
    pub queue_expires_ms: Option<u32>,
}

pub use crate::background::{retry_until_stopped, sleep_or_stop, Backoff, Shutdown};

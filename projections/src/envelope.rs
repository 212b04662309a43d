//! The envelope of a published event: what an outside subscriber receives as the message
//! body on the exchange, and what a projection applies.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ProjectionError;

// Described twice from these fields: for subscribers in the AsyncAPI document (`schemars`)
// and for the admin API's readers of the log in the OpenAPI document (`utoipa`).
/// One event with everything needed to route, order and de-duplicate it.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema, utoipa::ToSchema,
)]
pub struct Envelope {
    /// Unique id of the event: de-duplicate by it.
    #[schema(value_type = String)]
    pub event_id: Uuid,
    /// Global position in the log: strictly increasing in commit order.
    pub position: i64,
    /// The aggregate type (`User`, `Station`, ...).
    pub aggregate_type: String,
    /// The aggregate id.
    pub aggregate_id: String,
    /// The event's number within its aggregate, from 1.
    pub sequence: i64,
    /// The event type (`UserRegistered`, ...).
    pub event_type: String,
    /// The payload's schema version.
    pub event_version: String,
    /// When the event was stored.
    pub recorded_at: DateTime<Utc>,
    /// Actor, request id, command id.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// The event, externally tagged (`{"UserRegistered": {...}}`), secrets redacted.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl Envelope {
    /// The routing key on the exchange: `<AggregateType>.<EventType>`.
    pub fn routing_key(&self) -> String {
        format!("{}.{}", self.aggregate_type, self.event_type)
    }

    /// Decodes the payload as the aggregate's event enum.
    ///
    /// # Errors
    /// [`ProjectionError::Decode`] when the payload has another shape.
    pub fn decode<E: DeserializeOwned>(&self) -> Result<E, ProjectionError> {
        serde_json::from_value(self.payload.clone()).map_err(|source| ProjectionError::Decode {
            event_type: self.event_type.clone(),
            source,
        })
    }
}

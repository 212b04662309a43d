//! The contract of the public event stream: an AsyncAPI 3.0 document built from the types
//! that serialise the events. Each event enum of `aggregates` derives `schemars::JsonSchema`
//! (personal fields as `{"$pii": value}`, secrets as `{"$secret": null}`, as the relay
//! publishes them), `projections::Envelope` is the message body, and the AMQP properties and
//! headers are the ones `bus::relay` sets. Served at `/asyncapi.json`, kept in
//! `docs/asyncapi.json` (a test fails when the two differ; `UPDATE_ASYNCAPI=1 cargo test
//! --lib stream_contract` rewrites the file).

use std::sync::OnceLock;

use aggregates::claim::{Claim, ClaimEvent};
use aggregates::session::{Session, SessionEvent};
use aggregates::social::{
    Hum, HumEvent, Mute, MuteEvent, StationFollow, StationFollowEvent, UserFollow, UserFollowEvent,
};
use aggregates::station::{Station, StationEvent};
use aggregates::user::{User, UserEvent};
use cqrs_es::Aggregate;
use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

/// The exchange every event is published to by default (`HUMIT_EXCHANGE`).
pub const DEFAULT_EXCHANGE: &str = "humit.events";
/// The version of the AMQP bindings used in the document.
const AMQP_BINDING: &str = "0.3.0";

/// One event type on the stream.
#[derive(Debug, Clone)]
pub struct EventKind {
    /// `User`, `Session`, ...
    pub aggregate_type: &'static str,
    /// `UserRegistered`, ...
    pub event_type: &'static str,
    /// Its `event_version`.
    pub version: &'static str,
    /// The schema of the event's fields (`payload.<event_type>`).
    pub schema: Value,
}

impl EventKind {
    /// `<AggregateType>.<EventType>`: the routing key.
    pub fn routing_key(&self) -> String {
        format!("{}.{}", self.aggregate_type, self.event_type)
    }

    /// The id of its channel, message and operation in the document.
    pub fn id(&self) -> String {
        format!("{}_{}", self.aggregate_type, self.event_type)
    }
}

/// One aggregate's events: its type, event types, version, and the name of its enum's
/// schema among the generator's definitions.
struct EventEnum {
    aggregate_type: &'static str,
    event_types: &'static [&'static str],
    version: &'static str,
    schema_name: String,
}

/// Registers `E`'s schema with the generator.
fn event_enum<A: Aggregate, E: JsonSchema>(
    generator: &mut SchemaGenerator,
    event_types: &'static [&'static str],
    version: &'static str,
) -> EventEnum {
    generator.subschema_for::<E>();
    EventEnum {
        aggregate_type: A::TYPE,
        event_types,
        version,
        schema_name: E::schema_name().into_owned(),
    }
}

/// Every event type the aggregates can emit (each variant's schema cut out of its enum's),
/// and the schemas they share, by name (`Envelope` among them).
pub fn kinds() -> (Vec<EventKind>, Map<String, Value>) {
    let mut generator = SchemaSettings::draft07()
        .with(|s| s.definitions_path = "/components/schemas/".into())
        .into_generator();
    let g = &mut generator;
    let enums = [
        event_enum::<User, UserEvent>(g, UserEvent::EVENT_TYPES, UserEvent::EVENT_VERSION),
        event_enum::<Session, SessionEvent>(
            g,
            SessionEvent::EVENT_TYPES,
            SessionEvent::EVENT_VERSION,
        ),
        event_enum::<Claim, ClaimEvent>(g, ClaimEvent::EVENT_TYPES, ClaimEvent::EVENT_VERSION),
        event_enum::<Station, StationEvent>(
            g,
            StationEvent::EVENT_TYPES,
            StationEvent::EVENT_VERSION,
        ),
        event_enum::<StationFollow, StationFollowEvent>(
            g,
            StationFollowEvent::EVENT_TYPES,
            StationFollowEvent::EVENT_VERSION,
        ),
        event_enum::<UserFollow, UserFollowEvent>(
            g,
            UserFollowEvent::EVENT_TYPES,
            UserFollowEvent::EVENT_VERSION,
        ),
        event_enum::<Mute, MuteEvent>(g, MuteEvent::EVENT_TYPES, MuteEvent::EVENT_VERSION),
        event_enum::<Hum, HumEvent>(g, HumEvent::EVENT_TYPES, HumEvent::EVENT_VERSION),
    ];
    g.subschema_for::<projections::Envelope>();
    let mut shared = generator.take_definitions(true);
    let mut kinds = Vec::new();
    for e in enums {
        let schema = shared.remove(&e.schema_name).unwrap_or_default();
        let variants = schema["oneOf"].as_array().cloned().unwrap_or_default();
        for event_type in e.event_types {
            let fields = variants
                .iter()
                .find_map(|variant| variant["properties"].get(*event_type).cloned())
                .unwrap_or_else(|| panic!("{event_type} has no schema in its enum"));
            kinds.push(EventKind {
                aggregate_type: e.aggregate_type,
                event_type,
                version: e.version,
                schema: fields,
            });
        }
    }
    (kinds, shared)
}

/// The AMQP headers of every message (`bus::relay`).
fn headers() -> Value {
    json!({
        "type": "object",
        "description": "AMQP headers of every message.",
        "properties": {
            "position": {"type": "integer", "minimum": 1, "description": "Global position (long long integer), as in the body."},
            "aggregate_type": {"type": "string"},
            "aggregate_id": {"type": "string"},
            "event_version": {"type": "string"},
        },
        "required": ["position", "aggregate_type", "aggregate_id", "event_version"],
    })
}

/// The body of one event type's messages: the envelope, with this event's type, version and
/// payload.
fn message_payload(kind: &EventKind) -> Value {
    json!({
        "allOf": [
            {"$ref": "#/components/schemas/Envelope"},
            {
                "type": "object",
                "properties": {
                    "aggregate_type": {"const": kind.aggregate_type},
                    "event_type": {"const": kind.event_type},
                    "event_version": {"const": kind.version},
                    "payload": {
                        "type": "object",
                        "properties": {
                            kind.event_type: {"$ref": format!("#/components/schemas/{}", kind.id())},
                        },
                        "required": [kind.event_type],
                        "additionalProperties": false,
                    },
                },
            },
        ],
    })
}

/// The AsyncAPI 3.0 document of the event stream.
pub fn document() -> Value {
    let (kinds, mut schemas) = kinds();
    schemas.insert("Headers".into(), headers());
    let (mut channels, mut operations, mut messages) = (Map::new(), Map::new(), Map::new());
    for kind in &kinds {
        let id = kind.id();
        let key = kind.routing_key();
        schemas.insert(id.clone(), kind.schema.clone());
        messages.insert(
            id.clone(),
            json!({
                "name": kind.event_type,
                "title": key,
                "summary": format!("{} (version {})", key, kind.version),
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/Headers"},
                "payload": message_payload(kind),
                "bindings": {"amqp": {"messageType": kind.event_type, "bindingVersion": AMQP_BINDING}},
            }),
        );
        channels.insert(
            id.clone(),
            json!({
                "address": key,
                "description": format!("Routing key `{key}` on the topic exchange."),
                "messages": {(kind.event_type): {"$ref": format!("#/components/messages/{id}")}},
                "bindings": {"amqp": {
                    "is": "routingKey",
                    "exchange": {"name": DEFAULT_EXCHANGE, "type": "topic", "durable": true, "autoDelete": false, "vhost": "/"},
                    "bindingVersion": AMQP_BINDING,
                }},
            }),
        );
        operations.insert(
            format!("publish_{id}"),
            json!({
                "action": "send",
                "summary": format!("humit publishes `{key}` once the event is committed."),
                "channel": {"$ref": format!("#/channels/{id}")},
                "messages": [{"$ref": format!("#/channels/{id}/messages/{}", kind.event_type)}],
                "bindings": {"amqp": {"deliveryMode": 2, "mandatory": true, "timestamp": true, "bindingVersion": AMQP_BINDING}},
            }),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "humit events",
            "version": "1.0.0",
            "description": "Every event humit stores, published after it commits to the durable topic \
                exchange `humit.events` (`HUMIT_EXCHANGE`) with routing key \
                `<aggregate_type>.<event_type>`, in global `position` order, at least once \
                (de-duplicate by `event_id`, equal to the AMQP `message_id`). AMQP properties: \
                `message_id` = `event_id`, `type` = event type, `content_type` \
                `application/json`, `delivery_mode` 2, `timestamp` = recording time, `app_id` \
                `humit`. Secrets are always `{\"$secret\": null}`; personal data is \
                `{\"$pii\": value}`, `{\"$pii\": null}` once the person was deleted. See \
                docs/events.md.",
        },
        "defaultContentType": "application/json",
        "servers": {
            "rabbitmq": {
                "host": "127.0.0.1:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The broker of `AMQP_URL`.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    })
}

/// The document as served and kept in `docs/asyncapi.json` (pretty, with a final newline).
pub fn json() -> String {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
        text.push('\n');
        text
    })
    .clone()
}

#[cfg(test)]
#[path = "stream_contract_tests.rs"]
mod tests;

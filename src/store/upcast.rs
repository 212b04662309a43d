//! Event versioning: upcasters turn events stored in an older shape into the current one,
//! both when cqrs-es loads an aggregate and when the log readers (relay, catch-up, rebuild,
//! admin) build envelopes, so old events replay, project and publish in the new shape.
//!
//! Changes so far:
//! - `Claim.Taken` / `Claim.Released` v1 → v2: added `at`, the time the key was taken or given
//!   back. A v1 event gets it from its `occurred_at` metadata.

use chrono::{DateTime, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use projections::Envelope;
use serde_json::Value;

/// Claim events v1 → v2.
struct ClaimAtV2;

fn major(version: &str) -> u32 {
    version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0)
}

impl ClaimAtV2 {
    fn applies(event_type: &str, version: &str) -> bool {
        matches!(event_type, "Taken" | "Released") && major(version) < 2
    }

    fn payload(event_type: &str, mut payload: Value, metadata: &Value) -> Value {
        let at = metadata
            .get("occurred_at")
            .and_then(Value::as_str)
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or(DateTime::UNIX_EPOCH);
        if let Some(body) = payload.get_mut(event_type).and_then(Value::as_object_mut) {
            body.entry("at")
                .or_insert_with(|| Value::String(at.to_rfc3339()));
        }
        payload
    }
}

impl EventUpcaster for ClaimAtV2 {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        Self::applies(event_type, event_version)
    }

    fn upcast(&self, event: SerializedEvent) -> SerializedEvent {
        let payload = Self::payload(&event.event_type, event.payload, &event.metadata);
        SerializedEvent {
            payload,
            event_version: aggregates::claim::CLAIM_EVENT_VERSION.to_string(),
            ..event
        }
    }
}

/// Every upcaster, for cqrs-es.
pub fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![Box::new(ClaimAtV2)]
}

/// Brings an envelope read from the log to the current shape of its event.
pub fn upcast_envelope(envelope: &mut Envelope) {
    if envelope.aggregate_type == "Claim"
        && ClaimAtV2::applies(&envelope.event_type, &envelope.event_version)
    {
        let payload = std::mem::take(&mut envelope.payload);
        envelope.payload = ClaimAtV2::payload(&envelope.event_type, payload, &envelope.metadata);
        envelope.event_version = aggregates::claim::CLAIM_EVENT_VERSION.to_string();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aggregates::claim::ClaimEvent;
    use serde_json::json;

    #[test]
    fn a_v1_claim_event_reads_as_v2_with_its_time_from_metadata() {
        let v1 = SerializedEvent::new(
            "username:x".into(),
            1,
            "Claim".into(),
            "Taken".into(),
            "1".into(),
            json!({"Taken": {"owner": "u1"}}),
            json!({"occurred_at": "2026-01-02T03:04:05+00:00"}),
        );
        let upcaster = ClaimAtV2;
        assert!(upcaster.can_upcast("Taken", "1"));
        assert!(!upcaster.can_upcast("Taken", "2"));
        let v2 = upcaster.upcast(v1);
        assert_eq!(v2.event_version, "2");
        let event: ClaimEvent = serde_json::from_value(v2.payload).unwrap();
        assert_eq!(
            event,
            ClaimEvent::Taken {
                owner: "u1".into(),
                at: "2026-01-02T03:04:05Z".parse().unwrap()
            }
        );
    }
}

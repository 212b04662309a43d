//! Types shared by several aggregates.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that must never leave the event store: a password hash, a token hash, an OAuth token.
///
/// It is stored as `{"$secret": value}`. The relay replaces every such object with
/// `{"$secret": null}` before it publishes an event, so a secret never reaches the broker,
/// whatever event it is in. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret<T>(Option<T>);

/// The JSON key that marks a secret in a stored event.
pub const SECRET_KEY: &str = "$secret";

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Self(Some(value))
    }

    /// The value, or `None` when this copy came from the public stream (redacted).
    pub fn expose(&self) -> Option<&T> {
        self.0.as_ref()
    }

    /// Whether the value was redacted.
    pub fn is_redacted(&self) -> bool {
        self.0.is_none()
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Serialize, Deserialize)]
struct SecretRepr<T> {
    #[serde(rename = "$secret")]
    value: Option<T>,
}

impl<T: Serialize> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        SecretRepr {
            value: self.0.as_ref(),
        }
        .serialize(serializer)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = SecretRepr::<T>::deserialize(deserializer)?;
        Ok(Self(repr.value))
    }
}

/// On the public stream a secret is always `{"$secret": null}`: that is its schema.
impl<T> schemars::JsonSchema for Secret<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Secret".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A secret (a password hash, a token hash, an OAuth token): always null on the public stream.",
            "type": "object",
            "properties": { SECRET_KEY: { "type": "null" } },
            "required": [SECRET_KEY],
            "additionalProperties": false,
        })
    }
}

/// The JSON key that marks personal data in a stored event.
pub const PERSONAL_KEY: &str = "$pii";

/// The schema of a personal field holding a `T` (`#[serde(with = "personal")]`):
/// `{"$pii": value}`, or `{"$pii": null}` once the person was erased. Only used to describe
/// events (`#[schemars(with = "Personal<T>")]`); never built.
pub struct Personal<T>(std::marker::PhantomData<T>);

impl<T: schemars::JsonSchema> schemars::JsonSchema for Personal<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Personal_{}", T::schema_name()).into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let value = generator.subschema_for::<T>();
        schemars::json_schema!({
            "description": "Personal data: {\"$pii\": value}, or {\"$pii\": null} once the person was erased.",
            "type": "object",
            "properties": { PERSONAL_KEY: { "anyOf": [value, { "type": "null" }] } },
            "required": [PERSONAL_KEY],
            "additionalProperties": false,
        })
    }
}

/// `#[serde(with = "personal")]` on a field marks it as personal data: it is stored as
/// `{"$pii": value}`. The event store encrypts every such value with a key of the person's
/// own, and erasing the person destroys the key; from then on the field reads as
/// `{"$pii": null}`, which deserializes to the type's default. Replay and audit keep working
/// and show an erased person.
pub mod personal {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct Out<'a, T> {
        #[serde(rename = "$pii")]
        value: &'a T,
    }

    #[derive(Deserialize)]
    struct In<T> {
        #[serde(rename = "$pii")]
        value: Option<T>,
    }

    /// Serializes `value` as `{"$pii": value}`.
    ///
    /// # Errors
    /// The serializer's.
    pub fn serialize<T: Serialize, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        Out { value }.serialize(serializer)
    }

    /// Reads `{"$pii": value}`; an erased `{"$pii": null}` gives the default.
    ///
    /// # Errors
    /// The deserializer's.
    pub fn deserialize<'de, T, D>(deserializer: D) -> Result<T, D::Error>
    where
        T: Deserialize<'de> + Default,
        D: Deserializer<'de>,
    {
        Ok(In::<T>::deserialize(deserializer)?
            .value
            .unwrap_or_default())
    }
}

/// Strips every secret from a serialized event payload, in place.
pub fn redact_secrets(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            if map.contains_key(SECRET_KEY) {
                map.insert(SECRET_KEY.to_string(), serde_json::Value::Null);
                return;
            }
            map.values_mut().for_each(redact_secrets);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_secrets),
        _ => {}
    }
}

/// Implements `cqrs_es::DomainEvent` for an event enum: the event type is the variant name.
#[macro_export]
macro_rules! domain_event {
    ($ty:ty, $version:literal, { $($variant:ident),* $(,)? }) => {
        impl cqrs_es::DomainEvent for $ty {
            fn event_type(&self) -> String {
                match self {
                    $(Self::$variant { .. } => stringify!($variant).to_string(),)*
                }
            }
            fn event_version(&self) -> String {
                $version.to_string()
            }
        }

        impl $ty {
            /// Every event type of this enum (the variant names).
            pub const EVENT_TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];
            /// The version of every event of this enum (`event_version`).
            pub const EVENT_VERSION: &'static str = $version;
        }
    };
}

/// Implements `cqrs_es::Aggregate` for a pure aggregate without outside services.
///
/// The aggregate brings two inherent functions: `decide(&self, command) ->
/// Result<Option<Event>, Error>` (the one event a command leads to, `None` when nothing
/// changes, or why it is refused) and `evolve(&mut self, event)` (its state after an event).
/// The trait's plumbing (type names, writing the decided event to the sink) is the same for
/// each of them and stands here once; a blanket impl of the foreign trait is not allowed.
#[macro_export]
macro_rules! pure_aggregate {
    ($agg:ty, $ty:literal, $command:ty, $event:ty, $error:ty) => {
        impl cqrs_es::Aggregate for $agg {
            const TYPE: &'static str = $ty;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = ();

            async fn handle(
                &mut self,
                command: $command,
                _: &(),
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), $error> {
                if let Some(event) = self.decide(command)? {
                    sink.write(event, self).await;
                }
                Ok(())
            }

            fn apply(&mut self, event: $event) {
                self.evolve(event);
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Person {
        #[serde(with = "personal")]
        name: String,
        #[serde(with = "personal")]
        picture: Option<String>,
    }

    #[test]
    fn personal_fields_are_marked_and_read_back_as_default_once_erased() {
        let p = Person {
            name: "Ada".into(),
            picture: Some("p.jpg".into()),
        };
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"name": {"$pii": "Ada"}, "picture": {"$pii": "p.jpg"}})
        );
        assert_eq!(serde_json::from_value::<Person>(v).unwrap(), p);
        let erased = serde_json::json!({"name": {"$pii": null}, "picture": {"$pii": null}});
        let back: Person = serde_json::from_value(erased).unwrap();
        assert_eq!(
            back,
            Person {
                name: String::new(),
                picture: None
            }
        );
    }

    #[test]
    fn secret_round_trips_and_redacts() {
        let s = Secret::new("hash".to_string());
        let mut v = serde_json::json!({"Event": {"password_hash": s, "name": "x"}});
        let back: Secret<String> =
            serde_json::from_value(v["Event"]["password_hash"].clone()).unwrap();
        assert_eq!(back.expose().map(String::as_str), Some("hash"));
        redact_secrets(&mut v);
        assert_eq!(
            v["Event"]["password_hash"],
            serde_json::json!({"$secret": null})
        );
        assert_eq!(v["Event"]["name"], "x");
        let back: Secret<String> =
            serde_json::from_value(v["Event"]["password_hash"].clone()).unwrap();
        assert!(back.is_redacted());
        assert_eq!(format!("{back:?}"), "Secret([redacted])");
    }
}

//! The `Station` aggregate: a music station users follow and hum to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Commands on a station.
#[derive(Debug, Clone, PartialEq)]
pub enum StationCommand {
    /// Create the station (staff only; checked at the edge).
    CreateStation {
        /// The new id.
        station_id: String,
        /// Display name.
        name: String,
        /// Description.
        description: String,
        /// Cover image URL.
        image_url: String,
        /// Who created it.
        created_by: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

/// Events of a station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum StationEvent {
    /// The station was created.
    StationCreated {
        /// Its id.
        station_id: String,
        /// Display name.
        name: String,
        /// Description.
        description: String,
        /// Cover image URL.
        image_url: String,
        /// Who created it.
        created_by: String,
        /// When.
        at: DateTime<Utc>,
    },
}

crate::domain_event!(StationEvent, "1", { StationCreated });

/// Why a station command was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StationError {
    /// The id is in use.
    #[error("station already exists")]
    AlreadyExists,
}

/// A station.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Station {
    id: Option<String>,
}

impl Station {
    /// Whether the station exists.
    pub fn exists(&self) -> bool {
        self.id.is_some()
    }
}

impl Station {
    fn decide(&self, command: StationCommand) -> Result<Option<StationEvent>, StationError> {
        let StationCommand::CreateStation {
            station_id,
            name,
            description,
            image_url,
            created_by,
            now,
        } = command;
        if self.exists() {
            return Err(StationError::AlreadyExists);
        }
        Ok(Some(StationEvent::StationCreated {
            station_id,
            name,
            description,
            image_url,
            created_by,
            at: now,
        }))
    }

    fn evolve(&mut self, event: StationEvent) {
        let StationEvent::StationCreated { station_id, .. } = event;
        self.id = Some(station_id);
    }
}

crate::pure_aggregate!(
    Station,
    "Station",
    StationCommand,
    StationEvent,
    StationError
);

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    fn create() -> StationCommand {
        StationCommand::CreateStation {
            station_id: "s1".into(),
            name: "Lo-fi".into(),
            description: "beats".into(),
            image_url: String::new(),
            created_by: "u1".into(),
            now: DateTime::UNIX_EPOCH,
        }
    }

    fn created() -> StationEvent {
        StationEvent::StationCreated {
            station_id: "s1".into(),
            name: "Lo-fi".into(),
            description: "beats".into(),
            image_url: String::new(),
            created_by: "u1".into(),
            at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_station_is_created_once() {
        TestFramework::<Station>::with(())
            .given_no_previous_events()
            .when(create())
            .then_expect_events(vec![created()]);
        TestFramework::<Station>::with(())
            .given(vec![created()])
            .when(create())
            .then_expect_error(StationError::AlreadyExists);
    }
}

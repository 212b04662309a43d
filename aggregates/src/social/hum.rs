//! The `Hum` aggregate: a track a user shares to a station.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Commands on a hum.
#[derive(Debug, Clone, PartialEq)]
pub enum HumCommand {
    /// Share a track to a station. Onboarding and the station's existence are checked at
    /// the edge.
    PostHum {
        /// The new id.
        hum_id: String,
        /// Who hums.
        user_id: String,
        /// To which station.
        station_id: String,
        /// The Spotify track id.
        track_id: String,
        /// A note.
        caption: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

/// Events of a hum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum HumEvent {
    /// The hum was posted.
    HumPosted {
        /// Its id.
        hum_id: String,
        /// Who hummed.
        user_id: String,
        /// To which station.
        station_id: String,
        /// The Spotify track id.
        track_id: String,
        /// A note.
        caption: String,
        /// When.
        at: DateTime<Utc>,
    },
}

crate::domain_event!(HumEvent, "1", { HumPosted });

/// Why a hum command was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HumError {
    /// The id is in use.
    #[error("hum already exists")]
    AlreadyExists,
}

/// A hum.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Hum {
    posted: bool,
}

impl Hum {
    /// Whether the hum was posted.
    pub fn is_posted(&self) -> bool {
        self.posted
    }
}

impl Hum {
    fn decide(&self, command: HumCommand) -> Result<Option<HumEvent>, HumError> {
        if self.posted {
            return Err(HumError::AlreadyExists);
        }
        let HumCommand::PostHum {
            hum_id,
            user_id,
            station_id,
            track_id,
            caption,
            now,
        } = command;
        Ok(Some(HumEvent::HumPosted {
            hum_id,
            user_id,
            station_id,
            track_id,
            caption,
            at: now,
        }))
    }

    fn evolve(&mut self, _event: HumEvent) {
        self.posted = true;
    }
}

crate::pure_aggregate!(Hum, "Hum", HumCommand, HumEvent, HumError);

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    #[test]
    fn a_hum_is_posted_once() {
        let cmd = HumCommand::PostHum {
            hum_id: "h1".into(),
            user_id: "u1".into(),
            station_id: "s1".into(),
            track_id: "t1".into(),
            caption: String::new(),
            now: DateTime::UNIX_EPOCH,
        };
        let ev = HumEvent::HumPosted {
            hum_id: "h1".into(),
            user_id: "u1".into(),
            station_id: "s1".into(),
            track_id: "t1".into(),
            caption: String::new(),
            at: DateTime::UNIX_EPOCH,
        };
        TestFramework::<Hum>::with(())
            .given_no_previous_events()
            .when(cmd.clone())
            .then_expect_events(vec![ev.clone()]);
        TestFramework::<Hum>::with(())
            .given(vec![ev])
            .when(cmd)
            .then_expect_error(HumError::AlreadyExists);
    }
}

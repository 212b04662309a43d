//! On/off relationships between a user and another user or a station.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Commands on any relationship.
#[derive(Debug, Clone, PartialEq)]
pub enum RelationCommand {
    /// Turn it on (follow, mute).
    Add {
        /// The user acting.
        subject: String,
        /// The user or station acted on.
        object: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Turn it off (unfollow, unmute).
    Remove {
        /// The user acting.
        subject: String,
        /// The user or station acted on.
        object: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

impl RelationCommand {
    /// Turns the relationship `subject` → `object` on (`Add`) or off (`Remove`).
    pub fn set(on: bool, subject: String, object: String, now: DateTime<Utc>) -> Self {
        if on {
            Self::Add {
                subject,
                object,
                now,
            }
        } else {
            Self::Remove {
                subject,
                object,
                now,
            }
        }
    }
}

/// Why a relationship command was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RelationError {
    /// A user cannot follow or mute themselves.
    #[error("cannot do that to yourself")]
    SelfRelation,
}

/// Defines one relationship aggregate: its type name, its event enum with an `on` and an `off`
/// event, and the subject/object field names the events carry.
macro_rules! relation {
    ($(#[$doc:meta])* $agg:ident, $event:ident, $ty:literal, $on:ident, $off:ident,
     $subject:ident, $object:ident, self_allowed = $self_allowed:literal) => {
        $(#[$doc])*
        #[derive(Debug, Default, Serialize, Deserialize)]
        pub struct $agg {
            on: bool,
        }

        impl $agg {
            /// Whether the relationship is on.
            pub fn is_on(&self) -> bool {
                self.on
            }
        }

        #[doc = concat!("Events of [`", stringify!($agg), "`].")]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
        pub enum $event {
            /// Turned on.
            $on {
                /// The user acting.
                $subject: String,
                /// The one acted on.
                $object: String,
                /// When.
                at: DateTime<Utc>,
            },
            /// Turned off.
            $off {
                /// The user acting.
                $subject: String,
                /// The one acted on.
                $object: String,
                /// When.
                at: DateTime<Utc>,
            },
        }

        crate::domain_event!($event, "1", { $on, $off });

        impl $event {
            /// The edge it is about and where it leaves it: `(subject, object, at, on)`.
            pub fn into_edge(self) -> (String, String, DateTime<Utc>, bool) {
                match self {
                    Self::$on { $subject, $object, at } => ($subject, $object, at, true),
                    Self::$off { $subject, $object, at } => ($subject, $object, at, false),
                }
            }
        }

        impl $agg {
            fn decide(&self, command: RelationCommand) -> Result<Option<$event>, RelationError> {
                Ok(match command {
                    RelationCommand::Add { subject, object, now } => {
                        if !$self_allowed && subject == object {
                            return Err(RelationError::SelfRelation);
                        }
                        (!self.on).then_some($event::$on { $subject: subject, $object: object, at: now })
                    }
                    RelationCommand::Remove { subject, object, now } => {
                        self.on.then_some($event::$off { $subject: subject, $object: object, at: now })
                    }
                })
            }

            fn evolve(&mut self, event: $event) {
                self.on = matches!(event, $event::$on { .. });
            }
        }

        crate::pure_aggregate!($agg, $ty, RelationCommand, $event, RelationError);
    };
}

relation!(
    /// A user follows another user. Id: `<follower_id>:<followee_id>`.
    UserFollow, UserFollowEvent, "UserFollow", UserFollowed, UserUnfollowed,
    follower_id, followee_id, self_allowed = false
);
relation!(
    /// A user follows a station. Id: `<user_id>:<station_id>`.
    StationFollow, StationFollowEvent, "StationFollow", StationFollowed, StationUnfollowed,
    user_id, station_id, self_allowed = true
);
relation!(
    /// A user mutes another user. Id: `<user_id>:<muted_user_id>`.
    Mute, MuteEvent, "Mute", UserMuted, UserUnmuted,
    user_id, muted_user_id, self_allowed = false
);

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    fn add() -> RelationCommand {
        RelationCommand::set(true, "u1".into(), "s1".into(), DateTime::UNIX_EPOCH)
    }
    fn remove() -> RelationCommand {
        RelationCommand::set(false, "u1".into(), "s1".into(), DateTime::UNIX_EPOCH)
    }
    fn followed() -> StationFollowEvent {
        StationFollowEvent::StationFollowed {
            user_id: "u1".into(),
            station_id: "s1".into(),
            at: DateTime::UNIX_EPOCH,
        }
    }
    fn unfollowed() -> StationFollowEvent {
        StationFollowEvent::StationUnfollowed {
            user_id: "u1".into(),
            station_id: "s1".into(),
            at: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn follow_records_once() {
        TestFramework::<StationFollow>::with(())
            .given_no_previous_events()
            .when(add())
            .then_expect_events(vec![followed()]);
        TestFramework::<StationFollow>::with(())
            .given(vec![followed()])
            .when(add())
            .then_expect_events(vec![]);
    }

    #[test]
    fn unfollow_records_only_when_following() {
        TestFramework::<StationFollow>::with(())
            .given(vec![followed()])
            .when(remove())
            .then_expect_events(vec![unfollowed()]);
        TestFramework::<StationFollow>::with(())
            .given(vec![followed(), unfollowed()])
            .when(remove())
            .then_expect_events(vec![]);
        TestFramework::<StationFollow>::with(())
            .given_no_previous_events()
            .when(remove())
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_user_cannot_follow_or_mute_themselves() {
        let me = RelationCommand::Add {
            subject: "u1".into(),
            object: "u1".into(),
            now: DateTime::UNIX_EPOCH,
        };
        TestFramework::<UserFollow>::with(())
            .given_no_previous_events()
            .when(me.clone())
            .then_expect_error(RelationError::SelfRelation);
        TestFramework::<Mute>::with(())
            .given_no_previous_events()
            .when(me)
            .then_expect_error(RelationError::SelfRelation);
    }
}

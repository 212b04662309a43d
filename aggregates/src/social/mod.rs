//! Relationships and hums.
//!
//! A relationship between two things is its own tiny aggregate, keyed `<subject>:<object>`,
//! that is either on or off: [`UserFollow`] (a user follows a user), [`StationFollow`] (a user
//! follows a station), [`Mute`] (a user mutes a user). Turning on what is on, or off what is
//! off, records nothing, so the projections' counters move only on real transitions and stay
//! exact under concurrent follows and unfollows. [`Hum`] is a track a user shares to a station.

mod hum;
mod relation;

pub use hum::{Hum, HumCommand, HumError, HumEvent};
pub use relation::{
    Mute, MuteEvent, RelationCommand, RelationError, StationFollow, StationFollowEvent, UserFollow,
    UserFollowEvent,
};

//! The write side of humit: pure aggregates, their commands and their events.
//!
//! Nothing in this crate does I/O. Each aggregate lives in its own folder:
//! - [`user`]: one person, one identity, several auth modes (password, OAuth, Spotify);
//!   shared by the humit and the Techfesia APIs.
//! - [`claim`]: a unique key (username, email, referral code, provider identity); its first
//!   event can be stored only once, which makes uniqueness race-free on the write side.
//! - [`session`]: one signed-in device (a refresh token), a stream of its own so that logins
//!   of one account never conflict.
//! - [`station`]: a music station that users follow and hum to.
//! - [`social`]: the relationships between two things (user follows user, user follows
//!   station, user mutes user) and hums (a track shared by a user to a station).
//!
//! Outside services (password hashing) are traits in `user::services`; the app implements them.
//! Commands are imperative (`FollowStation`), events past tense (`StationFollowed`). Events are
//! the storage contract: a changed shape gets a new version and an upcaster in the app.

pub mod claim;
pub mod common;
pub mod session;
pub mod social;
pub mod station;
pub mod user;

pub use common::Secret;

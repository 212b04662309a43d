//! Authentication: password hashing, JWTs, the in-memory revocation state and its snapshots,
//! login limits, the general per-client limit.

pub mod jwt;
pub mod limits;
pub mod passwords;
pub mod revocation;
pub mod snapshot;
pub mod throttle;

pub use jwt::{Claims, TokenError, TokenKind, TokenPair, Tokens};
pub use revocation::{Principal, Registry};

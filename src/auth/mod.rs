//! Authentication: password hashing, JWTs, the in-memory revocation state, login limits, the
//! general per-client limit.

pub mod jwt;
pub mod limits;
pub mod passwords;
pub mod revocation;
pub mod throttle;

pub use jwt::{Claims, TokenError, TokenKind, TokenPair, Tokens};
pub use revocation::{Principal, Registry};

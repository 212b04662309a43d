//! Authentication: password hashing, JWTs, the in-memory revocation state and its snapshots,
//! login limits.

pub mod jwt;
pub mod limits;
pub mod passwords;
pub mod revocation;
pub mod snapshot;

pub use jwt::{Claims, TokenError, TokenKind, TokenPair, Tokens};
pub use revocation::{Principal, Registry};

//! The `User` aggregate: one person, one identity, several auth modes.
//!
//! Both API dialects drive it: the humit app (Spotify sign-up, registration form, referral
//! credits) and the Techfesia API (password accounts, sessions, roles, OAuth links, password
//! create/change/reset). Sessions (refresh tokens) are recorded as events so that revoking one,
//! all, or every session of a disabled or deleted user is part of the history.

mod access;
mod aggregate;
mod command;
mod credentials;
mod error;
mod event;
mod evolve;
mod profile;
mod services;

pub use aggregate::User;
pub use command::{NewSession, ProviderIdentity, UserCommand};
pub use error::UserError;
pub use event::{
    Action, HumitProfile, PasswordChange, PendingUpload, Privileges, Role, UserDetails, UserEvent,
    PENDING_UPLOAD_TTL_HOURS, RESET_TOKEN_TTL_MINUTES,
};
pub use services::{HashError, PasswordHasher, UserServices};

#[cfg(test)]
mod tests;

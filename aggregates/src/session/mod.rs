//! The `Session` aggregate: one signed-in device (one refresh token), a stream of its own.
//!
//! Sessions used to be events of the `User` stream, so every login of one account appended
//! to the same stream and concurrent logins conflicted. A session is now its own aggregate
//! (id = the session id, the refresh token's `jti`): logins, refreshes and revocations of
//! one session never touch the person's stream, and logins of one account never conflict.
//! Ending every session of a person stays a `User` event (`AllSessionsRevoked`, "every
//! session started before `at` is over"), which the auth state applies to all of them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Commands on a session.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionCommand {
    /// Open the session (the credentials were checked against the `User` before).
    Start {
        /// Whose session it is.
        user_id: String,
        /// `password`, a provider name, or `cli`.
        method: String,
        /// When its refresh token expires.
        expires_at: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
    },
    /// End the session. Only its owner may; an ended or unknown session changes nothing.
    Revoke {
        /// Who asks.
        user_id: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

/// Events of a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum SessionEvent {
    /// The session was opened: a login.
    SessionStarted {
        /// Whose session it is.
        user_id: String,
        /// `password`, a provider name, or `cli`.
        method: String,
        /// When its refresh token expires.
        expires_at: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The session was ended (sign-out of this device).
    SessionRevoked {
        /// Whose session it was.
        user_id: String,
        /// When.
        at: DateTime<Utc>,
    },
}

crate::domain_event!(SessionEvent, "1", { SessionStarted, SessionRevoked });

/// Why a session command was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SessionError {
    /// The session id is in use.
    #[error("session already exists")]
    AlreadyExists,
    /// The session belongs to someone else.
    #[error("not your session")]
    NotOwner,
}

/// A session.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Session {
    user_id: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    revoked: bool,
}

impl Session {
    /// Whose session it is (`None` before it started).
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// Whether it is open at `now`: started, not revoked, not expired.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.user_id.is_some() && !self.revoked && self.expires_at.is_some_and(|e| e > now)
    }
}

impl Session {
    fn decide(&self, command: SessionCommand) -> Result<Option<SessionEvent>, SessionError> {
        Ok(Some(match command {
            SessionCommand::Start {
                user_id,
                method,
                expires_at,
                now,
            } => {
                if self.user_id.is_some() {
                    return Err(SessionError::AlreadyExists);
                }
                SessionEvent::SessionStarted {
                    user_id,
                    method,
                    expires_at,
                    at: now,
                }
            }
            SessionCommand::Revoke { user_id, now } => {
                match self.user_id.as_deref() {
                    None => return Ok(None),
                    Some(owner) if owner != user_id => return Err(SessionError::NotOwner),
                    Some(_) => {}
                }
                if !self.is_open(now) {
                    return Ok(None);
                }
                SessionEvent::SessionRevoked { user_id, at: now }
            }
        }))
    }

    fn evolve(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::SessionStarted {
                user_id,
                expires_at,
                ..
            } => {
                self.user_id = Some(user_id);
                self.expires_at = Some(expires_at);
            }
            SessionEvent::SessionRevoked { .. } => self.revoked = true,
        }
    }
}

crate::pure_aggregate!(
    Session,
    "Session",
    SessionCommand,
    SessionEvent,
    SessionError
);

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Test = TestFramework<Session>;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn started() -> SessionEvent {
        SessionEvent::SessionStarted {
            user_id: "u1".into(),
            method: "password".into(),
            expires_at: now() + chrono::Duration::days(1),
            at: now(),
        }
    }

    #[test]
    fn a_session_starts_once() {
        Test::with(())
            .given_no_previous_events()
            .when(SessionCommand::Start {
                user_id: "u1".into(),
                method: "password".into(),
                expires_at: now() + chrono::Duration::days(1),
                now: now(),
            })
            .then_expect_events(vec![started()]);
        Test::with(())
            .given(vec![started()])
            .when(SessionCommand::Start {
                user_id: "u2".into(),
                method: "password".into(),
                expires_at: now(),
                now: now(),
            })
            .then_expect_error(SessionError::AlreadyExists);
    }

    #[test]
    fn only_the_owner_revokes_and_only_once() {
        let revoke = |user: &str| SessionCommand::Revoke {
            user_id: user.into(),
            now: now(),
        };
        Test::with(())
            .given(vec![started()])
            .when(revoke("u1"))
            .then_expect_events(vec![SessionEvent::SessionRevoked {
                user_id: "u1".into(),
                at: now(),
            }]);
        Test::with(())
            .given(vec![started()])
            .when(revoke("u2"))
            .then_expect_error(SessionError::NotOwner);
        Test::with(())
            .given(vec![
                started(),
                SessionEvent::SessionRevoked {
                    user_id: "u1".into(),
                    at: now(),
                },
            ])
            .when(revoke("u1"))
            .then_expect_events(vec![]);
        Test::with(())
            .given_no_previous_events()
            .when(revoke("u1"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn an_expired_session_is_not_revoked_again() {
        Test::with(())
            .given(vec![SessionEvent::SessionStarted {
                user_id: "u1".into(),
                method: "password".into(),
                expires_at: now() - chrono::Duration::seconds(1),
                at: now() - chrono::Duration::days(1),
            }])
            .when(SessionCommand::Revoke {
                user_id: "u1".into(),
                now: now(),
            })
            .then_expect_events(vec![]);
    }
}

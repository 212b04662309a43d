//! Given/when/then tests for every rule of the `User` aggregate, one file per part of it:
//! [`credentials`] (registration, login, passwords, reset tokens), [`access`] (roles,
//! disabling, deleting, sessions) and [`profile`] (linked providers, the humit profile,
//! referrals, picture uploads). The fixtures they share stand here.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::{AggregateTestExecutor, TestFramework};

use super::*;
use crate::common::Secret;

mod access;
mod credentials;
mod profile;

/// A cheap, deterministic stand-in for argon2: `plain:<password>`.
struct PlainHasher;

#[async_trait::async_trait]
impl PasswordHasher for PlainHasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        Ok(format!("plain:{password}"))
    }
    async fn verify(&self, password: &str, hash: &str) -> bool {
        hash == format!("plain:{password}")
    }
}

type UserTest = TestFramework<User>;

fn services() -> UserServices {
    UserServices {
        passwords: Arc::new(PlainHasher),
    }
}

/// A user with `events` behind it, ready for a command.
fn given(events: Vec<UserEvent>) -> AggregateTestExecutor<User> {
    UserTest::with(services()).given(events)
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: "u1".into(),
        username: "alice".into(),
        details: UserDetails::default(),
        referral_code: "123456".into(),
        signup_method: "password".into(),
        role: Role::Normal,
        at: now(),
    }
}

fn password_set(password: &str, change: PasswordChange) -> UserEvent {
    password_set_at(password, change, now())
}

fn password_set_at(password: &str, change: PasswordChange, at: DateTime<Utc>) -> UserEvent {
    UserEvent::PasswordSet {
        password_hash: Secret::new(format!("plain:{password}")),
        change,
        at,
    }
}

/// alice, registered with `password`.
fn with_password(password: &str) -> Vec<UserEvent> {
    vec![
        registered(),
        password_set(password, PasswordChange::Initial),
    ]
}

/// Every session started before `at` ends.
fn sessions_revoked(at: DateTime<Utc>) -> UserEvent {
    UserEvent::AllSessionsRevoked {
        session_ids: vec![],
        at,
    }
}

/// The state after `events`.
fn user_from(events: Vec<UserEvent>) -> User {
    let mut user = User::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut user, event);
    }
    user
}

fn started(id: &str) -> UserEvent {
    UserEvent::SessionStarted {
        session_id: id.into(),
        method: "password".into(),
        expires_at: now() + Duration::days(30),
        at: now(),
    }
}

fn google() -> ProviderIdentity {
    ProviderIdentity {
        provider: "google".into(),
        subject: "g-1".into(),
        picture_url: Some("https://pics/g.jpg".into()),
    }
}

fn linked_google() -> UserEvent {
    UserEvent::ProviderLinked {
        provider: "google".into(),
        subject: "g-1".into(),
        picture_url: Some("https://pics/g.jpg".into()),
        at: now(),
    }
}

//! The in-memory authentication state of every user, fed by the event log.
//!
//! Every process keeps, per user, the role, privileges and whether the account is disabled or
//! deleted, plus the set of revoked sessions (until their refresh token would have expired).
//! Checking a token is then a map lookup: no database round trip on the hot path.
//!
//! The state is fed by tailing the Postgres event log (woken by `LISTEN humit_events`), not
//! by RabbitMQ: a revocation must take effect within a second even while the broker is down.
//! A handler that just revoked something calls [`Registry::sync_to`] with the command's
//! position, so the revocation is in force before its response is sent.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use aggregates::user::{Privileges, Role, UserEvent};
use chrono::{DateTime, Utc};
use projections::Envelope;
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use super::jwt::Claims;
use crate::bus::{sleep_or_stop, Backoff, Shutdown};
use crate::store::log;

/// A signed-in caller, as checked against the current state.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user id.
    pub user_id: String,
    /// The session the token belongs to.
    pub session_id: String,
    /// The role.
    pub role: Role,
    /// Per-model privileges (staff).
    pub privileges: Privileges,
}

impl Principal {
    /// `normal`, `staff` or `superuser`.
    pub fn role_name(&self) -> &'static str {
        match self.role {
            Role::Normal => "normal",
            Role::Staff => "staff",
            Role::Superuser => "superuser",
        }
    }

    /// Staff or superuser.
    pub fn is_staff(&self) -> bool {
        matches!(self.role, Role::Staff | Role::Superuser)
    }

    /// Whether the caller may do `action` on `model`: superusers may do everything; staff
    /// what their privileges list.
    pub fn may(&self, model: &str, action: aggregates::user::Action) -> bool {
        match self.role {
            Role::Superuser => true,
            Role::Staff => self
                .privileges
                .get(model)
                .is_some_and(|a| a.contains(&action)),
            Role::Normal => false,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct UserAuth {
    role: Role,
    privileges: Privileges,
    disabled: bool,
    deleted: bool,
}

#[derive(Debug, Default)]
struct State {
    users: HashMap<String, UserAuth>,
    /// Session id → (user id, when its refresh token expires).
    open: HashMap<String, DateTime<Utc>>,
    /// Revoked session id → when its tokens stop mattering.
    revoked: HashMap<String, DateTime<Utc>>,
}

/// The event types that change authentication state.
const RELEVANT: &[&str] = &[
    "UserRegistered",
    "SessionStarted",
    "SessionRevoked",
    "AllSessionsRevoked",
    "RoleChanged",
    "UserDisabled",
    "UserDeleted",
];

/// Authentication state of every user.
#[derive(Debug)]
pub struct Registry {
    state: RwLock<State>,
    position: watch::Sender<i64>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            state: RwLock::default(),
            position: watch::channel(0).0,
        }
    }
}

/// Why a valid token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Denied {
    /// The session was revoked (sign-out, password change, disable, delete).
    #[error("session revoked")]
    Revoked,
    /// The account is disabled, deleted or unknown.
    #[error("account inactive")]
    Inactive,
}

impl Registry {
    /// Checks a verified token against the current state.
    ///
    /// # Errors
    /// [`Denied`] when the session is revoked or the account inactive.
    pub fn authenticate(&self, claims: &Claims) -> Result<Principal, Denied> {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        if state.revoked.contains_key(&claims.sid) {
            return Err(Denied::Revoked);
        }
        let user = state.users.get(&claims.sub).ok_or(Denied::Inactive)?;
        if user.disabled || user.deleted {
            return Err(Denied::Inactive);
        }
        Ok(Principal {
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
            role: user.role,
            privileges: user.privileges.clone(),
        })
    }

    /// Whether the user exists and is active.
    pub fn is_active(&self, user_id: &str) -> bool {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state
            .users
            .get(user_id)
            .is_some_and(|u| !u.disabled && !u.deleted)
    }

    /// The position the state reflects.
    pub fn position(&self) -> i64 {
        *self.position.borrow()
    }

    /// Waits (at most `timeout`) until the state reflects `position`.
    pub async fn sync_to(&self, position: i64, timeout: Duration) -> bool {
        let mut rx = self.position.subscribe();
        let reached = matches!(
            tokio::time::timeout(timeout, rx.wait_for(|p| *p >= position)).await,
            Ok(Ok(_))
        );
        reached
    }

    fn apply(state: &mut State, event: &Envelope) {
        let Ok(decoded) = event.decode::<UserEvent>() else {
            tracing::warn!(
                position = event.position,
                "undecodable user event skipped by the registry"
            );
            return;
        };
        let id = event.aggregate_id.clone();
        match decoded {
            UserEvent::UserRegistered { role, .. } => {
                state.users.insert(
                    id,
                    UserAuth {
                        role,
                        ..UserAuth::default()
                    },
                );
            }
            UserEvent::SessionStarted {
                session_id,
                expires_at,
                ..
            } => {
                state.open.insert(session_id, expires_at);
            }
            UserEvent::SessionRevoked { session_id, at } => {
                let until = state
                    .open
                    .remove(&session_id)
                    .unwrap_or(at + chrono::Duration::days(365));
                state.revoked.insert(session_id, until);
            }
            UserEvent::AllSessionsRevoked { session_ids, at } => {
                for sid in session_ids {
                    let until = state
                        .open
                        .remove(&sid)
                        .unwrap_or(at + chrono::Duration::days(365));
                    state.revoked.insert(sid, until);
                }
            }
            UserEvent::RoleChanged {
                role, privileges, ..
            } => {
                let user = state.users.entry(id).or_default();
                user.role = role;
                user.privileges = privileges;
            }
            UserEvent::UserDisabled { .. } => state.users.entry(id).or_default().disabled = true,
            UserEvent::UserDeleted { .. } => state.users.entry(id).or_default().deleted = true,
            _ => {}
        }
    }

    /// Reads every relevant event after the current position and applies it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn catch_up(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        loop {
            let from = self.position();
            let head = log::head(pool).await?;
            if head <= from {
                return Ok(());
            }
            let types: Vec<String> = RELEVANT.iter().map(|s| s.to_string()).collect();
            let filter = log::Filter {
                after: from,
                limit: 5_000,
                aggregate_type: Some("User".into()),
                ..log::Filter::default()
            };
            let events = log::query_types(pool, &filter, &types, head).await?;
            let reached = if events.len() as i64 == filter.limit {
                events.last().map_or(head, |e| e.position)
            } else {
                head
            };
            {
                let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
                for event in &events {
                    Self::apply(&mut state, event);
                }
                let now = Utc::now();
                if state.revoked.len() > 10_000 {
                    state.revoked.retain(|_, until| *until > now);
                }
            }
            self.position.send_replace(reached);
        }
    }

    /// Follows the log until shutdown.
    pub async fn follow(self: std::sync::Arc<Self>, pool: PgPool, mut shutdown: Shutdown) {
        let mut backoff = Backoff::default();
        loop {
            let result: Result<(), sqlx::Error> = async {
                let mut listener = PgListener::connect_with(&pool).await?;
                listener.listen("humit_events").await?;
                loop {
                    self.catch_up(&pool).await?;
                    tokio::select! {
                        n = listener.recv() => { n?; }
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return Ok(()),
                    }
                }
            }
            .await;
            match result {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, "revocation feed interrupted");
                    if sleep_or_stop(backoff.next_delay(), &mut shutdown).await {
                        return;
                    }
                }
            }
        }
    }
}

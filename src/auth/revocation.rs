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
//!
//! A process starts from the latest snapshot of this state (written periodically by every
//! process, see [`super::snapshot`]) and the events after it, so neither its start-up time
//! nor its memory grows with the history of past sessions.
//!
//! (Over 400 lines: the state, how each event changes it, and the feed that tails the log are
//! one mechanism; they are read together.)

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use aggregates::session::{Session, SessionEvent};
use aggregates::user::{Privileges, Role, User, UserEvent};
use chrono::{DateTime, Utc};
use cqrs_es::Aggregate;
use projections::Envelope;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use super::jwt::Claims;
use crate::background::{retry_until_stopped, Shutdown};
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
    /// When the token that authenticated expires (unix seconds): for a refresh token, the
    /// end of the session.
    pub token_expires: i64,
    /// When the person signed in to open this session (refreshing does not move it).
    pub signed_in_at: DateTime<Utc>,
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct UserAuth {
    role: Role,
    privileges: Privileges,
    disabled: bool,
    deleted: bool,
    /// Every session started at or before this instant is over ("revoke all").
    revoked_before: Option<DateTime<Utc>>,
    /// The person's open sessions.
    sessions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenSession {
    user_id: String,
    started_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    users: HashMap<String, UserAuth>,
    /// Open sessions by id; dropped once their refresh token expired.
    open: HashMap<String, OpenSession>,
    /// Revoked session id → when its tokens stop mattering (its refresh token's expiry).
    revoked: HashMap<String, DateTime<Utc>>,
    /// When expired sessions were last forgotten.
    #[serde(skip)]
    pruned_at: Option<DateTime<Utc>>,
}

/// How many positions of the log one catch-up read covers at most.
const CATCH_UP_SPAN: i64 = 20_000;

/// How often expired sessions are forgotten.
const PRUNE_EVERY_SECS: i64 = 60;

impl State {
    fn start(
        &mut self,
        session_id: String,
        user_id: String,
        at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) {
        let user = self.users.entry(user_id.clone()).or_default();
        if user.revoked_before.is_some_and(|before| at <= before) {
            // A login that raced a "revoke all" and was numbered after it.
            self.revoked.insert(session_id, expires_at);
            return;
        }
        user.sessions.push(session_id.clone());
        self.open.insert(
            session_id,
            OpenSession {
                user_id,
                started_at: at,
                expires_at,
            },
        );
    }

    fn revoke(&mut self, session_id: String, at: DateTime<Utc>) {
        let until = match self.open.remove(&session_id) {
            Some(session) => {
                if let Some(user) = self.users.get_mut(&session.user_id) {
                    user.sessions.retain(|s| *s != session_id);
                }
                session.expires_at
            }
            None => at + chrono::Duration::days(365),
        };
        self.revoked.insert(session_id, until);
    }

    fn revoke_all(&mut self, user_id: &str, at: DateTime<Utc>) {
        let State {
            users,
            open,
            revoked,
            ..
        } = self;
        let user = users.entry(user_id.to_string()).or_default();
        user.revoked_before = Some(user.revoked_before.map_or(at, |b| b.max(at)));
        // Sessions started after the cut-off stay; the others end.
        user.sessions.retain(|sid| match open.get(sid) {
            Some(session) if session.started_at > at => true,
            Some(_) => {
                let session = open.remove(sid).expect("present");
                revoked.insert(sid.clone(), session.expires_at);
                false
            }
            None => false,
        });
    }

    /// Forgets sessions whose refresh tokens expired: their tokens are dead by themselves.
    fn prune(&mut self, now: DateTime<Utc>) {
        self.revoked.retain(|_, until| *until > now);
        let expired: Vec<String> = self
            .open
            .iter()
            .filter(|(_, s)| s.expires_at <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for sid in expired {
            if let Some(session) = self.open.remove(&sid) {
                if let Some(user) = self.users.get_mut(&session.user_id) {
                    user.sessions.retain(|s| *s != sid);
                }
            }
        }
    }
}

/// The `User` event types that change authentication state.
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
    /// When the state last caught up with the log (readiness fails closed without it).
    fed_at: std::sync::Mutex<Option<std::time::Instant>>,
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            state: RwLock::default(),
            position: watch::channel(0).0,
            fed_at: std::sync::Mutex::default(),
        }
    }
}

impl Registry {
    /// Whether the state caught up with the log within `max_age`: a feed that keeps failing
    /// leaves revocations unseen, so readiness goes red instead of serving on (fails closed).
    pub fn is_fresh(&self, max_age: Duration) -> bool {
        self.fed_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| at.elapsed() <= max_age)
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
        // A session this process has not heard of yet counts from its token's issue time.
        let started = state
            .open
            .get(&claims.sid)
            .map_or_else(|| claims.issued_at(), |s| s.started_at);
        if let Some(before) = user.revoked_before {
            if started <= before {
                return Err(Denied::Revoked);
            }
        }
        Ok(Principal {
            token_expires: claims.exp,
            user_id: claims.sub.clone(),
            session_id: claims.sid.clone(),
            role: user.role,
            privileges: user.privileges.clone(),
            signed_in_at: started,
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

    /// How many sessions of `user_id` are open at `now`.
    pub fn open_sessions(&self, user_id: &str, now: DateTime<Utc>) -> usize {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        state.users.get(user_id).map_or(0, |u| {
            u.sessions
                .iter()
                .filter(|sid| state.open.get(*sid).is_some_and(|s| s.expires_at > now))
                .count()
        })
    }

    /// How many sessions and revocations are held in memory (for `/metrics`).
    pub fn sizes(&self) -> (usize, usize) {
        let state = self.state.read().unwrap_or_else(|p| p.into_inner());
        (state.open.len(), state.revoked.len())
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
        if event.aggregate_type == Session::TYPE {
            match event.decode::<SessionEvent>() {
                Ok(SessionEvent::SessionStarted {
                    user_id,
                    expires_at,
                    at,
                    ..
                }) => state.start(event.aggregate_id.clone(), user_id, at, expires_at),
                Ok(SessionEvent::SessionRevoked { at, .. }) => {
                    state.revoke(event.aggregate_id.clone(), at);
                }
                Err(_) => tracing::warn!(
                    position = event.position,
                    "undecodable session event skipped by the registry"
                ),
            }
            return;
        }
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
                let user = state.users.entry(id).or_default();
                user.role = role;
            }
            // Sessions stored on the person's stream before they had an aggregate of their own.
            UserEvent::SessionStarted {
                session_id,
                expires_at,
                at,
                ..
            } => state.start(session_id, id, at, expires_at),
            UserEvent::SessionRevoked { session_id, at } => state.revoke(session_id, at),
            UserEvent::AllSessionsRevoked { session_ids, at } => {
                for sid in session_ids {
                    state.revoke(sid, at);
                }
                state.revoke_all(&id, at);
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
        self.catch_up_to(pool, None).await
    }

    /// [`Registry::catch_up`], starting from a head the sequencer announced (`h=<head>` in
    /// its notification) when there is one, which saves asking the log for it.
    async fn catch_up_to(
        &self,
        pool: &PgPool,
        mut known_head: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        loop {
            let from = self.position();
            let head = match known_head.take().filter(|h| *h > from) {
                Some(head) => head,
                None => log::head(pool).await?,
            };
            if head <= from {
                *self.fed_at.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(std::time::Instant::now());
                return Ok(());
            }
            let types: Vec<String> = RELEVANT.iter().map(|s| s.to_string()).collect();
            let filter = log::Filter {
                after: from,
                limit: 5_000,
                ..log::Filter::default()
            };
            let aggregates = [User::TYPE.to_string(), Session::TYPE.to_string()];
            // A window of positions at a time: each read then scans a bounded slice of the
            // log, so reading a long history costs time linear in its length.
            let upto = head.min(from + CATCH_UP_SPAN);
            let events = log::query_types(pool, &filter, &aggregates, &types, upto).await?;
            let long = upto < head || events.len() as i64 == filter.limit;
            let reached = if events.len() as i64 == filter.limit {
                events.last().map_or(upto, |e| e.position)
            } else {
                upto
            };
            {
                let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
                for event in &events {
                    Self::apply(&mut state, event);
                }
                let now = Utc::now();
                // Also after every full batch of a long catch-up, so that reading a long
                // history never holds more than its live sessions and one batch.
                let due = long
                    || state
                        .pruned_at
                        .is_none_or(|at| (now - at).num_seconds() >= PRUNE_EVERY_SECS);
                if due {
                    state.prune(now);
                    state.pruned_at = Some(now);
                }
                // Under the lock, so that a snapshot never pairs a state with another position.
                self.position.send_replace(reached);
            }
        }
    }

    /// The state, pruned to what still matters (open sessions, revocations until their
    /// tokens expire, each person's role and cut-off), and the position it reflects: what a
    /// snapshot stores (see [`super::snapshot`]).
    ///
    /// # Errors
    /// Serialisation failures.
    pub(super) fn export(&self) -> Result<(serde_json::Value, i64), serde_json::Error> {
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        let now = Utc::now();
        state.prune(now);
        state.pruned_at = Some(now);
        let position = self.position();
        Ok((serde_json::to_value(&*state)?, position))
    }

    /// Replaces the state with a snapshot's, at its position (before the feed starts).
    ///
    /// # Errors
    /// A snapshot that does not decode.
    pub(super) fn import(
        &self,
        value: serde_json::Value,
        position: i64,
    ) -> Result<(), serde_json::Error> {
        let restored: State = serde_json::from_value(value)?;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        *state = restored;
        self.position.send_replace(position);
        Ok(())
    }

    /// Follows the log until shutdown.
    pub async fn follow(self: std::sync::Arc<Self>, pool: PgPool, mut shutdown: Shutdown) {
        let (this, pool) = (&self, &pool);
        retry_until_stopped(
            "revocation feed",
            &mut shutdown,
            |mut shutdown| async move {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen("humit_events").await?;
                let mut announced = None;
                loop {
                    this.catch_up_to(pool, announced.take()).await?;
                    tokio::select! {
                        n = listener.recv() => {
                            announced = n?
                                .payload()
                                .split(' ')
                                .next()
                                .and_then(|h| h.strip_prefix("h="))
                                .and_then(|h| h.parse::<i64>().ok());
                        }
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.changed() => return Ok::<(), sqlx::Error>(()),
                    }
                }
            },
        )
        .await;
    }
}

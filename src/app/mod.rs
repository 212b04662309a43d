//! Use cases: one module per capability a person would name. Each takes the caller and
//! typed input, enforces the policy, runs the commands, waits for exactly the projections its
//! answer reads, and returns a typed result or an [`Error`]. Nothing here knows HTTP, JSON
//! shapes or either dialect; `http/` parses, calls one use case, and maps the answer.
//!
//! - [`accounts`]: sign-up, details, roles and privileges, disable, delete.
//! - [`sessions`]: login, OAuth sign-in, refresh, revoke.
//! - [`passwords`]: create, change, reset (and the reset mail).
//! - [`profiles`]: humit registration, the own profile, handle checks, picture uploads.
//! - [`social`]: stations, follows, mutes, hums, discovery, invite codes.
//! - [`audit`]: the event log, time travel, projections, readiness and metrics (admin).
//! - [`identity`]: the building blocks they share (claims, registering, sessions).
//! - [`stream_contract`]: the AsyncAPI document of the public event stream.
//! - [`error`]: the one error enum, and the edge's field errors.

pub mod accounts;
pub mod audit;
pub mod error;
pub mod identity;
pub mod passwords;
pub mod profiles;
pub mod sessions;
pub mod social;
pub mod stream_contract;

pub use crate::store::{Actor, CommandContext, Commit};
pub use error::{retry_after_secs, Checked, Error, FieldErrors, Frozen, RETRY_AFTER_SECS};

use aggregates::user::{User, UserCommand};

use crate::auth::Principal;
use crate::state::AppState;

/// Who asks: a signed-in person as the auth state knows them now, and the context of the
/// commands they issue.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, with role and privileges.
    pub principal: Principal,
    /// Command metadata (actor, request id).
    pub ctx: CommandContext,
}

impl Caller {
    /// A caller and the context of their commands.
    pub fn new(principal: &Principal, ctx: CommandContext) -> Self {
        Self {
            principal: principal.clone(),
            ctx,
        }
    }

    /// A signed-in person: their commands carry them (with their role now) as the actor and
    /// the request's id.
    pub fn signed_in(principal: &Principal, request_id: &str) -> Self {
        let actor = Actor::User {
            id: principal.user_id.clone(),
            role: principal.role_name().to_string(),
        };
        Self::new(
            principal,
            CommandContext {
                actor,
                request_id: request_id.to_string(),
            },
        )
    }

    /// The caller's user id.
    pub fn id(&self) -> &str {
        &self.principal.user_id
    }

    /// Runs `command` on the person `user_id`, as this caller.
    ///
    /// # Errors
    /// The aggregate's refusal, a persistent conflict, store failures.
    pub async fn run(
        &self,
        state: &AppState,
        user_id: &str,
        command: UserCommand,
    ) -> Result<Option<Commit>, Error> {
        let commands = &state.commands;
        Ok(commands
            .execute::<User>(user_id, command, &self.ctx)
            .await?)
    }
}

/// Waits until a change of a person's account at `position` holds everywhere a caller meets
/// it next: in their tokens (the auth registry) and in the `users` read model.
pub async fn user_settled(state: &AppState, position: Option<Commit>) {
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
}

/// Reports the edge's field errors, if any, as [`Error::Invalid`].
///
/// # Errors
/// [`Error::Invalid`] when `input` is an error.
pub fn checked<T>(input: Checked<T>) -> Result<T, Error> {
    input.map_err(Error::Invalid)
}

/// `value()` when the edge found no field errors, else the errors.
///
/// # Errors
/// `errors`, when there are any.
pub fn unless_invalid<T>(errors: FieldErrors, value: impl FnOnce() -> T) -> Checked<T> {
    if errors.is_empty() {
        Ok(value())
    } else {
        Err(errors)
    }
}

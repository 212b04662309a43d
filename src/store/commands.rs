//! The command bus: runs a command on an aggregate through cqrs-es and postgres-es, stamps
//! every event with metadata, and answers the global position the command reached.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use super::outage;
use super::repository::{self, EventRepository};
use super::sequencer::{Commit, Sequenced};
use aggregates::claim::Claim;
use aggregates::session::Session;
use aggregates::social::{Hum, Mute, StationFollow, UserFollow};
use aggregates::station::Station;
use aggregates::user::{User, UserServices};
use cqrs_es::persist::PersistedEventStore;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework};
use sqlx::PgPool;
use uuid::Uuid;

/// Who issued a command: recorded in every event's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The system itself (CLI, seeds, sagas).
    System,
    /// A signed-in user with their role.
    User {
        /// The user id.
        id: String,
        /// `normal`, `staff` or `superuser`.
        role: String,
    },
    /// Someone not signed in (sign-up, login, password reset).
    Anonymous,
}

/// The context of one command: who and which request.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// Who.
    pub actor: Actor,
    /// The HTTP request id (or a CLI run id).
    pub request_id: String,
}

impl CommandContext {
    /// A context for the system (CLI, seeds).
    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            request_id: Uuid::new_v4().to_string(),
        }
    }

    fn metadata(&self, command_id: &str) -> HashMap<String, String> {
        let (actor_id, actor_role) = match &self.actor {
            Actor::System => ("system".to_string(), "system".to_string()),
            Actor::Anonymous => ("anonymous".to_string(), "anonymous".to_string()),
            Actor::User { id, role } => (id.clone(), role.clone()),
        };
        HashMap::from([
            ("actor_id".to_string(), actor_id),
            ("actor_role".to_string(), actor_role),
            ("request_id".to_string(), self.request_id.clone()),
            ("command_id".to_string(), command_id.to_string()),
            ("occurred_at".to_string(), chrono::Utc::now().to_rfc3339()),
        ])
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused: a business rule.
    #[error(transparent)]
    Rejected(E),
    /// Another command changed the aggregate at the same time, again and again.
    #[error("concurrent modification")]
    Conflict,
    /// The store is unreachable or cannot serve right now (see [`super::outage`]): the
    /// command either committed or left nothing; the client may retry.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The store failed otherwise (a bug).
    #[error("event store: {0}")]
    Store(String),
}

impl<E: std::error::Error> From<AggregateError<E>> for CommandError<E> {
    fn from(e: AggregateError<E>) -> Self {
        match e {
            AggregateError::UserError(e) => Self::Rejected(e),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::DatabaseConnectionError(cause)
            | AggregateError::UnexpectedError(cause)
                if outage::in_chain(cause.as_ref()) =>
            {
                Self::Unavailable(cause.to_string())
            }
            other => Self::Store(other.to_string()),
        }
    }
}

/// Why a load (a read of an aggregate's state) failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The store is unreachable or cannot serve right now.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The store failed otherwise (a bug).
    #[error("event store: {0}")]
    Store(String),
}

/// Whether a failed run may simply run again: a transaction the database rolled back
/// because it lost a race (serialization failure, deadlock).
fn rolled_back<E: std::error::Error>(e: &AggregateError<E>) -> bool {
    match e {
        AggregateError::DatabaseConnectionError(cause) | AggregateError::UnexpectedError(cause) => {
            outage::race_in_chain(cause.as_ref())
        }
        _ => false,
    }
}

/// One cqrs-es framework per aggregate, over the shared Postgres event log.
pub struct CommandBus {
    pool: PgPool,
    sequenced: Sequenced,
    user_services: UserServices,
    users: Cqrs<User>,
    claims: Cqrs<Claim>,
    sessions: Cqrs<Session>,
    stations: Cqrs<Station>,
    user_follows: Cqrs<UserFollow>,
    station_follows: Cqrs<StationFollow>,
    mutes: Cqrs<Mute>,
    hums: Cqrs<Hum>,
}

impl fmt::Debug for CommandBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CommandBus")
    }
}

/// The cqrs-es framework of one aggregate over humit's event repository.
pub type Cqrs<A> = CqrsFramework<A, PersistedEventStore<EventRepository, A>>;

fn framework<A: Routed>(pool: &PgPool, services: A::Services) -> Cqrs<A> {
    CqrsFramework::new(event_store(pool), vec![], services)
}

/// The event store of aggregate `A`: with snapshots when `A` takes them.
fn event_store<A: Routed>(pool: &PgPool) -> PersistedEventStore<EventRepository, A> {
    let repo = EventRepository::new(pool.clone());
    match A::SNAPSHOT_EVERY {
        0 => PersistedEventStore::new_event_store(repo),
        every => PersistedEventStore::new_snapshot_store(repo, every),
    }
    .with_upcasters(super::upcast::upcasters())
}

/// Selects an aggregate's framework on the bus.
pub trait Routed: Aggregate + Sized {
    /// A snapshot every this many events (0: never). Only an aggregate that grows long has
    /// one: loading any other needs no snapshot lookup.
    const SNAPSHOT_EVERY: usize = 0;
    /// The framework for this aggregate.
    fn framework(bus: &CommandBus) -> &Cqrs<Self>;
}

macro_rules! routed {
    ($($agg:ty => $field:ident $(, snapshot every $every:expr)?);* $(;)?) => {
        $(impl Routed for $agg {
            $(const SNAPSHOT_EVERY: usize = $every;)?
            fn framework(bus: &CommandBus) -> &Cqrs<Self> {
                &bus.$field
            }
        })*
    };
}

routed!(
    // The `User` aggregate grows with every session.
    User => users, snapshot every 5;
    Claim => claims; Session => sessions; Station => stations; UserFollow => user_follows;
    StationFollow => station_follows; Mute => mutes; Hum => hums;
);

/// How many times a command is run when other commands keep changing its aggregate first
/// (or the database rolled it back after a serialization failure or a deadlock).
/// Between runs it waits a random 1 to `4 × attempt` ms, so a burst on one aggregate (many
/// logins to one account) spreads out instead of colliding again in lockstep.
const CONFLICT_RETRIES: usize = 8;

impl CommandBus {
    /// Builds the frameworks, one per aggregate.
    pub fn new(pool: PgPool, user_services: UserServices, sequenced: Sequenced) -> Arc<Self> {
        Arc::new(Self {
            sequenced,
            users: framework(&pool, user_services.clone()),
            user_services,
            claims: framework(&pool, ()),
            sessions: framework(&pool, ()),
            stations: framework(&pool, ()),
            user_follows: framework(&pool, ()),
            station_follows: framework(&pool, ()),
            mutes: framework(&pool, ()),
            hums: framework(&pool, ()),
            pool,
        })
    }

    /// Runs `command` on aggregate `id`. Answers the [`Commit`] of the events it stored (their
    /// global position follows once the sequencer numbered them), or `None` when it stored
    /// nothing. A concurrency conflict re-runs the command on the fresh state, a few times.
    ///
    /// # Errors
    /// [`CommandError`]: the aggregate's refusal, a persistent conflict, or a store failure.
    pub async fn execute<A: Routed>(
        &self,
        id: &str,
        command: A::Command,
        ctx: &CommandContext,
    ) -> Result<Option<Commit>, CommandError<A::Error>>
    where
        A::Command: Clone,
    {
        let started = Instant::now();
        let command_id = Uuid::new_v4();
        let commit = self.sequenced.track(command_id, &self.pool);
        let metadata_id = command_id.to_string();
        let mut attempt = 0;
        let (result, written) = repository::count_written(async {
            loop {
                attempt += 1;
                let run = A::framework(self)
                    .execute_with_metadata(id, command.clone(), ctx.metadata(&metadata_id))
                    .await;
                match run {
                    Err(ref e)
                        if attempt < CONFLICT_RETRIES
                            && (matches!(e, AggregateError::AggregateConflict)
                                || rolled_back(e)) =>
                    {
                        let jitter =
                            rand::Rng::gen_range(&mut rand::thread_rng(), 1..=4 * attempt as u64);
                        tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
                    }
                    other => break other.map_err(CommandError::from),
                }
            }
        })
        .await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::histogram!("humit_command_duration_seconds", "aggregate" => A::TYPE, "outcome" => outcome)
            .record(started.elapsed().as_secs_f64());
        if written == 0 || result.is_err() {
            self.sequenced.forget(&command_id);
            result?;
            return Ok(None);
        }
        self.sequenced.poke();
        tracing::debug!(aggregate = A::TYPE, id, %command_id, events = written, "command stored");
        Ok(Some(commit))
    }

    /// The services the `User` aggregate runs with (password hashing), for reads that check
    /// a password without a command (a login).
    pub fn user_services(&self) -> &UserServices {
        &self.user_services
    }

    /// Loads an aggregate's current state from the log (from its latest snapshot, for an
    /// aggregate that takes them: one query more, many events fewer).
    ///
    /// # Errors
    /// [`LoadError`]: an outage, or another store failure.
    pub async fn load<A: Routed>(&self, id: &str) -> Result<A, LoadError> {
        use cqrs_es::EventStore;
        let ctx = event_store::<A>(&self.pool)
            .load_aggregate(id)
            .await
            .map_err(|e| match e {
                AggregateError::DatabaseConnectionError(cause)
                | AggregateError::UnexpectedError(cause)
                    if outage::in_chain(cause.as_ref()) =>
                {
                    LoadError::Unavailable(cause.to_string())
                }
                other => LoadError::Store(other.to_string()),
            })?;
        Ok(ctx.aggregate)
    }
}

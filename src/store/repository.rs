//! The event repository cqrs-es writes through: postgres-es, with personal data sealed under
//! each person's key on the way in and opened on the way out (see [`super::vault`]).

use cqrs_es::persist::{
    PersistedEventRepository, PersistenceError, ReplayStream, SerializedEvent, SerializedSnapshot,
};
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use cqrs_es::Aggregate;
use postgres_es::PostgresEventRepository;
use serde_json::{json, Value};
use sqlx::PgPool;

use super::vault::{self, SubjectKey, Vault, PERSON_AGGREGATE};

/// postgres-es plus crypto-shredding.
pub struct EventRepository {
    inner: PostgresEventRepository,
    vault: Vault,
}

/// What the repository remembers for the length of one command (see [`count_written`]).
#[derive(Default)]
struct CommandScope {
    /// Events persisted.
    written: Cell<usize>,
    /// Keys of people read (a command loads the snapshot, the events after it, then
    /// persists: one key read serves all three).
    keys: RefCell<HashMap<String, Option<SubjectKey>>>,
}

tokio::task_local! {
    static SCOPE: CommandScope;
}

/// Runs `fut` (one command, with its retries) and answers its output with the number of
/// events it persisted through an [`EventRepository`]: how the command bus learns, without
/// a query, whether a command stored anything. Within it, a person's key is read once.
pub async fn count_written<F: std::future::Future>(fut: F) -> (F::Output, usize) {
    SCOPE
        .scope(CommandScope::default(), async move {
            let out = fut.await;
            (out, SCOPE.with(|s| s.written.get()))
        })
        .await
}

fn record_written(count: usize) {
    let _ = SCOPE.try_with(|s| s.written.set(s.written.get() + count));
}

fn cached_key(id: &str) -> Option<Option<SubjectKey>> {
    SCOPE
        .try_with(|s| s.keys.borrow().get(id).copied())
        .ok()
        .flatten()
}

fn cache_key(id: &str, key: Option<SubjectKey>) {
    let _ = SCOPE.try_with(|s| s.keys.borrow_mut().insert(id.to_string(), key));
}

fn store_error(e: sqlx::Error) -> PersistenceError {
    PersistenceError::ConnectionError(Box::new(e))
}

impl EventRepository {
    /// A repository over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self {
            inner: PostgresEventRepository::new(pool.clone()),
            vault: Vault::new(pool),
        }
    }

    async fn read_key(&self, id: &str) -> Result<Option<SubjectKey>, PersistenceError> {
        if let Some(key) = cached_key(id) {
            return Ok(key);
        }
        let key = self.vault.key(id).await.map_err(store_error)?;
        cache_key(id, key);
        Ok(key)
    }

    async fn open_events<A: Aggregate>(
        &self,
        id: &str,
        mut events: Vec<SerializedEvent>,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        if A::TYPE == PERSON_AGGREGATE {
            let key = self.read_key(id).await?;
            for event in &mut events {
                vault::open(&mut event.payload, key.as_ref());
            }
        }
        Ok(events)
    }
}

impl PersistedEventRepository for EventRepository {
    async fn get_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self.inner.get_events::<A>(aggregate_id).await?;
        self.open_events::<A>(aggregate_id, events).await
    }

    async fn get_last_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
        last_sequence: usize,
    ) -> Result<Vec<SerializedEvent>, PersistenceError> {
        let events = self
            .inner
            .get_last_events::<A>(aggregate_id, last_sequence)
            .await?;
        self.open_events::<A>(aggregate_id, events).await
    }

    async fn get_snapshot<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<Option<SerializedSnapshot>, PersistenceError> {
        let Some(mut snapshot) = self.inner.get_snapshot::<A>(aggregate_id).await? else {
            return Ok(None);
        };
        if A::TYPE == PERSON_AGGREGATE {
            let Some(key) = self.read_key(aggregate_id).await? else {
                // Erased: replay from the events, whose personal fields read as erased.
                return Ok(None);
            };
            vault::open(&mut snapshot.aggregate, Some(&key));
            match snapshot.aggregate.get_mut(aggregate_common_key()) {
                Some(inner) if !inner.is_null() => snapshot.aggregate = inner.take(),
                _ => return Ok(None),
            }
        }
        Ok(Some(snapshot))
    }

    async fn persist<A: Aggregate>(
        &self,
        events: &[SerializedEvent],
        snapshot_update: Option<(String, Value, usize)>,
    ) -> Result<(), PersistenceError> {
        if A::TYPE != PERSON_AGGREGATE {
            self.inner.persist::<A>(events, snapshot_update).await?;
            record_written(events.len());
            return Ok(());
        }
        let Some(id) = events
            .first()
            .map(|e| e.aggregate_id.clone())
            .or_else(|| snapshot_update.as_ref().map(|s| s.0.clone()))
        else {
            return Ok(());
        };
        let key = match cached_key(&id) {
            Some(Some(key)) => Some(key),
            _ => {
                let key = self.vault.key_or_create(&id).await.map_err(store_error)?;
                cache_key(&id, key);
                key
            }
        };
        let mut sealed = events.to_vec();
        let mut snapshot = snapshot_update;
        match key {
            Some(key) => {
                for event in &mut sealed {
                    vault::seal(&mut event.payload, &key);
                }
                if let Some((_, value, _)) = snapshot.as_mut() {
                    let mut wrapped = json!({ aggregate_common_key(): value.take() });
                    vault::seal(&mut wrapped, &key);
                    *value = wrapped;
                }
            }
            None => {
                // An erased person: nothing personal may be stored again.
                for event in &mut sealed {
                    vault::open(&mut event.payload, None);
                }
                snapshot = None;
            }
        }
        self.inner.persist::<A>(&sealed, snapshot).await?;
        record_written(sealed.len());
        if events.iter().any(|e| e.event_type == "UserDeleted") {
            cache_key(&id, None);
            self.vault.erase(&id).await.map_err(store_error)?;
        }
        Ok(())
    }

    async fn stream_events<A: Aggregate>(
        &self,
        aggregate_id: &str,
    ) -> Result<ReplayStream, PersistenceError> {
        let events = self.get_events::<A>(aggregate_id).await?;
        replay(events).await
    }

    async fn stream_all_events<A: Aggregate>(&self) -> Result<ReplayStream, PersistenceError> {
        if A::TYPE == PERSON_AGGREGATE {
            return Err(PersistenceError::UnknownError(
                "replaying every person at once is done through the log readers".into(),
            ));
        }
        self.inner.stream_all_events::<A>().await
    }
}

/// The key a whole sealed snapshot is wrapped under (`{"$pii": snapshot}`).
fn aggregate_common_key() -> &'static str {
    aggregates::common::PERSONAL_KEY
}

async fn replay(events: Vec<SerializedEvent>) -> Result<ReplayStream, PersistenceError> {
    let (mut feed, stream) = ReplayStream::new(events.len().max(1));
    for event in events {
        feed.push(Ok(event)).await?;
    }
    Ok(stream)
}

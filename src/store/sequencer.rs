//! The sequencer: gives committed events their public, dense, global `position`.
//!
//! Writers append events concurrently with `position` NULL; each row records the id of the
//! transaction that wrote it (`tx`, see `migrations/20261130000001_concurrent_appends.sql`).
//! One sequencer across every process (it holds the session advisory lock `(7261, 3)` on a
//! dedicated connection) repeatedly takes the transactions below the horizon
//! `pg_snapshot_xmin(pg_current_snapshot())` — every transaction with a smaller id has
//! finished, so none of them can still add an event — and numbers their events after the
//! current head in `(tx, aggregate, sequence)` order, whole transactions at a time. Positions
//! are therefore dense and strictly increasing in the order readers see them: a reader of
//! `position > checkpoint` can never miss an event that commits late. A transaction held open
//! delays the events of every later transaction (they wait below it), never reorders or
//! loses them; its age is the `humit_sequencer_pending_age_seconds` gauge, and the pool
//! bounds our own transactions (`idle_in_transaction_session_timeout`, `statement_timeout`).
//!
//! Each pass commits with one `NOTIFY humit_events` whose payload maps the command ids it
//! numbered to their last position, so a process waiting on its own command ([`Commit`])
//! learns the position without a query, and tailers (relay, auth feed) wake. Writers never
//! notify. The sequencer is woken at once by commands of its own process ([`Sequenced::poke`])
//! and polls (1 ms after work, backing off to 20 ms when idle) for commands of others.
//!
//! (Over 400 lines with its tests: the sequencer and the tracker of its answers speak one
//! protocol, the notification payload, and are read together.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool, Row};
use tokio::sync::{watch, Notify};
use uuid::Uuid;

use crate::background::{retry_until_stopped, sleep_or_stop, take_the_lead, Backoff, Shutdown};

/// The Postgres channel the sequencer notifies on.
pub const CHANNEL: &str = "humit_events";
/// Transactions numbered per pass at most.
const TRANSACTIONS_PER_PASS: i64 = 2_000;
/// A notification payload stays below Postgres's 8000-byte limit.
const PAYLOAD_LIMIT: usize = 7_500;
/// The shortest and longest wait between passes that found nothing.
const POLL_MIN: Duration = Duration::from_millis(1);
const POLL_MAX: Duration = Duration::from_millis(20);
/// How long a waiting command trusts the notification before it asks the log itself.
const ASK_AFTER: Duration = Duration::from_millis(500);

struct Slot {
    command_id: Uuid,
    position: watch::Sender<Option<i64>>,
}

#[derive(Default)]
struct Waiting {
    slots: HashMap<Uuid, Weak<Slot>>,
    pruned_at: usize,
}

/// Tracks which commands of this process have been sequenced, and wakes the local sequencer.
#[derive(Clone, Default)]
pub struct Sequenced {
    waiting: Arc<Mutex<Waiting>>,
    wake: Arc<Notify>,
    head: Arc<watch::Sender<i64>>,
}

impl std::fmt::Debug for Sequenced {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequenced")
            .field("head", &*self.head.borrow())
            .finish()
    }
}

/// A stored command whose events are (or soon will be) numbered: what read-your-writes and
/// the auth feed wait on.
#[derive(Clone)]
pub struct Commit {
    slot: Arc<Slot>,
    pool: PgPool,
}

impl std::fmt::Debug for Commit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Commit")
            .field("command_id", &self.slot.command_id)
            .field("position", &*self.slot.position.borrow())
            .finish()
    }
}

/// Two commits are the same command.
impl PartialEq for Commit {
    fn eq(&self, other: &Self) -> bool {
        self.slot.command_id == other.slot.command_id
    }
}

impl Eq for Commit {}

impl Commit {
    /// The position of the command's last event, waiting at most `timeout` for the sequencer.
    /// Asks the log once if the sequencer's notification did not come in time (a lost
    /// listener connection); `None` if the events are still unnumbered then.
    pub async fn position_within(&self, timeout: Duration) -> Option<i64> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut rx = self.slot.position.subscribe();
        loop {
            let step = deadline
                .saturating_duration_since(tokio::time::Instant::now())
                .min(ASK_AFTER);
            if let Ok(Ok(p)) = tokio::time::timeout(step, rx.wait_for(Option::is_some)).await {
                return *p;
            }
            // No word from the sequencer: a notification may have been missed (the listener
            // was reconnecting); the log has the answer.
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(position) FROM events WHERE metadata->>'command_id' = $1",
            )
            .bind(self.slot.command_id.to_string())
            .fetch_one(&self.pool)
            .await
            .ok()
            .flatten();
            if let Some(p) = found {
                self.slot.position.send_replace(Some(p));
                return Some(p);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
        }
    }

    /// The position of the command's last event (waiting up to 10 s for the sequencer).
    pub async fn position(&self) -> Option<i64> {
        self.position_within(Duration::from_secs(10)).await
    }

    /// The command's id (in every one of its events' metadata).
    pub fn command_id(&self) -> Uuid {
        self.slot.command_id
    }
}

/// Of two commits, the one whose events come later (either may be `None`): what a response
/// that follows two commands waits for.
pub async fn later(a: Option<Commit>, b: Option<Commit>) -> Option<Commit> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let timeout = Duration::from_secs(5);
            let (pa, pb) = tokio::join!(a.position_within(timeout), b.position_within(timeout));
            if pb > pa {
                Some(b)
            } else {
                Some(a)
            }
        }
        (a, b) => a.or(b),
    }
}

impl Sequenced {
    /// Starts tracking `command_id` before the command runs, so a fast sequencer cannot
    /// number it before anyone listens.
    pub fn track(&self, command_id: Uuid, pool: &PgPool) -> Commit {
        let slot = Arc::new(Slot {
            command_id,
            position: watch::channel(None).0,
        });
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.slots.insert(command_id, Arc::downgrade(&slot));
        let len = waiting.slots.len();
        if len > 1_024 && len > 2 * waiting.pruned_at {
            waiting.slots.retain(|_, slot| slot.strong_count() > 0);
            waiting.pruned_at = waiting.slots.len();
        }
        Commit {
            slot,
            pool: pool.clone(),
        }
    }

    /// Stops tracking a command that stored nothing (or failed).
    pub fn forget(&self, command_id: &Uuid) {
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.slots.remove(command_id);
    }

    /// Wakes this process's sequencer (if it is the active one): a command just committed.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// The highest position this process has heard of.
    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    fn resolve(&self, payload: &str) {
        let mut parts = payload.split(' ');
        if let Some(head) = parts
            .next()
            .and_then(|h| h.strip_prefix("h="))
            .and_then(|h| h.parse::<i64>().ok())
        {
            self.head.send_if_modified(|current| {
                let moved = head > *current;
                if moved {
                    *current = head;
                }
                moved
            });
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
        if waiting.slots.is_empty() {
            return;
        }
        for entry in parts {
            let Some((id, position)) = entry.split_once('=') else {
                continue;
            };
            let (Ok(id), Ok(position)) = (Uuid::parse_str(id), position.parse::<i64>()) else {
                continue;
            };
            if let Some(slot) = waiting.slots.remove(&id).and_then(|w| w.upgrade()) {
                slot.position.send_replace(Some(position));
            }
        }
    }

    /// Connects the listener [`Sequenced::follow`] starts with, so that no notification of
    /// the process's first commands is missed.
    ///
    /// # Errors
    /// Database errors.
    pub async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(listener)
    }

    /// Follows the sequencer's notifications until shutdown, reconnecting after failures.
    pub async fn follow(self, pool: PgPool, first: PgListener, mut shutdown: Shutdown) {
        let mut first = Some(first);
        let (this, pool) = (&self, &pool);
        retry_until_stopped("sequencer listener", &mut shutdown, |mut shutdown| {
            let first = first.take();
            async move {
                let mut listener = match first {
                    Some(listener) => listener,
                    None => Self::listen(pool).await?,
                };
                loop {
                    tokio::select! {
                        n = listener.recv() => this.resolve(n?.payload()),
                        _ = shutdown.changed() => return Ok::<(), sqlx::Error>(()),
                    }
                }
            }
        })
        .await;
    }

    /// Runs the sequencer candidate of this process until shutdown: waits to become the one
    /// active sequencer, then numbers events.
    pub async fn run(self, pool: PgPool, mut shutdown: Shutdown) {
        let mut backoff = Backoff::default();
        loop {
            match self.lead(&pool, &mut shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(error) => {
                    metrics::gauge!("humit_sequencer_leader").set(0.0);
                    tracing::warn!(%error, "sequencer interrupted; retrying");
                    if sleep_or_stop(backoff.next_delay(), &mut shutdown).await {
                        break;
                    }
                }
            }
        }
        metrics::gauge!("humit_sequencer_leader").set(0.0);
    }

    async fn lead(
        &self,
        pool: &PgPool,
        shutdown: &mut Shutdown,
        backoff: &mut Backoff,
    ) -> Result<(), sqlx::Error> {
        // A dedicated connection: the lock lives and dies with it, and so does every pass.
        let mut conn = pool.acquire().await?.detach();
        if !take_the_lead(&mut conn, 3, shutdown).await? {
            return Ok(());
        }
        tracing::info!("this process is the sequencer");
        metrics::gauge!("humit_sequencer_leader").set(1.0);
        let mut idle = POLL_MIN;
        let mut last_report = tokio::time::Instant::now();
        loop {
            let numbered = pass(&mut conn).await?;
            backoff.reset();
            if last_report.elapsed() >= Duration::from_secs(1) {
                report_pending(&mut conn).await?;
                last_report = tokio::time::Instant::now();
            }
            if numbered > 0 {
                idle = POLL_MIN;
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => idle = POLL_MIN,
                () = tokio::time::sleep(idle) => idle = (idle * 2).min(POLL_MAX),
                _ = shutdown.changed() => {
                    // Between passes: give the lock back, so a sequencer elsewhere leads at once.
                    crate::background::release_lock(conn, 3).await;
                    return Ok(());
                }
            }
        }
    }
}

/// One pass: numbers the events of up to [`TRANSACTIONS_PER_PASS`] finished transactions
/// and notifies. Answers how many events it numbered.
async fn pass(conn: &mut PgConnection) -> Result<usize, sqlx::Error> {
    // Most polls find nothing: one statement answers that, without a transaction.
    let ready: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM events
                        WHERE position IS NULL AND tx < pg_snapshot_xmin(pg_current_snapshot()))",
    )
    .fetch_one(&mut *conn)
    .await?;
    if !ready {
        return Ok(0);
    }
    let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
    let rows = sqlx::query(
        "WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin),
              ready AS (
                  SELECT DISTINCT e.tx FROM events e, horizon h
                  WHERE e.position IS NULL AND e.tx < h.xmin
                  ORDER BY e.tx LIMIT $1),
              numbered AS (
                  SELECT e.aggregate_type, e.aggregate_id, e.sequence,
                         row_number() OVER (ORDER BY e.tx, e.aggregate_type, e.aggregate_id, e.sequence) AS n
                  FROM events e JOIN ready r ON e.tx = r.tx
                  WHERE e.position IS NULL),
              head AS (SELECT COALESCE(MAX(position), 0) AS p FROM events)
         UPDATE events e SET position = head.p + numbered.n
         FROM numbered, head
         WHERE e.aggregate_type = numbered.aggregate_type
           AND e.aggregate_id = numbered.aggregate_id
           AND e.sequence = numbered.sequence
         RETURNING e.position, e.metadata->>'command_id' AS command_id",
    )
    .bind(TRANSACTIONS_PER_PASS)
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        tx.commit().await?;
        return Ok(0);
    }
    let mut last: HashMap<String, i64> = HashMap::new();
    let mut head = 0;
    for row in &rows {
        let position: i64 = row.try_get("position")?;
        head = head.max(position);
        if let Some(id) = row.try_get::<Option<String>, _>("command_id")? {
            let entry = last.entry(id).or_insert(position);
            *entry = (*entry).max(position);
        }
    }
    for payload in payloads(head, &last) {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    metrics::counter!("humit_sequencer_events_total").increment(rows.len() as u64);
    metrics::gauge!("humit_sequencer_head").set(head as f64);
    tracing::trace!(head, events = rows.len(), "sequenced");
    Ok(rows.len())
}

/// `h=<head> <command id>=<position> ...`, split to fit a notification.
fn payloads(head: i64, last: &HashMap<String, i64>) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = format!("h={head}");
    for (id, position) in last {
        let entry = format!(" {id}={position}");
        if current.len() + entry.len() > PAYLOAD_LIMIT {
            out.push(std::mem::replace(&mut current, format!("h={head}")));
        }
        current.push_str(&entry);
    }
    out.push(current);
    out
}

/// How many events wait below the horizon, and for how long the oldest has waited.
async fn report_pending(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    let (count, age): (i64, Option<f64>) = sqlx::query_as(
        "SELECT count(*), EXTRACT(EPOCH FROM clock_timestamp() - min(recorded_at))::float8
         FROM events WHERE position IS NULL",
    )
    .fetch_one(conn)
    .await?;
    metrics::gauge!("humit_sequencer_pending_events").set(count as f64);
    metrics::gauge!("humit_sequencer_pending_age_seconds").set(age.unwrap_or(0.0));
    if age.unwrap_or(0.0) > 5.0 {
        tracing::warn!(
            pending = count,
            age_seconds = age,
            "events wait behind a long-open transaction"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_stay_under_the_notification_limit() {
        let last: HashMap<String, i64> = (0..1_000)
            .map(|i| (Uuid::new_v4().to_string(), i))
            .collect();
        let out = payloads(999, &last);
        assert!(out.len() > 1);
        assert!(out.iter().all(|p| p.len() <= PAYLOAD_LIMIT));
        let entries: usize = out.iter().map(|p| p.split(' ').count() - 1).sum();
        assert_eq!(entries, 1_000);
        assert!(out.iter().all(|p| p.starts_with("h=999")));
    }

    #[tokio::test]
    async fn a_notification_resolves_the_commands_it_names() {
        let tracker = Sequenced::default();
        let pool = sqlx::PgPool::connect_lazy("postgres://localhost/none").unwrap();
        let id = Uuid::new_v4();
        let commit = tracker.track(id, &pool);
        tracker.resolve(&format!("h=12 {}=3 {id}=11", Uuid::new_v4()));
        assert_eq!(*commit.slot.position.borrow(), Some(11));
        assert_eq!(tracker.head(), 12);
    }
}

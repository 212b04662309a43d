//! The projection runtime: feeds one [`Projection`] from its durable queue.
//!
//! Deliveries are taken in batches (whatever is already delivered, up to the prefetch): the
//! batch is applied, and the projection's checkpoint moved once, in one Postgres transaction
//! that first locks the checkpoint row, then acknowledged with one `multiple` ack. A batch
//! that fails on an event's own fault is applied again one event at a time; a message at or below the checkpoint is
//! acknowledged without effect, so redeliveries and duplicates change nothing. Failures that
//! are the message's fault are retried `max_attempts` times, then the message is parked in
//! `projection_dead_letters` (visible in `/metrics` and the admin API) and the checkpoint
//! moves on; later events of the same aggregate are parked behind it to keep that
//! aggregate's order, while other aggregates' events flow. Failures of the database itself
//! are retried without limit and never dead-letter anything.
//!
//! Before consuming, a projector binds its queue and then catches up from the event log, so
//! a new projection, or one whose queue was created after events were published, misses
//! nothing. While RabbitMQ is down it keeps catching up from the log. [`rebuild`] replays a
//! projection from the log into shadow tables, a batch per transaction, then swaps them in
//! one short transaction: readers see the old rows until the new ones are complete, and the
//! live consumer waits on the checkpoint lock, then skips what the rebuild applied.
//!
//! (Over 400 lines: live consumption, batching, retries and dead letters share the checkpoint
//! protocol; rebuilds live in `rebuild.rs`.)

use std::sync::Arc;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use projections::{Envelope, Projection, ProjectionError};
use sqlx::{PgConnection, PgPool};

use super::{broker, sleep_or_stop, Backoff, BusError, BusSettings, Shutdown};
use crate::store::log;

pub use super::rebuild::{rebuild, Progress};

/// Why an event that did not fail itself was dead-lettered.
pub(super) const PARKED_BEHIND: &str = "parked behind an earlier dead letter of the same aggregate";

/// What became of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied; the checkpoint moved.
    Applied,
    /// At or below the checkpoint: a duplicate.
    Skipped,
    /// Dead-lettered.
    Parked,
}

/// Runs one projection.
pub struct Projector {
    projection: Arc<dyn Projection>,
    pool: PgPool,
    settings: BusSettings,
}

pub(super) async fn lock_checkpoint(
    conn: &mut PgConnection,
    name: &str,
) -> Result<i64, sqlx::Error> {
    let locked: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE",
    )
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(position) = locked {
        return Ok(position);
    }
    // The first time: create the row, then lock it.
    sqlx::query("INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING")
        .bind(name)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1 FOR UPDATE")
        .bind(name)
        .fetch_one(&mut *conn)
        .await
}

pub(super) async fn set_checkpoint(
    conn: &mut PgConnection,
    name: &str,
    position: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_checkpoints SET position = $2, updated_at = now() WHERE name = $1",
    )
    .bind(name)
    .bind(position)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) async fn insert_dead_letter(
    conn: &mut PgConnection,
    projection: &str,
    event: &Envelope,
    error: &str,
    attempts: u32,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_dead_letters
            (projection, position, aggregate_type, aggregate_id, event_type, envelope, error, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (projection, position) DO UPDATE SET error = EXCLUDED.error, attempts = EXCLUDED.attempts",
    )
    .bind(projection)
    .bind(event.position)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .bind(&event.event_type)
    .bind(serde_json::to_value(event).unwrap_or_default())
    .bind(error)
    .bind(attempts as i32)
    .execute(conn)
    .await?;
    metrics::counter!("humit_projection_dead_letters_total", "projection" => projection.to_string())
        .increment(1);
    Ok(())
}

pub(super) async fn aggregate_is_parked(
    conn: &mut PgConnection,
    projection: &str,
    event: &Envelope,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM projection_dead_letters
                        WHERE projection = $1 AND aggregate_type = $2 AND aggregate_id = $3)",
    )
    .bind(projection)
    .bind(&event.aggregate_type)
    .bind(&event.aggregate_id)
    .fetch_one(conn)
    .await
}

impl Projector {
    /// A projector for `projection`.
    pub fn new(projection: Arc<dyn Projection>, pool: PgPool, settings: BusSettings) -> Self {
        Self {
            projection,
            pool,
            settings,
        }
    }

    fn name(&self) -> &'static str {
        self.projection.name()
    }

    /// Runs until shutdown, reconnecting after any failure.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut backoff = Backoff::default();
        loop {
            match self.consume(&mut shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(error) => {
                    tracing::warn!(projection = self.name(), %error, "projector interrupted; retrying");
                    // Keep the read model fresh from the log while the broker is away.
                    if let Err(error) = self.catch_up(&mut shutdown).await {
                        tracing::debug!(projection = self.name(), %error, "catch-up failed");
                    }
                    if sleep_or_stop(backoff.next_delay(), &mut shutdown).await {
                        break;
                    }
                }
            }
        }
        tracing::info!(projection = self.name(), "projector stopped");
    }

    async fn consume(
        &self,
        shutdown: &mut Shutdown,
        backoff: &mut Backoff,
    ) -> Result<(), BusError> {
        let connection = broker::connect(&self.settings.amqp_url).await?;
        let channel = connection.create_channel().await?;
        channel
            .basic_qos(self.settings.prefetch, BasicQosOptions::default())
            .await?;
        broker::declare_exchange(&channel, &self.settings.exchange).await?;
        // Every event, so the checkpoint follows the global position (see `Projection::bindings`).
        let queue =
            broker::declare_projection_queue(&channel, &self.settings, self.name(), &["#"]).await?;
        // Bound first, then caught up: every event is either in the log read or in the queue.
        self.catch_up(shutdown).await?;
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("humit-{}-{}", self.name(), uuid::Uuid::new_v4()).into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        backoff.reset();
        tracing::info!(projection = self.name(), %queue, "projector consuming");
        let max_batch = usize::from(self.settings.prefetch.max(1));
        loop {
            let first = tokio::select! {
                d = consumer.next() => d,
                _ = shutdown.changed() => {
                    // Between batches (the last one applied and acknowledged): close cleanly,
                    // so the broker holds nothing of ours unacknowledged.
                    let _ = channel.close(200, "shutdown".into()).await;
                    let _ = connection.close(200, "shutdown".into()).await;
                    return Ok(());
                }
            };
            // Whatever else is already delivered joins the batch, without waiting for more.
            let mut deliveries = vec![first];
            while deliveries.len() < max_batch {
                match consumer.next().now_or_never() {
                    Some(next) => deliveries.push(next),
                    None => break,
                }
            }
            let mut events = Vec::with_capacity(deliveries.len());
            let mut last_tag = None;
            for delivery in deliveries {
                let delivery = match delivery {
                    Some(Ok(delivery)) => delivery,
                    Some(Err(e)) => return Err(e.into()),
                    None => {
                        return Err(BusError::Projection {
                            name: self.name().into(),
                            message: "consumer cancelled".into(),
                        })
                    }
                };
                match serde_json::from_slice::<Envelope>(&delivery.data) {
                    Ok(event) => {
                        events.push(event);
                        last_tag = Some(delivery.delivery_tag);
                    }
                    Err(error) => {
                        tracing::error!(projection = self.name(), %error, "undecodable message dead-lettered");
                        metrics::counter!("humit_projection_dead_letters_total", "projection" => self.name())
                            .increment(1);
                        // Ids and position only: the body may carry personal data in clear.
                        let reason = format!("undecodable: {:?}", error.classify());
                        broker::dead_letter_stub(
                            &channel,
                            &self.settings.exchange,
                            self.name(),
                            &delivery,
                            &reason,
                        )
                        .await?;
                    }
                }
            }
            if !self.apply_all(&events, shutdown).await? {
                return Ok(());
            }
            if let Some(tag) = last_tag {
                // One acknowledgement for the whole batch.
                channel
                    .basic_ack(tag, BasicAckOptions { multiple: true })
                    .await?;
            }
            tracing::trace!(
                projection = self.name(),
                events = events.len(),
                "batch handled"
            );
        }
    }

    /// Applies `events` in one transaction when it can; when the batch fails on an event's
    /// own fault, falls back to one event at a time (retries, then dead letters). Answers
    /// `false` when shutdown came first.
    ///
    /// # Errors
    /// Database errors while parking.
    pub async fn apply_all(
        &self,
        events: &[Envelope],
        shutdown: &mut Shutdown,
    ) -> Result<bool, BusError> {
        if events.is_empty() {
            return Ok(true);
        }
        let mut outage = Backoff::default();
        loop {
            match apply_batch(&self.pool, self.projection.as_ref(), events).await {
                Ok(_) => return Ok(true),
                Err(error) if error.is_transient() => {
                    tracing::warn!(projection = self.name(), %error, "database unavailable; retrying");
                    if sleep_or_stop(outage.next_delay(), shutdown).await {
                        return Ok(false);
                    }
                }
                Err(error) => {
                    tracing::debug!(projection = self.name(), %error, "batch failed; applying one by one");
                    for event in events {
                        if self.apply_with_retries(event, shutdown).await?.is_none() {
                            return Ok(false);
                        }
                    }
                    return Ok(true);
                }
            }
        }
    }

    /// Applies every event of the log above the checkpoint.
    ///
    /// # Errors
    /// Database errors.
    pub async fn catch_up(&self, shutdown: &mut Shutdown) -> Result<(), BusError> {
        loop {
            let checkpoint: i64 = {
                let mut conn = self.pool.acquire().await?;
                let mut tx = sqlx::Acquire::begin(&mut *conn).await?;
                let cp = lock_checkpoint(&mut tx, self.name()).await?;
                tx.commit().await?;
                cp
            };
            let batch = log::read_after(&self.pool, checkpoint, 500).await?;
            if batch.is_empty() {
                return Ok(());
            }
            if !self.apply_all(&batch, shutdown).await? {
                return Ok(());
            }
        }
    }

    /// Applies one event, retrying: a poison message is parked after `max_attempts`; database
    /// outages are retried until they pass. `None` when shutdown came first.
    ///
    /// # Errors
    /// Database errors while parking.
    pub async fn apply_with_retries(
        &self,
        event: &Envelope,
        shutdown: &mut Shutdown,
    ) -> Result<Option<Outcome>, BusError> {
        let mut attempts = 0;
        let mut outage = Backoff::default();
        loop {
            match apply_once(&self.pool, self.projection.as_ref(), event).await {
                Ok(outcome) => return Ok(Some(outcome)),
                Err(error) if error.is_transient() => {
                    tracing::warn!(projection = self.name(), %error, "database unavailable; retrying");
                    if sleep_or_stop(outage.next_delay(), shutdown).await {
                        return Ok(None);
                    }
                }
                Err(error) => {
                    attempts += 1;
                    tracing::warn!(projection = self.name(), position = event.position, attempts, %error, "apply failed");
                    if attempts >= self.settings.max_attempts.max(1) {
                        park(&self.pool, self.name(), event, &error.to_string(), attempts).await?;
                        return Ok(Some(Outcome::Parked));
                    }
                    if sleep_or_stop(Duration::from_millis(50 * u64::from(attempts)), shutdown)
                        .await
                    {
                        return Ok(None);
                    }
                }
            }
        }
    }
}

/// Applies `event` to `projection` and moves its checkpoint, in one transaction.
///
/// # Errors
/// The projection's error; the transaction is rolled back.
pub async fn apply_once(
    pool: &PgPool,
    projection: &dyn Projection,
    event: &Envelope,
) -> Result<Outcome, ProjectionError> {
    // The events between the checkpoint and this one first, from the log (see
    // [`apply_batch`]), each in its own transaction.
    loop {
        let checkpoint: i64 =
            sqlx::query_scalar("SELECT position FROM projection_checkpoints WHERE name = $1")
                .bind(projection.name())
                .fetch_optional(pool)
                .await?
                .unwrap_or(0);
        if event.position <= checkpoint + 1 {
            break;
        }
        let missing = log::read_after(pool, checkpoint, event.position - checkpoint - 1).await?;
        for earlier in &missing {
            apply_exactly(pool, projection, earlier).await?;
        }
    }
    apply_exactly(pool, projection, event).await
}

async fn apply_exactly(
    pool: &PgPool,
    projection: &dyn Projection,
    event: &Envelope,
) -> Result<Outcome, ProjectionError> {
    let name = projection.name();
    let mut tx = pool.begin().await?;
    let checkpoint = lock_checkpoint(&mut tx, name).await?;
    if event.position <= checkpoint {
        tx.commit().await?;
        return Ok(Outcome::Skipped);
    }
    if projection.wants(&event.routing_key()) {
        if aggregate_is_parked(&mut tx, name, event).await? {
            insert_dead_letter(&mut tx, name, event, PARKED_BEHIND, 0).await?;
            set_checkpoint(&mut tx, name, event.position).await?;
            tx.commit().await?;
            return Ok(Outcome::Parked);
        }
        projection.apply(&mut tx, event).await?;
    }
    set_checkpoint(&mut tx, name, event.position).await?;
    tx.commit().await?;
    Ok(Outcome::Applied)
}

/// Applies every event of `events` above the checkpoint to `projection` and moves the
/// checkpoint once, in one transaction; answers how many it applied. Duplicates (at or below
/// the checkpoint) are skipped, and events of an aggregate that has a dead letter are parked
/// behind it, as in [`apply_once`].
///
/// # Errors
/// The first event's error; the whole transaction is rolled back.
pub async fn apply_batch(
    pool: &PgPool,
    projection: &dyn Projection,
    events: &[Envelope],
) -> Result<usize, ProjectionError> {
    let name = projection.name();
    let mut tx = pool.begin().await?;
    let checkpoint = lock_checkpoint(&mut tx, name).await?;
    let any_dead: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM projection_dead_letters WHERE projection = $1)",
    )
    .bind(name)
    .fetch_one(&mut *tx)
    .await?;
    // Deliveries can leave gaps: several processes' consumers share the queue (each gets
    // some of the messages), or a message came back late. The checkpoint must never jump
    // over an event, so a batch that is not the exact run after the checkpoint is read from
    // the log instead (under the checkpoint lock: the log is the source of truth).
    let last = events
        .iter()
        .map(|e| e.position)
        .max()
        .unwrap_or(checkpoint);
    let fresh: Vec<i64> = events
        .iter()
        .map(|e| e.position)
        .filter(|p| *p > checkpoint)
        .collect();
    let contiguous = fresh
        .iter()
        .zip(checkpoint + 1..)
        .all(|(have, want)| *have == want);
    let from_log;
    let events = if last > checkpoint && !contiguous {
        from_log = log::read_after(&mut *tx, checkpoint, last - checkpoint).await?;
        &from_log[..]
    } else {
        events
    };
    let mut position = checkpoint;
    let mut applied = 0;
    for event in events {
        if event.position <= position {
            continue;
        }
        if projection.wants(&event.routing_key()) {
            if any_dead && aggregate_is_parked(&mut tx, name, event).await? {
                insert_dead_letter(&mut tx, name, event, PARKED_BEHIND, 0).await?;
            } else {
                projection.apply(&mut tx, event).await?;
                applied += 1;
            }
        }
        position = event.position;
    }
    if position > checkpoint {
        set_checkpoint(&mut tx, name, position).await?;
    }
    tx.commit().await?;
    Ok(applied)
}

async fn park(
    pool: &PgPool,
    name: &str,
    event: &Envelope,
    error: &str,
    attempts: u32,
) -> Result<(), BusError> {
    let mut tx = pool.begin().await?;
    let checkpoint = lock_checkpoint(&mut tx, name).await?;
    if event.position > checkpoint {
        insert_dead_letter(&mut tx, name, event, error, attempts).await?;
        set_checkpoint(&mut tx, name, event.position).await?;
        tracing::error!(projection = name, position = event.position, %error, "event dead-lettered");
    }
    tx.commit().await?;
    Ok(())
}

//! The relay: the event log → RabbitMQ, in global order, without loss.
//!
//! One relay is active across every process: it holds the session advisory lock `(7261, 2)`
//! on a dedicated connection, and reads and moves its checkpoint on that same connection, so
//! a relay that lost its connection (and with it the lock) cannot move the checkpoint either.
//! It wakes on `LISTEN humit_events` (sent by the sequencer when it numbered events), with a
//! one-second safety poll. Each batch is published with `mandatory`, persistent delivery and
//! publisher confirms, several batches in flight at once; the checkpoint moves, in order,
//! only past batches whose every message the broker confirmed. While
//! RabbitMQ is down, commands keep succeeding (they never touch the broker) and the relay
//! retries with backoff, then catches up from its checkpoint.
//!
//! Delivery is at least once: a crash between the broker's confirm and the checkpoint update
//! republishes that batch, with the same message ids, for subscribers to de-duplicate.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::BasicProperties;
use projections::Envelope;
use sqlx::postgres::PgListener;
use sqlx::{PgConnection, PgPool};

use super::{broker, sleep_or_stop, Backoff, BusError, BusSettings, Shutdown};
use crate::background::take_the_lead;
use crate::store::log;

/// The relay's checkpoint key.
const CHECKPOINT: &str = "relay";
/// Events read and published per batch.
const BATCH: i64 = 500;
/// Batches published and awaiting their confirms at once.
const IN_FLIGHT: usize = 8;

/// Publishes the event log to the exchange.
pub struct Relay {
    pool: PgPool,
    settings: BusSettings,
    leader: Arc<AtomicBool>,
}

impl Relay {
    /// A relay over `pool`.
    pub fn new(pool: PgPool, settings: BusSettings, leader: Arc<AtomicBool>) -> Self {
        Self {
            pool,
            settings,
            leader,
        }
    }

    /// Runs until shutdown, restarting after any failure.
    pub async fn run(self, mut shutdown: Shutdown) {
        let mut backoff = Backoff::default();
        loop {
            match self.lead(&mut shutdown, &mut backoff).await {
                Ok(()) => break,
                Err(error) => {
                    self.leader.store(false, Ordering::Relaxed);
                    metrics::gauge!("humit_relay_leader").set(0.0);
                    tracing::warn!(%error, "relay interrupted; retrying");
                    if sleep_or_stop(backoff.next_delay(), &mut shutdown).await {
                        break;
                    }
                }
            }
        }
        self.leader.store(false, Ordering::Relaxed);
        tracing::info!("relay stopped");
    }

    async fn lead(&self, shutdown: &mut Shutdown, backoff: &mut Backoff) -> Result<(), BusError> {
        // A dedicated connection: the advisory lock lives and dies with it.
        let mut conn = self.pool.acquire().await?.detach();
        if !take_the_lead(&mut conn, 2, shutdown).await? {
            return Ok(());
        }
        tracing::info!("relay is the active publisher");
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen("humit_events").await?;

        let connection = broker::connect(&self.settings.amqp_url).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        broker::declare_exchange(&channel, &self.settings.exchange).await?;
        self.leader.store(true, Ordering::Relaxed);
        metrics::gauge!("humit_relay_leader").set(1.0);

        sqlx::query("INSERT INTO relay_checkpoint (name) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(CHECKPOINT)
            .execute(&mut conn)
            .await?;
        let checkpoint: i64 =
            sqlx::query_scalar("SELECT position FROM relay_checkpoint WHERE name = $1")
                .bind(CHECKPOINT)
                .fetch_one(&mut conn)
                .await?;
        // Batches are published back to back; up to `IN_FLIGHT` of them await their
        // confirms while the next ones are read and sent. The checkpoint moves in order, to
        // the end of the oldest batch whose every message the broker confirmed.
        let mut in_flight: VecDeque<(i64, usize, Vec<Pending>)> = VecDeque::new();
        let mut read_to = checkpoint;
        loop {
            let batch = if in_flight.len() < IN_FLIGHT {
                log::read_after(&mut conn, read_to, BATCH).await?
            } else {
                Vec::new()
            };
            if let Some(last) = batch.last().map(|e| e.position) {
                let pending = self.publish(&channel, &batch).await?;
                in_flight.push_back((last, batch.len(), pending));
                read_to = last;
                if in_flight.len() < IN_FLIGHT && batch.len() as i64 == BATCH {
                    continue;
                }
            }
            if let Some((last, count, pending)) = in_flight.pop_front() {
                settle(pending).await?;
                move_checkpoint(&mut conn, last).await?;
                backoff.reset();
                metrics::counter!("humit_relay_published_total").increment(count as u64);
                metrics::gauge!("humit_relay_position").set(last as f64);
                tracing::debug!(position = last, count, "relayed");
                continue;
            }
            tokio::select! {
                n = listener.recv() => { n?; }
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => {
                    // Every batch is confirmed and checkpointed: give the lock back now, so a
                    // relay elsewhere takes over at once.
                    self.leader.store(false, Ordering::Relaxed);
                    let _ = connection.close(200, "shutdown".into()).await;
                    crate::background::release_lock(conn, 2).await;
                    return Ok(());
                }
            }
        }
    }

    /// Sends every event of `batch` without waiting for the broker: answers the confirms.
    async fn publish(
        &self,
        channel: &lapin::Channel,
        batch: &[Envelope],
    ) -> Result<Vec<Pending>, BusError> {
        let mut confirms = Vec::with_capacity(batch.len());
        for event in batch {
            let body = serde_json::to_vec(event)?;
            let mut headers = FieldTable::default();
            headers.insert("position".into(), AMQPValue::LongLongInt(event.position));
            headers.insert(
                "aggregate_type".into(),
                AMQPValue::LongString(event.aggregate_type.as_str().into()),
            );
            headers.insert(
                "aggregate_id".into(),
                AMQPValue::LongString(event.aggregate_id.as_str().into()),
            );
            headers.insert(
                "event_version".into(),
                AMQPValue::LongString(event.event_version.as_str().into()),
            );
            let properties = BasicProperties::default()
                .with_message_id(event.event_id.to_string().into())
                .with_type(event.event_type.as_str().into())
                .with_content_type("application/json".into())
                .with_delivery_mode(2)
                .with_timestamp(event.recorded_at.timestamp().max(0) as u64)
                .with_app_id("humit".into())
                .with_headers(headers);
            let confirm = channel
                .basic_publish(
                    self.settings.exchange.as_str().into(),
                    event.routing_key().into(),
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    &body,
                    properties,
                )
                .await?;
            confirms.push((event.position, confirm));
        }
        Ok(confirms)
    }
}

/// A sent event awaiting the broker's confirm.
type Pending = (i64, lapin::PublisherConfirm);

/// Waits for the broker to confirm every message of a batch.
async fn settle(pending: Vec<Pending>) -> Result<(), BusError> {
    for (position, confirm) in pending {
        let confirmation = confirm.await?;
        if confirmation.is_nack() {
            return Err(BusError::Nack { position });
        }
        if confirmation.take_message().is_some() {
            // Mandatory and unroutable: no queue wants this key. It is in the log and
            // every projection catches up from the log, so nothing is lost.
            metrics::counter!("humit_relay_unroutable_total").increment(1);
            tracing::debug!(position, "event had no bound queue");
        }
    }
    Ok(())
}

async fn move_checkpoint(conn: &mut PgConnection, position: i64) -> Result<(), BusError> {
    sqlx::query("UPDATE relay_checkpoint SET position = $2, published_at = now() WHERE name = $1")
        .bind(CHECKPOINT)
        .bind(position)
        .execute(conn)
        .await?;
    Ok(())
}

/// The relay's checkpoint (0 before the first publish).
///
/// # Errors
/// Database errors.
pub async fn checkpoint(pool: &PgPool) -> Result<i64, sqlx::Error> {
    let cp: Option<i64> =
        sqlx::query_scalar("SELECT position FROM relay_checkpoint WHERE name = $1")
            .bind(CHECKPOINT)
            .fetch_optional(pool)
            .await?;
    Ok(cp.unwrap_or(0))
}

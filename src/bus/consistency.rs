//! Read-your-writes: a command's response can wait until the projections it names have
//! applied the command's position.
//!
//! Every process listens on `humit_checkpoints` (sent by a trigger whenever a projection's
//! checkpoint moves, in whichever process the projector runs) and keeps the latest position of
//! each projection in a `watch` channel that waiters subscribe to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sqlx::postgres::PgListener;
use sqlx::PgPool;
use tokio::sync::watch;

use super::{retry_until_stopped, Shutdown};

/// The latest known checkpoint of every projection.
#[derive(Debug, Clone, Default)]
pub struct Checkpoints {
    channels: Arc<Mutex<HashMap<String, watch::Sender<i64>>>>,
}

impl Checkpoints {
    fn sender(&self, name: &str) -> watch::Sender<i64> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels
            .entry(name.to_string())
            .or_insert_with(|| watch::channel(0).0)
            .clone()
    }

    /// Records that `name` reached `position` (positions only move forward).
    pub fn observe(&self, name: &str, position: i64) {
        self.sender(name).send_if_modified(|current| {
            if position > *current {
                *current = position;
                true
            } else {
                false
            }
        });
    }

    /// The latest known position of `name`.
    pub fn position(&self, name: &str) -> i64 {
        *self.sender(name).borrow()
    }

    /// Waits until every projection in `names` reached `position`, at most `timeout`.
    /// Answers whether they did.
    pub async fn wait(&self, names: &[&str], position: i64, timeout: Duration) -> bool {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut reached = true;
        for name in names {
            let mut rx = self.sender(name).subscribe();
            let waited = tokio::time::timeout_at(deadline, rx.wait_for(|p| *p >= position)).await;
            if !matches!(waited, Ok(Ok(_))) {
                reached = false;
                break;
            }
        }
        metrics::histogram!("humit_consistency_wait_seconds", "reached" => if reached { "yes" } else { "no" })
            .record(started.elapsed().as_secs_f64());
        if !reached {
            tracing::warn!(
                position,
                ?names,
                "projections did not reach the command in time"
            );
        }
        reached
    }

    /// Whether every projection in `names` shows at least `position` on `pool` (a read
    /// replica: it shows a checkpoint only once it replayed the commit that moved it, and
    /// with it the rows that commit wrote).
    ///
    /// # Errors
    /// Database errors.
    pub async fn reached_on(
        pool: &PgPool,
        names: &[&str],
        position: i64,
    ) -> Result<bool, sqlx::Error> {
        let behind: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM unnest($1::text[]) AS n(name)
             LEFT JOIN projection_checkpoints c USING (name)
             WHERE COALESCE(c.position, 0) < $2",
        )
        .bind(names)
        .bind(position)
        .fetch_one(pool)
        .await?;
        Ok(behind == 0)
    }

    /// Follows checkpoint notifications until shutdown, reconnecting after failures.
    pub async fn follow(self, pool: PgPool, mut shutdown: Shutdown) {
        let (this, pool) = (&self, &pool);
        retry_until_stopped(
            "checkpoint listener",
            &mut shutdown,
            |mut shutdown| async move { this.listen(pool, &mut shutdown).await },
        )
        .await;
    }

    async fn listen(&self, pool: &PgPool, shutdown: &mut Shutdown) -> Result<(), sqlx::Error> {
        let mut listener = PgListener::connect_with(pool).await?;
        listener.listen("humit_checkpoints").await?;
        self.load(pool).await?;
        loop {
            let notification = tokio::select! {
                n = listener.try_recv() => n?,
                _ = shutdown.changed() => return Ok(()),
            };
            match notification {
                Some(n) => {
                    if let Some((name, position)) = n.payload().rsplit_once(':') {
                        if let Ok(position) = position.parse() {
                            self.observe(name, position);
                        }
                    }
                }
                // The connection was lost and re-established: notifications may be missed.
                None => self.load(pool).await?,
            }
        }
    }

    /// Loads every checkpoint from the database.
    ///
    /// # Errors
    /// Database errors.
    pub async fn load(&self, pool: &PgPool) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, position FROM projection_checkpoints")
                .fetch_all(pool)
                .await?;
        for (name, position) in rows {
            self.observe(&name, position);
        }
        Ok(())
    }
}

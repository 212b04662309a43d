//! Plumbing shared by every background task (sequencer, relay, projectors, auth feed,
//! checkpoint listener): the stop signal, the backoff between retries after a failure (and
//! `retry_until_stopped`, the whole loop for a listener that only reconnects), the standby
//! of a task that runs in one process at a time, and giving its advisory lock back on a
//! graceful stop.

use std::time::Duration;

/// Exponential backoff from 100 ms to 5 s.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    /// The next delay.
    pub fn next_delay(&mut self) -> Duration {
        let ms = 100u64.saturating_mul(1 << self.failures.min(6)).min(5_000);
        self.failures += 1;
        Duration::from_millis(ms)
    }

    /// Back to the shortest delay after a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A stop signal shared by background tasks.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

/// Sleeps for `delay` unless shutdown comes first; answers whether to stop.
pub async fn sleep_or_stop(delay: Duration, shutdown: &mut Shutdown) -> bool {
    if *shutdown.borrow() {
        return true;
    }
    tokio::select! {
        () = tokio::time::sleep(delay) => false,
        _ = shutdown.changed() => true,
    }
}

/// Runs `attempt` until it ends cleanly or shutdown comes; after each failure, logs it as
/// `task` interrupted and waits out the backoff before the next attempt (a listener that
/// reconnects, a feed that starts again).
pub async fn retry_until_stopped<E, F, Fut>(task: &str, shutdown: &mut Shutdown, mut attempt: F)
where
    E: std::fmt::Display,
    F: FnMut(Shutdown) -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
{
    let mut backoff = Backoff::default();
    loop {
        match attempt(shutdown.clone()).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, task, "interrupted; retrying");
                if sleep_or_stop(backoff.next_delay(), shutdown).await {
                    return;
                }
            }
        }
    }
}

/// How often a standby process tries to take over a task that runs in one process at a time.
const STANDBY_POLL: Duration = Duration::from_millis(200);

/// Waits on `conn` until this process holds the advisory lock `(7261, key)` of a task that
/// runs in one process at a time (`2` the relay, `3` the sequencer). The lock lives and dies
/// with the connection, so a process that dies hands the task over. Answers `false` when
/// shutdown came first.
///
/// # Errors
/// Database errors.
pub async fn take_the_lead(
    conn: &mut sqlx::PgConnection,
    key: i32,
    shutdown: &mut Shutdown,
) -> Result<bool, sqlx::Error> {
    loop {
        let leader: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock(7261, $1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        if leader {
            return Ok(true);
        }
        if sleep_or_stop(STANDBY_POLL, shutdown).await {
            return Ok(false);
        }
    }
}

/// Gives a leader's session advisory lock `(7261, key)` back and closes its connection (on
/// a graceful stop), so that a candidate in another process takes over at once.
pub async fn release_lock(mut conn: sqlx::PgConnection, key: i32) {
    if let Err(error) = sqlx::query("SELECT pg_advisory_unlock(7261, $1)")
        .bind(key)
        .execute(&mut conn)
        .await
    {
        tracing::debug!(%error, key, "advisory lock not released (the connection ends it)");
    }
    let _ = sqlx::Connection::close(conn).await;
}

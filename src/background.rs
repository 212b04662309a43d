//! Plumbing shared by every background task (sequencer, relay, projectors, auth feed,
//! checkpoint listener): the stop signal, and the backoff between retries after a failure.

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

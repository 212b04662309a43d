//! Load drivers: closed loops of async workers (HTTP or sqlx) and of OS threads (CPU-bound
//! baselines), each bounded in workers and time, plus percentiles.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a closed-loop run achieved inside its measuring window.
#[derive(Debug, Clone, Default)]
pub struct Run {
    /// Operations that succeeded and completed inside the window.
    pub ok: u64,
    /// Operations that failed and completed inside the window.
    pub failed: u64,
    /// The window (seconds).
    pub secs: f64,
}

impl Run {
    /// Successful operations per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
}

/// Runs `workers` tasks, each calling `op(worker, iteration)` back to back until
/// `warmup + measure` has passed; counts the operations completing inside the last `measure`.
/// `op` answers whether the operation succeeded.
pub async fn closed_loop<F, Fut>(workers: usize, warmup: Duration, measure: Duration, op: F) -> Run
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let op = Arc::new(op);
    let from = Instant::now() + warmup;
    let until = from + measure;
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..workers {
        let op = op.clone();
        tasks.spawn(async move {
            let (mut ok, mut failed, mut i) = (0u64, 0u64, 0u64);
            while Instant::now() < until {
                let good = op(worker, i).await;
                i += 1;
                let done = Instant::now();
                if done >= from && done <= until {
                    if good {
                        ok += 1;
                    } else {
                        failed += 1;
                    }
                }
            }
            (ok, failed)
        });
    }
    let mut run = Run {
        secs: measure.as_secs_f64(),
        ..Run::default()
    };
    while let Some(done) = tasks.join_next().await {
        let (ok, failed) = done.expect("load worker panicked");
        run.ok += ok;
        run.failed += failed;
    }
    run
}

/// Runs `op` on `threads` OS threads back to back for `warmup + measure`; operations per
/// second inside the window.
pub async fn threads_loop<F>(threads: usize, warmup: Duration, measure: Duration, op: F) -> f64
where
    F: Fn() + Send + Sync + 'static,
{
    let op = Arc::new(op);
    tokio::task::spawn_blocking(move || {
        let from = Instant::now() + warmup;
        let until = from + measure;
        let total: u64 = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let op = op.clone();
                    scope.spawn(move || {
                        let mut n = 0u64;
                        while Instant::now() < until {
                            op();
                            let done = Instant::now();
                            if done >= from && done <= until {
                                n += 1;
                            }
                        }
                        n
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        total as f64 / measure.as_secs_f64()
    })
    .await
    .expect("baseline threads")
}

/// The `p` quantile (0..=1) of `samples` (sorted here); zero when empty.
pub fn pct(samples: &mut [Duration], p: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

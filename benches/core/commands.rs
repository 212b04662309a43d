//! The command rows: `PUT /users/<u>` at each connection count, with where the time goes
//! (humit's own `/metrics`, lock waits in `pg_stat_activity`), and the raw-insert floor.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use super::api::{self, Account};
use super::child::Humit;
use super::load::{closed_loop, Run};
use super::{baseline, pipeline, BASE_MEASURE, CONNS, MEASURE, WARMUP};

/// `PUT /users/<u>` at `conns` connections, each on its own account.
async fn commands(h: &Humit, accounts: &Arc<Vec<Account>>, conns: usize, tag: &str) -> Run {
    let http = api::client(conns);
    let base: Arc<str> = h.base.as_str().into();
    let accounts = accounts.clone();
    let tag = tag.replace(' ', "-");
    closed_loop(conns, WARMUP, MEASURE, move |w, i| {
        let (http, base, accounts) = (http.clone(), base.clone(), accounts.clone());
        let request_id = format!("bench-{tag}-{conns}-{w}-{i}");
        async move { api::update(&http, &base, &accounts[w], i, &request_id).await }
    })
    .await
}

/// Mean seconds per observation of a histogram between two scrapes of (sum, count).
fn mean(before: (f64, f64), after: (f64, f64)) -> f64 {
    let n = after.1 - before.1;
    if n > 0.0 {
        (after.0 - before.0) / n
    } else {
        0.0
    }
}

/// Samples `pg_stat_activity` of the bench database every 20 ms for `span`: the mean number
/// of backends waiting on any lock, and on an advisory lock.
async fn lock_waits(pool: PgPool, span: Duration) -> (f64, f64) {
    let until = Instant::now() + span;
    let (mut any, mut advisory, mut n) = (0i64, 0i64, 0u32);
    while Instant::now() < until {
        let sample: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'),
                    count(*) FILTER (WHERE wait_event = 'advisory')
             FROM pg_stat_activity WHERE datname = current_database()",
        )
        .fetch_one(&pool)
        .await;
        if let Ok((a, b)) = sample {
            any += a;
            advisory += b;
            n += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let n = f64::from(n.max(1));
    (any as f64 / n, advisory as f64 / n)
}

/// One command row, and a note on where its time went.
async fn row(
    h: &Humit,
    pool: &PgPool,
    accounts: &Arc<Vec<Account>>,
    conns: usize,
    tag: &str,
) -> (Run, String) {
    let http = api::client(1);
    let scrape = |name: &'static str, label: &'static str| {
        let (http, base) = (http.clone(), h.base.clone());
        async move { api::metric(&http, &base, name, label).await }
    };
    const COMMAND: (&str, &str) = ("humit_command_duration_seconds", "aggregate=\"User\"");
    const WAIT: (&str, &str) = ("humit_consistency_wait_seconds", "");
    const PUT: (&str, &str) = ("humit_http_request_duration_seconds", "method=\"PUT\"");
    let before = [
        scrape(COMMAND.0, COMMAND.1).await,
        scrape(WAIT.0, WAIT.1).await,
        scrape(PUT.0, PUT.1).await,
    ];
    let sampling = tokio::spawn(lock_waits(pool.clone(), WARMUP + MEASURE));
    let (cpu0, started) = (h.cpu(), Instant::now());
    let run = commands(h, accounts, conns, tag).await;
    let busy = (h.cpu() - cpu0).as_secs_f64() / started.elapsed().as_secs_f64();
    let (waiting, advisory) = sampling.await.unwrap_or((0.0, 0.0));
    let command = mean(before[0], scrape(COMMAND.0, COMMAND.1).await) * 1000.0;
    let wait = mean(before[1], scrape(WAIT.0, WAIT.1).await) * 1000.0;
    let put = mean(before[2], scrape(PUT.0, PUT.1).await) * 1000.0;
    let note = format!(
        "{tag}, {conns} connections: a PUT took {put:.1} ms in humit on average; its User \
         command (load, append) {command:.1} ms, the read-your-writes wait \
         {wait:.1} ms; on average {waiting:.1} Postgres backends were waiting on a lock \
         ({advisory:.1} on an advisory lock); the humit process used {:.0}% of a core, \
         {:.1} ms of CPU per PUT.",
        busy * 100.0,
        busy / run.rate().max(1e-9) * 1000.0
    );
    (run, note)
}

/// The command rows at every connection count of [`CONNS`], each started once the relay and
/// projections caught up with the log. Answers the runs, and how long the catch-up after
/// each took.
pub async fn series(
    h: &Humit,
    pool: &PgPool,
    accounts: &Arc<Vec<Account>>,
    tag: &str,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Vec<Run>, Vec<Duration>)> {
    let (mut runs, mut catch_up) = (Vec::new(), Vec::new());
    for conns in CONNS {
        pipeline::settle(pool).await?;
        let (run, note) = row(h, pool, accounts, conns, tag).await;
        if conns > 1 {
            notes.push(note);
        }
        runs.push(run);
        catch_up.push(pipeline::settle(pool).await?);
    }
    Ok((runs, catch_up))
}

/// The raw-insert floor at every connection count of [`CONNS`] (transactions per second).
pub async fn raw_series(
    url: &str,
    payload: &serde_json::Value,
    metadata: &serde_json::Value,
) -> anyhow::Result<Vec<f64>> {
    let mut rates = Vec::new();
    for conns in CONNS {
        let run =
            baseline::raw_inserts(url, conns, WARMUP, BASE_MEASURE, payload, metadata).await?;
        rates.push(run.rate());
    }
    Ok(rates)
}

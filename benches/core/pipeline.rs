//! The asynchronous half of humit: projection lag under a steady command rate, and the
//! relay draining a large backlog.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapin::options::{ExchangeDeleteOptions, QueueDeleteOptions};
use sqlx::postgres::PgListener;
use sqlx::PgPool;

use super::api::{self, Account};
use super::child::Humit;
use super::load::pct;

/// Waits until the relay and every projection reached the head of the log; answers how
/// long that took.
pub async fn settle(pool: &PgPool) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let (head, relayed, behind): (i64, i64, i64) = sqlx::query_as(
            "WITH head AS (SELECT COALESCE(MAX(position), 0) AS p FROM events)
             SELECT head.p,
                    COALESCE((SELECT position FROM relay_checkpoint WHERE name = 'relay'), 0),
                    (SELECT count(*) FROM projection_checkpoints c WHERE c.position < head.p)
             FROM head",
        )
        .fetch_one(pool)
        .await?;
        if relayed >= head && behind == 0 {
            return Ok(started.elapsed());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "humit did not catch up with the log in 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Projection lag of the `users` projection.
pub struct Lag {
    /// Median, request sent → checkpoint notification at or past its event.
    pub p50: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Events measured.
    pub samples: usize,
    /// Commands per second actually offered.
    pub offered: f64,
}

/// Offers `PUT /users/<u>` at `rate` per second for `measure` (open loop, round robin over
/// `accounts`) while listening on `humit_checkpoints`; the lag of each event is the arrival
/// of the first `users:<position>` at or past its position minus the moment its request was
/// sent (events are matched to requests by `x-request-id`).
pub async fn projection_lag(
    humit: &Humit,
    pool: &PgPool,
    accounts: Arc<Vec<Account>>,
    rate: f64,
    measure: Duration,
) -> anyhow::Result<Lag> {
    let arrivals: Arc<Mutex<Vec<(Instant, i64)>>> = Arc::default();
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen("humit_checkpoints").await?;
    let sink = arrivals.clone();
    let listening = tokio::spawn(async move {
        while let Ok(n) = listener.recv().await {
            let at = Instant::now();
            if let Some(position) = n.payload().strip_prefix("users:") {
                if let Ok(position) = position.parse::<i64>() {
                    sink.lock().expect("arrivals").push((at, position));
                }
            }
        }
    });

    let http = api::client(64);
    let base: Arc<str> = humit.base.as_str().into();
    let permits = Arc::new(tokio::sync::Semaphore::new(64));
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    let started = Instant::now();
    let mut next = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut k = 0u64;
    while started.elapsed() < measure {
        tokio::time::sleep_until(next).await;
        next += interval;
        let permit = permits.clone().acquire_owned().await?;
        let (http, base, accounts) = (http.clone(), base.clone(), accounts.clone());
        tasks.spawn(async move {
            let account = &accounts[k as usize % accounts.len()];
            let request_id = format!("bench-lag-{k}");
            let sent = Instant::now();
            let ok = api::update(&http, &base, account, 1_000_000 + k, &request_id).await;
            drop(permit);
            (request_id, sent, ok)
        });
        k += 1;
    }
    let offered = k as f64 / started.elapsed().as_secs_f64();
    let mut sent = std::collections::HashMap::new();
    while let Some(done) = tasks.join_next().await {
        let (request_id, at, ok) = done?;
        if ok {
            sent.insert(request_id, at);
        }
    }

    // Positions of the events those requests stored (a sequencer may assign them late).
    let deadline = Instant::now() + Duration::from_secs(10);
    let positions: Vec<(String, i64)> = loop {
        let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT metadata->>'request_id', MAX(position) FROM events
             WHERE metadata->>'request_id' LIKE 'bench-lag-%' GROUP BY 1",
        )
        .fetch_all(pool)
        .await?;
        if rows.iter().all(|(_, p)| p.is_some()) || Instant::now() > deadline {
            break rows
                .into_iter()
                .filter_map(|(r, p)| Some((r, p?)))
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let head = positions.iter().map(|(_, p)| *p).max().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline
        && arrivals
            .lock()
            .expect("arrivals")
            .last()
            .is_none_or(|(_, p)| *p < head)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    listening.abort();

    let arrivals = arrivals.lock().expect("arrivals").clone();
    let mut lags = Vec::new();
    for (request_id, position) in positions {
        let Some(sent) = sent.get(&request_id) else {
            continue;
        };
        // Checkpoints only move forward, so arrivals are sorted by position too.
        let i = arrivals.partition_point(|(_, p)| *p < position);
        if let Some((at, _)) = arrivals.get(i) {
            lags.push(at.saturating_duration_since(*sent));
        }
    }
    Ok(Lag {
        p50: pct(&mut lags, 0.5),
        p99: pct(&mut lags, 0.99),
        samples: lags.len(),
        offered,
    })
}

/// The envelope the relay publishes for one noise event (for the publishing baseline).
pub fn noise_envelope() -> Vec<u8> {
    let envelope = projections::Envelope {
        event_id: uuid::Uuid::new_v4(),
        position: 1_000_000,
        aggregate_type: "BenchNoise".into(),
        aggregate_id: "noise-100000".into(),
        sequence: 1,
        event_type: "NoiseRecorded".into(),
        event_version: "1.0".into(),
        recorded_at: chrono::Utc::now(),
        metadata: serde_json::json!({"actor_id": "system", "actor_role": "system", "request_id": "bench-noise"}),
        payload: serde_json::json!({"NoiseRecorded": {"n": 100_000, "note": "bench noise"}}),
    };
    serde_json::to_vec(&envelope).expect("envelope serialises")
}

/// A relay drain.
pub struct Drain {
    /// Events per second, first insert commit → relay checkpoint at the last event.
    pub rate: f64,
    /// Seconds of that.
    pub secs: f64,
    /// Seconds the inserts took, first statement → last commit.
    pub insert_secs: f64,
}

/// Inserts `n` small `BenchNoise` events straight into `events` in `txs` transactions
/// (`position` left to the log), then times until the relay's checkpoint reaches the last.
pub async fn relay_drain(pool: &PgPool, n: i64, txs: i64) -> anyhow::Result<Drain> {
    let chunk = n / txs;
    let insert_started = Instant::now();
    let mut first_commit = None;
    for t in 0..txs {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO events
                (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             SELECT 'BenchNoise', 'noise-' || g, 1, 'NoiseRecorded', '1.0',
                    jsonb_build_object('NoiseRecorded', jsonb_build_object('n', g, 'note', 'bench noise')),
                    '{\"actor_id\": \"system\", \"actor_role\": \"system\", \"request_id\": \"bench-noise\"}'::jsonb
             FROM generate_series($1::bigint, $2::bigint) AS g",
        )
        .bind(t * chunk + 1)
        .bind((t + 1) * chunk)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        first_commit.get_or_insert_with(Instant::now);
    }
    let insert_secs = insert_started.elapsed().as_secs_f64();
    let first_commit = first_commit.unwrap_or_else(Instant::now);

    // The last position, once every event has one (a sequencer may assign them after commit).
    let deadline = Instant::now() + Duration::from_secs(120);
    let target: i64 = loop {
        let (unsequenced, head): (i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE position IS NULL), MAX(position) FROM events",
        )
        .fetch_one(pool)
        .await?;
        if unsequenced == 0 {
            break head.unwrap_or(0);
        }
        anyhow::ensure!(Instant::now() < deadline, "events left without a position");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let relayed: Option<i64> =
            sqlx::query_scalar("SELECT position FROM relay_checkpoint WHERE name = 'relay'")
                .fetch_optional(pool)
                .await?;
        if relayed.unwrap_or(0) >= target {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "relay did not drain in 240 s");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = first_commit.elapsed().as_secs_f64();
    Ok(Drain {
        rate: n as f64 / secs,
        secs,
        insert_secs,
    })
}

/// Deletes what humit declared on the broker for `exchange`.
pub async fn delete_topology(amqp_url: &str, exchange: &str) -> anyhow::Result<()> {
    let conn = lapin::Connection::connect(amqp_url, lapin::ConnectionProperties::default()).await?;
    let channel = conn.create_channel().await?;
    let dead = format!("{exchange}.dead");
    let mut queues: Vec<String> = projections::all()
        .iter()
        .map(|p| format!("{exchange}.projection.{}", p.name()))
        .collect();
    queues.push(dead.clone());
    for queue in queues {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
    }
    for name in [dead.as_str(), exchange] {
        let _ = channel
            .exchange_delete(name.into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = conn.close(200, "bench done".into()).await;
    Ok(())
}

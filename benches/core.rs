//! The core's speed and memory, each beside a baseline measured in the same run.
//!
//! `cargo bench --bench core` (needs PostgreSQL and RabbitMQ, like the tests; uses its own
//! database and exchange). Prints one table:
//! - raw Postgres: one-row insert transactions into a scratch table (the floor for a command);
//! - commands through cqrs-es + postgres-es + the append lock, sequential and concurrent;
//! - read-your-writes: command until its projection shows it (what a client waits for);
//! - relay: commit until a subscriber on the exchange receives the event;
//! - argon2id: one hash (the floor for a password login) against a full login command;
//! - memory: resident set size before and after the run.

use std::time::{Duration, Instant};

use aggregates::social::{RelationCommand, StationFollow};
use aggregates::station::{Station, StationCommand};
use aggregates::user::{PasswordHasher, Role, UserDetails};
use futures::StreamExt;
use humit::auth::jwt;
use humit::config::Config;
use humit::startup::{Application, Mode};
use humit::store::CommandContext;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

const N: usize = 300;

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Stats {
    samples: Vec<Duration>,
    total: Duration,
}

impl Stats {
    fn new(mut samples: Vec<Duration>, total: Duration) -> Self {
        samples.sort();
        Self { samples, total }
    }
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.samples.len() as f64 - 1.0) * p).round() as usize;
        self.samples[i]
    }
    fn rate(&self) -> f64 {
        self.samples.len() as f64 / self.total.as_secs_f64()
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

struct Row(String, String, String, String);

async fn station(state: &humit::state::AppState, id: &str) -> Option<i64> {
    let command = StationCommand::CreateStation {
        station_id: id.into(),
        name: id.into(),
        description: String::new(),
        image_url: String::new(),
        created_by: "bench".into(),
        now: chrono::Utc::now(),
    };
    state
        .commands
        .execute::<Station>(id, command, &CommandContext::system())
        .await
        .expect("command")?
        .position()
        .await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rss_start = rss_kib();
    let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
    let mut config = Config::from_env();
    config.database_url = format!("postgres://postgres@127.0.0.1:5432/humit_bench_{id}");
    config.exchange = format!("humit_bench_{id}");
    config.addr = "127.0.0.1:0".parse()?;
    config.data_dir = std::env::temp_dir().join(format!("humit_bench_{id}"));
    config.queue_expires_ms = Some(60_000);
    config.jwt_secret = Some(format!("bench-{id}-{id}-{id}-{id}"));
    let app = Application::build(config.clone(), Mode::ALL).await?;
    let state = app.state().clone();
    let stop = app.stop_handle();
    let server = tokio::spawn(app.run_until_stopped());
    let pool = state.pool.clone();
    let mut rows = Vec::new();

    // Baseline: raw one-row insert transactions.
    sqlx::query("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, payload jsonb NOT NULL)")
        .execute(&pool)
        .await?;
    let mut samples = Vec::with_capacity(N);
    let started = Instant::now();
    for i in 0..N {
        let t = Instant::now();
        let mut tx = pool.begin().await?;
        sqlx::query("INSERT INTO bench_raw (payload) VALUES ($1)")
            .bind(serde_json::json!({"StationCreated": {"station_id": i}}))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        samples.push(t.elapsed());
    }
    let raw = Stats::new(samples, started.elapsed());
    rows.push(Row(
        "raw Postgres insert tx (baseline)".into(),
        ms(raw.pct(0.5)),
        ms(raw.pct(0.99)),
        format!("{:.0}/s", raw.rate()),
    ));

    // Commands, sequential.
    let mut samples = Vec::with_capacity(N);
    let started = Instant::now();
    for i in 0..N {
        let t = Instant::now();
        station(&state, &format!("seq{i}")).await;
        samples.push(t.elapsed());
    }
    let seq = Stats::new(samples, started.elapsed());
    rows.push(Row(
        format!(
            "command, sequential ({:.1}x baseline p50)",
            seq.pct(0.5).as_secs_f64() / raw.pct(0.5).as_secs_f64()
        ),
        ms(seq.pct(0.5)),
        ms(seq.pct(0.99)),
        format!("{:.0}/s", seq.rate()),
    ));

    // Commands, 8 concurrent writers.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            for i in 0..N / 8 {
                let t = Instant::now();
                station(&state, &format!("par{w}-{i}")).await;
                samples.push(t.elapsed());
            }
            samples
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await?);
    }
    let par = Stats::new(samples, started.elapsed());
    rows.push(Row(
        "command, 8 concurrent writers".into(),
        ms(par.pct(0.5)),
        ms(par.pct(0.99)),
        format!("{:.0}/s", par.rate()),
    ));

    // Read-your-writes: command, then wait until the `social` projection applied it.
    station(&state, "ryw").await;
    let mut samples = Vec::with_capacity(N);
    let mut waits = Vec::with_capacity(N);
    let started = Instant::now();
    for i in 0..N {
        let t = Instant::now();
        let command = RelationCommand::Add {
            subject: format!("u{i}"),
            object: "ryw".into(),
            now: chrono::Utc::now(),
        };
        let position = state
            .commands
            .execute::<StationFollow>(&format!("u{i}:ryw"), command, &CommandContext::system())
            .await
            .expect("follow");
        let w = Instant::now();
        state.wait_for(position, &["social"]).await;
        waits.push(w.elapsed());
        samples.push(t.elapsed());
    }
    let ryw = Stats::new(samples, started.elapsed());
    let added = Stats::new(waits, started.elapsed());
    rows.push(Row(
        "command + read-your-writes (social)".into(),
        ms(ryw.pct(0.5)),
        ms(ryw.pct(0.99)),
        format!("{:.0}/s", ryw.rate()),
    ));
    rows.push(Row(
        "  of which the wait for the projection".into(),
        ms(added.pct(0.5)),
        ms(added.pct(0.99)),
        String::new(),
    ));

    // Relay: commit → subscriber.
    let conn = lapin::Connection::connect(&config.amqp_url, lapin::ConnectionProperties::default())
        .await?;
    let channel = conn.create_channel().await?;
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;
    channel
        .queue_bind(
            queue.name().clone(),
            config.exchange.as_str().into(),
            "Station.#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut consumer = channel
        .basic_consume(
            queue.name().clone(),
            "bench".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut samples = Vec::with_capacity(N / 3);
    let started = Instant::now();
    for i in 0..N / 3 {
        station(&state, &format!("relay{i}")).await;
        let committed = Instant::now();
        let delivery = consumer.next().await.expect("delivery")?;
        delivery.ack(BasicAckOptions::default()).await?;
        samples.push(committed.elapsed());
    }
    let relay = Stats::new(samples, started.elapsed());
    rows.push(Row(
        "relay: commit → subscriber".into(),
        ms(relay.pct(0.5)),
        ms(relay.pct(0.99)),
        String::new(),
    ));

    // argon2id baseline against a full password login command.
    let mut samples = Vec::new();
    let started = Instant::now();
    for _ in 0..10 {
        let t = Instant::now();
        state.hasher.hash("benchmark password").await?;
        samples.push(t.elapsed());
    }
    let hash = Stats::new(samples, started.elapsed());
    rows.push(Row(
        "argon2id hash, 19 MiB t=2 (baseline)".into(),
        ms(hash.pct(0.5)),
        ms(hash.pct(0.99)),
        format!("{:.0}/s", hash.rate()),
    ));
    let new = humit::identity::NewUser {
        username: "bench".into(),
        details: UserDetails {
            email: Some("bench@example.com".into()),
            ..Default::default()
        },
        password: Some("benchmark password".into()),
        identity: None,
        spotify_tokens: None,
        role: Role::Normal,
    };
    let (user_id, _) = humit::identity::register(&state, new, &CommandContext::system()).await?;
    let mut samples = Vec::new();
    let started = Instant::now();
    for _ in 0..10 {
        let t = Instant::now();
        humit::identity::log_in(
            &state,
            &user_id,
            "benchmark password",
            jwt::TECHFESIA,
            &CommandContext::system(),
        )
        .await?;
        samples.push(t.elapsed());
    }
    let login = Stats::new(samples, started.elapsed());
    rows.push(Row(
        format!(
            "password login command ({:.2}x hash p50)",
            login.pct(0.5).as_secs_f64() / hash.pct(0.5).as_secs_f64()
        ),
        ms(login.pct(0.5)),
        ms(login.pct(0.99)),
        format!("{:.0}/s", login.rate()),
    ));

    let rss_end = rss_kib();
    rows.push(Row(
        "resident memory, start → end".into(),
        format!("{} MiB", rss_start / 1024),
        format!("{} MiB", rss_end / 1024),
        String::new(),
    ));

    println!();
    println!(
        "{:<48} {:>12} {:>12} {:>10}",
        "measure", "p50", "p99", "rate"
    );
    println!("{}", "-".repeat(85));
    for Row(name, p50, p99, rate) in rows {
        println!("{name:<48} {p50:>12} {p99:>12} {rate:>10}");
    }

    stop.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    let admin = humit::store::db::pool("postgres://postgres@127.0.0.1:5432/postgres", 1).await?;
    pool.close().await;
    let _ = sqlx::query(&format!(
        "DROP DATABASE IF EXISTS \"humit_bench_{id}\" WITH (FORCE)"
    ))
    .execute(&admin)
    .await;
    Ok(())
}

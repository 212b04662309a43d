//! humit over HTTP against baselines measured by this program in the same run.
//!
//! `cargo bench --bench core` (PostgreSQL and RabbitMQ running, as for the tests). It creates
//! its own database (`humit_bench_<id>`) and exchange, runs `humit migrate`, then starts
//! `humit serve` as a child process twice: with humit's default read-your-writes wait, and
//! with `HUMIT_CONSISTENCY_WAIT_MS=0`. It drives each over loopback HTTP with many concurrent
//! connections (Techfesia: `PUT`/`GET /users/<u>`, `POST /auth/token/`, token refresh;
//! humit: people discover, with sign-ups through an in-bench Spotify stand-in), measures the
//! matching floor itself (raw sqlx statements, argon2id, JWT, NOTIFY, confirmed publishing),
//! and prints one Markdown table. At the end it stops the children and drops the database,
//! exchanges and queues. It takes about three minutes on 2 cores.

#[path = "core/api.rs"]
mod api;
#[path = "core/baseline.rs"]
mod baseline;
#[path = "core/child.rs"]
mod child;
#[path = "core/commands.rs"]
mod commands;
#[path = "core/load.rs"]
mod load;
#[path = "core/pipeline.rs"]
mod pipeline;
#[path = "core/reads.rs"]
mod reads;
#[path = "core/table.rs"]
mod table;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use child::{Env, Humit};
use load::Run;
use table::{alone, ms, rate, vs, Row};

/// Not counted at the start of every closed-loop row.
const WARMUP: Duration = Duration::from_millis(500);
/// The measuring window of a humit row.
const MEASURE: Duration = Duration::from_secs(4);
/// The measuring window of a baseline row.
const BASE_MEASURE: Duration = Duration::from_secs(3);
/// Connection counts of the command rows.
const CONNS: [usize; 3] = [1, 8, 32];
/// Connections of the login, read and refresh rows.
const READERS: usize = 16;
/// Events of the relay drain.
const DRAIN_EVENTS: i64 = 100_000;

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

/// The command rows of one child against the raw-insert floor.
fn command_rows(tag: &str, runs: &[Run], raw: &[f64], targets: [Option<f64>; 3]) -> Vec<Row> {
    (0..CONNS.len())
        .map(|i| {
            let conns = CONNS[i];
            vs(
                format!("`PUT /users/<u>`, {tag}, {conns} conn"),
                &runs[i],
                (format!("raw 1-row INSERT tx, {conns} conn"), raw[i]),
                targets[i],
            )
        })
        .collect()
}

async fn run(env: &Env, rows: &mut Vec<Row>, notes: &mut Vec<String>) -> anyhow::Result<()> {
    env.run(&["migrate"]).await?;
    let a = Humit::start(env, None, "default").await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_kib = a.status_kib("VmRSS:");
    let mut rss = vec![("idle", idle_kib)];
    let pool = baseline::pool(&env.database_url, 4).await?;
    baseline::scratch_table(&pool).await?;

    // Accounts: one per command connection, one shared by 64 logins, humit people.
    let http = api::client(8);
    let accounts = Arc::new(api::create_accounts(&http, &a.base, "bench_", CONNS[2]).await?);
    let one = api::create_account(&http, &a.base, "bench_one").await?;
    let people = Arc::new(api::humit_signups(&http, &a.base, "benchsp", READERS).await?);
    rss.push((
        "set-up (33 accounts, 16 humit sign-ups)",
        a.status_kib("VmRSS:"),
    ));

    // A real command's event: the raw inserts store copies of its payload and metadata.
    anyhow::ensure!(
        api::update(&http, &a.base, &accounts[0], 0, "bench-sample").await,
        "sample PUT failed"
    );
    let (payload, metadata): (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "SELECT payload, metadata FROM events WHERE metadata->>'request_id' = 'bench-sample'
         ORDER BY sequence DESC LIMIT 1",
    )
    .fetch_one(&pool)
    .await
    .context("the sample command's event")?;
    notes.push(format!(
        "A PUT stores one event of {} bytes of payload JSON and {} of metadata; the raw inserts \
         store copies of it.",
        payload.to_string().len(),
        metadata.to_string().len()
    ));

    // With read-your-writes (humit's default wait).
    let (ryw, _) = commands::series(&a, &pool, &accounts, "read-your-writes", notes).await?;
    rss.push(("command rows", a.status_kib("VmRSS:")));
    let raw = commands::raw_series(&env.database_url, &payload, &metadata).await?;
    let targets = [None, Some(0.25), Some(0.25)];
    rows.extend(command_rows("read-your-writes", &ryw, &raw, targets));
    pipeline::settle(&pool).await?;
    reads::logins(&a, &accounts, &one, rows, notes).await?;
    rss.push(("login rows", a.status_kib("VmRSS:")));
    pipeline::settle(&pool).await?;
    reads::reads(&a, env, &accounts, &people, rows, notes).await?;
    rss.push(("read and refresh rows", a.status_kib("VmRSS:")));
    let trace: Vec<String> = rss
        .iter()
        .map(|(when, kib)| format!("{when} {:.0}", *kib as f64 / 1024.0))
        .collect();
    notes.push(format!(
        "Resident set of the default child (MiB) after: {}.",
        trace.join(", ")
    ));
    let hwm_a = a.status_kib("VmHWM:");
    a.stop().await;

    // Without read-your-writes.
    let b = Humit::start(env, Some(0), "no-wait").await?;
    let (nowait, catch_up) = commands::series(&b, &pool, &accounts, "no wait", notes).await?;
    let catch_up: Vec<String> = CONNS
        .iter()
        .zip(&catch_up)
        .map(|(c, d)| format!("{c} conn {:.1} s", d.as_secs_f64()))
        .collect();
    notes.push(format!(
        "After each no-wait row the relay and projections needed this long to catch up: {}.",
        catch_up.join(", ")
    ));
    let targets = [Some(0.3), Some(0.5), Some(0.5)];
    let tag = "no wait (`HUMIT_CONSISTENCY_WAIT_MS=0`)";
    rows.extend(command_rows(tag, &nowait, &raw, targets));

    // Projection lag at half the highest command rate.
    let max = nowait.iter().map(Run::rate).fold(0.0, f64::max);
    let five = Duration::from_secs(5);
    let lag = pipeline::projection_lag(&b, &pool, accounts.clone(), max / 2.0, five).await?;
    let (n50, n99) = baseline::notify_latency(&env.database_url, 200).await?;
    for (q, h, base) in [("p50", lag.p50, n50), ("p99", lag.p99, n99)] {
        let p99 = q == "p99";
        rows.push(Row {
            what: format!(
                "projection lag {q} (`users`), {:.0} PUT/s offered, {} events",
                lag.offered, lag.samples
            ),
            humit: ms(h),
            baseline: format!("INSERT tx + NOTIFY → LISTEN, 1 conn: {}", ms(base)),
            ratio: format!("{:.1}×", h.as_secs_f64() / base.as_secs_f64().max(1e-9)),
            target: if p99 { "≤ 50 ms" } else { "—" }.into(),
            met: p99.then_some(h <= Duration::from_millis(50)),
        });
    }

    // Relay drain against confirmed publishing of as many messages of the same size.
    let body = pipeline::noise_envelope();
    let exchange = format!("{}.baseline", env.exchange);
    let n = DRAIN_EVENTS as usize;
    let published = baseline::publish(&env.amqp_url, &exchange, n, 1024, &body).await?;
    let drain = pipeline::relay_drain(&pool, DRAIN_EVENTS, 4).await?;
    let ratio = drain.rate / published;
    rows.push(Row {
        what: format!("relay drain of {n} events ({} B each)", body.len()),
        humit: format!("{} ({:.1} s)", rate(drain.rate), drain.secs),
        baseline: format!("publish + confirm, 1024 in flight: {}", rate(published)),
        ratio: format!("{:.0}%", ratio * 100.0),
        target: "≥ 50%".into(),
        met: Some(ratio >= 0.5),
    });
    notes.push(format!(
        "The 100,000 noise events took {:.1} s to insert (4 transactions); the drain is timed \
         from the first commit. The projectors consume the same backlog meanwhile.",
        drain.insert_secs
    ));
    let hwm_b = b.status_kib("VmHWM:");
    b.stop().await;

    let what = "resident memory of humit, idle after start";
    rows.push(alone(what, mib(idle_kib), "—", None));
    let peak = hwm_a.max(hwm_b);
    let figure = format!(
        "{} (default {}, no wait {})",
        mib(peak),
        mib(hwm_a),
        mib(hwm_b)
    );
    let what = "resident memory of humit, peak (VmHWM of either child)";
    rows.push(alone(what, figure, "≤ 150 MiB", Some(peak <= 150 * 1024)));
    pool.close().await;
    Ok(())
}

/// Drops the database and deletes the exchanges and queues of the run (and, unless it
/// failed, humit's data dir with its logs).
async fn clean_up(env: &Env, admin_url: &str, database: &str, keep_logs: bool) {
    if let Ok(admin) = baseline::pool(admin_url, 1).await {
        let drop = format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)");
        if let Err(e) = sqlx::query(&drop).execute(&admin).await {
            eprintln!("bench: could not drop {database}: {e}");
        }
        admin.close().await;
    }
    if let Err(e) = pipeline::delete_topology(&env.amqp_url, &env.exchange).await {
        eprintln!("bench: could not delete the exchange {}: {e}", env.exchange);
    }
    if keep_logs {
        eprintln!("bench: humit's logs are in {}", env.data_dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&env.data_dir);
    }
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let id = uuid::Uuid::new_v4().simple().to_string()[..10].to_string();
        let server = std::env::var("HUMIT_BENCH_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let database = format!("humit_bench_{id}");
        let env = Env {
            database_url: format!("{server}/{database}"),
            amqp_url: std::env::var("AMQP_URL")
                .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into()),
            exchange: format!("humit_bench_{id}"),
            jwt_secret: format!("bench-jwt-secret-{id}-{id}-{id}"),
            data_dir: std::env::temp_dir().join(format!("humit_bench_{id}")),
            spotify_url: child::fake_spotify().await?,
        };
        println!("machine: {}", child::machine());
        println!();
        let (mut rows, mut notes) = (Vec::new(), Vec::new());
        // Everything, children included, within 9 minutes; then clean up whatever happened.
        let outcome =
            tokio::time::timeout(Duration::from_secs(540), run(&env, &mut rows, &mut notes)).await;
        let failed = !matches!(outcome, Ok(Ok(())));
        clean_up(&env, &format!("{server}/postgres"), &database, failed).await;
        table::print(&rows);
        println!();
        for note in &notes {
            println!("- {note}");
        }
        match outcome {
            Ok(result) => result,
            Err(_) => anyhow::bail!("the bench did not finish in 9 minutes"),
        }
    })
}

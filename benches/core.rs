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
#[path = "core/load.rs"]
mod load;
#[path = "core/pipeline.rs"]
mod pipeline;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use api::Account;
use child::{Env, Humit};
use futures::StreamExt;
use load::{closed_loop, Run};

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

/// One line of the table.
struct Row {
    what: String,
    humit: String,
    baseline: String,
    ratio: String,
    target: String,
    met: Option<bool>,
}

fn rate(r: f64) -> String {
    format!("{r:.0}/s")
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A throughput row: humit `h` against baseline `b`, target `min` (a fraction) if any.
fn vs(what: String, h: &Run, base: (String, f64), min: Option<f64>) -> Row {
    let ratio = h.rate() / base.1;
    let failed = if h.failed > 0 {
        format!(" ({} failed)", h.failed)
    } else {
        String::new()
    };
    Row {
        what,
        humit: format!("{}{failed}", rate(h.rate())),
        baseline: format!("{}: {}", base.0, rate(base.1)),
        ratio: format!("{:.0}%", ratio * 100.0),
        target: min.map_or("—".into(), |m| format!("≥ {:.0}%", m * 100.0)),
        met: min.map(|m| ratio >= m),
    }
}

/// `PUT /users/<u>` at `conns` connections, each on its own account.
async fn commands(h: &Humit, accounts: &Arc<Vec<Account>>, conns: usize, tag: &str) -> Run {
    let http = api::client(conns);
    let base: Arc<str> = h.base.as_str().into();
    let accounts = accounts.clone();
    let tag = tag.to_string();
    closed_loop(conns, WARMUP, MEASURE, move |w, i| {
        let (http, base, accounts) = (http.clone(), base.clone(), accounts.clone());
        let request_id = format!("bench-{tag}-{conns}-{w}-{i}");
        async move { api::update(&http, &base, &accounts[w], i, &request_id).await }
    })
    .await
}

/// Mean seconds per observation of histogram `name` between two scrapes.
fn mean(before: (f64, f64), after: (f64, f64)) -> f64 {
    let n = after.1 - before.1;
    if n > 0.0 {
        (after.0 - before.0) / n
    } else {
        0.0
    }
}

/// Where a `PUT` spends its time, from humit's own `/metrics`, around one command row.
async fn command_row_with_breakdown(
    h: &Humit,
    accounts: &Arc<Vec<Account>>,
    conns: usize,
    tag: &str,
) -> (Run, String) {
    let http = api::client(1);
    let scrape = |name: &'static str, label: &'static str| {
        let http = http.clone();
        let base = h.base.clone();
        async move { api::metric(&http, &base, name, label).await }
    };
    let cmd0 = scrape("humit_command_duration_seconds", "aggregate=\"User\"").await;
    let wait0 = scrape("humit_consistency_wait_seconds", "").await;
    let http0 = scrape("humit_http_request_duration_seconds", "method=\"PUT\"").await;
    let run = commands(h, accounts, conns, tag).await;
    let cmd = mean(
        cmd0,
        scrape("humit_command_duration_seconds", "aggregate=\"User\"").await,
    );
    let wait = mean(wait0, scrape("humit_consistency_wait_seconds", "").await);
    let req = mean(
        http0,
        scrape("humit_http_request_duration_seconds", "method=\"PUT\"").await,
    );
    let note = format!(
        "{tag}, {conns} connections: a PUT took {:.1} ms in humit on average; its User command \
         (load, append, position read-back) {:.1} ms, the read-your-writes wait {:.1} ms",
        req * 1000.0,
        cmd * 1000.0,
        wait * 1000.0
    );
    (run, note)
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
    let http = api::client(64);
    let made: Vec<anyhow::Result<Account>> = futures::stream::iter(0..CONNS[2])
        .map(|i| {
            let (http, base) = (http.clone(), a.base.clone());
            async move { api::create_account(&http, &base, &format!("bench_{i}")).await }
        })
        .buffered(8)
        .collect()
        .await;
    let accounts: Arc<Vec<Account>> = Arc::new(made.into_iter().collect::<Result<_, _>>()?);
    let one = api::create_account(&http, &a.base, "bench_one").await?;
    let people: Vec<anyhow::Result<(String, String)>> = futures::stream::iter(0..READERS)
        .map(|i| {
            let (http, base) = (http.clone(), a.base.clone());
            async move { api::humit_signup(&http, &base, &format!("benchsp{i}")).await }
        })
        .buffered(8)
        .collect()
        .await;
    let people: Arc<Vec<(String, String)>> =
        Arc::new(people.into_iter().collect::<Result<_, _>>()?);

    rss.push((
        "set-up (33 accounts, 16 humit sign-ups)",
        a.status_kib("VmRSS:"),
    ));

    // A real command's event: the raw inserts store the same payload and metadata.
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

    // Commands with read-your-writes, and the raw-insert floor.
    let mut ryw = Vec::new();
    for conns in CONNS {
        pipeline::settle(&pool).await?;
        let (run, note) =
            command_row_with_breakdown(&a, &accounts, conns, "read-your-writes").await;
        if conns == 8 {
            notes.push(note);
        }
        ryw.push(run);
    }
    rss.push(("command rows", a.status_kib("VmRSS:")));
    let mut raw = Vec::new();
    for conns in CONNS {
        raw.push(
            baseline::raw_inserts(
                &env.database_url,
                conns,
                WARMUP,
                BASE_MEASURE,
                &payload,
                &metadata,
            )
            .await?
            .rate(),
        );
    }
    for (i, conns) in CONNS.into_iter().enumerate() {
        rows.push(vs(
            format!("`PUT /users/<u>`, read-your-writes, {conns} conn"),
            &ryw[i],
            (format!("raw 1-row INSERT tx, {conns} conn"), raw[i]),
            (conns > 1).then_some(0.25),
        ));
    }

    // Logins to distinct accounts against the argon2id bound.
    pipeline::settle(&pool).await?;
    let base: Arc<str> = a.base.as_str().into();
    let http16 = api::client(READERS);
    let (h, b, accs) = (http16.clone(), base.clone(), accounts.clone());
    let logins = closed_loop(READERS, WARMUP, MEASURE, move |w, _| {
        let (http, base, accounts) = (h.clone(), b.clone(), accs.clone());
        async move {
            api::login(&http, &base, &accounts[w].username)
                .await
                .is_ok()
        }
    })
    .await;
    rss.push(("login row", a.status_kib("VmRSS:")));
    let cores = child::cores();
    let argon = baseline::argon2_verifies(cores, BASE_MEASURE).await;
    rows.push(vs(
        format!("logins `POST /auth/token/`, {READERS} conns, distinct accounts"),
        &logins,
        (format!("argon2id verify, {cores} threads"), argon),
        Some(0.9),
    ));

    // 64 logins to one account at once.
    let http64 = api::client(64);
    let burst: Vec<Option<u16>> = futures::future::join_all((0..64).map(|_| {
        let (http, base, username) = (http64.clone(), a.base.clone(), one.username.clone());
        async move {
            let body = serde_json::json!({"username": username, "password": api::PASSWORD});
            let sent = http.post(format!("{base}/auth/token/")).json(&body).send();
            sent.await.ok().map(|r| r.status().as_u16())
        }
    }))
    .await;
    let mut statuses = std::collections::BTreeMap::new();
    for status in burst.iter().filter(|s| !s.is_some_and(|s| s < 300)) {
        let key = status.map_or("no answer".to_string(), |s| s.to_string());
        *statuses.entry(key).or_insert(0) += 1;
    }
    let refused: usize = statuses.values().sum();
    let detail: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    rss.push(("64-login burst", a.status_kib("VmRSS:")));
    rows.push(Row {
        what: "64 concurrent logins to one account: non-2xx".into(),
        humit: if refused == 0 {
            "0".into()
        } else {
            format!("{refused} ({})", detail.join(", "))
        },
        baseline: "—".into(),
        ratio: "—".into(),
        target: "0".into(),
        met: Some(refused == 0),
    });

    // Reads.
    pipeline::settle(&pool).await?;
    let (h, b, accs) = (http16.clone(), base.clone(), accounts.clone());
    let gets = closed_loop(READERS, WARMUP, MEASURE, move |w, _| {
        let (http, base, accounts) = (h.clone(), b.clone(), accs.clone());
        async move {
            let account = &accounts[w];
            let url = format!("{base}/users/{}", account.username);
            api::ok(http.get(url).bearer_auth(&account.access)).await
        }
    })
    .await;
    let ids: Vec<String> = accounts[..READERS]
        .iter()
        .map(|a| a.user_id.clone())
        .collect();
    let get_base =
        baseline::selects(&env.database_url, READERS, WARMUP, BASE_MEASURE, ids, false).await?;
    rows.push(vs(
        format!("`GET /users/<u>`, {READERS} conns"),
        &gets,
        (
            format!("its SELECT over sqlx, {READERS} conns"),
            get_base.rate(),
        ),
        Some(0.5),
    ));
    let (h, b, ppl) = (http16.clone(), base.clone(), people.clone());
    let discover = closed_loop(READERS, WARMUP, MEASURE, move |w, _| {
        let (http, base, people) = (h.clone(), b.clone(), ppl.clone());
        async move {
            let token = format!("humit {}", people[w].1);
            let url = format!("{base}/api/users/discover/");
            api::ok(http.get(url).header("Authorization", token)).await
        }
    })
    .await;
    let viewers: Vec<String> = people.iter().map(|p| p.0.clone()).collect();
    let disc_base = baseline::selects(
        &env.database_url,
        READERS,
        WARMUP,
        BASE_MEASURE,
        viewers,
        true,
    )
    .await?;
    rows.push(vs(
        format!("humit `GET /api/users/discover/`, {READERS} conns"),
        &discover,
        (
            format!("its 2 SELECTs over sqlx, {READERS} conns"),
            disc_base.rate(),
        ),
        Some(0.5),
    ));

    // Token refresh.
    let (h, b, accs) = (http16.clone(), base.clone(), accounts.clone());
    let refreshes = closed_loop(READERS, WARMUP, MEASURE, move |w, _| {
        let (http, base, accounts) = (h.clone(), b.clone(), accs.clone());
        async move {
            let body = serde_json::json!({"refresh": accounts[w].refresh});
            api::ok(http.post(format!("{base}/auth/token/refresh/")).json(&body)).await
        }
    })
    .await;
    let jwt = baseline::jwt_refreshes(&env.jwt_secret, cores, BASE_MEASURE).await;
    let mut row = vs(
        format!("`POST /auth/token/refresh/`, {READERS} conns"),
        &refreshes,
        (
            format!("JWT verify + sign in-process, {cores} threads"),
            jwt,
        ),
        None,
    );
    row.target = "— (none set)".into();
    rows.push(row);
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
    let mut nowait = Vec::new();
    let mut backlog = Vec::new();
    for conns in CONNS {
        pipeline::settle(&pool).await?;
        let (run, note) = command_row_with_breakdown(&b, &accounts, conns, "no wait").await;
        if conns == 8 {
            notes.push(note);
        }
        nowait.push(run);
        let caught_up = pipeline::settle(&pool).await?;
        backlog.push(format!("{conns} conn {:.1} s", caught_up.as_secs_f64()));
    }
    notes.push(format!(
        "After each no-wait row the relay and projections needed this long to catch up: {}.",
        backlog.join(", ")
    ));
    for (i, conns) in CONNS.into_iter().enumerate() {
        rows.push(vs(
            format!("`PUT /users/<u>`, no wait (`HUMIT_CONSISTENCY_WAIT_MS=0`), {conns} conn"),
            &nowait[i],
            (format!("raw 1-row INSERT tx, {conns} conn"), raw[i]),
            Some(if conns == 1 { 0.3 } else { 0.5 }),
        ));
    }

    // Projection lag at half the highest command rate.
    let max = nowait.iter().map(Run::rate).fold(0.0, f64::max);
    let lag = pipeline::projection_lag(
        &b,
        &pool,
        accounts.clone(),
        max / 2.0,
        Duration::from_secs(5),
    )
    .await?;
    let (n50, n99) = baseline::notify_latency(&env.database_url, 200).await?;
    for (q, h, base) in [("p50", lag.p50, n50), ("p99", lag.p99, n99)] {
        rows.push(Row {
            what: format!(
                "projection lag {q} (`users`), {:.0} PUT/s offered, {} events",
                lag.offered, lag.samples
            ),
            humit: ms(h),
            baseline: format!("INSERT tx + NOTIFY → LISTEN, 1 conn: {}", ms(base)),
            ratio: format!("{:.1}×", h.as_secs_f64() / base.as_secs_f64().max(1e-9)),
            target: if q == "p99" {
                "≤ 50 ms".into()
            } else {
                "—".into()
            },
            met: (q == "p99").then_some(h <= Duration::from_millis(50)),
        });
    }

    // Relay drain against confirmed publishing of as many messages of the same size.
    let body = pipeline::noise_envelope();
    let published = baseline::publish(
        &env.amqp_url,
        &format!("{}.baseline", env.exchange),
        DRAIN_EVENTS as usize,
        1024,
        &body,
    )
    .await?;
    let drain = pipeline::relay_drain(&pool, DRAIN_EVENTS, 4).await?;
    let ratio = drain.rate / published;
    rows.push(Row {
        what: format!(
            "relay drain of {DRAIN_EVENTS} events ({} B each)",
            body.len()
        ),
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

    let mib = |kib: u64| format!("{:.0} MiB", kib as f64 / 1024.0);
    rows.push(Row {
        what: "resident memory of humit, idle after start".into(),
        humit: mib(idle_kib),
        baseline: "—".into(),
        ratio: "—".into(),
        target: "—".into(),
        met: None,
    });
    let peak = hwm_a.max(hwm_b);
    rows.push(Row {
        what: "resident memory of humit, peak (VmHWM of either child)".into(),
        humit: format!(
            "{} (default {}, no wait {})",
            mib(peak),
            mib(hwm_a),
            mib(hwm_b)
        ),
        baseline: "—".into(),
        ratio: "—".into(),
        target: "≤ 150 MiB".into(),
        met: Some(peak <= 150 * 1024),
    });
    pool.close().await;
    Ok(())
}

fn print_table(rows: &[Row]) {
    println!("| what | humit | baseline (same run) | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        println!(
            "| {} | {} | {} | {} | {} | {met} |",
            r.what, r.humit, r.baseline, r.ratio, r.target
        );
    }
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
        print_table(&rows);
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

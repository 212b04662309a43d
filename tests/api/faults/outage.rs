//! A store outage under a steady write load in both dialects: every answer is a success, a
//! 4xx, or a 503 in the dialect's envelope with `Retry-After`; never a 500, never a dropped
//! connection. `/ready` turns red within a second and green again without a restart. A
//! registration cut off by the outage either committed (the same request again finds the
//! name taken, by the one user who has it) or left nothing (the same request again creates
//! it): afterwards every name attempted belongs to exactly one user, in the log and in the
//! read model.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{proxy_postgres, PgFaults};
use crate::humit::{assert_error, spawn_configured, Humit};
use crate::probe::scalar_by;
use crate::techfesia::{create_root, seed_user, ROOT, ROOT_PASSWORD};

/// One answer seen under load.
#[derive(Debug, Clone)]
pub(super) struct Seen {
    pub(super) dialect: &'static str,
    pub(super) status: u16,
    pub(super) retry_after: Option<String>,
    pub(super) body: Value,
}

impl Seen {
    /// What [`send`] answered, in `dialect`.
    fn of(
        dialect: &'static str,
        (status, retry_after, body): (u16, Option<String>, Value),
    ) -> Self {
        Self {
            dialect,
            status,
            retry_after,
            body,
        }
    }
}

#[derive(Default)]
struct Log {
    pub(super) seen: Vec<Seen>,
    /// Every username a creation was attempted for, with the last status it got.
    pub(super) names: BTreeMap<String, u16>,
}

/// Sends one request; a dropped connection or a timeout reads as status 0.
pub(super) async fn send(
    client: &reqwest::Client,
    method: Method,
    url: String,
    auth: Option<String>,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let mut request = client.request(method, url);
    if let Some(auth) = auth {
        request = request.header("Authorization", auth);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = response.json().await.unwrap_or(Value::Null);
            (status, retry_after, body)
        }
        Err(_) => (0, None, Value::Null),
    }
}

/// Checks one answer: a 503 is in the dialect's envelope with `Retry-After`; nothing else
/// is 5xx or a dropped connection.
fn check(seen: &Seen) {
    assert!(
        seen.status != 0 && (seen.status < 500 || seen.status == 503),
        "{seen:?}"
    );
    if seen.status == 503 {
        assert_eq!(seen.retry_after.as_deref(), Some("2"), "{seen:?}");
        match seen.dialect {
            "humit" => assert_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &seen.body,
                StatusCode::SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
            ),
            _ => assert_eq!(
                seen.body,
                json!({"detail": "Service temporarily unavailable, try again later."}),
                "{seen:?}"
            ),
        }
    }
}

/// `GET /ready`: its status and body.
pub(super) async fn ready(app: &Humit) -> (u16, Value) {
    let (status, _, body) = send(
        &app.app.client,
        Method::GET,
        app.app.url("/ready"),
        None,
        None,
    )
    .await;
    (status, body)
}

/// Polls `/ready` until it answers `want`; answers how long that took.
pub(super) async fn ready_turns(app: &Humit, want: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = ready(app).await;
        if status == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "/ready still {status} {body} after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The workers of a [`Load`]: each registers Techfesia users, and follows/unfollows and
/// reads in the humit dialect, until `stop`.
fn spawn_workers(
    app: &Arc<Humit>,
    sessions: &[crate::humit::Session],
    stop: &Arc<AtomicBool>,
    log: &Arc<Mutex<Log>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..6)
        .map(|worker| {
            let (app, stop, log) = (app.clone(), stop.clone(), log.clone());
            let me = sessions[worker % sessions.len()].clone();
            let other = sessions[(worker + 1) % sessions.len()].user_id.clone();
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap();
            tokio::spawn(async move {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let name = format!("fault_w{worker}_n{i}");
                    let created = send(
                        &client,
                        Method::POST,
                        app.app.url("/users/"),
                        None,
                        Some(seed_user(&name, "Outage Password 1")),
                    )
                    .await;
                    let mut seen = vec![Seen::of("techfesia", created)];
                    let method = if i % 2 == 0 {
                        Method::POST
                    } else {
                        Method::DELETE
                    };
                    let followed = send(
                        &client,
                        method,
                        app.app.url(&format!("/api/users/{other}/follow/")),
                        Some(format!("humit {}", me.access)),
                        Some(json!({})),
                    )
                    .await;
                    seen.push(Seen::of("humit", followed));
                    let profile = send(
                        &client,
                        Method::GET,
                        app.app.url("/api/users/profile/"),
                        Some(format!("humit {}", me.access)),
                        None,
                    )
                    .await;
                    seen.push(Seen::of("humit", profile));
                    let backoff = seen.iter().any(|s| s.status == 503);
                    {
                        let mut log = log.lock().unwrap();
                        log.names.insert(name, seen[0].status);
                        log.seen.extend(seen);
                    }
                    if backoff {
                        // A client told to come back later waits a little.
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            })
        })
        .collect()
}

/// A steady write load in both dialects (6 clients), and what it saw.
pub(super) struct Load {
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Log>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Signs up three humit users (`<prefix>-<n>`), starts the clients, lets them run 1 s.
    pub(super) async fn start(app: &Arc<Humit>, prefix: &str) -> Self {
        let mut sessions = Vec::new();
        for n in 0..3 {
            sessions.push(app.signup(&format!("{prefix}-{n}")).await);
        }
        let stop = Arc::new(AtomicBool::new(false));
        let log = Arc::new(Mutex::new(Log::default()));
        let workers = spawn_workers(app, &sessions, &stop, &log);
        tokio::time::sleep(Duration::from_secs(1)).await;
        Self { stop, log, workers }
    }

    /// Stops the clients; [`check`]s every answer they saw; answers them, the names they
    /// tried to register (with the last status), and how many answers were 503.
    pub(super) async fn finish(self) -> (Vec<Seen>, BTreeMap<String, u16>, usize) {
        self.stop.store(true, Ordering::SeqCst);
        for worker in self.workers {
            worker.await.unwrap();
        }
        let log = self.log.lock().unwrap();
        for answer in &log.seen {
            check(answer);
        }
        let unavailable = log.seen.iter().filter(|s| s.status == 503).count();
        (log.seen.clone(), log.names.clone(), unavailable)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_store_outage_answers_503_never_500_and_loses_nothing() {
    let mut config = crate::helpers::test_config();
    let proxy = proxy_postgres(&mut config).await;
    let app = Arc::new(
        spawn_configured(|c| {
            c.database_url = config.database_url.clone();
            // Orphaned registrations are repaired after twice this: keep the test short.
            c.request_timeout_ms = 8_000;
        })
        .await,
    );
    let mut faults = PgFaults::on(&app.app.config).await;
    // A superuser, for the admin API's answer during the outage.
    create_root(&app.app).await;
    let (status, _, login) = send(
        &app.app.client,
        Method::POST,
        app.app.url("/auth/token/"),
        None,
        Some(json!({"username": ROOT, "password": ROOT_PASSWORD})),
    )
    .await;
    assert_eq!(status, 200, "{login}");
    let root = format!("Bearer {}", login["access"].as_str().unwrap());
    let load = Load::start(&app, "outage-sp").await;

    // 1. Every connection reset mid-query, new ones refused, for 3 s.
    proxy.down();
    let red_cut = ready_turns(&app, 503, Duration::from_secs(3)).await;
    assert!(
        red_cut < Duration::from_secs(1),
        "/ready red after {red_cut:?}"
    );
    let (status, retry_after, body) = send(
        &app.app.client,
        Method::GET,
        app.app.url("/admin/events?limit=1"),
        Some(root),
        None,
    )
    .await;
    assert_eq!(
        (status, retry_after.as_deref(), &body),
        (
            503,
            Some("2"),
            &json!({"error": {"code": "UNAVAILABLE", "message": "the store is temporarily unavailable; try again"}})
        )
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    proxy.up();
    let green_cut = ready_turns(&app, 200, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 2. An administrator (or a shutting-down server) ends every backend, three times.
    let mut terminated = 0;
    for _ in 0..3 {
        terminated += faults.terminate().await;
        tokio::time::sleep(Duration::from_millis(400)).await;
    }
    assert!(terminated > 0);
    ready_turns(&app, 200, Duration::from_secs(10)).await;

    // 3. A failover to a read-only standby, and back.
    faults.read_only(true).await;
    let red_ro = ready_turns(&app, 503, Duration::from_secs(3)).await;
    assert!(
        red_ro < Duration::from_secs(1),
        "/ready red after {red_ro:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    faults.read_only(false).await;
    let green_ro = ready_turns(&app, 200, Duration::from_secs(10)).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (seen, names, unavailable) = load.finish().await;
    let ok = seen.iter().filter(|s| s.status < 300).count();
    assert!(unavailable > 0, "the faults never reached a request");
    assert!(ok > 0);

    let retried = every_name_once(&app, &names).await;
    eprintln!(
        "outage: {} requests, {} ok, {unavailable} answered 503, 0 5xx other than 503, {terminated} backends terminated; /ready red {red_cut:?} after the cut, green {green_cut:?} after it mended, red {red_ro:?} after the switch to read-only, green {green_ro:?} after the switch back; {} names ({retried} retried) each one user",
        seen.len(),
        ok,
        names.len()
    );
}

/// Every name whose creation was cut off is created by the same request again, or found
/// taken (it committed); a name whose registration was cut between its commands is freed
/// once it is an orphan. Then every name attempted is exactly one read-model row. Answers
/// how many were retried.
pub(super) async fn every_name_once(app: &Arc<Humit>, names: &BTreeMap<String, u16>) -> usize {
    let retry: Vec<String> = names
        .iter()
        .filter(|(_, status)| **status != 201)
        .map(|(name, _)| name.clone())
        .collect();
    let retried = retry.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    futures::stream::iter(retry)
        .for_each_concurrent(4, |name| {
            let app = app.clone();
            async move {
                loop {
                    let (status, _, body) = send(
                        &app.app.client,
                        Method::POST,
                        app.app.url("/users/"),
                        None,
                        Some(seed_user(&name, "Outage Password 1")),
                    )
                    .await;
                    match status {
                        201 => return,
                        422 if body["errors"]["username"].is_string() => {
                            let rows: i64 = scalar_by(
                                &app.app.pool,
                                "SELECT count(*) FROM rm_users WHERE username = $1",
                                &name,
                            )
                            .await;
                            if rows == 1 {
                                return;
                            }
                        }
                        other => assert!(other < 500 || other == 503, "{other} {body}"),
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{name} neither created nor found"
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        })
        .await;
    app.app.settle().await;
    for name in names.keys() {
        let rows: i64 = scalar_by(
            &app.app.pool,
            "SELECT count(*) FROM rm_users WHERE username = $1",
            name,
        )
        .await;
        assert_eq!(rows, 1, "{name}");
    }
    retried
}

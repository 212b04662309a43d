//! Test harness: a humit process per test, with its own database, exchange and data dir,
//! on port 0, against the real Postgres and RabbitMQ; a test subscriber on the exchange; a
//! TCP proxy in front of RabbitMQ to simulate a broker outage for one app only.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aggregates::social::{RelationCommand, StationFollow};
use aggregates::station::{Station, StationCommand};
use futures::StreamExt;
use humit::config::Config;
use humit::startup::{Application, Mode};
use humit::state::AppState;
use humit::store::CommandContext;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use projections::Envelope;
use sqlx::PgPool;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

/// The RabbitMQ the tests use.
pub fn amqp_url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

/// The Postgres server the tests use (a database per test is created on it).
pub fn postgres_base() -> String {
    std::env::var("HUMIT_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A fresh, isolated configuration: its own database, exchange and data dir.
pub fn test_config() -> Config {
    let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
    let mut config = Config::from_env();
    config.database_url = format!("{}/humit_test_{id}", postgres_base());
    config.database_read_url = None;
    config.amqp_url = amqp_url();
    config.exchange = format!("humit_test_{id}");
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.public_url = None;
    config.data_dir = std::env::temp_dir().join(format!("humit_test_{id}"));
    config.queue_expires_ms = Some(600_000);
    config.jwt_secret = Some(format!("test-secret-{id}-{id}-{id}"));
    config.jwt_key_file = None;
    config.claim_key = Some(format!("test-claim-key-{id}-{id}-{id}"));
    config.smtp_url = None;
    config.s3_bucket = None;
    config.hash_concurrency = 2;
    // Tests make many requests from one address; the limit's own tests lower it.
    config.anon_rate_per_minute = 100_000;
    config.anon_burst = 100_000;
    config
}

/// Creates and migrates the database at `url`, as a child process or a restore expects it.
pub async fn migrate(url: &str) {
    humit::store::db::migrate(url)
        .await
        .expect("database created and migrated");
}

/// A running humit process. It lives as long as this value: dropping it, at the end of a
/// test or in the unwinding of a failed one, sends the stop signal (see `StopOnDrop`).
/// [`TestApp::stop`] is for a test that needs the app gone before it goes on (a restart on
/// the same database, a check of what it left behind).
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub address: String,
    /// The bound port.
    pub port: u16,
    /// Its configuration.
    pub config: Config,
    /// Its state (command bus, pools, tokens).
    pub state: AppState,
    /// A pool on its database.
    pub pool: PgPool,
    /// An HTTP client.
    pub client: reqwest::Client,
    stop: StopOnDrop,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Sends an app's stop signal when dropped. It does not wait: a test's runtime is dropped
/// right after the test ends, cancelling whatever the app was still doing, as it always did
/// for a test that failed; the signal is what stops an app dropped while its test goes on.
struct StopOnDrop(Arc<watch::Sender<bool>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.send_replace(true);
    }
}

impl TestApp {
    /// Stops the process and waits (up to 10 s) until it has stopped.
    pub async fn stop(self) {
        self.stop.0.send_replace(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.handle).await;
    }

    /// `address` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// `GET path`, with no credentials; the response, whatever its status.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// Waits until every projection applied everything in the log.
    pub async fn settle(&self) {
        let head = humit::store::log::head(&self.pool).await.unwrap();
        let names: Vec<&str> = projections::all().iter().map(|p| p.name()).collect();
        assert!(
            self.state
                .checkpoints
                .wait(&names, head, Duration::from_secs(20))
                .await,
            "projections did not reach {head}"
        );
    }
}

/// Starts humit with `config` in `mode`.
pub async fn spawn_with(config: Config, mode: Mode) -> TestApp {
    humit::telemetry::init_tracing(false);
    let app = Application::build(config.clone(), mode)
        .await
        .expect("app builds");
    let port = app.port();
    let state = app.state().clone();
    let stop = app.stop_handle();
    let handle = tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        port,
        pool: state.pool.clone(),
        state,
        config,
        client: reqwest::Client::new(),
        stop: StopOnDrop(stop),
        handle,
    }
}

/// Starts humit (HTTP, relay, projectors) on a fresh database and exchange.
pub async fn spawn_app() -> TestApp {
    spawn_with(test_config(), Mode::ALL).await
}

/// A subscriber with its own exclusive queue bound to `#` on the exchange.
pub struct Subscriber {
    rx: mpsc::UnboundedReceiver<Envelope>,
    _conn: lapin::Connection,
}

impl Subscriber {
    /// Binds a new queue to `exchange` (declaring the exchange if needed).
    pub async fn bind(exchange: &str, pattern: &str) -> Self {
        let conn = lapin::Connection::connect(&amqp_url(), lapin::ConnectionProperties::default())
            .await
            .expect("rabbitmq reachable");
        let channel = conn.create_channel().await.unwrap();
        humit::bus::broker::declare_exchange(&channel, exchange)
            .await
            .unwrap();
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
            .await
            .unwrap();
        channel
            .queue_bind(
                queue.name().clone(),
                exchange.into(),
                pattern.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut consumer = channel
            .basic_consume(
                queue.name().clone(),
                "test".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(Ok(delivery)) = consumer.next().await {
                let envelope: Envelope = serde_json::from_slice(&delivery.data).expect("envelope");
                let _ = delivery.ack(BasicAckOptions::default()).await;
                if tx.send(envelope).is_err() {
                    break;
                }
            }
        });
        Self { rx, _conn: conn }
    }

    /// The next `n` messages, failing after `timeout`.
    pub async fn take(&mut self, n: usize, timeout: Duration) -> Vec<Envelope> {
        let mut out = Vec::new();
        let deadline = tokio::time::Instant::now() + timeout;
        while out.len() < n {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(e)) => out.push(e),
                _ => panic!("received {} of {n} messages", out.len()),
            }
        }
        out
    }

    /// Every message arriving within `quiet` of the previous one.
    pub async fn drain(&mut self, quiet: Duration) -> Vec<Envelope> {
        let mut out = Vec::new();
        while let Ok(Some(e)) = tokio::time::timeout(quiet, self.rx.recv()).await {
            out.push(e);
        }
        out
    }
}

/// A TCP proxy (to RabbitMQ, or to Postgres with [`BrokerProxy::to`]) that can be cut:
/// closing every connection (a reset in the middle of whatever was in flight) and refusing
/// new ones.
pub struct BrokerProxy {
    /// The URL through the proxy (AMQP for [`BrokerProxy::start`]).
    pub url: String,
    up: Arc<AtomicBool>,
    cut: watch::Sender<u64>,
}

impl BrokerProxy {
    /// Starts a proxy to 127.0.0.1:5672.
    pub async fn start() -> Self {
        Self::to("127.0.0.1:5672", |addr| {
            format!("amqp://guest:guest@{addr}/%2f")
        })
        .await
    }

    /// Starts a proxy to `target`; `url` makes the URL through it from its address.
    pub async fn to(target: &str, url: impl FnOnce(SocketAddr) -> String) -> Self {
        let target = target.to_string();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let (cut, cut_rx) = watch::channel(0u64);
        let up2 = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    break;
                };
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let mut cut_rx = cut_rx.clone();
                // Only cuts after this connection was made concern it.
                cut_rx.mark_unchanged();
                let target = target.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(&target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        Self {
            url: url(addr),
            up,
            cut,
        }
    }

    /// Cuts every connection and refuses new ones.
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    /// Accepts connections again.
    pub fn up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Creates station `id` as `ctx`; answers the position reached.
pub async fn create_station_as(app: &TestApp, id: &str, ctx: &CommandContext) -> Option<i64> {
    let command = StationCommand::CreateStation {
        station_id: id.into(),
        name: format!("Station {id}"),
        description: "test".into(),
        image_url: String::new(),
        created_by: "admin".into(),
        now: chrono::Utc::now(),
    };
    app.state
        .commands
        .execute::<Station>(id, command, ctx)
        .await
        .expect("station created")?
        .position()
        .await
}

/// Creates station `id` as the system; answers the position of its event.
pub async fn create_station(app: &TestApp, id: &str) -> i64 {
    create_station_as(app, id, &CommandContext::system())
        .await
        .expect("an event was stored")
}

/// `user` follows (`on`) or unfollows `station`; answers the position reached, if any.
pub async fn set_station_follow(app: &TestApp, user: &str, station: &str, on: bool) -> Option<i64> {
    let command = RelationCommand::set(on, user.into(), station.into(), chrono::Utc::now());
    app.state
        .commands
        .execute::<StationFollow>(
            &format!("{user}:{station}"),
            command,
            &CommandContext::system(),
        )
        .await
        .expect("follow command")?
        .position()
        .await
}

/// Publishes a copy of `event` onto the app's exchange, as a redelivery would.
pub async fn republish(app: &TestApp, event: &Envelope) {
    let conn = humit::bus::broker::connect(&app.config.amqp_url)
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    channel
        .basic_publish(
            app.config.exchange.as_str().into(),
            event.routing_key().into(),
            lapin::options::BasicPublishOptions::default(),
            &serde_json::to_vec(event).unwrap(),
            lapin::BasicProperties::default(),
        )
        .await
        .unwrap()
        .await
        .unwrap();
    let _ = conn.close(200, "done".into()).await;
}

/// Every row of `table`, as JSON, in a stable order: to compare a read model before and after.
pub async fn snapshot(pool: &PgPool, table: &str) -> Vec<serde_json::Value> {
    sqlx::query_scalar(&format!(
        "SELECT to_jsonb(t) FROM {table} t ORDER BY to_jsonb(t)::text"
    ))
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Asserts that a child process (the `humit` binary) succeeded, showing its stderr if not.
pub fn assert_success(out: &std::process::Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
}

/// Polls `check` until it is true, failing after `timeout`.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

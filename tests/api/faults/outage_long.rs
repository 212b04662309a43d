//! The long outages (`scripts/battery.sh`): Postgres itself stopped for 10 s (a private
//! cluster the script starts), and RabbitMQ unreachable for 30 s, each under the load of
//! [`super::outage`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::outage::{every_name_once, ready, ready_turns, Load};
use crate::humit::spawn_configured;

/// Runs `pg_ctl <args>` on the battery's private cluster (through `scripts/battery.sh pg`,
/// which runs it as the `postgres` user).
fn pg_ctl(args: &[&str]) {
    let status =
        std::process::Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/battery.sh"))
            .arg("pg")
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("scripts/battery.sh runs");
    assert!(status.success(), "pg_ctl {args:?}");
}

/// Postgres itself stopped for 10 s under load (long battery: `scripts/battery.sh` runs it
/// against a private cluster it starts, never the shared one).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long battery: scripts/battery.sh (a private Postgres cluster)"]
async fn postgres_stopped_for_ten_seconds_answers_503_and_loses_nothing() {
    let app = Arc::new(spawn_configured(|c| c.request_timeout_ms = 8_000).await);
    let load = Load::start(&app, "stop-sp").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    pg_ctl(&["-m", "fast", "-w", "stop"]);
    let red = ready_turns(&app, 503, Duration::from_secs(3)).await;
    assert!(red < Duration::from_secs(1), "/ready red after {red:?}");
    tokio::time::sleep(Duration::from_secs(10)).await;
    pg_ctl(&["-w", "-l", "/dev/null", "start"]);
    let green = ready_turns(&app, 200, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (seen, names, unavailable) = load.finish().await;
    assert!(unavailable > 0, "the stop never reached a request");
    let retried = every_name_once(&app, &names).await;
    eprintln!(
        "postgres stop: {} requests, {unavailable} answered 503, 0 other 5xx; /ready red after {red:?}, green {green:?} after the restart; {} names ({retried} retried) each one user",
        seen.len(),
        names.len()
    );
}

/// RabbitMQ unreachable for 30 s under load (long battery): commands keep succeeding (no
/// 5xx at all), `/ready` stays 200 and reports the broker, and once it is back the relay
/// publishes every event of the log exactly once, in order, to a subscriber.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long battery: scripts/battery.sh"]
async fn a_broker_outage_of_thirty_seconds_keeps_writes_and_loses_nothing() {
    let broker = crate::helpers::BrokerProxy::start().await;
    let amqp = broker.url.clone();
    let app = Arc::new(spawn_configured(|c| c.amqp_url = amqp).await);
    let mut subscriber = crate::helpers::Subscriber::bind(&app.app.config.exchange, "#").await;
    let load = Load::start(&app, "broker-sp").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.down();
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(30) {
        let (status, body) = ready(&app).await;
        assert_eq!(status, 200, "{body}");
        if outage.elapsed() > Duration::from_secs(5) {
            assert_eq!(body["rabbitmq"], "unreachable", "{body}");
            assert_eq!(body["status"], "degraded", "{body}");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    broker.up();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (seen, _, _) = load.finish().await;
    assert!(
        seen.iter().all(|s| s.status != 0 && s.status < 500),
        "a write failed"
    );
    app.app.settle().await;
    let (head, doubled) = every_event_once(&app, &mut subscriber).await;
    eprintln!(
        "broker outage: 30 s; {} requests, 0 5xx, {} ok during and around it; {head} events relayed, 0 lost, {doubled} doubled",
        seen.len(),
        seen.iter().filter(|s| s.status < 300).count()
    );
}

/// Runs `scripts/cluster.sh` with `args`; it must succeed.
fn cluster(args: &[&str]) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/cluster.sh");
    let status = std::process::Command::new(script)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "cluster.sh {args:?}");
}

/// One node of a three-node RabbitMQ cluster (`scripts/cluster.sh`) stopped for 10 s under
/// load, with quorum queues (long battery: `scripts/battery.sh cluster` sets `AMQP_URL` to
/// the cluster's first node and `HUMIT_QUORUM_QUEUES=true`). Node 2 is stopped: humit is
/// connected to node 1 (it takes one URL), so this loses a replica, not its connection.
/// Commands keep succeeding, and every event of the log reaches a subscriber once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long battery: scripts/battery.sh cluster (a three-node RabbitMQ cluster)"]
async fn a_cluster_node_stopped_under_load_loses_and_doubles_nothing() {
    let app = Arc::new(spawn_configured(|c| assert!(c.quorum_queues, "HUMIT_QUORUM_QUEUES")).await);
    let mut subscriber = crate::helpers::Subscriber::bind(&app.app.config.exchange, "#").await;
    let load = Load::start(&app, "cluster-sp").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    cluster(&["node-stop", "2"]);
    tokio::time::sleep(Duration::from_secs(10)).await;
    cluster(&["node-start", "2"]);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (seen, names, unavailable) = load.finish().await;
    assert_eq!(unavailable, 0, "a write failed while a node was away");
    every_name_once(&app, &names).await;
    let (head, doubled) = every_event_once(&app, &mut subscriber).await;
    eprintln!(
        "cluster: node 2 of 3 stopped 10 s; {} requests, 0 5xx; {} names each one user; {head} events relayed, 0 lost, {doubled} doubled",
        seen.len(),
        names.len()
    );
}

/// Every event of the log reached `subscriber` (bound before any was written), none twice.
/// Answers the head of the log and how many arrived twice (0).
async fn every_event_once(
    app: &crate::humit::Humit,
    subscriber: &mut crate::helpers::Subscriber,
) -> (i64, usize) {
    let head = humit::store::log::head(&app.app.pool).await.unwrap();
    let received = subscriber.drain(Duration::from_secs(5)).await;
    let positions: Vec<i64> = received.iter().map(|e| e.position).collect();
    let mut distinct = positions.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct, (1..=head).collect::<Vec<_>>(), "lost events");
    let doubled = positions.len() - distinct.len();
    assert_eq!(doubled, 0, "doubled events");
    (head, doubled)
}

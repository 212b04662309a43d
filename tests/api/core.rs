//! The event-sourced core: store, relay, projections, read-your-writes, against the real
//! Postgres and RabbitMQ. The log as history (rebuilds, upcasting, erasure) is in `history`.
//! (Over 400 lines: each test is one property of the pipeline end to end, failing on its own
//! when order, delivery once, an outage or the relay's single leader breaks; they share the
//! helpers above them.)

use std::collections::HashSet;
use std::time::{Duration, Instant};

use humit::bus::projector;
use humit::startup::Mode;
use humit::store::log;
use sqlx::PgPool;

use crate::helpers::{
    create_station, eventually, republish, set_station_follow, spawn_app, spawn_with, test_config,
    BrokerProxy, Subscriber,
};
use crate::probe::scalar;

pub(crate) const WAIT: Duration = Duration::from_secs(30);

pub(crate) async fn followers(pool: &PgPool, station: &str) -> i64 {
    sqlx::query_scalar("SELECT followers FROM rm_stations WHERE station_id = $1")
        .bind(station)
        .fetch_one(pool)
        .await
        .expect("station row")
}

/// Inserts an event row directly (as postgres-es does), inside `tx`.
async fn insert_raw(
    conn: &mut sqlx::PgConnection,
    aggregate_type: &str,
    id: &str,
    sequence: i64,
    event_type: &str,
    payload: serde_json::Value,
) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ($1, $2, $3, $4, '1', $5, '{}')",
    )
    .bind(aggregate_type)
    .bind(id)
    .bind(sequence)
    .bind(event_type)
    .bind(payload)
    .execute(conn)
    .await
    .expect("raw insert");
}

/// The positions of `aggregate`'s events once the sequencer has numbered all `count`.
async fn positions_of(pool: &PgPool, aggregate_type: &str, id: &str, count: usize) -> Vec<i64> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found: Vec<i64> = sqlx::query_scalar(
            "SELECT position FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
             AND position IS NOT NULL ORDER BY sequence",
        )
        .bind(aggregate_type)
        .bind(id)
        .fetch_all(pool)
        .await
        .unwrap();
        if found.len() == count {
            return found;
        }
        assert!(Instant::now() < deadline, "events of {id} not numbered");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_once_in_order(received: &[projections::Envelope], expected: &[i64]) {
    let mut seen = HashSet::new();
    let firsts: Vec<i64> = received
        .iter()
        .filter(|e| seen.insert(e.event_id))
        .map(|e| e.position)
        .collect();
    assert_eq!(firsts, expected, "every event once, in global order");
}

#[tokio::test]
async fn a_command_is_stored_with_metadata_relayed_in_order_and_projected() {
    let app = spawn_app().await;
    let mut subscriber = Subscriber::bind(&app.config.exchange, "#").await;
    let mut positions = Vec::new();
    for i in 0..5 {
        positions.push(create_station(&app, &format!("s{i}")).await);
    }
    assert!(positions.windows(2).all(|w| w[0] < w[1]));

    let received = subscriber.take(5, WAIT).await;
    assert_once_in_order(&received, &positions);
    let first = &received[0];
    assert_eq!(first.routing_key(), "Station.StationCreated");
    assert_eq!(first.aggregate_id, "s0");
    assert_eq!(first.metadata["actor_id"], "system");
    assert!(first.metadata["request_id"].is_string());
    assert!(first.metadata["occurred_at"].is_string());

    // Read-your-writes: once the command's position is reached, the read model shows it.
    let position = set_station_follow(&app, "u1", "s3", true).await;
    assert!(position.is_some());
    app.state.wait_for_position(position, &["social"]).await;
    assert_eq!(followers(&app.pool, "s3").await, 1);
}

#[tokio::test]
async fn read_your_writes_waits_for_the_named_projection() {
    let app = spawn_app().await;
    create_station(&app, "s").await;
    let mut waits = Vec::new();
    for i in 0..20 {
        let user = format!("u{i}");
        let started = Instant::now();
        let position = set_station_follow(&app, &user, "s", true).await;
        app.state.wait_for_position(position, &["social"]).await;
        waits.push(started.elapsed());
        assert_eq!(
            followers(&app.pool, "s").await,
            i + 1,
            "the write is visible at once"
        );
    }
    waits.sort();
    eprintln!(
        "command + read-your-writes wait, median {:?}, max {:?}",
        waits[10], waits[19]
    );
}

#[tokio::test]
async fn a_broker_outage_loses_nothing_and_applies_nothing_twice() {
    let proxy = BrokerProxy::start().await;
    let mut config = test_config();
    config.amqp_url = proxy.url.clone();
    let app = spawn_with(config, Mode::ALL).await;
    let mut subscriber = Subscriber::bind(&app.config.exchange, "#").await;
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(create_station(&app, &format!("s{i}")).await);
        expected.extend(set_station_follow(&app, "fan", &format!("s{i}"), true).await);
    }
    let mut received = subscriber.take(10, WAIT).await;

    proxy.down();
    for i in 5..25 {
        // Commands keep succeeding while the broker is unreachable.
        expected.push(create_station(&app, &format!("s{i}")).await);
        expected.extend(set_station_follow(&app, "fan", &format!("s{i}"), true).await);
        expected.extend(set_station_follow(&app, "fan", &format!("s{}", i - 5), false).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.up();

    // Delivery is at least once: a batch whose confirm was cut may come again (same event
    // ids). Collect until every event arrived, then check each arrived once in effect, in order.
    let head = expected.last().copied().unwrap();
    while !received.iter().any(|e| e.position == head) {
        received.extend(subscriber.take(1, WAIT).await);
    }
    received.extend(subscriber.drain(Duration::from_millis(500)).await);
    assert_once_in_order(&received, &expected);

    app.settle().await;
    let total: i64 = scalar(
        &app.pool,
        "SELECT COALESCE(SUM(followers), 0)::bigint FROM rm_stations",
    )
    .await;
    assert_eq!(total, 5, "fan follows exactly s20..s24");
    for i in 20..25 {
        assert_eq!(followers(&app.pool, &format!("s{i}")).await, 1);
    }
}

/// 32 writers append concurrently (each its own aggregates, several events per transaction)
/// while a reader tails `position > checkpoint` as the relay does: it sees every committed
/// event exactly once, positions dense and strictly increasing, each aggregate in order.
#[tokio::test]
async fn concurrent_writers_and_a_tailing_reader_skip_and_double_nothing() {
    let app = spawn_app().await;
    const WRITERS: usize = 32;
    const TXS: usize = 15;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let pool = app.pool.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut checkpoint = 0;
            loop {
                let done = stop.load(std::sync::atomic::Ordering::SeqCst);
                let batch = log::read_after(&pool, checkpoint, 100).await.unwrap();
                if batch.is_empty() && done {
                    return seen;
                }
                if let Some(last) = batch.last() {
                    checkpoint = last.position;
                }
                seen.extend(batch);
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        })
    };
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let pool = app.pool.clone();
        writers.push(tokio::spawn(async move {
            for t in 0..TXS {
                // Some transactions roll back first: they must leave no trace, and no gap.
                let attempts = if t % 5 == 4 { 2 } else { 1 };
                for attempt in 1..=attempts {
                    let mut tx = pool.begin().await.unwrap();
                    // Two aggregates per transaction, two events each.
                    for a in 0..2 {
                        for seq in 1..=2 {
                            let id = format!("w{w}-a{a}");
                            let sequence = (t * 2 + seq) as i64;
                            insert_raw(
                                &mut tx,
                                "Probe",
                                &id,
                                sequence,
                                "Probed",
                                serde_json::json!({"Probed": {"n": sequence}}),
                            )
                            .await;
                        }
                    }
                    if attempt < attempts {
                        tx.rollback().await.unwrap();
                    } else {
                        tx.commit().await.unwrap();
                    }
                }
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    // Every committed event gets its position, then the reader drains.
    eventually(WAIT, || async {
        let pending: i64 = scalar(
            &app.pool,
            "SELECT count(*) FROM events WHERE position IS NULL",
        )
        .await;
        pending == 0
    })
    .await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let total = WRITERS * TXS * 4;
    assert_eq!(seen.len(), total, "every committed event, once");
    let positions: Vec<i64> = seen.iter().map(|e| e.position).collect();
    let dense: Vec<i64> = (1..=total as i64).collect();
    assert_eq!(positions, dense, "dense and strictly increasing");
    let ids: HashSet<_> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), total, "no event twice");
    let mut last: std::collections::HashMap<&str, i64> = Default::default();
    for event in &seen {
        let previous = last.insert(event.aggregate_id.as_str(), event.sequence);
        assert_eq!(
            previous.unwrap_or(0) + 1,
            event.sequence,
            "aggregate {} in order",
            event.aggregate_id
        );
    }
}

/// A command's commit resolves to the position of its last event, read from the sequencer's
/// notification, and the relay publishes in that order.
#[tokio::test]
async fn a_commit_answers_the_position_of_its_last_event() {
    let app = spawn_app().await;
    let mut subscriber = Subscriber::bind(&app.config.exchange, "Station.#").await;
    let a = create_station(&app, "a").await;
    let b = create_station(&app, "b").await;
    assert_eq!(b, a + 1);
    let received = subscriber.take(2, WAIT).await;
    assert_once_in_order(&received, &[a, b]);
}

#[tokio::test]
async fn a_duplicated_message_changes_the_read_model_once() {
    let app = spawn_app().await;
    create_station(&app, "s").await;
    let position = set_station_follow(&app, "u", "s", true).await.unwrap();
    app.settle().await;
    assert_eq!(followers(&app.pool, "s").await, 1);

    // Deliver the follow again, twice, straight onto the exchange.
    let event = log::read_after(&app.pool, position - 1, 1)
        .await
        .unwrap()
        .remove(0);
    for _ in 0..2 {
        republish(&app, &event).await;
    }
    // A later event behind the duplicates in the queue proves they were consumed.
    create_station(&app, "later").await;
    app.settle().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(followers(&app.pool, "s").await, 1);
    // And applying it by hand is a no-op too.
    let social = projections::all()
        .into_iter()
        .find(|p| p.name() == "social")
        .unwrap();
    let outcome = projector::apply_once(&app.pool, social.as_ref(), &event)
        .await
        .unwrap();
    assert_eq!(outcome, projector::Outcome::Skipped);
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_while_later_events_flow() {
    let app = spawn_app().await;
    let mut conn = app.pool.acquire().await.unwrap();
    insert_raw(
        &mut conn,
        "Station",
        "bad",
        1,
        "StationCreated",
        serde_json::json!({"StationCreated": {"nonsense": true}}),
    )
    .await;
    // A later event of the same aggregate is parked behind it, to keep that aggregate's order.
    insert_raw(
        &mut conn,
        "Station",
        "bad",
        2,
        "StationCreated",
        serde_json::json!({"StationCreated": {"station_id": "bad", "name": "n", "description": "d",
            "image_url": "", "created_by": "x", "at": "2026-01-01T00:00:00Z"}}),
    )
    .await;
    let positions = positions_of(&app.pool, "Station", "bad", 2).await;
    let (poison, behind) = (positions[0], positions[1]);
    create_station(&app, "good").await;
    app.settle().await;

    let stations: Vec<String> = sqlx::query_scalar("SELECT station_id FROM rm_stations")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(stations, vec!["good".to_string()]);
    let dead: Vec<(i64, i32)> = sqlx::query_as(
        "SELECT position, attempts FROM projection_dead_letters WHERE projection = 'social' ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        dead,
        vec![(poison, app.config.max_attempts as i32), (behind, 0)]
    );

    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("humit_projection_dead_lettered{projection=\"social\"} 2"),
        "{metrics}"
    );
}

#[tokio::test]
async fn of_two_workers_exactly_one_relays_and_nothing_is_published_twice() {
    let config = test_config();
    let api = spawn_with(config.clone(), Mode::API).await;
    let w1 = spawn_with(config.clone(), Mode::WORKER).await;
    let w2 = spawn_with(config.clone(), Mode::WORKER).await;
    let mut subscriber = Subscriber::bind(&config.exchange, "#").await;
    eventually(WAIT, || async {
        use std::sync::atomic::Ordering::Relaxed;
        w1.state.relay_leader.load(Relaxed) ^ w2.state.relay_leader.load(Relaxed)
    })
    .await;

    let mut expected = Vec::new();
    for i in 0..30 {
        expected.push(create_station(&api, &format!("s{i}")).await);
    }
    let mut received = subscriber.take(30, WAIT).await;
    received.extend(subscriber.drain(Duration::from_millis(700)).await);
    assert_eq!(received.len(), 30, "no event published twice");
    assert_once_in_order(&received, &expected);

    // The leader goes away; the other takes over from the checkpoint.
    let (leader, standby) = if w1
        .state
        .relay_leader
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        (w1, w2)
    } else {
        (w2, w1)
    };
    leader.stop().await;
    let mut more = Vec::new();
    for i in 30..40 {
        more.push(create_station(&api, &format!("s{i}")).await);
    }
    let mut received = subscriber.take(10, WAIT).await;
    received.extend(subscriber.drain(Duration::from_millis(700)).await);
    assert_eq!(received.len(), 10);
    assert_once_in_order(&received, &more);
    assert!(standby
        .state
        .relay_leader
        .load(std::sync::atomic::Ordering::Relaxed));
}

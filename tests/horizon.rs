//! The sequencer's horizon, in a test binary of its own: a transaction held open holds back
//! every database's sequencer on the Postgres server (the horizon is cluster-wide), so it
//! must not run beside the other integration tests.

#[path = "api/helpers.rs"]
mod helpers;

use std::time::Duration;

use helpers::{spawn_app, Subscriber};

async fn insert_probe(conn: &mut sqlx::PgConnection, id: &str) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Probe', $1, 1, 'Probed', '1', '{\"Probed\": {}}', '{}')",
    )
    .bind(id)
    .execute(conn)
    .await
    .expect("insert");
}

/// A transaction that appended and stays open for 3 s while ten others commit: the later
/// events wait behind it (none is published, none is numbered past it), and once it commits
/// every event is published, its own first, dense and in order, none skipped.
#[tokio::test]
async fn a_transaction_held_open_delays_later_events_but_never_loses_or_reorders_them() {
    let app = spawn_app().await;
    let mut subscriber = Subscriber::bind(&app.config.exchange, "Probe.#").await;
    let mut held = app.pool.begin().await.unwrap();
    insert_probe(&mut held, "held").await;
    for i in 0..10 {
        let mut conn = app.pool.acquire().await.unwrap();
        insert_probe(&mut conn, &format!("later-{i}")).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        subscriber
            .drain(Duration::from_millis(300))
            .await
            .is_empty(),
        "nothing is published past the open transaction"
    );
    let numbered: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE position IS NOT NULL")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(numbered, 0, "nothing is numbered past the open transaction");
    held.commit().await.unwrap();

    let received = subscriber.take(11, Duration::from_secs(30)).await;
    assert_eq!(
        received[0].aggregate_id, "held",
        "the held transaction's event comes first"
    );
    let positions: Vec<i64> = received.iter().map(|e| e.position).collect();
    assert_eq!(
        positions,
        (1..=11).collect::<Vec<i64>>(),
        "dense, in order, none skipped"
    );
    let ids: std::collections::HashSet<_> = received.iter().map(|e| &e.aggregate_id).collect();
    assert_eq!(ids.len(), 11);
    app.stop().await;
}

//! A poison message among 1,000 events (long battery: `scripts/battery.sh poison`): an
//! event no projection can apply is dead-lettered after `HUMIT_MAX_ATTEMPTS`, while the
//! 1,000 events around it (written concurrently) are each applied exactly once.

use futures::StreamExt;

use crate::helpers::{create_station, spawn_app, TestApp};
use crate::probe::scalar;

/// Creates stations `<prefix>0` to `<prefix>499`, 16 at a time.
async fn create_500_stations(app: &TestApp, prefix: &str) {
    futures::stream::iter(0..500)
        .map(|i| async move { create_station(app, &format!("{prefix}{i}")).await })
        .buffer_unordered(16)
        .collect::<Vec<_>>()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "long battery: scripts/battery.sh poison"]
async fn a_poison_message_among_a_thousand_events_is_parked_and_the_rest_flow() {
    let app = spawn_app().await;
    let before = create_500_stations(&app, "flow-a");
    let poison = async {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('Station', 'poison', 1, 'StationCreated', '1', '{\"StationCreated\": {\"nonsense\": true}}', '{}')",
        )
        .execute(&app.pool)
        .await
        .unwrap();
    };
    tokio::join!(before, poison);
    create_500_stations(&app, "flow-b").await;
    app.settle().await;

    let stations: i64 = scalar(
        &app.pool,
        "SELECT count(*) FROM rm_stations WHERE station_id LIKE 'flow-%'",
    )
    .await;
    assert_eq!(stations, 1_000, "every good event applied");
    let distinct: i64 = scalar(
        &app.pool,
        "SELECT count(DISTINCT station_id) FROM rm_stations",
    )
    .await;
    assert_eq!(distinct, 1_000);
    let dead: Vec<(String, i32)> = sqlx::query_as(
        "SELECT aggregate_id, attempts FROM projection_dead_letters ORDER BY position",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        dead,
        vec![("poison".to_string(), app.config.max_attempts as i32)]
    );
    eprintln!(
        "poison: 1 poison message parked after {} attempts; 1,000 events around it applied once each",
        app.config.max_attempts
    );
}

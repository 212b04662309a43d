//! Start-up independent of history: the auth state starts from its snapshot plus the events
//! after it. Authentication events are bulk-inserted straight into the log (positions
//! included), a snapshot is taken, then the events it covers are rewritten into revocations:
//! a new process still knows every live session and applies the event after the snapshot,
//! so it read the snapshot and not the history. Its state holds only the live sessions, however
//! many past ones the log has.
//!
//! `HUMIT_SNAPSHOT_EVENTS` sets how many events (20,000 by default; the long battery uses
//! 1,000,000 and asserts the new process is ready in under 2 s).

use std::time::{Duration, Instant};

use humit::auth::{snapshot, Registry};
use humit::startup::{Application, Mode};
use sqlx::PgPool;

use crate::helpers::{spawn_with, test_config};
use crate::probe::scalar;

/// Users the bulk sessions belong to.
const USERS: i64 = 1_000;
/// One session in this many is still live (its refresh token expires in the future).
const LIVE_EVERY: i64 = 1_000;

/// Inserts `n` `SessionStarted` events after the head, in one statement; answers the new head.
async fn bulk_sessions(pool: &PgPool, n: i64) -> i64 {
    let head: i64 = scalar(pool, "SELECT coalesce(max(position), 0) FROM events").await;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, position)
         SELECT 'Session', 'bulk-' || g, 1, 'SessionStarted', '1',
                jsonb_build_object('SessionStarted', jsonb_build_object(
                    'user_id', 'bulk-user-' || (g % $2),
                    'method', 'password',
                    'expires_at', to_jsonb(CASE WHEN g % $3 = 0 THEN now() + interval '30 days'
                                                ELSE now() - interval '1 day' END),
                    'at', to_jsonb(now() - interval '31 days'))),
                '{}', $4 + g
         FROM generate_series(1, $1::bigint) g",
    )
    .bind(n)
    .bind(USERS)
    .bind(LIVE_EVERY)
    .bind(head)
    .execute(pool)
    .await
    .unwrap();
    head + n
}

/// Ends live session `bulk-<g>` with an event at the head.
async fn revoke(pool: &PgPool, g: i64) {
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version,
                             payload, metadata, position)
         SELECT 'Session', 'bulk-' || $1, 2, 'SessionRevoked', '1',
                jsonb_build_object('SessionRevoked', jsonb_build_object(
                    'user_id', 'bulk-user-' || ($1 % $2), 'at', to_jsonb(now()))),
                '{}', (SELECT max(position) + 1 FROM events)",
    )
    .bind(g)
    .bind(USERS)
    .execute(pool)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_process_starts_from_the_auth_snapshot_not_the_history() {
    let n: i64 = std::env::var("HUMIT_SNAPSHOT_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut config = test_config();
    config.auth_snapshot_secs = 0;
    let first = spawn_with(config.clone(), Mode::API).await;
    let pool = first.pool.clone();
    let inserted = Instant::now();
    let head = bulk_sessions(&pool, n).await;
    let insert_took = inserted.elapsed();

    // A process that read the whole history, and its snapshot.
    let replayed = Instant::now();
    let full = Registry::default();
    full.catch_up(&pool).await.unwrap();
    let replay_took = replayed.elapsed();
    let live = n / LIVE_EVERY;
    assert_eq!(full.sizes().0 as i64, live);
    let taken = snapshot::save(&full, &pool).await.unwrap();
    assert!(taken.is_some_and(|p| p >= head));
    first.stop().await;

    // The history the snapshot covers is rewritten (only a test may: erasure mode) so that
    // a process reading it would end every session; one event comes after the snapshot.
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("SET LOCAL humit.erasure = 'on'")
        .execute(&mut *tx)
        .await
        .unwrap();
    let rewritten = sqlx::query(
        "UPDATE events SET event_type = 'SessionRevoked',
                payload = jsonb_build_object('SessionRevoked', jsonb_build_object(
                    'user_id', payload->'SessionStarted'->>'user_id', 'at', to_jsonb(now())))
         WHERE aggregate_id LIKE 'bulk-%'",
    )
    .execute(&mut *tx)
    .await
    .unwrap()
    .rows_affected();
    tx.commit().await.unwrap();
    assert_eq!(rewritten as i64, n);
    revoke(&pool, LIVE_EVERY).await;

    let started = Instant::now();
    let app = Application::build(config.clone(), Mode::API).await.unwrap();
    let ready_in = started.elapsed();
    let registry = &app.state().registry;
    // Every live session is known (from the snapshot), less the one ended after it.
    assert_eq!(registry.sizes().0 as i64, live - 1);
    assert_eq!(registry.sizes().1, 1);
    // (`LIVE_EVERY` is a multiple of `USERS`: every live session is `bulk-user-0`'s.)
    let now = chrono::Utc::now() + chrono::Duration::seconds(1);
    assert_eq!(registry.open_sessions("bulk-user-0", now) as i64, live - 1);
    assert!(registry.position() > head);
    eprintln!(
        "snapshot: {n} session events (inserted in {insert_took:?}; a full replay took {replay_took:?}), {live} live; a new process built from the snapshot in {ready_in:?}"
    );
    if n >= 1_000_000 {
        assert!(ready_in < Duration::from_secs(2), "ready in {ready_in:?}");
    }
    let stop = app.stop_handle();
    let run = tokio::spawn(app.run_until_stopped());
    stop.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(10), run).await;
}

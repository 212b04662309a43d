//! The disaster-recovery drill: the event log and the per-person keys are all that is kept.
//! They are backed up with `pg_dump` (as the README says) and restored into an empty
//! database: no read model row, no checkpoint, no queue. `humit replay --all` (the real
//! binary) rebuilds every read model from them, and each table is row for row what the live
//! process built.

use std::process::Command;

use serde_json::{json, Value};
use sqlx::PgPool;

use crate::helpers::{migrate, test_config};
use crate::humit::{spawn, TRACK};
use crate::probe::scalar;

/// Every row of every read model and the checkpoints, as sorted JSON lines per table.
async fn read_models(pool: &PgPool) -> Vec<(String, Vec<String>)> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables
         WHERE schemaname = 'public' AND tablename LIKE 'rm\\_%' ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for table in tables {
        let rows: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1"
        ))
        .fetch_all(pool)
        .await
        .unwrap();
        out.push((table, rows));
    }
    let checkpoints: Vec<String> =
        sqlx::query_scalar("SELECT name || '=' || position FROM projection_checkpoints ORDER BY 1")
            .fetch_all(pool)
            .await
            .unwrap();
    out.push(("projection_checkpoints".into(), checkpoints));
    out
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_all_rebuilds_every_read_model_from_the_log_alone() {
    // Live traffic of both dialects.
    let humit = spawn().await;
    let staff = humit.staff("dr-staff").await;
    let mut stations = Vec::new();
    for n in 0..3 {
        stations.push(humit.station(&staff, &format!("DR Station {n}")).await);
    }
    let mut people = Vec::new();
    for n in 0..4 {
        let person = humit
            .registered(&format!("dr-sp-{n}"), &format!("dr_person_{n}"))
            .await;
        humit.follow_stations(&person, &stations).await;
        let (status, body) = humit
            .post(
                &person.access,
                "/api/hums/",
                json!({"station_id": stations[n % 3], "track_id": TRACK, "caption": format!("hum {n}")}),
            )
            .await;
        assert!(status.is_success(), "{body}");
        people.push(person);
    }
    for pair in people.windows(2) {
        humit.follow_user(&pair[0], &pair[1]).await;
        humit.mute_user(&pair[1], &pair[0]).await;
    }
    let (status, body) = humit
        .delete(
            &people[0].access,
            &format!("/api/users/{}/follow/", people[1].user_id),
        )
        .await;
    assert!(status.is_success(), "{body}");
    for n in 0..3 {
        let answer = humit
            .app
            .client
            .post(humit.app.url("/users/"))
            .json(&crate::techfesia::seed_user(
                &format!("dr_tf_{n}"),
                "Drill Password 1",
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);
    }
    humit.app.settle().await;
    let live = read_models(&humit.app.pool).await;
    let live_rows: usize = live.iter().map(|(_, rows)| rows.len()).sum();
    assert!(live_rows > 20, "too little to compare: {live:?}");

    // Backup: the log and the keys, nothing else. Restore into an empty database.
    let source = humit.app.config.database_url.clone();
    let restored = test_config().database_url;
    migrate(&restored).await;
    let dump = humit.app.config.data_dir.join("log.sql");
    std::fs::create_dir_all(&humit.app.config.data_dir).unwrap();
    run(Command::new("pg_dump")
        .args([
            "--data-only",
            "--table=events",
            "--table=subject_keys",
            "--file",
        ])
        .arg(&dump)
        .arg(&source));
    run(Command::new("psql")
        .args(["--quiet", "--set=ON_ERROR_STOP=1", "--file"])
        .arg(&dump)
        .arg(&restored));
    let pool = PgPool::connect(&restored).await.unwrap();
    let empty: i64 = scalar(
        &pool,
        "SELECT (SELECT count(*) FROM rm_users) + (SELECT count(*) FROM projection_checkpoints)",
    )
    .await;
    assert_eq!(empty, 0);

    // Rebuild everything from the log, with the real binary.
    let output = run(Command::new(env!("CARGO_BIN_EXE_humit"))
        .args(["--database-url", &restored, "replay", "--all"])
        .env(
            "HUMIT_JWT_SECRET",
            "dr-drill-secret-dr-drill-secret-dr-drill",
        ));
    for projection in projections::all() {
        assert!(
            output.contains(&format!("projection {} rebuilt", projection.name())),
            "{output}"
        );
    }
    let rebuilt = read_models(&pool).await;
    for ((table, live_rows), (rebuilt_table, rebuilt_rows)) in live.iter().zip(&rebuilt) {
        assert_eq!(table, rebuilt_table);
        assert_eq!(live_rows, rebuilt_rows, "{table} differs");
    }
    assert_eq!(live.len(), rebuilt.len());
    let tables: Vec<Value> = live
        .iter()
        .map(|(t, rows)| json!({t.as_str(): rows.len()}))
        .collect();
    eprintln!(
        "dr drill: {live_rows} rows identical after replay --all from the log alone: {tables:?}"
    );
}

//! The admin API: audit trail, time travel, projection status, rebuild under writes, dead
//! letters.

use std::time::Duration;

use aggregates::social::StationFollow;
use aggregates::station::{Station, StationCommand};
use aggregates::user::Role;
use humit::auth::jwt;
use humit::bus::projector;
use humit::identity::{self, NewUser};
use humit::store::{Actor, CommandContext};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_success, create_station_as, eventually, set_station_follow, snapshot, spawn_app, TestApp,
};
use crate::probe::scalar;

async fn account(app: &TestApp, username: &str, role: Role) -> (String, String) {
    let new = NewUser {
        username: username.into(),
        details: aggregates::user::UserDetails {
            email: Some(format!("{username}@example.com")),
            ..Default::default()
        },
        password: Some("correct horse battery".into()),
        identity: None,
        spotify_tokens: None,
        role,
    };
    let ctx = CommandContext::system();
    let (user_id, _) = identity::register(&app.state, new, &ctx).await.unwrap();
    let (pair, position) = identity::log_in(
        &app.state,
        &user_id,
        "correct horse battery",
        jwt::TECHFESIA,
        &ctx,
    )
    .await
    .unwrap();
    app.state.sync_auth(position).await;
    (user_id, pair.access)
}

async fn get(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    call(app, Method::GET, token, path).await
}

async fn post(app: &TestApp, token: &str, path: &str) -> (u16, Value) {
    call(app, Method::POST, token, path).await
}

/// `method path` as `token`, without a body; the status and the JSON body (`Null` if none).
async fn call(app: &TestApp, method: Method, token: &str, path: &str) -> (u16, Value) {
    let request = app.client.request(method, app.url(path)).bearer_auth(token);
    let res = request.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn only_superusers_reach_the_admin_api() {
    let app = spawn_app().await;
    let (_, normal) = account(&app, "plain", Role::Normal).await;
    let (_, staff) = account(&app, "helper", Role::Staff).await;
    let (status, body) = get(&app, "", "/admin/events").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(get(&app, &normal, "/admin/events").await.0, 403);
    assert_eq!(get(&app, &staff, "/admin/projections").await.0, 403);
    let (_, root) = account(&app, "root", Role::Superuser).await;
    assert_eq!(get(&app, &root, "/admin/events").await.0, 200);
    assert_eq!(get(&app, &root, "/admin/events?limit=0").await.0, 400);
    // No stored event holds a NUL (Postgres text cannot): such a filter matches nothing,
    // and such an aggregate has no history; neither is a server error.
    let (status, body) = get(&app, &root, "/admin/events?actor=a%00b&event_type=%00").await;
    assert_eq!((status, body["events"].clone()), (200, json!([])), "{body}");
    let (status, body) = get(&app, &root, "/admin/aggregates/User/a%00b/events").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        get(&app, &root, "/admin/projections/nope/dead-letters")
            .await
            .0,
        404
    );
    // The console page is served to anyone; its API calls need the token.
    let page = app.get("/admin/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("humit admin"));
}

#[tokio::test]
async fn paging_the_log_returns_every_event_once_in_order_and_filters_work() {
    let app = spawn_app().await;
    let (root_id, root) = account(&app, "root", Role::Superuser).await;
    let as_root = CommandContext {
        actor: Actor::User {
            id: root_id.clone(),
            role: "superuser".into(),
        },
        request_id: "req-1".into(),
    };
    for i in 0..9 {
        create_station_as(&app, &format!("s{i}"), &as_root).await;
    }
    let all: Vec<i64> = sqlx::query_scalar("SELECT position FROM events ORDER BY position")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    let mut seen: Vec<i64> = Vec::new();
    let mut after = 0;
    loop {
        let (status, body) =
            get(&app, &root, &format!("/admin/events?after={after}&limit=4")).await;
        assert_eq!(status, 200);
        let page: Vec<i64> = body["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["position"].as_i64().unwrap())
            .collect();
        seen.extend(&page);
        match body["next_after"].as_i64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, all, "every event once, in order");

    let (_, body) = get(
        &app,
        &root,
        "/admin/events?aggregate_type=Station&limit=100",
    )
    .await;
    assert_eq!(body["events"].as_array().unwrap().len(), 9);
    let (_, body) = get(
        &app,
        &root,
        &format!("/admin/events?actor={root_id}&event_type=StationCreated&limit=100"),
    )
    .await;
    assert_eq!(body["events"].as_array().unwrap().len(), 9);
    assert_eq!(body["events"][0]["metadata"]["request_id"], "req-1");
    let (_, body) = get(
        &app,
        &root,
        "/admin/events?aggregate_type=Station&aggregate_id=s3",
    )
    .await;
    assert_eq!(body["events"][0]["aggregate_id"], "s3");
    let (_, body) = get(&app, &root, "/admin/events?since=2999-01-01T00:00:00Z").await;
    assert!(body["events"].as_array().unwrap().is_empty());
    // Secrets stay redacted in the audit trail.
    let (_, body) = get(
        &app,
        &root,
        "/admin/events?event_type=PasswordSet&limit=100",
    )
    .await;
    for e in body["events"].as_array().unwrap() {
        assert!(e["payload"]["PasswordSet"]["password_hash"]["$secret"].is_null());
    }
}

#[tokio::test]
async fn state_at_a_position_or_time_matches_a_replay() {
    let app = spawn_app().await;
    let (_, root) = account(&app, "root", Role::Superuser).await;
    create_station_as(&app, "s", &CommandContext::system()).await;
    let p1 = set_station_follow(&app, "u", "s", true).await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let p2 = set_station_follow(&app, "u", "s", false).await.unwrap();
    let path = "/admin/aggregates/StationFollow/u:s";

    let (_, history) = get(&app, &root, &format!("{path}/events")).await;
    let kinds: Vec<&str> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["StationFollowed", "StationUnfollowed"]);

    let (_, at1) = get(&app, &root, &format!("{path}/state?at={p1}")).await;
    assert_eq!(at1["state"], serde_json::json!({"on": true}));
    assert_eq!(at1["sequence"], 1);
    let (_, at_time) = get(
        &app,
        &root,
        &format!(
            "{path}/state?at={}",
            between.to_rfc3339().replace('+', "%2B")
        ),
    )
    .await;
    assert_eq!(at_time["state"], serde_json::json!({"on": true}));
    let (_, now) = get(&app, &root, &format!("{path}/state")).await;
    assert_eq!(now["position"], p2);
    // The same as the write side's own replay.
    let loaded: StationFollow = app.state.commands.load("u:s").await.unwrap();
    assert_eq!(now["state"], serde_json::to_value(&loaded).unwrap());

    assert_eq!(
        get(&app, &root, &format!("{path}/state?at=yesterday"))
            .await
            .0,
        400
    );
    assert_eq!(
        get(&app, &root, "/admin/aggregates/StationFollow/none/state")
            .await
            .0,
        404
    );
}

#[tokio::test]
async fn a_rebuild_under_concurrent_writes_ends_identical_to_a_fresh_replay() {
    let app = spawn_app().await;
    let (_, root) = account(&app, "root", Role::Superuser).await;
    for i in 0..40 {
        create_station_as(&app, &format!("s{i}"), &CommandContext::system()).await;
        set_station_follow(&app, &format!("u{}", i % 7), &format!("s{i}"), true).await;
    }
    app.settle().await;

    let writer = {
        let state = app.state.clone();
        tokio::spawn(async move {
            for i in 40..100 {
                let command = StationCommand::CreateStation {
                    station_id: format!("s{i}"),
                    name: String::new(),
                    description: String::new(),
                    image_url: String::new(),
                    created_by: "w".into(),
                    now: chrono::Utc::now(),
                };
                state
                    .commands
                    .execute::<Station>(&format!("s{i}"), command, &CommandContext::system())
                    .await
                    .unwrap();
            }
        })
    };
    let (status, body) = post(&app, &root, "/admin/projections/social/rebuild").await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["rebuild"]["status"], "running");
    eventually(Duration::from_secs(30), || async {
        let (_, body) = get(&app, &root, "/admin/projections").await;
        body["projections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "social" && p["rebuild"]["status"] == "done")
    })
    .await;
    writer.await.unwrap();
    app.settle().await;

    let (_, body) = get(&app, &root, "/admin/projections").await;
    let social = body["projections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "social")
        .unwrap()
        .clone();
    assert_eq!(social["lag_events"], 0);
    assert!(social["queue_depth"].is_number(), "{social}");
    assert!(social["rebuild"]["done"].as_i64().unwrap() > 0);

    let social_projection = projections::all()
        .into_iter()
        .find(|p| p.name() == "social")
        .unwrap();
    let mut live = Vec::new();
    for table in social_projection.tables() {
        live.push(snapshot(&app.pool, table).await);
    }
    projector::rebuild(&app.pool, social_projection.as_ref(), |_| {})
        .await
        .unwrap();
    let mut fresh = Vec::new();
    for table in social_projection.tables() {
        fresh.push(snapshot(&app.pool, table).await);
    }
    assert_eq!(live, fresh);
    let stations: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_stations").await;
    assert_eq!(stations, 100, "nothing missed");
}

#[tokio::test]
async fn dead_letters_are_listed_and_can_be_redriven() {
    let app = spawn_app().await;
    let (_, root) = account(&app, "root", Role::Superuser).await;
    // Two stations claiming the same station id: the second cannot be projected.
    for id in ["dup-a", "dup-b"] {
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
             VALUES ('Station', $1, 1, 'StationCreated', '1', $2, '{}')",
        )
        .bind(id)
        .bind(serde_json::json!({"StationCreated": {"station_id": "dup", "name": id, "description": "",
            "image_url": "", "created_by": "x", "at": "2026-01-01T00:00:00Z"}}))
        .execute(&app.pool)
        .await
        .unwrap();
    }
    create_station_as(&app, "fine", &CommandContext::system()).await;
    app.settle().await;

    let parked = "/admin/projections/social/dead-letters";
    let redrive = "/admin/projections/social/dead-letters/redrive";
    let (status, body) = get(&app, &root, parked).await;
    assert_eq!(status, 200);
    let letters = body["dead_letters"].as_array().unwrap();
    assert_eq!(letters.len(), 1, "{body}");
    assert_eq!(letters[0]["aggregate_id"], "dup-b");

    let (_, body) = post(&app, &root, redrive).await;
    assert_eq!(body["still_failing"], 1);
    // An operator repairs the read model; the re-drive now succeeds.
    sqlx::query("DELETE FROM rm_stations WHERE station_id = 'dup'")
        .execute(&app.pool)
        .await
        .unwrap();
    let (_, body) = post(&app, &root, redrive).await;
    assert_eq!(body["redriven"], 1, "{body}");
    let (_, body) = get(&app, &root, parked).await;
    assert!(body["dead_letters"].as_array().unwrap().is_empty());
    let name: String = scalar(
        &app.pool,
        "SELECT name FROM rm_stations WHERE station_id = 'dup'",
    )
    .await;
    assert_eq!(name, "dup-b");
}

#[tokio::test]
async fn the_cli_prints_the_log_and_replays_a_projection() {
    let app = spawn_app().await;
    let mut positions = Vec::new();
    for i in 0..3 {
        positions
            .extend(create_station_as(&app, &format!("s{i}"), &CommandContext::system()).await);
    }
    app.settle().await;
    // Async, so that this test's own projectors keep running while the child waits on them.
    let run = |args: &'static [&'static str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_humit"))
            .args(args)
            .env("DATABASE_URL", &app.config.database_url)
            .env("RUST_LOG", "warn")
            .kill_on_drop(true)
            .output()
    };
    let out = run(&["events", "--aggregate-type", "Station", "--actor", "system"])
        .await
        .unwrap();
    assert_success(&out);
    let printed: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["position"]
                .as_i64()
                .unwrap()
        })
        .collect();
    assert_eq!(printed, positions);

    let out = run(&["replay", "--projection", "social"]).await.unwrap();
    assert_success(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("projection social rebuilt"));
    let out = run(&["replay", "--projection", "nope"]).await.unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown projection"));
    let stations: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_stations").await;
    assert_eq!(stations, 3);
}

//! The event stream as a public contract: the example subscriber, and no secret on the wire.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use aggregates::user::{Role, User, UserCommand, UserDetails, UserEvent};
use humit::auth::jwt;
use humit::identity::{self, NewUser};
use humit::store::{log, CommandContext};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{create_station, republish, spawn_app, Subscriber};

/// The compiled example (`cargo test` builds examples; built here when missing).
fn example_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|d| d.parent()).unwrap().to_path_buf();
    let path = dir.join("examples").join("analytics_subscriber");
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--example", "analytics_subscriber"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the example failed");
    }
    path
}

#[tokio::test]
async fn the_example_subscriber_counts_every_event_once() {
    let app = spawn_app().await;
    let queue = format!("{}.analytics", app.config.exchange);
    let mut child = tokio::process::Command::new(example_binary())
        .args([
            "--amqp-url",
            &app.config.amqp_url,
            "--exchange",
            &app.config.exchange,
        ])
        .args([
            "--queue",
            &queue,
            "--pattern",
            "Station.#",
            "--max-events",
            "10",
            "--idle-secs",
            "30",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("example starts");
    let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(20), stderr.next_line()).await;
    assert!(
        matches!(&ready, Ok(Ok(Some(line))) if line.starts_with("subscribed")),
        "{ready:?}"
    );

    let first = create_station(&app, "s0").await;
    for i in 1..5 {
        create_station(&app, &format!("s{i}")).await;
    }
    // A redelivered copy of the first event: the subscriber de-duplicates it by event id.
    let copy = log::read_after(&app.pool, first - 1, 1)
        .await
        .unwrap()
        .remove(0);
    republish(&app, &copy).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 5..10 {
        create_station(&app, &format!("s{i}")).await;
    }
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the subscriber finishes")
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    assert_eq!(summary["summary"]["distinct"], 10, "{stdout}");
    assert_eq!(summary["summary"]["duplicates"], 1, "{stdout}");
    assert_eq!(summary["summary"]["counts"]["Station.StationCreated"], 10);
    let conn = humit::bus::broker::connect(&app.config.amqp_url)
        .await
        .unwrap();
    let channel = conn.create_channel().await.unwrap();
    let _ = channel
        .queue_delete(queue.as_str().into(), Default::default())
        .await;
}

#[tokio::test]
async fn no_secret_ever_travels_on_the_exchange() {
    let app = spawn_app().await;
    let mut subscriber = Subscriber::bind(&app.config.exchange, "#").await;
    let ctx = CommandContext::system();
    let password = "pa55-w0rd-never-published";
    let new = NewUser {
        username: "secretive".into(),
        details: UserDetails {
            email: Some("secretive@example.com".into()),
            ..Default::default()
        },
        password: Some(password.into()),
        identity: None,
        spotify_tokens: Some((
            "spotify-access-XYZ".into(),
            "spotify-refresh-XYZ".into(),
            Some("IN".into()),
        )),
        role: Role::Normal,
    };
    let (user_id, _) = identity::register(&app.state, new, &ctx).await.unwrap();
    let (pair, _) = identity::log_in(&app.state, &user_id, password, jwt::TECHFESIA, &ctx)
        .await
        .unwrap();
    let reset = UserCommand::RequestPasswordReset {
        token_hash: "reset-token-hash-0123456789".into(),
        now: chrono::Utc::now(),
    };
    let change = UserCommand::ChangePassword {
        old_password: password.into(),
        new_password: "another-secret-pass".into(),
        now: chrono::Utc::now(),
    };
    for command in [reset, change] {
        app.state
            .commands
            .execute::<User>(&user_id, command, &ctx)
            .await
            .unwrap();
    }
    let head = log::head(&app.pool).await.unwrap();

    let mut received = Vec::new();
    while received
        .last()
        .is_none_or(|e: &projections::Envelope| e.position < head)
    {
        received.extend(subscriber.take(1, Duration::from_secs(30)).await);
    }
    let raw = serde_json::to_string(&received).unwrap();
    for secret in [
        password,
        "another-secret-pass",
        "$argon2",
        "spotify-access-XYZ",
        "spotify-refresh-XYZ",
        "reset-token-hash-0123456789",
        pair.access.as_str(),
        pair.refresh.as_str(),
    ] {
        assert!(!raw.contains(secret), "{secret} leaked onto the stream");
    }
    fn check(v: &serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                if let Some(secret) = map.get("$secret") {
                    assert!(secret.is_null(), "a secret travelled: {v}");
                }
                map.values().for_each(check);
            }
            serde_json::Value::Array(items) => items.iter().for_each(check),
            _ => {}
        }
    }
    received.iter().for_each(|e| check(&e.payload));
    assert!(
        raw.contains("\"$secret\":null"),
        "secret fields are present, redacted"
    );
}

#[test]
fn docs_events_md_lists_every_event_type() {
    use aggregates::claim::{Claim, ClaimEvent};
    use aggregates::session::{Session, SessionEvent};
    use aggregates::social::{
        Hum, HumEvent, Mute, MuteEvent, StationFollow, StationFollowEvent, UserFollow,
        UserFollowEvent,
    };
    use aggregates::station::{Station, StationEvent};
    use cqrs_es::Aggregate;
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/events.md")).unwrap();
    let all: [(&str, &[&str]); 8] = [
        (User::TYPE, UserEvent::EVENT_TYPES),
        (Session::TYPE, SessionEvent::EVENT_TYPES),
        (Claim::TYPE, ClaimEvent::EVENT_TYPES),
        (Station::TYPE, StationEvent::EVENT_TYPES),
        (StationFollow::TYPE, StationFollowEvent::EVENT_TYPES),
        (UserFollow::TYPE, UserFollowEvent::EVENT_TYPES),
        (Mute::TYPE, MuteEvent::EVENT_TYPES),
        (Hum::TYPE, HumEvent::EVENT_TYPES),
    ];
    for (aggregate, types) in all {
        for event in types {
            let key = format!("`{aggregate}.{event}`");
            assert!(doc.contains(&key), "docs/events.md does not document {key}");
        }
    }
}

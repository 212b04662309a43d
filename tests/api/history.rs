//! The log as history, against the real Postgres and RabbitMQ: a rebuilt read model equals
//! the live one and a rebuild never stalls the live side; old event shapes replay through
//! their upcasters; erasing a person leaves their events readable and their data gone.
//! The pipeline itself (order, once, outages, read-your-writes) is in `core`.

use std::time::Duration;

use humit::bus::projector;
use humit::store::{log, CommandContext};

use crate::core::{followers, WAIT};
use crate::helpers::{create_station, eventually, set_station_follow, snapshot, spawn_app};
use crate::probe::scalar;

#[tokio::test]
async fn a_rebuilt_projection_equals_the_live_one() {
    let app = spawn_app().await;
    for i in 0..6 {
        create_station(&app, &format!("s{i}")).await;
    }
    for u in 0..5 {
        for s in 0..6 {
            if (u + s) % 2 == 0 {
                set_station_follow(&app, &format!("u{u}"), &format!("s{s}"), true).await;
            }
        }
    }
    set_station_follow(&app, "u0", "s0", false).await;
    app.settle().await;

    for projection in projections::all() {
        let mut before = Vec::new();
        for table in projection.tables() {
            before.push(snapshot(&app.pool, table).await);
        }
        let mut reports = 0;
        projector::rebuild(&app.pool, projection.as_ref(), |_| reports += 1)
            .await
            .unwrap();
        assert!(reports > 0);
        let mut after = Vec::new();
        for table in projection.tables() {
            after.push(snapshot(&app.pool, table).await);
        }
        assert_eq!(before, after, "projection {}", projection.name());
    }
    // The live consumer continues after the rebuild with no gap and no double application.
    let position = set_station_follow(&app, "u9", "s1", true).await;
    app.state.wait_for_position(position, &["social"]).await;
    let expected: i64 = scalar(
        &app.pool,
        "SELECT count(*) FROM rm_station_follows WHERE station_id = 's1'",
    )
    .await;
    assert_eq!(followers(&app.pool, "s1").await, expected);
}

/// The first 100 `User` events as the log readers (relay, admin) see them.
async fn user_events(pool: &sqlx::PgPool) -> Vec<projections::Envelope> {
    let filter = log::Filter {
        limit: 100,
        aggregate_type: Some("User".into()),
        ..Default::default()
    };
    log::query(pool, &filter).await.unwrap()
}

#[tokio::test]
async fn personal_data_is_sealed_at_rest_and_unreadable_once_the_person_is_erased() {
    use aggregates::user::{Role, User, UserCommand, UserDetails};
    let app = spawn_app().await;
    let ctx = CommandContext::system();
    let details = UserDetails {
        email: Some("ada.lovelace@example.com".into()),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        ..Default::default()
    };
    let new = humit::identity::NewUser {
        username: "ada_l".into(),
        details,
        password: Some("analytical engine".into()),
        identity: None,
        spotify_tokens: None,
        role: Role::Normal,
    };
    let (user_id, position) = humit::identity::register(&app.state, new, &ctx)
        .await
        .unwrap();
    app.state.wait_for(position, &["users"]).await;

    let raw: Vec<String> = sqlx::query_scalar("SELECT payload::text || aggregate_id FROM events")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    for text in &raw {
        assert!(
            !text.contains("Lovelace") && !text.contains("ada_l") && !text.contains("ada.lovelace"),
            "{text}"
        );
    }
    // The log readers (relay, admin) open it for a live person.
    let events = user_events(&app.pool).await;
    assert_eq!(
        events[0].payload["UserRegistered"]["username"]["$pii"],
        "ada_l"
    );
    assert!(
        events[1].payload["PasswordSet"]["password_hash"]["$secret"].is_null(),
        "secrets redacted"
    );

    let position = app
        .state
        .commands
        .execute::<User>(
            &user_id,
            UserCommand::Delete {
                now: chrono::Utc::now(),
            },
            &ctx,
        )
        .await
        .unwrap();
    app.state.wait_for(position, &["users", "social"]).await;

    let events = user_events(&app.pool).await;
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains("Lovelace") && !text.contains("ada_l"),
        "{text}"
    );
    assert_eq!(
        events[0].payload["UserRegistered"]["username"]["$pii"],
        serde_json::Value::Null
    );
    let rows: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_users").await;
    assert_eq!(rows, 0);
    // Replay still works and shows an erased user.
    let user: User = app.state.commands.load(&user_id).await.unwrap();
    assert!(!user.exists());
    assert_eq!(user.username(), "");
    // A rebuild from the log shows no trace either.
    for projection in projections::all() {
        projector::rebuild(&app.pool, projection.as_ref(), |_| {})
            .await
            .unwrap();
    }
    let rows: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_users").await;
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn old_claim_events_replay_and_publish_in_the_new_shape() {
    use aggregates::claim::{Claim, ClaimKind};
    let app = spawn_app().await;
    let id = ClaimKind::Username.legacy_claim_id("legacy").unwrap();
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
         VALUES ('Claim', $1, 1, 'Taken', '1', '{\"Taken\": {\"owner\": \"u-old\"}}', '{\"occurred_at\": \"2025-05-05T05:05:05+00:00\"}')",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .unwrap();
    eventually(WAIT, || async {
        !log::read_after(&app.pool, 0, 1).await.unwrap().is_empty()
    })
    .await;
    // cqrs-es loads it through the upcaster.
    let claim: Claim = app.state.commands.load(&id).await.unwrap();
    assert_eq!(claim.owner(), Some("u-old"));
    // The log readers publish it as version 2.
    let event = log::read_after(&app.pool, 0, 10).await.unwrap().remove(0);
    assert_eq!(event.event_version, "2");
    assert_eq!(event.payload["Taken"]["at"], "2025-05-05T05:05:05+00:00");
    // And new commands on it keep working.
    let owner = humit::identity::owner_of(&app.state, ClaimKind::Username, "legacy")
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some("u-old"));
}

/// A rebuild replays into shadow tables a batch per transaction: while it runs, the live
/// read model answers in full, and commands keep being numbered (no transaction of the
/// rebuild holds the sequencer's horizon back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_keeps_the_live_model_readable_and_the_log_moving() {
    let app = spawn_app().await;
    for i in 0..600 {
        create_station(&app, &format!("s{i}")).await;
    }
    app.settle().await;
    let social = projections::all()
        .into_iter()
        .find(|p| p.name() == "social")
        .unwrap();
    let mut checks = 0;
    let handle = tokio::runtime::Handle::current();
    projector::rebuild(&app.pool, social.as_ref(), |progress| {
        if progress.done >= progress.total || checks > 0 {
            return;
        }
        checks += 1;
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let live: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_stations").await;
                assert_eq!(
                    live, 600,
                    "the live model answers in full during the rebuild"
                );
                let command = aggregates::station::StationCommand::CreateStation {
                    station_id: "during".into(),
                    name: "during".into(),
                    description: String::new(),
                    image_url: String::new(),
                    created_by: "test".into(),
                    now: chrono::Utc::now(),
                };
                let commit = app
                    .state
                    .commands
                    .execute::<aggregates::station::Station>(
                        "during",
                        command,
                        &CommandContext::system(),
                    )
                    .await
                    .unwrap()
                    .unwrap();
                assert!(
                    commit
                        .position_within(Duration::from_secs(3))
                        .await
                        .is_some(),
                    "a command during the rebuild is numbered at once"
                );
            })
        });
    })
    .await
    .unwrap();
    assert_eq!(checks, 1);
    app.settle().await;
    let rows: i64 = scalar(&app.pool, "SELECT count(*) FROM rm_stations").await;
    assert_eq!(rows, 601);
}

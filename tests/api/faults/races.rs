//! Races with many real clients: one name wanted by 50 at once (each dialect, 20 rounds)
//! has exactly one winner, one claim and one read-model row; 100 concurrent changes of one
//! aggregate leave a gapless, duplicate-free sequence in which every success is visible, and
//! every loser is a 409, never a 500.

use aggregates::claim::{Claim, ClaimKind};
use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::json;

use crate::humit::{form, Session};
use crate::probe::{scalar, scalar_by};
use crate::techfesia::seed_user;

const CONTENDERS: usize = 50;
const ROUNDS: usize = 20;

async fn rows_named(pool: &sqlx::PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM rm_users WHERE lower(username) = lower($1)")
        .bind(name)
        .fetch_one(pool)
        .await
        .unwrap()
}

async fn claim_owner(app: &crate::helpers::TestApp, name: &str) -> Option<String> {
    let claim: Claim = app
        .state
        .commands
        .load(&ClaimKind::Username.claim_id(&app.state.claim_key, name))
        .await
        .unwrap();
    claim.owner().map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_techfesia_sign_ups_of_one_name_have_one_winner_twenty_times() {
    let tf = crate::techfesia::spawn().await;
    for round in 0..ROUNDS {
        let name = format!("race_tf_{round}");
        let answers = join_all((0..CONTENDERS).map(|i| {
            let mut body = seed_user(&name, "Race Password 1");
            // Each contender its own email: only the name is contested.
            body["email"] = json!(format!("racer{round}_{i}@example.com"));
            let request = tf.app.client.post(tf.app.url("/users/")).json(&body).send();
            async move { request.await.unwrap().status().as_u16() }
        }))
        .await;
        let won = answers.iter().filter(|s| **s == 201).count();
        assert_eq!(won, 1, "round {round}: {answers:?}");
        assert!(
            answers.iter().all(|s| *s == 201 || *s == 422),
            "round {round}: {answers:?}"
        );
        tf.app.settle().await;
        assert_eq!(rows_named(&tf.app.pool, &name).await, 1, "round {round}");
        let owner = claim_owner(&tf.app, &name).await.expect("claimed");
        let row_owner: String = scalar_by(
            &tf.app.pool,
            "SELECT user_id FROM rm_users WHERE username = $1",
            &name,
        )
        .await;
        assert_eq!(owner, row_owner, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_humit_registrations_of_one_handle_have_one_winner_twenty_times() {
    let humit = crate::humit::spawn().await;
    let mut contenders: Vec<Session> = Vec::new();
    let mut next = 0;
    for round in 0..ROUNDS {
        while contenders.len() < CONTENDERS {
            next += 1;
            contenders.push(humit.signup(&format!("racer-{next}")).await);
        }
        let handle = format!("race_h_{round}");
        let answers = join_all(contenders.iter().map(|s| {
            let request = humit
                .app
                .client
                .post(humit.app.url("/api/users/profile/"))
                .header("Authorization", format!("humit {}", s.access))
                .json(&form(&handle))
                .send();
            async move { request.await.unwrap().status() }
        }))
        .await;
        let winners: Vec<usize> = (0..answers.len())
            .filter(|i| answers[*i] == StatusCode::OK)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|s| *s == StatusCode::OK || *s == StatusCode::CONFLICT),
            "round {round}: {answers:?}"
        );
        let winner = contenders.remove(winners[0]);
        humit.app.settle().await;
        assert_eq!(
            rows_named(&humit.app.pool, &handle).await,
            1,
            "round {round}"
        );
        assert_eq!(
            claim_owner(&humit.app, &handle).await.as_deref(),
            Some(winner.user_id.as_str()),
            "round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_concurrent_changes_of_one_account_lose_nothing() {
    let tf = crate::techfesia::spawn().await;
    let root = tf.root().await;
    tf.create_user("lost_update_target", "Target Password 1")
        .await;
    let answers = join_all((0..100).map(|i| {
        let request = tf
            .app
            .client
            .put(tf.app.url("/users/lost_update_target"))
            .bearer_auth(&root)
            .json(&json!({"firstName": format!("Name{i}")}))
            .send();
        async move { request.await.unwrap().status().as_u16() }
    }))
    .await;
    assert!(
        answers.iter().all(|s| *s == 200 || *s == 409),
        "{answers:?}"
    );
    let succeeded = answers.iter().filter(|s| **s == 200).count() as i64;
    assert!(succeeded > 0);
    let user_id: String = scalar(
        &tf.app.pool,
        "SELECT user_id FROM rm_users WHERE username = 'lost_update_target'",
    )
    .await;
    let sequences: Vec<i64> = sqlx::query_scalar(
        "SELECT sequence FROM events WHERE aggregate_type = 'User' AND aggregate_id = $1
         ORDER BY sequence",
    )
    .bind(&user_id)
    .fetch_all(&tf.app.pool)
    .await
    .unwrap();
    let expected: Vec<i64> = (1..=sequences.len() as i64).collect();
    assert_eq!(sequences, expected, "gaps or duplicates");
    let changes: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE aggregate_type = 'User' AND aggregate_id = $1
         AND event_type = 'DetailsUpdated'",
    )
    .bind(&user_id)
    .fetch_one(&tf.app.pool)
    .await
    .unwrap();
    assert_eq!(
        changes, succeeded,
        "every 200 is one stored change, and no more"
    );
    eprintln!(
        "lost updates: 100 concurrent changes, {succeeded} stored, {} answered 409, sequence 1..={} gapless",
        100 - succeeded,
        sequences.len()
    );
}

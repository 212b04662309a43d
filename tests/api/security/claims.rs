//! Finding 10: claim ids are keyed hashes. The uniqueness claims on usernames, emails and
//! provider identities are stored under HMAC-SHA-256 (`HUMIT_CLAIM_KEY`) of the SHA-256 of
//! the normalised value, so an erased email cannot be confirmed by hashing a guess; claims
//! stored before (bare SHA-256 ids) keep counting; a sign-up race still has one winner.

use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::techfesia::{seed_user, spawn, Tf};

fn bare(prefix: &str, value: &str) -> String {
    format!("{prefix}:{}", hex::encode(Sha256::digest(value.as_bytes())))
}

fn keyed(tf: &Tf, prefix: &str, value: &str) -> String {
    let key = tf.app.config.claim_key.as_deref().unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(&Sha256::digest(value.as_bytes()));
    format!("{prefix}:{}", hex::encode(mac.finalize().into_bytes()))
}

async fn claim_ids(tf: &Tf) -> Vec<String> {
    sqlx::query_scalar("SELECT DISTINCT aggregate_id FROM events WHERE aggregate_type = 'Claim'")
        .fetch_all(&tf.app.pool)
        .await
        .unwrap()
}

async fn sign_ups(tf: &Tf, bodies: Vec<serde_json::Value>) -> Vec<u16> {
    let calls = bodies.into_iter().map(|b| tf.post("/users/", None, b));
    futures::future::join_all(calls)
        .await
        .into_iter()
        .map(|a| a.status)
        .collect()
}

/// The sign-ups of `bodies` at once, of which exactly one is answered 201; the statuses.
async fn one_winner(tf: &Tf, bodies: Vec<serde_json::Value>) -> Vec<u16> {
    let statuses = sign_ups(tf, bodies).await;
    let won = statuses.iter().filter(|s| **s == 201).count();
    assert_eq!(won, 1, "{statuses:?}");
    statuses
}

#[tokio::test]
async fn claim_ids_are_keyed_hashes_and_a_sign_up_race_has_one_winner() {
    let tf = spawn().await;
    tf.create_user("test_user_001", "Hello World").await;
    let email = "test_user_001@testers.techfesia.iiits.in";
    let ids = claim_ids(&tf).await;
    assert!(
        !ids.contains(&bare("email", email)),
        "no bare hash of the email: {ids:?}"
    );
    assert!(!ids.contains(&bare("username", "test_user_001")), "{ids:?}");
    assert!(ids.contains(&keyed(&tf, "email", email)), "{ids:?}");
    assert!(
        ids.contains(&keyed(&tf, "username", "test_user_001")),
        "{ids:?}"
    );

    // Twenty-four clients race for one email under different usernames, then for one
    // username with different emails: one of each wins.
    let same_email = (0..24)
        .map(|i| {
            let mut body = seed_user(&format!("racer_{i:02}"), "Hello World");
            body["email"] = json!("race@example.com");
            body
        })
        .collect();
    let statuses = one_winner(&tf, same_email).await;
    assert!(
        statuses.iter().all(|s| *s == 201 || *s == 422),
        "{statuses:?}"
    );
    let same_name = (0..24)
        .map(|i| {
            let mut body = seed_user("contested", "Hello World");
            body["email"] = json!(format!("contested{i}@example.com"));
            body
        })
        .collect();
    one_winner(&tf, same_name).await;
}

/// A database from before keyed ids: the person's claims are moved to their bare-hash ids,
/// as they were stored then. They still hold the username and email (also against a race),
/// the person still signs in, and erasing them frees both.
#[tokio::test]
async fn claims_stored_as_bare_hashes_keep_counting_until_released() {
    let tf = spawn().await;
    tf.create_user("old_timer", "Hello World").await;
    let email = "old_timer@testers.techfesia.iiits.in";
    // The log is append-only (a trigger); this test's own database lets it be rewritten
    // once, to look like one written before.
    let mut tx = tf.app.pool.begin().await.unwrap();
    sqlx::query("SET LOCAL session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .unwrap();
    for (prefix, value) in [("username", "old_timer"), ("email", email)] {
        let moved = sqlx::query(
            "UPDATE events SET aggregate_id = $2 WHERE aggregate_type = 'Claim' AND aggregate_id = $1",
        )
        .bind(keyed(&tf, prefix, value))
        .bind(bare(prefix, value))
        .execute(&mut *tx)
        .await
        .unwrap();
        assert_eq!(moved.rows_affected(), 1);
    }
    tx.commit().await.unwrap();
    tf.login("old_timer", "Hello World").await;
    let statuses = sign_ups(
        &tf,
        (0..12)
            .map(|_| seed_user("old_timer", "Hello World"))
            .collect(),
    )
    .await;
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");
    let same_email = (0..12)
        .map(|i| {
            let mut body = seed_user(&format!("newcomer_{i}"), "Hello World");
            body["email"] = json!(email);
            body
        })
        .collect();
    let statuses = sign_ups(&tf, same_email).await;
    assert!(statuses.iter().all(|s| *s == 422), "{statuses:?}");

    let root = tf.root().await;
    let a = tf
        .call(Method::DELETE, "/users/old_timer/", Some(&root), None)
        .await;
    assert!(a.status < 300, "{a:?}");
    tf.create_user("old_timer", "Hello World").await;
}

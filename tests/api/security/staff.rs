//! Finding 6: staff change, disable or delete normal users only; another staff member's
//! email, role or state takes a superuser.

use serde_json::json;

use crate::techfesia::{spawn, Row};

#[tokio::test]
async fn staff_cannot_take_over_staff() {
    let tf = spawn().await;
    let root = tf.root().await;
    let all = json!({"user": ["read", "update", "delete"]});
    let a_token = tf.staff(&root, "staff_a", all.clone()).await;
    tf.staff(&root, "staff_b", json!({"event": ["read"]})).await;
    tf.create_user("test_user_001", "Hello World").await;

    // Staff A with `user: update` (and delete) on staff B: the email (the way into a reset
    // mail), the picture, the state and the account itself are all out of reach.
    let b = "/users/staff_b";
    let (picture, disable) = (format!("{b}/picture"), format!("{b}/disable"));
    let (account, privileges) = (format!("{b}/"), format!("{b}/privileges"));
    tf.expect_as(
        Some(&a_token),
        [
            Row::put(403, b, json!({"email": "attacker@evil.example"})),
            Row::put_bare(403, &picture),
            Row::put_bare(403, &disable),
            Row::delete(403, &account),
            Row::put(403, &privileges, json!({"state": "normal"})),
        ],
    )
    .await;
    // Nothing changed: B keeps the email, the state, and can still sign in.
    let a = tf.get(b, Some(&root)).await;
    assert_eq!(
        a.body["email"], "staff_b@testers.techfesia.iiits.in",
        "{a:?}"
    );
    let a = tf.get(&privileges, Some(&root)).await;
    assert_eq!(a.body["state"], "staff", "{a:?}");
    tf.login("staff_b", "Hello Staff Password").await;

    // A normal user stays within A's reach, and B within a superuser's.
    let edited = json!({"firstName": "Edited"});
    tf.expect_as(
        Some(&a_token),
        [
            Row::put(200, "/users/test_user_001", edited),
            Row::put_bare(200, "/users/test_user_001/disable"),
        ],
    )
    .await;
    let moved = json!({"email": "b2@testers.techfesia.iiits.in"});
    tf.expect_as(
        Some(&root),
        [Row::put(200, b, moved), Row::put_bare(200, &disable)],
    )
    .await;
}

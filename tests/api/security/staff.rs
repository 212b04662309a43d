//! Finding 6: staff change, disable or delete normal users only; another staff member's
//! email, role or state takes a superuser.

use reqwest::Method;
use serde_json::json;

use crate::techfesia::spawn;

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
    let a = tf
        .put(b, Some(&a_token), json!({"email": "attacker@evil.example"}))
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = tf
        .call(Method::PUT, &format!("{b}/picture"), Some(&a_token), None)
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = tf
        .call(Method::PUT, &format!("{b}/disable"), Some(&a_token), None)
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = tf
        .call(Method::DELETE, &format!("{b}/"), Some(&a_token), None)
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = tf
        .put(
            &format!("{b}/privileges"),
            Some(&a_token),
            json!({"state": "normal"}),
        )
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    // Nothing changed: B keeps the email, the state, and can still sign in.
    let a = tf.get(b, Some(&root)).await;
    assert_eq!(
        a.body["email"], "staff_b@testers.techfesia.iiits.in",
        "{a:?}"
    );
    let a = tf.get(&format!("{b}/privileges"), Some(&root)).await;
    assert_eq!(a.body["state"], "staff", "{a:?}");
    tf.login("staff_b", "Hello Staff Password").await;

    // A normal user stays within A's reach, and B within a superuser's.
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&a_token),
            json!({"firstName": "Edited"}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = tf
        .call(
            Method::PUT,
            "/users/test_user_001/disable",
            Some(&a_token),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = tf
        .put(
            b,
            Some(&root),
            json!({"email": "b2@testers.techfesia.iiits.in"}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = tf
        .call(Method::PUT, &format!("{b}/disable"), Some(&root), None)
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    tf.app.stop().await;
}

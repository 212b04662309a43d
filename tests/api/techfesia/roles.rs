//! Roles and privileges: the states the seed shows, granting them (superuser only), and
//! enforcement that follows a change at once, on tokens already issued.

use reqwest::Method;
use serde_json::json;

use super::{spawn, ROOT};

#[tokio::test]
async fn privileges_show_each_state_and_only_a_superuser_changes_them() {
    let tf = spawn().await;
    let root = tf.root().await;
    tf.create_user("test_user_001", "Hello World").await;
    tf.create_user("test_staff_user_001", "Hello Staff Password")
        .await;
    let (user, _) = tf.login("test_user_001", "Hello World").await;
    let (staff, _) = tf
        .login("test_staff_user_001", "Hello Staff Password")
        .await;

    // The seed's three shapes.
    let a = tf.get("/users/test_user_001/privileges", Some(&root)).await;
    assert_eq!((a.status, a.body), (200, json!({"state": "normal"})));
    let a = tf
        .get(&format!("/users/{ROOT}/privileges"), Some(&root))
        .await;
    assert_eq!(a.body, json!({"state": "superuser"}));
    let privileges = json!({"user": ["read"], "event": ["read", "create", "update", "delete"],
                            "firebaseUser": []});
    let a = tf
        .put(
            "/users/test_staff_user_001/privileges",
            Some(&root),
            json!({"state": "staff", "privileges": privileges}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let expected = json!({"state": "staff", "privileges": {
        "event": ["read", "create", "update", "delete"], "firebaseUser": [], "user": ["read"]}});
    assert_eq!(a.body, expected);
    let a = tf
        .get("/users/test_staff_user_001/privileges/", Some(&root))
        .await;
    assert_eq!(a.body, expected);

    // The new role holds at once, on the token issued before the change.
    let a = tf
        .get("/users/test_user_001/privileges", Some(&staff))
        .await;
    assert_eq!((a.status, a.body), (200, json!({"state": "normal"})));
    assert_eq!(tf.get("/users", Some(&staff)).await.status, 200);
    // ... but only as far as the privileges go.
    let a = tf
        .call(Method::DELETE, "/users/test_user_001/", Some(&staff), None)
        .await;
    assert_eq!(a.status, 403);
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&staff),
            json!({"firstName": "X"}),
        )
        .await;
    assert_eq!(a.status, 403);
    // Staff never grant privileges; normal users never read them.
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&staff),
            json!({"state": "staff"}),
        )
        .await;
    assert_eq!(a.status, 403);
    assert_eq!(
        tf.get("/users/test_staff_user_001/privileges", Some(&user))
            .await
            .status,
        403
    );
    assert_eq!(
        tf.get("/users/test_user_001/privileges", Some(&user))
            .await
            .status,
        403
    );

    // Bad requests.
    let a = tf
        .put("/users/test_user_001/privileges", Some(&root), json!({}))
        .await;
    assert_eq!(
        (a.status, a.body),
        (400, json!({"errors": {"state": "missing required field"}}))
    );
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&root),
            json!({"state": "king"}),
        )
        .await;
    assert_eq!(a.status, 400);
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&root),
            json!({"state": "staff", "privileges": {"user": ["fly"]}}),
        )
        .await;
    assert_eq!(a.status, 400);
    // Privileges alone mean staff.
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&root),
            json!({"privileges": {"event": ["read"]}}),
        )
        .await;
    assert_eq!(
        a.body,
        json!({"state": "staff", "privileges": {"event": ["read"]}})
    );
    let a = tf
        .put(
            "/users/nobody/privileges",
            Some(&root),
            json!({"state": "staff"}),
        )
        .await;
    assert_eq!(a.status, 404);
    let a = tf
        .put(
            &format!("/users/{ROOT}/privileges"),
            Some(&root),
            json!({"state": "normal"}),
        )
        .await;
    assert_eq!(a.status, 422);

    // Back to normal: the staff powers end at once.
    let a = tf
        .put(
            "/users/test_staff_user_001/privileges",
            Some(&root),
            json!({"state": "normal"}),
        )
        .await;
    assert_eq!(a.body, json!({"state": "normal"}));
    assert_eq!(tf.get("/users", Some(&staff)).await.status, 403);

    // A second superuser can do everything, including on other superusers.
    let a = tf
        .put(
            "/users/test_user_001/privileges",
            Some(&root),
            json!({"state": "superuser"}),
        )
        .await;
    assert_eq!(a.body, json!({"state": "superuser"}));
    assert_eq!(tf.get("/users", Some(&user)).await.status, 200);
    let a = tf
        .put(
            &format!("/users/{ROOT}/privileges"),
            Some(&user),
            json!({"state": "staff", "privileges": {"user": ["read"]}}),
        )
        .await;
    assert_eq!(a.status, 200);
    let a = tf
        .get(&format!("/users/{ROOT}/privileges"), Some(&user))
        .await;
    assert_eq!(
        a.body,
        json!({"state": "staff", "privileges": {"user": ["read"]}})
    );
    tf.app.stop().await;
}

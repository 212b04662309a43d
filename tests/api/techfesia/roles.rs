//! Roles and privileges: the states the seed shows, granting them (superuser only), and
//! enforcement that follows a change at once, on tokens already issued.

use serde_json::json;

use super::{spawn, Row, ROOT};

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
    // ... but only as far as the privileges go. Staff never grant privileges; normal users
    // never read them.
    let privileges = "/users/test_user_001/privileges";
    tf.expect_as(
        Some(&staff),
        [
            Row::delete(403, "/users/test_user_001/"),
            Row::put(403, "/users/test_user_001", json!({"firstName": "X"})),
            Row::put(403, privileges, json!({"state": "staff"})),
        ],
    )
    .await;
    tf.expect_as(
        Some(&user),
        [
            Row::get(403, "/users/test_staff_user_001/privileges"),
            Row::get(403, privileges),
        ],
    )
    .await;

    // Bad requests; privileges alone mean staff.
    let bad = json!({"state": "staff", "privileges": {"user": ["fly"]}});
    let root_privileges = format!("/users/{ROOT}/privileges");
    tf.expect_as(
        Some(&root),
        [
            Row::put(400, privileges, json!({"state": "king"})),
            Row::put(400, privileges, bad),
            Row::put(404, "/users/nobody/privileges", json!({"state": "staff"})),
            Row::put(422, &root_privileges, json!({"state": "normal"})),
        ],
    )
    .await;
    let a = tf.put(privileges, Some(&root), json!({})).await;
    assert_eq!(
        (a.status, a.body),
        (400, json!({"errors": {"state": "missing required field"}}))
    );
    let event_staff = json!({"privileges": {"event": ["read"]}});
    let a = tf.put(privileges, Some(&root), event_staff).await;
    assert_eq!(
        a.body,
        json!({"state": "staff", "privileges": {"event": ["read"]}})
    );

    // Back to normal: the staff powers end at once.
    let normal = json!({"state": "normal"});
    let staff_privileges = "/users/test_staff_user_001/privileges";
    let a = tf.put(staff_privileges, Some(&root), normal.clone()).await;
    assert_eq!(a.body, normal);
    assert_eq!(tf.get("/users", Some(&staff)).await.status, 403);

    // A second superuser can do everything, including on other superusers.
    let superuser = json!({"state": "superuser"});
    let a = tf.put(privileges, Some(&root), superuser.clone()).await;
    assert_eq!(a.body, superuser);
    assert_eq!(tf.get("/users", Some(&user)).await.status, 200);
    let reader = json!({"state": "staff", "privileges": {"user": ["read"]}});
    let a = tf.put(&root_privileges, Some(&user), reader.clone()).await;
    assert_eq!(a.status, 200);
    assert_eq!(tf.get(&root_privileges, Some(&user)).await.body, reader);
}

//! Users: create, read, list with filters and pages, and the seed's field-for-field bodies.
//! Changing them (update, disable, delete) is in `user_changes`.

use serde_json::{json, Value};

use super::{keys, seed_user, sorted, spawn, Row, USER_FIELDS};

#[tokio::test]
async fn create_and_read_a_user_field_for_field() {
    let tf = spawn().await;
    let created = tf.create_user("test_user_001", "Hello World").await;
    assert_eq!(keys(&created), sorted(&USER_FIELDS));
    assert_eq!(created["username"], "test_user_001");
    assert_eq!(created["firstName"], "Test");
    assert_eq!(created["lastName"], "User");
    assert_eq!(created["email"], "test_user_001@testers.techfesia.iiits.in");
    assert_eq!(created["phoneNumber"], "+911234567890");
    assert_eq!(created["collegeName"], "Test College 123");
    assert_eq!(created["profilePicture"], "url_to_profile_pic");
    assert_eq!(created["lastLogin"], Value::Null);
    assert!(!created["publicId"].as_str().unwrap().is_empty());
    let joined = created["dateJoined"].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(joined).is_ok(),
        "{joined}"
    );

    let (access, _) = tf.login("test_user_001", "Hello World").await;
    let read = tf.get("/users/test_user_001", Some(&access)).await;
    assert_eq!(read.status, 200);
    assert_eq!(keys(&read.body), sorted(&USER_FIELDS));
    assert_eq!(read.body["publicId"], created["publicId"]);
    assert_eq!(read.body["dateJoined"], created["dateJoined"]);
    let last = read.body["lastLogin"]
        .as_str()
        .expect("lastLogin set by the login");
    assert!(chrono::DateTime::parse_from_rfc3339(last).is_ok());
    // The slash-less and slashed variants.
    assert_eq!(
        tf.get("/users/test_user_001/", Some(&access)).await.status,
        200
    );
    let a = tf
        .post("/users", None, seed_user("test_user_002", "Hello World"))
        .await;
    assert_eq!(a.status, 201);

    // Mandatory fields, all reported at once.
    let a = tf.post("/users/", None, json!({"firstName": "Test"})).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"errors": {"username": "missing required field", "email": "missing required field",
                          "password": "missing required field"}})
    );
    let mut body = seed_user("test_user_003", "Hello World");
    body.as_object_mut().unwrap().remove("username");
    let a = tf.post("/users/", None, body).await;
    let missing = json!({"errors": {"username": "missing required field"}});
    assert_eq!((a.status, a.body), (400, missing));
    // Taken username (any case) and email.
    let a = tf
        .post("/users/", None, seed_user("test_user_001", "Hello World"))
        .await;
    let exists = json!({"errors": {"username": "This username already exists"}});
    assert_eq!((a.status, a.body), (422, exists));
    let a = tf
        .post("/users/", None, seed_user("TEST_USER_001", "Hello World"))
        .await;
    assert_eq!(a.status, 422);
    let mut body = seed_user("test_user_004", "Hello World");
    body["email"] = json!("TEST_USER_001@testers.techfesia.iiits.in");
    let a = tf.post("/users/", None, body).await;
    assert_eq!(
        (a.status, a.body),
        (
            422,
            json!({"errors": {"email": "This email already exists"}})
        )
    );
    // Invalid values.
    let mut body = seed_user("bad name", "Hello World");
    body["email"] = json!("not-an-email");
    body["password"] = json!("short");
    let a = tf.post("/users/", None, body).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        keys(&a.body["errors"]),
        sorted(&["email", "password", "username"])
    );
    // A failed sign-up keeps no claim: the username is still free.
    let a = tf
        .post("/users/", None, seed_user("test_user_004", "Hello World"))
        .await;
    assert_eq!(a.status, 201, "{a:?}");
}

#[tokio::test]
async fn only_the_user_or_staff_read_a_user() {
    let tf = spawn().await;
    let root = tf.root().await;
    tf.create_user("test_user_001", "Hello World").await;
    tf.create_user("test_user_002", "Hello World").await;
    let (access, _) = tf.login("test_user_001", "Hello World").await;
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read"]}))
        .await;
    let no_user = tf
        .staff(&root, "staff_events", json!({"event": ["read"]}))
        .await;

    let other = "/users/test_user_002";
    tf.expect_as(Some(&access), [Row::get(403, other)]).await;
    // A normal user learns nothing about whether an account exists.
    let a = tf.get("/users/nobody_here", Some(&access)).await;
    let denied = json!({"detail": "You do not have permission to perform this action."});
    assert_eq!((a.status, a.body), (403, denied));
    tf.expect_as(Some(&reader), [Row::get(200, other)]).await;
    tf.expect_as(Some(&root), [Row::get(200, other)]).await;
    tf.expect_as(Some(&no_user), [Row::get(403, other)]).await;
    let a = tf.get("/users/nobody_here", Some(&reader)).await;
    assert_eq!((a.status, a.body), (404, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn list_users_with_pages_and_filters_for_staff() {
    let tf = spawn().await;
    let root = tf.root().await;
    for i in 1..=6 {
        let mut body = seed_user(&format!("test_user_{i:03}"), "Hello World");
        if i % 2 == 0 {
            body["collegeName"] = json!("Even College");
        }
        assert_eq!(tf.post("/users/", None, body).await.status, 201);
    }
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read"]}))
        .await;
    // 1 superuser + 6 users + 1 staff = 8 accounts.
    // A filter value with a NUL matches nobody (no stored text can hold one).
    let none = tf
        .get("/users?collegeName=Even%00College", Some(&reader))
        .await;
    assert_eq!(none.status, 200, "{none:?}");
    assert_eq!(none.body["users"], json!([]), "{none:?}");
    let a = tf.get("/users?limit=3", Some(&reader)).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        keys(&a.body),
        sorted(&["currentPage", "noOfPages", "users"])
    );
    assert_eq!(a.body["currentPage"], 1);
    assert_eq!(a.body["noOfPages"], 3);
    let users = a.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    for user in users {
        assert_eq!(keys(user), sorted(&USER_FIELDS));
    }
    assert_eq!(users[0]["username"], super::ROOT);
    let a = tf.get("/users/?limit=3&page=3", Some(&reader)).await;
    assert_eq!(a.body["currentPage"], 3);
    assert_eq!(a.body["users"].as_array().unwrap().len(), 2);
    // The documented 400 past the last page.
    let a = tf.get("/users?limit=3&page=4", Some(&reader)).await;
    assert_eq!(
        (a.status, a.body),
        (
            400,
            json!({"message": "This page does not exist", "pageSize": 3, "noOfPages": 3})
        )
    );
    let a = tf.get("/users?page=2", Some(&reader)).await;
    assert_eq!(
        a.body,
        json!({"message": "This page does not exist", "pageSize": 10, "noOfPages": 1})
    );
    // Default page size 10: everyone on page 1.
    let a = tf.get("/users", Some(&root)).await;
    assert_eq!(a.body["users"].as_array().unwrap().len(), 8);
    // Filters: exact match on any camelCase field.
    let a = tf.get("/users?username=test_user_003", Some(&reader)).await;
    let users = a.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "test_user_003");
    let a = tf
        .get(
            "/users?collegeName=Even%20College&limit=2&page=2",
            Some(&reader),
        )
        .await;
    assert_eq!(a.body["noOfPages"], 2);
    assert_eq!(a.body["users"][0]["username"], "test_user_006");
    let id = users[0]["publicId"].as_str().unwrap().to_string();
    let a = tf
        .get(&format!("/users?publicId={id}"), Some(&reader))
        .await;
    assert_eq!(a.body["users"][0]["username"], "test_user_003");
    let a = tf.get("/users?shoeSize=42", Some(&reader)).await;
    assert_eq!(
        (a.status, a.body),
        (400, json!({"errors": {"shoeSize": "Unknown field."}}))
    );
    let a = tf.get("/users?limit=zero", Some(&reader)).await;
    assert_eq!(a.status, 400);
    // Nothing matches: one empty page.
    let a = tf.get("/users?username=nobody", Some(&reader)).await;
    assert_eq!(
        a.body,
        json!({"currentPage": 1, "noOfPages": 1, "users": []})
    );

    // Staff only, and only with the read privilege on users.
    let (user, _) = tf.login("test_user_001", "Hello World").await;
    assert_eq!(tf.get("/users", Some(&user)).await.status, 403);
    let events_only = tf
        .staff(&root, "staff_events", json!({"event": ["read"]}))
        .await;
    assert_eq!(tf.get("/users", Some(&events_only)).await.status, 403);
    assert_eq!(tf.get("/users", None).await.status, 401);
}

//! Users: create, read, list with filters and pages, update, disable, delete (leaving no
//! readable personal data), and the seed's field-for-field bodies.

use reqwest::Method;
use serde_json::{json, Value};

use super::{keys, seed_user, sorted, spawn, USER_FIELDS};

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
    assert_eq!(
        (a.status, a.body),
        (
            400,
            json!({"errors": {"username": "missing required field"}})
        )
    );
    // Taken username (any case) and email.
    let a = tf
        .post("/users/", None, seed_user("test_user_001", "Hello World"))
        .await;
    assert_eq!(
        (a.status, a.body),
        (
            422,
            json!({"errors": {"username": "This username already exists"}})
        )
    );
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
    tf.app.stop().await;
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

    assert_eq!(
        tf.get("/users/test_user_002", Some(&access)).await.status,
        403
    );
    // A normal user learns nothing about whether an account exists.
    let a = tf.get("/users/nobody_here", Some(&access)).await;
    assert_eq!(
        (a.status, a.body),
        (
            403,
            json!({"detail": "You do not have permission to perform this action."})
        )
    );
    assert_eq!(
        tf.get("/users/test_user_002", Some(&reader)).await.status,
        200
    );
    assert_eq!(
        tf.get("/users/test_user_002", Some(&root)).await.status,
        200
    );
    assert_eq!(
        tf.get("/users/test_user_002", Some(&no_user)).await.status,
        403
    );
    let a = tf.get("/users/nobody_here", Some(&reader)).await;
    assert_eq!((a.status, a.body), (404, json!({"detail": "Not found."})));
    tf.app.stop().await;
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
    tf.app.stop().await;
}

#[tokio::test]
async fn update_details_with_the_seed_body() {
    let tf = spawn().await;
    let root = tf.root().await;
    let created = tf.create_user("test_user_001", "Hello World").await;
    tf.create_user("test_user_002", "Hello World").await;
    let (access, _) = tf.login("test_user_001", "Hello World").await;

    let body = json!({
        "username": "test_user_001",
        "firstName": "Testy",
        "lastName": "McTest",
        "email": "new_001@testers.techfesia.iiits.in",
        "phoneNumber": "+919999999999",
        "collegeName": "IIIT Sri City",
        "profilePicture": "https://pics.example/001.jpg"
    });
    let a = tf.put("/users/test_user_001", Some(&access), body).await;
    assert_eq!(a.status, 200, "{a:?}");
    let mut expected_keys = USER_FIELDS.to_vec();
    expected_keys.retain(|k| *k != "dateJoined" && *k != "lastLogin");
    assert_eq!(keys(&a.body), sorted(&expected_keys));
    assert_eq!(a.body["publicId"], created["publicId"]);
    assert_eq!(a.body["firstName"], "Testy");
    assert_eq!(a.body["email"], "new_001@testers.techfesia.iiits.in");
    // Read back at once.
    let read = tf.get("/users/test_user_001", Some(&access)).await;
    assert_eq!(read.body["collegeName"], "IIIT Sri City");
    assert_eq!(read.body["phoneNumber"], "+919999999999");
    // Fields left out keep their value.
    let a = tf
        .put(
            "/users/test_user_001/",
            Some(&access),
            json!({"lastName": "Other"}),
        )
        .await;
    assert_eq!(a.body["firstName"], "Testy");
    assert_eq!(a.body["lastName"], "Other");

    // The old email is free again; the new one is taken.
    let (other, _) = tf.login("test_user_002", "Hello World").await;
    let a = tf
        .put(
            "/users/test_user_002",
            Some(&other),
            json!({"email": "test_user_001@testers.techfesia.iiits.in"}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let a = tf
        .put(
            "/users/test_user_002",
            Some(&other),
            json!({"email": "NEW_001@testers.techfesia.iiits.in"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body),
        (
            422,
            json!({"errors": {"email": "This email already exists"}})
        )
    );

    // Fields that may not change.
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&access),
            json!({"username": "renamed"}),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["username"].is_string());
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&access),
            json!({"publicId": "sampleId123"}),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["publicId"].is_string());
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&access),
            json!({"password": "Another Password"}),
        )
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["password"].is_string());
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&access),
            json!({"email": "nope"}),
        )
        .await;
    assert_eq!(a.status, 400);

    // Others: only staff who may update users, and never a superuser's account.
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&other),
            json!({"firstName": "X"}),
        )
        .await;
    assert_eq!(a.status, 403);
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read"]}))
        .await;
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&reader),
            json!({"firstName": "X"}),
        )
        .await;
    assert_eq!(a.status, 403);
    let editor = tf
        .staff(&root, "staff_editor", json!({"user": ["read", "update"]}))
        .await;
    let a = tf
        .put(
            "/users/test_user_001",
            Some(&editor),
            json!({"firstName": "X"}),
        )
        .await;
    assert_eq!((a.status, &a.body["firstName"]), (200, &json!("X")));
    let a = tf
        .put(
            &format!("/users/{}", super::ROOT),
            Some(&editor),
            json!({"firstName": "X"}),
        )
        .await;
    assert_eq!(a.status, 403);
    tf.app.stop().await;
}

#[tokio::test]
async fn disabling_ends_every_session_and_blocks_login() {
    let tf = spawn().await;
    let root = tf.root().await;
    tf.create_user("test_user_001", "Hello World").await;
    tf.create_user("test_user_002", "Hello World").await;
    tf.create_user("test_user_003", "Hello World").await;
    let (access, refresh) = tf.login("test_user_001", "Hello World").await;
    let (other, _) = tf.login("test_user_002", "Hello World").await;

    // Someone else may not.
    let a = tf
        .call(
            Method::PUT,
            "/users/test_user_001/disable",
            Some(&other),
            None,
        )
        .await;
    assert_eq!(a.status, 403);
    // The user may (as in the seed: no body, the user's own token).
    let a = tf
        .call(
            Method::PUT,
            "/users/test_user_001/disable",
            Some(&access),
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body),
        (200, json!({"message": "User disabled"}))
    );
    assert_eq!(
        tf.get("/users/test_user_001", Some(&access)).await.status,
        401
    );
    let a = tf
        .post("/auth/token/refresh/", None, json!({"refresh": refresh}))
        .await;
    assert_eq!(a.status, 401);
    let a = tf
        .post(
            "/auth/token/",
            None,
            json!({"username": "test_user_001", "password": "Hello World"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body),
        (
            401,
            json!({"detail": "No active account found with the given credentials"})
        )
    );
    let a = tf.get("/users/test_user_001/privileges", Some(&root)).await;
    assert_eq!(a.body, json!({"state": "disabled"}));

    // Staff who may update users disable others.
    let (third, _) = tf.login("test_user_003", "Hello World").await;
    let editor = tf
        .staff(&root, "staff_editor", json!({"user": ["update"]}))
        .await;
    let a = tf
        .call(
            Method::PUT,
            "/users/test_user_003/disable/",
            Some(&editor),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        tf.get("/users/test_user_003", Some(&third)).await.status,
        401
    );
    // A disabled staff account can do nothing at all.
    let a = tf
        .call(
            Method::PUT,
            "/users/staff_editor/disable",
            Some(&root),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(tf.get("/users", Some(&editor)).await.status, 401);
    tf.app.stop().await;
}

#[tokio::test]
async fn deleting_leaves_no_readable_personal_data() {
    let tf = spawn().await;
    let root = tf.root().await;
    let created = tf.create_user("test_user_001", "Hello World").await;
    let id = created["publicId"].as_str().unwrap().to_string();
    tf.create_user("test_user_002", "Hello World").await;
    let (access, refresh) = tf.login("test_user_001", "Hello World").await;
    let (other, _) = tf.login("test_user_002", "Hello World").await;
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read", "update"]}))
        .await;

    // Staff only, with the delete privilege.
    for token in [&access, &other, &reader] {
        let a = tf
            .call(Method::DELETE, "/users/test_user_001/", Some(token), None)
            .await;
        assert_eq!(a.status, 403);
    }
    let deleter = tf
        .staff(&root, "staff_deleter", json!({"user": ["read", "delete"]}))
        .await;
    let a = tf
        .call(
            Method::DELETE,
            "/users/test_user_001/",
            Some(&deleter),
            None,
        )
        .await;
    assert_eq!(a.status, 204, "{a:?}");
    let a = tf
        .call(Method::DELETE, "/users/test_user_001", Some(&deleter), None)
        .await;
    assert_eq!(a.status, 404);

    // Sessions are gone at once.
    assert_eq!(
        tf.get("/users/test_user_001", Some(&access)).await.status,
        401
    );
    let a = tf
        .post("/auth/token/refresh/", None, json!({"refresh": refresh}))
        .await;
    assert_eq!(a.status, 401);
    // Nothing readable is left.
    assert_eq!(
        tf.get("/users/test_user_001", Some(&root)).await.status,
        404
    );
    let a = tf.get("/users?username=test_user_001", Some(&root)).await;
    assert_eq!(a.body["users"], json!([]));
    let a = tf.get(&format!("/users?publicId={id}"), Some(&root)).await;
    assert_eq!(a.body["users"], json!([]));
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM rm_users
         WHERE user_id = $1 OR username = 'test_user_001' OR email ILIKE 'test_user_001@%'
            OR row_to_json(rm_users)::text ILIKE '%test_user_001%'",
    )
    .bind(&id)
    .fetch_one(&tf.app.pool)
    .await
    .unwrap();
    assert_eq!(rows, 0);
    let a = tf
        .post(
            "/auth/token/",
            None,
            json!({"username": "test_user_001", "password": "Hello World"}),
        )
        .await;
    assert_eq!(a.status, 401);
    // The username and the email can be used again.
    let again = tf.create_user("test_user_001", "Hello World").await;
    assert_ne!(again["publicId"], created["publicId"]);
    assert_eq!(again["lastLogin"], Value::Null);
    tf.app.stop().await;
}

/// With `DATABASE_READ_URL` on a streaming replica that applies commits 100 ms late
/// (`scripts/test.sh` starts it: `scripts/replica.sh`, `REPLICA_APPLY_DELAY=100ms`), every
/// answer still shows the write it answers: the wait covers the replica's replay.
#[tokio::test]
async fn read_your_writes_holds_through_a_streaming_replica() {
    let Ok(replica) = std::env::var("HUMIT_TEST_REPLICA_URL") else {
        assert!(
            std::env::var("CI").is_err(),
            "CI runs this test against the replica that scripts/test.sh starts"
        );
        eprintln!("skipped: HUMIT_TEST_REPLICA_URL is not set (scripts/test.sh sets it)");
        return;
    };
    let tf = super::spawn_configured(|config| {
        let database = config.database_url.rsplit('/').next().unwrap().to_string();
        config.database_read_url = Some(format!("{}/{database}", replica.trim_end_matches('/')));
    })
    .await;
    tf.create_user("replicated", "Hello World").await;
    let (access, _) = tf.login("replicated", "Hello World").await;
    for i in 0..10 {
        let name = format!("Name{i}");
        let a = tf
            .put(
                "/users/replicated",
                Some(&access),
                json!({"username": "replicated", "firstName": name}),
            )
            .await;
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["firstName"], name, "the answer shows the write");
        let a = tf.get("/users/replicated", Some(&access)).await;
        assert_eq!(a.body["firstName"], name, "and so does the next read");
    }
    tf.app.stop().await;
}

//! Changing users: update details, disable, delete (leaving no readable personal data), and
//! read-your-writes through a streaming replica.

use reqwest::Method;
use serde_json::{json, Value};

use super::{keys, sorted, spawn, Row, ROOT, USER_FIELDS};

#[tokio::test]
async fn update_details_with_the_seed_body() {
    let tf = spawn().await;
    let root = tf.root().await;
    let created = tf.create_user("test_user_001", "Hello World").await;
    let (access, _) = tf.login("test_user_001", "Hello World").await;
    let (other, _) = tf.signed_up("test_user_002", "Hello World").await;
    let me = "/users/test_user_001";

    let body = json!({
        "username": "test_user_001",
        "firstName": "Testy",
        "lastName": "McTest",
        "email": "new_001@testers.techfesia.iiits.in",
        "phoneNumber": "+919999999999",
        "collegeName": "IIIT Sri City",
        "profilePicture": "https://pics.example/001.jpg"
    });
    let a = tf.put(me, Some(&access), body).await;
    assert_eq!(a.status, 200, "{a:?}");
    let mut expected_keys = USER_FIELDS.to_vec();
    expected_keys.retain(|k| *k != "dateJoined" && *k != "lastLogin");
    assert_eq!(keys(&a.body), sorted(&expected_keys));
    assert_eq!(a.body["publicId"], created["publicId"]);
    assert_eq!(a.body["firstName"], "Testy");
    assert_eq!(a.body["email"], "new_001@testers.techfesia.iiits.in");
    // Read back at once.
    let read = tf.get(me, Some(&access)).await;
    assert_eq!(read.body["collegeName"], "IIIT Sri City");
    assert_eq!(read.body["phoneNumber"], "+919999999999");
    // Fields left out keep their value.
    let slashed = "/users/test_user_001/";
    let a = tf
        .put(slashed, Some(&access), json!({"lastName": "Other"}))
        .await;
    assert_eq!(a.body["firstName"], "Testy");
    assert_eq!(a.body["lastName"], "Other");

    // The old email is free again; the new one is taken.
    let old = json!({"email": "test_user_001@testers.techfesia.iiits.in"});
    let taken = json!({"email": "NEW_001@testers.techfesia.iiits.in"});
    tf.expect_as(Some(&other), [Row::put(200, "/users/test_user_002", old)])
        .await;
    let a = tf.put("/users/test_user_002", Some(&other), taken).await;
    let exists = json!({"errors": {"email": "This email already exists"}});
    assert_eq!((a.status, a.body), (422, exists));

    // Fields that may not change, and a bad value.
    for (field, value) in [
        ("username", "renamed"),
        ("publicId", "sampleId123"),
        ("password", "Another Password"),
    ] {
        let a = tf.put(me, Some(&access), json!({ field: value })).await;
        assert_eq!(a.status, 422, "{field}: {a:?}");
        assert!(a.body["errors"][field].is_string(), "{a:?}");
    }
    let nope = json!({"email": "nope"});
    tf.expect_as(Some(&access), [Row::put(400, me, nope)]).await;

    // Others: only staff who may update users, and never a superuser's account.
    let x = json!({"firstName": "X"});
    tf.expect_as(Some(&other), [Row::put(403, me, x.clone())])
        .await;
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read"]}))
        .await;
    tf.expect_as(Some(&reader), [Row::put(403, me, x.clone())])
        .await;
    let editor = tf
        .staff(&root, "staff_editor", json!({"user": ["read", "update"]}))
        .await;
    let a = tf.put(me, Some(&editor), x.clone()).await;
    assert_eq!((a.status, &a.body["firstName"]), (200, &json!("X")));
    let superuser = format!("/users/{ROOT}");
    tf.expect_as(Some(&editor), [Row::put(403, &superuser, x)])
        .await;
}

#[tokio::test]
async fn disabling_ends_every_session_and_blocks_login() {
    let tf = spawn().await;
    let root = tf.root().await;
    let (access, refresh) = tf.signed_up("test_user_001", "Hello World").await;
    let (other, _) = tf.signed_up("test_user_002", "Hello World").await;
    let (third, _) = tf.signed_up("test_user_003", "Hello World").await;
    let me = "/users/test_user_001";
    let disable = "/users/test_user_001/disable";

    // Someone else may not.
    tf.expect(403, Method::PUT, disable, Some(&other), None)
        .await;
    // The user may (as in the seed: no body, the user's own token).
    let a = tf
        .expect(200, Method::PUT, disable, Some(&access), None)
        .await;
    assert_eq!(a.body, json!({"message": "User disabled"}));
    tf.assert_ended(me, &access, &refresh).await;
    let a = tf.token("test_user_001", "Hello World").await;
    let refused = json!({"detail": "No active account found with the given credentials"});
    assert_eq!((a.status, a.body), (401, refused));
    let a = tf.get("/users/test_user_001/privileges", Some(&root)).await;
    assert_eq!(a.body, json!({"state": "disabled"}));

    // Staff who may update users disable others.
    let editor = tf
        .staff(&root, "staff_editor", json!({"user": ["update"]}))
        .await;
    let third_disable = "/users/test_user_003/disable/";
    tf.expect_as(Some(&editor), [Row::put_bare(200, third_disable)])
        .await;
    tf.expect_as(Some(&third), [Row::get(401, "/users/test_user_003")])
        .await;
    // A disabled staff account can do nothing at all.
    let editor_disable = "/users/staff_editor/disable";
    tf.expect_as(Some(&root), [Row::put_bare(200, editor_disable)])
        .await;
    tf.expect_as(Some(&editor), [Row::get(401, "/users")]).await;
}

#[tokio::test]
async fn deleting_leaves_no_readable_personal_data() {
    let tf = spawn().await;
    let root = tf.root().await;
    let created = tf.create_user("test_user_001", "Hello World").await;
    let id = created["publicId"].as_str().unwrap().to_string();
    let (access, refresh) = tf.login("test_user_001", "Hello World").await;
    let (other, _) = tf.signed_up("test_user_002", "Hello World").await;
    let reader = tf
        .staff(&root, "staff_reader", json!({"user": ["read", "update"]}))
        .await;
    let me = "/users/test_user_001";

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
    tf.expect_as(
        Some(&deleter),
        [
            Row::delete(204, "/users/test_user_001/"),
            Row::delete(404, me),
        ],
    )
    .await;

    // Sessions are gone at once.
    tf.assert_ended(me, &access, &refresh).await;
    // Nothing readable is left.
    tf.expect_as(Some(&root), [Row::get(404, me)]).await;
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
    let a = tf.token("test_user_001", "Hello World").await;
    assert_eq!(a.status, 401);
    // The username and the email can be used again.
    let again = tf.create_user("test_user_001", "Hello World").await;
    assert_ne!(again["publicId"], created["publicId"]);
    assert_eq!(again["lastLogin"], Value::Null);
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
    let (access, _) = tf.signed_up("replicated", "Hello World").await;
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
}

//! Finding 5: a mailed reset token dies with any change of the password or the email, and
//! opens only the account it was mailed for (issue 12: another user's token).

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::eventually;
use crate::techfesia::passwords::outbox_tokens;
use crate::techfesia::{spawn, Answer, Row, Tf};

/// Asks for a reset mail for `username`; answers its token (the `n`th mail in the outbox).
async fn mailed_token(tf: &Tf, username: &str, n: usize) -> String {
    let ask = Row::post(202, "/auth/password/reset/", json!({"username": username}));
    tf.expect_as(None, [ask]).await;
    eventually(Duration::from_secs(10), || async {
        outbox_tokens(tf).len() == n
    })
    .await;
    outbox_tokens(tf).pop().expect("a reset mail")
}

async fn reset(tf: &Tf, username: &str, token: &str) -> Answer {
    tf.call(
        Method::PATCH,
        &format!("/users/{username}/password/"),
        None,
        Some(json!({"resetToken": token, "newPassword": "taken over"})),
    )
    .await
}

fn assert_refused(a: &Answer) {
    let invalid = json!({"error": {"resetToken": "token is invalid, expired or already used. Please get a new token"}});
    assert_eq!((a.status, &a.body), (422, &invalid));
}

#[tokio::test]
async fn a_password_change_voids_a_mailed_reset_token() {
    let tf = spawn().await;
    let (access, _) = tf.signed_up("test_user_001", "Hello World").await;
    let token = mailed_token(&tf, "test_user_001", 1).await;
    // The owner changes the password (say, after noticing the mail they did not ask for).
    let change = json!({"oldPassword": "Hello World", "newPassword": "a new password"});
    let path = "/users/test_user_001/password/";
    tf.expect_as(Some(&access), [Row::put(200, path, change)])
        .await;
    // Whoever holds the mail can no longer take the account over.
    assert_refused(&reset(&tf, "test_user_001", &token).await);
    tf.login("test_user_001", "a new password").await;
}

#[tokio::test]
async fn an_email_change_voids_a_mailed_reset_token() {
    let tf = spawn().await;
    let (access, _) = tf.signed_up("test_user_001", "Hello World").await;
    let token = mailed_token(&tf, "test_user_001", 1).await;
    let moved = json!({"email": "moved@testers.techfesia.iiits.in"});
    tf.expect_as(
        Some(&access),
        [Row::put(200, "/users/test_user_001", moved)],
    )
    .await;
    assert_refused(&reset(&tf, "test_user_001", &token).await);
    // A token mailed to the new address works.
    let token = mailed_token(&tf, "test_user_001", 2).await;
    assert_eq!(reset(&tf, "test_user_001", &token).await.status, 200);
}

#[tokio::test]
async fn creating_a_password_voids_a_mailed_reset_token() {
    let tf = spawn().await;
    // An OAuth-only account.
    let a = tf.oauth("google/", None, "g-nopic").await;
    assert_eq!(a.status, 200, "{a:?}");
    let access = a.body["access"].as_str().unwrap().to_string();
    let username = a.body["username"].as_str().unwrap().to_string();
    let token = mailed_token(&tf, &username, 1).await;
    let path = format!("/users/{username}/password/");
    let password = json!({"password": "Hello World"});
    tf.expect_as(Some(&access), [Row::post(201, &path, password)])
        .await;
    assert_refused(&reset(&tf, &username, &token).await);
    tf.login(&username, "Hello World").await;
}

/// Finding 9: the reset mail budget belongs to the account, however it is typed: a flood
/// that spells one account differently each time (case, email) still gets three mails.
#[tokio::test]
async fn reset_mails_are_limited_per_resolved_account() {
    let tf = spawn().await;
    let user = tf.create_user("test_user_001", "Hello World").await;
    let email = user["email"].as_str().expect("an email").to_string();
    for body in [
        json!({"username": "test_user_001"}),
        json!({"username": "Test_User_001"}),
        json!({"username": "TEST_USER_001"}),
        json!({"email": email}),
        json!({"email": email.to_uppercase()}),
        json!({"username": " test_user_001 "}),
    ] {
        let a = tf.post("/auth/password/reset/", None, body).await;
        assert_eq!(a.status, 202, "{a:?}");
    }
    eventually(Duration::from_secs(10), || async {
        outbox_tokens(&tf).len() >= 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_tokens(&tf).len(), 3, "one account, one budget");
}

#[tokio::test]
async fn a_reset_token_opens_only_its_own_account() {
    let tf = spawn().await;
    tf.create_user("reset_owner", "Owner Password 1").await;
    tf.create_user("reset_victim", "Victim Password 1").await;
    let token = mailed_token(&tf, "reset_owner", 1).await;
    // Another user's token: refused, and the victim's password is unchanged.
    assert_refused(&reset(&tf, "reset_victim", &token).await);
    tf.login("reset_victim", "Victim Password 1").await;
    // The token still works for its owner, once.
    let a = reset(&tf, "reset_owner", &token).await;
    assert!(a.status < 300, "{a:?}");
    assert_refused(&reset(&tf, "reset_owner", &token).await);
    tf.login("reset_owner", "taken over").await;
}

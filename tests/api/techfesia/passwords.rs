//! Passwords: change (old one required), reset by mail (outbox and SMTP), reuse and expiry of
//! reset tokens refused, every session ended by a change or a reset.

use std::time::Duration;

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand};
use humit::http::techfesia::passwords::token_hash;
use humit::store::CommandContext;
use reqwest::Method;
use serde_json::{json, Value};

use super::smtp::FakeSmtp;
use super::{spawn, spawn_configured, Row, Tf};
use crate::helpers::eventually;

const RESET_BODY: &str =
    "If an account matches, a password reset link has been sent to its email address.";

#[tokio::test]
async fn change_a_password_knowing_the_old_one() {
    let tf = spawn().await;
    let (access, _) = tf.signed_up("test_user_001", "old_password").await;
    let (other_session, _) = tf.login("test_user_001", "old_password").await;
    let (other, _) = tf.signed_up("test_user_002", "Hello World").await;
    let path = "/users/test_user_001/password/";

    // A password exists already: nothing to create.
    let a = tf
        .post(path, Some(&access), json!({"password": "Hello World"}))
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["password"].is_string());
    // Missing, too short, wrong old password, someone else's account.
    let a = tf
        .put(path, Some(&access), json!({"oldPassword": "old_password"}))
        .await;
    let missing = json!({"errors": {"newPassword": "missing required field"}});
    assert_eq!((a.status, a.body), (400, missing));
    let change = |old: &str, new: &str| json!({"oldPassword": old, "newPassword": new});
    let short = change("old_password", "short");
    tf.expect_as(Some(&access), [Row::put(400, path, short)])
        .await;
    let a = tf
        .put(path, Some(&access), change("old_passord", "new_password"))
        .await;
    assert_eq!(a.status, 422);
    assert!(a.body["errors"]["oldPassword"].is_string());
    let right = change("old_password", "new_password");
    tf.expect_as(Some(&other), [Row::put(403, path, right.clone())])
        .await;

    // The seed's body.
    let a = tf
        .put("/users/test_user_001/password", Some(&access), right)
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert!(a.body["message"].is_string());
    // Every session ended, this one included.
    let rows = || [Row::get(401, "/users/test_user_001")];
    tf.expect_as(Some(&access), rows()).await;
    tf.expect_as(Some(&other_session), rows()).await;
    let a = tf.token("test_user_001", "old_password").await;
    assert_eq!(a.status, 401);
    tf.login("test_user_001", "new_password").await;
}

/// The reset tokens in the outbox's mails, oldest first.
pub fn outbox_tokens(tf: &Tf) -> Vec<String> {
    let dir = tf.app.config.data_dir.join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "eml"));
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter_map(|text| token_in(&text))
        .collect()
}

fn token_in(text: &str) -> Option<String> {
    let start = text.find("resetToken=")? + "resetToken=".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    Some(token)
}

async fn reset_with(tf: &Tf, token: &str, password: &str) -> super::Answer {
    let body = json!({"resetToken": token, "newPassword": password});
    patch(tf, "/users/test_user_001/password/", body).await
}

async fn patch(tf: &Tf, path: &str, body: Value) -> super::Answer {
    tf.call(Method::PATCH, path, None, Some(body)).await
}

/// `POST /auth/password/reset/` with `body`: asks for a reset mail.
async fn ask_reset(tf: &Tf, body: Value) -> super::Answer {
    tf.post("/auth/password/reset/", None, body).await
}

/// Stores a reset request for `token`, made `minutes` ago, on `user_id`.
async fn reset_requested(tf: &Tf, user_id: &str, token: &str, minutes: i64) {
    let command = UserCommand::RequestPasswordReset {
        token_hash: token_hash(token),
        now: chrono::Utc::now() - chrono::Duration::minutes(minutes),
    };
    let system = CommandContext::system();
    let commands = &tf.app.state.commands;
    commands
        .execute::<User>(user_id, command, &system)
        .await
        .unwrap();
}

#[tokio::test]
async fn reset_a_password_with_the_mailed_token_once() {
    let tf = spawn().await;
    let (access, refresh) = tf.signed_up("test_user_001", "Hello World").await;

    // The same 202 whether or not an account matches.
    for body in [
        json!({"email": "test_user_001@testers.techfesia.iiits.in"}),
        json!({"email": "nobody@testers.techfesia.iiits.in"}),
        json!({"username": "nobody"}),
    ] {
        let a = ask_reset(&tf, body).await;
        assert_eq!((a.status, a.body), (202, json!({"message": RESET_BODY})));
    }
    let a = tf.post("/auth/password/reset", None, json!({})).await;
    assert_eq!(a.status, 400);
    eventually(Duration::from_secs(10), || async {
        outbox_tokens(&tf).len() == 1
    })
    .await;
    // By username too: a second token.
    let a = ask_reset(&tf, json!({"username": "test_user_001"})).await;
    assert_eq!(a.status, 202);
    eventually(Duration::from_secs(10), || async {
        outbox_tokens(&tf).len() == 2
    })
    .await;
    let tokens = outbox_tokens(&tf);
    assert_ne!(tokens[0], tokens[1]);
    assert!(tokens[0].len() >= 40, "{tokens:?}");
    // Only the hash is stored.
    let stored: Vec<Value> = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'PasswordResetRequested'",
    )
    .fetch_all(&tf.app.pool)
    .await
    .unwrap();
    assert_eq!(stored.len(), 2);
    for payload in &stored {
        assert!(!payload.to_string().contains(&tokens[0]));
        assert!(!payload.to_string().contains(&tokens[1]));
    }

    // Wrong token, missing fields, unknown user.
    let a = reset_with(&tf, "sampled_reset_token", "password").await;
    let invalid = json!({"error": {"resetToken": "token is invalid, expired or already used. Please get a new token"}});
    assert_eq!((a.status, &a.body), (422, &invalid));
    let path = "/users/test_user_001/password/";
    let a = patch(&tf, path, json!({"newPassword": "password"})).await;
    let missing = json!({"errors": {"resetToken": "missing required field"}});
    assert_eq!((a.status, a.body), (400, missing));
    let body = json!({"resetToken": tokens[0], "newPassword": "password"});
    let a = patch(&tf, "/users/nobody/password/", body).await;
    assert_eq!((a.status, &a.body), (422, &invalid));

    // The seed's reset.
    let a = reset_with(&tf, &tokens[0], "password").await;
    assert_eq!(
        (a.status, a.body),
        (200, json!({"message": "Password reset successfully"}))
    );
    // Sessions ended; the new password works, the old one does not.
    tf.assert_ended("/users/test_user_001", &access, &refresh)
        .await;
    tf.login("test_user_001", "password").await;
    let a = tf.token("test_user_001", "Hello World").await;
    assert_eq!(a.status, 401);
    // Used: refused; and the other pending token died with the reset.
    let a = reset_with(&tf, &tokens[0], "another password").await;
    assert_eq!((a.status, &a.body), (422, &invalid));
    let a = reset_with(&tf, &tokens[1], "another password").await;
    assert_eq!((a.status, &a.body), (422, &invalid));
}

#[tokio::test]
async fn an_expired_reset_token_is_refused() {
    let tf = spawn().await;
    tf.create_user("test_user_001", "Hello World").await;
    let user_id = humit::identity::owner_of(&tf.app.state, ClaimKind::Username, "test_user_001")
        .await
        .unwrap()
        .unwrap();
    // A token issued 31 minutes ago (the lifetime is 30).
    let token = "expired-token-expired-token-expired-token-123";
    reset_requested(&tf, &user_id, token, 31).await;
    let a = reset_with(&tf, token, "password").await;
    assert_eq!(a.status, 422, "{a:?}");
    // The same token, fresh, works: expiry was the only reason.
    let fresh = "fresh-token-fresh-token-fresh-token-fresh-12";
    reset_requested(&tf, &user_id, fresh, 29).await;
    assert_eq!(reset_with(&tf, fresh, "password").await.status, 200);
}

#[tokio::test]
async fn reset_mail_goes_through_smtp_when_configured() {
    let mut smtp = FakeSmtp::start().await;
    let url = smtp.url.clone();
    let tf = spawn_configured(move |c| {
        c.smtp_url = Some(url);
        c.mail_from = "Techfesia <no-reply@techfesia.example>".into();
    })
    .await;
    tf.create_user("test_user_001", "Hello World").await;
    let email = json!({"email": "test_user_001@testers.techfesia.iiits.in"});
    assert_eq!(ask_reset(&tf, email).await.status, 202);
    let mail = smtp.next(15).await;
    assert!(mail.from.contains("no-reply@techfesia.example"), "{mail:?}");
    assert!(mail.to[0].contains("test_user_001@testers.techfesia.iiits.in"));
    assert!(mail.data.contains("Subject: Reset your password"));
    let token = token_in(&mail.data).expect("a reset link");
    // Nothing went to the outbox.
    assert!(outbox_tokens(&tf).is_empty());
    let a = reset_with(&tf, &token, "password").await;
    assert_eq!(a.status, 200, "{a:?}");
}

#[tokio::test]
async fn reset_mails_are_bounded_per_account_and_client() {
    let tf = spawn().await;
    tf.create_user("test_user_001", "Hello World").await;
    for _ in 0..5 {
        let a = ask_reset(&tf, json!({"username": "test_user_001"})).await;
        // The answer never changes.
        assert_eq!((a.status, a.body), (202, json!({"message": RESET_BODY})));
    }
    eventually(Duration::from_secs(10), || async {
        outbox_tokens(&tf).len() == 3
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(outbox_tokens(&tf).len(), 3);
}

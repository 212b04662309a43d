//! Finding 9: adding a password to an OAuth-only account takes a recent sign-in (a stolen
//! session, even refreshed, cannot add a second way in), and the person is told by mail.

use std::time::Duration;

use serde_json::json;

use crate::helpers::eventually;
use crate::techfesia::{spawn_configured, Tf};

/// The outbox mails whose text contains `needle`.
fn mails_with(tf: &Tf, needle: &str) -> Vec<String> {
    let dir = tf.app.config.data_dir.join("outbox");
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .filter(|text| text.contains(needle))
        .collect()
}

async fn sign_in(tf: &Tf) -> (String, String, String) {
    let a = tf
        .post(
            "/auth/o-auth/google/",
            None,
            json!({"accessToken": "g-alice"}),
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let field = |k: &str| a.body[k].as_str().unwrap().to_string();
    (field("access"), field("refresh"), field("username"))
}

#[tokio::test]
async fn adding_a_password_takes_a_fresh_sign_in_and_sends_a_notice() {
    let tf = spawn_configured(|c| c.reauth_max_age_secs = 2).await;
    let (_, refresh, username) = sign_in(&tf).await;
    let path = format!("/users/{username}/password/");
    tokio::time::sleep(Duration::from_secs(3)).await;
    // A token minted from the old session now is still an old sign-in.
    let a = tf
        .post("/auth/token/refresh/", None, json!({"refresh": refresh}))
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    let refreshed = a.body["access"].as_str().unwrap().to_string();
    let a = tf
        .post(&path, Some(&refreshed), json!({"password": "Hello World"}))
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    assert!(
        a.body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Sign in again"),
        "{a:?}"
    );
    assert!(mails_with(&tf, "A password was added").is_empty());
    // Signed in just now: allowed, and the owner hears of it.
    let (access, _, _) = sign_in(&tf).await;
    let a = tf
        .post(&path, Some(&access), json!({"password": "Hello World"}))
        .await;
    assert_eq!(
        (a.status, a.body),
        (201, json!({"message": "new password created"}))
    );
    eventually(Duration::from_secs(10), || async {
        mails_with(&tf, "A password was added").len() == 1
    })
    .await;
    let mail = &mails_with(&tf, "A password was added")[0];
    assert!(mail.contains("alice@gmail.example"), "{mail}");
}

//! Finding 2: the failed-login budget holds under parallel guesses (the attempt is taken
//! before the password is hashed), and the real owner still signs in from another client.
//! From finding 9: a login to a password-less (OAuth-only) account costs what any failed
//! login costs.
//!
//! The limiter keys on the connection's peer address. The tests present a second client by
//! binding its side of the connection to another loopback address (127.0.0.2).

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::probe::retry_after;
use crate::techfesia::{spawn, spawn_configured, Tf};

/// The documented budget: `HUMIT_LOGIN_MAX_FAILURES` per (account, client) per window.
const BUDGET: usize = 5;
/// Parallel wrong guesses.
const GUESSES: usize = 200;

/// Sends `GUESSES` requests at once; answers how many got each status, and checks every 429
/// carries `Retry-After`.
async fn in_parallel(
    tf: &Tf,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: serde_json::Value,
) -> (usize, usize, Vec<u16>) {
    let answers = join_all((0..GUESSES).map(|_| {
        let mut request = tf.app.client.request(method.clone(), tf.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.json(&body).send()
    }))
    .await;
    let (mut refused, mut throttled, mut other) = (0, 0, Vec::new());
    for answer in answers {
        let answer = answer.expect("request sent");
        match answer.status() {
            StatusCode::TOO_MANY_REQUESTS => {
                retry_after(&answer, 300);
                throttled += 1;
            }
            StatusCode::UNAUTHORIZED | StatusCode::UNPROCESSABLE_ENTITY => refused += 1,
            status => other.push(status.as_u16()),
        }
    }
    (refused, throttled, other)
}

/// A client whose connections come from 127.0.0.2.
fn other_client() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .unwrap()
}

#[tokio::test]
async fn parallel_wrong_logins_cannot_outrun_the_budget() {
    let tf = spawn().await;
    assert_eq!(tf.app.config.login_max_failures as usize, BUDGET);
    tf.create_user("test_user_001", "Hello World").await;
    let guess = json!({"username": "test_user_001", "password": "wrong guess"});
    let (refused, throttled, other) =
        in_parallel(&tf, Method::POST, "/auth/token/", None, guess).await;
    assert!(other.is_empty(), "{other:?}");
    // At most the budget got an answer from argon2; every other guess was turned away first.
    assert!(refused <= BUDGET, "{refused} guesses were checked");
    assert_eq!(refused + throttled, GUESSES);
    // This client stays locked out of this account, even with the right password...
    let a = tf.token("test_user_001", "Hello World").await;
    assert_eq!(a.status, 429, "{a:?}");
    assert!(a.headers.contains_key("retry-after"));
    // ...while the owner, from another client, signs in.
    let answer = other_client()
        .post(tf.app.url("/auth/token/"))
        .json(&json!({"username": "test_user_001", "password": "Hello World"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
}

#[tokio::test]
async fn parallel_wrong_old_passwords_cannot_outrun_the_budget() {
    let tf = spawn().await;
    let (access, _) = tf.signed_up("test_user_001", "Hello World").await;
    let guess = json!({"oldPassword": "wrong guess", "newPassword": "a new password"});
    let (refused, throttled, other) = in_parallel(
        &tf,
        Method::PUT,
        "/users/test_user_001/password/",
        Some(&access),
        guess,
    )
    .await;
    assert!(other.is_empty(), "{other:?}");
    assert!(refused <= BUDGET, "{refused} guesses were checked");
    assert_eq!(refused + throttled, GUESSES);
}

/// The median time of `n` wrong logins as `username`.
async fn median_refusal(tf: &Tf, username: &str, n: usize) -> Duration {
    let mut times = Vec::new();
    for _ in 0..n {
        let started = Instant::now();
        let a = tf.token(username, "wrong guess").await;
        times.push(started.elapsed());
        assert_eq!(a.status, 401, "{a:?}");
    }
    times.sort();
    times[n / 2]
}

#[tokio::test]
async fn a_password_less_account_costs_a_login_like_any_other() {
    let tf = spawn_configured(|c| c.login_max_failures = 1_000).await;
    tf.create_user("test_user_001", "Hello World").await;
    // An OAuth-only account: no password at all.
    let a = tf.oauth("google/", None, "g-nopic").await;
    assert_eq!(a.status, 200, "{a:?}");
    let oauth_only = a.body["username"].as_str().unwrap().to_string();
    // Warm up both paths, then compare, interleaved.
    median_refusal(&tf, "test_user_001", 2).await;
    median_refusal(&tf, &oauth_only, 2).await;
    let (mut with_password, mut without) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        with_password.push(median_refusal(&tf, "test_user_001", 3).await);
        without.push(median_refusal(&tf, &oauth_only, 3).await);
    }
    with_password.sort();
    without.sort();
    let (with_password, without) = (with_password[2], without[2]);
    // Without the dummy verification the password-less refusal skips argon2 and answers in
    // a fraction of the time; with it, both cost one verification.
    assert!(
        without.as_secs_f64() >= 0.5 * with_password.as_secs_f64(),
        "password-less {without:?} vs wrong password {with_password:?}"
    );
}

//! Token pairs: obtain, refresh, the seed's error bodies, login limits, and revocation that
//! takes effect at once.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use super::{spawn, spawn_configured};
use crate::probe::post_raw;

#[tokio::test]
async fn obtain_and_refresh_a_pair_with_the_seed_bodies() {
    let tf = spawn().await;
    tf.create_user("test_user_001", "Hello World").await;

    // Both spellings of the path.
    let login = json!({"username": "test_user_001", "password": "Hello World"});
    for path in ["/auth/token/", "/auth/token"] {
        let a = tf.post(path, None, login.clone()).await;
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(super::keys(&a.body), super::sorted(&["access", "refresh"]));
    }
    let (access, refresh) = tf.login("test_user_001", "Hello World").await;

    // The access token works; the refresh token is never an access token.
    assert_eq!(
        tf.get("/users/test_user_001", Some(&access)).await.status,
        200
    );
    let a = tf.get("/users/test_user_001", Some(&refresh)).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["code"], "token_not_valid");

    // Refresh gives a new access token, and only from a refresh token.
    let a = tf.refresh(&refresh).await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(super::keys(&a.body), super::sorted(&["access"]));
    let fresh = a.body["access"].as_str().unwrap().to_string();
    assert_eq!(
        tf.get("/users/test_user_001", Some(&fresh)).await.status,
        200
    );
    for bad in [access.as_str(), "sample_token"] {
        let a = tf
            .post("/auth/token/refresh", None, json!({"refresh": bad}))
            .await;
        assert_eq!(a.status, 401);
        assert_eq!(
            a.body,
            json!({"detail": "Token is invalid or expired", "code": "token_not_valid"})
        );
    }
    let a = tf.post("/auth/token/refresh/", None, json!({})).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.body, json!({"refresh": ["This field is required."]}));

    // Missing login fields.
    let a = tf.post("/auth/token/", None, json!({})).await;
    assert_eq!(a.status, 400);
    assert_eq!(
        a.body,
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );
    let a = tf
        .post("/auth/token/", None, json!({"username": "test_user_001"}))
        .await;
    assert_eq!(a.body, json!({"password": ["This field is required."]}));

    // No token, a garbage token, another scheme.
    let a = tf.get("/users/test_user_001", None).await;
    assert_eq!(a.status, 401);
    assert_eq!(
        a.body,
        json!({"detail": "Authentication credentials were not provided."})
    );
    let a = tf.get("/users/test_user_001", Some("sample_token")).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.body["code"], "token_not_valid");
    let a = tf
        .app
        .client
        .get(tf.app.url("/users/test_user_001"))
        .header("Authorization", format!("humit {access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 401);

    // Bad JSON and a wrong content type are answered in the dialect.
    let json = [("Content-Type", "application/json")];
    let (status, body) = post_raw(&tf.app, "/auth/token/", &json, "{not json").await;
    assert_eq!(status, 400);
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("JSON parse error"));
    let (status, _) = post_raw(&tf.app, "/auth/token/", &[], "username=x").await;
    assert_eq!(status, 415);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_look_the_same() {
    let tf = spawn().await;
    tf.create_user("test_user_001", "Hello World").await;
    let expected = json!({"detail": "No active account found with the given credentials"});
    let mut wrong = Duration::ZERO;
    let mut unknown = Duration::ZERO;
    for i in 0..3 {
        let started = Instant::now();
        let a = tf.token("test_user_001", &format!("nope {i}")).await;
        wrong += started.elapsed();
        assert_eq!((a.status, &a.body), (401, &expected));
        let started = Instant::now();
        let a = tf.token(&format!("ghost_{i}"), "Hello World").await;
        unknown += started.elapsed();
        assert_eq!((a.status, &a.body), (401, &expected));
    }
    // Both pay for one argon2id verification: the unknown name is not visibly faster.
    assert!(
        unknown * 3 >= wrong,
        "unknown user answered in {unknown:?}, wrong password in {wrong:?}"
    );
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_client() {
    let tf = spawn_configured(|c| {
        c.login_max_failures = 3;
        c.login_window_secs = 60;
    })
    .await;
    tf.create_user("test_user_001", "Hello World").await;
    tf.create_user("test_user_002", "Hello World").await;
    for _ in 0..3 {
        let a = tf.token("test_user_001", "wrong").await;
        assert_eq!(a.status, 401);
    }
    // Even the right password is refused now, with DRF's throttling body.
    let a = tf.token("test_user_001", "Hello World").await;
    assert_eq!(a.status, 429, "{a:?}");
    assert!(a.body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Request was throttled. Expected available in"));
    assert!(a.headers.get("retry-after").is_some());
    // Another account from the same client is not affected.
    tf.login("test_user_002", "Hello World").await;
    // Unknown accounts are throttled too (nothing tells them apart).
    for _ in 0..3 {
        tf.token("ghost", "x").await;
    }
    let a = tf.token("ghost", "x").await;
    assert_eq!(a.status, 429);
}

#[tokio::test]
async fn revoking_one_some_or_all_sessions_takes_effect_at_once() {
    let tf = spawn().await;
    let (a1, r1) = tf.signed_up("test_user_001", "Hello World").await;
    tf.create_user("test_user_002", "Hello World").await;
    let (a2, r2) = tf.login("test_user_001", "Hello World").await;
    let (a3, _r3) = tf.login("test_user_001", "Hello World").await;
    let me = "/users/test_user_001";

    // PUT /auth/token/ {"token"}: that session only.
    let a = tf
        .put("/auth/token/", Some(&a3), json!({"token": r1}))
        .await;
    assert_eq!((a.status, &a.body), (200, &json!({"tokens_deleted": 1})));
    tf.assert_ended(me, &a1, &r1).await;
    assert_eq!(tf.get(me, Some(&a2)).await.status, 200);
    // Again: nothing left to revoke.
    let a = tf.put("/auth/token", Some(&a3), json!({"token": r1})).await;
    assert_eq!((a.status, &a.body), (200, &json!({"tokens_deleted": 0})));
    // Missing field, garbage, someone else's token.
    let a = tf.put("/auth/token/", Some(&a3), json!({})).await;
    assert_eq!(
        (a.status, &a.body),
        (400, &json!({"token": ["This field is required."]}))
    );
    let a = tf
        .put("/auth/token/", Some(&a3), json!({"token": "sample_token"}))
        .await;
    assert_eq!(a.status, 401);
    let (_, other_refresh) = tf.login("test_user_002", "Hello World").await;
    let a = tf
        .put("/auth/token/", Some(&a3), json!({"token": other_refresh}))
        .await;
    assert_eq!(a.status, 403);
    // Without a token at all.
    let a = tf.put("/auth/token/", None, json!({"token": r2})).await;
    assert_eq!(a.status, 401);

    // DELETE with the tokens in the body: those only.
    let a = tf
        .call(
            Method::DELETE,
            "/auth/token/",
            Some(&a3),
            Some(json!({"tokens": [r2]})),
        )
        .await;
    assert_eq!((a.status, &a.body), (200, &json!({"tokens_deleted": 1})));
    assert_eq!(tf.get(me, Some(&a2)).await.status, 401);
    assert_eq!(tf.get(me, Some(&a3)).await.status, 200);

    // DELETE without a body: every session of the caller (two are open now).
    let (a4, r4) = tf.login("test_user_001", "Hello World").await;
    let a = tf
        .call(Method::DELETE, "/auth/token/", Some(&a3), None)
        .await;
    assert_eq!((a.status, &a.body), (200, &json!({"tokens_deleted": 2})));
    assert_eq!(tf.get(me, Some(&a3)).await.status, 401);
    tf.assert_ended(me, &a4, &r4).await;
    // A new login works as before.
    let (a5, _) = tf.login("test_user_001", "Hello World").await;
    assert_eq!(tf.get(me, Some(&a5)).await.status, 200);
}

#[tokio::test]
async fn sixty_four_concurrent_logins_to_one_account_all_succeed_and_revoke_all_ends_them() {
    // Sessions are aggregates of their own: logins to one account never conflict. Then
    // "sign out everywhere" ends every one of them, within a second, in every process.
    let tf = spawn().await;
    tf.create_user("many_devices", "Hello World").await;
    let other = crate::helpers::spawn_with(tf.app.config.clone(), humit::startup::Mode::API).await;
    let logins = (0..64).map(|_| tf.token("many_devices", "Hello World"));
    let answers = futures::future::join_all(logins).await;
    let failed: Vec<_> = answers.iter().filter(|a| a.status != 200).collect();
    assert!(failed.is_empty(), "every login succeeds: {failed:?}");
    let tokens: Vec<(String, String)> = answers
        .iter()
        .map(|a| {
            (
                a.body["access"].as_str().unwrap().to_string(),
                a.body["refresh"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let status_on = |app: &crate::helpers::TestApp, token: String| {
        let request = app
            .client
            .get(app.url("/users/many_devices"))
            .bearer_auth(token)
            .send();
        async move { request.await.unwrap().status().as_u16() }
    };
    // Every session works, in both processes.
    crate::helpers::eventually(Duration::from_secs(5), || async {
        let checks = tokens
            .iter()
            .map(|(access, _)| status_on(&other, access.clone()));
        futures::future::join_all(checks)
            .await
            .iter()
            .all(|s| *s == 200)
    })
    .await;

    let a = tf
        .call(Method::DELETE, "/auth/token/", Some(&tokens[0].0), None)
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(a.body, json!({"tokens_deleted": 64}));
    let revoked = Instant::now();
    for app in [&tf.app, &other] {
        crate::helpers::eventually(Duration::from_secs(1), || async {
            let checks = tokens
                .iter()
                .map(|(access, _)| status_on(app, access.clone()));
            futures::future::join_all(checks)
                .await
                .iter()
                .all(|s| *s == 401)
        })
        .await;
    }
    assert!(revoked.elapsed() < Duration::from_secs(1) + Duration::from_millis(500));
    for (_, refresh) in tokens.iter().take(8) {
        let a = tf.refresh(refresh).await;
        assert_eq!(a.status, 401, "{a:?}");
    }
}

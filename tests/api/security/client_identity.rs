//! Finding 3: who the client is behind a proxy, and the general per-client limit on the
//! unauthenticated routes. The tests connect from 127.0.0.1; whether that peer is a trusted
//! proxy is the setting under test. A cheap limited route (`POST /auth/token/` without a
//! body answers 400) spends the budget.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_with, test_config, TestApp};
use crate::probe::retry_after;
use humit::startup::Mode;

const BURST: u32 = 3;

async fn app(trusted: &str) -> TestApp {
    let mut config = test_config();
    config.anon_burst = BURST;
    config.anon_rate_per_minute = 1;
    config.trusted_proxies = trusted
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    spawn_with(config, Mode::ALL).await
}

/// `POST /auth/token/` with an empty body and `header: value`: the status.
async fn login_from(app: &TestApp, header: &str, value: &str) -> StatusCode {
    app.client
        .post(app.url("/auth/token/"))
        .header(header, value)
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .status()
}

/// Spends `BURST` requests as `value` and checks the next one is refused.
async fn spend(app: &TestApp, header: &str, value: &str) {
    for i in 0..BURST {
        let status = login_from(app, header, value).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "request {i} as {value}");
    }
    assert_eq!(
        login_from(app, header, value).await,
        StatusCode::TOO_MANY_REQUESTS,
        "the budget of {value} is spent"
    );
}

/// Spends `BURST` requests, the `i`th from `X-Forwarded-For: address(i)`, each answered.
async fn spend_across(app: &TestApp, address: impl Fn(u32) -> String) {
    for i in 0..BURST {
        let value = address(i);
        let status = login_from(app, "x-forwarded-for", &value).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "request {i} as {value}");
    }
}

/// One login per row, from the row's header value, each answered with the row's status.
async fn expect(app: &TestApp, rows: &[(&str, &str, StatusCode)]) {
    for (header, value, status) in rows {
        let got = login_from(app, header, value).await;
        assert_eq!(got, *status, "{header}: {value}");
    }
}

#[tokio::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // Only 10.0.0.0/8 is a proxy: 127.0.0.1 is the client, whatever it claims.
    let app = app("10.0.0.0/8").await;
    spend_across(&app, |i| format!("198.51.100.{i}")).await;
    // A new forged address must not buy a new budget.
    let limited = StatusCode::TOO_MANY_REQUESTS;
    expect(
        &app,
        &[
            ("x-forwarded-for", "198.51.100.200", limited),
            ("forwarded", "for=198.51.100.201", limited),
        ],
    )
    .await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = app("127.0.0.0/8,10.0.0.0/8").await;
    spend(&app, "x-forwarded-for", "203.0.113.5").await;
    let (open, limited) = (StatusCode::BAD_REQUEST, StatusCode::TOO_MANY_REQUESTS);
    expect(
        &app,
        &[
            // Another client behind the same proxy is not locked out.
            ("x-forwarded-for", "203.0.113.6", open),
            // The first client prepends a forged hop: the right-most untrusted hop is still it.
            (
                "x-forwarded-for",
                "192.0.2.77, 203.0.113.5, 10.1.1.1",
                limited,
            ),
            // RFC 7239 `Forwarded` names the client the same way.
            ("forwarded", "for=192.0.2.77, for=203.0.113.5", limited),
            ("forwarded", "for=\"[2001:db8:9::1]:4711\"", open),
        ],
    )
    .await;
}

#[tokio::test]
async fn two_addresses_in_one_ipv6_64_share_a_budget() {
    let app = app("127.0.0.0/8").await;
    spend_across(&app, |i| format!("2001:db8:1:2::{:x}", i + 1)).await;
    let (open, limited) = (StatusCode::BAD_REQUEST, StatusCode::TOO_MANY_REQUESTS);
    expect(
        &app,
        &[
            // Another address in the same /64.
            (
                "x-forwarded-for",
                "2001:db8:1:2:ffff:ffff:ffff:fffe",
                limited,
            ),
            // The next /64 is someone else.
            ("x-forwarded-for", "2001:db8:1:3::1", open),
        ],
    )
    .await;
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.client.request(method, app.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn the_general_limit_answers_429_with_retry_after_in_each_envelope() {
    use reqwest::Method;
    let app = app("").await;
    // Every unauthenticated route shares the client's budget.
    let routes: [(Method, &str, Option<Value>); 10] = [
        (Method::POST, "/auth/token/", Some(json!({}))),
        (Method::POST, "/auth/token/refresh/", Some(json!({}))),
        (Method::POST, "/auth/o-auth/google/", Some(json!({}))),
        (Method::POST, "/auth/password/reset/", Some(json!({}))),
        (Method::PATCH, "/users/nobody/password/", Some(json!({}))),
        (Method::POST, "/users/", Some(json!({}))),
        (Method::POST, "/api/users/auth/signup/", Some(json!({}))),
        (Method::POST, "/api/users/auth/token-refresh/", None),
        (Method::GET, "/api/users/username/?username=x", None),
        (Method::GET, "/api/users/referral_code/?code=1", None),
    ];
    for (method, path, body) in &routes[..BURST as usize] {
        let r = send(&app, method.clone(), path, body.clone()).await;
        assert_ne!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
    }
    for (method, path, body) in &routes {
        let r = send(&app, method.clone(), path, body.clone()).await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "{method} {path}");
        retry_after(&r, 60);
        let body: Value = r.json().await.unwrap();
        if path.starts_with("/api/") {
            assert_eq!(body["success"], false, "{path}: {body}");
            assert_eq!(body["display_error"]["code"], "TOO_MANY_REQUESTS", "{body}");
            assert_eq!(body["errors"][0]["status"], "error", "{body}");
        } else {
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap()
                    .starts_with("Request was throttled"),
                "{path}: {body}"
            );
        }
    }
    // Signed-in routes and health stay open.
    assert_eq!(
        send(&app, Method::GET, "/health", None).await.status(),
        StatusCode::OK
    );
}

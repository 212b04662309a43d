//! The HTTP calls the bench makes to humit (Techfesia and humit dialects).

use std::time::Duration;

use anyhow::Context;
use serde_json::{json, Value};

/// The password of every bench account.
pub const PASSWORD: &str = "bench-password-0123";

/// A Techfesia account and a session of it.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its username.
    pub username: String,
    /// Its `publicId`.
    pub user_id: String,
    /// A Techfesia access token.
    pub access: String,
    /// The matching refresh token.
    pub refresh: String,
}

/// A client for `conns` concurrent loopback connections.
pub fn client(conns: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(conns.max(1))
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .expect("HTTP client")
}

/// Sends `request` and reads its JSON body; an error unless it was 2xx.
async fn json_ok(request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let response = request.send().await?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(status.is_success(), "{what}: {status} {body}");
    Ok(body)
}

/// `POST <base><path>` with the JSON `body`; its JSON answer, an error unless it was 2xx.
async fn post_json(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
    what: &str,
) -> anyhow::Result<Value> {
    json_ok(http.post(format!("{base}{path}")).json(&body), what).await
}

/// The string at `pointer` in `body`.
fn string_at(body: &Value, pointer: &str) -> anyhow::Result<String> {
    let text = body.pointer(pointer).and_then(Value::as_str);
    Ok(text.with_context(|| format!("no {pointer}"))?.to_string())
}

/// `POST /auth/token/`: answers (access, refresh).
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    username: &str,
) -> anyhow::Result<(String, String)> {
    let credentials = json!({"username": username, "password": PASSWORD});
    let body = post_json(http, base, "/auth/token/", credentials, "login").await?;
    Ok((string_at(&body, "/access")?, string_at(&body, "/refresh")?))
}

/// `POST /users/` then a login.
pub async fn create_account(
    http: &reqwest::Client,
    base: &str,
    username: &str,
) -> anyhow::Result<Account> {
    let form = json!({
        "username": username,
        "email": format!("{username}@bench.example"),
        "password": PASSWORD,
        "firstName": "Bench",
        "lastName": "Account",
    });
    let body = post_json(http, base, "/users/", form, "create user").await?;
    let user_id = string_at(&body, "/publicId")?;
    let (access, refresh) = login(http, base, username).await?;
    Ok(Account {
        username: username.to_string(),
        user_id,
        access,
        refresh,
    })
}

/// `PUT /users/<username>`: one `User` command (a new `firstName` each time, so an event is
/// stored), with `request_id` as `x-request-id`. Answers whether it was 2xx.
pub async fn update(
    http: &reqwest::Client,
    base: &str,
    account: &Account,
    n: u64,
    request_id: &str,
) -> bool {
    http.put(format!("{base}/users/{}", account.username))
        .bearer_auth(&account.access)
        .header("x-request-id", request_id)
        .json(&json!({"firstName": format!("Bench{n}"), "collegeName": "Bench College of Load"}))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Sends a request and drains its body; answers whether it was 2xx.
pub async fn ok(request: reqwest::RequestBuilder) -> bool {
    match request.send().await {
        Ok(r) => {
            let good = r.status().is_success();
            let _ = r.bytes().await;
            good
        }
        Err(_) => false,
    }
}

/// A humit sign-up through the Spotify stand-in: answers (user id, humit access token).
pub async fn humit_signup(
    http: &reqwest::Client,
    base: &str,
    spotify_id: &str,
) -> anyhow::Result<(String, String)> {
    let sign_up = json!({
        "access_token": format!("sp-{spotify_id}"),
        "refresh_token": format!("sp-refresh-{spotify_id}"),
        "signup_method": "SPOTIFY",
        "notification_id": null,
    });
    let path = "/api/users/auth/signup/";
    let body = post_json(http, base, path, sign_up, "humit sign-up").await?;
    let access = string_at(&body, "/data/humit_access_token")?;
    let body = json_ok(
        http.get(format!("{base}/api/users/profile/"))
            .header("Authorization", format!("humit {access}")),
        "humit profile",
    )
    .await?;
    let user_id = string_at(&body, "/data/user_id")?;
    Ok((user_id, access))
}

/// The `_sum` and `_count` of Prometheus series `name` on `/metrics`, over every label set
/// whose labels contain `label` (empty: all).
pub async fn metric(http: &reqwest::Client, base: &str, name: &str, label: &str) -> (f64, f64) {
    let Ok(response) = http.get(format!("{base}/metrics")).send().await else {
        return (0.0, 0.0);
    };
    let text = response.text().await.unwrap_or_default();
    let mut sum = 0.0;
    let mut count = 0.0;
    for line in text.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        if !series.contains(label) {
            continue;
        }
        let value: f64 = value.parse().unwrap_or(0.0);
        if series.starts_with(&format!("{name}_sum")) {
            sum += value;
        } else if series.starts_with(&format!("{name}_count")) {
            count += value;
        }
    }
    (sum, count)
}

/// `n` accounts `<prefix><i>`, created 8 at a time.
pub async fn create_accounts(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<Account>> {
    use futures::StreamExt;
    let made: Vec<anyhow::Result<Account>> = futures::stream::iter(0..n)
        .map(|i| async move { create_account(http, base, &format!("{prefix}{i}")).await })
        .buffered(8)
        .collect()
        .await;
    made.into_iter().collect()
}

/// `n` humit sign-ups (Spotify ids `<prefix><i>`), 8 at a time: (user id, access token).
pub async fn humit_signups(
    http: &reqwest::Client,
    base: &str,
    prefix: &str,
    n: usize,
) -> anyhow::Result<Vec<(String, String)>> {
    use futures::StreamExt;
    let made: Vec<anyhow::Result<(String, String)>> = futures::stream::iter(0..n)
        .map(|i| async move { humit_signup(http, base, &format!("{prefix}{i}")).await })
        .buffered(8)
        .collect()
        .await;
    made.into_iter().collect()
}

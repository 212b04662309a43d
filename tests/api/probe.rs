//! Small probes the tests share: the JSON body of one request, a raw (not JSON-encoded) POST,
//! one value of one SQL query, the `Retry-After` of a refusal.

#![allow(dead_code)]

use serde_json::Value;
use sqlx::PgPool;

use crate::helpers::TestApp;

/// Sends `request` and reads its body as JSON (panics on a transport error or a body that
/// is not JSON).
pub async fn json(request: reqwest::RequestBuilder) -> Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// POSTs `body` as it is (no JSON encoding) to `path` with `headers`; answers the status and
/// the JSON body (`Null` when the answer is not JSON).
pub async fn post_raw(
    app: &TestApp,
    path: &str,
    headers: &[(&str, &str)],
    body: &'static str,
) -> (reqwest::StatusCode, Value) {
    let mut request = app.client.post(app.url(path)).body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The one value `sql` (without parameters) selects.
pub async fn scalar<T>(pool: &PgPool, sql: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The one value `sql` selects with `$1` bound to `arg`.
pub async fn scalar_by<T>(pool: &PgPool, sql: &str, arg: &str) -> T
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres> + Send + Unpin,
{
    sqlx::query_scalar(sql)
        .bind(arg)
        .fetch_one(pool)
        .await
        .unwrap()
}

/// The seconds a refusal's `Retry-After` header names, checked to lie in `1..=at_most`.
pub fn retry_after(response: &reqwest::Response, at_most: u64) -> u64 {
    let seconds: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=at_most).contains(&seconds),
        "{}: Retry-After {seconds}",
        response.url().path()
    );
    seconds
}

//! Finding 9: `/metrics` can be restricted to a scraper's token; cross-origin access is
//! limited to the origins `HUMIT_CORS_ORIGINS` lists instead of any.

use reqwest::StatusCode;

use crate::helpers::{spawn_with, test_config, TestApp};
use humit::startup::Mode;

async fn app(adjust: impl FnOnce(&mut humit::config::Config)) -> TestApp {
    let mut config = test_config();
    adjust(&mut config);
    spawn_with(config, Mode::ALL).await
}

#[tokio::test]
async fn metrics_can_be_restricted_to_a_token() {
    let app = app(|c| c.metrics_token = Some("scraper-token-0123456789".into())).await;
    let get = |auth: Option<&'static str>| {
        let mut r = app.client.get(app.url("/metrics"));
        if let Some(auth) = auth {
            r = r.header("authorization", auth);
        }
        r.send()
    };
    assert_eq!(get(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        get(Some("Bearer wrong")).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    let r = get(Some("Bearer scraper-token-0123456789")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("humit_"));
}

/// A CORS preflight for `POST /auth/token/` from `origin`: the allowed origin, if any.
async fn preflight(app: &TestApp, origin: &str) -> Option<String> {
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/auth/token/"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_string())
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let listed = app(|c| c.cors_origins = vec!["https://app.humit.example".into()]).await;
    assert_eq!(
        preflight(&listed, "https://app.humit.example")
            .await
            .as_deref(),
        Some("https://app.humit.example")
    );
    assert_eq!(preflight(&listed, "https://evil.example").await, None);
    listed.stop().await;
    // Nothing configured: no origin is allowed.
    let none = app(|_| {}).await;
    assert_eq!(preflight(&none, "https://evil.example").await, None);
}

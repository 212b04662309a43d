//! Finding 9: an access token minted from a refresh token never outlives its session.

use base64::Engine;
use serde_json::Value;

use crate::techfesia::spawn_configured;

fn exp(token: &str) -> i64 {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    claims["exp"].as_i64().expect("exp")
}

#[tokio::test]
async fn access_tokens_never_outlive_their_session() {
    // Sessions of 60 s, access tokens of 15 min: every access token ends with its session.
    let tf = spawn_configured(|config| {
        config.refresh_ttl_secs = 60;
        config.access_ttl_secs = 900;
    })
    .await;
    let (access, refresh) = tf.signed_up("short_lived", "Hello World").await;
    assert!(exp(&access) <= exp(&refresh), "the login's access token");
    let a = tf.refresh(&refresh).await;
    assert_eq!(a.status, 200, "{a:?}");
    let renewed = a.body["access"].as_str().unwrap();
    assert!(
        exp(renewed) <= exp(&refresh),
        "a refreshed access token ends with its session: {} > {}",
        exp(renewed),
        exp(&refresh)
    );
}

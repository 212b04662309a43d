//! The JWT negative matrix, in both dialects: every way a bearer credential can be wrong is
//! a 401 in the dialect's envelope, while the same claims correctly signed pass (so each
//! refusal is for the one thing changed).

use base64::Engine as _;
use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::humit::assert_error;
use crate::techfesia::spawn;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The claims of a token humit minted.
fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&B64.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value, secret: &[u8]) -> String {
    encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

fn with(claims: &Value, key: &str, value: Value) -> Value {
    let mut c = claims.clone();
    c[key] = value;
    c
}

fn without(claims: &Value, key: &str) -> Value {
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove(key);
    c
}

/// Every wrong credential for a dialect whose valid claims are `good`: (case, header value).
fn matrix(good: &Value, secret: &[u8], scheme: &str, other_aud: &str) -> Vec<(String, String)> {
    let now = chrono::Utc::now().timestamp();
    let valid = sign(good, secret);
    let alg_none = format!(
        "{}.{}.",
        B64.encode(br#"{"alg":"none","typ":"JWT"}"#),
        B64.encode(serde_json::to_vec(good).unwrap())
    );
    let mut cases: Vec<(String, String)> = vec![
        ("alg none".into(), alg_none),
        (
            "wrong key".into(),
            sign(good, b"another-secret-another-secret-another-secret"),
        ),
        (
            "expired".into(),
            sign(&with(good, "exp", json!(now - 3600)), secret),
        ),
        (
            "future nbf".into(),
            sign(&with(good, "nbf", json!(now + 3600)), secret),
        ),
        (
            "wrong iss".into(),
            sign(&with(good, "iss", json!("someone-else")), secret),
        ),
        (
            "wrong aud".into(),
            sign(&with(good, "aud", json!(other_aud)), secret),
        ),
        (
            "refresh as access".into(),
            sign(&with(good, "typ", json!("refresh")), secret),
        ),
        ("truncated".into(), valid[..valid.len() - 6].to_string()),
        (
            "16 KB signed".into(),
            sign(&with(good, "pad", json!("x".repeat(16 * 1024))), secret),
        ),
        ("16 KB garbage".into(), "a".repeat(16 * 1024)),
        ("empty".into(), String::new()),
        ("not a jwt".into(), "not-a-token".into()),
    ];
    for claim in ["exp", "iss", "aud", "sub", "sid", "typ"] {
        cases.push((
            format!("missing {claim}"),
            sign(&without(good, claim), secret),
        ));
    }
    let mut out: Vec<(String, String)> = cases
        .into_iter()
        .map(|(case, token)| (case, format!("{scheme} {token}")))
        .collect();
    let wrong_scheme = if scheme == "Bearer" {
        "humit"
    } else {
        "Bearer"
    };
    out.push(("wrong scheme".into(), format!("{wrong_scheme} {valid}")));
    out.push(("no scheme".into(), valid.clone()));
    out.push(("basic".into(), "Basic dXNlcjpwYXNz".into()));
    out
}

#[tokio::test]
async fn every_wrong_bearer_credential_is_a_401_in_the_envelope_in_both_dialects() {
    let tf = spawn().await;
    let (access, _) = tf.signed_up("jwt_matrix_user", "Matrix Password 1").await;
    let secret = tf.app.config.jwt_secret.clone().unwrap().into_bytes();
    let techfesia = claims_of(&access);
    let humit = with(&techfesia, "aud", json!("humit"));

    let dialects = [
        (
            "techfesia",
            "/users/jwt_matrix_user",
            "Bearer",
            &techfesia,
            "humit",
        ),
        ("humit", "/api/users/profile/", "humit", &humit, "techfesia"),
    ];
    let mut refused = 0;
    for (dialect, path, scheme, good, other) in dialects {
        // The same claims, correctly signed, pass: each case below changes one thing.
        let ok = tf
            .app
            .client
            .get(tf.app.url(path))
            .header("Authorization", format!("{scheme} {}", sign(good, &secret)))
            .send()
            .await
            .unwrap();
        assert_ne!(ok.status(), StatusCode::UNAUTHORIZED, "{dialect} baseline");
        for (case, authorization) in matrix(good, &secret, scheme, other) {
            let answer = tf
                .app
                .client
                .get(tf.app.url(path))
                .header("Authorization", authorization)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            let body: Value = answer.json().await.unwrap_or(Value::Null);
            if dialect == "humit" {
                let code = body["display_error"]["code"].as_str().unwrap_or_default();
                assert!(
                    code == "TOKEN_NOT_VALID" || code == "AUTHENTICATION_FAILED",
                    "{dialect} {case}: {status} {body}"
                );
                assert_error(status, &body, StatusCode::UNAUTHORIZED, code);
            } else {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{dialect} {case}: {body}");
                assert!(
                    body == json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"})
                        || body
                            == json!({"detail": "Authentication credentials were not provided."}),
                    "{dialect} {case}: {body}"
                );
            }
            refused += 1;
        }
    }
    eprintln!("jwt matrix: {refused} wrong credentials, each 401 in its envelope");
}

//! Finding 1: a provider token issued to another app never signs into humit once humit's
//! own client is configured. One in-test server plays the four providers the way they
//! behave: every token answers the "who am I" call, whichever app it was issued to; only the
//! providers' token checks (Google tokeninfo, Facebook `debug_token`, GitHub's application
//! token check, Spotify's refresh exchange) say which client a token belongs to.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

use crate::helpers::{spawn_with, test_config, TestApp};
use crate::probe;
use humit::startup::Mode;

const GOOGLE_CLIENT: &str = "humit-web.apps.googleusercontent.com";
const FB_APP: (&str, &str) = ("fb-humit", "fb-secret");
const GH_APP: (&str, &str) = ("gh-humit", "gh-secret");
const SP_APP: (&str, &str) = ("sp-humit", "sp-secret");

/// One token a provider issued: to which client, for which person.
struct Issued {
    client: &'static str,
    profile: Value,
}

type Tokens = Arc<HashMap<&'static str, Issued>>;

fn issued() -> Tokens {
    let p = |sub: &str| {
        json!({"sub": sub, "id": sub, "name": format!("Person {sub}"), "login": sub,
               "display_name": sub, "email": null})
    };
    Arc::new(HashMap::from([
        (
            "g-ours",
            Issued {
                client: GOOGLE_CLIENT,
                profile: p("g-1"),
            },
        ),
        (
            "g-theirs",
            Issued {
                client: "other.apps.googleusercontent.com",
                profile: p("g-2"),
            },
        ),
        (
            "fb-ours",
            Issued {
                client: FB_APP.0,
                profile: p("fb-1"),
            },
        ),
        (
            "fb-theirs",
            Issued {
                client: "fb-other",
                profile: p("fb-2"),
            },
        ),
        (
            "gh-ours",
            Issued {
                client: GH_APP.0,
                profile: p("4201"),
            },
        ),
        (
            "gh-theirs",
            Issued {
                client: "gh-other",
                profile: p("4202"),
            },
        ),
        // Spotify: access tokens anyone holds, refresh tokens, and what the exchange mints.
        (
            "sp-acc-theirs",
            Issued {
                client: "sp-other",
                profile: p("sp-victim"),
            },
        ),
        (
            "sp-ref-theirs",
            Issued {
                client: "sp-other",
                profile: p("sp-victim"),
            },
        ),
        (
            "sp-ref-ours",
            Issued {
                client: SP_APP.0,
                profile: p("sp-owner"),
            },
        ),
        (
            "sp-acc-minted",
            Issued {
                client: SP_APP.0,
                profile: p("sp-owner"),
            },
        ),
    ]))
}

fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let encoded = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn refused() -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_token"})),
    )
        .into_response()
}

/// `GET /{provider}/…` "who am I": answers for any token, whatever its client.
async fn whoami(State(tokens): State<Tokens>, headers: HeaderMap) -> Response {
    match tokens.get(bearer(&headers)) {
        Some(t) => Json(t.profile.clone()).into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn google_tokeninfo(
    State(tokens): State<Tokens>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    match form
        .get("access_token")
        .and_then(|t| tokens.get(t.as_str()))
    {
        Some(t) => {
            Json(json!({"aud": t.client, "azp": t.client, "sub": t.profile["sub"]})).into_response()
        }
        None => refused(),
    }
}

async fn facebook_debug(
    State(tokens): State<Tokens>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if query.get("access_token").map(String::as_str) != Some("fb-humit|fb-secret") {
        return (StatusCode::BAD_REQUEST, "bad app token").into_response();
    }
    match query
        .get("input_token")
        .and_then(|t| tokens.get(t.as_str()))
    {
        Some(t) => Json(json!({"data": {"app_id": t.client, "is_valid": true,
                                        "user_id": t.profile["id"]}}))
        .into_response(),
        None => Json(json!({"data": {"is_valid": false}})).into_response(),
    }
}

async fn github_check(
    State(tokens): State<Tokens>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if basic(&headers) != Some((GH_APP.0.into(), GH_APP.1.into())) || client_id != GH_APP.0 {
        return StatusCode::NOT_FOUND.into_response();
    }
    match body["access_token"].as_str().and_then(|t| tokens.get(t)) {
        Some(t) if t.client == client_id => {
            Json(json!({"user": {"id": t.profile["id"].as_str().unwrap().parse::<i64>().unwrap()}}))
                .into_response()
        }
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn spotify_token(
    State(tokens): State<Tokens>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let Some((id, secret)) = basic(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    };
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return refused();
    }
    match form
        .get("refresh_token")
        .and_then(|t| tokens.get(t.as_str()))
    {
        Some(t) if t.client == id && (id.as_str(), secret.as_str()) == SP_APP => Json(
            json!({"access_token": "sp-acc-minted", "token_type": "Bearer",
                        "expires_in": 3600}),
        )
        .into_response(),
        _ => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response(),
    }
}

async fn spotify_me(State(tokens): State<Tokens>, headers: HeaderMap) -> Response {
    match tokens.get(bearer(&headers)) {
        Some(t) => Json(
            json!({"id": t.profile["id"], "display_name": "x", "country": "IN",
                               "images": []}),
        )
        .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn providers() -> String {
    let app = Router::new()
        .route("/google/oauth2/v3/userinfo", get(whoami))
        .route("/google/oauth2/v3/tokeninfo", post(google_tokeninfo))
        .route("/facebook/me", get(whoami))
        .route("/facebook/debug_token", get(facebook_debug))
        .route("/github/user", get(whoami))
        .route("/github/applications/{client_id}/token", post(github_check))
        .route("/spotify/me", get(spotify_me))
        .route("/accounts/api/token", post(spotify_token))
        .with_state(issued());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn app(bound: bool) -> TestApp {
    let url = providers().await;
    let mut config = test_config();
    config.google_api_url = format!("{url}/google");
    config.facebook_api_url = format!("{url}/facebook");
    config.github_api_url = format!("{url}/github");
    config.spotify_api_url = format!("{url}/spotify");
    config.spotify_accounts_url = format!("{url}/accounts");
    if bound {
        config.google_client_id = Some(format!("{GOOGLE_CLIENT}, humit-android"));
        config.facebook_app_id = Some(FB_APP.0.into());
        config.facebook_app_secret = Some(FB_APP.1.into());
        config.github_client_id = Some(GH_APP.0.into());
        config.github_client_secret = Some(GH_APP.1.into());
        config.spotify_client_id = Some(SP_APP.0.into());
        config.spotify_client_secret = Some(SP_APP.1.into());
    }
    spawn_with(config, Mode::ALL).await
}

async fn oauth(app: &TestApp, provider: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url(&format!("/auth/o-auth/{provider}/")))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn signup(app: &TestApp, access: &str, refresh: &str) -> (StatusCode, Value) {
    let r = app
        .client
        .post(app.url("/api/users/auth/signup/"))
        .json(&json!({"access_token": access, "refresh_token": refresh}))
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn ready_providers(app: &TestApp) -> Value {
    let body = probe::json(app.client.get(app.url("/ready"))).await;
    body["providers"].clone()
}

#[tokio::test]
async fn a_token_issued_to_another_app_never_signs_in() {
    let app = app(true).await;
    for (provider, ours, theirs) in [
        ("google", "g-ours", "g-theirs"),
        ("facebook", "fb-ours", "fb-theirs"),
        ("github", "gh-ours", "gh-theirs"),
    ] {
        let (status, body) = oauth(&app, provider, json!({"accessToken": theirs})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{provider}: {body}");
        assert_eq!(body["code"], "token_not_valid", "{provider}: {body}");
        let (status, body) = oauth(&app, provider, json!({"accessToken": ours})).await;
        assert_eq!(status, StatusCode::OK, "{provider}: {body}");
        assert!(body["access"].is_string(), "{body}");
    }
    // Spotify on the Techfesia dialect: the refresh token is what binds (without one,
    // nothing is bound).
    let spotify = |refresh: Option<&str>| {
        let mut body = json!({"accessToken": "sp-acc-theirs"});
        if let Some(refresh) = refresh {
            body["refreshToken"] = refresh.into();
        }
        body
    };
    for refresh in [Some("sp-ref-theirs"), None] {
        let (status, body) = oauth(&app, "spotify", spotify(refresh)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{refresh:?}: {body}");
    }
    let (status, body) = oauth(&app, "spotify", spotify(Some("sp-ref-ours"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["username"], "sp-owner",
        "the exchanged token names the person"
    );

    // humit's sign-up: another app's Spotify tokens are refused in the humit envelope.
    let (status, body) = signup(&app, "sp-acc-theirs", "sp-ref-theirs").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["success"], false, "{body}");
    assert_eq!(body["display_error"]["status"], "error", "{body}");
    let (status, body) = signup(&app, "sp-acc-theirs", "sp-ref-ours").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["spotify_access_token"], "sp-acc-minted",
        "the tokens kept are the ones minted for humit"
    );
    assert_eq!(body["data"]["spotify_refresh_token"], "sp-ref-ours");
    assert_eq!(
        ready_providers(&app).await,
        json!({"google": "verified", "github": "verified", "facebook": "verified",
               "spotify": "verified"})
    );
}

#[tokio::test]
async fn without_a_client_a_provider_is_reported_unverified() {
    let app = app(false).await;
    assert_eq!(
        ready_providers(&app).await,
        json!({"google": "unverified", "github": "unverified", "facebook": "unverified",
               "spotify": "unverified"})
    );
    // The embedded default still signs in (development), which is why it is reported.
    let (status, body) = oauth(&app, "google", json!({"accessToken": "g-theirs"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

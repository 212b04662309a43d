//! Fake OAuth providers: one real axum server on port 0 answering Google's
//! `/google/oauth2/v3/userinfo`, GitHub's `/github/user`, Facebook's `/facebook/me` and
//! Spotify's `/spotify/me` for a fixed set of bearer tokens, as the real ones do.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

/// What a provider saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub query: Option<String>,
    pub authorization: Option<String>,
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    failing: Arc<AtomicBool>,
    profiles: Arc<HashMap<(&'static str, &'static str), Value>>,
}

/// The running fake providers.
pub struct FakeProviders {
    /// `http://127.0.0.1:<port>` (each provider under its own prefix).
    pub url: String,
    shared: Shared,
}

fn profiles() -> HashMap<(&'static str, &'static str), Value> {
    HashMap::from([
        (
            ("google", "g-alice"),
            json!({"sub": "g-100", "email": "alice@gmail.example", "email_verified": true,
                   "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
                   "picture": "https://pics.example/alice.jpg"}),
        ),
        (
            ("google", "g-bob-email"),
            json!({"sub": "g-200", "email": "bob@testers.techfesia.iiits.in",
                   "email_verified": true, "name": "Bobby Tables",
                   "picture": "https://pics.example/bobby.jpg"}),
        ),
        (
            ("google", "g-nopic"),
            json!({"sub": "g-300", "email": "nopic@gmail.example", "email_verified": true,
                   "name": "No Picture"}),
        ),
        (
            ("github", "gh-bob"),
            json!({"id": 4242, "login": "bobcodes", "name": "Bob Builder", "email": null,
                   "avatar_url": "https://avatars.example/bob.png"}),
        ),
        (
            ("facebook", "fb-dan"),
            json!({"id": "fb-1", "name": "Dan Brown", "email": "dan@fb.example",
                   "picture": {"data": {"url": "https://fb.example/dan.jpg"}}}),
        ),
        (
            ("spotify", "sp-erin"),
            json!({"id": "erin.sp", "display_name": "Erin Sp", "email": "erin@sp.example",
                   "images": [{"url": "https://sp.example/erin.jpg"}]}),
        ),
    ])
}

async fn answer(
    State(shared): State<Shared>,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    shared.seen.lock().unwrap().push(Seen {
        path: uri.path().to_string(),
        query: query.clone(),
        authorization: authorization.clone(),
    });
    if shared.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response();
    }
    let token = authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or_default();
    let key = match provider.as_str() {
        "google" => "google",
        "github" => "github",
        "facebook" => "facebook",
        "spotify" => "spotify",
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match shared.profiles.get(&(key, token)) {
        Some(profile) => Json(profile.clone()).into_response(),
        None => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"status": 401, "message": "Invalid access token"}})),
        )
            .into_response(),
    }
}

impl FakeProviders {
    /// Starts the server on a free port.
    pub async fn start() -> Self {
        let shared = Shared {
            profiles: Arc::new(profiles()),
            ..Shared::default()
        };
        let app = Router::new()
            .route("/{provider}/oauth2/v3/userinfo", get(answer))
            .route("/{provider}/user", get(answer))
            .route("/{provider}/me", get(answer))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url, shared }
    }

    /// Every request seen so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// Makes every provider answer 500 (or work again).
    pub fn set_failing(&self, failing: bool) {
        self.shared.failing.store(failing, Ordering::SeqCst);
    }
}

//! An in-test Spotify Web API: a real axum server on port 0 answering `GET /v1/me` and
//! `POST /v1/users/{id}/playlists` for the tokens a test registers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

/// A playlist the fake created.
#[derive(Debug, Clone)]
pub struct Playlist {
    pub id: String,
    pub owner: String,
    pub name: String,
}

#[derive(Default)]
struct Inner {
    /// Access token → (Spotify id, country).
    tokens: HashMap<String, (String, Option<String>)>,
    /// Tokens answered with a 500.
    broken: Vec<String>,
    playlists: Vec<Playlist>,
    me_calls: usize,
}

/// The fake Spotify.
#[derive(Clone)]
pub struct FakeSpotify {
    /// Base URL, as `HUMIT_SPOTIFY_API_URL` (`http://127.0.0.1:<port>/v1`).
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

fn spotify_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": {"status": status.as_u16(), "message": message}})),
    )
        .into_response()
}

async fn me(State(inner): State<Arc<Mutex<Inner>>>, headers: HeaderMap) -> Response {
    let mut inner = inner.lock().unwrap();
    inner.me_calls += 1;
    let Some(token) = bearer(&headers) else {
        return spotify_error(StatusCode::UNAUTHORIZED, "No token provided");
    };
    if inner.broken.contains(&token) {
        return spotify_error(StatusCode::INTERNAL_SERVER_ERROR, "Server error");
    }
    match inner.tokens.get(&token) {
        Some((id, country)) => Json(json!({
            "id": id,
            "display_name": format!("{id} on Spotify"),
            "country": country,
            "images": [{"url": format!("https://i.scdn.co/image/{id}"), "height": 300, "width": 300}],
            "type": "user",
        }))
        .into_response(),
        None => spotify_error(StatusCode::UNAUTHORIZED, "The access token expired"),
    }
}

async fn create_playlist(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(user): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut inner = inner.lock().unwrap();
    let owner = bearer(&headers).and_then(|t| inner.tokens.get(&t).map(|(id, _)| id.clone()));
    match owner {
        None => spotify_error(StatusCode::UNAUTHORIZED, "The access token expired"),
        Some(owner) if owner != user => spotify_error(
            StatusCode::FORBIDDEN,
            "You cannot create a playlist for another user",
        ),
        Some(owner) => {
            let id = format!("pl{}", &uuid::Uuid::new_v4().simple().to_string()[..20]);
            inner.playlists.push(Playlist {
                id: id.clone(),
                owner,
                name: body["name"].as_str().unwrap_or_default().to_string(),
            });
            (
                StatusCode::CREATED,
                Json(json!({"id": id, "name": body["name"], "public": body["public"]})),
            )
                .into_response()
        }
    }
}

impl FakeSpotify {
    /// Starts the fake on a free port.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let router = Router::new()
            .route("/v1/me", get(me))
            .route("/v1/users/{user}/playlists", post(create_playlist))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self {
            url: format!("http://127.0.0.1:{port}/v1"),
            inner,
        }
    }

    /// Makes `token` belong to Spotify user `spotify_id`.
    pub fn grant(&self, token: &str, spotify_id: &str, country: Option<&str>) {
        self.inner.lock().unwrap().tokens.insert(
            token.to_string(),
            (spotify_id.to_string(), country.map(str::to_string)),
        );
    }

    /// Spotify forgets `token` (expired).
    pub fn expire(&self, token: &str) {
        self.inner.lock().unwrap().tokens.remove(token);
    }

    /// `token` makes Spotify answer 500.
    pub fn break_token(&self, token: &str) {
        self.inner.lock().unwrap().broken.push(token.to_string());
    }

    /// The playlists created so far.
    pub fn playlists(&self) -> Vec<Playlist> {
        self.inner.lock().unwrap().playlists.clone()
    }

    /// How many times `/me` was asked.
    pub fn me_calls(&self) -> usize {
        self.inner.lock().unwrap().me_calls
    }
}

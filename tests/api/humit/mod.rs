//! The humit app API, end to end: a humit process per test (real Postgres and RabbitMQ) with
//! its Spotify pointed at an in-test server ([`spotify::FakeSpotify`]).

#![allow(dead_code)]

mod auth;
mod checks;
mod hums;
mod people;
mod projection;
mod registration;
mod s3;
mod seed;
pub mod spotify;
mod stations;
pub mod uploads;

use aggregates::user::{Action, Privileges, Role, User, UserCommand};
use humit::config::Config;
use humit::startup::Mode;
use humit::store::CommandContext;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{spawn_with, test_config, TestApp};
use spotify::FakeSpotify;

/// A humit process and its fake Spotify.
pub struct Humit {
    pub app: TestApp,
    pub spotify: FakeSpotify,
}

/// A signed-up humit user.
#[derive(Debug, Clone)]
pub struct Session {
    pub access: String,
    pub refresh: String,
    pub user_id: String,
    pub spotify_id: String,
    pub spotify_token: String,
    pub referral_code: String,
    pub handle: String,
}

/// Starts humit with a fake Spotify.
pub async fn spawn() -> Humit {
    spawn_configured(|_| {}).await
}

/// Starts humit with a fake Spotify, after `adjust` changed the configuration.
pub async fn spawn_configured(adjust: impl FnOnce(&mut Config)) -> Humit {
    let spotify = FakeSpotify::start().await;
    let mut config = test_config();
    config.spotify_api_url = spotify.url.clone();
    adjust(&mut config);
    let app = spawn_with(config, Mode::ALL).await;
    Humit { app, spotify }
}

/// The seed's registration form, with a handle.
pub fn form(handle: &str) -> Value {
    json!({
        "date_of_birth": "1994-4-26",
        "display_username": handle,
        "favourite_artists": "{\"data\":[]}",
        "full_name": "Breakfree",
        "notification_id": null,
        "referral_code": null,
    })
}

/// Asserts the humit error envelope, exactly.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_error_for("", status, body, expected, code);
}

/// Asserts the humit error envelope word for word, its message included, as the seed shows it.
pub fn assert_seed_error(body: &Value, code: &str, message: &str) {
    let error = json!({"code": code, "message": message, "status": "error"});
    let envelope =
        json!({"display_error": error, "errors": [error], "extra_data": {}, "success": false});
    assert_eq!(body, &envelope);
}

/// [`assert_error`], each failure message starting with `what` (the request it answers).
pub fn assert_error_for(
    what: &str,
    status: StatusCode,
    body: &Value,
    expected: StatusCode,
    code: &str,
) {
    assert_eq!(status, expected, "{what}{body}");
    assert_eq!(body["success"], false, "{what}{body}");
    assert_eq!(body["display_error"]["code"], code, "{what}{body}");
    assert_eq!(body["display_error"]["status"], "error", "{what}{body}");
    assert!(body["display_error"]["message"].is_string(), "{what}{body}");
    assert_eq!(
        body["errors"],
        json!([body["display_error"]]),
        "{what}{body}"
    );
    assert_eq!(body["extra_data"], json!({}), "{what}{body}");
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    let envelope = ["display_error", "errors", "extra_data", "success"];
    assert_eq!(keys, envelope, "{what}{body}");
}

/// One request of a table and the humit error it must answer: its status and code, in the
/// envelope [`assert_error`] checks.
pub struct Refusal {
    status: u16,
    method: Method,
    path: String,
    body: Option<Value>,
    code: &'static str,
}

impl Refusal {
    /// `GET path` must answer `status` with `code`.
    pub fn get(status: u16, path: impl Into<String>, code: &'static str) -> Self {
        Self::new(status, Method::GET, path, None, code)
    }

    /// `POST path` with `body` must answer `status` with `code`.
    pub fn post(status: u16, path: impl Into<String>, body: Value, code: &'static str) -> Self {
        Self::new(status, Method::POST, path, Some(body), code)
    }

    /// `DELETE path` must answer `status` with `code`.
    pub fn delete(status: u16, path: impl Into<String>, code: &'static str) -> Self {
        Self::new(status, Method::DELETE, path, None, code)
    }

    /// `method path` (with `body`, if any) must answer `status` with `code`.
    pub fn new(
        status: u16,
        method: Method,
        path: impl Into<String>,
        body: Option<Value>,
        code: &'static str,
    ) -> Self {
        let path = path.into();
        Self {
            status,
            method,
            path,
            body,
            code,
        }
    }
}

/// Asserts the humit success envelope, exactly (200, `success`, `data`); answers the `data`.
pub fn assert_ok(status: StatusCode, body: &Value) -> &Value {
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true, "{body}");
    assert_eq!(keys(body), ["data", "success"]);
    &body["data"]
}

/// The seed's fields of the humit answer published as `schema`, sorted: the one list in
/// `tests/fixtures/humit-fields.json`, which the server's unit tests hold the serializers and
/// the published schemas to as well.
pub fn seed_fields(schema: &str) -> Vec<String> {
    let all: serde_json::Map<String, Value> =
        serde_json::from_str(include_str!("../../fixtures/humit-fields.json")).unwrap();
    let fields = all
        .get(schema)
        .unwrap_or_else(|| panic!("no {schema} in tests/fixtures/humit-fields.json"));
    serde_json::from_value(fields.clone()).unwrap()
}

/// The keys of an object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

impl Humit {
    /// Any request; answers the status and the JSON body (`null` when not JSON).
    pub async fn call(
        &self,
        method: Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.header("Authorization", format!("humit {token}"));
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Sends each row of a table as `token`, in order, and asserts the error it must answer;
    /// a failing row names itself (method, path and body).
    pub async fn refuses<const N: usize>(&self, token: Option<&str>, rows: [Refusal; N]) {
        for row in rows {
            let mut what = format!("{} {}", row.method, row.path);
            if let Some(body) = &row.body {
                what.push_str(&format!(" {body}"));
            }
            what.push_str(": ");
            let (status, body) = self.call(row.method, token, &row.path, row.body).await;
            let expected = StatusCode::from_u16(row.status).expect("a status code");
            assert_error_for(&what, status, &body, expected, row.code);
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, Some(token), path, None).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, Some(token), path, Some(body)).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, Some(token), path, None).await
    }

    /// Signs up through `/api/users/auth/signup/`; the raw answer.
    pub async fn signup_raw(&self, access: &str, refresh: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            None,
            "/api/users/auth/signup/",
            Some(json!({
                "access_token": access,
                "refresh_token": refresh,
                "signup_method": "SPOTIFY",
                "notification_id": null,
            })),
        )
        .await
    }

    /// Grants a Spotify token for `spotify_id` and signs up with it.
    pub async fn signup(&self, spotify_id: &str) -> Session {
        let token = format!("sp-access-{spotify_id}-{}", uuid::Uuid::new_v4().simple());
        self.spotify.grant(&token, spotify_id, Some("IN"));
        let (status, body) = self
            .signup_raw(&token, &format!("sp-refresh-{spotify_id}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let access = body["data"]["humit_access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let refresh = body["data"]["humit_refresh_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, profile) = self.get(&access, "/api/users/profile/").await;
        assert_eq!(status, StatusCode::OK, "{profile}");
        Session {
            access,
            refresh,
            user_id: profile["data"]["user_id"].as_str().unwrap().to_string(),
            spotify_id: spotify_id.to_string(),
            spotify_token: token,
            referral_code: profile["data"]["referral_code"]
                .as_str()
                .unwrap()
                .to_string(),
            handle: profile["data"]["user_handle"].as_str().unwrap().to_string(),
        }
    }

    /// Signs up and submits the registration form with `handle`.
    pub async fn registered(&self, spotify_id: &str, handle: &str) -> Session {
        let mut session = self.signup(spotify_id).await;
        let (status, body) = self
            .post(&session.access, "/api/users/profile/", form(handle))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        session.handle = handle.to_string();
        session
    }

    /// A signed-up user made staff who may create stations.
    pub async fn staff(&self, spotify_id: &str) -> Session {
        let privileges = Privileges::from([("station".into(), [Action::Create].into())]);
        self.with_role(spotify_id, Role::Staff, privileges).await
    }

    /// A signed-up user given `role` with `privileges`.
    pub async fn with_role(&self, spotify_id: &str, role: Role, privileges: Privileges) -> Session {
        let session = self.signup(spotify_id).await;
        let position = self
            .app
            .state
            .commands
            .execute::<User>(
                &session.user_id,
                UserCommand::SetRole {
                    role,
                    privileges,
                    now: chrono::Utc::now(),
                },
                &CommandContext::system(),
            )
            .await
            .unwrap();
        self.app.state.sync_auth(position).await;
        session
    }

    /// Creates a station as `staff`; answers its id.
    pub async fn station(&self, staff: &Session, name: &str) -> String {
        let (status, body) = self
            .post(
                &staff.access,
                "/api/stations/",
                json!({"name": name, "description": format!("{name} all day"), "image_url": "https://img.example/s.jpg"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["station_id"].as_str().unwrap().to_string()
    }

    /// `count` stations created by `staff`, named `prefix` and their index; answers their ids.
    pub async fn stations(&self, staff: &Session, prefix: &str, count: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(count);
        for i in 0..count {
            ids.push(self.station(staff, &format!("{prefix}{i}")).await);
        }
        ids
    }

    /// Signs up and registers each `(spotify_id, handle)`, in order.
    pub async fn registered_all<const N: usize>(&self, people: [(&str, &str); N]) -> [Session; N] {
        let mut sessions = Vec::with_capacity(N);
        for (spotify_id, handle) in people {
            sessions.push(self.registered(spotify_id, handle).await);
        }
        sessions.try_into().expect("one session each")
    }

    /// `who` follows the person `whom`; answers the body.
    pub async fn follow_user(&self, who: &Session, whom: &Session) -> Value {
        self.toward(who, "follow", whom).await
    }

    /// `who` mutes the person `whom`; answers the body.
    pub async fn mute_user(&self, who: &Session, whom: &Session) -> Value {
        self.toward(who, "mute", whom).await
    }

    /// `who` POSTs `/api/users/<whom>/<action>/`, which must answer 200; answers the body.
    async fn toward(&self, who: &Session, action: &str, whom: &Session) -> Value {
        let path = format!("/api/users/{}/{action}/", whom.user_id);
        let (status, body) = self.post(&who.access, &path, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Asks for a profile picture upload as `session`; answers the `data` (`id`, `upload_url`).
    pub async fn upload_slot(&self, session: &Session) -> Value {
        let body = json!({"file_type": "profile"});
        let (status, body) = self.post(&session.access, UPLOAD, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }

    /// Follows `stations` as `session`.
    pub async fn follow_stations(&self, session: &Session, stations: &[String]) {
        for station in stations {
            let (status, body) = self
                .post(
                    &session.access,
                    &format!("/api/stations/{station}/follow/"),
                    json!({}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }

    /// The first page of two of the list at `path` (`?limit=2&offset=0`), checked to count
    /// `count` in all and to link the next page absolutely and no previous one.
    pub async fn first_page_of_two(&self, token: &str, path: &str, count: u64) -> Value {
        let (status, body) = self.get(token, &format!("{path}?limit=2&offset=0")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let page = body["data"].clone();
        assert_eq!(page["count"], count);
        let next = format!("{}{path}?limit=2&offset=2", self.app.address);
        assert_eq!(page["next"], next.as_str());
        assert!(page["previous"].is_null());
        page
    }

    /// The caller's profile (`data`).
    pub async fn profile(&self, session: &Session) -> Value {
        let (status, body) = self.get(&session.access, "/api/users/profile/").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["data"].clone()
    }
}

/// A small valid JPEG (a JPEG header is what humit checks).
pub fn jpeg(size: usize) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.resize(size.max(4), 0x42);
    bytes
}

/// The caller's profile: read it, or submit the registration form.
pub const PROFILE: &str = "/api/users/profile/";

/// Where a picture upload starts.
pub const UPLOAD: &str = "/api/users/files/upload/";

/// A Spotify-shaped track id.
pub const TRACK: &str = "4uLU6hMCjMI75M1A2tKUQC";

//! The Techfesia user API, end to end: a humit process per test (real Postgres and RabbitMQ),
//! its OAuth providers pointed at an in-test HTTP server ([`providers::FakeProviders`]) and,
//! where a test asks, its mail at an in-test SMTP server ([`smtp::FakeSmtp`]).

#![allow(dead_code)]

mod auth;
mod cli;
mod docs;
mod oauth;
pub mod passwords;
pub mod providers;
mod roles;
pub mod smtp;
mod user_changes;
mod users;

use humit::config::Config;
use humit::startup::Mode;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_with, test_config, TestApp};
use providers::FakeProviders;

/// A humit process and its fake OAuth providers.
pub struct Tf {
    pub app: TestApp,
    pub providers: FakeProviders,
}

/// The answer to a call: status and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

/// One request of a table and the status it must get.
pub struct Row {
    status: u16,
    method: Method,
    path: String,
    body: Option<Value>,
}

impl Row {
    /// `GET path` must answer `status`.
    pub fn get(status: u16, path: &str) -> Self {
        Self::new(status, Method::GET, path, None)
    }

    /// `DELETE path` must answer `status`.
    pub fn delete(status: u16, path: &str) -> Self {
        Self::new(status, Method::DELETE, path, None)
    }

    /// `PUT path` without a body must answer `status`.
    pub fn put_bare(status: u16, path: &str) -> Self {
        Self::new(status, Method::PUT, path, None)
    }

    /// `PUT path` with `body` must answer `status`.
    pub fn put(status: u16, path: &str, body: Value) -> Self {
        Self::new(status, Method::PUT, path, Some(body))
    }

    /// `POST path` with `body` must answer `status`.
    pub fn post(status: u16, path: &str, body: Value) -> Self {
        Self::new(status, Method::POST, path, Some(body))
    }

    fn new(status: u16, method: Method, path: &str, body: Option<Value>) -> Self {
        let path = path.to_string();
        Self {
            status,
            method,
            path,
            body,
        }
    }
}

/// The ten fields of a user in the seed, in its order.
pub const USER_FIELDS: [&str; 10] = [
    "publicId",
    "username",
    "firstName",
    "lastName",
    "email",
    "phoneNumber",
    "collegeName",
    "profilePicture",
    "dateJoined",
    "lastLogin",
];

/// The superuser every [`Tf`] can create.
pub const ROOT: &str = "sample_superuser_001";
/// Its password (the seed's).
pub const ROOT_PASSWORD: &str = "Hello Superuser Password";

/// Starts humit with fake providers.
pub async fn spawn() -> Tf {
    spawn_configured(|_| {}).await
}

/// Starts humit with fake providers, after `adjust` changed the configuration.
pub async fn spawn_configured(adjust: impl FnOnce(&mut Config)) -> Tf {
    let providers = FakeProviders::start().await;
    let mut config = test_config();
    config.google_api_url = format!("{}/google", providers.url);
    config.github_api_url = format!("{}/github", providers.url);
    config.facebook_api_url = format!("{}/facebook", providers.url);
    config.spotify_api_url = format!("{}/spotify", providers.url);
    adjust(&mut config);
    let app = spawn_with(config, Mode::ALL).await;
    Tf { app, providers }
}

impl Tf {
    /// Calls `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self.app.client.request(method, self.app.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("body read");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Answer {
            status,
            body,
            headers,
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Answer {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Answer {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// Sends `method path` as `token` (with `body`, if any) and asserts the status.
    pub async fn expect(
        &self,
        status: u16,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let answer = self.call(method.clone(), path, token, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {answer:?}");
        answer
    }

    /// [`Tf::expect`] for each row of a table, all sent as `token`: one row a request, so a
    /// failing one names itself.
    pub async fn expect_as<const N: usize>(&self, token: Option<&str>, rows: [Row; N]) {
        for row in rows {
            let (status, method) = (row.status, row.method);
            self.expect(status, method, &row.path, token, row.body)
                .await;
        }
    }

    /// `POST /auth/o-auth/<provider>` (`provider` as the path ends: `google/`, `google`) with a
    /// provider's access token, signed in as `bearer` or not.
    pub async fn oauth(&self, provider: &str, bearer: Option<&str>, access_token: &str) -> Answer {
        let path = format!("/auth/o-auth/{provider}");
        self.post(&path, bearer, json!({"accessToken": access_token}))
            .await
    }

    /// `POST /auth/token/`: a sign-in attempt, whatever it answers.
    pub async fn token(&self, username: &str, password: &str) -> Answer {
        let body = json!({"username": username, "password": password});
        self.post("/auth/token/", None, body).await
    }

    /// `POST /auth/token/refresh/` with a refresh token.
    pub async fn refresh(&self, refresh: &str) -> Answer {
        let body = json!({"refresh": refresh});
        self.post("/auth/token/refresh/", None, body).await
    }

    /// Creates a user with the seed's fields around `username`; answers the 201 body.
    pub async fn create_user(&self, username: &str, password: &str) -> Value {
        let answer = self
            .post("/users/", None, seed_user(username, password))
            .await;
        assert_eq!(answer.status, 201, "{answer:?}");
        answer.body
    }

    /// Signs in; answers (access, refresh).
    pub async fn login(&self, username: &str, password: &str) -> (String, String) {
        let answer = self.token(username, password).await;
        assert_eq!(answer.status, 200, "{answer:?}");
        (
            answer.body["access"].as_str().unwrap().to_string(),
            answer.body["refresh"].as_str().unwrap().to_string(),
        )
    }

    /// Creates `username` with the seed's fields and `password` and signs in; answers
    /// (access, refresh).
    pub async fn signed_up(&self, username: &str, password: &str) -> (String, String) {
        self.create_user(username, password).await;
        self.login(username, password).await
    }

    /// Asserts that a session is over: `GET path` with its access token answers 401, and so
    /// does a refresh with its refresh token.
    pub async fn assert_ended(&self, path: &str, access: &str, refresh: &str) {
        let a = self.get(path, Some(access)).await;
        assert_eq!(a.status, 401, "the access token still works: {a:?}");
        let a = self.refresh(refresh).await;
        assert_eq!(a.status, 401, "the refresh token still works: {a:?}");
    }

    /// Creates the superuser (through the CLI's use case) and signs in; answers its access token.
    pub async fn root(&self) -> String {
        create_root(&self.app).await;
        self.login(ROOT, ROOT_PASSWORD).await.0
    }

    /// Creates `username`, makes it staff with `privileges` (as `root`), signs in; answers
    /// its access token.
    pub async fn staff(&self, root: &str, username: &str, privileges: Value) -> String {
        self.create_user(username, "Hello Staff Password").await;
        let answer = self
            .put(
                &format!("/users/{username}/privileges"),
                Some(root),
                json!({"state": "staff", "privileges": privileges}),
            )
            .await;
        assert_eq!(answer.status, 200, "{answer:?}");
        self.login(username, "Hello Staff Password").await.0
    }
}

/// Creates the superuser [`ROOT`] in `app` through the CLI's use case.
pub async fn create_root(app: &TestApp) {
    humit::cli::superuser::create(&app.state, ROOT, "root@techfesia.example", ROOT_PASSWORD)
        .await
        .expect("superuser created");
}

/// The seed's `POST /users/` body for `username`.
pub fn seed_user(username: &str, password: &str) -> Value {
    json!({
        "username": username,
        "firstName": "Test",
        "lastName": "User",
        "email": format!("{username}@testers.techfesia.iiits.in"),
        "password": password,
        "phoneNumber": "+911234567890",
        "collegeName": "Test College 123",
        "profilePicture": "url_to_profile_pic",
    })
}

/// The keys of a JSON object, sorted.
pub fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    keys
}

/// `fields`, sorted, as owned strings (to compare with [`keys`]).
pub fn sorted(fields: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

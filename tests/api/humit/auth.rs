//! Sign-up with Spotify tokens, token refresh, and the `humit <token>` header.

use std::time::Duration;

use aggregates::user::User;
use base64::Engine;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use super::{assert_error, assert_ok, form, keys, seed_fields, spawn, Refusal};
use crate::helpers::Subscriber;
use crate::probe::{self, post_raw, scalar};

fn jwt_claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn signup_creates_the_user_at_stage_0_and_answers_the_seed_shape() {
    let h = spawn().await;
    h.spotify
        .grant("sp-acc-1", "tmk3tmfmf2mmag48cph6bntbl", Some("IN"));
    let (status, body) = h.signup_raw("sp-acc-1", "sp-ref-1").await;
    let data = assert_ok(status, &body);
    assert_eq!(keys(data), seed_fields("SignupData"));
    assert_eq!(data["signup_stage"], 0);
    assert_eq!(data["spotify_access_token"], "sp-acc-1");
    assert_eq!(data["spotify_refresh_token"], "sp-ref-1");
    // Access tokens live 3600 s.
    let access = data["humit_access_token"].as_str().unwrap();
    let claims = jwt_claims(access);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3600
    );
    // The token works at once; the provisional handle is the Spotify id.
    let (status, profile) = h.get(access, "/api/users/profile/").await;
    assert_eq!(status, StatusCode::OK, "{profile}");
    let p = &profile["data"];
    assert_eq!(p["user_handle"], "tmk3tmfmf2mmag48cph6bntbl");
    assert_eq!(p["signup_stage"], 0);
    assert_eq!(p["signup_done"], false);
    assert_eq!(p["country_name"], "IN");
    assert_eq!(p["profile_pic_url"], "");
    assert_eq!(p["notification_id"], "");
    assert!(p["date_of_birth"].is_null());
    assert!(p["user_id"].is_string());
    let code = p["referral_code"].as_str().unwrap();
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()));
}

#[tokio::test]
async fn signing_up_again_finds_the_same_user_and_stores_the_new_spotify_tokens() {
    let h = spawn().await;
    let first = h.signup("alice").await;
    h.registered_form(&first).await;
    h.spotify.grant("sp-acc-new", "alice", Some("IN"));
    let (status, body) = h.signup_raw("sp-acc-new", "sp-ref-new").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["signup_stage"], 1);
    let access = body["data"]["humit_access_token"].as_str().unwrap();
    let (_, profile) = h.get(access, "/api/users/profile/").await;
    assert_eq!(profile["data"]["user_id"], first.user_id.as_str());
    // The aggregate keeps the latest tokens, to call Spotify for the user.
    let user: User = h.app.state.commands.load(&first.user_id).await.unwrap();
    assert_eq!(user.spotify_access_token(), Some("sp-acc-new"));
    assert_eq!(user.spotify_refresh_token(), Some("sp-ref-new"));
}

impl super::Humit {
    async fn registered_form(&self, session: &super::Session) {
        let (status, body) = self
            .post(&session.access, "/api/users/profile/", form("Alice_1"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// `POST /api/users/auth/token-refresh/` as `token` (a refresh token, if it is to work).
    async fn token_refresh(&self, token: Option<&str>) -> (StatusCode, Value) {
        let path = "/api/users/auth/token-refresh/";
        self.call(Method::POST, token, path, None).await
    }
}

#[tokio::test]
async fn spotify_tokens_stay_secret_on_the_bus_in_read_models_and_at_rest() {
    let h = spawn().await;
    let mut subscriber = Subscriber::bind(&h.app.config.exchange, "User.#").await;
    let session = h.signup("secretive").await;
    let token = session.spotify_token.clone();
    // On the bus: the tokens are redacted.
    // Registered, provider linked, tokens stored: one command, the first three messages.
    let received = subscriber.take(3, Duration::from_secs(20)).await;
    let updated: Vec<_> = received
        .iter()
        .filter(|e| e.event_type == "SpotifyTokensUpdated")
        .collect();
    assert_eq!(updated.len(), 1);
    let published = updated[0].payload.to_string();
    assert!(!published.contains(&token), "{published}");
    assert!(!published.contains("sp-refresh-secretive"), "{published}");
    // In the read models: nowhere.
    let rows: String = scalar(&h.app.pool, "SELECT row_to_json(u)::text FROM rm_users u").await;
    assert!(!rows.contains(&token));
    // At rest: encrypted with the person's key.
    let stored: Vec<String> = sqlx::query_scalar("SELECT payload::text FROM events")
        .fetch_all(&h.app.pool)
        .await
        .unwrap();
    assert!(stored
        .iter()
        .all(|p| !p.contains(&token) && !p.contains("sp-refresh-secretive")));
}

#[tokio::test]
async fn a_token_spotify_rejects_is_a_clear_401_and_an_outage_a_502() {
    let h = spawn().await;
    let (status, body) = h.signup_raw("never-granted", "r").await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "SPOTIFY_TOKEN_INVALID",
    );
    h.spotify.break_token("boom");
    let (status, body) = h.signup_raw("boom", "r").await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_GATEWAY,
        "SPOTIFY_UNAVAILABLE",
    );
    // Nobody was created.
    let users: i64 = scalar(
        &h.app.pool,
        "SELECT count(*) FROM events WHERE aggregate_type = 'User'",
    )
    .await;
    assert_eq!(users, 0);
}

#[tokio::test]
async fn signup_input_is_checked_before_spotify_is_asked() {
    let h = spawn().await;
    let bad = |body, code| Refusal::post(400, "/api/users/auth/signup/", body, code);
    let rows = [
        bad(json!({"refresh_token": "r"}), "MISSING_FIELD"),
        bad(json!({"access_token": "a"}), "MISSING_FIELD"),
        bad(
            json!({"access_token": "a", "refresh_token": "r", "signup_method": "APPLE_MUSIC"}),
            "INVALID_SIGNUP_METHOD",
        ),
        bad(
            json!({"access_token": "a", "refresh_token": "r", "notification_id": 42}),
            "INVALID_NOTIFICATION_ID",
        ),
        bad(
            json!({"access_token": 5, "refresh_token": "r"}),
            "INVALID_INPUT",
        ),
    ];
    h.refuses(None, rows).await;
    let json = [("content-type", "application/json")];
    let (status, body) = post_raw(&h.app, "/api/users/auth/signup/", &json, "{not json").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_JSON");
    assert_eq!(h.spotify.me_calls(), 0);
}

#[tokio::test]
async fn the_notification_id_given_at_signup_shows_in_the_profile() {
    let h = spawn().await;
    h.spotify.grant("sp-n", "noti", None);
    let (status, body) = h
        .call(
            Method::POST,
            None,
            "/api/users/auth/signup/",
            Some(json!({"access_token": "sp-n", "refresh_token": "r", "signup_method": "SPOTIFY", "notification_id": "fcm-123"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["data"]["humit_access_token"].as_str().unwrap();
    let (_, profile) = h.get(access, "/api/users/profile/").await;
    assert_eq!(profile["data"]["notification_id"], "fcm-123");
    assert_eq!(profile["data"]["country_name"], "");
}

#[tokio::test]
async fn a_provisional_handle_someone_chose_gets_a_suffix() {
    let h = spawn().await;
    h.registered("first", "bob").await;
    let bob = h.signup("bob").await;
    assert_ne!(bob.handle, "bob");
    assert!(bob.handle.starts_with("bob"), "{}", bob.handle);
}

#[tokio::test]
async fn token_refresh_mints_an_access_token_from_a_refresh_token_only() {
    let h = spawn().await;
    let s = h.signup("refresher").await;
    let (status, body) = h.token_refresh(Some(&s.refresh)).await;
    let data = assert_ok(status, &body);
    assert_eq!(keys(data), ["humit_access_token"]);
    let access = data["humit_access_token"].as_str().unwrap();
    let (status, _) = h.get(access, "/api/users/profile/").await;
    assert_eq!(status, StatusCode::OK);
    // An access token is not a refresh token, nor the other way round.
    let (status, body) = h.token_refresh(Some(&s.access)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "TOKEN_NOT_VALID");
    let (status, body) = h.get(&s.refresh, "/api/users/profile/").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "TOKEN_NOT_VALID");
    // No header, another scheme, garbage.
    let (status, body) = h.token_refresh(None).await;
    assert_error(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "AUTHENTICATION_FAILED",
    );
    let response = h
        .app
        .client
        .post(h.app.url("/api/users/auth/token-refresh/"))
        .bearer_auth(&s.refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = h.get("not.a.token", "/api/users/profile/").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "TOKEN_NOT_VALID");
}

#[tokio::test]
async fn every_humit_endpoint_wants_a_token() {
    let h = spawn().await;
    let endpoints = [
        (Method::GET, "/api/users/username/?username=abc"),
        (Method::GET, "/api/users/referral_code/?code=123456"),
        (Method::POST, "/api/users/files/upload/"),
        (Method::POST, "/api/users/profile/"),
        (Method::GET, "/api/users/profile/"),
        (Method::POST, "/api/stations/"),
        (Method::GET, "/api/stations/discover/"),
        (Method::POST, "/api/stations/s1/follow/"),
        (Method::DELETE, "/api/stations/s1/follow/"),
        (Method::GET, "/api/stations/s1/hums/"),
        (Method::GET, "/api/users/discover/"),
        (Method::GET, "/api/users/onboard/?code=123456"),
        (Method::POST, "/api/users/u1/follow/"),
        (Method::DELETE, "/api/users/u1/follow/"),
        (Method::POST, "/api/users/u1/mute/"),
        (Method::DELETE, "/api/users/u1/mute/"),
        (Method::POST, "/api/hums/"),
    ];
    let rows = endpoints.map(|(method, path)| {
        Refusal::new(401, method, path, Some(json!({})), "AUTHENTICATION_FAILED")
    });
    h.refuses(None, rows).await;
    // Unknown paths under /api answer in the envelope too.
    let unknown = Refusal::get(404, "/api/nothing/here/", "NOT_FOUND");
    h.refuses(Some("x"), [unknown]).await;
}

#[tokio::test]
async fn the_openapi_document_covers_the_humit_dialect() {
    let h = spawn().await;
    let doc = probe::json(h.app.client.get(h.app.url("/openapi.json"))).await;
    for path in [
        "/api/users/auth/signup/",
        "/api/users/auth/token-refresh/",
        "/api/users/username/",
        "/api/users/referral_code/",
        "/api/users/files/upload/",
        "/api/users/profile/",
        "/api/stations/",
        "/api/stations/discover/",
        "/api/stations/{station_id}/follow/",
        "/api/stations/{station_id}/hums/",
        "/api/users/discover/",
        "/api/users/onboard/",
        "/api/users/{user_id}/follow/",
        "/api/users/{user_id}/mute/",
        "/api/hums/",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is not documented");
    }
    assert!(doc["paths"]["/api/users/profile/"]["post"]["responses"]["409"].is_object());
    assert!(doc["components"]["securitySchemes"]["humit"].is_object());
    assert!(doc["components"]["schemas"]["SelfProfile"]["properties"]["signup_stage"].is_object());
}

#[tokio::test]
async fn concurrent_signups_of_one_person_never_fail_inside() {
    // The same Spotify account signing up many times at once: each answer is a sign-in or
    // 409 CONCURRENT_MODIFICATION in the envelope, never a 500.
    let h = spawn().await;
    h.spotify.grant("sp-access-storm", "storm", Some("IN"));
    let storm = (0..12).map(|_| h.signup_raw("sp-access-storm", "sp-refresh-storm"));
    let answers = futures::future::join_all(storm).await;
    for (status, body) in &answers {
        match *status {
            StatusCode::OK => assert_eq!(body["success"], true, "{body}"),
            StatusCode::CONFLICT => assert_error(
                *status,
                body,
                StatusCode::CONFLICT,
                "CONCURRENT_MODIFICATION",
            ),
            other => panic!("{other}: {body}"),
        }
    }
    assert!(answers.iter().any(|(status, _)| *status == StatusCode::OK));
}

//! Sign-up with Spotify tokens (log in or create) and humit token refresh.
//!
//! `POST /api/users/auth/signup/`: Spotify says who the token belongs to (`GET /me`); the
//! person is found by their claimed identity `spotify/<id>` or registered at `signup_stage` 0
//! with a provisional handle derived from the Spotify id. The Spotify tokens are stored as
//! secrets on the `User` aggregate (never in a read model, never on the bus, never logged).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::envelope::{
    AccessData, AccessEnvelope, HumitErrorBody, SignupData, SignupEnvelope,
};
use super::dto::to_value;
use super::error::{codes, HumitError, Json};
use super::extract::humit_token;
use super::ok;
use crate::app::sessions::{self, SpotifySignup, HUMIT};
use crate::state::AppState;

pub use super::error::spotify_error;
pub use crate::app::sessions::provisional_handle;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/auth/signup", post(signup))
        .route("/api/users/auth/token-refresh", post(refresh))
}

/// The longest token or id accepted from a client.
const MAX_TOKEN_LEN: usize = 4096;
/// The longest notification id, in characters.
pub const MAX_NOTIFICATION_ID_LEN: usize = 512;

/// `POST /api/users/auth/signup/` as sent.
#[derive(Deserialize, ToSchema)]
pub struct SignupBody {
    /// The Spotify access token.
    #[schema(value_type = String, required = true, pattern = r"^[!-~]{1,4096}$")]
    access_token: Option<String>,
    /// The Spotify refresh token.
    #[schema(value_type = String, required = true, pattern = r"^[!-~]{1,4096}$")]
    refresh_token: Option<String>,
    /// `SPOTIFY` (the default when null, empty or left out; case and surrounding ASCII
    /// whitespace do not matter).
    #[schema(value_type = Option<String>, pattern = r"^[ \t\n\f\r]*([Ss][Pp][Oo][Tt][Ii][Ff][Yy])?[ \t\n\f\r]*$", example = "SPOTIFY")]
    signup_method: Option<String>,
    /// Push notification id (up to 512 characters), or null.
    #[serde(default)]
    #[schema(value_type = Option<String>, max_length = 512)]
    notification_id: Value,
}

/// A validated sign-up.
type Signup = SpotifySignup;

fn token_field(value: Option<String>, name: &str) -> Result<String, HumitError> {
    let value = value
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| HumitError::missing_field(name))?;
    // A token travels in an HTTP header to Spotify: visible ASCII only (anything else could
    // not be sent at all, and would come back as Spotify being unreachable).
    if value.len() > MAX_TOKEN_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HumitError::invalid(
            codes::INVALID_TOKEN_FIELD,
            format!("{name} is not a token"),
        ));
    }
    Ok(value)
}

/// Parses an optional notification id: null or absent is `None`, a string is trimmed.
///
/// # Errors
/// 400 `INVALID_NOTIFICATION_ID` for other types or an overlong id.
pub fn notification_id(value: &Value) -> Result<Option<String>, HumitError> {
    let invalid = || {
        HumitError::invalid(
            codes::INVALID_NOTIFICATION_ID,
            "notification_id must be a string or null",
        )
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) => {
            // The limit is on what was sent, in characters, as documented (`maxLength`).
            if s.chars().count() > MAX_NOTIFICATION_ID_LEN {
                return Err(invalid());
            }
            let s = s.trim();
            Ok((!s.is_empty()).then(|| s.to_string()))
        }
        _ => Err(invalid()),
    }
}

impl SignupBody {
    fn parse(self) -> Result<Signup, HumitError> {
        let access_token = token_field(self.access_token, "access_token")?;
        let refresh_token = token_field(self.refresh_token, "refresh_token")?;
        match self.signup_method.as_deref().map(str::trim_ascii) {
            None | Some("") => {}
            Some(m) if m.eq_ignore_ascii_case("spotify") => {}
            Some(_) => {
                return Err(HumitError::invalid(
                    codes::INVALID_SIGNUP_METHOD,
                    "signup_method must be SPOTIFY",
                ))
            }
        }
        Ok(Signup {
            access_token,
            refresh_token,
            notification_id: notification_id(&self.notification_id)?,
        })
    }
}

/// Sign-up with Spotify tokens: Spotify says who they belong to; the user is created at
/// `signup_stage` 0, or found.
#[utoipa::path(
    post, path = "/api/users/auth/signup/", tag = "humit: auth",
    request_body = SignupBody,
    responses(
        (status = 200, description = "Signed in", body = SignupEnvelope),
        (status = 400, description = "MISSING_FIELD, INVALID_SIGNUP_METHOD, INVALID_TOKEN_FIELD, INVALID_NOTIFICATION_ID, INVALID_JSON, INVALID_INPUT", body = HumitErrorBody),
        (status = 401, description = "SPOTIFY_TOKEN_INVALID: Spotify refused the token", body = HumitErrorBody),
        (status = 403, description = "ACCOUNT_DISABLED", body = HumitErrorBody),
        (status = 502, description = "SPOTIFY_UNAVAILABLE", body = HumitErrorBody),
    )
)]
pub async fn signup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Json(body): Json<SignupBody>,
) -> Result<Response, HumitError> {
    let signup = body.parse()?;
    let session =
        sessions::spotify_sign_in(&state, &signup, crate::http::request_id(&headers)).await?;
    Ok(ok(to_value(&SignupData {
        humit_access_token: session.pair.access,
        humit_refresh_token: session.pair.refresh,
        signup_stage: session.signup_stage,
        spotify_access_token: session.spotify_access_token,
        spotify_refresh_token: session.spotify_refresh_token,
    })))
}

/// A new access token from `Authorization: humit <refresh token>`.
#[utoipa::path(
    post, path = "/api/users/auth/token-refresh/", tag = "humit: auth",
    security(("humit" = [])),
    responses(
        (status = 200, description = "A new access token (3600 s)", body = AccessEnvelope),
        (status = 401, description = "AUTHENTICATION_FAILED, TOKEN_NOT_VALID (not a live refresh token)", body = HumitErrorBody),
    )
)]
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, HumitError> {
    let token = humit_token(&headers).ok_or_else(HumitError::unauthorized)?;
    let humit_access_token = sessions::refresh(&state, token, HUMIT)?;
    Ok(ok(to_value(&AccessData { humit_access_token })))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn provisional_handles_are_valid_handles() {
        assert_eq!(
            provisional_handle("tmk3tmfmf2mmag48cph6bntbl"),
            "tmk3tmfmf2mmag48cph6bntbl"
        );
        assert_eq!(provisional_handle("Some.User_1"), "some.user_1");
        assert_eq!(provisional_handle("é"), "user");
        assert_eq!(provisional_handle(&"x".repeat(40)).len(), 30);
        let suffixed = sessions::with_suffix(&"y".repeat(30));
        assert_eq!(suffixed.len(), 29);
    }

    #[test]
    fn signup_bodies_are_checked_field_by_field() {
        let body = |v: Value| serde_json::from_value::<SignupBody>(v).unwrap().parse();
        let good = json!({"access_token": "a", "refresh_token": "r", "signup_method": "SPOTIFY", "notification_id": null});
        let s = body(good).ok().unwrap();
        assert_eq!(s.access_token, "a");
        assert_eq!(s.notification_id, None);
        assert_eq!(
            body(json!({"refresh_token": "r"})).err().unwrap().code,
            codes::MISSING_FIELD
        );
        assert_eq!(
            body(json!({"access_token": "a", "refresh_token": "r", "signup_method": "APPLE"}))
                .err()
                .unwrap()
                .code,
            codes::INVALID_SIGNUP_METHOD
        );
        assert_eq!(
            body(json!({"access_token": "a", "refresh_token": "r", "notification_id": 5}))
                .err()
                .unwrap()
                .code,
            codes::INVALID_NOTIFICATION_ID
        );
        let padded = format!("id{}", "\u{a0}".repeat(MAX_NOTIFICATION_ID_LEN));
        assert_eq!(
            body(json!({"access_token": "a", "refresh_token": "r", "notification_id": padded}))
                .err()
                .unwrap()
                .code,
            codes::INVALID_NOTIFICATION_ID
        );
        let wide = "\u{e9}".repeat(MAX_NOTIFICATION_ID_LEN);
        let s = body(json!({"access_token": "a", "refresh_token": "r", "notification_id": wide}));
        assert_eq!(
            s.ok().unwrap().notification_id.unwrap().chars().count(),
            512
        );
        for bad in ["a b", "caf\u{e9}", "tab\there", "nul\u{0}"] {
            assert_eq!(
                body(json!({"access_token": bad, "refresh_token": "r"}))
                    .err()
                    .unwrap()
                    .code,
                codes::INVALID_TOKEN_FIELD,
                "{bad:?}"
            );
        }
    }
}

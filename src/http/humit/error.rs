//! The humit error envelope and its stable codes.
//!
//! Every error answers a 4xx/5xx status and
//! `{"display_error": {code, message, status: "error"}, "errors": [same], "extra_data": {}, "success": false}`.
//! The codes are listed in `docs/humit-errors.md`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use aggregates::user::UserError;

use crate::app::sessions::SpotifyError;
use crate::app::social::{Relation, ONBOARDING_STATIONS};
use crate::app::Error;
use crate::http::extract::BodyRefused;

/// An error in the humit dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumitError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// A message fit to show.
    pub message: String,
    /// Seconds for `Retry-After` (a 429; every 503 says [`crate::app::RETRY_AFTER_SECS`]
    /// unless set).
    pub retry_after: Option<u64>,
}

impl HumitError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    /// 400: invalid input.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: missing, bad or expired token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILED",
            "Authentication credentials were not provided or are invalid",
        )
    }
    /// 403: not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }
    /// 404: unknown thing.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 409: conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 429 `TOO_MANY_REQUESTS` with `Retry-After`: the caller's budget is spent for `wait`.
    pub fn throttled(wait: std::time::Duration) -> Self {
        let secs = crate::app::retry_after_secs(wait);
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                codes::TOO_MANY_REQUESTS,
                format!("Too many requests. Please try again in {secs} seconds"),
            )
        }
    }
    /// 503 `SERVICE_UNAVAILABLE` with `Retry-After` when the store is out (an outage, never
    /// a 500): logged with its cause; the client sees no internals.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "store unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::SERVICE_UNAVAILABLE,
            "The service is temporarily unavailable. Please try again",
        )
    }
    /// 500: logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong. Please try again",
        )
    }
}

impl IntoResponse for HumitError {
    fn into_response(self) -> Response {
        let error = json!({"code": self.code, "message": self.message, "status": "error"});
        let body = json!({
            "display_error": error,
            "errors": [error],
            "extra_data": {},
            "success": false,
        });
        let mut response = (self.status, axum::Json(body)).into_response();
        // A 429 says when the budget allows again; every 503 of this dialect (store or file
        // storage out) says when to come back.
        let retry_after = self
            .retry_after
            .or((self.status == StatusCode::SERVICE_UNAVAILABLE)
                .then_some(crate::app::RETRY_AFTER_SECS));
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// A refused JSON body, in humit's words.
impl From<BodyRefused> for HumitError {
    fn from(refused: BodyRefused) -> Self {
        match refused {
            BodyRefused::NotJson => Self::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "Expected a JSON body with content-type application/json",
            ),
            BodyRefused::TooLarge => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::PAYLOAD_TOO_LARGE,
                "The request body is too large",
            ),
            BodyRefused::WrongShape(e) => Self::invalid(codes::INVALID_INPUT, e),
            BodyRefused::Malformed(e) => Self::invalid(codes::INVALID_JSON, e),
        }
    }
}

impl HumitError {
    /// 400 `MISSING_FIELD`: a required body field is absent or null.
    pub fn missing_field(field: &str) -> Self {
        Self::invalid(codes::MISSING_FIELD, format!("{field} is required"))
    }
    /// 400 `MISSING_PARAMETER`: a required query parameter is absent or empty.
    pub fn missing_parameter(name: &str) -> Self {
        Self::invalid(
            codes::MISSING_PARAMETER,
            format!("The query parameter {name} is required"),
        )
    }
    /// 404 `USER_DOES_NOT_EXIST`, worded as the seed words it.
    pub fn user_does_not_exist() -> Self {
        Self::not_found(codes::USER_DOES_NOT_EXIST, "User Does Not Exist")
    }
    /// 404 `STATION_DOES_NOT_EXIST`.
    pub fn station_does_not_exist() -> Self {
        Self::not_found(codes::STATION_DOES_NOT_EXIST, "Station Does Not Exist")
    }
    /// 409 `DISPLAY_USERNAME_NOT_UNIQUE`, worded as the seed words it.
    pub fn username_taken() -> Self {
        Self::conflict(
            codes::DISPLAY_USERNAME_NOT_UNIQUE,
            "Your User handle is not unique. Please choose another handle",
        )
    }
    /// 401 `TOKEN_NOT_VALID`: a humit token that is malformed, expired, revoked, of the
    /// wrong kind, or of an inactive account.
    pub fn token_not_valid() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::TOKEN_NOT_VALID,
            "Token is invalid or expired",
        )
    }
    /// 403 `ACCOUNT_DISABLED`.
    pub fn account_disabled() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            codes::ACCOUNT_DISABLED,
            "This account is disabled",
        )
    }
    /// 409 `CONCURRENT_MODIFICATION`: the same thing changed at the same moment, repeatedly.
    pub fn concurrent() -> Self {
        Self::conflict(
            codes::CONCURRENT_MODIFICATION,
            "Something else changed this at the same time. Please try again",
        )
    }
}

/// The stable error codes of the humit dialect (listed in `docs/humit-errors.md`).
pub mod codes {
    /// 401: no `Authorization: humit <token>` header.
    pub const AUTHENTICATION_FAILED: &str = "AUTHENTICATION_FAILED";
    /// 401: a bad, expired, revoked or wrong-kind humit token.
    pub const TOKEN_NOT_VALID: &str = "TOKEN_NOT_VALID";
    /// 401: Spotify refused the Spotify access token.
    pub const SPOTIFY_TOKEN_INVALID: &str = "SPOTIFY_TOKEN_INVALID";
    /// 502: Spotify could not be reached or answered nonsense.
    pub const SPOTIFY_UNAVAILABLE: &str = "SPOTIFY_UNAVAILABLE";
    /// 403: the account is disabled or deleted.
    pub const ACCOUNT_DISABLED: &str = "ACCOUNT_DISABLED";
    /// 400: a required body field is missing.
    pub const MISSING_FIELD: &str = "MISSING_FIELD";
    /// 400: a required query parameter is missing.
    pub const MISSING_PARAMETER: &str = "MISSING_PARAMETER";
    /// 400: a body field has the wrong type.
    pub const INVALID_INPUT: &str = "INVALID_INPUT";
    /// 400: the body is not JSON.
    pub const INVALID_JSON: &str = "INVALID_JSON";
    /// 415: a JSON body sent without `Content-Type: application/json`.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UNSUPPORTED_MEDIA_TYPE";
    /// 413: a body over `HUMIT_BODY_LIMIT`.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// 400: `signup_method` is not `SPOTIFY`.
    pub const INVALID_SIGNUP_METHOD: &str = "INVALID_SIGNUP_METHOD";
    /// 400: a token field is empty or too long.
    pub const INVALID_TOKEN_FIELD: &str = "INVALID_TOKEN_FIELD";
    /// 400: the handle breaks the handle rules.
    pub const INVALID_USERNAME: &str = "INVALID_USERNAME";
    /// 409: the handle belongs to someone else.
    pub const DISPLAY_USERNAME_NOT_UNIQUE: &str = "DISPLAY_USERNAME_NOT_UNIQUE";
    /// 404: no such user (or invite code).
    pub const USER_DOES_NOT_EXIST: &str = "USER_DOES_NOT_EXIST";
    /// 400: `date_of_birth` is not a date, in the future, or outside the age limits.
    pub const INVALID_DATE_OF_BIRTH: &str = "INVALID_DATE_OF_BIRTH";
    /// 400: `full_name` is empty or too long.
    pub const INVALID_FULL_NAME: &str = "INVALID_FULL_NAME";
    /// 400: `favourite_artists` is not a JSON object (or a string holding one).
    pub const INVALID_FAVOURITE_ARTISTS: &str = "INVALID_FAVOURITE_ARTISTS";
    /// 400: `notification_id` is not a string or too long.
    pub const INVALID_NOTIFICATION_ID: &str = "INVALID_NOTIFICATION_ID";
    /// 400: the invite code in the form is malformed, unknown, or the caller's own.
    pub const INVALID_REFERRAL_CODE: &str = "INVALID_REFERRAL_CODE";
    /// 409: the registration form was submitted already.
    pub const PROFILE_ALREADY_REGISTERED: &str = "PROFILE_ALREADY_REGISTERED";
    /// 400: `limit` is not an integer in 1..=100.
    pub const INVALID_LIMIT: &str = "INVALID_LIMIT";
    /// 400: `offset` is not a non-negative integer.
    pub const INVALID_OFFSET: &str = "INVALID_OFFSET";
    /// 400: `file_type` is not `profile`.
    pub const INVALID_FILE_TYPE: &str = "INVALID_FILE_TYPE";
    /// 403: an upload URL with a bad signature.
    pub const UPLOAD_URL_INVALID: &str = "UPLOAD_URL_INVALID";
    /// 403: an upload URL past its expiry.
    pub const UPLOAD_URL_EXPIRED: &str = "UPLOAD_URL_EXPIRED";
    /// 415: an upload whose content type is not the signed one (`image/jpeg`).
    pub const INVALID_CONTENT_TYPE: &str = "INVALID_CONTENT_TYPE";
    /// 413: an upload larger than the limit.
    pub const FILE_TOO_LARGE: &str = "FILE_TOO_LARGE";
    /// 400: an upload that is not a JPEG image.
    pub const INVALID_IMAGE: &str = "INVALID_IMAGE";
    /// 404: no file under that key.
    pub const FILE_NOT_FOUND: &str = "FILE_NOT_FOUND";
    /// 503: the file storage failed.
    pub const STORAGE_UNAVAILABLE: &str = "STORAGE_UNAVAILABLE";
    /// 429: past a rate limit (with `Retry-After`).
    pub const TOO_MANY_REQUESTS: &str = "TOO_MANY_REQUESTS";
    /// 503: the database is unreachable or cannot serve right now (with `Retry-After`).
    pub const SERVICE_UNAVAILABLE: &str = "SERVICE_UNAVAILABLE";
    /// 403: the caller may not do this (staff only).
    pub const PERMISSION_DENIED: &str = "PERMISSION_DENIED";
    /// 404: no such station.
    pub const STATION_DOES_NOT_EXIST: &str = "STATION_DOES_NOT_EXIST";
    /// 400: a station field breaks its rules.
    pub const INVALID_STATION: &str = "INVALID_STATION";
    /// 400: following oneself.
    pub const CANNOT_FOLLOW_SELF: &str = "CANNOT_FOLLOW_SELF";
    /// 400: muting oneself.
    pub const CANNOT_MUTE_SELF: &str = "CANNOT_MUTE_SELF";
    /// 403: posting a hum before following 3 stations.
    pub const ONBOARDING_INCOMPLETE: &str = "ONBOARDING_INCOMPLETE";
    /// 400: `track_id` is not a Spotify track id.
    pub const INVALID_TRACK_ID: &str = "INVALID_TRACK_ID";
    /// 400: `caption` is too long.
    pub const INVALID_CAPTION: &str = "INVALID_CAPTION";
    /// 409: the same aggregate changed concurrently, repeatedly.
    pub const CONCURRENT_MODIFICATION: &str = "CONCURRENT_MODIFICATION";
    /// 500: an internal failure (logged; never detailed to the client).
    pub const INTERNAL_ERROR: &str = "INTERNAL_ERROR";
}

crate::dialect_json!(HumitError);

impl From<Error> for HumitError {
    /// The one place the humit dialect maps a use case's error to its code and message.
    fn from(e: Error) -> Self {
        match e {
            Error::UsernameTaken => Self::username_taken(),
            Error::User(UserError::ProfileAlreadyRegistered) => Self::conflict(
                codes::PROFILE_ALREADY_REGISTERED,
                "The registration form was submitted already",
            ),
            Error::User(UserError::Disabled) | Error::AccountDisabled => Self::account_disabled(),
            Error::User(UserError::NotFound) | Error::NotFound => Self::user_does_not_exist(),
            Error::Conflict => Self::concurrent(),
            Error::RefreshInvalid => Self::token_not_valid(),
            Error::Spotify(e) => spotify_error(e),
            Error::StationNotFound => Self::station_does_not_exist(),
            Error::StationCreateForbidden => {
                Self::forbidden("Only staff with the station: create privilege can create stations")
            }
            Error::Station(e) => Self::conflict(codes::CONCURRENT_MODIFICATION, e.to_string()),
            Error::SelfRelation(Relation::Follow) => {
                Self::invalid(codes::CANNOT_FOLLOW_SELF, "You cannot follow yourself")
            }
            Error::SelfRelation(Relation::Mute) => {
                Self::invalid(codes::CANNOT_MUTE_SELF, "You cannot mute yourself")
            }
            Error::OnboardingIncomplete { followed } => Self::new(
                StatusCode::FORBIDDEN,
                codes::ONBOARDING_INCOMPLETE,
                format!(
                    "Follow at least {ONBOARDING_STATIONS} stations before you hum (you follow {followed})"
                ),
            ),
            Error::OwnReferralCode => Self::invalid(
                codes::INVALID_REFERRAL_CODE,
                "You cannot use your own invite code",
            ),
            Error::Storage(error) => {
                tracing::error!(%error, "storage failed");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    codes::STORAGE_UNAVAILABLE,
                    "File storage is not available right now. Please try again",
                )
            }
            Error::UploadUrlInvalid => Self::new(
                StatusCode::FORBIDDEN,
                codes::UPLOAD_URL_INVALID,
                "This upload URL is not valid",
            ),
            Error::UploadUrlExpired => Self::new(
                StatusCode::FORBIDDEN,
                codes::UPLOAD_URL_EXPIRED,
                "This upload URL has expired. Please ask for a new one",
            ),
            Error::Unavailable(cause) => Self::unavailable(cause),
            Error::Throttled(wait) => Self::throttled(wait),
            Error::NoLocalStore => Self::not_found(codes::FILE_NOT_FOUND, "Not found"),
            Error::FileNotFound => Self::not_found(codes::FILE_NOT_FOUND, "File not found"),
            other => Self::internal(other),
        }
    }
}

/// Maps a Spotify failure to the dialect.
pub fn spotify_error(error: SpotifyError) -> HumitError {
    match error {
        SpotifyError::Unauthorized => HumitError::new(
            StatusCode::UNAUTHORIZED,
            codes::SPOTIFY_TOKEN_INVALID,
            "Spotify did not accept the access token. Please sign in with Spotify again",
        ),
        SpotifyError::Unavailable(cause) => {
            tracing::warn!(%cause, "spotify unavailable");
            HumitError::new(
                StatusCode::BAD_GATEWAY,
                codes::SPOTIFY_UNAVAILABLE,
                "Spotify is not reachable right now. Please try again",
            )
        }
    }
}

/// A JSON body read whatever its `Content-Type`, for the endpoints whose seed request names
/// none (`POST /api/users/files/upload/` shows only the `Authorization` header, and a
/// `fetch` with a string body sends `text/plain`). An empty body reads as `{}`; errors are
/// [`Json`]'s.
pub struct AnyJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for AnyJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = HumitError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, HumitError> {
        let body = match crate::http::extract::lenient_json_body(req, state).await? {
            Some(body) => body,
            None => serde_json::from_str("{}").map_err(BodyRefused::from)?,
        };
        Ok(AnyJson(body))
    }
}

/// A humit success body: `{"data": ..., "success": true}`.
pub fn ok(data: serde_json::Value) -> Response {
    axum::Json(json!({"data": data, "success": true})).into_response()
}

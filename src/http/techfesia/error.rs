//! The Techfesia error bodies. The seed shows several shapes, each for its endpoints:
//! `{"errors": {field: message}}`, `{"message": ...}`, `{"detail": ...}` (SimpleJWT), and
//! `{"error": {field: message}}` (password reset).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use aggregates::user::UserError;

use super::dto::present;
use crate::app::sessions::{OAuthError, Provider};
use crate::app::{Error, Frozen};
use crate::http::extract::BodyRefused;

/// An error in the Techfesia dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct TfError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
    /// Seconds for a `Retry-After` header (429).
    pub retry_after: Option<u64>,
}

impl TfError {
    /// `{"errors": {field: message}}`.
    pub fn fields(status: StatusCode, fields: BTreeMap<String, String>) -> Self {
        Self {
            status,
            body: json!({ "errors": fields }),
            retry_after: None,
        }
    }
    /// `{"errors": {field: message}}` for one field.
    pub fn field(status: StatusCode, field: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({ "errors": { field: message } }),
            retry_after: None,
        }
    }
    /// `{"message": ...}`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "message": message.into() }),
            retry_after: None,
        }
    }
    /// `{"detail": ...}`.
    pub fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": detail.into() }),
            retry_after: None,
        }
    }
    /// Any body.
    pub fn raw(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            retry_after: None,
        }
    }
    /// 400 `{field: ["This field is required."]}`, for each missing field (SimpleJWT's
    /// serializers, on the `/auth/...` token endpoints).
    pub fn required(fields: &[&str]) -> Self {
        let body: serde_json::Map<String, Value> = fields
            .iter()
            .map(|f| (f.to_string(), json!(["This field is required."])))
            .collect();
        Self::raw(StatusCode::BAD_REQUEST, Value::Object(body))
    }
    /// 400 `{"errors": {field: "missing required field"}}` for each of `fields` left out or
    /// blank (`/users`).
    ///
    /// # Errors
    /// That 400 when any is missing.
    pub fn require(fields: &[(&str, &Option<String>)]) -> Result<(), Self> {
        let missing = missing_fields(fields);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Self::fields(StatusCode::BAD_REQUEST, missing))
        }
    }
    /// 401 for a wrong username or password, an unknown or a disabled account: one body for
    /// all, so that it reveals nothing.
    pub fn bad_credentials() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "No active account found with the given credentials",
        )
    }
    /// 401 for a refresh (or revoked) token that cannot be used.
    pub fn refresh_invalid() -> Self {
        Self::raw(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Token is invalid or expired", "code": "token_not_valid"}),
        )
    }
    /// 429 with `Retry-After` (DRF's throttling body).
    pub fn throttled(wait: std::time::Duration) -> Self {
        let secs = crate::app::retry_after_secs(wait);
        Self {
            retry_after: Some(secs),
            ..Self::detail(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Request was throttled. Expected available in {secs} seconds."),
            )
        }
    }
    /// 401 for a missing, bad, expired or revoked token (SimpleJWT's body).
    pub fn token_invalid() -> Self {
        Self::raw(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
        )
    }
    /// 401 when no credentials were sent.
    pub fn unauthenticated() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        )
    }
    /// 403.
    pub fn forbidden() -> Self {
        Self::detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        )
    }
    /// 404.
    pub fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not found.")
    }
    /// 409 when other requests changed the same account at the same moment, again and
    /// again: nothing was done, and the client may retry.
    pub fn conflict() -> Self {
        Self::detail(
            StatusCode::CONFLICT,
            "The account was changed by another request at the same moment. Please try again.",
        )
    }
    /// 503 with `Retry-After` when the store is out (an outage, never a 500): logged with its
    /// cause; the client sees no internals.
    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "store unavailable");
        Self {
            retry_after: Some(crate::app::RETRY_AFTER_SECS),
            ..Self::detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service temporarily unavailable, try again later.",
            )
        }
    }
    /// 500: logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "A server error occurred.",
        )
    }
}

impl IntoResponse for TfError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}

/// Each of `fields` left out or blank, as "missing required field".
pub fn missing_fields(fields: &[(&str, &Option<String>)]) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter(|(_, v)| present(v).is_none())
        .map(|(name, _)| (name.to_string(), "missing required field".to_string()))
        .collect()
}

/// A refused JSON body, in Django REST framework's words.
impl From<BodyRefused> for TfError {
    fn from(refused: BodyRefused) -> Self {
        match refused {
            BodyRefused::NotJson => Self::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type in request; expected application/json.",
            ),
            BodyRefused::TooLarge => {
                Self::detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
            }
            BodyRefused::WrongShape(e) | BodyRefused::Malformed(e) => {
                Self::detail(StatusCode::BAD_REQUEST, format!("JSON parse error - {e}"))
            }
        }
    }
}

crate::dialect_json!(TfError);

impl From<UserError> for TfError {
    /// The default answer to a refused `User` command; handlers match the cases whose body
    /// the seed fixes before falling back to this.
    fn from(e: UserError) -> Self {
        // 422 naming the field at fault.
        let at = |field: &str, message: &str| {
            Self::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
        };
        match e {
            UserError::NotFound => Self::not_found(),
            UserError::Disabled => Self::detail(StatusCode::FORBIDDEN, "This account is disabled."),
            UserError::InvalidCredentials => Self::bad_credentials(),
            UserError::PasswordAlreadySet => {
                at("password", "A password already exists for this account")
            }
            UserError::NoPassword => {
                at("password", "This account has no password; create one first")
            }
            UserError::WrongPassword => at("oldPassword", "Old password is incorrect"),
            UserError::ResetTokenInvalid => Self::reset_token_invalid(),
            UserError::NoOAuthLink => at("provider", "No linked o-auth account for this provider"),
            UserError::NoProviderPicture => {
                at("provider", "The linked o-auth account has no picture")
            }
            UserError::ProviderConflict => at(
                "accessToken",
                "Another account of this provider is already linked to this user",
            ),
            UserError::Hashing(cause) => Self::internal(cause),
            other => at("user", &other.to_string()),
        }
    }
}

impl TfError {
    /// 422 for a password reset token that is unknown, expired or used (the seed's body).
    pub fn reset_token_invalid() -> Self {
        Self::raw(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": {"resetToken": "token is invalid, expired or already used. Please get a new token"}}),
        )
    }
}

impl From<Error> for TfError {
    /// The one place the Techfesia dialect maps a use case's error to its body.
    fn from(e: Error) -> Self {
        let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
        match e {
            Error::UsernameTaken => {
                Self::field(unprocessable, "username", "This username already exists")
            }
            Error::EmailTaken => Self::field(unprocessable, "email", "This email already exists"),
            Error::IdentityTaken => Self::field(
                unprocessable,
                "accessToken",
                "This o-auth account is linked to another user",
            ),
            Error::User(e) => e.into(),
            Error::Conflict => Self::conflict(),
            Error::Unavailable(cause) => Self::unavailable(cause),
            Error::Store(cause) => Self::internal(cause),
            Error::Forbidden => Self::forbidden(),
            Error::SignInAgain { max_age_secs } => Self::detail(
                StatusCode::FORBIDDEN,
                format!(
                    "Sign in again: adding a password takes a sign-in within the last {} minutes.",
                    max_age_secs.div_ceil(60)
                ),
            ),
            Error::NotFound => Self::not_found(),
            Error::BadCredentials => Self::bad_credentials(),
            Error::RefreshInvalid => Self::refresh_invalid(),
            Error::Throttled(wait) => Self::throttled(wait),
            Error::Invalid(fields) => Self::fields(StatusCode::BAD_REQUEST, fields),
            Error::Frozen(fields) => Self::fields(
                unprocessable,
                fields
                    .into_iter()
                    .map(|f| match f {
                        Frozen::Username => ("username", "This field cannot be changed."),
                        Frozen::PublicId => ("publicId", "This field cannot be changed."),
                        Frozen::Password => (
                            "password",
                            "The password cannot be changed here; use /users/<username>/password/.",
                        ),
                    })
                    .map(|(f, m)| (f.to_string(), m.to_string()))
                    .collect(),
            ),
            Error::OwnPrivileges => Self::field(
                unprocessable,
                "state",
                "You cannot change your own privileges.",
            ),
            // The list handler answers it with its own body (`PageErrorDto`, keys in order).
            Error::NoSuchPage { .. } => {
                Self::message(StatusCode::BAD_REQUEST, "This page does not exist")
            }
            Error::Provider(provider, e) => oauth_error(provider, &e),
            Error::ProviderTaken(provider) => Self::field(
                unprocessable,
                "accessToken",
                &format!("This {} account is linked to another user", provider.name()),
            ),
            Error::AccountDisabled => e_disabled(),
            // The humit use cases' errors: never raised on this dialect's routes.
            other => Self::internal(other),
        }
    }
}

fn e_disabled() -> TfError {
    TfError::from(UserError::Disabled)
}

fn oauth_error(provider: Provider, e: &OAuthError) -> TfError {
    match e {
        OAuthError::Rejected => TfError::raw(
            StatusCode::UNAUTHORIZED,
            json!({
                "detail": format!("The {} access token is invalid or expired.", provider.name()),
                "code": "token_not_valid",
            }),
        ),
        OAuthError::Unavailable(cause) | OAuthError::Malformed(cause) => {
            tracing::warn!(provider = provider.name(), %cause, "o-auth provider failed");
            TfError::detail(
                StatusCode::BAD_GATEWAY,
                format!(
                    "{} could not confirm the sign-in; try again later.",
                    provider.name()
                ),
            )
        }
    }
}

//! Wire types of the Techfesia dialect, field for field as the seed document shows them
//! (camelCase, except SimpleJWT's `tokens_deleted`). Requests are parsed into these, checked,
//! then turned into commands; responses are built from read-model rows. Commands and events
//! never appear on the wire.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::accounts::UserRow;

/// ISO 8601 with microseconds and `Z`, as Django REST framework writes datetimes.
pub fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A user, as `GET /users/<username>`, `GET /users` and `POST /users/` show it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserDto {
    /// The opaque user id.
    pub public_id: String,
    /// The unique username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone_number: String,
    /// College name.
    pub college_name: String,
    /// URL of the profile picture.
    pub profile_picture: String,
    /// When the account was created (ISO 8601).
    pub date_joined: String,
    /// The last sign-in (ISO 8601), `null` before the first.
    pub last_login: Option<String>,
}

impl From<&UserRow> for UserDto {
    fn from(row: &UserRow) -> Self {
        Self {
            public_id: row.user_id.clone(),
            username: row.username.clone(),
            first_name: row.first_name.clone(),
            last_name: row.last_name.clone(),
            email: row.email.clone(),
            phone_number: row.phone_number.clone(),
            college_name: row.college_name.clone(),
            profile_picture: row.profile_picture.clone(),
            date_joined: iso(row.date_joined),
            last_login: row.last_login.map(iso),
        }
    }
}

/// A user as `PUT /users/<username>` answers it (the seed shows no dates there).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdatedUserDto {
    /// The opaque user id.
    pub public_id: String,
    /// The unique username.
    pub username: String,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone_number: String,
    /// College name.
    pub college_name: String,
    /// URL of the profile picture.
    pub profile_picture: String,
}

/// One page of `GET /users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserPageDto {
    /// The page shown (1-based).
    pub current_page: u64,
    /// How many pages there are at this page size.
    pub no_of_pages: u64,
    /// The users on this page.
    pub users: Vec<UserDto>,
}

/// `400` for a page past the last one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PageErrorDto {
    /// `This page does not exist`.
    pub message: String,
    /// The page size asked for.
    pub page_size: u64,
    /// How many pages there are.
    pub no_of_pages: u64,
}

/// A token pair.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPairDto {
    /// Access token (15 minutes).
    pub access: String,
    /// Refresh token (30 days).
    pub refresh: String,
}

/// A token pair from an OAuth sign-in, with the account's username.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthTokenPairDto {
    /// Access token (15 minutes).
    pub access: String,
    /// Refresh token (30 days).
    pub refresh: String,
    /// The account signed into (created when the identity was new).
    pub username: String,
}

/// A fresh access token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AccessDto {
    /// Access token (15 minutes).
    pub access: String,
}

/// How many sessions a revocation ended.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokensDeletedDto {
    /// The number of refresh tokens revoked.
    pub tokens_deleted: usize,
}

/// `{"message": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageDto {
    /// What happened.
    pub message: String,
}

impl MessageDto {
    /// A message.
    pub fn new(message: &str) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}

/// The state of an account; staff accounts list their privileges.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PrivilegesDto {
    /// `normal`, `staff`, `superuser` or `disabled`.
    pub state: String,
    /// Staff only: per model (`user`, `event`, ...), the allowed actions
    /// (`read`, `create`, `update`, `delete`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub privileges: Option<BTreeMap<String, Vec<String>>>,
}

/// How a user can sign in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthModesDto {
    /// Whether the account has a password.
    pub password: bool,
    /// The linked OAuth providers.
    #[serde(rename = "o-auth")]
    pub o_auth: Vec<String>,
}

/// `{"errors": {field: message}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FieldErrorsDto {
    /// Per field, what is wrong.
    pub errors: BTreeMap<String, String>,
}

/// `{"detail": ..., "code": ...}` (authentication and permission errors).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DetailDto {
    /// What is wrong.
    pub detail: String,
    /// `token_not_valid` for unusable tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `{field: ["This field is required."]}` (the token endpoints).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RequiredDto {
    /// Per missing field, the messages.
    #[serde(flatten)]
    pub fields: BTreeMap<String, Vec<String>>,
}

/// `{"error": {"resetToken": ...}}` for an unusable reset token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ResetTokenErrorDto {
    /// Per field, what is wrong.
    pub error: BTreeMap<String, String>,
}

// ---- requests ------------------------------------------------------------------------------

/// `POST /auth/token/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Username.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub username: Option<String>,
    /// Password.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub password: Option<String>,
}

/// `POST /auth/token/refresh/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RefreshRequest {
    /// A refresh token.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub refresh: Option<String>,
}

/// `PUT /auth/token/`: the token to revoke.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RevokeOneRequest {
    /// A refresh token (or an access token) of the session to end.
    #[schema(value_type = String, required = true, min_length = 1)]
    pub token: Option<String>,
}

/// `DELETE /auth/token/` with a body: the tokens to revoke. Without a body, every session
/// of the caller ends.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct RevokeManyRequest {
    /// Refresh tokens to revoke.
    pub tokens: Option<Vec<String>>,
    /// One refresh token to revoke.
    pub token: Option<String>,
    /// One refresh token to revoke (SimpleJWT's name).
    pub refresh: Option<String>,
}

/// `POST /auth/o-auth/<provider>/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OAuthRequest {
    /// The provider's access token.
    #[schema(value_type = String, required = true, pattern = r"\S")]
    pub access_token: Option<String>,
    /// Spotify only: the refresh token issued with it. When humit's Spotify client is
    /// configured, it is exchanged with humit's credentials to prove the token is humit's.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// `POST /auth/password/reset/`: one of the two (at least one not blank).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ResetRequest {
    /// The account's email address.
    pub email: Option<String>,
    /// The account's username.
    pub username: Option<String>,
}

/// `POST /users/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUserRequest {
    /// Required: 1 to 150 letters, digits and `@.+-_`.
    #[schema(value_type = String, required = true, max_length = 150, pattern = r"^[A-Za-z0-9@.+_-]+$")]
    pub username: Option<String>,
    /// Required: an email address.
    #[schema(value_type = String, required = true, format = Email, max_length = 254, pattern = r"^[^\s@]+@[^\s@]+$")]
    pub email: Option<String>,
    /// Required, 8 to 1024 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024, pattern = r"\S")]
    pub password: Option<String>,
    /// First name.
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    /// Last name.
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// Phone number.
    #[schema(max_length = 32)]
    pub phone_number: Option<String>,
    /// College name.
    #[schema(max_length = 255)]
    pub college_name: Option<String>,
    /// URL of the profile picture.
    #[schema(max_length = 2048)]
    pub profile_picture: Option<String>,
}

/// `PUT /users/<username>`: fields left out keep their value. `username` and `publicId` may
/// only repeat the current value; the password is changed elsewhere.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUserRequest {
    /// Must equal the current username.
    pub username: Option<String>,
    /// Must equal the user id.
    pub public_id: Option<String>,
    /// Not accepted here.
    #[schema(value_type = Option<String>)]
    pub password: Option<serde_json::Value>,
    /// Email address.
    #[schema(value_type = String, format = Email, max_length = 254, pattern = r"^\s*[^\s@]+@[^\s@]+\s*$")]
    pub email: Option<String>,
    /// First name.
    #[schema(max_length = 150)]
    pub first_name: Option<String>,
    /// Last name.
    #[schema(max_length = 150)]
    pub last_name: Option<String>,
    /// Phone number.
    #[schema(max_length = 32)]
    pub phone_number: Option<String>,
    /// College name.
    #[schema(max_length = 255)]
    pub college_name: Option<String>,
    /// URL of the profile picture.
    #[schema(max_length = 2048)]
    pub profile_picture: Option<String>,
}

/// `PUT /users/<username>/picture`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct PictureRequest {
    /// The linked provider to take the picture from (`google`, `github`, `facebook`,
    /// `spotify`; the first linked one when left out, null or empty).
    #[schema(value_type = Option<String>, pattern = r"^(google|github|facebook|spotify)?$")]
    pub provider: Option<String>,
}

/// `PUT /users/<username>/privileges` (superuser only).
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct SetPrivilegesRequest {
    /// `normal`, `staff` or `superuser` (`staff` when left out and `privileges` is given).
    #[schema(value_type = Option<String>, pattern = r"^(normal|staff|superuser)?$")]
    pub state: Option<String>,
    /// For staff: per model (1 to 64 characters), the allowed actions (`read`, `create`,
    /// `update`, `delete`).
    #[schema(value_type = Option<BTreeMap<String, Vec<super::schema::PrivilegeAction>>>)]
    pub privileges: Option<BTreeMap<String, Vec<String>>>,
}

/// `POST /users/<username>/password/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreatePasswordRequest {
    /// The new password: 8 to 1024 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024, pattern = r"\S")]
    pub password: Option<String>,
}

/// `PUT /users/<username>/password/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePasswordRequest {
    /// The current password.
    #[schema(value_type = String, required = true, pattern = r"\S")]
    pub old_password: Option<String>,
    /// The new password: 8 to 1024 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024, pattern = r"\S")]
    pub new_password: Option<String>,
}

/// `PATCH /users/<username>/password/`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordRequest {
    /// The token from the reset mail.
    #[schema(value_type = String, required = true, pattern = r"\S")]
    pub reset_token: Option<String>,
    /// The new password: 8 to 1024 characters.
    #[schema(value_type = String, required = true, min_length = 8, max_length = 1024, pattern = r"\S")]
    pub new_password: Option<String>,
}

/// A required string: `None` when missing, `null` or blank.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

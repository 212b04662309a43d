//! Wire types of the Techfesia dialect, field for field as the seed document shows them
//! (camelCase, except SimpleJWT's `tokens_deleted`): the answers here, built from read-model
//! rows and use-case results; the request bodies in [`requests`], which the handlers parse and
//! check before calling a use case. Commands and events never appear on the wire.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use aggregates::user::UserDetails;

use crate::app::accounts::UserRow;

pub mod requests;
pub use requests::*;

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

impl UserDto {
    /// A user just signed up, when the read model is late beyond the wait: from what was just
    /// stored, joined now, never signed in.
    pub fn just_created(user_id: String, username: String, details: UserDetails) -> Self {
        let user = UpdatedUserDto::new(user_id, username, details);
        Self {
            public_id: user.public_id,
            username: user.username,
            first_name: user.first_name,
            last_name: user.last_name,
            email: user.email,
            phone_number: user.phone_number,
            college_name: user.college_name,
            profile_picture: user.profile_picture,
            date_joined: iso(Utc::now()),
            last_login: None,
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

impl UpdatedUserDto {
    /// The user `user_id`, `username`, with `details`.
    pub fn new(user_id: String, username: String, details: UserDetails) -> Self {
        Self {
            public_id: user_id,
            username,
            first_name: details.first_name,
            last_name: details.last_name,
            email: details.email,
            phone_number: details.phone_number,
            college_name: details.college_name,
            profile_picture: details.profile_picture,
        }
    }
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

/// A required string: `None` when missing, `null` or blank.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.trim().is_empty())
}

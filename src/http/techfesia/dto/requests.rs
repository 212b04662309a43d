//! Request bodies of the Techfesia dialect, as the seed document shows them. Every field is
//! optional on the wire so that a missing one is answered in the dialect's own words (the
//! handlers check them); the `schema` attributes publish what is really required.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    #[schema(value_type = Option<BTreeMap<String, Vec<PrivilegeAction>>>)]
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

/// An action a staff account may be allowed on a model (documentation only).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PrivilegeAction {
    /// Read.
    Read,
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
}

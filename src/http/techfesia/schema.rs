//! Types that exist only to describe the Techfesia wire in `/openapi.json`: the values a
//! string field accepts (the handlers read them as strings and answer 400 for others), and
//! the shapes an answer can take. Nothing serialises them at run time.

use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{FieldErrorsDto, PageErrorDto};

/// `400` of `GET /users`: a page past the last one, or bad query parameters.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListErrorDto {
    /// A page past the last one.
    Page(PageErrorDto),
    /// A bad `limit` or filter.
    Fields(FieldErrorsDto),
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

/// A state `PUT /users/<username>/privileges` can set (documentation only).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    /// An ordinary user.
    Normal,
    /// Staff, with the privileges given.
    Staff,
    /// A superuser.
    Superuser,
    /// Left out: `staff` when `privileges` is given.
    #[serde(rename = "")]
    Unset,
}

/// An OAuth provider to take the picture from; empty: the first linked one (documentation
/// only).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// Google.
    Google,
    /// GitHub.
    Github,
    /// Facebook.
    Facebook,
    /// Spotify.
    Spotify,
    /// The first linked provider.
    #[serde(rename = "")]
    First,
}

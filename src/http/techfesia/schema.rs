//! Types that exist only to describe the Techfesia wire in `/openapi.json`: the values a
//! field accepts (the handlers read strings and answer 400 for others), and the shapes an
//! answer can take. Nothing serialises them at run time.

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

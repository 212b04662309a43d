//! Types that exist only to describe the Techfesia wire in `/openapi.json`: the values a
//! field accepts (the handlers read strings and answer 400 for others), and the shapes an
//! answer can take. Nothing serialises them at run time.

use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{DetailDto, FieldErrorsDto, PageErrorDto};

/// `400` of `GET /users`: a page past the last one, or bad query parameters.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListErrorDto {
    /// A page past the last one.
    Page(PageErrorDto),
    /// A bad `limit` or filter.
    Fields(FieldErrorsDto),
}

/// The answers of every Techfesia operation that needs a signed-in caller with the right to
/// act: `401` without a valid access token, `403` without the right.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum NeedsPermission {
    #[response(status = 401)]
    Unauthorized(DetailDto),
    #[response(status = 403)]
    Forbidden(DetailDto),
}

/// [`NeedsPermission`] on an operation about one user, who may not exist (`404`).
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum NeedsPermissionOnUser {
    #[response(status = 401)]
    Unauthorized(DetailDto),
    #[response(status = 403)]
    Forbidden(DetailDto),
    #[response(status = 404)]
    NotFound(DetailDto),
}

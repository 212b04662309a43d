//! The Techfesia user API (`/auth/...`, `/users...`): JWT pairs, users, privileges, OAuth,
//! passwords. camelCase, `Authorization: Bearer <token>`, bare bodies.
//!
//! - [`auth`]: token pairs, revocation, OAuth sign-in.
//! - [`users`]: the user resource and auth modes; [`privileges`]: roles and privileges.
//! - [`passwords`]: create, change, ask to reset and reset a password.
//! - [`dto`]: the wire types; [`schema`]: types that only describe the wire in the OpenAPI
//!   document; [`extract`]: the Bearer principal and other extractors; [`validate`]: input rules;
//!   [`error`]: the dialect's error bodies.
//! - [`TechfesiaApi`]: this dialect's OpenAPI paths, merged into `/openapi.json`.

pub mod auth;
pub mod dto;
mod error;
pub mod extract;
pub mod passwords;
pub mod privileges;
pub mod schema;
pub mod users;
mod users_input;
pub mod validate;

pub use error::{missing_fields, Json, TfError};

use axum::Router;
use utoipa::OpenApi;

use crate::state::AppState;

/// Every Techfesia route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(passwords::router())
}

/// The OpenAPI description of the Techfesia dialect.
#[derive(OpenApi)]
#[openapi(
    paths(
        auth::obtain, auth::refresh, auth::revoke_many, auth::revoke_one, auth::oauth,
        passwords::request_reset,
        users::list, users::create, users::read, users::update, users::delete_user,
        users::disable, users::picture, privileges::privileges, privileges::set_privileges,
        users::auth_modes,
        passwords::create, passwords::change, passwords::reset,
    ),
    components(schemas(
        dto::UserDto, dto::UpdatedUserDto, dto::UserPageDto, dto::PageErrorDto, schema::ListErrorDto,
        dto::TokenPairDto, dto::OAuthTokenPairDto, dto::AccessDto, dto::TokensDeletedDto,
        dto::MessageDto, dto::PrivilegesDto, dto::AuthModesDto, dto::FieldErrorsDto,
        dto::DetailDto, dto::RequiredDto, dto::ResetTokenErrorDto, dto::PrivilegeAction,
        dto::SetPrivilegesRequest,
    )),
    tags(
        (name = "auth", description = "Techfesia: token pairs, revocation, OAuth sign-in"),
        (name = "users", description = "Techfesia: users, privileges, auth modes"),
        (name = "passwords", description = "Techfesia: create, change and reset passwords"),
    ),
    modifiers(&EitherField)
)]
pub struct TechfesiaApi;

/// Request bodies whose rules one schema object cannot say: `POST /auth/password/reset/`
/// needs `email` or `username` (not blank); `PUT /users/<username>/privileges` needs `state`
/// or `privileges`, and its model names have 1 to 64 characters, not all blank, no control characters. Each is
/// published as `allOf` the body's schema and these constraints.
struct EitherField;

impl utoipa::Modify for EitherField {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use serde_json::json;
        use utoipa::openapi::schema::{AllOf, Schema};
        use utoipa::openapi::RefOr;
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let not_blank = |field: &str| {
            json!({"type": "object", "required": [field],
                   "properties": {field: {"type": "string", "pattern": "\\S"}}})
        };
        let constraints = [
            (
                "ResetRequest",
                json!([{"anyOf": [not_blank("email"), not_blank("username")]}]),
            ),
            (
                "SetPrivilegesRequest",
                json!([
                    {"anyOf": [
                        {"type": "object", "required": ["state"],
                         "properties": {"state": {"type": "string", "enum": ["normal", "staff", "superuser"]}}},
                        {"type": "object", "required": ["privileges"],
                         "properties": {"privileges": {"type": "object"}}},
                    ]},
                    {"type": "object", "properties": {"privileges": {
                        "type": ["object", "null"],
                        "propertyNames": {"type": "string", "minLength": 1, "maxLength": 64,
                            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$"}}}},
                ]),
            ),
        ];
        for (name, extra) in constraints {
            // Read the constraints before taking the body out, so that the body stays
            // published whatever happens (a test checks that every reference resolves).
            let extra = match serde_json::from_value::<Vec<RefOr<Schema>>>(extra) {
                Ok(extra) => extra,
                Err(error) => {
                    tracing::error!(%error, name, "constraints of a body do not read as schemas");
                    continue;
                }
            };
            let Some(body) = components.schemas.remove(name) else {
                continue;
            };
            let mut all = AllOf::new();
            all.items = std::iter::once(body).chain(extra).collect();
            components
                .schemas
                .insert(name.into(), RefOr::T(Schema::AllOf(all)));
        }
    }
}

//! The Techfesia user API (`/auth/...`, `/users...`): JWT pairs, users, privileges, OAuth,
//! passwords. camelCase, `Authorization: Bearer <token>`, bare bodies.
//!
//! - [`auth`]: token pairs, revocation, OAuth sign-in, password reset requests.
//! - [`users`]: the user resource, privileges, auth modes.
//! - [`passwords`]: create, change and reset a password.
//! - [`dto`]: the wire types; [`extract`]: the Bearer principal and other extractors; [`validate`]: input rules;
//!   [`error`]: the dialect's error bodies.
//! - [`TechfesiaApi`]: this dialect's OpenAPI paths, merged into `/openapi.json`.

pub mod auth;
pub mod dto;
mod error;
pub mod extract;
pub mod oauth_signin;
pub mod password_reset;
pub mod passwords;
pub mod privileges;
pub mod users;
mod users_input;
pub mod validate;

pub use error::{missing_fields, Json, Techfesia, TfError};

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
        auth::obtain, auth::refresh, auth::revoke_many, auth::revoke_one,
        oauth_signin::oauth, password_reset::request_reset,
        users::list, users::create, users::read, users::update, users::delete_user,
        users::disable, users::picture, privileges::privileges, privileges::set_privileges,
        users::auth_modes,
        passwords::create, passwords::change, passwords::reset,
    ),
    components(schemas(
        dto::UserDto, dto::UpdatedUserDto, dto::UserPageDto, dto::PageErrorDto,
        dto::TokenPairDto, dto::OAuthTokenPairDto, dto::AccessDto, dto::TokensDeletedDto,
        dto::MessageDto, dto::PrivilegesDto, dto::AuthModesDto, dto::FieldErrorsDto,
        dto::DetailDto, dto::RequiredDto, dto::ResetTokenErrorDto,
    )),
    tags(
        (name = "auth", description = "Techfesia: token pairs, revocation, OAuth sign-in"),
        (name = "users", description = "Techfesia: users, privileges, auth modes"),
        (name = "passwords", description = "Techfesia: create, change and reset passwords"),
    )
)]
pub struct TechfesiaApi;

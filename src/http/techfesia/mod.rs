//! The Techfesia user API (`/auth/...`, `/users...`): JWT pairs, users, privileges, OAuth,
//! passwords. camelCase, `Authorization: Bearer <token>`, bare bodies.

mod error;

pub use error::{Json, Techfesia, TfError};

use axum::Router;

use crate::state::AppState;

/// Every Techfesia route.
pub fn router() -> Router<AppState> {
    Router::new()
}

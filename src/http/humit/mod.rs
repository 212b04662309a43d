//! The humit app API (`/api/...`): Spotify sign-up, registration, referral codes, uploads,
//! stations, people, hums. snake_case, `Authorization: humit <token>`, `{"data", "success"}`.
//!
//! Every handler parses the request into validated values at the edge ([`validate`]), calls
//! one use case of [`crate::app`] (which runs the commands and waits for the projections it
//! reads), and answers in the seed's shapes ([`dto`]); [`HumitError`] maps `app::Error`.
//!
//! - [`auth`]: sign-up with Spotify tokens, token refresh.
//! - [`profile`]: the registration form, its handle and invite code checks, and the caller's
//!   profile.
//! - [`uploads`]: profile picture upload URLs, and the local store's own upload endpoint.
//! - [`stations`]: create, discover, follow; a station's hums.
//! - [`people`]: discover, onboard, follow, mute.
//! - [`hums`]: post a hum.
//!
//! Errors: [`HumitError`], with the codes in [`error::codes`] (`docs/humit-errors.md`).
//! OpenAPI: [`HumitApi`], merged into `/openapi.json`.

pub mod auth;
pub mod dto;
mod error;
pub mod extract;
pub mod hums;
pub mod openapi;
pub mod page;
pub mod people;
pub mod profile;
pub mod stations;
pub mod uploads;
pub mod validate;

pub use error::{codes, ok, HumitError, Json};
pub use openapi::HumitApi;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::state::AppState;

/// Every humit route.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(profile::router())
        .merge(uploads::router())
        .merge(stations::router())
        .merge(people::router())
        .merge(hums::router())
}

/// A `201 Created` success body.
pub fn created(data: serde_json::Value) -> Response {
    let mut response = ok(data);
    *response.status_mut() = StatusCode::CREATED;
    response.into_response()
}

//! The humit app API (`/api/...`): Spotify sign-up, registration, referral codes, uploads,
//! stations, people, hums. snake_case, `Authorization: humit <token>`, `{"data", "success"}`.

mod error;

pub use error::{ok, Humit, HumitError, Json};

use axum::Router;

use crate::state::AppState;

/// Every humit route.
pub fn router() -> Router<AppState> {
    Router::new()
}

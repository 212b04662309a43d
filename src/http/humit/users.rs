//! The registration form's checks: is a handle free (`GET /api/users/username/`), whose is an
//! invite code (`GET /api/users/referral_code/`). Both read the claims on the write side, so
//! the answer is never stale.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::dto::envelope::{
    EmptyEnvelope, HumitErrorBody, PublicProfileEnvelope, SignedInOnly, UnknownInviteCode,
};
use super::error::HumitError;
use super::extract::Caller;
use super::page::{InviteCodeQuery, QueryParams};
use super::{dto, ok, validate};
use crate::app::{profiles, social};
use crate::state::AppState;

/// The routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users/username", get(check_username))
        .route("/api/users/referral_code", get(check_referral_code))
}

/// Whether a handle is free: `{}` when free (or already the caller's), 409
/// `DISPLAY_USERNAME_NOT_UNIQUE` when someone else has it (case-insensitive).
#[utoipa::path(
    get, path = "/api/users/username/", tag = "humit: registration",
    security(("humit" = [])),
    params(("username" = String, Query, description = "The handle to check: 3 to 30 letters, digits, `_`, `.` and `-`", pattern = r"^[A-Za-z0-9_.-]{3,30}$", example = "Rohit")),
    responses(
        (status = 200, description = "Free", body = EmptyEnvelope),
        (status = 400, description = "MISSING_PARAMETER, INVALID_USERNAME", body = HumitErrorBody),
        SignedInOnly,
        (status = 409, description = "DISPLAY_USERNAME_NOT_UNIQUE", body = HumitErrorBody),
    )
)]
pub async fn check_username(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, HumitError> {
    let wanted = query.require("username")?;
    // Any name someone holds (a Techfesia username may use more characters) is "taken";
    // a free one must also be a valid handle.
    profiles::check_handle(&state, caller.app(), wanted).await?;
    validate::handle(wanted)?;
    Ok(ok(json!({})))
}

/// Whose an invite code is: the owner's public profile, or 404 `USER_DOES_NOT_EXIST`.
#[utoipa::path(
    get, path = "/api/users/referral_code/", tag = "humit: registration",
    security(("humit" = [])),
    params(InviteCodeQuery),
    responses(
        (status = 200, description = "The owner", body = PublicProfileEnvelope),
        UnknownInviteCode,
        SignedInOnly,
    )
)]
pub async fn check_referral_code(
    State(state): State<AppState>,
    caller: Caller,
    query: QueryParams,
) -> Result<Response, HumitError> {
    let code = query.require("code")?;
    let row = social::referral_profile(&state, caller.app(), code).await?;
    Ok(ok(dto::public_profile(&row)))
}

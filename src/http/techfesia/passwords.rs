//! Passwords: create one on an OAuth-only account (`POST /users/<username>/password/`),
//! change it knowing the old one (`PUT`), ask for a reset mail (`POST /auth/password/reset/`:
//! a single-use, expiring link, and always the same 202 whether or not an account matched)
//! and reset it with the mailed token (`PATCH /users/<username>/password/`).
//!
//! Changing or resetting the password ends every session of the account at once. A wrong old
//! password counts as a failed login for the rate limits.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;

use super::dto::{
    present, ChangePasswordRequest, CreatePasswordRequest, DetailDto, FieldErrorsDto, MessageDto,
    ResetPasswordRequest, ResetRequest, ResetTokenErrorDto,
};
use super::extract::{anonymous, Caller, ClientIp};
use super::{missing_fields, validate, Json, TfError};
use crate::app::{passwords, Checked, FieldErrors};
use crate::state::AppState;

pub use crate::app::passwords::token_hash;

/// The password routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/users/{username}/password",
            post(create).put(change).patch(reset),
        )
        .route("/auth/password/reset", post(request_reset))
}

fn check_password(field: &str, value: &str) -> Result<(), TfError> {
    validate::password(value).map_err(|m| TfError::field(StatusCode::BAD_REQUEST, field, &m))
}

/// The first thing wrong with the password fields: a missing one (all of them), else the
/// new password breaking the rules.
fn check_fields(fields: &[(&str, &Option<String>)], new: &str) -> Result<(), FieldErrors> {
    let missing = missing_fields(fields);
    if !missing.is_empty() {
        return Err(missing);
    }
    let field = fields.last().map_or("password", |(name, _)| name);
    validate::password(new).map_err(|m| FieldErrors::from([(field.to_string(), m)]))
}

fn checked<T>(found: Result<(), FieldErrors>, value: impl FnOnce() -> T) -> Checked<T> {
    found.map(|()| value())
}

/// Adds a password to an OAuth-only account (422 when it has one already).
#[utoipa::path(
    post, path = "/users/{username}/password/", tag = "passwords",
    params(("username" = String, Path)),
    request_body = CreatePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = MessageDto),
        (status = 400, body = FieldErrorsDto), super::schema::NeedsPermission,
        (status = 422, description = "The account has a password already", body = FieldErrorsDto),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<CreatePasswordRequest>,
) -> Result<(StatusCode, axum::Json<MessageDto>), TfError> {
    let password = body.password.clone().unwrap_or_default();
    let found = check_fields(&[("password", &body.password)], &password);
    passwords::create(&state, caller.app(), &username, checked(found, || password)).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(MessageDto::new("new password created")),
    ))
}

/// Changes the password, knowing the old one. Every session ends, this one included.
#[utoipa::path(
    put, path = "/users/{username}/password/", tag = "passwords",
    params(("username" = String, Path)),
    request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = MessageDto),
        (status = 400, body = FieldErrorsDto), super::schema::NeedsPermission,
        (status = 422, description = "Wrong old password, or an OAuth-only account", body = FieldErrorsDto),
        (status = 429, description = "Too many wrong passwords", body = DetailDto),
    )
)]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    let new = body.new_password.clone().unwrap_or_default();
    let found = check_fields(
        &[
            ("oldPassword", &body.old_password),
            ("newPassword", &body.new_password),
        ],
        &new,
    );
    let old = body.old_password.unwrap_or_default();
    let change = checked(found, || (old, new));
    passwords::change(&state, caller.app(), &username, change, ip).await?;
    Ok(axum::Json(MessageDto::new("Password changed successfully")))
}

/// Resets the password with the token from the reset mail (no sign-in needed). The token
/// works once, for 30 minutes; every session ends.
#[utoipa::path(
    patch, path = "/users/{username}/password/", tag = "passwords",
    params(("username" = String, Path)),
    request_body = ResetPasswordRequest,
    responses(
        (status = 200, body = MessageDto),
        (status = 400, body = FieldErrorsDto),
        (status = 422, description = "Token invalid, expired or used", body = ResetTokenErrorDto),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    Json(body): Json<ResetPasswordRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    TfError::require(&[
        ("resetToken", &body.reset_token),
        ("newPassword", &body.new_password),
    ])?;
    let token = body.reset_token.unwrap_or_default();
    let new = body.new_password.unwrap_or_default();
    check_password("newPassword", &new)?;
    passwords::reset(&state, &username, &token, new, &anonymous(&headers)).await?;
    Ok(axum::Json(MessageDto::new("Password reset successfully")))
}

/// The answer to every reset request, whether or not an account matched.
pub const RESET_ACCEPTED: &str =
    "If an account matches, a password reset link has been sent to its email address.";

/// Asks for a password reset mail, by `email` or `username`. Always 202 with the same body,
/// whether or not an account matches; the mail carries a link with `resetToken=<token>`,
/// valid once for 30 minutes. At most three mails per account and client per 15 minutes.
#[utoipa::path(
    post, path = "/auth/password/reset/", tag = "passwords",
    request_body = ResetRequest,
    responses(
        (status = 202, body = MessageDto),
        (status = 400, description = "Neither email nor username", body = FieldErrorsDto),
    )
)]
pub async fn request_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Json(body): Json<ResetRequest>,
) -> Result<(StatusCode, axum::Json<MessageDto>), TfError> {
    let email = present(&body.email).map(|e| e.trim().to_string());
    let username = present(&body.username).map(|u| u.trim().to_string());
    if email.is_none() && username.is_none() {
        return Err(TfError::field(
            StatusCode::BAD_REQUEST,
            "email",
            "missing required field (or give username)",
        ));
    }
    // Lengths first: nothing longer than any account's name or address is looked up or kept.
    if email
        .as_deref()
        .is_some_and(|e| e.len() > validate::EMAIL_MAX)
    {
        return Err(too_long("email", validate::EMAIL_MAX));
    }
    if username
        .as_deref()
        .is_some_and(|u| u.chars().count() > validate::USERNAME_MAX)
    {
        return Err(too_long("username", validate::USERNAME_MAX));
    }
    // Bounded per account and client; past the bound nothing is sent, and the answer is the
    // same, so it tells nothing either.
    passwords::request_reset(&state, email, username, ip, anonymous(&headers)).await;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(MessageDto::new(RESET_ACCEPTED)),
    ))
}

fn too_long(field: &str, max: usize) -> TfError {
    TfError::field(
        StatusCode::BAD_REQUEST,
        field,
        &format!("Ensure this field has no more than {max} characters."),
    )
}

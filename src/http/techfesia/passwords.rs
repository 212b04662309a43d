//! `/users/<username>/password/`: create a password on an OAuth-only account (`POST`),
//! change it knowing the old one (`PUT`), reset it with a mailed token (`PATCH`).
//!
//! Changing or resetting the password ends every session of the account at once. A wrong old
//! password counts as a failed login for the rate limits.

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand, UserError};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use sha2::{Digest, Sha256};

use super::dto::{
    present, ChangePasswordRequest, CreatePasswordRequest, DetailDto, FieldErrorsDto, MessageDto,
    ResetPasswordRequest, ResetTokenErrorDto,
};
use super::extract::{anonymous, Caller, ClientIp};
use super::{validate, Json, TfError};
use crate::identity;
use crate::state::AppState;
use crate::store::CommandError;

/// The password routes.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/users/{username}/password",
        post(create).put(change).patch(reset),
    )
}

/// The SHA-256 (hex) of a reset token: only this is ever stored.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Password operations are for the account owner only.
async fn own_account(state: &AppState, caller: &Caller, username: &str) -> Result<(), TfError> {
    match identity::owner_of(state, ClaimKind::Username, username).await? {
        Some(id) if id == caller.id() => Ok(()),
        _ => Err(TfError::forbidden()),
    }
}

fn check_password(field: &str, value: &str) -> Result<(), TfError> {
    validate::password(value).map_err(|m| TfError::field(StatusCode::BAD_REQUEST, field, &m))
}

/// Adds a password to an OAuth-only account (422 when it has one already).
#[utoipa::path(
    post, path = "/users/{username}/password/", tag = "passwords",
    params(("username" = String, Path)),
    request_body = CreatePasswordRequest,
    security(("bearer" = [])),
    responses(
        (status = 201, body = MessageDto),
        (status = 400, body = FieldErrorsDto), (status = 401, body = DetailDto),
        (status = 403, body = DetailDto),
        (status = 422, description = "The account has a password already", body = FieldErrorsDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(username): Path<String>,
    Json(body): Json<CreatePasswordRequest>,
) -> Result<(StatusCode, axum::Json<MessageDto>), TfError> {
    own_account(&state, &caller, &username).await?;
    let Some(password) = present(&body.password) else {
        return Err(TfError::missing(&["password"]));
    };
    check_password("password", password)?;
    let command = UserCommand::CreatePassword {
        password: password.to_string(),
        now: chrono::Utc::now(),
    };
    let position = state
        .commands
        .execute::<User>(caller.id(), command, &caller.ctx())
        .await?;
    tracing::info!(user_id = %caller.id(), ?position, "password created");
    state.wait_for(position, &["users"]).await;
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
        (status = 400, body = FieldErrorsDto), (status = 401, body = DetailDto),
        (status = 403, body = DetailDto),
        (status = 422, description = "Wrong old password, or an OAuth-only account", body = FieldErrorsDto),
        (status = 429, description = "Too many wrong passwords", body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    ClientIp(ip): ClientIp,
    Path(username): Path<String>,
    Json(body): Json<ChangePasswordRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    own_account(&state, &caller, &username).await?;
    let missing: Vec<&str> = [
        ("oldPassword", &body.old_password),
        ("newPassword", &body.new_password),
    ]
    .into_iter()
    .filter(|(_, v)| present(v).is_none())
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(TfError::missing(&missing));
    }
    let old = body.old_password.unwrap_or_default();
    let new = body.new_password.unwrap_or_default();
    check_password("newPassword", &new)?;
    // The limiter is keyed by the user id: a rename cannot reset the counters. The attempt
    // is taken before the old password is checked (parallel guesses cannot all pass).
    let attempt = state
        .limiter
        .reserve(caller.id(), ip)
        .await
        .map_err(TfError::throttled)?;
    let command = UserCommand::ChangePassword {
        old_password: old,
        new_password: new,
        now: chrono::Utc::now(),
    };
    match state
        .commands
        .execute::<User>(caller.id(), command, &caller.ctx())
        .await
    {
        Ok(position) => {
            attempt.succeeded();
            tracing::info!(user_id = %caller.id(), ?position, "password changed; sessions ended");
            state.sync_auth(position.clone()).await;
            state.wait_for(position, &["users"]).await;
            Ok(axum::Json(MessageDto::new("Password changed successfully")))
        }
        Err(e) => Err(e.into()),
    }
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
#[tracing::instrument(skip_all)]
pub async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(username): Path<String>,
    Json(body): Json<ResetPasswordRequest>,
) -> Result<axum::Json<MessageDto>, TfError> {
    let missing: Vec<&str> = [
        ("resetToken", &body.reset_token),
        ("newPassword", &body.new_password),
    ]
    .into_iter()
    .filter(|(_, v)| present(v).is_none())
    .map(|(name, _)| name)
    .collect();
    if !missing.is_empty() {
        return Err(TfError::missing(&missing));
    }
    let token = body.reset_token.unwrap_or_default();
    let new = body.new_password.unwrap_or_default();
    check_password("newPassword", &new)?;
    let Some(user_id) = identity::owner_of(&state, ClaimKind::Username, &username).await? else {
        return Err(TfError::reset_token_invalid());
    };
    let command = UserCommand::ResetPassword {
        token_hash: token_hash(token.trim()),
        new_password: new,
        now: chrono::Utc::now(),
    };
    match state
        .commands
        .execute::<User>(&user_id, command, &anonymous(&headers))
        .await
    {
        Ok(position) => {
            tracing::info!(%user_id, ?position, "password reset; sessions ended");
            state.sync_auth(position.clone()).await;
            state.wait_for(position, &["users"]).await;
            Ok(axum::Json(MessageDto::new("Password reset successfully")))
        }
        Err(CommandError::Rejected(UserError::ResetTokenInvalid | UserError::NotFound)) => {
            Err(TfError::reset_token_invalid())
        }
        Err(e) => Err(e.into()),
    }
}

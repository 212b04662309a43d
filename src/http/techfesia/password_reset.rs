//! `/auth/password/reset/`: mails a single-use, expiring reset link; always the same 202,
//! whether or not an account matched.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::dto::{present, FieldErrorsDto, MessageDto, ResetRequest};
use super::extract::{anonymous, ClientIp};
use super::{validate, Json, TfError};
use crate::app::passwords;
use crate::state::AppState;

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

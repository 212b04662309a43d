//! `/auth/password/reset/`: mails a single-use, expiring reset link; always the same 202,
//! whether or not an account matched.

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use rand::RngCore;

use super::dto::{present, FieldErrorsDto, MessageDto, ResetRequest};
use super::extract::{anonymous, ClientIp};
use super::passwords::token_hash;
use super::{Json, TfError};
use crate::adapters::mail::Mail;
use crate::identity;
use crate::state::AppState;
use crate::store::{CommandContext, CommandError};

/// The answer to every reset request, whether or not an account matched.
pub const RESET_ACCEPTED: &str =
    "If an account matches, a password reset link has been sent to its email address.";

/// A new reset token: 32 random bytes, base64url.
fn new_reset_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Records a reset token for the account `email` or `username` names and mails the link.
/// Runs detached from the request, so that the answer takes the same time whether or not
/// the account exists.
async fn send_reset(
    state: AppState,
    email: Option<String>,
    username: Option<String>,
    ctx: CommandContext,
) {
    let owner = match (&email, &username) {
        (Some(email), _) => identity::owner_of(&state, ClaimKind::Email, email).await,
        (None, Some(username)) => identity::owner_of(&state, ClaimKind::Username, username).await,
        (None, None) => return,
    };
    let user_id = match owner {
        Ok(Some(id)) => id,
        Ok(None) => {
            tracing::info!("password reset asked for no account");
            return;
        }
        Err(error) => {
            tracing::error!(%error, "password reset lookup failed");
            return;
        }
    };
    let user = match identity::load_user(&state, &user_id).await {
        Ok(user) if user.exists() && !user.is_disabled() => user,
        Ok(_) => return,
        Err(error) => {
            tracing::error!(%error, %user_id, "password reset: loading the user failed");
            return;
        }
    };
    let Some(to) = user.details().email.clone().filter(|e| !e.is_empty()) else {
        tracing::info!(%user_id, "password reset asked for an account without email");
        return;
    };
    let token = new_reset_token();
    let command = UserCommand::RequestPasswordReset {
        token_hash: token_hash(&token),
        now: chrono::Utc::now(),
    };
    match state
        .commands
        .execute::<User>(&user_id, command, &ctx)
        .await
    {
        Ok(_) => {}
        Err(CommandError::Rejected(e)) => {
            tracing::info!(%user_id, error = %e, "password reset refused");
            return;
        }
        Err(error) => {
            tracing::error!(%user_id, %error, "password reset could not be stored");
            return;
        }
    }
    let username = user.username();
    let link = format!(
        "{}/users/{}/password/?resetToken={}",
        state.public_url,
        url::form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>(),
        token
    );
    let body = format!(
        "Hello {username},\n\n\
         Someone asked to reset the password of your account. To choose a new password, open\n\
         this link within {} minutes:\n\n{link}\n\n\
         Or send PATCH /users/{username}/password/ with\n\
         {{\"resetToken\": \"{token}\", \"newPassword\": \"...\"}}\n\n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n",
        aggregates::user::RESET_TOKEN_TTL_MINUTES,
    );
    let mail = Mail {
        to,
        subject: "Reset your password".into(),
        body,
    };
    match state.mailer.send(mail).await {
        Ok(()) => tracing::info!(%user_id, "password reset mail sent"),
        Err(error) => tracing::error!(%user_id, %error, "password reset mail failed"),
    }
}

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
#[tracing::instrument(skip_all)]
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
    // Bounded per account and client; past the bound nothing is sent, and the answer is the
    // same, so it tells nothing either.
    let key = format!(
        "reset:{}",
        email
            .as_deref()
            .or(username.as_deref())
            .unwrap_or_default()
            .to_lowercase()
    );
    // Every request spends from the budget (a mail sent is never given back).
    if state.reset_limiter.reserve(&key, ip).await.is_ok() {
        tokio::spawn(send_reset(state, email, username, anonymous(&headers)));
    } else {
        tracing::info!("password reset mails throttled");
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(MessageDto::new(RESET_ACCEPTED)),
    ))
}

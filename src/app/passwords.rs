//! Passwords: create one on an OAuth-only account, change it knowing the old one, reset it
//! with a mailed token, and ask for that mail.
//!
//! Changing or resetting the password ends every session of the account at once. A wrong old
//! password counts as a failed login for the rate limits.

use std::net::IpAddr;

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand, UserError};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{checked, identity, Caller, Checked, Error};
use crate::adapters::mail::Mail;
use crate::state::AppState;
use crate::store::{CommandContext, CommandError};

/// The stored form of a reset token: its SHA-256, hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Refuses unless `username` is the caller's own account.
async fn own_account(state: &AppState, caller: &Caller, username: &str) -> Result<(), Error> {
    match identity::owner_of(state, ClaimKind::Username, username).await? {
        Some(id) if id == caller.id() => Ok(()),
        _ => Err(Error::Forbidden),
    }
}

/// Creates a password on the caller's own OAuth-only account.
///
/// # Errors
/// [`Error::Forbidden`], the edge's [`Error::Invalid`], the aggregate's refusal (a password
/// exists), store failures.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    username: &str,
    password: Checked<String>,
) -> Result<(), Error> {
    own_account(state, caller, username).await?;
    // A stolen session (or a token minted from one by refreshing) must not add a second way
    // in: only a recent sign-in may.
    let max_age_secs = state.config.reauth_max_age_secs;
    let age = chrono::Utc::now() - caller.principal.signed_in_at;
    if age.num_seconds() > i64::try_from(max_age_secs).unwrap_or(i64::MAX) {
        tracing::info!(user_id = %caller.id(), age_secs = age.num_seconds(), "password creation needs a fresh sign-in");
        return Err(Error::SignInAgain { max_age_secs });
    }
    let password = checked(password)?;
    let command = UserCommand::CreatePassword {
        password,
        now: chrono::Utc::now(),
    };
    let position = caller.run(state, caller.id(), command).await?;
    tracing::info!(user_id = %caller.id(), ?position, "password created");
    state.wait_for(position, &["users"]).await;
    tokio::spawn(password_added_notice(
        state.clone(),
        caller.id().to_string(),
    ));
    Ok(())
}

/// Tells the person by mail that a password was added to their account, so that someone who
/// did it with a stolen session is noticed. Nothing is sent to an account without email.
async fn password_added_notice(state: AppState, user_id: String) {
    let user = match identity::load_user(&state, &user_id).await {
        Ok(user) => user,
        Err(error) => {
            tracing::error!(%error, %user_id, "password notice: loading the user failed");
            return;
        }
    };
    let Some(to) = user.details().email.clone().filter(|e| !e.is_empty()) else {
        return;
    };
    let username = user.username();
    let mail = Mail {
        to,
        subject: "A password was added to your account".into(),
        body: format!(
            "Hello {username},\n\n\
             A password was just added to your account, so it can now sign in with a username\n\
             and password as well as with its linked provider.\n\n\
             If this was not you, ask for a password reset at once and sign out everywhere.\n"
        ),
    };
    match state.mailer.send(mail).await {
        Ok(()) => tracing::info!(%user_id, "password notice sent"),
        Err(error) => tracing::error!(%user_id, %error, "password notice failed"),
    }
}

/// Changes the caller's own password, knowing the old one (`(old, new)`). The limiter is
/// keyed by the user id: a rename cannot reset the counters. The attempt is taken before the
/// old password is checked (parallel guesses cannot all pass).
///
/// # Errors
/// [`Error::Forbidden`], the edge's [`Error::Invalid`], [`Error::Throttled`], the aggregate's
/// refusal (no password, wrong old one), store failures.
pub async fn change(
    state: &AppState,
    caller: &Caller,
    username: &str,
    passwords: Checked<(String, String)>,
    ip: IpAddr,
) -> Result<(), Error> {
    own_account(state, caller, username).await?;
    let (old, new) = checked(passwords)?;
    let attempt = state
        .limiter
        .reserve(caller.id(), ip)
        .await
        .map_err(Error::Throttled)?;
    let command = UserCommand::ChangePassword {
        old_password: old,
        new_password: new,
        now: chrono::Utc::now(),
    };
    let position = caller.run(state, caller.id(), command).await?;
    attempt.succeeded();
    tracing::info!(user_id = %caller.id(), ?position, "password changed; sessions ended");
    super::user_settled(state, position).await;
    Ok(())
}

/// Resets the password of `username` with a mailed token.
///
/// # Errors
/// [`UserError::ResetTokenInvalid`] (as [`Error::User`]) for an unknown account or a token
/// that is invalid, expired or used; store failures.
pub async fn reset(
    state: &AppState,
    username: &str,
    token: &str,
    new_password: String,
    ctx: &CommandContext,
) -> Result<(), Error> {
    let Some(user_id) = identity::owner_of(state, ClaimKind::Username, username).await? else {
        return Err(Error::User(UserError::ResetTokenInvalid));
    };
    let command = UserCommand::ResetPassword {
        token_hash: token_hash(token.trim()),
        new_password,
        now: chrono::Utc::now(),
    };
    match state.commands.execute::<User>(&user_id, command, ctx).await {
        Ok(position) => {
            tracing::info!(%user_id, ?position, "password reset; sessions ended");
            super::user_settled(state, position).await;
            Ok(())
        }
        Err(CommandError::Rejected(UserError::ResetTokenInvalid | UserError::NotFound)) => {
            Err(Error::User(UserError::ResetTokenInvalid))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new reset token: 32 random bytes, base64url.
fn new_reset_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Asks for a reset mail for the account `email` (or else `username`) names. Bounded per
/// resolved account and client (however the account is typed: `Alice`, `alice` or its email
/// all spend one budget); past the bound nothing is sent. Returns at once whether or not an
/// account matches: the work runs detached, so the answer takes the same time either way.
pub async fn request_reset(
    state: &AppState,
    email: Option<String>,
    username: Option<String>,
    ip: IpAddr,
    ctx: CommandContext,
) {
    tokio::spawn(send_reset(state.clone(), email, username, ip, ctx));
}

/// Records a reset token for the account `email` or `username` names and mails the link.
async fn send_reset(
    state: AppState,
    email: Option<String>,
    username: Option<String>,
    ip: IpAddr,
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
    // Every request for this account spends from its budget (a mail sent is never given back).
    let Ok(_mail) = state.reset_limiter.reserve(&user_id, ip).await else {
        tracing::info!(%user_id, "password reset mails throttled");
        return;
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

//! Sessions: password login, refreshing an access token, revoking one session or all of
//! them; OAuth sign-in (or linking a provider) in [`oauth`], humit's Spotify sign-in in
//! [`spotify`]. Every revocation is in force before the use case returns (`sync_auth`).

mod oauth;
mod spotify;

pub use oauth::oauth_sign_in;
pub use spotify::{
    provisional_handle, spotify_sign_in, with_suffix, SpotifySession, SpotifySignup,
};

use std::net::IpAddr;

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand, UserError};

use super::{identity, Caller, Error};
use crate::auth::{Claims, TokenKind, TokenPair};
use crate::state::AppState;
use crate::store::{CommandContext, Commit};

pub use crate::adapters::oauth::{OAuthError, Provider};
pub use crate::adapters::spotify::SpotifyError;
pub use crate::auth::jwt::{HUMIT, TECHFESIA};

/// Who the bearer of `token` is: a token we signed, unexpired, of `kind`, for `audience`,
/// whose session and account are live in the auth state now (a revocation or a disabled
/// account is in force at once). `None` otherwise: each dialect answers it as one error, so
/// the reason shows only in the log.
pub fn authenticate(
    state: &AppState,
    token: &str,
    kind: TokenKind,
    audience: &str,
) -> Option<crate::auth::Principal> {
    let claims = state.tokens.verify(token, kind, audience).ok()?;
    state
        .registry
        .authenticate(&claims)
        .inspect_err(|denied| {
            tracing::info!(user_id = %claims.sub, audience, %denied, "token refused");
        })
        .ok()
}

/// Admits one request of a client who is not signed in to a route of the general limit
/// (sign-up, login, OAuth, refresh, reset, handle checks): takes it from `client`'s budget.
///
/// # Errors
/// [`Error::Throttled`] with the wait, once the client's budget is spent.
pub fn admit_anonymous(state: &AppState, client: IpAddr) -> Result<(), Error> {
    state.throttle.check(client).map_err(|wait| {
        tracing::info!(wait_ms = wait.as_millis() as u64, "client throttled");
        Error::Throttled(wait)
    })
}

/// Logs in with a username and password for `audience`. The attempt is taken from the
/// login budget of the account and client before any password is checked, so parallel
/// guesses cannot all pass while the first ones are still hashing; unless it succeeds, it
/// counts as a failure. An unknown name and a password-less account spend the time of a real
/// verification, so that the answer tells nothing.
///
/// # Errors
/// [`Error::Throttled`], [`Error::BadCredentials`], store failures.
pub async fn log_in(
    state: &AppState,
    username: &str,
    password: &str,
    ip: IpAddr,
    audience: &str,
    ctx: &CommandContext,
) -> Result<TokenPair, Error> {
    let account = username.trim().to_lowercase();
    let attempt = state
        .limiter
        .reserve(&account, ip)
        .await
        .map_err(Error::Throttled)?;
    let Some(user_id) = identity::owner_of(state, ClaimKind::Username, username).await? else {
        // Spend the time of a real login: an unknown name must look like a wrong password.
        // The same reads (a person's events and key; none exist under a fresh id) and a
        // verification.
        let _ = identity::load_user(state, &uuid::Uuid::new_v4().simple().to_string()).await;
        state.hasher.verify_dummy(password).await;
        tracing::info!("login refused");
        return Err(Error::BadCredentials);
    };
    match identity::log_in(state, &user_id, password, audience, ctx).await {
        Ok((pair, position)) => {
            attempt.succeeded();
            tracing::info!(%user_id, "signed in");
            state.sync_auth(position.clone()).await;
            state.wait_for(position, &["users"]).await;
            Ok(pair)
        }
        Err(Error::User(UserError::InvalidCredentials | UserError::NotFound)) => {
            tracing::info!(%user_id, "login refused");
            Err(Error::BadCredentials)
        }
        Err(e) => Err(e),
    }
}

/// A new access token for an open session's refresh token.
///
/// # Errors
/// [`Error::RefreshInvalid`].
pub fn refresh(state: &AppState, token: &str, audience: &str) -> Result<String, Error> {
    let principal =
        authenticate(state, token, TokenKind::Refresh, audience).ok_or(Error::RefreshInvalid)?;
    // Never outliving the session: the access token ends when the refresh token does.
    Ok(state.tokens.access_within(
        &principal.user_id,
        &principal.session_id,
        audience,
        principal.token_expires,
    ))
}

/// The claims of a refresh (or access) token of `audience` that can be revoked.
fn revocable(state: &AppState, token: &str, audience: &str) -> Option<Claims> {
    state
        .tokens
        .verify(token, TokenKind::Refresh, audience)
        .or_else(|_| state.tokens.verify(token, TokenKind::Access, audience))
        .ok()
}

/// Ends the sessions of the caller's `tokens` (at most 100; others' tokens are skipped), or
/// every session of the caller when `tokens` is empty. Answers how many ended.
///
/// # Errors
/// Store failures.
pub async fn revoke_many(
    state: &AppState,
    caller: &Caller,
    tokens: &[String],
    audience: &str,
) -> Result<usize, Error> {
    let (deleted, position) = if tokens.is_empty() {
        let now = chrono::Utc::now();
        let open = state.registry.open_sessions(caller.id(), now);
        let command = UserCommand::RevokeAllSessions { now };
        let position = state
            .commands
            .execute::<User>(caller.id(), command, &caller.ctx)
            .await?;
        (open, position)
    } else {
        let mut deleted = 0;
        let mut last: Option<Commit> = None;
        for token in tokens.iter().take(100) {
            // Only the caller's own tokens; anything else is not theirs to end.
            let Some(claims) = revocable(state, token, audience).filter(|c| c.sub == caller.id())
            else {
                continue;
            };
            let (ended, position) =
                identity::end_session(state, caller.id(), &claims.sid, &caller.ctx).await?;
            deleted += usize::from(ended);
            last = position.or(last);
        }
        (deleted, last)
    };
    tracing::info!(user_id = %caller.id(), deleted, "sessions revoked");
    state.sync_auth(position.clone()).await;
    Ok(deleted)
}

/// Ends the caller's session of one token. Answers whether it was open.
///
/// # Errors
/// [`Error::RefreshInvalid`], [`Error::Forbidden`] for someone else's token, store failures.
pub async fn revoke_one(
    state: &AppState,
    caller: &Caller,
    token: &str,
    audience: &str,
) -> Result<bool, Error> {
    let claims = revocable(state, token, audience).ok_or(Error::RefreshInvalid)?;
    if claims.sub != caller.id() {
        return Err(Error::Forbidden);
    }
    let (ended, position) =
        identity::end_session(state, caller.id(), &claims.sid, &caller.ctx).await?;
    tracing::info!(user_id = %caller.id(), ended, "session revoked");
    state.sync_auth(position.clone()).await;
    Ok(ended)
}

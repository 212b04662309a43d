//! Sessions: password login, OAuth sign-in (or linking a provider), refreshing an access
//! token, revoking one session or all of them. Every revocation is in force before the use
//! case returns (`sync_auth`).

use std::net::IpAddr;

use aggregates::claim::ClaimKind;
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};

use super::identity::{self, NewUser};
use super::{Caller, Error};
use crate::adapters::oauth::ProviderProfile;
use crate::auth::{Claims, TokenKind, TokenPair};
use crate::state::AppState;
use crate::store::{CommandContext, Commit};

pub use crate::adapters::oauth::{OAuthError, Provider};
pub use crate::adapters::spotify::SpotifyError;
pub use crate::auth::jwt::{HUMIT, TECHFESIA};

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
        // Spend the time of a real verification: an unknown name must look like a wrong password.
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
            // An account without a password (OAuth only) refuses without hashing: spend the
            // time of a verification, so the answer does not tell it apart.
            if !identity::load_user(state, &user_id).await?.has_password() {
                state.hasher.verify_dummy(password).await;
            }
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
    let claims = state
        .tokens
        .verify(token, TokenKind::Refresh, audience)
        .map_err(|_| Error::RefreshInvalid)?;
    let principal = state
        .registry
        .authenticate(&claims)
        .map_err(|_| Error::RefreshInvalid)?;
    Ok(state
        .tokens
        .access(&principal.user_id, &principal.session_id, audience))
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

/// A username from the provider's hint: allowed characters only, at most 30 of them.
fn username_base(profile: &ProviderProfile) -> String {
    let hint = profile.handle_hint.clone().unwrap_or_default();
    let base: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(30)
        .collect();
    if base.is_empty() {
        profile.provider.name().to_string()
    } else {
        base
    }
}

/// Creates an account for a new provider identity. The email is kept only when nobody has
/// it (and it is a valid address): an email match never links accounts. Answers the user id,
/// username and position.
async fn register_identity(
    state: &AppState,
    profile: &ProviderProfile,
    valid_email: fn(&str) -> bool,
    ctx: &CommandContext,
) -> Result<(String, String, Option<Commit>), Error> {
    let base = username_base(profile);
    let mut email = profile.email.clone().filter(|e| valid_email(e));
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let username = match attempt {
            1 => base.clone(),
            2..=8 => format!("{base}_{:04}", rand::random::<u16>() % 10_000),
            _ => format!(
                "{}_{}",
                profile.provider.name(),
                uuid::Uuid::new_v4().simple()
            ),
        };
        let new = NewUser {
            username: username.clone(),
            details: UserDetails {
                email: email.clone(),
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                profile_picture: profile.picture_url.clone().unwrap_or_default(),
                ..UserDetails::default()
            },
            password: None,
            identity: Some(ProviderIdentity {
                provider: profile.provider.name().to_string(),
                subject: profile.subject.clone(),
                picture_url: profile.picture_url.clone(),
            }),
            spotify_tokens: None,
            role: Role::Normal,
        };
        match identity::register(state, new, ctx).await {
            Ok((user_id, position)) => return Ok((user_id, username, position)),
            Err(Error::UsernameTaken) if attempt < 10 => continue,
            Err(Error::EmailTaken) => {
                email = None;
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Links `profile`'s identity to `user_id` (claimed first when new, and given back if the
/// link fails), refreshing the stored picture when it is linked already.
async fn link(
    state: &AppState,
    user_id: &str,
    profile: &ProviderProfile,
    newly_claimed: bool,
    ctx: &CommandContext,
) -> Result<Option<Commit>, Error> {
    let key = format!("{}/{}", profile.provider.name(), profile.subject);
    let command = UserCommand::LinkProvider {
        identity: ProviderIdentity {
            provider: profile.provider.name().to_string(),
            subject: profile.subject.clone(),
            picture_url: profile.picture_url.clone(),
        },
        now: chrono::Utc::now(),
    };
    match state.commands.execute::<User>(user_id, command, ctx).await {
        Ok(position) => Ok(position),
        Err(e) => {
            if newly_claimed {
                identity::release(state, ClaimKind::Identity, &key, user_id, ctx).await;
            }
            Err(e.into())
        }
    }
}

/// Signs in with an OAuth provider's access token: asks the provider who it belongs to, then
/// signs into the account linked to that identity, or creates one. With a `caller`, links the
/// identity to the caller's account instead. Answers the token pair and the username.
/// `valid_email` says which provider emails the dialect accepts for a new account.
///
/// # Errors
/// [`Error::Provider`], [`Error::ProviderTaken`], [`Error::BadCredentials`] (a disabled
/// account reveals nothing), store failures.
pub async fn oauth_sign_in(
    state: &AppState,
    caller: Option<&Caller>,
    provider: Provider,
    access_token: &str,
    valid_email: fn(&str) -> bool,
    ctx: &CommandContext,
) -> Result<(TokenPair, String), Error> {
    let profile = state
        .oauth
        .userinfo(provider, access_token)
        .await
        .map_err(|e| Error::Provider(provider, e))?;
    let key = format!("{}/{}", provider.name(), profile.subject);
    let owner = identity::settled_owner(state, ClaimKind::Identity, &key).await?;
    let user_id = match (caller, owner) {
        // Linking to the signed-in account.
        (Some(caller), Some(owner)) if owner != caller.id() => {
            return Err(Error::ProviderTaken(provider))
        }
        (Some(caller), owner) => {
            let claimed_now = owner.is_none();
            if claimed_now
                && !identity::claim(state, ClaimKind::Identity, &key, caller.id(), ctx).await?
            {
                return Err(Error::ProviderTaken(provider));
            }
            link(state, caller.id(), &profile, claimed_now, ctx).await?;
            tracing::info!(user_id = %caller.id(), "o-auth identity linked");
            caller.id().to_string()
        }
        // Signing into the linked account (the picture is refreshed on the way).
        (None, Some(owner)) => {
            // A disabled account answers like a wrong login: it reveals nothing.
            let user = identity::load_user(state, &owner).await?;
            if !user.exists() || user.is_disabled() {
                return Err(Error::BadCredentials);
            }
            link(state, &owner, &profile, false, ctx).await?;
            owner
        }
        // A new identity: a new account.
        (None, None) => match register_identity(state, &profile, valid_email, ctx).await {
            Ok((user_id, username, _)) => {
                tracing::info!(%user_id, %username, "account created from o-auth");
                user_id
            }
            Err(Error::IdentityTaken) => {
                // Someone signed in with the same identity at the same moment.
                identity::settled_owner(state, ClaimKind::Identity, &key)
                    .await?
                    .ok_or_else(|| Error::Store("identity claim vanished".into()))?
            }
            Err(e) => return Err(e),
        },
    };
    let (pair, position) =
        match identity::start_session(state, &user_id, provider.name(), TECHFESIA, ctx).await {
            Ok(result) => result,
            Err(Error::User(UserError::Disabled | UserError::NotFound)) => {
                return Err(Error::BadCredentials)
            }
            Err(e) => return Err(e),
        };
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
    let user = identity::load_user(state, &user_id).await?;
    Ok((pair, user.username().to_string()))
}

/// A humit sign-up: the Spotify tokens, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotifySignup {
    /// The Spotify access token.
    pub access_token: String,
    /// The Spotify refresh token.
    pub refresh_token: String,
    /// A push notification id.
    pub notification_id: Option<String>,
}

/// A humit session opened with Spotify tokens.
#[derive(Debug, Clone)]
pub struct SpotifySession {
    /// The humit token pair.
    pub pair: TokenPair,
    /// 0 before the registration form, 1 after.
    pub signup_stage: i32,
}

/// A provisional handle from a Spotify id: lower-case letters, digits, `_` and `.`, at most
/// 30 characters, at least 3 (padded with digits).
pub fn provisional_handle(spotify_id: &str) -> String {
    let mut handle: String = spotify_id
        .chars()
        .filter_map(|c| {
            let c = c.to_ascii_lowercase();
            (c.is_ascii_alphanumeric() || c == '_' || c == '.').then_some(c)
        })
        .take(30)
        .collect();
    if handle.len() < 3 {
        handle = format!("user{handle}");
    }
    handle
}

/// A handle with four random digits instead of its end.
pub fn with_suffix(handle: &str) -> String {
    use rand::Rng;
    let suffix = rand::thread_rng().gen_range(1000..10_000);
    let base: String = handle.chars().take(25).collect();
    format!("{base}{suffix}")
}

/// Finds the person behind a Spotify identity, or registers them. Answers the user id and
/// whether they are new.
async fn find_or_register(
    state: &AppState,
    profile: &crate::adapters::spotify::SpotifyProfile,
    signup: &SpotifySignup,
    ctx: &CommandContext,
) -> Result<(String, bool), Error> {
    let key = format!("spotify/{}", profile.id);
    let mut handle = provisional_handle(&profile.id);
    for _ in 0..8 {
        if let Some(user_id) = identity::settled_owner(state, ClaimKind::Identity, &key).await? {
            return Ok((user_id, false));
        }
        let new = NewUser {
            username: handle.clone(),
            details: UserDetails {
                first_name: profile.display_name.clone().unwrap_or_default(),
                ..UserDetails::default()
            },
            password: None,
            identity: Some(ProviderIdentity {
                provider: "spotify".into(),
                subject: profile.id.clone(),
                picture_url: profile.images.first().map(|i| i.url.clone()),
            }),
            spotify_tokens: Some((
                signup.access_token.clone(),
                signup.refresh_token.clone(),
                profile.country.clone(),
            )),
            role: Role::Normal,
        };
        match identity::register(state, new, ctx).await {
            Ok((user_id, _)) => return Ok((user_id, true)),
            Err(Error::UsernameTaken) => handle = with_suffix(&handle),
            // Signed up at the same moment by another request: find them on the next turn.
            Err(Error::IdentityTaken) => {}
            Err(Error::Conflict) => return Err(Error::Conflict),
            Err(other) => return Err(Error::Store(other.to_string())),
        }
    }
    Err(Error::Conflict)
}

/// Humit sign-up with Spotify tokens ("log in or create"): Spotify says who they belong to;
/// the person is found by their claimed identity `spotify/<id>` or registered at
/// `signup_stage` 0 with a provisional handle. The Spotify tokens are stored as secrets on
/// the `User` aggregate (never in a read model, never on the bus, never logged).
///
/// # Errors
/// [`Error::Spotify`], [`Error::AccountDisabled`], [`Error::Conflict`], store failures.
pub async fn spotify_sign_in(
    state: &AppState,
    signup: &SpotifySignup,
    request_id: String,
) -> Result<SpotifySession, Error> {
    let refused = |e: Error| match e {
        Error::User(UserError::Disabled | UserError::NotFound) => Error::AccountDisabled,
        Error::Conflict => Error::Conflict,
        other => Error::Store(other.to_string()),
    };
    let profile = state
        .spotify
        .me(&signup.access_token)
        .await
        .map_err(Error::Spotify)?;
    let ctx = CommandContext {
        actor: crate::store::Actor::Anonymous,
        request_id,
    };
    let (user_id, created) = find_or_register(state, &profile, signup, &ctx).await?;
    let ctx = CommandContext {
        actor: crate::store::Actor::User {
            id: user_id.clone(),
            role: "normal".into(),
        },
        ..ctx
    };
    if !created {
        let command = UserCommand::UpdateSpotifyTokens {
            access_token: signup.access_token.clone(),
            refresh_token: signup.refresh_token.clone(),
            country: profile.country.clone(),
            now: chrono::Utc::now(),
        };
        state
            .commands
            .execute::<User>(&user_id, command, &ctx)
            .await
            .map_err(|e| Error::from_command(e, |e| refused(Error::User(e))))?;
    }
    if signup.notification_id.is_some() {
        let command = UserCommand::SetNotificationId {
            notification_id: signup.notification_id.clone(),
            now: chrono::Utc::now(),
        };
        state
            .commands
            .execute::<User>(&user_id, command, &ctx)
            .await
            .map_err(|e| Error::from_command(e, |e| refused(Error::User(e))))?;
    }
    let (pair, position) = identity::start_session(state, &user_id, "spotify", HUMIT, &ctx)
        .await
        .map_err(refused)?;
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
    let user = identity::load_user(state, &user_id).await?;
    let signup_stage = i32::from(user.profile_registered());
    tracing::info!(%user_id, created, signup_stage, "humit sign-up");
    Ok(SpotifySession { pair, signup_stage })
}

/// A new access token for a session its refresh token already proved (`principal`).
pub fn renew(state: &AppState, principal: &crate::auth::Principal, audience: &str) -> String {
    state
        .tokens
        .access(&principal.user_id, &principal.session_id, audience)
}

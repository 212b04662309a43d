//! OAuth sign-in: the provider says who an access token belongs to; the person linked to that
//! identity signs in, or a new account is made for it, or (with a caller) it is linked to the
//! caller's account. An email match alone never links accounts.

use aggregates::claim::ClaimKind;
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};

use super::TECHFESIA;
use crate::adapters::oauth::{Provider, ProviderProfile};
use crate::app::identity::{self, NewUser};
use crate::app::{Caller, Error};
use crate::auth::TokenPair;
use crate::state::AppState;
use crate::store::{CommandContext, Commit};

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

/// Signs in with an OAuth provider's access token: binds it to humit's client at the provider
/// (a Spotify sign-in binds its `refresh_token` instead), asks the provider who it belongs to, then
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
    refresh_token: Option<&str>,
    valid_email: fn(&str) -> bool,
    ctx: &CommandContext,
) -> Result<(TokenPair, String), Error> {
    let profile = state
        .oauth
        .identify(provider, access_token, refresh_token)
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

//! humit's sign-in with Spotify tokens ("log in or create").

use aggregates::claim::ClaimKind;
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};

use super::HUMIT;
use crate::app::identity::{self, NewUser};
use crate::app::Error;
use crate::auth::TokenPair;
use crate::state::AppState;
use crate::store::CommandContext;

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
    /// The Spotify access token kept (minted for humit's client when it is configured).
    pub spotify_access_token: String,
    /// The Spotify refresh token kept (rotated by Spotify, or the one sent).
    pub spotify_refresh_token: String,
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
            Err(other) => return Err(other.into_store()),
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
        other => other.into_store(),
    };
    // The refresh token is exchanged with humit's client credentials (when configured):
    // only tokens issued to humit sign in, and the tokens kept are the exchanged ones.
    let (access_token, refresh_token) = state
        .spotify
        .bind(&signup.access_token, &signup.refresh_token)
        .await
        .map_err(Error::Spotify)?;
    let signup = &SpotifySignup {
        access_token,
        refresh_token,
        notification_id: signup.notification_id.clone(),
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
    let mut commands = Vec::new();
    if !created {
        commands.push(UserCommand::UpdateSpotifyTokens {
            access_token: signup.access_token.clone(),
            refresh_token: signup.refresh_token.clone(),
            country: profile.country.clone(),
            now: chrono::Utc::now(),
        });
    }
    if signup.notification_id.is_some() {
        commands.push(UserCommand::SetNotificationId {
            notification_id: signup.notification_id.clone(),
            now: chrono::Utc::now(),
        });
    }
    for command in commands {
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
    Ok(SpotifySession {
        pair,
        signup_stage,
        spotify_access_token: signup.access_token.clone(),
        spotify_refresh_token: signup.refresh_token.clone(),
    })
}

//! Profiles (humit): the registration form, the caller's own profile, handle and invite code
//! checks, and the profile picture upload.
//!
//! Registering claims the chosen handle (race-free: of many people claiming one handle at once,
//! exactly one wins), creates the user's humit playlist on Spotify, records `RegisterProfile`
//! (signup_stage 1), gives the provisional handle back, and credits the invite code's owner.
//!
//! The profile picture upload lives in [`uploads`].

use aggregates::claim::ClaimKind;
use aggregates::user::{HumitProfile, User, UserCommand, UserError};
use chrono::{NaiveDate, Utc};
use rand::Rng;
use serde_json::Value;

use super::social::{referral_owner, UserRow};
use super::{identity, Caller, Error};
use crate::state::AppState;
use crate::store::{later, CommandContext, Commit};

mod uploads;

pub use uploads::{
    essence, grant_upload, is_jpeg, read_file, receive_upload, reconcile, start_upload,
    sweep_abandoned, Grant, Granted, Upload, PICTURE_TYPE,
};

/// A registration form, validated at the edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The date of birth.
    pub date_of_birth: NaiveDate,
    /// The chosen handle.
    pub handle: String,
    /// Favourite artists, as given.
    pub favourite_artists: Value,
    /// The first word of the full name.
    pub first_name: String,
    /// The rest of it.
    pub last_name: String,
    /// A push notification id.
    pub notification_id: Option<String>,
    /// An invite code.
    pub referral_code: Option<String>,
}

/// The first name's letters (else the handle's) and six digits.
pub fn internal_username(first_name: &str, handle: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .take(20)
            .collect()
    };
    let mut base = clean(first_name);
    if base.is_empty() {
        base = clean(handle);
    }
    let digits = rand::thread_rng().gen_range(100_000..1_000_000);
    format!("{base}{digits}")
}

async fn create_playlist(state: &AppState, user: &User) -> Result<String, Error> {
    let (Some(token), Some(spotify_id)) = (
        user.spotify_access_token(),
        user.provider_subject("spotify"),
    ) else {
        return Ok(String::new());
    };
    state
        .spotify
        .create_playlist(token, spotify_id, "humit", "Songs from humit")
        .await
        .map_err(Error::Spotify)
}

/// Gives back a handle claimed for a registration that failed, unless it is the user's own.
async fn release_unused(state: &AppState, user_id: &str, handle: &str, ctx: &CommandContext) {
    if let Ok(user) = identity::load_user(state, user_id).await {
        if ClaimKind::Username.same(user.username(), handle) {
            return;
        }
    }
    identity::release(state, ClaimKind::Username, handle, user_id, ctx).await;
}

/// Submits the registration form of the caller; answers their profile afterwards.
///
/// # Errors
/// [`Error::NotFound`], `ProfileAlreadyRegistered`, [`Error::OwnReferralCode`],
/// [`Error::UsernameTaken`], [`Error::Spotify`], store failures.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    form: Registration,
) -> Result<UserRow, Error> {
    let position = submit(state, caller, form).await?;
    profile_after(state, caller, position).await
}

async fn submit(
    state: &AppState,
    caller: &Caller,
    form: Registration,
) -> Result<Option<Commit>, Error> {
    let me = caller.id();
    let ctx = &caller.ctx;
    let user = identity::load_user(state, me).await?;
    if !user.exists() {
        return Err(Error::NotFound);
    }
    if user.profile_registered() {
        return Err(Error::User(UserError::ProfileAlreadyRegistered));
    }
    let referrer = match &form.referral_code {
        None => None,
        Some(code) => match referral_owner(state, code).await? {
            Some(owner) if owner != me => Some(owner),
            Some(_) => return Err(Error::OwnReferralCode),
            None => return Err(Error::NotFound),
        },
    };
    if !identity::claim(state, ClaimKind::Username, &form.handle, me, ctx).await? {
        return Err(Error::UsernameTaken);
    }
    let old_handle = user.username().to_string();
    let same_handle = ClaimKind::Username.same(&old_handle, &form.handle);
    let registered = async {
        let playlist_id = create_playlist(state, &user).await?;
        let command = UserCommand::RegisterProfile {
            username: form.handle.clone(),
            profile: HumitProfile {
                date_of_birth: form.date_of_birth,
                favourite_artists: form.favourite_artists.clone(),
                notification_id: form
                    .notification_id
                    .clone()
                    .or_else(|| user.notification_id().map(str::to_string)),
                referred_by: referrer.clone(),
                playlist_id,
                internal_username: internal_username(&form.first_name, &form.handle),
            },
            first_name: form.first_name.clone(),
            last_name: form.last_name.clone(),
            now: Utc::now(),
        };
        state
            .commands
            .execute::<User>(me, command, ctx)
            .await
            .map_err(|e| Error::from_command(e, Error::User))
    }
    .await;
    let mut position = match registered {
        Ok(position) => position,
        Err(error) => {
            if !same_handle {
                release_unused(state, me, &form.handle, ctx).await;
            }
            return Err(error);
        }
    };
    if !same_handle {
        identity::release(state, ClaimKind::Username, &old_handle, me, ctx).await;
    }
    if let Some(referrer) = &referrer {
        let command = UserCommand::CreditReferral {
            referred_user_id: me.to_string(),
            now: Utc::now(),
        };
        // The registration holds whatever happens here: a failed credit is logged, not
        // answered, so the client never retries a form that was accepted.
        match state.commands.execute::<User>(referrer, command, ctx).await {
            Ok(p) => position = later(position, p).await,
            Err(error) => tracing::error!(%error, %referrer, "failed to credit a referral"),
        }
    }
    tracing::info!(user_id = %me, handle = %form.handle, referred = referrer.is_some(), "humit profile registered");
    Ok(position)
}

/// The caller's own profile (an upload that arrived in the meantime completes first).
///
/// # Errors
/// [`Error::NotFound`], store and read failures.
pub async fn show(state: &AppState, caller: &Caller) -> Result<UserRow, Error> {
    profile_after(state, caller, None).await
}

async fn profile_after(
    state: &AppState,
    caller: &Caller,
    position: Option<Commit>,
) -> Result<UserRow, Error> {
    let uploaded = reconcile(state, caller).await?;
    state
        .wait_for(later(position, uploaded).await, &["users", "social"])
        .await;
    projections::social::read::user(&state.read_pool, caller.id(), caller.id())
        .await?
        .ok_or(Error::NotFound)
}

/// Refuses a handle someone else holds (any name held is "taken", whatever its rules).
///
/// # Errors
/// [`Error::UsernameTaken`], store failures.
pub async fn check_handle(state: &AppState, caller: &Caller, wanted: &str) -> Result<(), Error> {
    if wanted.len() <= 150 {
        let owner = identity::owner_of(state, ClaimKind::Username, wanted).await?;
        if owner.is_some_and(|owner| owner != caller.id()) {
            return Err(Error::UsernameTaken);
        }
    }
    Ok(())
}

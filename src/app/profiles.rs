//! Profiles (humit): the registration form, the caller's own profile, handle and invite code
//! checks, and the profile picture upload.
//!
//! Registering claims the chosen handle (race-free: of many people claiming one handle at once,
//! exactly one wins), creates the user's humit playlist on Spotify, records `RegisterProfile`
//! (signup_stage 1), gives the provisional handle back, and credits the invite code's owner.
//!
//! Uploads: starting one records `StartProfilePictureUpload` and presigns a `PUT` URL
//! (`image/jpeg`, at most 5 minutes, key `profile_images/<user_id>/<id>.jpg`). With the local
//! store, the upload completes when the file arrives; with S3, when humit next sees the object
//! there ([`reconcile`], run whenever the profile is read): a `HEAD` checks type and size first.

use aggregates::claim::ClaimKind;
use aggregates::user::{HumitProfile, User, UserCommand, UserError};
use chrono::{NaiveDate, Utc};
use rand::Rng;
use serde_json::Value;

use super::social::{referral_owner, UserRow};
use super::{identity, Caller, Error};
use crate::adapters::storage::{
    parse_profile_key, profile_key, GrantError, StoredObject, UploadRequest, JPEG,
    MAX_UPLOAD_EXPIRY,
};
use crate::state::AppState;
use crate::store::{later, Actor, CommandContext, CommandError, Commit};

pub use crate::adapters::storage::{LocalGrant as Grant, JPEG as PICTURE_TYPE};

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
        if ClaimKind::Username.claim_id(user.username()) == ClaimKind::Username.claim_id(handle) {
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
    let same_handle =
        ClaimKind::Username.claim_id(&old_handle) == ClaimKind::Username.claim_id(&form.handle);
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

/// A started upload: its id and where to `PUT` the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The upload id.
    pub id: String,
    /// The presigned URL.
    pub url: String,
}

fn storage_error(error: impl std::fmt::Display) -> Error {
    Error::Storage(error.to_string())
}

/// Starts a profile picture upload.
///
/// # Errors
/// [`Error::Storage`], [`Error::AccountDisabled`], store failures.
pub async fn start_upload(state: &AppState, caller: &Caller) -> Result<Upload, Error> {
    let upload_id = uuid::Uuid::new_v4().to_string();
    let key = profile_key(caller.id(), &upload_id);
    let request = UploadRequest {
        key: key.clone(),
        content_type: JPEG.to_string(),
        max_size: state.config.upload_limit as u64,
        expires_in: MAX_UPLOAD_EXPIRY,
    };
    let presigned = state
        .storage
        .presign_upload(&request)
        .await
        .map_err(storage_error)?;
    let command = UserCommand::StartProfilePictureUpload {
        upload_id: upload_id.clone(),
        key,
        expires_at: presigned.expires_at,
        now: Utc::now(),
    };
    state
        .commands
        .execute::<User>(caller.id(), command, &caller.ctx)
        .await
        .map_err(|e| Error::from_command(e, upload_refused))?;
    tracing::info!(%upload_id, "profile picture upload started");
    Ok(Upload {
        id: upload_id,
        url: presigned.url,
    })
}

fn upload_refused(error: UserError) -> Error {
    match error {
        UserError::Disabled | UserError::NotFound => Error::AccountDisabled,
        other => Error::Store(other.to_string()),
    }
}

async fn complete(
    state: &AppState,
    user_id: &str,
    upload_id: &str,
    key: &str,
    ctx: &CommandContext,
) -> Result<Option<Commit>, Error> {
    let command = UserCommand::CompleteProfilePictureUpload {
        upload_id: upload_id.to_string(),
        url: state.storage.public_url(key),
        now: Utc::now(),
    };
    match state.commands.execute::<User>(user_id, command, ctx).await {
        Ok(position) => {
            tracing::info!(%user_id, %upload_id, "profile picture uploaded");
            Ok(position)
        }
        Err(CommandError::Rejected(UserError::UploadNotFound)) => Ok(None),
        Err(e) => Err(Error::from_command(e, upload_refused)),
    }
}

fn acceptable(object: &StoredObject, limit: u64) -> bool {
    let jpeg = object
        .content_type
        .as_deref()
        .is_some_and(|t| essence(t).eq_ignore_ascii_case(JPEG));
    jpeg && object.size > 0 && object.size <= limit
}

/// A content type without its parameters.
pub fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

const RECONCILE_MAX: usize = 3;

/// Completes the caller's first pending upload whose object is in the store (and deletes
/// refused ones); answers the commit, if any.
///
/// # Errors
/// Store failures.
pub async fn reconcile(state: &AppState, caller: &Caller) -> Result<Option<Commit>, Error> {
    let user = identity::load_user(state, caller.id()).await?;
    let now = Utc::now();
    let limit = state.config.upload_limit as u64;
    let candidates = user
        .pending_uploads()
        .into_iter()
        // An URL expired an hour ago can no longer bring anything.
        .filter(|(_, u)| u.expires_at + chrono::Duration::hours(1) > now)
        .take(RECONCILE_MAX);
    for (upload_id, pending) in candidates {
        match state.storage.head(&pending.key).await {
            Ok(Some(object)) if acceptable(&object, limit) => {
                return complete(state, caller.id(), upload_id, &pending.key, &caller.ctx).await;
            }
            Ok(Some(object)) => {
                tracing::warn!(%upload_id, size = object.size, content_type = ?object.content_type, "refused upload deleted");
                if let Err(error) = state.storage.delete(&pending.key).await {
                    tracing::warn!(%error, "failed to delete a refused upload");
                }
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %upload_id, "storage check failed"),
        }
    }
    Ok(None)
}

/// An upload the local store accepts: whose, which, what type and how large at most.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    key: String,
    user_id: String,
    upload_id: String,
    /// The content type the file must be sent as.
    pub content_type: String,
    /// The most bytes it may have.
    pub limit: u64,
}

/// Checks a local upload URL (`key` and its signed `grant`).
///
/// # Errors
/// [`Error::NoLocalStore`], [`Error::UploadUrlInvalid`], [`Error::UploadUrlExpired`].
pub fn grant_upload(state: &AppState, key: &str, grant: Option<Grant>) -> Result<Granted, Error> {
    let store = state.local_files.clone().ok_or(Error::NoLocalStore)?;
    let grant = grant.ok_or(Error::UploadUrlInvalid)?;
    store.verify(key, &grant, Utc::now()).map_err(|e| match e {
        GrantError::Expired => Error::UploadUrlExpired,
        GrantError::BadKey | GrantError::BadSignature => Error::UploadUrlInvalid,
    })?;
    let (user_id, upload_id) = parse_profile_key(key).ok_or(Error::UploadUrlInvalid)?;
    Ok(Granted {
        key: key.to_string(),
        user_id: user_id.to_string(),
        upload_id: upload_id.to_string(),
        content_type: grant.content_type,
        limit: grant.max_size.min(state.config.upload_limit as u64),
    })
}

/// Whether `bytes` start like a JPEG image.
pub fn is_jpeg(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xFF, 0xD8, 0xFF])
}

/// Stores a granted upload's file and completes the upload; answers the upload id and the
/// picture's URL once the `users` projection has it.
///
/// # Errors
/// [`Error::Storage`], [`Error::AccountDisabled`], store failures.
pub async fn receive_upload(
    state: &AppState,
    granted: Granted,
    bytes: &[u8],
    request_id: String,
) -> Result<(String, String), Error> {
    let store = state.local_files.clone().ok_or(Error::NoLocalStore)?;
    store
        .write(&granted.key, bytes)
        .await
        .map_err(storage_error)?;
    let ctx = CommandContext {
        actor: Actor::User {
            id: granted.user_id.clone(),
            role: "normal".into(),
        },
        request_id,
    };
    let position = complete(
        state,
        &granted.user_id,
        &granted.upload_id,
        &granted.key,
        &ctx,
    )
    .await?;
    state.wait_for(position, &["users"]).await;
    Ok((granted.upload_id, state.storage.public_url(&granted.key)))
}

/// A stored profile picture of the local store.
///
/// # Errors
/// [`Error::FileNotFound`], [`Error::Storage`].
pub async fn read_file(state: &AppState, key: &str) -> Result<Vec<u8>, Error> {
    let store = state.local_files.clone().ok_or(Error::FileNotFound)?;
    if parse_profile_key(key).is_none() {
        return Err(Error::FileNotFound);
    }
    store
        .read(key)
        .await
        .map_err(storage_error)?
        .ok_or(Error::FileNotFound)
}

//! Profile picture uploads: starting one records `StartProfilePictureUpload` and presigns a
//! `PUT` URL (`image/jpeg`, at most 5 minutes, key `profile_images/<user_id>/<id>.jpg`). With
//! the local store, the upload completes when the file arrives; with S3, when humit next sees
//! the object there ([`reconcile`], run whenever the profile is read): a `HEAD` checks type
//! and size first (a refused object is deleted), then the object is read (bounded by the
//! limit again), stripped of its metadata and stored as the picture under its own key.
//! Every upload key handed out is remembered (`pending_uploads`); [`sweep_abandoned`]
//! deletes its object once it is older than `HUMIT_PENDING_UPLOAD_MAX_AGE_SECS`, after which
//! it is no longer completed either.

use aggregates::user::{User, UserCommand, UserError};
use chrono::Utc;

use crate::adapters::storage::{
    parse_profile_key, picture_key, profile_key, GrantError, StorageError, StoredObject,
    UploadRequest, JPEG, MAX_UPLOAD_EXPIRY,
};
use crate::app::{identity, Caller, Error};
use crate::background::{sleep_or_stop, Shutdown};
use crate::state::AppState;
use crate::store::{uploads as pending, Actor, CommandContext, CommandError, Commit};

pub use crate::adapters::storage::{LocalGrant as Grant, JPEG as PICTURE_TYPE};

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

/// Starts a profile picture upload: at most `HUMIT_UPLOADS_PER_MINUTE` per user.
///
/// # Errors
/// [`Error::Throttled`], [`Error::Storage`], [`Error::AccountDisabled`], store failures.
pub async fn start_upload(state: &AppState, caller: &Caller) -> Result<Upload, Error> {
    state.upload_throttle.check(caller.id()).map_err(|wait| {
        tracing::info!(user_id = %caller.id(), "upload URLs throttled");
        Error::Throttled(wait)
    })?;
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
    pending::record(&state.pool, &key)
        .await
        .map_err(|e| Error::Store(e.to_string()))?;
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

/// How old an upload may be and still become the picture.
fn max_age(state: &AppState) -> chrono::Duration {
    chrono::Duration::seconds(
        i64::try_from(state.config.pending_upload_max_age_secs).unwrap_or(i64::MAX / 1000),
    )
}

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
        // Past its age an upload is abandoned: the sweeper deletes its object.
        .filter(|(_, u)| u.started_at + max_age(state) > now)
        .take(RECONCILE_MAX);
    for (upload_id, pending) in candidates {
        match state.storage.head(&pending.key).await {
            Ok(Some(object)) if acceptable(&object, limit) => {
                if let Some(picture) = clean_copy(state, &pending.key, limit).await {
                    let commit =
                        complete(state, caller.id(), upload_id, &picture, &caller.ctx).await?;
                    if let Err(error) = state.storage.delete(&pending.key).await {
                        tracing::warn!(%error, "failed to delete a completed upload's object");
                    }
                    return Ok(commit);
                }
            }
            Ok(Some(object)) => {
                tracing::warn!(%upload_id, size = object.size, content_type = ?object.content_type, "refused upload deleted");
                refuse(state, &pending.key).await;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(%error, %upload_id, "storage check failed"),
        }
    }
    Ok(None)
}

async fn refuse(state: &AppState, key: &str) {
    if let Err(error) = state.storage.delete(key).await {
        tracing::warn!(%error, "failed to delete a refused upload");
    }
}

/// Reads the uploaded object (at most `limit` bytes, checked again: it may have been
/// replaced since the `HEAD`), drops its metadata and stores it under its picture key.
/// Answers that key; `None` when the object is gone, refused (and deleted) or the store
/// failed.
async fn clean_copy(state: &AppState, key: &str, limit: u64) -> Option<String> {
    let bytes = match state.storage.fetch(key, limit).await {
        Ok(Some(bytes)) if is_jpeg(&bytes) => bytes,
        Ok(None) => return None,
        Ok(Some(_)) | Err(StorageError::Invalid(_)) => {
            tracing::warn!(%key, "refused upload deleted (not a JPEG, or over the limit)");
            refuse(state, key).await;
            return None;
        }
        Err(error) => {
            tracing::warn!(%error, %key, "reading an upload failed");
            return None;
        }
    };
    let clean = crate::adapters::storage::strip_jpeg_metadata(&bytes);
    let picture = picture_key(key);
    match state.storage.put(&picture, clean).await {
        Ok(()) => Some(picture),
        Err(error) => {
            tracing::warn!(%error, %key, "storing a picture failed");
            None
        }
    }
}

const SWEEP_BATCH: i64 = 100;

/// Runs until shutdown: every `HUMIT_UPLOAD_SWEEP_SECS`, deletes the objects of upload keys
/// handed out more than `HUMIT_PENDING_UPLOAD_MAX_AGE_SECS` ago (pictures live under their
/// own keys, so this never removes one) and forgets them. Safe in several processes at once:
/// deleting twice is harmless.
pub async fn sweep_abandoned(state: AppState, mut shutdown: Shutdown) {
    let every = std::time::Duration::from_secs(state.config.upload_sweep_secs.max(1));
    while !sleep_or_stop(every, &mut shutdown).await {
        let before = Utc::now() - max_age(&state);
        let keys = match pending::older_than(&state.pool, before, SWEEP_BATCH).await {
            Ok(keys) => keys,
            Err(error) => {
                tracing::warn!(%error, "listing abandoned uploads failed");
                continue;
            }
        };
        for key in keys {
            match state.storage.delete(&key).await {
                Ok(()) => {
                    if let Err(error) = pending::forget(&state.pool, &key).await {
                        tracing::warn!(%error, "forgetting a swept upload failed");
                    }
                    tracing::info!(%key, "upload swept");
                }
                Err(error) => tracing::warn!(%error, %key, "deleting an abandoned upload failed"),
            }
        }
    }
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
    // Public pictures keep no EXIF/GPS; a completed upload's URL is spent.
    let clean = crate::adapters::storage::strip_jpeg_metadata(bytes);
    store
        .write(&granted.key, &clean)
        .await
        .map_err(|e| match e {
            StorageError::Invalid(_) => Error::UploadUrlInvalid,
            other => storage_error(other),
        })?;
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
    // The local picture is the upload's own file, which its URL can no longer overwrite:
    // nothing to sweep.
    if let Err(error) = pending::forget(&state.pool, &granted.key).await {
        tracing::warn!(%error, "forgetting a completed upload failed");
    }
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

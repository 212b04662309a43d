//! File storage for profile pictures: the [`ObjectStore`] trait and what both stores share.
//!
//! A client never sends a picture through the JSON API. It asks for an upload URL
//! (`POST /api/users/files/upload/`), `PUT`s the JPEG there, and the picture becomes its
//! `profile_pic_url` once the storage has it. Every upload URL is:
//! - for `PUT` with `Content-Type: image/jpeg` only (the content type is signed);
//! - short-lived: at most [`MAX_UPLOAD_EXPIRY`];
//! - for one key under the user's own prefix: `profile_images/<user_id>/<upload_id>.jpg`;
//! - size-limited (`HUMIT_UPLOAD_LIMIT`): signed into the local URL and enforced while
//!   receiving; for S3, checked with a `HEAD` before the object becomes the picture, which
//!   is then read (bounded), stripped of its metadata and stored under [`picture_key`];
//! - swept: the upload key's object is deleted once older than
//!   `HUMIT_PENDING_UPLOAD_MAX_AGE_SECS`, whether it became a picture or was abandoned.
//!
//! Two implementations of [`ObjectStore`]:
//! - [`S3Store`] (`HUMIT_S3_BUCKET` set): presigns with aws-sdk-s3, path-style, against AWS or
//!   any S3-compatible `HUMIT_S3_ENDPOINT`; credentials from the standard AWS chain.
//! - [`LocalStore`] (the default): URLs to humit's own `PUT /api/files/<key>`, HMAC-signed
//!   with an expiry; files under `HUMIT_DATA_DIR/uploads/`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The only content type accepted for profile pictures.
pub const JPEG: &str = "image/jpeg";

/// The longest an upload URL stays valid.
pub const MAX_UPLOAD_EXPIRY: Duration = Duration::from_secs(300);

/// The key prefix of profile pictures.
pub const PROFILE_PREFIX: &str = "profile_images";

/// The key of upload `upload_id` of user `user_id`.
pub fn profile_key(user_id: &str, upload_id: &str) -> String {
    format!("{PROFILE_PREFIX}/{user_id}/{upload_id}.jpg")
}

fn valid_segment(segment: &str) -> bool {
    (1..=64).contains(&segment.len())
        && segment
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Splits a profile picture key into `(user_id, upload_id)`; `None` for anything else
/// (other prefixes, `..`, extra segments), so a key can never leave the user's folder.
pub fn parse_profile_key(key: &str) -> Option<(&str, &str)> {
    let mut parts = key.split('/');
    let (prefix, user, file) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || prefix != PROFILE_PREFIX {
        return None;
    }
    let upload = file.strip_suffix(".jpg")?;
    (valid_segment(user) && valid_segment(upload)).then_some((user, upload))
}

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The request was refused before reaching the store (bad key, expiry too long).
    #[error("invalid storage request: {0}")]
    Invalid(String),
    /// The store failed.
    #[error("storage backend: {0}")]
    Backend(String),
}

/// An upload to presign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRequest {
    /// The key, from [`profile_key`].
    pub key: String,
    /// The signed content type (always [`JPEG`] for pictures).
    pub content_type: String,
    /// The largest accepted size in bytes.
    pub max_size: u64,
    /// How long the URL is valid (at most [`MAX_UPLOAD_EXPIRY`]).
    pub expires_in: Duration,
}

/// A presigned upload URL.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    /// The URL to `PUT` to.
    pub url: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for PresignedUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL is a bearer capability: never print it whole.
        f.debug_struct("PresignedUpload")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// What the store holds under a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Size in bytes.
    pub size: u64,
    /// Content type, when the store knows it.
    pub content_type: Option<String>,
}

/// A place profile pictures are uploaded to.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// A URL the client `PUT`s the file to.
    ///
    /// # Errors
    /// [`StorageError::Invalid`] for a bad key or an expiry over [`MAX_UPLOAD_EXPIRY`];
    /// [`StorageError::Backend`] when presigning fails (no credentials).
    async fn presign_upload(
        &self,
        request: &UploadRequest,
    ) -> Result<PresignedUpload, StorageError>;

    /// What is stored under `key`, if anything.
    ///
    /// # Errors
    /// [`StorageError::Backend`] when the store cannot be asked.
    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StorageError>;

    /// Removes `key` (a refused upload). Missing keys are fine.
    ///
    /// # Errors
    /// [`StorageError::Backend`] when the store fails.
    async fn delete(&self, key: &str) -> Result<(), StorageError>;

    /// The bytes under `key`, if any; refused ([`StorageError::Invalid`]) when there are
    /// more than `limit`, before they are read.
    ///
    /// # Errors
    /// [`StorageError::Invalid`] past `limit`; [`StorageError::Backend`] when the store fails.
    async fn fetch(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError>;

    /// Stores a picture (`image/jpeg`) under `key`, a key no upload URL was made for.
    ///
    /// # Errors
    /// [`StorageError::Backend`] when the store fails.
    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError>;

    /// The public URL of `key`: what becomes `profile_pic_url`.
    fn public_url(&self, key: &str) -> String;
}

/// The key a completed upload's picture is stored under: beside the upload's own key, but
/// one no upload URL is ever made for (upload ids are server-made UUIDs), so the picture
/// cannot be replaced through the still-valid upload URL.
pub fn picture_key(upload_key: &str) -> String {
    match upload_key.strip_suffix(".jpg") {
        Some(stem) => format!("{stem}-p.jpg"),
        None => format!("{upload_key}-p"),
    }
}

fn check_request(request: &UploadRequest) -> Result<(), StorageError> {
    if parse_profile_key(&request.key).is_none() {
        return Err(StorageError::Invalid(format!("bad key {}", request.key)));
    }
    if request.expires_in > MAX_UPLOAD_EXPIRY || request.expires_in.is_zero() {
        return Err(StorageError::Invalid("expiry out of range".into()));
    }
    Ok(())
}

fn expires_at(expires_in: Duration) -> DateTime<Utc> {
    Utc::now() + chrono::Duration::from_std(expires_in).unwrap_or_default()
}

mod local;
mod metadata;
mod s3;

pub use local::{GrantError, LocalGrant, LocalStore};
pub use metadata::strip_jpeg_metadata;
pub use s3::S3Store;

#[cfg(test)]
pub(crate) mod test_support {
    //! Helpers shared by the stores' unit tests.
    use std::collections::HashMap;
    use std::time::Duration;

    use super::{UploadRequest, JPEG};

    pub fn request(key: &str, expires_in: Duration) -> UploadRequest {
        UploadRequest {
            key: key.into(),
            content_type: JPEG.into(),
            max_size: 1024,
            expires_in,
        }
    }

    pub fn query(url: &str) -> HashMap<String, String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_stay_under_the_users_prefix() {
        let key = profile_key("u1", "up-1");
        assert_eq!(key, "profile_images/u1/up-1.jpg");
        assert_eq!(parse_profile_key(&key), Some(("u1", "up-1")));
        for bad in [
            "profile_images/u1/../u2/x.jpg",
            "profile_images/../x.jpg",
            "profile_images/u1/x.png",
            "other/u1/x.jpg",
            "profile_images/u1/x.jpg/y",
            "profile_images//x.jpg",
            "profile_images/u1/.jpg",
            "profile_images/u 1/x.jpg",
        ] {
            assert_eq!(parse_profile_key(bad), None, "{bad}");
        }
    }
}

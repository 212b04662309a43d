//! File storage for profile pictures: a trait, an S3 presigner, and the embedded default.
//!
//! A client never sends a picture through the JSON API. It asks for an upload URL
//! (`POST /api/users/files/upload/`), `PUT`s the JPEG there, and the picture becomes its
//! `profile_pic_url` once the storage has it. Every upload URL is:
//! - for `PUT` with `Content-Type: image/jpeg` only (the content type is signed);
//! - short-lived: at most [`MAX_UPLOAD_EXPIRY`];
//! - for one key under the user's own prefix: `profile_images/<user_id>/<upload_id>.jpg`;
//! - size-limited (`HUMIT_UPLOAD_LIMIT`): signed into the local URL and enforced while
//!   receiving; for S3, checked with a `HEAD` before the object becomes the picture.
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

    /// The public URL of `key`: what becomes `profile_pic_url`.
    fn public_url(&self, key: &str) -> String;
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

// ---------------------------------------------------------------------------------------------
// S3

/// Presigned uploads to an S3 bucket (AWS or any S3-compatible store, path-style).
#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    endpoint: Option<String>,
    region: String,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .finish()
    }
}

impl S3Store {
    /// A store on `bucket`, with credentials from the standard AWS chain (`AWS_ACCESS_KEY_ID`
    /// and `AWS_SECRET_ACCESS_KEY`, profiles, instance roles).
    pub async fn from_env(bucket: &str, endpoint: Option<&str>, region: &str) -> Self {
        use aws_sdk_s3::config::{BehaviorVersion, Region};
        let shared = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .load()
            .await;
        let builder = aws_sdk_s3::config::Builder::from(&shared);
        Self::with_builder(builder, bucket, endpoint, region)
    }

    /// A store with fixed credentials (tests, tools).
    pub fn with_credentials(
        bucket: &str,
        endpoint: Option<&str>,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Self {
        use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
        let credentials =
            Credentials::new(access_key_id, secret_access_key, None, None, "humit-static");
        let builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials);
        Self::with_builder(builder, bucket, endpoint, region)
    }

    fn with_builder(
        builder: aws_sdk_s3::config::Builder,
        bucket: &str,
        endpoint: Option<&str>,
        region: &str,
    ) -> Self {
        use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
        let endpoint = endpoint
            .map(|e| e.trim_end_matches('/').to_string())
            .filter(|e| !e.is_empty());
        let mut builder = builder
            .force_path_style(true)
            // A presigned URL must not ask the client for a checksum of a body it has not
            // sent yet.
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = &endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Self {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            bucket: bucket.to_string(),
            endpoint,
            region: region.to_string(),
        }
    }

    /// The client (for tests that create the bucket or read objects back).
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    /// The bucket.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait::async_trait]
impl ObjectStore for S3Store {
    async fn presign_upload(
        &self,
        request: &UploadRequest,
    ) -> Result<PresignedUpload, StorageError> {
        use aws_sdk_s3::presigning::PresigningConfig;
        check_request(request)?;
        let presigning = PresigningConfig::expires_in(request.expires_in)
            .map_err(|e| StorageError::Invalid(e.to_string()))?;
        let presigned = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&request.key)
            .content_type(&request.content_type)
            .presigned(presigning)
            .await
            .map_err(|e| StorageError::Backend(format!("presign failed: {e}")))?;
        Ok(PresignedUpload {
            url: presigned.uri().to_string(),
            expires_at: expires_at(request.expires_in),
        })
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StorageError> {
        let result = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Some(StoredObject {
                size: out
                    .content_length()
                    .and_then(|n| u64::try_from(n).ok())
                    .unwrap_or(0),
                content_type: out.content_type().map(str::to_string),
            })),
            Err(e) => {
                let service = e.into_service_error();
                if service.is_not_found() {
                    Ok(None)
                } else {
                    Err(StorageError::Backend(format!("head failed: {service}")))
                }
            }
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                StorageError::Backend(format!("delete failed: {}", e.into_service_error()))
            })?;
        Ok(())
    }

    fn public_url(&self, key: &str) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("{endpoint}/{}/{key}", self.bucket),
            None => format!(
                "https://{}.s3.{}.amazonaws.com/{key}",
                self.bucket, self.region
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Local

/// The parameters of a local upload URL, as they come back in its query string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct LocalGrant {
    /// The signed content type.
    pub content_type: String,
    /// The largest accepted size.
    pub max_size: u64,
    /// Expiry, in Unix seconds.
    pub expires: i64,
    /// Hex HMAC-SHA256 over the method, key, content type, size and expiry.
    pub signature: String,
}

/// Why a local upload URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// The key is not a profile picture key.
    #[error("bad key")]
    BadKey,
    /// The signature does not match (tampered URL or another server's key).
    #[error("bad signature")]
    BadSignature,
    /// The URL expired.
    #[error("expired")]
    Expired,
}

/// The embedded default: upload URLs to humit itself, files on local disk.
pub struct LocalStore {
    root: PathBuf,
    key: Vec<u8>,
    base_url: String,
}

impl fmt::Debug for LocalStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalStore")
            .field("root", &self.root)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl LocalStore {
    /// A store under `root`, signing with a key derived from `secret`, serving from
    /// `base_url` (the public URL, without a trailing slash).
    pub fn new(root: &Path, secret: &[u8], base_url: &str) -> Self {
        // A key of its own, so an upload signature can never be mistaken for anything else.
        let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
        mac.update(b"humit local upload urls v1");
        Self {
            root: root.to_path_buf(),
            key: mac.finalize().into_bytes().to_vec(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    fn mac(&self, key: &str, content_type: &str, max_size: u64, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(format!("PUT\n{key}\n{content_type}\n{max_size}\n{expires}").as_bytes());
        mac
    }

    /// Checks a local upload URL for `key` at `now`.
    ///
    /// # Errors
    /// [`GrantError`] for a bad key, signature or expiry.
    pub fn verify(
        &self,
        key: &str,
        grant: &LocalGrant,
        now: DateTime<Utc>,
    ) -> Result<(), GrantError> {
        if parse_profile_key(key).is_none() {
            return Err(GrantError::BadKey);
        }
        let signature = hex::decode(&grant.signature).map_err(|_| GrantError::BadSignature)?;
        self.mac(key, &grant.content_type, grant.max_size, grant.expires)
            .verify_slice(&signature)
            .map_err(|_| GrantError::BadSignature)?;
        if grant.expires <= now.timestamp() {
            return Err(GrantError::Expired);
        }
        Ok(())
    }

    fn path(&self, key: &str) -> Result<PathBuf, StorageError> {
        let (user, upload) = parse_profile_key(key)
            .ok_or_else(|| StorageError::Invalid(format!("bad key {key}")))?;
        Ok(self
            .root
            .join(PROFILE_PREFIX)
            .join(user)
            .join(format!("{upload}.jpg")))
    }

    /// Stores `bytes` under `key` (written to a temporary file, then renamed).
    ///
    /// # Errors
    /// A bad key or a disk failure.
    pub async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let result: anyhow::Result<()> = async {
            let dir = path.parent().context("no parent folder")?;
            tokio::fs::create_dir_all(dir)
                .await
                .context("failed to create the upload folder")?;
            let tmp = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&tmp, bytes)
                .await
                .context("failed to write the upload")?;
            tokio::fs::rename(&tmp, &path)
                .await
                .context("failed to move the upload into place")?;
            Ok(())
        }
        .await;
        result.map_err(|e| StorageError::Backend(format!("{e:#}")))
    }

    /// The bytes under `key`, if any.
    ///
    /// # Errors
    /// A disk failure other than a missing file.
    pub async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::read(&path).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::Backend(format!("failed to read {key}: {e}"))),
        }
    }
}

#[async_trait::async_trait]
impl ObjectStore for LocalStore {
    async fn presign_upload(
        &self,
        request: &UploadRequest,
    ) -> Result<PresignedUpload, StorageError> {
        check_request(request)?;
        let expires_at = expires_at(request.expires_in);
        let expires = expires_at.timestamp();
        let signature = hex::encode(
            self.mac(
                &request.key,
                &request.content_type,
                request.max_size,
                expires,
            )
            .finalize()
            .into_bytes(),
        );
        let mut url = url::Url::parse(&self.public_url(&request.key))
            .map_err(|e| StorageError::Backend(format!("bad public URL: {e}")))?;
        url.query_pairs_mut()
            .append_pair("content_type", &request.content_type)
            .append_pair("max_size", &request.max_size.to_string())
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &signature);
        Ok(PresignedUpload {
            url: url.to_string(),
            expires_at,
        })
    }

    async fn head(&self, key: &str) -> Result<Option<StoredObject>, StorageError> {
        let path = self.path(key)?;
        match tokio::fs::metadata(&path).await {
            Ok(meta) => Ok(Some(StoredObject {
                size: meta.len(),
                // Only JPEGs are ever written here.
                content_type: Some(JPEG.to_string()),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::Backend(format!("failed to stat {key}: {e}"))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::Backend(format!(
                "failed to delete {key}: {e}"
            ))),
        }
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/api/files/{key}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn request(key: &str, expires_in: Duration) -> UploadRequest {
        UploadRequest {
            key: key.into(),
            content_type: JPEG.into(),
            max_size: 1024,
            expires_in,
        }
    }

    fn query(url: &str) -> HashMap<String, String> {
        url::Url::parse(url)
            .unwrap()
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }

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

    #[tokio::test]
    async fn s3_urls_sign_the_content_type_expire_within_five_minutes_and_keep_the_prefix() {
        let store = S3Store::with_credentials(
            "pics",
            Some("http://127.0.0.1:9"),
            "us-east-1",
            "AKIDEXAMPLE",
            "secret",
        );
        let key = profile_key("user42", "abc");
        let presigned = store
            .presign_upload(&request(&key, Duration::from_secs(300)))
            .await
            .unwrap();
        let url = url::Url::parse(&presigned.url).unwrap();
        assert_eq!(url.path(), "/pics/profile_images/user42/abc.jpg");
        let q = query(&presigned.url);
        assert_eq!(q["X-Amz-Expires"], "300");
        let signed: Vec<&str> = q["X-Amz-SignedHeaders"].split(';').collect();
        assert!(signed.contains(&"content-type"), "{signed:?}");
        assert!(signed.contains(&"host"), "{signed:?}");
        assert!(
            !q.keys()
                .any(|k| k.to_ascii_lowercase().contains("checksum")),
            "no checksum asked of the client: {q:?}"
        );
        assert!(presigned.expires_at <= Utc::now() + chrono::Duration::seconds(300));
        assert_eq!(
            store.public_url(&key),
            "http://127.0.0.1:9/pics/profile_images/user42/abc.jpg"
        );
        // Longer than five minutes, or outside the prefix: refused before signing.
        assert!(matches!(
            store
                .presign_upload(&request(&key, Duration::from_secs(301)))
                .await,
            Err(StorageError::Invalid(_))
        ));
        assert!(matches!(
            store
                .presign_upload(&request("avatars/x.jpg", Duration::from_secs(60)))
                .await,
            Err(StorageError::Invalid(_))
        ));
    }

    #[test]
    fn s3_public_urls_without_an_endpoint_are_aws_urls() {
        let store = S3Store::with_credentials("pics", None, "eu-west-1", "a", "b");
        assert_eq!(
            store.public_url("profile_images/u/x.jpg"),
            "https://pics.s3.eu-west-1.amazonaws.com/profile_images/u/x.jpg"
        );
    }

    fn grant_of(url: &str) -> (String, LocalGrant) {
        let parsed = url::Url::parse(url).unwrap();
        let key = parsed.path().trim_start_matches("/api/files/").to_string();
        let q = query(url);
        (
            key,
            LocalGrant {
                content_type: q["content_type"].clone(),
                max_size: q["max_size"].parse().unwrap(),
                expires: q["expires"].parse().unwrap(),
                signature: q["signature"].clone(),
            },
        )
    }

    #[tokio::test]
    async fn local_urls_are_signed_expiring_and_bound_to_type_size_and_key() {
        let dir = std::env::temp_dir().join(format!("humit-storage-{}", uuid::Uuid::new_v4()));
        let store = LocalStore::new(&dir, b"0123456789abcdef0123456789abcdef", "http://h:1/");
        let key = profile_key("user42", "abc");
        let presigned = store
            .presign_upload(&request(&key, Duration::from_secs(120)))
            .await
            .unwrap();
        assert!(presigned
            .url
            .starts_with("http://h:1/api/files/profile_images/user42/abc.jpg?"));
        let (path_key, grant) = grant_of(&presigned.url);
        assert_eq!(path_key, key);
        assert_eq!(grant.content_type, JPEG);
        assert_eq!(grant.max_size, 1024);
        let now = Utc::now();
        assert!(grant.expires > now.timestamp() && grant.expires <= now.timestamp() + 120);
        assert_eq!(store.verify(&key, &grant, now), Ok(()));
        // Expired.
        let later = DateTime::from_timestamp(grant.expires, 0).unwrap();
        assert_eq!(store.verify(&key, &grant, later), Err(GrantError::Expired));
        // Another key, content type, size or expiry: the signature no longer matches.
        let other = profile_key("user43", "abc");
        assert_eq!(
            store.verify(&other, &grant, now),
            Err(GrantError::BadSignature)
        );
        for tampered in [
            LocalGrant {
                content_type: "image/png".into(),
                ..grant.clone()
            },
            LocalGrant {
                max_size: 1 << 30,
                ..grant.clone()
            },
            LocalGrant {
                expires: grant.expires + 3600,
                ..grant.clone()
            },
            LocalGrant {
                signature: "zz".into(),
                ..grant.clone()
            },
        ] {
            assert_eq!(
                store.verify(&key, &tampered, now),
                Err(GrantError::BadSignature)
            );
        }
        assert_eq!(
            store.verify("profile_images/../x.jpg", &grant, now),
            Err(GrantError::BadKey)
        );
        // Another server's key.
        let foreign = LocalStore::new(&dir, b"another-key-another-key-another-key", "http://h:1");
        assert_eq!(
            foreign.verify(&key, &grant, now),
            Err(GrantError::BadSignature)
        );
        // Too long.
        assert!(store
            .presign_upload(&request(&key, Duration::from_secs(600)))
            .await
            .is_err());
        // Round trip on disk.
        assert_eq!(store.head(&key).await.unwrap(), None);
        store.write(&key, b"\xff\xd8\xffdata").await.unwrap();
        assert_eq!(store.head(&key).await.unwrap().map(|o| o.size), Some(7));
        assert_eq!(
            store.read(&key).await.unwrap().as_deref(),
            Some(&b"\xff\xd8\xffdata"[..])
        );
        store.delete(&key).await.unwrap();
        assert_eq!(store.read(&key).await.unwrap(), None);
        let _ = std::fs::remove_dir_all(dir);
    }
}

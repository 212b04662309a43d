//! [`LocalStore`]: the embedded default: HMAC-signed, expiring URLs to humit's own
//! `PUT /api/files/<key>`, files under `HUMIT_DATA_DIR/uploads/`.

use super::*;
use secrecy::{ExposeSecret, SecretSlice};

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
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    /// The URL signing key: `Debug` prints it redacted.
    key: SecretSlice<u8>,
    base_url: String,
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
            key: mac.finalize().into_bytes().to_vec().into(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }

    fn mac(&self, key: &str, content_type: &str, max_size: u64, expires: i64) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(self.key.expose_secret())
            .expect("HMAC takes any key length");
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

    /// Stores `bytes` under `key`, once: written to a temporary file, then linked into place
    /// only if nothing is there yet, so a completed upload is never overwritten (finding 9).
    ///
    /// # Errors
    /// [`StorageError::Invalid`] for a bad key or a key already stored; a disk failure.
    pub async fn write(&self, key: &str, bytes: &[u8]) -> Result<(), StorageError> {
        let path = self.path(key)?;
        let result: anyhow::Result<Result<(), StorageError>> = async {
            let dir = path.parent().context("no parent folder")?;
            tokio::fs::create_dir_all(dir)
                .await
                .context("failed to create the upload folder")?;
            let tmp = path.with_extension(format!("part-{}", uuid::Uuid::new_v4().simple()));
            tokio::fs::write(&tmp, bytes)
                .await
                .context("failed to write the upload")?;
            // `link` fails when the target exists: atomic create-if-absent.
            let linked = tokio::fs::hard_link(&tmp, &path).await;
            let _ = tokio::fs::remove_file(&tmp).await;
            match linked {
                Ok(()) => Ok(Ok(())),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(Err(
                    StorageError::Invalid("this upload is complete already".into()),
                )),
                Err(e) => Err(e).context("failed to move the upload into place"),
            }
        }
        .await;
        result.map_err(|e| StorageError::Backend(format!("{e:#}")))?
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

    async fn fetch(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        match self.head(key).await? {
            None => Ok(None),
            Some(object) if object.size > limit => Err(StorageError::Invalid(format!(
                "{key} is over {limit} bytes"
            ))),
            Some(_) => self.read(key).await,
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.write(key, &bytes).await
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/api/files/{key}", self.base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::storage::test_support::{query, request};

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

    #[test]
    fn the_signing_key_never_prints() {
        let store = LocalStore::new(Path::new("/tmp"), b"server secret", "http://h:1");
        let printed = format!("{store:?}");
        let key = store.key.expose_secret();
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        assert!(printed.contains("http://h:1"), "{printed}");
        assert!(
            !printed.contains(&format!("{key:?}")) && !printed.contains(&hex),
            "{printed}"
        );
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

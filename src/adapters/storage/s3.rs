//! [`S3Store`]: presigned uploads to an S3 bucket (AWS or any S3-compatible store, path-style).

use super::*;

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

    async fn fetch(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let result = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(e) => {
                let service = e.into_service_error();
                return if service.is_no_such_key() {
                    Ok(None)
                } else {
                    Err(StorageError::Backend(format!("get failed: {service}")))
                };
            }
        };
        // The object may have been replaced since the `HEAD`: its length is checked again
        // before a byte is read.
        let size = out
            .content_length()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(u64::MAX);
        if size > limit {
            return Err(StorageError::Invalid(format!(
                "{key} is over {limit} bytes"
            )));
        }
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| StorageError::Backend(format!("read failed: {e}")))?
            .into_bytes();
        if bytes.len() as u64 > limit {
            return Err(StorageError::Invalid(format!(
                "{key} is over {limit} bytes"
            )));
        }
        Ok(Some(bytes.to_vec()))
    }

    async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StorageError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(JPEG)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| {
                StorageError::Backend(format!("put failed: {}", e.into_service_error()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::storage::test_support::{query, request};

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
}

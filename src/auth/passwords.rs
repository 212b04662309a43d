//! argon2id password hashing on the blocking pool, with bounded concurrency.
//!
//! Parameters are OWASP's: 19 MiB of memory, two passes, one lane. A login for an unknown
//! user verifies against a fixed dummy hash, so it costs the same time as a wrong password.

use std::sync::Arc;

use aggregates::user::{HashError, PasswordHasher};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// argon2id with OWASP parameters.
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    dummy: String,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

impl Argon2Hasher {
    /// A hasher running at most `concurrency` hashes at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
            dummy: hash_blocking("humit-dummy-password").expect("argon2 works"),
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| HashError(e.to_string()))?;
        tokio::task::spawn_blocking(f)
            .await
            .map_err(|e| HashError(e.to_string()))
    }

    /// Spends the time of one verification without a real hash (unknown user).
    pub async fn verify_dummy(&self, password: &str) {
        let password = password.to_string();
        let dummy = self.dummy.clone();
        let _ = self
            .blocking(move || verify_blocking(&password, &dummy))
            .await;
    }
}

#[async_trait::async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_string();
        self.blocking(move || hash_blocking(&password)).await?
    }

    async fn verify(&self, password: &str, hash: &str) -> bool {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.blocking(move || verify_blocking(&password, &hash))
            .await
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hasher = Argon2Hasher::new(2);
        let hash = hasher.hash("s3cret").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(hasher.verify("s3cret", &hash).await);
        assert!(!hasher.verify("wrong", &hash).await);
        assert!(!hasher.verify("s3cret", "not a hash").await);
    }
}

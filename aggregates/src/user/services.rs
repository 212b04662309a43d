//! The outside world as the `User` aggregate sees it: traits the app implements.

use std::sync::Arc;

/// Hashing failed (bad parameters or the hashing pool is gone).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed: {0}")]
pub struct HashError(pub String);

/// Hashes and verifies passwords. The app's implementation uses argon2id on a bounded
/// blocking pool; tests use a cheap stand-in.
#[async_trait::async_trait]
pub trait PasswordHasher: Send + Sync {
    /// Hashes a new password into a self-describing string (PHC format).
    ///
    /// # Errors
    /// [`HashError`] when the hasher cannot run.
    async fn hash(&self, password: &str) -> Result<String, HashError>;

    /// Whether `password` matches `hash`. A malformed hash never matches.
    async fn verify(&self, password: &str, hash: &str) -> bool;
}

/// Everything the `User` aggregate needs from outside.
#[derive(Clone)]
pub struct UserServices {
    /// The password hasher.
    pub passwords: Arc<dyn PasswordHasher>,
}

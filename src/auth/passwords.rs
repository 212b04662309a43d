//! argon2id password hashing on the blocking pool, with bounded concurrency and a fixed
//! pool of hashing memory.
//!
//! Parameters are OWASP's: 19 MiB of memory, two passes, one lane. A login for an unknown
//! user verifies against a fixed dummy hash, so it costs the same time as a wrong password.
//!
//! Each hash needs 19 MiB of working memory. Allocated per call (what the `argon2` crate's
//! `hash_password` does), those blocks land in the allocator's per-thread caches of every
//! blocking thread that ever hashed and are not given back: resident memory grew to 839 MiB
//! under a login storm. The hasher instead owns exactly `concurrency` buffers, allocated
//! once and reused; a hash takes a permit, then a buffer, and returns both.

use std::sync::{Arc, Mutex};

use aggregates::user::{HashError, PasswordHasher};
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

/// Working memory of one hash.
type Memory = Vec<Block>;

/// argon2id with OWASP parameters.
pub struct Argon2Hasher {
    permits: Arc<Semaphore>,
    memory: Arc<Mutex<Vec<Memory>>>,
    dummy: String,
}

fn params() -> Params {
    Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters")
}

fn err(e: impl std::fmt::Display) -> HashError {
    HashError(e.to_string())
}

fn hash_blocking(password: &str, memory: &mut Memory) -> Result<String, HashError> {
    let params = params();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(err)?;
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    memory.resize(params.block_count(), Block::default());
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(err)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(err)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

fn verify_blocking(password: &str, hash: &str, memory: &mut Memory) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    memory.resize(params.block_count(), Block::default());
    let computed = Output::init_with(expected.len(), |out| {
        argon2
            .hash_password_into_with_memory(password.as_bytes(), salt_bytes, out, &mut *memory)
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // `Output` compares in constant time.
    computed.is_ok_and(|computed| computed == expected)
}

impl Argon2Hasher {
    /// A hasher running at most `concurrency` hashes at once, each in one of `concurrency`
    /// reused buffers.
    pub fn new(concurrency: usize) -> Self {
        let concurrency = concurrency.max(1);
        let mut first = Memory::new();
        let dummy = hash_blocking("humit-dummy-password", &mut first).expect("argon2 works");
        let mut buffers = vec![first];
        buffers.resize_with(concurrency, Memory::new);
        Self {
            permits: Arc::new(Semaphore::new(concurrency)),
            memory: Arc::new(Mutex::new(buffers)),
            dummy,
        }
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Memory) -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let _permit = self.permits.acquire().await.map_err(err)?;
        let pool = self.memory.clone();
        // One buffer per permit: there is always one free while a permit is held.
        let mut memory = pool
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        tokio::task::spawn_blocking(move || {
            let out = f(&mut memory);
            pool.lock().unwrap_or_else(|p| p.into_inner()).push(memory);
            out
        })
        .await
        .map_err(err)
    }

    /// Spends the time of one verification without a real hash (unknown user).
    pub async fn verify_dummy(&self, password: &str) {
        let password = password.to_string();
        let dummy = self.dummy.clone();
        let _ = self
            .blocking(move |memory| verify_blocking(&password, &dummy, memory))
            .await;
    }
}

#[async_trait::async_trait]
impl PasswordHasher for Argon2Hasher {
    async fn hash(&self, password: &str) -> Result<String, HashError> {
        let password = password.to_string();
        self.blocking(move |memory| hash_blocking(&password, memory))
            .await?
    }

    async fn verify(&self, password: &str, hash: &str) -> bool {
        let (password, hash) = (password.to_string(), hash.to_string());
        self.blocking(move |memory| verify_blocking(&password, &hash, memory))
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

    #[tokio::test]
    async fn hashes_made_by_the_argon2_crate_itself_verify() {
        use argon2::password_hash::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"s3cret", &salt)
            .unwrap()
            .to_string();
        let hasher = Argon2Hasher::new(1);
        assert!(hasher.verify("s3cret", &reference).await);
        assert!(!hasher.verify("s3cret!", &reference).await);
        // And the other way round.
        let ours = hasher.hash("s3cret").await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            argon2::PasswordVerifier::verify_password(&Argon2::default(), b"s3cret", &parsed)
                .is_ok()
        );
    }
}

//! Crypto-shredding: personal data in events is encrypted with a key of the person's own.
//!
//! A personal field is stored as `{"$pii": value}` by the aggregates
//! (`aggregates::common::personal`). Before an event of a person's `User` aggregate is
//! written, [`seal`] replaces each such value with `{"$pii_enc": base64(nonce ‖ AES-256-GCM)}`
//! under the person's key (table `subject_keys`); readers [`open`] it back, or read
//! `{"$pii": null}` once [`Vault::erase`] destroyed the key. User snapshots are sealed whole.

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use serde_json::Value;
use sqlx::PgPool;

use aggregates::common::PERSONAL_KEY;

/// The JSON key of an encrypted personal value.
pub const SEALED_KEY: &str = "$pii_enc";

/// A person's data key.
pub type SubjectKey = [u8; 32];

/// The aggregate type whose ids are people.
pub const PERSON_AGGREGATE: &str = "User";

/// Keys of people, in Postgres.
#[derive(Debug, Clone)]
pub struct Vault {
    pool: PgPool,
}

impl Vault {
    /// A vault over `pool`.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The key of `subject`, if it has one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn key(&self, subject: &str) -> Result<Option<SubjectKey>, sqlx::Error> {
        let key: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT key FROM subject_keys WHERE subject = $1")
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?;
        Ok(key.and_then(|k| k.try_into().ok()))
    }

    /// The key of `subject`, created on first use. A person already erased gets no new key
    /// (their `UserDeleted` event is in the log) and `None` is answered.
    ///
    /// # Errors
    /// Database errors.
    pub async fn key_or_create(&self, subject: &str) -> Result<Option<SubjectKey>, sqlx::Error> {
        if let Some(key) = self.key(subject).await? {
            return Ok(Some(key));
        }
        let erased: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events WHERE aggregate_type = $1 AND aggregate_id = $2
                            AND event_type = 'UserDeleted')",
        )
        .bind(PERSON_AGGREGATE)
        .bind(subject)
        .fetch_one(&self.pool)
        .await?;
        if erased {
            return Ok(None);
        }
        let mut fresh = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut fresh);
        sqlx::query(
            "INSERT INTO subject_keys (subject, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(subject)
        .bind(fresh.to_vec())
        .execute(&self.pool)
        .await?;
        self.key(subject).await
    }

    /// Erases a person: destroys their key, their snapshots and the dead letters that hold
    /// their decrypted data. Idempotent.
    ///
    /// # Errors
    /// Database errors.
    pub async fn erase(&self, subject: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM subject_keys WHERE subject = $1")
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM snapshots WHERE aggregate_type = $1 AND aggregate_id = $2")
            .bind(PERSON_AGGREGATE)
            .bind(subject)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM projection_dead_letters WHERE aggregate_type = $1 AND aggregate_id = $2",
        )
        .bind(PERSON_AGGREGATE)
        .bind(subject)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(user_id = subject, "personal data key destroyed");
        Ok(())
    }

    /// Finishes erasures a crash may have interrupted: destroys every key of a person whose
    /// `UserDeleted` is in the log.
    ///
    /// # Errors
    /// Database errors.
    pub async fn reconcile(&self) -> Result<u64, sqlx::Error> {
        let orphans: Vec<String> = sqlx::query_scalar(
            "SELECT k.subject FROM subject_keys k WHERE EXISTS (
                SELECT 1 FROM events e WHERE e.aggregate_type = $1 AND e.aggregate_id = k.subject
                AND e.event_type = 'UserDeleted')",
        )
        .bind(PERSON_AGGREGATE)
        .fetch_all(&self.pool)
        .await?;
        for subject in &orphans {
            self.erase(subject).await?;
        }
        Ok(orphans.len() as u64)
    }
}

fn encrypt(key: &SubjectKey, plain: &[u8]) -> String {
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key));
    let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(&nonce, plain)
        .expect("AES-GCM encryption cannot fail");
    let mut out = nonce.to_vec();
    out.extend(sealed);
    B64.encode(out)
}

fn decrypt(key: &SubjectKey, sealed: &str) -> Option<Vec<u8>> {
    let bytes = B64.decode(sealed).ok()?;
    if bytes.len() < 12 {
        return None;
    }
    let (nonce, ciphertext) = bytes.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key))
        .decrypt(&Nonce::from(nonce), ciphertext)
        .ok()
}

/// Encrypts every `{"$pii": value}` in `value` (in place) under `key`.
pub fn seal(value: &mut Value, key: &SubjectKey) {
    match value {
        Value::Object(map) => {
            if let Some(plain) = map.get(PERSONAL_KEY) {
                if !plain.is_null() {
                    let bytes = serde_json::to_vec(plain).expect("JSON values serialize");
                    map.clear();
                    map.insert(SEALED_KEY.into(), Value::String(encrypt(key, &bytes)));
                }
                return;
            }
            map.values_mut().for_each(|v| seal(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| seal(v, key)),
        _ => {}
    }
}

/// Decrypts every `{"$pii_enc": …}` in `value` (in place) back to `{"$pii": value}`, or to
/// `{"$pii": null}` without the key (the person was erased).
pub fn open(value: &mut Value, key: Option<&SubjectKey>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(sealed)) = map.get(SEALED_KEY) {
                let plain = key
                    .and_then(|k| decrypt(k, sealed))
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok())
                    .unwrap_or(Value::Null);
                map.clear();
                map.insert(PERSONAL_KEY.into(), plain);
                return;
            }
            map.values_mut().for_each(|v| open(v, key));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| open(v, key)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sealed_values_open_with_the_key_and_read_as_erased_without_it() {
        let key = [7u8; 32];
        let original = json!({"UserRegistered": {"username": {"$pii": "ada"}, "role": "normal",
            "details": {"$pii": {"email": "a@b.c"}}, "nothing": {"$pii": null}}});
        let mut v = original.clone();
        seal(&mut v, &key);
        let text = v.to_string();
        assert!(!text.contains("ada") && !text.contains("a@b.c"), "{text}");
        assert_eq!(v["UserRegistered"]["role"], "normal");
        let mut opened = v.clone();
        open(&mut opened, Some(&key));
        assert_eq!(opened, original);
        let mut erased = v.clone();
        open(&mut erased, None);
        assert_eq!(erased["UserRegistered"]["username"], json!({"$pii": null}));
        let mut wrong = v;
        open(&mut wrong, Some(&[8u8; 32]));
        assert_eq!(wrong["UserRegistered"]["details"], json!({"$pii": null}));
    }
}

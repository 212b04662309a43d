//! JSON Web Tokens: HS256 pinned, `exp`/`iss`/`aud`/`typ` required, `nbf` checked when present,
//! at most 4 KB, five seconds of leeway.
//!
//! A token pair is one session: the refresh token's `jti` is the session id, and every access
//! token minted from it carries the same `sid`, so revoking the session kills both at once.
//! The audience separates the dialects (`techfesia`, `humit`); a refresh token is never
//! accepted where an access token is expected, nor the other way round.

use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Access or refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// Short-lived, sent with every request.
    Access,
    /// Long-lived, only to mint access tokens.
    Refresh,
}

/// The claims of every humit token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// The session id (the refresh token's `jti`).
    pub sid: String,
    /// Access or refresh.
    pub typ: TokenKind,
    /// Issuer.
    pub iss: String,
    /// Audience: `techfesia` or `humit`.
    pub aud: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
}

impl Claims {
    /// When the token was issued.
    pub fn issued_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.iat, 0).unwrap_or_default()
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Bad signature, expired, wrong issuer, audience or type.
    #[error("token is invalid or expired")]
    Invalid,
}

/// A freshly minted session.
#[derive(Debug, Clone)]
pub struct TokenPair {
    /// The access token.
    pub access: String,
    /// The refresh token.
    pub refresh: String,
    /// The session id.
    pub session_id: String,
    /// When the refresh token expires.
    pub refresh_expires_at: DateTime<Utc>,
}

/// Mints and checks tokens.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    issuer: String,
    access_ttl: Duration,
    app_access_ttl: Duration,
    refresh_ttl: Duration,
}

/// The audience of the Techfesia dialect.
pub const TECHFESIA: &str = "techfesia";
/// The audience of the humit dialect.
pub const HUMIT: &str = "humit";

/// The shortest signing key accepted: HS256 keys shorter than its 32-byte output can be
/// guessed offline from any token.
pub const MIN_KEY_BYTES: usize = 32;

/// The longest token accepted (ours are about 400 bytes): a longer one is refused before
/// it is decoded.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// Loads the signing key: the secret, else the key file, else a key generated once into
/// `data_dir/jwt.key`.
///
/// # Errors
/// When the secret is shorter than [`MIN_KEY_BYTES`], or the key file cannot be read or
/// written.
pub fn load_key(
    secret: Option<&str>,
    file: Option<&Path>,
    data_dir: &Path,
) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        anyhow::ensure!(
            secret.len() >= MIN_KEY_BYTES,
            "HUMIT_JWT_SECRET has {} bytes; it must have at least {MIN_KEY_BYTES} \
             (for example the output of `openssl rand -hex 32`)",
            secret.len()
        );
        return Ok(secret.as_bytes().to_vec());
    }
    let path = file
        .map(Path::to_path_buf)
        .unwrap_or_else(|| data_dir.join("jwt.key"));
    if let Ok(bytes) = std::fs::read(&path) {
        if bytes.len() >= MIN_KEY_BYTES {
            return Ok(bytes);
        }
    }
    if file.is_some() {
        anyhow::bail!(
            "the JWT key file {} is missing or shorter than {MIN_KEY_BYTES} bytes",
            path.display()
        );
    }
    std::fs::create_dir_all(data_dir).context("failed to create HUMIT_DATA_DIR")?;
    let mut key = vec![0u8; 64];
    rand::thread_rng().fill_bytes(&mut key);
    write_private(&path, &key).context("failed to write the generated JWT key")?;
    tracing::info!(path = %path.display(), "generated a JWT signing key");
    Ok(key)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

impl Tokens {
    /// A token service signing with `key`.
    pub fn new(
        key: &[u8],
        issuer: &str,
        access_ttl_secs: u64,
        app_access_ttl_secs: u64,
        refresh_ttl_secs: u64,
    ) -> Self {
        Self {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            issuer: issuer.to_string(),
            access_ttl: Duration::seconds(access_ttl_secs as i64),
            app_access_ttl: Duration::seconds(app_access_ttl_secs as i64),
            refresh_ttl: Duration::seconds(refresh_ttl_secs as i64),
        }
    }

    fn mint(
        &self,
        user_id: &str,
        session_id: &str,
        kind: TokenKind,
        audience: &str,
        ttl: Duration,
        jti: String,
    ) -> String {
        let now = Utc::now();
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            typ: kind,
            iss: self.issuer.clone(),
            aud: audience.to_string(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            jti,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 encoding cannot fail")
    }

    fn access_ttl(&self, audience: &str) -> Duration {
        if audience == HUMIT {
            self.app_access_ttl
        } else {
            self.access_ttl
        }
    }

    /// A new session: a refresh token and an access token sharing its id.
    pub fn pair(&self, user_id: &str, audience: &str) -> TokenPair {
        let session_id = Uuid::new_v4().simple().to_string();
        let refresh = self.mint(
            user_id,
            &session_id,
            TokenKind::Refresh,
            audience,
            self.refresh_ttl,
            session_id.clone(),
        );
        let refresh_expires = (Utc::now() + self.refresh_ttl).timestamp();
        let access = self.access_within(user_id, &session_id, audience, refresh_expires);
        TokenPair {
            access,
            refresh,
            refresh_expires_at: Utc::now() + self.refresh_ttl,
            session_id,
        }
    }

    /// A new access token for an existing session that ends at `session_expires` (unix
    /// seconds, the refresh token's `exp`): it never outlives its session.
    pub fn access_within(
        &self,
        user_id: &str,
        session_id: &str,
        audience: &str,
        session_expires: i64,
    ) -> String {
        let jti = Uuid::new_v4().simple().to_string();
        let left = Duration::seconds((session_expires - Utc::now().timestamp()).max(0));
        self.mint(
            user_id,
            session_id,
            TokenKind::Access,
            audience,
            self.access_ttl(audience).min(left),
            jti,
        )
    }

    /// Checks length, signature, expiry, not-before, issuer, audience and kind.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for any failure.
    pub fn verify(
        &self,
        token: &str,
        kind: TokenKind,
        audience: &str,
    ) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Invalid);
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| TokenError::Invalid)?;
        if data.claims.typ != kind {
            return Err(TokenError::Invalid);
        }
        Ok(data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(
            b"0123456789abcdef0123456789abcdef",
            "humit",
            900,
            3600,
            86400,
        )
    }

    #[test]
    fn a_pair_verifies_by_kind_and_audience() {
        let t = tokens();
        let pair = t.pair("u1", TECHFESIA);
        let access = t
            .verify(&pair.access, TokenKind::Access, TECHFESIA)
            .unwrap();
        assert_eq!(access.sub, "u1");
        assert_eq!(access.sid, pair.session_id);
        let refresh = t
            .verify(&pair.refresh, TokenKind::Refresh, TECHFESIA)
            .unwrap();
        assert_eq!(refresh.jti, pair.session_id);
        assert_eq!(
            t.verify(&pair.refresh, TokenKind::Access, TECHFESIA)
                .unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            t.verify(&pair.access, TokenKind::Refresh, TECHFESIA)
                .unwrap_err(),
            TokenError::Invalid
        );
        assert_eq!(
            t.verify(&pair.access, TokenKind::Access, HUMIT)
                .unwrap_err(),
            TokenError::Invalid
        );
    }

    #[test]
    fn another_key_or_algorithm_is_refused() {
        let pair = tokens().pair("u1", TECHFESIA);
        let other = Tokens::new(
            b"another-key-another-key-another-key",
            "humit",
            900,
            3600,
            86400,
        );
        assert!(other
            .verify(&pair.access, TokenKind::Access, TECHFESIA)
            .is_err());
        // alg=none
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSJ9.";
        assert!(tokens().verify(none, TokenKind::Access, TECHFESIA).is_err());
    }

    #[test]
    fn a_secret_under_32_bytes_is_refused() {
        let dir = std::env::temp_dir();
        let error = load_key(Some("too-short-a-secret"), None, &dir).unwrap_err();
        assert!(
            error.to_string().contains("HUMIT_JWT_SECRET has 18 bytes"),
            "{error}"
        );
        let secret = "x".repeat(MIN_KEY_BYTES);
        assert_eq!(
            load_key(Some(&secret), None, &dir).unwrap(),
            secret.as_bytes()
        );
    }

    #[test]
    fn expired_tokens_are_refused() {
        let t = Tokens::new(b"0123456789abcdef0123456789abcdef", "humit", 0, 0, 0);
        let mut claims: Claims = serde_json::from_value(serde_json::json!({
            "sub": "u1", "sid": "s", "typ": "access", "iss": "humit", "aud": "techfesia",
            "iat": 0, "exp": Utc::now().timestamp() - 60, "jti": "j"
        }))
        .unwrap();
        let token = encode(&Header::new(Algorithm::HS256), &claims, &t.encoding).unwrap();
        assert!(t.verify(&token, TokenKind::Access, TECHFESIA).is_err());
        claims.exp = Utc::now().timestamp() + 60;
        let token = encode(&Header::new(Algorithm::HS256), &claims, &t.encoding).unwrap();
        assert!(t.verify(&token, TokenKind::Access, TECHFESIA).is_ok());
    }
}

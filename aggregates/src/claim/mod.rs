//! The `Claim` aggregate: one unique key (a username, an email, a referral code, a provider
//! identity), owned by at most one user at a time.
//!
//! Its id is `<kind>:<normalised value>`. Two users racing for the same key both load an empty
//! claim and both try to store its first event; the event store's unique `(type, id, sequence)`
//! key lets exactly one of them commit. That is how uniqueness is enforced on the write side,
//! without reading a read model that may lag.
//!
//! Personal keys (usernames, emails, identities) are keyed hashes: HMAC-SHA-256 under the
//! server's [`ClaimKey`] of the SHA-256 of the normalised value, so an erased email cannot be
//! confirmed by hashing a guess without the key. Claims stored before that carry the bare
//! SHA-256 ([`ClaimKind::legacy_claim_id`]); the app still reads them (see
//! `docs/personal-data.md`).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The server key claim ids are derived with. It must be the same in every process and
/// never change: a claim taken under one key is invisible under another.
#[derive(Clone)]
pub struct ClaimKey(Vec<u8>);

impl std::fmt::Debug for ClaimKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimKey(<redacted>)")
    }
}

/// The shortest claim key accepted.
pub const MIN_CLAIM_KEY_BYTES: usize = 32;

/// The key used when none is configured (development only: it is public, so ids made with
/// it are no better than bare hashes).
pub const DEV_CLAIM_KEY: &[u8] = b"humit-development-claim-key-not-for-production-use";

/// Why a claim key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the claim key has {0} bytes; it must have at least {MIN_CLAIM_KEY_BYTES}")]
pub struct ShortClaimKey(pub usize);

impl ClaimKey {
    /// A key of at least [`MIN_CLAIM_KEY_BYTES`] bytes.
    ///
    /// # Errors
    /// [`ShortClaimKey`] for a shorter one.
    pub fn new(bytes: &[u8]) -> Result<Self, ShortClaimKey> {
        if bytes.len() < MIN_CLAIM_KEY_BYTES {
            return Err(ShortClaimKey(bytes.len()));
        }
        Ok(Self(bytes.to_vec()))
    }

    /// The public development key ([`DEV_CLAIM_KEY`]).
    pub fn development() -> Self {
        Self(DEV_CLAIM_KEY.to_vec())
    }

    /// Whether this is the public development key.
    pub fn is_development(&self) -> bool {
        self.0 == DEV_CLAIM_KEY
    }

    fn tag(&self, digest: &[u8]) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(digest);
        hex(&mac.finalize().into_bytes())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn normalise(value: &str) -> String {
    value.trim().to_lowercase()
}

/// The kinds of unique key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// A username, which is also the humit `user_handle` (case-insensitive).
    Username,
    /// An email address (case-insensitive).
    Email,
    /// A six-digit referral code.
    ReferralCode,
    /// An OAuth provider identity: `<provider>/<subject>`.
    Identity,
}

impl ClaimKind {
    fn prefix(self) -> &'static str {
        match self {
            Self::Username => "username",
            Self::Email => "email",
            Self::ReferralCode => "referral",
            Self::Identity => "identity",
        }
    }

    /// The aggregate id of the claim on `value`: the kind and, for personal keys (usernames,
    /// emails, identities), HMAC-SHA-256 under `key` of the SHA-256 of the normalised value,
    /// so that no personal data stands in the event log's aggregate ids and none can be
    /// confirmed by hashing a guess. (Hashing first lets stored bare-hash ids be re-keyed
    /// without knowing the values.)
    pub fn claim_id(self, key: &ClaimKey, value: &str) -> String {
        let normalised = normalise(value);
        match self {
            Self::ReferralCode => format!("{}:{normalised}", self.prefix()),
            _ => format!(
                "{}:{}",
                self.prefix(),
                key.tag(&Sha256::digest(normalised.as_bytes()))
            ),
        }
    }

    /// The id a claim on a personal key had before ids were keyed: the bare SHA-256 of the
    /// normalised value. `None` for referral codes, whose ids did not change.
    pub fn legacy_claim_id(self, value: &str) -> Option<String> {
        match self {
            Self::ReferralCode => None,
            _ => Some(format!(
                "{}:{}",
                self.prefix(),
                hex(&Sha256::digest(normalise(value).as_bytes()))
            )),
        }
    }

    /// Whether two values name the same key of this kind.
    pub fn same(self, a: &str, b: &str) -> bool {
        normalise(a) == normalise(b)
    }
}

/// Commands on a claim.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimCommand {
    /// Take the key for `owner`; taking one's own key again changes nothing.
    Take {
        /// The user taking it.
        owner: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Give the key back; only its owner can.
    Release {
        /// The user giving it back.
        owner: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

/// Events of a claim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum ClaimEvent {
    /// The key now belongs to `owner`.
    Taken {
        /// The owner.
        owner: String,
        /// When (since version 2; older events get it from their metadata on load).
        at: DateTime<Utc>,
    },
    /// The key is free again.
    Released {
        /// The former owner.
        owner: String,
        /// When (since version 2).
        at: DateTime<Utc>,
    },
}

crate::domain_event!(ClaimEvent, "2", { Taken, Released });

/// The version of [`ClaimEvent`] that added `at`; older events are upcast by the app.
pub const CLAIM_EVENT_VERSION: &str = "2";

/// Why a claim command was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimError {
    /// Someone else owns the key.
    #[error("already taken")]
    Taken,
}

/// The state of one key.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Claim {
    owner: Option<String>,
    /// When the current owner took it.
    #[serde(default)]
    taken_at: Option<DateTime<Utc>>,
}

impl Claim {
    /// The current owner, if any.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// When the current owner took the key (to tell a registration in flight from one an
    /// outage interrupted before it could give its keys back).
    pub fn taken_at(&self) -> Option<DateTime<Utc>> {
        self.owner.as_ref().and(self.taken_at)
    }
}

impl Claim {
    fn decide(&self, command: ClaimCommand) -> Result<Option<ClaimEvent>, ClaimError> {
        match command {
            ClaimCommand::Take { owner, now } => match &self.owner {
                Some(current) if *current == owner => Ok(None),
                Some(_) => Err(ClaimError::Taken),
                None => Ok(Some(ClaimEvent::Taken { owner, at: now })),
            },
            ClaimCommand::Release { owner, now } => Ok((self.owner.as_deref()
                == Some(owner.as_str()))
            .then_some(ClaimEvent::Released { owner, at: now })),
        }
    }

    fn evolve(&mut self, event: ClaimEvent) {
        match event {
            ClaimEvent::Taken { owner, at } => {
                self.owner = Some(owner);
                self.taken_at = Some(at);
            }
            ClaimEvent::Released { .. } => {
                self.owner = None;
                self.taken_at = None;
            }
        }
    }
}

crate::pure_aggregate!(Claim, "Claim", ClaimCommand, ClaimEvent, ClaimError);

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type ClaimTest = TestFramework<Claim>;

    fn taken(owner: &str) -> ClaimEvent {
        ClaimEvent::Taken {
            owner: owner.into(),
            at: DateTime::UNIX_EPOCH,
        }
    }

    fn take(owner: &str) -> ClaimCommand {
        ClaimCommand::Take {
            owner: owner.into(),
            now: DateTime::UNIX_EPOCH,
        }
    }

    fn release(owner: &str) -> ClaimCommand {
        ClaimCommand::Release {
            owner: owner.into(),
            now: DateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_free_key_is_taken() {
        ClaimTest::with(())
            .given_no_previous_events()
            .when(take("u1"))
            .then_expect_events(vec![taken("u1")]);
    }

    #[test]
    fn a_key_owned_by_someone_else_is_refused() {
        ClaimTest::with(())
            .given(vec![taken("u1")])
            .when(take("u2"))
            .then_expect_error(ClaimError::Taken);
    }

    #[test]
    fn taking_ones_own_key_again_is_a_no_op() {
        ClaimTest::with(())
            .given(vec![taken("u1")])
            .when(take("u1"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_released_key_can_be_taken_by_another() {
        ClaimTest::with(())
            .given(vec![
                taken("u1"),
                ClaimEvent::Released {
                    owner: "u1".into(),
                    at: DateTime::UNIX_EPOCH,
                },
            ])
            .when(take("u2"))
            .then_expect_events(vec![taken("u2")]);
    }

    #[test]
    fn only_the_owner_releases() {
        ClaimTest::with(())
            .given(vec![taken("u1")])
            .when(release("u2"))
            .then_expect_events(vec![]);
    }

    #[test]
    fn claim_ids_are_case_insensitive_and_hide_personal_values() {
        let key = ClaimKey::new(&[7; 32]).unwrap();
        assert_eq!(
            ClaimKind::Username.claim_id(&key, " Alice "),
            ClaimKind::Username.claim_id(&key, "alice")
        );
        assert_eq!(
            ClaimKind::Email.claim_id(&key, "A@B.c"),
            ClaimKind::Email.claim_id(&key, "a@b.c")
        );
        assert_ne!(
            ClaimKind::Email.claim_id(&key, "alice"),
            ClaimKind::Username.claim_id(&key, "alice")
        );
        let id = ClaimKind::Email.claim_id(&key, "ada@example.com");
        assert!(id.starts_with("email:") && !id.contains("ada"), "{id}");
        assert_eq!(
            ClaimKind::ReferralCode.claim_id(&key, "123456"),
            "referral:123456"
        );
    }

    #[test]
    fn claim_ids_depend_on_the_key_and_are_not_bare_hashes() {
        let one = ClaimKey::new(&[1; 32]).unwrap();
        let two = ClaimKey::new(&[2; 32]).unwrap();
        let value = "ada@example.com";
        let keyed = ClaimKind::Email.claim_id(&one, value);
        assert_ne!(keyed, ClaimKind::Email.claim_id(&two, value));
        assert_ne!(Some(keyed), ClaimKind::Email.legacy_claim_id(value));
        assert_eq!(ClaimKind::ReferralCode.legacy_claim_id("123456"), None);
        assert_eq!(ClaimKey::new(&[0; 31]).unwrap_err(), ShortClaimKey(31));
        assert!(format!("{one:?}").contains("redacted"));
    }
}

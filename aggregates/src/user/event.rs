//! Events of the `User` aggregate and the value types they carry.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::common::Secret;

/// How long a password reset token lives.
pub const RESET_TOKEN_TTL_MINUTES: i64 = 30;

/// The account's role.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary user.
    #[default]
    Normal,
    /// Staff, with per-model privileges.
    Staff,
    /// A superuser: every privilege.
    Superuser,
}

/// An action on a model that a staff account may be allowed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read.
    Read,
    /// Create.
    Create,
    /// Update.
    Update,
    /// Delete.
    Delete,
}

/// Per model (`user`, `event`, `station`, ...), the allowed actions.
pub type Privileges = BTreeMap<String, BTreeSet<Action>>;

/// The details a person keeps about themselves (the Techfesia fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct UserDetails {
    /// Email address, unique when present.
    pub email: Option<String>,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Phone number.
    pub phone_number: String,
    /// College name.
    pub college_name: String,
    /// URL of the profile picture.
    pub profile_picture: String,
}

/// The humit registration form, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct HumitProfile {
    /// Date of birth.
    pub date_of_birth: NaiveDate,
    /// Favourite artists, as the app sent them (`{"data": [...]}`).
    pub favourite_artists: serde_json::Value,
    /// Push notification id.
    pub notification_id: Option<String>,
    /// The user whose referral code was given, if any.
    pub referred_by: Option<String>,
    /// The humit playlist created on Spotify.
    pub playlist_id: String,
    /// The handle-derived internal username.
    pub internal_username: String,
}

/// Why a password was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PasswordChange {
    /// Set at registration.
    Initial,
    /// Created later on an OAuth-only account.
    Created,
    /// Changed by the owner, knowing the old one.
    Changed,
    /// Reset with an emailed token.
    Reset,
}

/// What happened to a user. Secrets are wrapped in [`Secret`] and never leave the event store;
/// personal data is marked with `#[serde(with = "personal")]` and is encrypted at rest under
/// the person's own key (see `crate::common::personal`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum UserEvent {
    /// The account was created.
    UserRegistered {
        /// The opaque user id (also the aggregate id).
        user_id: String,
        /// The unique handle.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        username: String,
        /// Personal details.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<UserDetails>")]
        details: UserDetails,
        /// The six-digit referral code.
        referral_code: String,
        /// `password`, `spotify`, `google`, `github`, `facebook`, or `cli`.
        signup_method: String,
        /// The role given at creation (`superuser` from the CLI).
        role: Role,
        /// When.
        at: DateTime<Utc>,
    },
    /// A password was set.
    PasswordSet {
        /// The argon2id hash.
        password_hash: Secret<String>,
        /// Why.
        change: PasswordChange,
        /// When.
        at: DateTime<Utc>,
    },
    /// An OAuth provider identity was linked to the account.
    ProviderLinked {
        /// `google`, `github`, `facebook` or `spotify`.
        provider: String,
        /// The provider's id for the person.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        subject: String,
        /// The provider's picture, if it has one.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<Option<String>>")]
        picture_url: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// New Spotify tokens were received.
    SpotifyTokensUpdated {
        /// The Spotify access token (a secret, and encrypted at rest with the person's key).
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<Secret<String>>")]
        access_token: Secret<String>,
        /// The Spotify refresh token (a secret, and encrypted at rest with the person's key).
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<Secret<String>>")]
        refresh_token: Secret<String>,
        /// The country Spotify reports.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<Option<String>>")]
        country: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The personal details changed.
    DetailsUpdated {
        /// The new details.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<UserDetails>")]
        details: UserDetails,
        /// When.
        at: DateTime<Utc>,
    },
    /// The handle changed.
    UsernameChanged {
        /// The new handle.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        username: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The humit registration form was submitted.
    ProfileRegistered {
        /// The form as stored.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<HumitProfile>")]
        profile: HumitProfile,
        /// First name from `full_name`.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        first_name: String,
        /// Last name from `full_name`.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        last_name: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The profile picture changed.
    ProfilePictureChanged {
        /// Its URL.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        url: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// A session (a refresh token) was opened: a login.
    SessionStarted {
        /// The session id (the refresh token's `jti`).
        session_id: String,
        /// `password`, a provider name, or `refresh`.
        method: String,
        /// When the refresh token expires.
        expires_at: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// One session was revoked.
    SessionRevoked {
        /// The session id.
        session_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// Every session was revoked; every token issued before `at` is dead.
    AllSessionsRevoked {
        /// The sessions that were open.
        session_ids: Vec<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A password reset was requested; the token went out by mail.
    PasswordResetRequested {
        /// SHA-256 of the token.
        token_hash: Secret<String>,
        /// When the token expires.
        expires_at: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// The role or the privileges changed.
    RoleChanged {
        /// The new role.
        role: Role,
        /// The new privileges (empty unless staff).
        privileges: Privileges,
        /// When.
        at: DateTime<Utc>,
    },
    /// The account was disabled.
    UserDisabled {
        /// When.
        at: DateTime<Utc>,
    },
    /// The account was deleted for good.
    UserDeleted {
        /// When.
        at: DateTime<Utc>,
    },
    /// Someone registered with this user's referral code.
    ReferralCredited {
        /// Who registered.
        referred_user_id: String,
        /// When.
        at: DateTime<Utc>,
    },
    /// The push notification id changed (humit sign-up, registration form).
    NotificationIdChanged {
        /// The new id (`None` clears it).
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<Option<String>>")]
        notification_id: Option<String>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A profile picture upload URL was handed out for `key`.
    ProfilePictureUploadStarted {
        /// The upload id (the file is `<upload_id>.jpg`).
        upload_id: String,
        /// The storage key, under the user's prefix.
        key: String,
        /// When the upload URL expires.
        expires_at: DateTime<Utc>,
        /// When.
        at: DateTime<Utc>,
    },
    /// A started upload arrived and became the profile picture.
    ProfilePictureUploaded {
        /// The upload id.
        upload_id: String,
        /// The picture's public URL.
        #[serde(with = "crate::common::personal")]
        #[schemars(with = "crate::common::Personal<String>")]
        url: String,
        /// When.
        at: DateTime<Utc>,
    },
}

crate::domain_event!(UserEvent, "1", {
    UserRegistered, PasswordSet, ProviderLinked, SpotifyTokensUpdated, DetailsUpdated,
    UsernameChanged, ProfileRegistered, ProfilePictureChanged, SessionStarted, SessionRevoked,
    AllSessionsRevoked, PasswordResetRequested, RoleChanged, UserDisabled, UserDeleted,
    ReferralCredited, NotificationIdChanged, ProfilePictureUploadStarted, ProfilePictureUploaded,
});

/// A reset token kept in the aggregate until used or expired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingReset {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// A profile picture upload that was started and has not arrived yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    /// The storage key.
    pub key: String,
    /// When the upload URL expires.
    pub expires_at: DateTime<Utc>,
    /// When it was started.
    pub started_at: DateTime<Utc>,
}

/// How long a started upload is remembered; after that it can no longer complete.
pub const PENDING_UPLOAD_TTL_HOURS: i64 = 24;

/// A provider identity linked to the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub(crate) struct LinkedProvider {
    pub subject: String,
    pub picture_url: Option<String>,
}

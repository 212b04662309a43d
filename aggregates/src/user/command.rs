//! Commands on the `User` aggregate. Each carries `now`, so the aggregate stays deterministic.

use chrono::{DateTime, Utc};

use super::event::{HumitProfile, Privileges, Role, UserDetails};

/// A provider identity as the provider reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderIdentity {
    /// `google`, `github`, `facebook` or `spotify`.
    pub provider: String,
    /// The provider's id for the person.
    pub subject: String,
    /// The provider's picture, if any.
    pub picture_url: Option<String>,
}

/// A session to open: the refresh token's id and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The refresh token's `jti`.
    pub session_id: String,
    /// When the refresh token expires.
    pub expires_at: DateTime<Utc>,
    /// `password`, a provider name, or `spotify`.
    pub method: String,
}

/// What can be asked of a user.
#[derive(Debug, Clone, PartialEq)]
pub enum UserCommand {
    /// Create the account. At least one of `password` and `identity` is given.
    Register {
        /// The new id.
        user_id: String,
        /// The unique handle (already claimed).
        username: String,
        /// Personal details (email already claimed).
        details: UserDetails,
        /// A free referral code (already claimed).
        referral_code: String,
        /// A password, for password accounts.
        password: Option<String>,
        /// A provider identity, for OAuth and Spotify accounts (already claimed).
        identity: Option<ProviderIdentity>,
        /// Spotify tokens, for Spotify sign-up.
        spotify_tokens: Option<(String, String, Option<String>)>,
        /// The role (`Superuser` only from the CLI).
        role: Role,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Revoke every session (sign out everywhere).
    RevokeAllSessions {
        /// Now.
        now: DateTime<Utc>,
    },
    /// Replace the personal details.
    UpdateDetails {
        /// The new details (a new email already claimed).
        details: UserDetails,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Submit the humit registration form.
    RegisterProfile {
        /// The chosen handle (already claimed).
        username: String,
        /// The form.
        profile: HumitProfile,
        /// First name.
        first_name: String,
        /// Last name.
        last_name: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Store new Spotify tokens.
    UpdateSpotifyTokens {
        /// Access token.
        access_token: String,
        /// Refresh token.
        refresh_token: String,
        /// Country reported by Spotify.
        country: Option<String>,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Set the profile picture to an uploaded image.
    SetProfilePicture {
        /// Its URL.
        url: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Take the picture from a linked provider (the first linked one when `None`).
    UseProviderPicture {
        /// The provider.
        provider: Option<String>,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Link a provider identity (already claimed) to the account.
    LinkProvider {
        /// The identity.
        identity: ProviderIdentity,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Add a password to an OAuth-only account.
    CreatePassword {
        /// The password.
        password: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Change the password, knowing the old one. Ends every session.
    ChangePassword {
        /// The old password.
        old_password: String,
        /// The new password.
        new_password: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Record a reset token (its hash) that was mailed to the person.
    RequestPasswordReset {
        /// SHA-256 of the token.
        token_hash: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Reset the password with a mailed token. Ends every session.
    ResetPassword {
        /// SHA-256 of the token given.
        token_hash: String,
        /// The new password.
        new_password: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Change role and privileges.
    SetRole {
        /// The role.
        role: Role,
        /// The privileges (kept only for staff).
        privileges: Privileges,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Disable the account. Ends every session.
    Disable {
        /// Now.
        now: DateTime<Utc>,
    },
    /// Delete the account for good. Ends every session.
    Delete {
        /// Now.
        now: DateTime<Utc>,
    },
    /// Credit this user for a registration with their referral code.
    CreditReferral {
        /// Who registered.
        referred_user_id: String,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Set (or clear) the push notification id.
    SetNotificationId {
        /// The id.
        notification_id: Option<String>,
        /// Now.
        now: DateTime<Utc>,
    },
    /// Record a profile picture upload URL handed out for `key`.
    StartProfilePictureUpload {
        /// The upload id.
        upload_id: String,
        /// The storage key, under the user's prefix.
        key: String,
        /// When the upload URL expires.
        expires_at: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
    },
    /// A started upload arrived (checked by the storage): make it the profile picture.
    CompleteProfilePictureUpload {
        /// The upload id.
        upload_id: String,
        /// The picture's public URL.
        url: String,
        /// Now.
        now: DateTime<Utc>,
    },
}

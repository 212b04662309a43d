//! How events change `User`: the one place its state moves, replayed from the log and
//! applied after every command.

use chrono::Duration;

use super::aggregate::{SpotifyTokens, User};
use super::event::{
    LinkedProvider, PendingReset, PendingUpload, UserEvent, PENDING_UPLOAD_TTL_HOURS,
};

impl User {
    /// Applies one event.
    pub(super) fn evolve(&mut self, event: UserEvent) {
        use UserEvent as E;
        match event {
            E::UserRegistered {
                user_id,
                username,
                details,
                referral_code,
                role,
                at,
                ..
            } => {
                self.id = Some(user_id);
                self.username = username;
                self.details = details;
                self.referral_code = referral_code;
                self.role = role;
                self.registered_at = Some(at);
            }
            E::PasswordSet { password_hash, .. } => {
                self.password_hash = password_hash.expose().cloned();
                // Whatever set it (sign-up, create, change, reset), a mailed token from
                // before must not set it again.
                self.resets.clear();
            }
            E::ProviderLinked {
                provider,
                subject,
                picture_url,
                ..
            } => {
                self.providers.insert(
                    provider,
                    LinkedProvider {
                        subject,
                        picture_url,
                    },
                );
            }
            E::SpotifyTokensUpdated {
                access_token,
                refresh_token,
                country,
                ..
            } => {
                let country = country.or_else(|| self.spotify.take().and_then(|t| t.country));
                self.spotify = Some(SpotifyTokens {
                    access_token,
                    refresh_token,
                    country,
                });
            }
            E::ProfilePictureChanged { .. } => {}
            E::NotificationIdChanged {
                notification_id, ..
            } => self.notification_id = notification_id,
            E::ProfilePictureUploadStarted {
                upload_id,
                key,
                expires_at,
                at,
            } => {
                let horizon = at - Duration::hours(PENDING_UPLOAD_TTL_HOURS);
                self.uploads.retain(|_, u| u.started_at > horizon);
                self.uploads.insert(
                    upload_id,
                    PendingUpload {
                        key,
                        expires_at,
                        started_at: at,
                    },
                );
            }
            E::ProfilePictureUploaded { upload_id, .. } => {
                // The arrived upload wins over every one started before it.
                if let Some(done) = self.uploads.remove(&upload_id) {
                    self.uploads.retain(|_, u| u.started_at > done.started_at);
                }
            }
            E::DetailsUpdated { details, .. } => {
                // A reset mailed to the old address must not work once the address changed.
                if details.email != self.details.email {
                    self.resets.clear();
                }
                self.details = details;
            }
            E::UsernameChanged { username, .. } => self.username = username,
            E::ProfileRegistered { profile, .. } => {
                if profile.notification_id.is_some() {
                    self.notification_id = profile.notification_id.clone();
                }
                self.profile = Some(profile);
            }
            // Sessions live in their own aggregate; these older events only matter to the
            // auth state and the read models.
            E::SessionStarted { .. } | E::SessionRevoked { .. } | E::AllSessionsRevoked { .. } => {}
            E::PasswordResetRequested {
                token_hash,
                expires_at,
                at,
            } => {
                self.resets.retain(|r| r.expires_at > at);
                if let Some(hash) = token_hash.expose() {
                    self.resets.push(PendingReset {
                        token_hash: hash.clone(),
                        expires_at,
                    });
                }
            }
            E::RoleChanged {
                role, privileges, ..
            } => {
                self.role = role;
                self.privileges = privileges;
            }
            E::UserDisabled { .. } => {
                self.disabled = true;
                self.resets.clear();
            }
            E::UserDeleted { .. } => {
                let id = self.id.take();
                *self = User {
                    id,
                    deleted: true,
                    ..User::default()
                };
            }
            E::ReferralCredited {
                referred_user_id, ..
            } => {
                self.referred.insert(referred_user_id);
            }
        }
    }
}

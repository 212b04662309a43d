//! The profile part of `User`: personal details, the humit profile and Spotify tokens,
//! linked providers and pictures (uploads included), notification id, referral credits.

use chrono::Duration;

use super::aggregate::{Decision, User};
use super::command::UserCommand;
use super::error::UserError;
use super::event::{UserEvent, PENDING_UPLOAD_TTL_HOURS};
use crate::common::Secret;

impl User {
    /// Decides the profile commands; hands any other back.
    pub(super) fn decide_profile(&self, command: UserCommand) -> Result<Decision, UserError> {
        use UserCommand as C;
        Ok(match command {
            C::UpdateDetails { details, now } => {
                self.ensure_active()?;
                Decision::unless_unchanged(details == self.details, || {
                    vec![UserEvent::DetailsUpdated { details, at: now }]
                })
            }
            C::RegisterProfile {
                username,
                profile,
                first_name,
                last_name,
                now,
            } => Decision::Events({
                self.ensure_active()?;
                if self.profile.is_some() {
                    return Err(UserError::ProfileAlreadyRegistered);
                }
                let mut events = Vec::new();
                if username != self.username {
                    events.push(UserEvent::UsernameChanged { username, at: now });
                }
                events.push(UserEvent::ProfileRegistered {
                    profile,
                    first_name,
                    last_name,
                    at: now,
                });
                events
            }),
            C::UpdateSpotifyTokens {
                access_token,
                refresh_token,
                country,
                now,
            } => Decision::Events({
                self.ensure_active()?;
                vec![UserEvent::SpotifyTokensUpdated {
                    access_token: Secret::new(access_token),
                    refresh_token: Secret::new(refresh_token),
                    country,
                    at: now,
                }]
            }),
            C::SetProfilePicture { url, now } => Decision::Events({
                self.ensure_active()?;
                vec![UserEvent::ProfilePictureChanged { url, at: now }]
            }),
            C::UseProviderPicture { provider, now } => Decision::Events({
                self.ensure_active()?;
                let link = match &provider {
                    Some(name) => self.providers.get(name),
                    None => self.providers.values().next(),
                }
                .ok_or(UserError::NoOAuthLink)?;
                let url = link
                    .picture_url
                    .clone()
                    .ok_or(UserError::NoProviderPicture)?;
                vec![UserEvent::ProfilePictureChanged { url, at: now }]
            }),
            C::LinkProvider { identity, now } => Decision::Events({
                self.ensure_active()?;
                match self.providers.get(&identity.provider) {
                    Some(link) if link.subject == identity.subject => {
                        if link.picture_url == identity.picture_url {
                            vec![]
                        } else {
                            vec![Self::linked(identity, now)]
                        }
                    }
                    Some(_) => return Err(UserError::ProviderConflict),
                    None => vec![Self::linked(identity, now)],
                }
            }),
            C::CreditReferral {
                referred_user_id,
                now,
            } => Decision::unless_unchanged(self.referred.contains(&referred_user_id), || {
                vec![UserEvent::ReferralCredited {
                    referred_user_id,
                    at: now,
                }]
            }),
            C::SetNotificationId {
                notification_id,
                now,
            } => {
                self.ensure_active()?;
                Decision::unless_unchanged(notification_id == self.notification_id, || {
                    vec![UserEvent::NotificationIdChanged {
                        notification_id,
                        at: now,
                    }]
                })
            }
            C::StartProfilePictureUpload {
                upload_id,
                key,
                expires_at,
                now,
            } => Decision::Events({
                self.ensure_active()?;
                vec![UserEvent::ProfilePictureUploadStarted {
                    upload_id,
                    key,
                    expires_at,
                    at: now,
                }]
            }),
            C::CompleteProfilePictureUpload {
                upload_id,
                url,
                now,
            } => Decision::Events({
                self.ensure_active()?;
                let fresh = self.uploads.get(&upload_id).is_some_and(|u| {
                    u.started_at + Duration::hours(PENDING_UPLOAD_TTL_HOURS) > now
                });
                if !fresh {
                    return Err(UserError::UploadNotFound);
                }
                vec![UserEvent::ProfilePictureUploaded {
                    upload_id,
                    url,
                    at: now,
                }]
            }),
            other => Decision::Pass(Box::new(other)),
        })
    }
}

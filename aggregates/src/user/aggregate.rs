//! The `User` state, its command handler and how events change it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::command::{ProviderIdentity, UserCommand};
use super::error::UserError;
use super::event::{
    HumitProfile, LinkedProvider, PasswordChange, PendingReset, PendingUpload, Privileges, Role,
    UserDetails, UserEvent, PENDING_UPLOAD_TTL_HOURS, RESET_TOKEN_TTL_MINUTES,
};
use super::services::UserServices;
use crate::common::Secret;

/// One person, as the write side knows them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct User {
    id: Option<String>,
    username: String,
    details: UserDetails,
    referral_code: String,
    role: Role,
    privileges: Privileges,
    disabled: bool,
    deleted: bool,
    password_hash: Option<String>,
    providers: BTreeMap<String, LinkedProvider>,
    resets: Vec<PendingReset>,
    profile: Option<HumitProfile>,
    referred: BTreeSet<String>,
    registered_at: Option<DateTime<Utc>>,
    /// The latest Spotify tokens (humit sign-up), kept to call Spotify for the user.
    #[serde(default)]
    spotify: Option<SpotifyTokens>,
    #[serde(default)]
    notification_id: Option<String>,
    /// Profile picture uploads handed out and not arrived yet, by upload id.
    #[serde(default)]
    uploads: BTreeMap<String, PendingUpload>,
}

/// The Spotify tokens of a humit user. Secrets: never printed, redacted on the bus.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SpotifyTokens {
    access_token: Secret<String>,
    refresh_token: Secret<String>,
    country: Option<String>,
}

impl User {
    /// The user id, once registered.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }
    /// The unique handle.
    pub fn username(&self) -> &str {
        &self.username
    }
    /// Personal details.
    pub fn details(&self) -> &UserDetails {
        &self.details
    }
    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }
    /// Whether the account is disabled.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }
    /// Whether the account exists and is not deleted.
    pub fn exists(&self) -> bool {
        self.id.is_some() && !self.deleted
    }
    /// Whether the account has a password.
    pub fn has_password(&self) -> bool {
        self.password_hash.is_some()
    }
    /// Linked providers, in name order.
    pub fn providers(&self) -> impl Iterator<Item = &str> {
        self.providers.keys().map(String::as_str)
    }
    /// Whether the humit registration form was submitted.
    pub fn profile_registered(&self) -> bool {
        self.profile.is_some()
    }
    /// The humit registration form, once submitted.
    pub fn profile(&self) -> Option<&HumitProfile> {
        self.profile.as_ref()
    }
    /// The six-digit referral code.
    pub fn referral_code(&self) -> &str {
        &self.referral_code
    }
    /// The provider's id for this person, when `provider` is linked.
    pub fn provider_subject(&self, provider: &str) -> Option<&str> {
        self.providers.get(provider).map(|l| l.subject.as_str())
    }
    /// The latest Spotify access token (`None` when never given, or redacted).
    pub fn spotify_access_token(&self) -> Option<&str> {
        self.spotify
            .as_ref()
            .and_then(|t| t.access_token.expose())
            .map(String::as_str)
    }
    /// The latest Spotify refresh token.
    pub fn spotify_refresh_token(&self) -> Option<&str> {
        self.spotify
            .as_ref()
            .and_then(|t| t.refresh_token.expose())
            .map(String::as_str)
    }
    /// The country Spotify reported.
    pub fn spotify_country(&self) -> Option<&str> {
        self.spotify.as_ref().and_then(|t| t.country.as_deref())
    }
    /// The push notification id.
    pub fn notification_id(&self) -> Option<&str> {
        self.notification_id.as_deref()
    }
    /// How many mailed reset tokens could still be used (expired ones included until the
    /// next request prunes them).
    #[cfg(test)]
    pub(super) fn pending_resets(&self) -> usize {
        self.resets.len()
    }
    /// Profile picture uploads started and not arrived yet, newest first.
    pub fn pending_uploads(&self) -> Vec<(&str, &PendingUpload)> {
        let mut pending: Vec<_> = self
            .uploads
            .iter()
            .map(|(id, upload)| (id.as_str(), upload))
            .collect();
        pending.sort_by_key(|(_, upload)| std::cmp::Reverse(upload.started_at));
        pending
    }

    /// Refuses a person who does not exist or is disabled: a session may be opened for
    /// them only when this passes.
    ///
    /// # Errors
    /// [`UserError::NotFound`] or [`UserError::Disabled`].
    pub fn ensure_active(&self) -> Result<(), UserError> {
        if !self.exists() {
            return Err(UserError::NotFound);
        }
        if self.disabled {
            return Err(UserError::Disabled);
        }
        Ok(())
    }

    async fn hash(services: &UserServices, password: &str) -> Result<Secret<String>, UserError> {
        services
            .passwords
            .hash(password)
            .await
            .map(Secret::new)
            .map_err(|e| UserError::Hashing(e.to_string()))
    }

    /// Checks a password login. Sessions are their own aggregate (`crate::session`), so a
    /// login reads the person and writes nothing here: logins never conflict. The password
    /// is verified before the disabled flag is looked at, so a disabled account answers like
    /// a wrong password (and takes as long).
    ///
    /// # Errors
    /// [`UserError::InvalidCredentials`] for a wrong password, a password-less, disabled or
    /// unknown account.
    pub async fn check_login(
        &self,
        password: &str,
        services: &UserServices,
    ) -> Result<(), UserError> {
        let ok = match &self.password_hash {
            Some(hash) => services.passwords.verify(password, hash).await,
            None => false,
        };
        if !ok || self.disabled || !self.exists() {
            return Err(UserError::InvalidCredentials);
        }
        Ok(())
    }

    /// "Every session started before `now` is over": sessions are not on this stream, so
    /// the event names none of them (`session_ids` stays empty); the auth state ends each
    /// session of the person that started before `at`.
    fn all_revoked(&self, now: DateTime<Utc>) -> UserEvent {
        UserEvent::AllSessionsRevoked {
            session_ids: Vec::new(),
            at: now,
        }
    }

    fn linked(identity: ProviderIdentity, now: DateTime<Utc>) -> UserEvent {
        UserEvent::ProviderLinked {
            provider: identity.provider,
            subject: identity.subject,
            picture_url: identity.picture_url,
            at: now,
        }
    }

    async fn decide(
        &self,
        command: UserCommand,
        services: &UserServices,
    ) -> Result<Vec<UserEvent>, UserError> {
        use UserCommand as C;
        if !matches!(command, C::Register { .. }) && !self.exists() {
            return Err(UserError::NotFound);
        }
        let events = match command {
            C::Register {
                user_id,
                username,
                details,
                referral_code,
                password,
                identity,
                spotify_tokens,
                role,
                now,
            } => {
                if self.id.is_some() {
                    return Err(UserError::AlreadyExists);
                }
                let method = match (&identity, &password) {
                    (Some(identity), _) => identity.provider.clone(),
                    (None, _) if role == Role::Superuser => "cli".to_string(),
                    (None, _) => "password".to_string(),
                };
                let mut events = vec![UserEvent::UserRegistered {
                    user_id,
                    username,
                    details,
                    referral_code,
                    signup_method: method,
                    role,
                    at: now,
                }];
                if let Some(password) = password {
                    events.push(UserEvent::PasswordSet {
                        password_hash: Self::hash(services, &password).await?,
                        change: PasswordChange::Initial,
                        at: now,
                    });
                }
                if let Some(identity) = identity {
                    events.push(Self::linked(identity, now));
                }
                if let Some((access, refresh, country)) = spotify_tokens {
                    events.push(UserEvent::SpotifyTokensUpdated {
                        access_token: Secret::new(access),
                        refresh_token: Secret::new(refresh),
                        country,
                        at: now,
                    });
                }
                events
            }
            C::RevokeAllSessions { now } => vec![self.all_revoked(now)],
            C::UpdateDetails { details, now } => {
                self.ensure_active()?;
                if details == self.details {
                    vec![]
                } else {
                    vec![UserEvent::DetailsUpdated { details, at: now }]
                }
            }
            C::RegisterProfile {
                username,
                profile,
                first_name,
                last_name,
                now,
            } => {
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
            }
            C::UpdateSpotifyTokens {
                access_token,
                refresh_token,
                country,
                now,
            } => {
                self.ensure_active()?;
                vec![UserEvent::SpotifyTokensUpdated {
                    access_token: Secret::new(access_token),
                    refresh_token: Secret::new(refresh_token),
                    country,
                    at: now,
                }]
            }
            C::SetProfilePicture { url, now } => {
                self.ensure_active()?;
                vec![UserEvent::ProfilePictureChanged { url, at: now }]
            }
            C::UseProviderPicture { provider, now } => {
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
            }
            C::LinkProvider { identity, now } => {
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
            }
            C::CreatePassword { password, now } => {
                self.ensure_active()?;
                if self.password_hash.is_some() {
                    return Err(UserError::PasswordAlreadySet);
                }
                vec![UserEvent::PasswordSet {
                    password_hash: Self::hash(services, &password).await?,
                    change: PasswordChange::Created,
                    at: now,
                }]
            }
            C::ChangePassword {
                old_password,
                new_password,
                now,
            } => {
                self.ensure_active()?;
                let hash = self.password_hash.as_ref().ok_or(UserError::NoPassword)?;
                if !services.passwords.verify(&old_password, hash).await {
                    return Err(UserError::WrongPassword);
                }
                vec![
                    UserEvent::PasswordSet {
                        password_hash: Self::hash(services, &new_password).await?,
                        change: PasswordChange::Changed,
                        at: now,
                    },
                    self.all_revoked(now),
                ]
            }
            C::RequestPasswordReset { token_hash, now } => {
                self.ensure_active()?;
                vec![UserEvent::PasswordResetRequested {
                    token_hash: Secret::new(token_hash),
                    expires_at: now + Duration::minutes(RESET_TOKEN_TTL_MINUTES),
                    at: now,
                }]
            }
            C::ResetPassword {
                token_hash,
                new_password,
                now,
            } => {
                if self.disabled {
                    return Err(UserError::ResetTokenInvalid);
                }
                let valid = self
                    .resets
                    .iter()
                    .any(|r| r.token_hash == token_hash && r.expires_at > now);
                if !valid {
                    return Err(UserError::ResetTokenInvalid);
                }
                vec![
                    UserEvent::PasswordSet {
                        password_hash: Self::hash(services, &new_password).await?,
                        change: PasswordChange::Reset,
                        at: now,
                    },
                    self.all_revoked(now),
                ]
            }
            C::SetRole {
                role,
                privileges,
                now,
            } => {
                let privileges = if role == Role::Staff {
                    privileges
                } else {
                    Privileges::new()
                };
                if role == self.role && privileges == self.privileges {
                    vec![]
                } else {
                    vec![UserEvent::RoleChanged {
                        role,
                        privileges,
                        at: now,
                    }]
                }
            }
            C::Disable { now } => {
                if self.disabled {
                    vec![]
                } else {
                    vec![UserEvent::UserDisabled { at: now }, self.all_revoked(now)]
                }
            }
            C::Delete { now } => vec![self.all_revoked(now), UserEvent::UserDeleted { at: now }],
            C::CreditReferral {
                referred_user_id,
                now,
            } => {
                if self.referred.contains(&referred_user_id) {
                    vec![]
                } else {
                    vec![UserEvent::ReferralCredited {
                        referred_user_id,
                        at: now,
                    }]
                }
            }
            C::SetNotificationId {
                notification_id,
                now,
            } => {
                self.ensure_active()?;
                if notification_id == self.notification_id {
                    vec![]
                } else {
                    vec![UserEvent::NotificationIdChanged {
                        notification_id,
                        at: now,
                    }]
                }
            }
            C::StartProfilePictureUpload {
                upload_id,
                key,
                expires_at,
                now,
            } => {
                self.ensure_active()?;
                vec![UserEvent::ProfilePictureUploadStarted {
                    upload_id,
                    key,
                    expires_at,
                    at: now,
                }]
            }
            C::CompleteProfilePictureUpload {
                upload_id,
                url,
                now,
            } => {
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
            }
        };
        Ok(events)
    }
}

impl Aggregate for User {
    const TYPE: &'static str = "User";
    type Command = UserCommand;
    type Event = UserEvent;
    type Error = UserError;
    type Services = UserServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        for event in self.decide(command, services).await? {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
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

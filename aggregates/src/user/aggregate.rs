//! The `User` state, its accessors and the command handler, which hands each command to the
//! part that decides it: [`super::credentials`] (passwords, logins), [`super::access`]
//! (roles, disabling, deleting, sessions), [`super::profile`] (details, humit profile,
//! providers, pictures); registering is decided here. How events change the state is
//! [`super::evolve`].

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::command::{ProviderIdentity, UserCommand};
use super::error::UserError;
use super::event::{
    HumitProfile, LinkedProvider, PasswordChange, PendingReset, PendingUpload, Privileges, Role,
    UserDetails, UserEvent,
};
use super::services::UserServices;
use crate::common::Secret;

/// One person, as the write side knows them.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct User {
    pub(super) id: Option<String>,
    pub(super) username: String,
    pub(super) details: UserDetails,
    pub(super) referral_code: String,
    pub(super) role: Role,
    pub(super) privileges: Privileges,
    pub(super) disabled: bool,
    pub(super) deleted: bool,
    pub(super) password_hash: Option<String>,
    pub(super) providers: BTreeMap<String, LinkedProvider>,
    pub(super) resets: Vec<PendingReset>,
    pub(super) profile: Option<HumitProfile>,
    pub(super) referred: BTreeSet<String>,
    pub(super) registered_at: Option<DateTime<Utc>>,
    /// The latest Spotify tokens (humit sign-up), kept to call Spotify for the user.
    #[serde(default)]
    pub(super) spotify: Option<SpotifyTokens>,
    #[serde(default)]
    pub(super) notification_id: Option<String>,
    /// Profile picture uploads handed out and not arrived yet, by upload id.
    #[serde(default)]
    pub(super) uploads: BTreeMap<String, PendingUpload>,
}

/// The Spotify tokens of a humit user. Secrets: never printed, redacted on the bus.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct SpotifyTokens {
    pub(super) access_token: Secret<String>,
    pub(super) refresh_token: Secret<String>,
    pub(super) country: Option<String>,
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

    /// "Every session started before `now` is over": sessions are not on this stream, so
    /// the event names none of them (`session_ids` stays empty); the auth state ends each
    /// session of the person that started before `at`.
    pub(super) fn all_revoked(&self, now: DateTime<Utc>) -> UserEvent {
        UserEvent::AllSessionsRevoked {
            session_ids: Vec::new(),
            at: now,
        }
    }

    pub(super) fn linked(identity: ProviderIdentity, now: DateTime<Utc>) -> UserEvent {
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
        let command = match self.decide_credentials(command, services).await? {
            Decision::Events(events) => return Ok(events),
            Decision::Pass(command) => *command,
        };
        let command = match self.decide_access(command) {
            Decision::Events(events) => return Ok(events),
            Decision::Pass(command) => *command,
        };
        let command = match self.decide_profile(command)? {
            Decision::Events(events) => return Ok(events),
            Decision::Pass(command) => *command,
        };
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
            // Every other command belongs to one of the parts above.
            _ => unreachable!("a User command that no part decides"),
        };
        Ok(events)
    }
}

/// What one part of the aggregate made of a command.
pub(super) enum Decision {
    /// The part's events (none: nothing changes).
    Events(Vec<UserEvent>),
    /// Another part's command, handed back.
    Pass(Box<UserCommand>),
}

impl Decision {
    /// A command's events, or none when it would change nothing: repeating a command is a
    /// no-op, and the log holds changes only.
    pub(super) fn unless_unchanged(
        unchanged: bool,
        events: impl FnOnce() -> Vec<UserEvent>,
    ) -> Self {
        Self::Events(if unchanged { Vec::new() } else { events() })
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
        self.evolve(event);
    }
}

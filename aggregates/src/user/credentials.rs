//! The credentials part of `User`: hashing, checking a login, and the password commands
//! (create, change, request a reset, reset). Changing or resetting ends every session.

use chrono::{DateTime, Duration, Utc};

use super::aggregate::{Decision, User};
use super::command::UserCommand;
use super::error::UserError;
use super::event::{PasswordChange, UserEvent, RESET_TOKEN_TTL_MINUTES};
use super::services::UserServices;
use crate::common::Secret;

impl User {
    pub(super) async fn hash(
        services: &UserServices,
        password: &str,
    ) -> Result<Secret<String>, UserError> {
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

    /// A password that replaces the one there was (changed or reset): the new hash, and
    /// every session ends, so whoever knew the old password is signed out too.
    async fn replace_password(
        &self,
        services: &UserServices,
        new_password: &str,
        change: PasswordChange,
        now: DateTime<Utc>,
    ) -> Result<Vec<UserEvent>, UserError> {
        Ok(vec![
            UserEvent::PasswordSet {
                password_hash: Self::hash(services, new_password).await?,
                change,
                at: now,
            },
            self.all_revoked(now),
        ])
    }

    /// Decides the password commands; hands any other back.
    pub(super) async fn decide_credentials(
        &self,
        command: UserCommand,
        services: &UserServices,
    ) -> Result<Decision, UserError> {
        use UserCommand as C;
        Ok(match command {
            C::CreatePassword { password, now } => Decision::Events({
                self.ensure_active()?;
                if self.password_hash.is_some() {
                    return Err(UserError::PasswordAlreadySet);
                }
                vec![UserEvent::PasswordSet {
                    password_hash: Self::hash(services, &password).await?,
                    change: PasswordChange::Created,
                    at: now,
                }]
            }),
            C::ChangePassword {
                old_password,
                new_password,
                now,
            } => Decision::Events({
                self.ensure_active()?;
                let hash = self.password_hash.as_ref().ok_or(UserError::NoPassword)?;
                if !services.passwords.verify(&old_password, hash).await {
                    return Err(UserError::WrongPassword);
                }
                self.replace_password(services, &new_password, PasswordChange::Changed, now)
                    .await?
            }),
            C::RequestPasswordReset { token_hash, now } => Decision::Events({
                self.ensure_active()?;
                vec![UserEvent::PasswordResetRequested {
                    token_hash: Secret::new(token_hash),
                    expires_at: now + Duration::minutes(RESET_TOKEN_TTL_MINUTES),
                    at: now,
                }]
            }),
            C::ResetPassword {
                token_hash,
                new_password,
                now,
            } => Decision::Events({
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
                self.replace_password(services, &new_password, PasswordChange::Reset, now)
                    .await?
            }),
            other => Decision::Pass(Box::new(other)),
        })
    }
}

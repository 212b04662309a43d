//! Why a `User` command was refused. Each dialect maps these to its own status and body.

/// A refused `User` command.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UserError {
    /// The user does not exist (or was deleted).
    #[error("user does not exist")]
    NotFound,
    /// A user with this id exists already.
    #[error("user already exists")]
    AlreadyExists,
    /// The account is disabled: no login, no action.
    #[error("account is disabled")]
    Disabled,
    /// Wrong password, or no password on the account.
    #[error("no active account found with the given credentials")]
    InvalidCredentials,
    /// `CreatePassword` on an account that has one.
    #[error("a password already exists for this account")]
    PasswordAlreadySet,
    /// A password operation on an OAuth-only account.
    #[error("this account has no password")]
    NoPassword,
    /// The old password given to `ChangePassword` is wrong.
    #[error("old password is incorrect")]
    WrongPassword,
    /// The reset token is unknown, expired or already used.
    #[error("token is invalid, expired or already used. Please get a new token")]
    ResetTokenInvalid,
    /// The account has no OAuth provider linked (or not the one asked for).
    #[error("no linked o-auth provider")]
    NoOAuthLink,
    /// The linked provider has no picture for this account.
    #[error("the linked provider has no picture")]
    NoProviderPicture,
    /// The provider identity is linked to this account already under another subject.
    #[error("provider already linked with another identity")]
    ProviderConflict,
    /// The registration form was submitted already.
    #[error("profile already registered")]
    ProfileAlreadyRegistered,
    /// No upload with this id was started (or it completed or was forgotten already).
    #[error("no such upload")]
    UploadNotFound,
    /// The password could not be hashed.
    #[error("{0}")]
    Hashing(String),
}

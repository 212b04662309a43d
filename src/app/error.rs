//! The one error of the use cases. Each dialect maps it to its own body in one place
//! (`http/techfesia/error.rs`, `http/humit/error.rs`); each variant says which status it becomes.

use std::collections::BTreeMap;

use aggregates::station::StationError;
use aggregates::user::UserError;

use super::social::Relation;
use crate::adapters::oauth::{OAuthError, Provider};
use crate::adapters::spotify::SpotifyError;
use crate::store::{outage, CommandError, LoadError};

/// Input the edge found invalid: field → message (camelCase or snake_case, as the dialect
/// names it). A use case reports it after its policy checks, so that a caller without rights
/// learns nothing from it.
pub type FieldErrors = BTreeMap<String, String>;

/// Input parsed at the edge, or the fields it got wrong.
pub type Checked<T> = Result<T, FieldErrors>;

/// A field a request may not change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frozen {
    /// The username.
    Username,
    /// The opaque user id.
    PublicId,
    /// The password (it has its own use cases).
    Password,
}

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 422 (Techfesia) / 409 (humit): the username (handle) belongs to someone else.
    #[error("username taken")]
    UsernameTaken,
    /// 422: the email belongs to someone else.
    #[error("email taken")]
    EmailTaken,
    /// 422: the provider identity is linked to another account.
    #[error("identity linked to another account")]
    IdentityTaken,
    /// The `User` aggregate refused: each dialect maps the rule (4xx).
    #[error(transparent)]
    User(#[from] UserError),
    /// 409: other requests changed the same aggregate at the same moment, again and again.
    #[error("concurrent modification")]
    Conflict,
    /// 503 with `Retry-After` ([`RETRY_AFTER_SECS`]): the store is unreachable or cannot
    /// serve right now (see `store::outage`), or the read side is behind; logged. A command
    /// that met it either committed or left nothing.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// 500: the event store (or a read) failed in a way no retry mends (a bug); logged,
    /// never shown.
    #[error("store: {0}")]
    Store(String),
    /// 403: the caller may not do this.
    #[error("forbidden")]
    Forbidden,
    /// 403: this takes a sign-in within the last `max_age_secs` seconds (adding a password).
    #[error("a fresh sign-in is required")]
    SignInAgain {
        /// How recent the sign-in must be.
        max_age_secs: u64,
    },
    /// 404: no such account.
    #[error("not found")]
    NotFound,
    /// 401: unknown account, wrong password or disabled account, all alike.
    #[error("bad credentials")]
    BadCredentials,
    /// 401: a refresh (or revocable) token that cannot be used.
    #[error("refresh token invalid")]
    RefreshInvalid,
    /// 429: too many failed attempts; retry after this long.
    #[error("throttled")]
    Throttled(std::time::Duration),
    /// 400: fields the edge found invalid.
    #[error("invalid input")]
    Invalid(FieldErrors),
    /// 422: fields the request may not change.
    #[error("fields may not change")]
    Frozen(Vec<Frozen>),
    /// 422: a superuser changing their own privileges.
    #[error("own privileges")]
    OwnPrivileges,
    /// 400: a page past the end of a list.
    #[error("no such page")]
    NoSuchPage {
        /// The page size.
        page_size: u64,
        /// How many pages there are.
        pages: u64,
    },
    /// 401 (token refused) or 502 (provider down): the OAuth provider's answer.
    #[error("o-auth provider: {1}")]
    Provider(Provider, OAuthError),
    /// 422: this provider identity is linked to another user.
    #[error("provider identity linked to another user")]
    ProviderTaken(Provider),
    /// 403 (humit `ACCOUNT_DISABLED`): the account is disabled or deleted.
    #[error("account disabled")]
    AccountDisabled,
    /// 401 (Spotify refused the token) or 502 (Spotify down).
    #[error("spotify: {0}")]
    Spotify(SpotifyError),
    /// 404 (humit `STATION_DOES_NOT_EXIST`): no such station.
    #[error("no such station")]
    StationNotFound,
    /// 403 (humit `PERMISSION_DENIED`): creating stations takes `station: create`.
    #[error("may not create stations")]
    StationCreateForbidden,
    /// 409: the `Station` aggregate refused.
    #[error(transparent)]
    Station(StationError),
    /// 400 (humit `CANNOT_FOLLOW_SELF` / `CANNOT_MUTE_SELF`): a relation with oneself.
    #[error("relation with oneself")]
    SelfRelation(Relation),
    /// 403 (humit `ONBOARDING_INCOMPLETE`): fewer stations followed than onboarding needs.
    #[error("onboarding incomplete")]
    OnboardingIncomplete {
        /// How many stations the caller follows.
        followed: i64,
    },
    /// 400 (humit `INVALID_REFERRAL_CODE`): one's own invite code.
    #[error("own invite code")]
    OwnReferralCode,
    /// 503 (humit `STORAGE_UNAVAILABLE`): the file storage failed; logged.
    #[error("storage: {0}")]
    Storage(String),
    /// 403 (humit `UPLOAD_URL_INVALID`): an upload URL with a bad signature or key.
    #[error("upload url invalid")]
    UploadUrlInvalid,
    /// 403 (humit `UPLOAD_URL_EXPIRED`): an upload URL past its expiry.
    #[error("upload url expired")]
    UploadUrlExpired,
    /// 404 (humit `FILE_NOT_FOUND`, "Not found"): no local store to upload to.
    #[error("no local store")]
    NoLocalStore,
    /// 404 (humit `FILE_NOT_FOUND`, "File not found"): no file under that key.
    #[error("file not found")]
    FileNotFound,
    /// 404 (admin): no events for this aggregate (`<type> <id>`).
    #[error("no events for {0}")]
    NoEvents(String),
    /// 404 (admin): an aggregate type nobody knows.
    #[error("unknown aggregate type {0}")]
    UnknownAggregateType(String),
    /// 404 (admin): a projection nobody knows.
    #[error("unknown projection {0}")]
    UnknownProjection(String),
    /// 409 (admin `REBUILD_RUNNING`): a rebuild of this projection is running.
    #[error("a rebuild of {0} is already running")]
    RebuildRunning(String),
}

/// Seconds an answer 503 asks the client to wait (`Retry-After`): about what a Postgres
/// restart or a failover takes.
pub const RETRY_AFTER_SECS: u64 = 2;

/// `Retry-After` for a refusal that lasts `wait` ([`Error::Throttled`]): whole seconds, at
/// least one, in every dialect.
pub fn retry_after_secs(wait: std::time::Duration) -> u64 {
    wait.as_secs().max(1)
}

impl Error {
    /// This error as a store failure: an outage stays [`Error::Unavailable`], anything else
    /// becomes [`Error::Store`] (for a refusal a use case did not expect at that point).
    pub fn into_store(self) -> Self {
        match self {
            Self::Unavailable(_) | Self::Store(_) => self,
            other => Self::Store(other.to_string()),
        }
    }

    /// Whether this is an outage (answered 503).
    pub fn is_outage(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }

    /// Maps a command failure: the aggregate's refusal through `rejected`, a persistent
    /// concurrency conflict to [`Error::Conflict`], a store failure to [`Error::Store`].
    pub fn from_command<E: std::error::Error>(
        error: CommandError<E>,
        rejected: impl FnOnce(E) -> Error,
    ) -> Self {
        match error {
            CommandError::Rejected(e) => rejected(e),
            CommandError::Conflict => Self::Conflict,
            CommandError::Unavailable(cause) => Self::Unavailable(cause),
            CommandError::Store(cause) => Self::Store(format!("event store: {cause}")),
        }
    }
}

impl From<CommandError<UserError>> for Error {
    fn from(e: CommandError<UserError>) -> Self {
        match e {
            CommandError::Rejected(e) => Self::User(e),
            CommandError::Conflict => Self::Conflict,
            CommandError::Unavailable(cause) => Self::Unavailable(cause),
            other => Self::Store(other.to_string()),
        }
    }
}

impl From<LoadError> for Error {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Unavailable(cause) => Self::Unavailable(cause),
            LoadError::Store(cause) => Self::Store(cause),
        }
    }
}

impl From<sqlx::Error> for Error {
    /// A read (or write) of our own tables: an outage, or a bug.
    fn from(e: sqlx::Error) -> Self {
        if outage::is_outage(&e) {
            Self::Unavailable(e.to_string())
        } else {
            Self::Store(e.to_string())
        }
    }
}

//! The identity building blocks the use cases share: unique claims (username, email,
//! provider identity, referral code), registering a person, opening and ending sessions,
//! changing details, deleting. Moved here from `src/identity.rs`; `humit::identity` still
//! names it.
//!
//! (Over 400 lines: the unique claims, the repair of claims an interrupted registration left,
//! and the registration that takes them are one protocol, read together.)

use aggregates::claim::{Claim, ClaimCommand, ClaimError, ClaimKind};
use aggregates::session::{Session, SessionCommand, SessionError};
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};
use rand::Rng;
use uuid::Uuid;

use crate::auth::TokenPair;
use crate::state::AppState;
use crate::store::{CommandContext, CommandError, Commit};

pub use super::Error as IdentityError;

/// A key taken longer ago than twice the longest request (`HUMIT_REQUEST_TIMEOUT_MS`) by
/// someone who never became a user is an orphan: the registration that took it was cut off
/// (an outage between its commands, with the store still down when it tried to give the key
/// back), and no request still running can finish it.
fn orphan_after(state: &AppState) -> chrono::Duration {
    chrono::Duration::milliseconds(2 * state.config.request_timeout_ms as i64)
}

/// Takes the unique key `value` of `kind` for `owner`. `Ok(false)` when someone else has it.
/// An orphaned key (see [`orphan_after`]) is given back on its owner's behalf and taken.
///
/// Claims are taken under the keyed id only. A claim stored before ids were keyed (a bare
/// SHA-256 id) is never taken again, only read and released, so once the keyed claim is
/// held, an older owner of the legacy id is the one thing left to check: exactly one of any
/// number of racers holds the keyed claim, and it gives it back if the legacy id has another
/// owner.
///
/// # Errors
/// Store failures.
pub async fn claim(
    state: &AppState,
    kind: ClaimKind,
    value: &str,
    owner: &str,
    ctx: &CommandContext,
) -> Result<bool, IdentityError> {
    let id = kind.claim_id(&state.claim_key, value);
    let take = || ClaimCommand::Take {
        owner: owner.to_string(),
        now: chrono::Utc::now(),
    };
    match state.commands.execute::<Claim>(&id, take(), ctx).await {
        Ok(_) => {}
        Err(CommandError::Rejected(ClaimError::Taken)) => {
            let current: Claim = state.commands.load(&id).await?;
            if !orphaned(state, &current).await? {
                return Ok(false);
            }
            let holder = current.owner().unwrap_or_default();
            tracing::warn!(claim = %id, holder, "releasing a key an interrupted registration left");
            release(state, kind, value, holder, ctx).await;
            match state.commands.execute::<Claim>(&id, take(), ctx).await {
                Ok(_) => {}
                Err(CommandError::Rejected(ClaimError::Taken) | CommandError::Conflict) => {
                    return Ok(false)
                }
                Err(e) => {
                    return Err(IdentityError::from_command(e, |e| {
                        IdentityError::Store(e.to_string())
                    }))
                }
            }
        }
        Err(e) => {
            return Err(IdentityError::from_command(e, |e| {
                IdentityError::Store(e.to_string())
            }))
        }
    }
    // Held under the keyed id: a bare-hash claim stored before keeps its owner.
    let Some(legacy_id) = kind.legacy_claim_id(value) else {
        return Ok(true);
    };
    let legacy = match state.commands.load::<Claim>(&legacy_id).await {
        Ok(legacy) => legacy,
        Err(e) => {
            release_id(state, &id, owner, ctx).await;
            return Err(e.into());
        }
    };
    match legacy.owner() {
        Some(holder) if holder != owner => match orphaned(state, &legacy).await {
            Ok(true) => {
                tracing::warn!(claim = %legacy_id, holder, "releasing a key an interrupted registration left");
                release_id(state, &legacy_id, holder, ctx).await;
                Ok(true)
            }
            Ok(false) => {
                release_id(state, &id, owner, ctx).await;
                Ok(false)
            }
            Err(e) => {
                release_id(state, &id, owner, ctx).await;
                Err(e)
            }
        },
        _ => Ok(true),
    }
}

/// Whether `claim` is held by someone who never became a user, for longer than
/// [`orphan_after`].
async fn orphaned(state: &AppState, claim: &Claim) -> Result<bool, IdentityError> {
    let (Some(holder), Some(at)) = (claim.owner(), claim.taken_at()) else {
        return Ok(false);
    };
    Ok(chrono::Utc::now() - at > orphan_after(state)
        && load_user(state, holder).await?.id().is_none())
}

/// Gives the key back (only its owner can; otherwise nothing happens), under its keyed id
/// and its legacy id.
pub async fn release(
    state: &AppState,
    kind: ClaimKind,
    value: &str,
    owner: &str,
    ctx: &CommandContext,
) {
    release_id(state, &kind.claim_id(&state.claim_key, value), owner, ctx).await;
    if let Some(legacy) = kind.legacy_claim_id(value) {
        release_id(state, &legacy, owner, ctx).await;
    }
}

async fn release_id(state: &AppState, id: &str, owner: &str, ctx: &CommandContext) {
    let command = ClaimCommand::Release {
        owner: owner.to_string(),
        now: chrono::Utc::now(),
    };
    if let Err(error) = state.commands.execute::<Claim>(id, command, ctx).await {
        tracing::error!(%error, claim = %id, "failed to release a claim");
    }
}

async fn legacy_owner(
    state: &AppState,
    kind: ClaimKind,
    value: &str,
) -> Result<Option<String>, IdentityError> {
    match kind.legacy_claim_id(value) {
        Some(id) => claim_owner(state, &id).await,
        None => Ok(None),
    }
}

/// Who holds claim `id` now, read from the write side.
async fn claim_owner(state: &AppState, id: &str) -> Result<Option<String>, IdentityError> {
    let claim: Claim = state.commands.load(id).await?;
    Ok(claim.owner().map(str::to_string))
}

/// The owner of a unique key, read from the write side (never stale): the owner of a claim
/// stored before ids were keyed if there is one (nobody else can take its keyed id), else
/// the keyed claim's.
///
/// # Errors
/// Store failures.
pub async fn owner_of(
    state: &AppState,
    kind: ClaimKind,
    value: &str,
) -> Result<Option<String>, IdentityError> {
    if let Some(owner) = legacy_owner(state, kind, value).await? {
        return Ok(Some(owner));
    }
    claim_owner(state, &kind.claim_id(&state.claim_key, value)).await
}

/// The owner of a unique key once their account is stored. Registering claims the keys
/// before it stores the user, so a request racing a sign-up of the same person can see the
/// claim a moment before the user exists: this waits (about 3 s at most) for it. `None`
/// when nobody holds the key (or the sign-up gave it back).
///
/// # Errors
/// Store failures.
pub async fn settled_owner(
    state: &AppState,
    kind: ClaimKind,
    value: &str,
) -> Result<Option<String>, IdentityError> {
    let mut attempt = 0u64;
    loop {
        attempt += 1;
        let Some(owner) = owner_of(state, kind, value).await? else {
            return Ok(None);
        };
        if attempt >= 25 || load_user(state, &owner).await?.id().is_some() {
            return Ok(Some(owner));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20 * attempt.min(8))).await;
    }
}

/// Loads a user's write-side state.
///
/// # Errors
/// Store failures.
pub async fn load_user(state: &AppState, user_id: &str) -> Result<User, IdentityError> {
    state
        .commands
        .load::<User>(user_id)
        .await
        .map_err(IdentityError::from)
}

/// Claims a fresh six-digit referral code for `owner`.
///
/// # Errors
/// Store failures.
pub async fn new_referral_code(
    state: &AppState,
    owner: &str,
    ctx: &CommandContext,
) -> Result<String, IdentityError> {
    loop {
        let code = format!("{:06}", rand::thread_rng().gen_range(100_000..1_000_000));
        if claim(state, ClaimKind::ReferralCode, &code, owner, ctx).await? {
            return Ok(code);
        }
    }
}

/// A person to register.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// The handle.
    pub username: String,
    /// Personal details (email optional).
    pub details: UserDetails,
    /// A password, for password accounts.
    pub password: Option<String>,
    /// A provider identity, for OAuth and Spotify accounts.
    pub identity: Option<ProviderIdentity>,
    /// Spotify access token, refresh token and country.
    pub spotify_tokens: Option<(String, String, Option<String>)>,
    /// The role.
    pub role: Role,
}

/// Registers a person: claims the handle, the email, the provider identity and a referral
/// code, then creates the `User`. Every claim taken is given back if a later step fails.
/// Answers the new user id and the position reached.
///
/// # Errors
/// [`IdentityError::UsernameTaken`], [`IdentityError::EmailTaken`],
/// [`IdentityError::IdentityTaken`], or a store failure.
pub async fn register(
    state: &AppState,
    new: NewUser,
    ctx: &CommandContext,
) -> Result<(String, Option<Commit>), IdentityError> {
    let user_id = Uuid::new_v4().simple().to_string();
    let mut taken: Vec<(ClaimKind, String)> = Vec::new();
    let result = async {
        if !claim(state, ClaimKind::Username, &new.username, &user_id, ctx).await? {
            return Err(IdentityError::UsernameTaken);
        }
        taken.push((ClaimKind::Username, new.username.clone()));
        if let Some(email) = new.details.email.as_deref().filter(|e| !e.is_empty()) {
            if !claim(state, ClaimKind::Email, email, &user_id, ctx).await? {
                return Err(IdentityError::EmailTaken);
            }
            taken.push((ClaimKind::Email, email.to_string()));
        }
        if let Some(identity) = &new.identity {
            let key = format!("{}/{}", identity.provider, identity.subject);
            if !claim(state, ClaimKind::Identity, &key, &user_id, ctx).await? {
                return Err(IdentityError::IdentityTaken);
            }
            taken.push((ClaimKind::Identity, key));
        }
        let code = new_referral_code(state, &user_id, ctx).await?;
        taken.push((ClaimKind::ReferralCode, code.clone()));
        let command = UserCommand::Register {
            user_id: user_id.clone(),
            username: new.username.clone(),
            details: new.details.clone(),
            referral_code: code,
            password: new.password.clone(),
            identity: new.identity.clone(),
            spotify_tokens: new.spotify_tokens.clone(),
            role: new.role,
            now: chrono::Utc::now(),
        };
        let position = state
            .commands
            .execute::<User>(&user_id, command, ctx)
            .await?;
        Ok(position)
    }
    .await;
    match result {
        Ok(position) => Ok((user_id, position)),
        Err(e) => {
            for (kind, value) in taken {
                release(state, kind, &value, &user_id, ctx).await;
            }
            Err(e)
        }
    }
}

/// Opens a session for a user a provider vouched for (or who just registered), and mints
/// its token pair for `audience`. The session is an aggregate of its own: opening it never
/// conflicts with anything else done to the person. Answers the pair and the commit.
///
/// # Errors
/// The person's refusal (disabled, missing) or a store failure.
pub async fn start_session(
    state: &AppState,
    user_id: &str,
    method: &str,
    audience: &str,
    ctx: &CommandContext,
) -> Result<(TokenPair, Option<Commit>), IdentityError> {
    load_user(state, user_id).await?.ensure_active()?;
    open_session(state, user_id, method, audience, ctx).await
}

async fn open_session(
    state: &AppState,
    user_id: &str,
    method: &str,
    audience: &str,
    ctx: &CommandContext,
) -> Result<(TokenPair, Option<Commit>), IdentityError> {
    let pair = state.tokens.pair(user_id, audience);
    let command = SessionCommand::Start {
        user_id: user_id.to_string(),
        method: method.to_string(),
        expires_at: pair.refresh_expires_at,
        now: chrono::Utc::now(),
    };
    let commit = state
        .commands
        .execute::<Session>(&pair.session_id, command, ctx)
        .await
        .map_err(|e| IdentityError::from_command(e, |e| IdentityError::Store(e.to_string())))?;
    Ok((pair, commit))
}

/// Logs in with a password: checks it against the person (a read, no write to their
/// stream) and opens a session.
///
/// # Errors
/// [`UserError::InvalidCredentials`] and store failures.
pub async fn log_in(
    state: &AppState,
    user_id: &str,
    password: &str,
    audience: &str,
    ctx: &CommandContext,
) -> Result<(TokenPair, Option<Commit>), IdentityError> {
    let user = load_user(state, user_id).await?;
    let services = state.commands.user_services();
    if let Err(refused) = user.check_login(password, services).await {
        // An account without a password (OAuth only) refuses without hashing: spend the
        // time of a verification, so the answer does not tell it apart.
        if !user.has_password() {
            state.hasher.verify_dummy(password).await;
        }
        return Err(refused.into());
    }
    open_session(state, user_id, "password", audience, ctx).await
}

/// Ends one session of `user_id`. Answers whether it was open (and so ended), and the commit.
///
/// # Errors
/// Store failures; a session of someone else is left alone (`Ok((false, None))`).
pub async fn end_session(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    ctx: &CommandContext,
) -> Result<(bool, Option<Commit>), IdentityError> {
    let command = SessionCommand::Revoke {
        user_id: user_id.to_string(),
        now: chrono::Utc::now(),
    };
    match state
        .commands
        .execute::<Session>(session_id, command, ctx)
        .await
    {
        Ok(commit) => Ok((commit.is_some(), commit)),
        Err(CommandError::Rejected(SessionError::NotOwner)) => Ok((false, None)),
        Err(CommandError::Rejected(SessionError::AlreadyExists)) => Ok((false, None)),
        Err(e) => Err(IdentityError::from_command(e, |e| {
            IdentityError::Store(e.to_string())
        })),
    }
}

/// Replaces a user's personal details. A new email is claimed first and the old one given
/// back once the details changed, so two accounts never share an address. Answers the
/// position reached.
///
/// # Errors
/// [`IdentityError::EmailTaken`], the aggregate's refusal, or a store failure.
pub async fn update_details(
    state: &AppState,
    user_id: &str,
    details: UserDetails,
    ctx: &CommandContext,
) -> Result<Option<Commit>, IdentityError> {
    let current = load_user(state, user_id).await?;
    if !current.exists() {
        return Err(IdentityError::User(UserError::NotFound));
    }
    let normalise = |e: Option<&str>| e.map(|e| e.trim().to_lowercase()).filter(|e| !e.is_empty());
    let old = current.details().email.clone();
    let old_key = normalise(old.as_deref());
    let new_key = normalise(details.email.as_deref());
    let new_email = details.email.clone().filter(|e| !e.trim().is_empty());
    let changed = old_key != new_key;
    if changed {
        if let Some(email) = &new_email {
            if !claim(state, ClaimKind::Email, email, user_id, ctx).await? {
                return Err(IdentityError::EmailTaken);
            }
        }
    }
    let command = UserCommand::UpdateDetails {
        details,
        now: chrono::Utc::now(),
    };
    match state.commands.execute::<User>(user_id, command, ctx).await {
        Ok(position) => {
            if changed {
                if let Some(old) = old.filter(|e| !e.trim().is_empty()) {
                    release(state, ClaimKind::Email, &old, user_id, ctx).await;
                }
            }
            Ok(position)
        }
        Err(e) => {
            if changed {
                if let Some(email) = &new_email {
                    release(state, ClaimKind::Email, email, user_id, ctx).await;
                }
            }
            Err(e.into())
        }
    }
}

/// Deletes a user for good: ends every session, removes the account, and gives back its
/// username, email and provider identities so that they can be used again. Answers the
/// position reached.
///
/// # Errors
/// The aggregate's refusal (missing) or a store failure.
pub async fn delete_user(
    state: &AppState,
    user_id: &str,
    ctx: &CommandContext,
) -> Result<Option<Commit>, IdentityError> {
    let user = load_user(state, user_id).await?;
    if !user.exists() {
        return Err(IdentityError::User(UserError::NotFound));
    }
    let mut claims: Vec<(ClaimKind, String)> = vec![(ClaimKind::Username, user.username().into())];
    if let Some(email) = user.details().email.as_deref().filter(|e| !e.is_empty()) {
        claims.push((ClaimKind::Email, email.to_string()));
    }
    for provider in user.providers() {
        if let Some(subject) = user.provider_subject(provider) {
            claims.push((ClaimKind::Identity, format!("{provider}/{subject}")));
        }
    }
    let position = state
        .commands
        .execute::<User>(
            user_id,
            UserCommand::Delete {
                now: chrono::Utc::now(),
            },
            ctx,
        )
        .await?;
    // Kept copies of mail to the person go too (the development outbox; SMTP keeps none).
    if let Some(email) = user.details().email.as_deref().filter(|e| !e.is_empty()) {
        if let Err(error) = state.mailer.forget(email).await {
            tracing::error!(%user_id, %error, "erasing the person's outbox mail failed");
        }
    }
    for (kind, value) in claims {
        release(state, kind, &value, user_id, ctx).await;
    }
    tracing::info!(%user_id, ?position, "user deleted");
    Ok(position)
}

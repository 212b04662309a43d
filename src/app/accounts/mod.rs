//! Accounts: sign-up, reading and changing details, roles and privileges, disabling and
//! deleting, the picture from a linked provider, and how a person can sign in.
//!
//! Who may do what: a user acts on their own account; staff act on others as far as their
//! `user` privileges go (`read`, `update`, `delete`), and only on normal users; a superuser
//! may do everything, and only a superuser may change another staff member or superuser.
//! Reads come from the `rm_users` read model; writes are commands on the `User` aggregate,
//! answered once the read model has them.
//!
//! [`access`] holds what decides how a person gets in and what they may do: roles and
//! privileges, the ways to sign in, the picture a linked provider gives.

mod access;

pub use access::{auth_modes, privileges, set_privileges, use_provider_picture, AuthModes};

use aggregates::claim::ClaimKind;
use aggregates::user::{Action, Role, UserCommand, UserDetails};

use super::identity::{self, NewUser};
use super::{checked, Caller, Checked, Error, Frozen};
use crate::state::AppState;
use crate::store::{CommandContext, Commit};

pub use projections::users::read::{Filter, FilterError, UserRow};

/// The model name of users in staff privileges.
pub const USER_MODEL: &str = "user";

/// Resolves `username` to the user `caller` may act on with `action`: themselves (when
/// `self_allowed`), or anyone when their privileges allow `action` on users. A caller
/// without the privilege learns nothing about other accounts (403 whether or not they exist).
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], store failures.
pub async fn target(
    state: &AppState,
    caller: &Caller,
    username: &str,
    action: Action,
    self_allowed: bool,
) -> Result<String, Error> {
    let owner = identity::owner_of(state, ClaimKind::Username, username).await?;
    let privileged = caller.principal.may(USER_MODEL, action);
    match owner {
        Some(id) if self_allowed && id == caller.id() => Ok(id),
        Some(id) if privileged => Ok(id),
        None if privileged => Err(Error::NotFound),
        _ => Err(Error::Forbidden),
    }
}

/// Refuses when a non-superuser changes another account that is not a normal user: staff
/// may change, disable or delete normal users only; another staff member's or a superuser's
/// email, state or account takes a superuser. The role is read from the write side (never
/// stale).
pub(super) async fn guard_rank(
    state: &AppState,
    caller: &Caller,
    user_id: &str,
) -> Result<(), Error> {
    if caller.id() == user_id || caller.principal.role == Role::Superuser {
        return Ok(());
    }
    let user = identity::load_user(state, user_id).await?;
    if user.role() != Role::Normal {
        tracing::info!(caller = %caller.id(), target = %user_id, "staff may not change staff");
        return Err(Error::Forbidden);
    }
    Ok(())
}

/// The read-model row of `user_id`, waiting (bounded) for the projection to reach `commit`.
pub(super) async fn row_after(
    state: &AppState,
    user_id: &str,
    commit: Option<Commit>,
) -> Result<Option<UserRow>, Error> {
    state.wait_for(commit, &["users"]).await;
    Ok(projections::users::read::by_id(&state.read_pool, user_id).await?)
}

/// The row of `user_id` now.
pub(super) async fn row(state: &AppState, user_id: &str) -> Result<UserRow, Error> {
    projections::users::read::by_id(&state.read_pool, user_id)
        .await?
        .ok_or(Error::NotFound)
}

/// One page of users.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// The 1-based page.
    pub current: u64,
    /// How many pages (at least 1).
    pub pages: u64,
    /// The users on it.
    pub rows: Vec<UserRow>,
}

/// Lists users, staff who may read users only: `limit` per page, the 1-based `page` (`None`
/// for the first; `Some(0)` for one that does not parse), matching every filter.
///
/// # Errors
/// [`Error::Forbidden`], the edge's [`Error::Invalid`], [`Error::NoSuchPage`], read failures.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filters: Checked<Vec<Filter>>,
    limit: u64,
    page: Option<u64>,
) -> Result<UserPage, Error> {
    if !caller.principal.may(USER_MODEL, Action::Read) {
        return Err(Error::Forbidden);
    }
    let filters = checked(filters)?;
    let total = projections::users::read::count(&state.read_pool, &filters).await?;
    let total = u64::try_from(total).unwrap_or_default();
    let pages = total.div_ceil(limit).max(1);
    let current = match page {
        None => 1,
        Some(n) if (1..=pages).contains(&n) => n,
        Some(_) => {
            return Err(Error::NoSuchPage {
                page_size: limit,
                pages,
            })
        }
    };
    let offset = (current - 1) * limit;
    let rows = projections::users::read::page(
        &state.read_pool,
        &filters,
        i64::try_from(limit).unwrap_or(i64::MAX),
        i64::try_from(offset).unwrap_or(i64::MAX),
    )
    .await?;
    Ok(UserPage {
        current,
        pages,
        rows,
    })
}

/// Registers a password account (a normal user). Answers the user id and their row, `None`
/// when the read model is late beyond the wait.
///
/// # Errors
/// Taken username or email, store failures.
pub async fn sign_up(
    state: &AppState,
    username: String,
    details: UserDetails,
    password: String,
    ctx: &CommandContext,
) -> Result<(String, Option<UserRow>), Error> {
    let new = NewUser {
        username,
        details,
        password: Some(password),
        identity: None,
        spotify_tokens: None,
        role: Role::Normal,
    };
    let (user_id, position) = identity::register(state, new, ctx).await?;
    tracing::info!(%user_id, ?position, "user created");
    state.sync_auth(position.clone()).await;
    let row = row_after(state, &user_id, position).await?;
    Ok((user_id, row))
}

/// One user: themselves, or anyone for staff who may read users.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], read failures.
pub async fn read(state: &AppState, caller: &Caller, username: &str) -> Result<UserRow, Error> {
    let user_id = target(state, caller, username, Action::Read, true).await?;
    row(state, &user_id).await
}

/// A change of personal details; fields left out keep their value.
#[derive(Debug, Clone, Default)]
pub struct DetailsChange {
    /// A username sent along (it may not change).
    pub username: Option<String>,
    /// A public id sent along (it may not change).
    pub public_id: Option<String>,
    /// Whether a password was sent (it changes elsewhere).
    pub password: bool,
    /// The new email, trimmed.
    pub email: Option<String>,
    /// The new first name.
    pub first_name: Option<String>,
    /// The new last name.
    pub last_name: Option<String>,
    /// The new phone number.
    pub phone_number: Option<String>,
    /// The new college.
    pub college_name: Option<String>,
    /// The new picture URL.
    pub profile_picture: Option<String>,
}

/// The account after a change of details.
#[derive(Debug, Clone)]
pub struct Updated {
    /// The user id.
    pub user_id: String,
    /// The username.
    pub username: String,
    /// The details now.
    pub details: UserDetails,
}

/// Updates personal details: the user themselves, or staff who may update users.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], the edge's [`Error::Invalid`],
/// [`Error::Frozen`], a taken email, store failures.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    username: &str,
    change: Checked<DetailsChange>,
) -> Result<Updated, Error> {
    let user_id = target(state, caller, username, Action::Update, true).await?;
    guard_rank(state, caller, &user_id).await?;
    let user = identity::load_user(state, &user_id).await?;
    if !user.exists() {
        return Err(Error::NotFound);
    }
    let change = checked(change)?;
    let mut frozen = Vec::new();
    if change
        .username
        .as_deref()
        .is_some_and(|u| u != user.username())
    {
        frozen.push(Frozen::Username);
    }
    if change.public_id.as_deref().is_some_and(|p| p != user_id) {
        frozen.push(Frozen::PublicId);
    }
    if change.password {
        frozen.push(Frozen::Password);
    }
    if !frozen.is_empty() {
        return Err(Error::Frozen(frozen));
    }
    let current = user.details().clone();
    let details = UserDetails {
        email: change.email.or(current.email),
        first_name: change.first_name.unwrap_or(current.first_name),
        last_name: change.last_name.unwrap_or(current.last_name),
        phone_number: change.phone_number.unwrap_or(current.phone_number),
        college_name: change.college_name.unwrap_or(current.college_name),
        profile_picture: change.profile_picture.unwrap_or(current.profile_picture),
    };
    let position = identity::update_details(state, &user_id, details.clone(), &caller.ctx).await?;
    state.wait_for(position, &["users"]).await;
    Ok(Updated {
        user_id,
        username: user.username().to_string(),
        details,
    })
}

/// Deletes a user for good (staff who may delete users). Their sessions end at once, their
/// row leaves every read model, and their username, email and identities become free.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], store failures.
pub async fn delete(state: &AppState, caller: &Caller, username: &str) -> Result<(), Error> {
    let user_id = target(state, caller, username, Action::Delete, false).await?;
    guard_rank(state, caller, &user_id).await?;
    let position = identity::delete_user(state, &user_id, &caller.ctx).await?;
    super::user_settled(state, position).await;
    Ok(())
}

/// Disables an account: no login, no action, every token dead at once. A user may disable
/// themselves; staff who may update users may disable others.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], store failures.
pub async fn disable(state: &AppState, caller: &Caller, username: &str) -> Result<(), Error> {
    let user_id = target(state, caller, username, Action::Update, true).await?;
    guard_rank(state, caller, &user_id).await?;
    let command = UserCommand::Disable {
        now: chrono::Utc::now(),
    };
    let position = caller.run(state, &user_id, command).await?;
    tracing::info!(%user_id, ?position, "user disabled");
    super::user_settled(state, position).await;
    Ok(())
}

//! What decides how a person gets in and what they may do: their role and privileges (set by
//! a superuser, in effect at once on their tokens), the ways they can sign in, and the
//! picture a linked provider gives them.

use aggregates::claim::ClaimKind;
use aggregates::user::{Action, Privileges, Role, UserCommand};

use super::{guard_rank, row, row_after, target, UserRow};
use crate::adapters::oauth::Provider;
use crate::app::{checked, identity, Caller, Checked, Error};
use crate::state::AppState;

/// Takes the profile picture from a linked OAuth provider (`None`: the first linked one).
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], the edge's [`Error::Invalid`], the aggregate's
/// refusal (no such link, no picture), store failures.
pub async fn use_provider_picture(
    state: &AppState,
    caller: &Caller,
    username: &str,
    provider: Checked<Option<Provider>>,
) -> Result<(), Error> {
    let user_id = target(state, caller, username, Action::Update, true).await?;
    guard_rank(state, caller, &user_id).await?;
    let provider = checked(provider)?.map(|p| p.name().to_string());
    let command = UserCommand::UseProviderPicture {
        provider,
        now: chrono::Utc::now(),
    };
    let position = caller.run(state, &user_id, command).await?;
    state.wait_for(position, &["users"]).await;
    Ok(())
}

/// How a user can sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthModes {
    /// Whether the account has a password.
    pub password: bool,
    /// The linked providers: the known ones in their order, then any other, by name.
    pub o_auth: Vec<String>,
}

/// How a user can sign in: for whoever may read the user ([`super::read`]).
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], read failures.
pub async fn auth_modes(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<AuthModes, Error> {
    let row = super::read(state, caller, username).await?;
    let linked: Vec<String> = row
        .providers
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    // The providers in the API's order, then any other, by name.
    let mut o_auth: Vec<String> = Provider::ALL
        .iter()
        .map(|p| p.name().to_string())
        .filter(|p| linked.contains(p))
        .collect();
    let mut others: Vec<String> = linked
        .into_iter()
        .filter(|p| Provider::parse(p).is_none())
        .collect();
    others.sort();
    o_auth.extend(others);
    Ok(AuthModes {
        password: row.has_password,
        o_auth,
    })
}

/// An account's row, for its state and privileges; staff who may read users only.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], read failures.
pub async fn privileges(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> Result<UserRow, Error> {
    let user_id = target(state, caller, username, Action::Read, false).await?;
    row(state, &user_id).await
}

/// Makes someone staff with per-model privileges, a superuser, or normal again; superusers
/// only, and not on their own account. Takes effect at once on the person's tokens. Answers
/// their row afterwards.
///
/// # Errors
/// [`Error::Forbidden`], [`Error::NotFound`], the edge's [`Error::Invalid`],
/// [`Error::OwnPrivileges`], store failures.
pub async fn set_privileges(
    state: &AppState,
    caller: &Caller,
    username: &str,
    change: Checked<(Role, Privileges)>,
) -> Result<UserRow, Error> {
    if caller.principal.role != Role::Superuser {
        return Err(Error::Forbidden);
    }
    let user_id = identity::owner_of(state, ClaimKind::Username, username)
        .await?
        .ok_or(Error::NotFound)?;
    let (role, privileges) = checked(change)?;
    if user_id == caller.id() {
        return Err(Error::OwnPrivileges);
    }
    let command = UserCommand::SetRole {
        role,
        privileges,
        now: chrono::Utc::now(),
    };
    let position = caller.run(state, &user_id, command).await?;
    tracing::info!(%user_id, ?role, ?position, "privileges changed");
    state.sync_auth(position.clone()).await;
    row_after(state, &user_id, position)
        .await?
        .ok_or(Error::NotFound)
}

//! `humit create-superuser --username U --email E --password P`: creates a superuser through
//! the same use case as the API's sign-up (claims, then the `User` aggregate), with the
//! system as the actor. The password may come from `HUMIT_SUPERUSER_PASSWORD` instead, so it
//! stays out of the shell history. The first superuser then grants roles over the API
//! (`PUT /users/<username>/privileges`).

use aggregates::user::{Role, UserDetails};
use anyhow::Context;

use crate::config::Config;
use crate::http::techfesia::validate;
use crate::identity::{self, IdentityError, NewUser};
use crate::state::AppState;
use crate::store::CommandContext;

/// Builds the services (no HTTP, no workers) and creates the superuser.
///
/// # Errors
/// Invalid input, a taken username or email, or an unreachable database.
pub async fn run(
    config: Config,
    username: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let app = super::offline(config).await?;
    let user_id = create(app.state(), username, email, password).await?;
    println!("superuser {} created (publicId {user_id})", username.trim());
    Ok(())
}

/// Creates a superuser; answers its user id.
///
/// # Errors
/// Invalid input, a taken username or email, or a store failure.
pub async fn create(
    state: &AppState,
    username: &str,
    email: &str,
    password: &str,
) -> anyhow::Result<String> {
    let username = username.trim();
    let email = email.trim();
    validate::username(username).map_err(|m| anyhow::anyhow!("invalid username: {m}"))?;
    validate::email(email).map_err(|m| anyhow::anyhow!("invalid email: {m}"))?;
    validate::password(password).map_err(|m| anyhow::anyhow!("invalid password: {m}"))?;
    let new = NewUser {
        username: username.to_string(),
        details: UserDetails {
            email: Some(email.to_string()),
            ..UserDetails::default()
        },
        password: Some(password.to_string()),
        identity: None,
        spotify_tokens: None,
        role: Role::Superuser,
    };
    let (user_id, position) = match identity::register(state, new, &CommandContext::system()).await
    {
        Ok(created) => created,
        Err(IdentityError::UsernameTaken) => anyhow::bail!("the username {username} is taken"),
        Err(IdentityError::EmailTaken) => anyhow::bail!("the email {email} is taken"),
        Err(e) => return Err(e).context("failed to create the superuser"),
    };
    tracing::info!(%user_id, ?position, "superuser created");
    Ok(user_id)
}

//! `/auth/o-auth/<provider>/`: sign in with a provider's access token (creating the account
//! or signing into the one linked to that identity), or link it when a bearer token is sent.
//! An email match alone never links accounts.

use aggregates::claim::ClaimKind;
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};

use super::dto::{
    present, DetailDto, FieldErrorsDto, OAuthRequest, OAuthTokenPairDto, RequiredDto,
};
use super::extract::{anonymous, Caller, MaybeCaller};
use super::{validate, Json, TfError};
use crate::adapters::oauth::{OAuthError, Provider, ProviderProfile};
use crate::auth::jwt;
use crate::identity::{self, IdentityError, NewUser};
use crate::state::AppState;
use crate::store::CommandContext;
use crate::store::Commit;

fn oauth_error(provider: Provider, e: &OAuthError) -> TfError {
    match e {
        OAuthError::Rejected => TfError::raw(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({
                "detail": format!("The {} access token is invalid or expired.", provider.name()),
                "code": "token_not_valid",
            }),
        ),
        OAuthError::Unavailable(cause) | OAuthError::Malformed(cause) => {
            tracing::warn!(provider = provider.name(), %cause, "o-auth provider failed");
            TfError::detail(
                StatusCode::BAD_GATEWAY,
                format!(
                    "{} could not confirm the sign-in; try again later.",
                    provider.name()
                ),
            )
        }
    }
}

/// A username from the provider's hint: allowed characters only, at most 30 of them.
fn username_base(profile: &ProviderProfile) -> String {
    let hint = profile.handle_hint.clone().unwrap_or_default();
    let base: String = hint
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(30)
        .collect();
    if base.is_empty() {
        profile.provider.name().to_string()
    } else {
        base
    }
}

/// Creates an account for a new provider identity. The email is kept only when nobody has
/// it: an email match never links accounts. Answers the user id, username and position.
async fn register_identity(
    state: &AppState,
    profile: &ProviderProfile,
    ctx: &CommandContext,
) -> Result<(String, String, Option<Commit>), IdentityError> {
    let base = username_base(profile);
    let mut email = profile.email.clone().filter(|e| validate::email(e).is_ok());
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let username = match attempt {
            1 => base.clone(),
            2..=8 => format!("{base}_{:04}", rand::random::<u16>() % 10_000),
            _ => format!(
                "{}_{}",
                profile.provider.name(),
                uuid::Uuid::new_v4().simple()
            ),
        };
        let new = NewUser {
            username: username.clone(),
            details: UserDetails {
                email: email.clone(),
                first_name: profile.first_name.clone(),
                last_name: profile.last_name.clone(),
                profile_picture: profile.picture_url.clone().unwrap_or_default(),
                ..UserDetails::default()
            },
            password: None,
            identity: Some(ProviderIdentity {
                provider: profile.provider.name().to_string(),
                subject: profile.subject.clone(),
                picture_url: profile.picture_url.clone(),
            }),
            spotify_tokens: None,
            role: Role::Normal,
        };
        match identity::register(state, new, ctx).await {
            Ok((user_id, position)) => return Ok((user_id, username, position)),
            Err(IdentityError::UsernameTaken) if attempt < 10 => continue,
            Err(IdentityError::EmailTaken) => {
                email = None;
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Links `profile`'s identity to `user_id` (claiming it first when new), refreshing the
/// stored picture when it is linked already.
async fn link(
    state: &AppState,
    user_id: &str,
    profile: &ProviderProfile,
    newly_claimed: bool,
    ctx: &CommandContext,
) -> Result<Option<Commit>, TfError> {
    let key = format!("{}/{}", profile.provider.name(), profile.subject);
    let command = UserCommand::LinkProvider {
        identity: ProviderIdentity {
            provider: profile.provider.name().to_string(),
            subject: profile.subject.clone(),
            picture_url: profile.picture_url.clone(),
        },
        now: chrono::Utc::now(),
    };
    match state.commands.execute::<User>(user_id, command, ctx).await {
        Ok(position) => Ok(position),
        Err(e) => {
            if newly_claimed {
                identity::release(state, ClaimKind::Identity, &key, user_id, ctx).await;
            }
            Err(e.into())
        }
    }
}

/// Signs in with an OAuth provider's access token: the server asks the provider who it
/// belongs to, then signs into the account linked to that identity, or creates one. With a
/// valid `Authorization: Bearer`, links the identity to the caller's account instead.
#[utoipa::path(
    post, path = "/auth/o-auth/{provider}/", tag = "auth",
    params(("provider" = String, Path, description = "google, github, facebook or spotify")),
    request_body = OAuthRequest,
    responses(
        (status = 200, body = OAuthTokenPairDto),
        (status = 400, description = "Missing field", body = RequiredDto),
        (status = 401, description = "The provider refused the token, or the account is disabled", body = DetailDto),
        (status = 404, description = "Unknown provider", body = DetailDto),
        (status = 422, description = "Identity linked to another account", body = FieldErrorsDto),
        (status = 502, description = "The provider failed", body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(provider = %provider))]
pub async fn oauth(
    State(state): State<AppState>,
    headers: HeaderMap,
    MaybeCaller(caller): MaybeCaller,
    Path(provider): Path<String>,
    Json(body): Json<OAuthRequest>,
) -> Result<axum::Json<OAuthTokenPairDto>, TfError> {
    let provider = Provider::parse(&provider.to_lowercase()).ok_or_else(TfError::not_found)?;
    let Some(token) = present(&body.access_token) else {
        return Err(TfError::required(&["accessToken"]));
    };
    let profile = state
        .oauth
        .userinfo(provider, token.trim())
        .await
        .map_err(|e| oauth_error(provider, &e))?;
    let key = format!("{}/{}", provider.name(), profile.subject);
    let owner = identity::settled_owner(&state, ClaimKind::Identity, &key).await?;
    let ctx = caller
        .as_ref()
        .map_or_else(|| anonymous(&headers), Caller::ctx);
    let taken = || {
        TfError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "accessToken",
            &format!("This {} account is linked to another user", provider.name()),
        )
    };
    let user_id = match (&caller, owner) {
        // Linking to the signed-in account.
        (Some(caller), Some(owner)) if owner != caller.id() => return Err(taken()),
        (Some(caller), owner) => {
            let claimed_now = owner.is_none();
            if claimed_now
                && !identity::claim(&state, ClaimKind::Identity, &key, caller.id(), &ctx).await?
            {
                return Err(taken());
            }
            link(&state, caller.id(), &profile, claimed_now, &ctx).await?;
            tracing::info!(user_id = %caller.id(), "o-auth identity linked");
            caller.id().to_string()
        }
        // Signing into the linked account (the picture is refreshed on the way).
        (None, Some(owner)) => {
            // A disabled account answers like a wrong login: it reveals nothing.
            let user = identity::load_user(&state, &owner).await?;
            if !user.exists() || user.is_disabled() {
                return Err(TfError::bad_credentials());
            }
            link(&state, &owner, &profile, false, &ctx).await?;
            owner
        }
        // A new identity: a new account.
        (None, None) => match register_identity(&state, &profile, &ctx).await {
            Ok((user_id, username, _)) => {
                tracing::info!(%user_id, %username, "account created from o-auth");
                user_id
            }
            Err(IdentityError::IdentityTaken) => {
                // Someone signed in with the same identity at the same moment.
                identity::settled_owner(&state, ClaimKind::Identity, &key)
                    .await?
                    .ok_or_else(|| TfError::internal("identity claim vanished"))?
            }
            Err(e) => return Err(e.into()),
        },
    };
    let (pair, position) = match identity::start_session(
        &state,
        &user_id,
        provider.name(),
        jwt::TECHFESIA,
        &ctx,
    )
    .await
    {
        Ok(result) => result,
        Err(IdentityError::User(UserError::Disabled | UserError::NotFound)) => {
            return Err(TfError::bad_credentials())
        }
        Err(e) => return Err(e.into()),
    };
    state.sync_auth(position.clone()).await;
    state.wait_for(position, &["users"]).await;
    let user = identity::load_user(&state, &user_id).await?;
    Ok(axum::Json(OAuthTokenPairDto {
        access: pair.access,
        refresh: pair.refresh,
        username: user.username().to_string(),
    }))
}

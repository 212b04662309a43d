//! `/auth/...`: token pairs (obtain, refresh, revoke one or all), OAuth sign-in and linking
//! (`/auth/o-auth/<provider>/`), and password reset requests (`/auth/password/reset/`).
//!
//! The token endpoints answer like SimpleJWT did (`{"detail": ...}`, `{field: [...]}`), which
//! is what clients of the original API know. Every revocation is in force before the answer
//! goes out (`sync_auth`).

use aggregates::claim::ClaimKind;
use aggregates::user::{ProviderIdentity, Role, User, UserCommand, UserDetails, UserError};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use rand::RngCore;

use super::dto::{
    present, AccessDto, DetailDto, FieldErrorsDto, LoginRequest, MessageDto, OAuthRequest,
    OAuthTokenPairDto, RefreshRequest, RequiredDto, ResetRequest, RevokeManyRequest,
    RevokeOneRequest, TokenPairDto, TokensDeletedDto,
};
use super::extract::{anonymous, Caller, ClientIp, MaybeCaller, OptionalJson};
use super::passwords::token_hash;
use super::{validate, Json, TfError};
use crate::adapters::mail::Mail;
use crate::adapters::oauth::{OAuthError, Provider, ProviderProfile};
use crate::auth::{jwt, Claims, TokenKind};
use crate::identity::{self, IdentityError, NewUser};
use crate::state::AppState;
use crate::store::{CommandContext, CommandError};

/// The `/auth` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/auth/token",
            post(obtain).delete(revoke_many).put(revoke_one),
        )
        .route("/auth/token/refresh", post(refresh))
        .route("/auth/o-auth/{provider}", post(oauth))
        .route("/auth/password/reset", post(request_reset))
}

/// The answer to every reset request, whether or not an account matched.
pub const RESET_ACCEPTED: &str =
    "If an account matches, a password reset link has been sent to its email address.";

/// Exchanges a username and password for a token pair (users, staff and superusers alike).
/// An unknown user, a wrong password and a disabled account get the same answer, in the
/// same time; repeated failures are throttled per account and per client.
#[utoipa::path(
    post, path = "/auth/token/", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPairDto),
        (status = 400, description = "Missing field", body = RequiredDto),
        (status = 401, body = DetailDto),
        (status = 429, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(%ip))]
pub async fn obtain(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Json(body): Json<LoginRequest>,
) -> Result<axum::Json<TokenPairDto>, TfError> {
    let missing: Vec<&str> = [("username", &body.username), ("password", &body.password)]
        .into_iter()
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(name, _)| name)
        .collect();
    if !missing.is_empty() {
        return Err(TfError::required(&missing));
    }
    let username = body.username.unwrap_or_default();
    let password = body.password.unwrap_or_default();
    let account = username.trim().to_lowercase();
    state
        .limiter
        .check(&account, ip)
        .map_err(TfError::throttled)?;
    let ctx = anonymous(&headers);
    let Some(user_id) = identity::owner_of(&state, ClaimKind::Username, &username).await? else {
        // Spend the time of a real verification: an unknown name must look like a wrong password.
        state.hasher.verify_dummy(&password).await;
        state.limiter.failed(&account, ip);
        tracing::info!("login refused");
        return Err(TfError::bad_credentials());
    };
    match identity::log_in(&state, &user_id, &password, jwt::TECHFESIA, &ctx).await {
        Ok((pair, position)) => {
            state.limiter.succeeded(&account, ip);
            tracing::info!(%user_id, "signed in");
            state.sync_auth(position).await;
            state.wait_for(position, &["users"]).await;
            Ok(axum::Json(TokenPairDto {
                access: pair.access,
                refresh: pair.refresh,
            }))
        }
        Err(IdentityError::User(UserError::InvalidCredentials | UserError::NotFound)) => {
            state.limiter.failed(&account, ip);
            tracing::info!(%user_id, "login refused");
            Err(TfError::bad_credentials())
        }
        Err(e) => Err(e.into()),
    }
}

/// Mints a new access token from a refresh token whose session is still open.
#[utoipa::path(
    post, path = "/auth/token/refresh/", tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = AccessDto),
        (status = 400, description = "Missing field", body = RequiredDto),
        (status = 401, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<axum::Json<AccessDto>, TfError> {
    let Some(token) = body.refresh.as_deref().filter(|t| !t.is_empty()) else {
        return Err(TfError::required(&["refresh"]));
    };
    let claims = state
        .tokens
        .verify(token, TokenKind::Refresh, jwt::TECHFESIA)
        .map_err(|_| TfError::refresh_invalid())?;
    let principal = state
        .registry
        .authenticate(&claims)
        .map_err(|_| TfError::refresh_invalid())?;
    let access = state
        .tokens
        .access(&principal.user_id, &principal.session_id, jwt::TECHFESIA);
    Ok(axum::Json(AccessDto { access }))
}

/// Reads a token the caller hands in to revoke: a refresh token, or an access token (both
/// name their session).
fn revocable(state: &AppState, token: &str) -> Option<Claims> {
    state
        .tokens
        .verify(token, TokenKind::Refresh, jwt::TECHFESIA)
        .or_else(|_| {
            state
                .tokens
                .verify(token, TokenKind::Access, jwt::TECHFESIA)
        })
        .ok()
}

/// Ends one session of `user_id`; answers whether it was open, and the position reached.
async fn revoke_session(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    ctx: &CommandContext,
) -> Result<(bool, Option<i64>), TfError> {
    let command = UserCommand::RevokeSession {
        session_id: session_id.to_string(),
        now: chrono::Utc::now(),
    };
    let position = state
        .commands
        .execute::<User>(user_id, command, ctx)
        .await?;
    Ok((position.is_some(), position))
}

/// Signs out: revokes the refresh tokens in the body (`{"tokens": [...]}`, `{"token"}` or
/// `{"refresh"}`), or, without a body, every session of the caller (sign out everywhere).
#[utoipa::path(
    delete, path = "/auth/token/", tag = "auth",
    request_body(content = Option<RevokeManyRequest>, description = "Optional: the tokens to revoke; without a body, all of the caller's"),
    security(("bearer" = [])),
    responses(
        (status = 200, body = TokensDeletedDto),
        (status = 401, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn revoke_many(
    State(state): State<AppState>,
    caller: Caller,
    OptionalJson(body): OptionalJson<RevokeManyRequest>,
) -> Result<axum::Json<TokensDeletedDto>, TfError> {
    let tokens: Vec<String> = body
        .map(|b| {
            let mut tokens = b.tokens.unwrap_or_default();
            tokens.extend(b.token);
            tokens.extend(b.refresh);
            tokens
        })
        .unwrap_or_default();
    let ctx = caller.ctx();
    let (deleted, position) = if tokens.is_empty() {
        let user = identity::load_user(&state, caller.id()).await?;
        let now = chrono::Utc::now();
        let open = user
            .open_sessions()
            .filter(|sid| user.session_open(sid, now))
            .count();
        let command = UserCommand::RevokeAllSessions { now };
        let position = state
            .commands
            .execute::<User>(caller.id(), command, &ctx)
            .await?;
        (open, position)
    } else {
        let mut deleted = 0;
        let mut last = None;
        for token in tokens.iter().take(100) {
            // Only the caller's own tokens; anything else is not theirs to end.
            let Some(claims) = revocable(&state, token).filter(|c| c.sub == caller.id()) else {
                continue;
            };
            let (ended, position) = revoke_session(&state, caller.id(), &claims.sid, &ctx).await?;
            deleted += usize::from(ended);
            last = position.or(last);
        }
        (deleted, last)
    };
    tracing::info!(user_id = %caller.id(), deleted, "sessions revoked");
    state.sync_auth(position).await;
    Ok(axum::Json(TokensDeletedDto {
        tokens_deleted: deleted,
    }))
}

/// Signs out one device: revokes the session of the token in the body.
#[utoipa::path(
    put, path = "/auth/token/", tag = "auth",
    request_body = RevokeOneRequest,
    security(("bearer" = [])),
    responses(
        (status = 200, body = TokensDeletedDto),
        (status = 400, description = "Missing field", body = RequiredDto),
        (status = 401, body = DetailDto), (status = 403, body = DetailDto),
    )
)]
#[tracing::instrument(skip_all, fields(caller = %caller.id()))]
pub async fn revoke_one(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RevokeOneRequest>,
) -> Result<axum::Json<TokensDeletedDto>, TfError> {
    let Some(token) = body.token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(TfError::required(&["token"]));
    };
    let claims = revocable(&state, token).ok_or_else(TfError::refresh_invalid)?;
    if claims.sub != caller.id() {
        return Err(TfError::forbidden());
    }
    let (ended, position) = revoke_session(&state, caller.id(), &claims.sid, &caller.ctx()).await?;
    tracing::info!(user_id = %caller.id(), ended, "session revoked");
    state.sync_auth(position).await;
    Ok(axum::Json(TokensDeletedDto {
        tokens_deleted: usize::from(ended),
    }))
}

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
) -> Result<(String, String, Option<i64>), IdentityError> {
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
) -> Result<Option<i64>, TfError> {
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
    state.sync_auth(position).await;
    state.wait_for(position, &["users"]).await;
    let user = identity::load_user(&state, &user_id).await?;
    Ok(axum::Json(OAuthTokenPairDto {
        access: pair.access,
        refresh: pair.refresh,
        username: user.username().to_string(),
    }))
}

/// A new reset token: 32 random bytes, base64url.
fn new_reset_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Records a reset token for the account `email` or `username` names and mails the link.
/// Runs detached from the request, so that the answer takes the same time whether or not
/// the account exists.
async fn send_reset(
    state: AppState,
    email: Option<String>,
    username: Option<String>,
    ctx: CommandContext,
) {
    let owner = match (&email, &username) {
        (Some(email), _) => identity::owner_of(&state, ClaimKind::Email, email).await,
        (None, Some(username)) => identity::owner_of(&state, ClaimKind::Username, username).await,
        (None, None) => return,
    };
    let user_id = match owner {
        Ok(Some(id)) => id,
        Ok(None) => {
            tracing::info!("password reset asked for no account");
            return;
        }
        Err(error) => {
            tracing::error!(%error, "password reset lookup failed");
            return;
        }
    };
    let user = match identity::load_user(&state, &user_id).await {
        Ok(user) if user.exists() && !user.is_disabled() => user,
        Ok(_) => return,
        Err(error) => {
            tracing::error!(%error, %user_id, "password reset: loading the user failed");
            return;
        }
    };
    let Some(to) = user.details().email.clone().filter(|e| !e.is_empty()) else {
        tracing::info!(%user_id, "password reset asked for an account without email");
        return;
    };
    let token = new_reset_token();
    let command = UserCommand::RequestPasswordReset {
        token_hash: token_hash(&token),
        now: chrono::Utc::now(),
    };
    match state
        .commands
        .execute::<User>(&user_id, command, &ctx)
        .await
    {
        Ok(_) => {}
        Err(CommandError::Rejected(e)) => {
            tracing::info!(%user_id, error = %e, "password reset refused");
            return;
        }
        Err(error) => {
            tracing::error!(%user_id, %error, "password reset could not be stored");
            return;
        }
    }
    let username = user.username();
    let link = format!(
        "{}/users/{}/password/?resetToken={}",
        state.public_url,
        url::form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>(),
        token
    );
    let body = format!(
        "Hello {username},\n\n\
         Someone asked to reset the password of your account. To choose a new password, open\n\
         this link within {} minutes:\n\n{link}\n\n\
         Or send PATCH /users/{username}/password/ with\n\
         {{\"resetToken\": \"{token}\", \"newPassword\": \"...\"}}\n\n\
         If you did not ask for this, ignore this mail: your password stays as it is.\n",
        aggregates::user::RESET_TOKEN_TTL_MINUTES,
    );
    let mail = Mail {
        to,
        subject: "Reset your password".into(),
        body,
    };
    match state.mailer.send(mail).await {
        Ok(()) => tracing::info!(%user_id, "password reset mail sent"),
        Err(error) => tracing::error!(%user_id, %error, "password reset mail failed"),
    }
}

/// Asks for a password reset mail, by `email` or `username`. Always 202 with the same body,
/// whether or not an account matches; the mail carries a link with `resetToken=<token>`,
/// valid once for 30 minutes. At most three mails per account and client per 15 minutes.
#[utoipa::path(
    post, path = "/auth/password/reset/", tag = "passwords",
    request_body = ResetRequest,
    responses(
        (status = 202, body = MessageDto),
        (status = 400, description = "Neither email nor username", body = FieldErrorsDto),
    )
)]
#[tracing::instrument(skip_all)]
pub async fn request_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Json(body): Json<ResetRequest>,
) -> Result<(StatusCode, axum::Json<MessageDto>), TfError> {
    let email = present(&body.email).map(|e| e.trim().to_string());
    let username = present(&body.username).map(|u| u.trim().to_string());
    if email.is_none() && username.is_none() {
        return Err(TfError::field(
            StatusCode::BAD_REQUEST,
            "email",
            "missing required field (or give username)",
        ));
    }
    // Bounded per account and client; past the bound nothing is sent, and the answer is the
    // same, so it tells nothing either.
    let key = format!(
        "reset:{}",
        email
            .as_deref()
            .or(username.as_deref())
            .unwrap_or_default()
            .to_lowercase()
    );
    match state.reset_limiter.check(&key, ip) {
        Ok(()) => {
            state.reset_limiter.failed(&key, ip);
            tokio::spawn(send_reset(state, email, username, anonymous(&headers)));
        }
        Err(_) => tracing::info!("password reset mails throttled"),
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(MessageDto::new(RESET_ACCEPTED)),
    ))
}

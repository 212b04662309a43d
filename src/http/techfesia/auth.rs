//! `/auth/...`: token pairs (obtain, refresh, revoke one or all). The `/auth` router also
//! mounts OAuth sign-in (`oauth_signin.rs`) and password reset requests (`password_reset.rs`).
//!
//! The token endpoints answer like SimpleJWT did (`{"detail": ...}`, `{field: [...]}`), which
//! is what clients of the original API know. Every revocation is in force before the answer
//! goes out (`sync_auth`).

use aggregates::claim::ClaimKind;
use aggregates::user::{User, UserCommand, UserError};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;

use super::dto::{
    AccessDto, DetailDto, LoginRequest, RefreshRequest, RequiredDto, RevokeManyRequest,
    RevokeOneRequest, TokenPairDto, TokensDeletedDto,
};
use super::extract::{anonymous, Caller, ClientIp, OptionalJson};
use super::{Json, TfError};
use crate::auth::{jwt, Claims, TokenKind};
use crate::identity::{self, IdentityError};
use crate::state::AppState;
use crate::store::{CommandContext, Commit};

/// The `/auth` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/auth/token",
            post(obtain).delete(revoke_many).put(revoke_one),
        )
        .route("/auth/token/refresh", post(refresh))
        .route("/auth/o-auth/{provider}", post(super::oauth_signin::oauth))
        .route(
            "/auth/password/reset",
            post(super::password_reset::request_reset),
        )
}

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
    // The attempt is taken from the budget before any password is checked, so parallel
    // guesses cannot all pass while the first ones are still hashing. Unless it succeeds,
    // it counts as a failure once this request ends.
    let attempt = state
        .limiter
        .reserve(&account, ip)
        .await
        .map_err(TfError::throttled)?;
    let ctx = anonymous(&headers);
    let Some(user_id) = identity::owner_of(&state, ClaimKind::Username, &username).await? else {
        // Spend the time of a real verification: an unknown name must look like a wrong password.
        state.hasher.verify_dummy(&password).await;
        tracing::info!("login refused");
        return Err(TfError::bad_credentials());
    };
    match identity::log_in(&state, &user_id, &password, jwt::TECHFESIA, &ctx).await {
        Ok((pair, position)) => {
            attempt.succeeded();
            tracing::info!(%user_id, "signed in");
            state.sync_auth(position.clone()).await;
            state.wait_for(position, &["users"]).await;
            Ok(axum::Json(TokenPairDto {
                access: pair.access,
                refresh: pair.refresh,
            }))
        }
        Err(IdentityError::User(UserError::InvalidCredentials | UserError::NotFound)) => {
            // An account without a password (OAuth only) refuses without hashing: spend the
            // time of a verification, so the answer does not tell it apart.
            if !identity::load_user(&state, &user_id).await?.has_password() {
                state.hasher.verify_dummy(&password).await;
            }
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

/// Ends one session of `user_id`; answers whether it was open, and the commit.
async fn revoke_session(
    state: &AppState,
    user_id: &str,
    session_id: &str,
    ctx: &CommandContext,
) -> Result<(bool, Option<Commit>), TfError> {
    Ok(identity::end_session(state, user_id, session_id, ctx).await?)
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
        let now = chrono::Utc::now();
        let open = state.registry.open_sessions(caller.id(), now);
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
    state.sync_auth(position.clone()).await;
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
    state.sync_auth(position.clone()).await;
    Ok(axum::Json(TokensDeletedDto {
        tokens_deleted: usize::from(ended),
    }))
}

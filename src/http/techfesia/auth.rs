//! `/auth/...`: token pairs (obtain, refresh, revoke one or all) and OAuth sign-in with a
//! provider's access token (creating the account or signing into the one linked to that
//! identity, or linking it when a bearer token is sent; an email match alone never links
//! accounts). Password reset requests, also under `/auth`, are in `passwords.rs`.
//!
//! The token endpoints answer like SimpleJWT did (`{"detail": ...}`, `{field: [...]}`), which
//! is what clients of the original API know. Every revocation is in force before the answer
//! goes out (`sync_auth`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;

use super::dto::{
    present, AccessDto, DetailDto, FieldErrorsDto, LoginRequest, OAuthRequest, OAuthTokenPairDto,
    RefreshRequest, RequiredDto, RevokeManyRequest, RevokeOneRequest, TokenPairDto,
    TokensDeletedDto,
};
use super::extract::{anonymous, Caller, ClientIp, MaybeCaller, OptionalJson};
use super::{validate, Json, TfError};
use crate::app::sessions::{self, Provider, TECHFESIA};
use crate::state::AppState;

/// The `/auth` routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/auth/token",
            post(obtain).delete(revoke_many).put(revoke_one),
        )
        .route("/auth/token/refresh", post(refresh))
        .route("/auth/o-auth/{provider}", post(oauth))
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
    let pair = sessions::log_in(
        &state,
        &username,
        &password,
        ip,
        TECHFESIA,
        &anonymous(&headers),
    )
    .await?;
    Ok(axum::Json(TokenPairDto {
        access: pair.access,
        refresh: pair.refresh,
    }))
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
pub async fn refresh(
    State(state): State<AppState>,
    Json(body): Json<RefreshRequest>,
) -> Result<axum::Json<AccessDto>, TfError> {
    let Some(token) = body.refresh.as_deref().filter(|t| !t.is_empty()) else {
        return Err(TfError::required(&["refresh"]));
    };
    let access = sessions::refresh(&state, token, TECHFESIA)?;
    Ok(axum::Json(AccessDto { access }))
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
    let deleted = sessions::revoke_many(&state, caller.app(), &tokens, TECHFESIA).await?;
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
        super::schema::NeedsPermission,
    )
)]
pub async fn revoke_one(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<RevokeOneRequest>,
) -> Result<axum::Json<TokensDeletedDto>, TfError> {
    let Some(token) = body.token.as_deref().filter(|t| !t.is_empty()) else {
        return Err(TfError::required(&["token"]));
    };
    let ended = sessions::revoke_one(&state, caller.app(), token, TECHFESIA).await?;
    Ok(axum::Json(TokensDeletedDto {
        tokens_deleted: usize::from(ended),
    }))
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
    let caller = caller.as_ref().map(Caller::app);
    let ctx = caller.map_or_else(|| anonymous(&headers), |c| c.ctx.clone());
    let valid_email = |e: &str| validate::email(e).is_ok();
    let (pair, username) = sessions::oauth_sign_in(
        &state,
        caller,
        provider,
        token.trim(),
        present(&body.refresh_token).map(str::trim),
        valid_email,
        &ctx,
    )
    .await?;
    Ok(axum::Json(OAuthTokenPairDto {
        access: pair.access,
        refresh: pair.refresh,
        username,
    }))
}

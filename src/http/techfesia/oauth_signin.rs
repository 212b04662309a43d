//! `/auth/o-auth/<provider>/`: sign in with a provider's access token (creating the account
//! or signing into the one linked to that identity), or link it when a bearer token is sent.
//! An email match alone never links accounts.

use axum::extract::{Path, State};
use axum::http::HeaderMap;

use super::dto::{
    present, DetailDto, FieldErrorsDto, OAuthRequest, OAuthTokenPairDto, RequiredDto,
};
use super::extract::{anonymous, Caller, MaybeCaller};
use super::{validate, Json, TfError};
use crate::app::sessions::{self, Provider};
use crate::state::AppState;

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

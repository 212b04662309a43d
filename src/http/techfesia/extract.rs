//! Extractors of the Techfesia dialect: the signed-in [`Caller`] (`Authorization: Bearer
//! <access token>`, checked against the in-memory revocation state), [`MaybeCaller`] where
//! signing in is optional, the client address for login limits, and [`OptionalJson`] for
//! bodies a client may leave out.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;

use super::TfError;
use crate::app::sessions;
use crate::app::{Actor, CommandContext};
use crate::auth::{Principal, TokenKind};
use crate::state::AppState;

/// A signed-in caller whose access token is valid and whose session is open, as the use
/// cases know them (role and privileges as they are now): built once per request.
#[derive(Debug, Clone)]
pub struct Caller(crate::app::Caller);

impl Caller {
    fn new(principal: &Principal, parts: &Parts) -> Self {
        Self(crate::http::signed_in(principal, &parts.headers))
    }

    /// The caller for the use cases.
    pub fn app(&self) -> &crate::app::Caller {
        &self.0
    }
}

/// The bearer token of a request: `Ok(None)` without one (or with another scheme, which is
/// not this dialect's), an error for a malformed `Bearer` header.
fn bearer(headers: &HeaderMap) -> Result<Option<&str>, TfError> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| TfError::token_invalid())?;
    let mut parts = value.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(scheme), Some(token), None) if scheme.eq_ignore_ascii_case("bearer") => {
            Ok(Some(token))
        }
        (Some(scheme), _, _) if scheme.eq_ignore_ascii_case("bearer") => {
            Err(TfError::token_invalid())
        }
        _ => Ok(None),
    }
}

/// Checks an access token: signature, expiry, audience, kind, then the session and account
/// against the current auth state.
fn authenticate(state: &AppState, token: &str) -> Result<Principal, TfError> {
    sessions::authenticate(state, token, TokenKind::Access, sessions::TECHFESIA)
        .ok_or_else(TfError::token_invalid)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = TfError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, TfError> {
        let token = bearer(&parts.headers)?.ok_or_else(TfError::unauthenticated)?;
        Ok(Self::new(&authenticate(state, token)?, parts))
    }
}

/// A caller who may or may not be signed in. A token that is sent must be valid.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl FromRequestParts<AppState> for MaybeCaller {
    type Rejection = TfError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, TfError> {
        match bearer(&parts.headers)? {
            None => Ok(Self(None)),
            Some(token) => Ok(Self(Some(Caller::new(&authenticate(state, token)?, parts)))),
        }
    }
}

/// The context of a command issued by someone not signed in.
pub fn anonymous(headers: &HeaderMap) -> CommandContext {
    CommandContext {
        actor: Actor::Anonymous,
        request_id: crate::http::request_id(headers),
    }
}

pub use crate::http::client::ClientIp;

/// A JSON body that may be absent: `None` for an empty body, whatever the content type.
#[derive(Debug, Clone)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = TfError;

    async fn from_request(req: Request, state: &S) -> Result<Self, TfError> {
        Ok(Self(
            crate::http::extract::lenient_json_body(req, state).await?,
        ))
    }
}

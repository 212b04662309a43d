//! The humit caller: `Authorization: humit <token>`, checked against the signature, expiry,
//! audience and kind, then against the live auth state (revoked sessions, disabled accounts).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

use super::error::HumitError;
use crate::app::sessions;
use crate::auth::{Principal, TokenKind};
use crate::state::AppState;

/// The token of an `Authorization: humit <token>` header. `None` when the header is absent
/// or uses another scheme.
pub fn humit_token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("humit") && !token.is_empty()).then_some(token)
}

/// Checks the humit access token of the request headers.
fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<Principal, HumitError> {
    let token = humit_token(headers).ok_or_else(HumitError::unauthorized)?;
    sessions::authenticate(state, token, TokenKind::Access, sessions::HUMIT)
        .ok_or_else(HumitError::token_not_valid)
}

/// A signed-in humit user (access token), as the use cases know them: built once per request.
#[derive(Debug, Clone)]
pub struct Caller(crate::app::Caller);

impl Caller {
    /// The caller for the use cases.
    pub fn app(&self) -> &crate::app::Caller {
        &self.0
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = HumitError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticate(state, &parts.headers)?;
        Ok(Self(crate::http::signed_in(&principal, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn only_the_humit_scheme_carries_a_token() {
        assert_eq!(humit_token(&headers("humit abc")), Some("abc"));
        assert_eq!(humit_token(&headers("Humit  abc ")), Some("abc"));
        assert_eq!(humit_token(&headers("Bearer abc")), None);
        assert_eq!(humit_token(&headers("humit ")), None);
        assert_eq!(humit_token(&headers("humit")), None);
        assert_eq!(humit_token(&HeaderMap::new()), None);
    }
}

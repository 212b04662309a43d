//! The general per-client limit on the routes anyone may call without being signed in
//! (issue 11, finding 3): each request to a route in [`LIMITED`] is taken from its client's
//! budget (`HUMIT_ANON_RATE_PER_MINUTE`, `HUMIT_ANON_BURST`; the client as
//! [`super::client`] resolves it). Past the budget: 429 with `Retry-After`, in the dialect's
//! envelope.

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::client::client_ip;
use super::humit::HumitError;
use super::techfesia::TfError;
use crate::app::sessions;
use crate::state::AppState;

/// The limited routes (method, route pattern; trailing slashes are trimmed before routing).
pub const LIMITED: &[(Method, &str)] = &[
    // Techfesia: login, refresh, OAuth sign-in, reset mail, reset with a mailed token, sign-up.
    (Method::POST, "/auth/token"),
    (Method::POST, "/auth/token/refresh"),
    (Method::POST, "/auth/o-auth/{provider}"),
    (Method::POST, "/auth/password/reset"),
    (Method::PATCH, "/users/{username}/password"),
    (Method::POST, "/users"),
    // humit: sign-up, refresh, handle and invite code checks.
    (Method::POST, "/api/users/auth/signup"),
    (Method::POST, "/api/users/auth/token-refresh"),
    (Method::GET, "/api/users/username"),
    (Method::GET, "/api/users/referral_code"),
];

/// The middleware: admits or refuses a request to a limited route.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limited = request
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|path| {
            LIMITED
                .iter()
                .any(|(method, route)| method == request.method() && *route == path.as_str())
        });
    if !limited {
        return next.run(request).await;
    }
    let client = client_ip(
        request.extensions(),
        request.headers(),
        &state.config.trusted_proxies,
    );
    match sessions::admit_anonymous(&state, client) {
        Ok(()) => next.run(request).await,
        Err(e) if super::is_humit(request.uri()) => HumitError::from(e).into_response(),
        Err(e) => TfError::from(e).into_response(),
    }
}

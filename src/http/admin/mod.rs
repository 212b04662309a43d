//! The admin API and console (`/admin/...`), for superusers: the audit trail, time travel over
//! aggregates, projection status, rebuilds with progress, dead letters.
//!
//! Authentication is the Techfesia bearer access token of a superuser. Errors are
//! `{"error": {"code", "message"}}` with a 4xx/5xx status.

mod console;
mod dto;
mod events;
mod openapi;
mod projections;

pub use openapi::AdminApi;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use aggregates::user::Role;

use crate::app::sessions;
use crate::auth::{Principal, TokenKind};
use crate::state::AppState;

/// Every admin route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(console::page))
        .route("/admin/events", get(events::list))
        .route(
            "/admin/aggregates/{aggregate_type}/{aggregate_id}/events",
            get(events::history),
        )
        .route(
            "/admin/aggregates/{aggregate_type}/{aggregate_id}/state",
            get(events::state_at),
        )
        .route("/admin/projections", get(projections::list))
        .route(
            "/admin/projections/{name}/rebuild",
            post(projections::rebuild),
        )
        .route(
            "/admin/projections/{name}/dead-letters",
            get(projections::dead_letters),
        )
        .route(
            "/admin/projections/{name}/dead-letters/redrive",
            post(projections::redrive),
        )
        .layer(axum::middleware::map_response(console::harden))
}

/// An admin API error.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl AdminError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }
    fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "admin request: store unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "UNAVAILABLE",
            "the store is temporarily unavailable; try again",
        )
    }
    fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "admin request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "internal error",
        )
    }
}

impl From<crate::app::Error> for AdminError {
    /// The one place the admin API maps a use case's error.
    fn from(e: crate::app::Error) -> Self {
        use crate::app::Error;
        match e {
            Error::NoEvents(what) => Self::not_found(format!("no events for {what}")),
            Error::UnknownAggregateType(other) => {
                Self::not_found(format!("unknown aggregate type {other}"))
            }
            Error::UnknownProjection(name) => Self::not_found(format!("unknown projection {name}")),
            Error::RebuildRunning(name) => Self::new(
                StatusCode::CONFLICT,
                "REBUILD_RUNNING",
                format!("a rebuild of {name} is already running"),
            ),
            Error::Unavailable(cause) => Self::unavailable(cause),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let body = dto::AdminErrorBody {
            error: dto::AdminErrorItem {
                code: self.code,
                message: self.message,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, crate::app::RETRY_AFTER_SECS.into());
        }
        response
    }
}

/// A signed-in superuser.
pub struct Superuser(pub Principal);

impl FromRequestParts<AppState> for Superuser {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let unauthorized = || {
            AdminError::new(
                StatusCode::UNAUTHORIZED,
                "UNAUTHORIZED",
                "a superuser's bearer token is required",
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(unauthorized)?;
        let principal =
            sessions::authenticate(state, token.trim(), TokenKind::Access, sessions::TECHFESIA)
                .ok_or_else(unauthorized)?;
        crate::http::record_caller(&principal.user_id);
        if principal.role != Role::Superuser {
            return Err(AdminError::new(
                StatusCode::FORBIDDEN,
                "FORBIDDEN",
                "superusers only",
            ));
        }
        Ok(Self(principal))
    }
}

/// A query string whose rejection (a parameter of the wrong type) is answered in the admin
/// API's body: 400 `BAD_REQUEST`.
pub(super) struct Query<T>(pub T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AdminError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection| AdminError::bad_request(rejection.body_text()))
    }
}

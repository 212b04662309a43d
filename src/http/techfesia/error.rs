//! The Techfesia error bodies. The seed shows several shapes, each for its endpoints:
//! `{"errors": {field: message}}`, `{"message": ...}`, `{"detail": ...}` (SimpleJWT), and
//! `{"error": {field: message}}` (password reset).

use std::collections::BTreeMap;

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::http::extract::Dialect;

/// An error in the Techfesia dialect.
#[derive(Debug, Clone, PartialEq)]
pub struct TfError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Value,
}

impl TfError {
    /// `{"errors": {field: message}}`.
    pub fn fields(status: StatusCode, fields: BTreeMap<String, String>) -> Self {
        Self {
            status,
            body: json!({ "errors": fields }),
        }
    }
    /// `{"errors": {field: message}}` for one field.
    pub fn field(status: StatusCode, field: &str, message: &str) -> Self {
        Self {
            status,
            body: json!({ "errors": { field: message } }),
        }
    }
    /// `{"message": ...}`.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "message": message.into() }),
        }
    }
    /// `{"detail": ...}`.
    pub fn detail(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({ "detail": detail.into() }),
        }
    }
    /// Any body.
    pub fn raw(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }
    /// 401 for a missing, bad, expired or revoked token (SimpleJWT's body).
    pub fn token_invalid() -> Self {
        Self::raw(
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Given token not valid for any token type", "code": "token_not_valid"}),
        )
    }
    /// 401 when no credentials were sent.
    pub fn unauthenticated() -> Self {
        Self::detail(
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        )
    }
    /// 403.
    pub fn forbidden() -> Self {
        Self::detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        )
    }
    /// 404.
    pub fn not_found() -> Self {
        Self::detail(StatusCode::NOT_FOUND, "Not found.")
    }
    /// 500: logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::detail(
            StatusCode::INTERNAL_SERVER_ERROR,
            "A server error occurred.",
        )
    }
}

impl IntoResponse for TfError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// The Techfesia dialect, for the JSON extractor.
pub struct Techfesia;

impl Dialect for Techfesia {
    type Error = TfError;
    fn reject(rejection: JsonRejection) -> TfError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => TfError::detail(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type in request; expected application/json.",
            ),
            JsonRejection::BytesRejection(_) => {
                TfError::detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body is too large.")
            }
            other => TfError::detail(
                StatusCode::BAD_REQUEST,
                format!("JSON parse error - {}", other.body_text()),
            ),
        }
    }
}

crate::dialect_json!(Techfesia);

//! The humit error envelope and its stable codes.
//!
//! Every error answers a 4xx/5xx status and
//! `{"display_error": {code, message, status: "error"}, "errors": [same], "extra_data": {}, "success": false}`.
//! The codes are listed in `docs/humit-errors.md`.

use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::http::extract::Dialect;

/// An error in the humit dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumitError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The stable code.
    pub code: &'static str,
    /// A message fit to show.
    pub message: String,
}

impl HumitError {
    /// An error with any status.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    /// 400: invalid input.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }
    /// 401: missing, bad or expired token.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "AUTHENTICATION_FAILED",
            "Authentication credentials were not provided or are invalid",
        )
    }
    /// 403: not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "PERMISSION_DENIED", message)
    }
    /// 404: unknown thing.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }
    /// 409: conflict.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }
    /// 500: logged with its cause; the client sees no internals.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "Something went wrong. Please try again",
        )
    }
}

impl IntoResponse for HumitError {
    fn into_response(self) -> Response {
        let error = json!({"code": self.code, "message": self.message, "status": "error"});
        let body = json!({
            "display_error": error,
            "errors": [error],
            "extra_data": {},
            "success": false,
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The humit dialect, for the JSON extractor.
pub struct Humit;

impl Dialect for Humit {
    type Error = HumitError;
    fn reject(rejection: JsonRejection) -> HumitError {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => HumitError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "UNSUPPORTED_MEDIA_TYPE",
                "Expected a JSON body with content-type application/json",
            ),
            JsonRejection::BytesRejection(_) => HumitError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PAYLOAD_TOO_LARGE",
                "The request body is too large",
            ),
            JsonRejection::JsonDataError(e) => HumitError::invalid("INVALID_INPUT", e.body_text()),
            other => HumitError::invalid("INVALID_JSON", other.body_text()),
        }
    }
}

crate::dialect_json!(Humit);

/// A humit success body: `{"data": ..., "success": true}`.
pub fn ok(data: serde_json::Value) -> Response {
    axum::Json(json!({"data": data, "success": true})).into_response()
}

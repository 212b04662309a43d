//! The HTTP API: axum routes, one folder per dialect, and the middleware stack.
//!
//! - [`humit`]: the humit app API under `/api/` (`Authorization: humit <token>`, envelopes).
//! - [`techfesia`]: the Techfesia user API under `/auth/` and `/users` (Bearer JWTs, bare bodies).
//! - [`admin`]: the admin API and console under `/admin/` (superusers).
//! - [`health`]: `/health`, `/ready`, `/metrics`.
//! - [`openapi`]: `/openapi.json` (OpenAPI 3.1, generated with utoipa) and `/docs`;
//!   [`answers`]: the answers every operation shares, added to that document.
//! - [`asyncapi`]: `/asyncapi.json` (AsyncAPI 3.0 of the event stream).
//! - [`extract`]: the JSON body extractor whose rejections come out in the dialect's envelope.
//! - [`client`]: who the client is (the peer, or what a trusted proxy says).
//! - [`throttle`]: the general per-client limit on the unauthenticated routes (429).
//!
//! Trailing slashes are optional on every path: a `NormalizePath` layer trims them before
//! routing, so `/users/` and `/users` reach the same handler. Unknown paths answer 404 and
//! known paths with another method 405, each in the envelope of the dialect the path belongs to.

pub mod admin;
pub mod answers;
pub mod asyncapi;
pub mod client;
pub mod extract;
pub mod health;
pub mod humit;
pub mod openapi;
pub mod techfesia;
pub mod throttle;

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::Layer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// The header carrying the request id (set when the client sends none).
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application: routes, middleware, and trailing-slash normalisation.
pub fn app(state: AppState) -> NormalizePath<Router> {
    let config = state.config.clone();
    let router = Router::new()
        .merge(health::router())
        .merge(techfesia::router())
        .merge(humit::router())
        .merge(admin::router())
        .merge(openapi::router())
        .merge(asyncapi::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            throttle::limit,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(middleware::from_fn(record_metrics))
        .layer(CompressionLayer::new())
        .layer(cors(&config.cors_origins))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(config.request_timeout_ms),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state);
    NormalizePathLayer::trim_trailing_slash().layer(router)
}

/// Cross-origin access for the browser origins `HUMIT_CORS_ORIGINS` lists (`*`: any; none:
/// no cross-origin access at all).
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<&str> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .collect();
    if origins.contains(&"*") {
        return CorsLayer::permissive();
    }
    let allowed: Vec<axum::http::HeaderValue> = origins
        .iter()
        .filter_map(|o| match o.parse() {
            Ok(value) => Some(value),
            Err(_) => {
                tracing::warn!(origin = %o, "HUMIT_CORS_ORIGINS: not a valid origin, ignored");
                None
            }
        })
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(allowed))
        .allow_methods(tower_http::cors::Any)
        .allow_headers(tower_http::cors::Any)
        .expose_headers(tower_http::cors::Any)
}

/// The span every request runs in: method, path, request id, and the caller once a dialect
/// has authenticated them ([`record_caller`]).
fn request_span(req: &Request) -> tracing::Span {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    tracing::info_span!(
        "http",
        method = %req.method(),
        path = %req.uri().path(),
        request_id,
        caller = tracing::field::Empty,
    )
}

/// Records the signed-in caller's user id on the request's span (every dialect's
/// authentication calls it), so each log line of the request names who made it.
pub fn record_caller(user_id: &str) {
    tracing::Span::current().record("caller", tracing::field::display(user_id));
}

/// The use cases' caller for a request signed in as `principal`: recorded on the request's
/// span ([`record_caller`]), their commands carrying the request's id.
pub fn signed_in(
    principal: &crate::auth::Principal,
    headers: &axum::http::HeaderMap,
) -> crate::app::Caller {
    record_caller(&principal.user_id);
    crate::app::Caller::signed_in(principal, &request_id(headers))
}

/// The request id of a request (for command metadata).
pub fn request_id(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(req).await;
    metrics::histogram!(
        "humit_http_request_duration_seconds",
        "method" => method,
        "route" => route,
        "status" => response.status().as_u16().to_string()
    )
    .record(started.elapsed().as_secs_f64());
    response
}

pub(crate) fn is_humit(uri: &Uri) -> bool {
    uri.path().starts_with("/api/") || uri.path() == "/api"
}

async fn not_found(uri: Uri) -> Response {
    if is_humit(&uri) {
        humit::HumitError::not_found("NOT_FOUND", "Not found").into_response()
    } else {
        techfesia::TfError::detail(StatusCode::NOT_FOUND, "Not found.").into_response()
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    if is_humit(&uri) {
        humit::HumitError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            format!("Method {method} not allowed"),
        )
        .into_response()
    } else {
        techfesia::TfError::detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method \"{method}\" not allowed."),
        )
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_line_of_a_request_names_its_caller_once_authenticated() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let req = Request::builder()
                .uri("/users/ann")
                .body(axum::body::Body::empty())
                .unwrap();
            let span = request_span(&req);
            let _entered = span.enter();
            tracing::info!("before");
            record_caller("u-42");
            tracing::info!("after");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let before = text.lines().find(|l| l.contains("before")).unwrap();
        let after = text.lines().find(|l| l.contains("after")).unwrap();
        assert!(!before.contains("caller"), "{text}");
        assert!(
            after.contains("caller=u-42") && after.contains("path=/users/ann"),
            "{text}"
        );
    }
}
